package dashboard_test

import (
	"context"
	"net/http/httptest"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/rs/zerolog"

	"github.com/frontdesk-ai/frontdesk/dashboard"
)

// BenchmarkFanout connects 5,000 WebSocket clients of one tenant to one
// member and measures, for each of b.N messages, the latency from the
// commit notification to every client having the frame: p50/p99 over all
// deliveries. It also reports the heap held per connection (both ends of
// each connection live in this process, so it counts the client side too).
func BenchmarkFanout(b *testing.B) {
	const clients = 5000
	src := newFakeSource()
	hub := dashboard.New(dashboard.Config{}, src, zerolog.Nop())
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { _ = hub.Run(ctx) }()
	srv := httptest.NewServer(dashboard.WSHandler(hub, tokenAuth, dashboard.WSConfig{}, zerolog.Nop()))
	defer srv.Close()
	url := "ws" + strings.TrimPrefix(srv.URL, "http") + "/ws?token=tok-a"

	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	// received[i] counts frames client i got; arrival times per message.
	var mu sync.Mutex
	arrivals := map[int64][]time.Time{}
	var got atomic.Int64
	conns := make([]*websocket.Conn, 0, clients)
	d := &websocket.Dialer{HandshakeTimeout: 10 * time.Second}
	for range clients {
		c, _, err := d.Dial(url, nil)
		if err != nil {
			b.Fatalf("dial: %v", err)
		}
		conns = append(conns, c)
		go func() {
			for {
				var f struct {
					ID int64 `json:"id"`
				}
				if err := c.ReadJSON(&f); err != nil {
					return
				}
				now := time.Now()
				mu.Lock()
				arrivals[f.ID] = append(arrivals[f.ID], now)
				mu.Unlock()
				got.Add(1)
			}
		}()
	}
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	runtime.GC()
	runtime.ReadMemStats(&after)

	var lat []time.Duration
	b.ResetTimer()
	for i := range b.N {
		want := int64(clients) * int64(i+1)
		t0 := time.Now()
		ev := src.appendEvents(b, "tenant-a", 1)[0]
		hub.Notify("tenant-a")
		deadline := time.Now().Add(time.Minute)
		for got.Load() < want {
			if time.Now().After(deadline) {
				b.Fatalf("message %d reached %d of %d clients", i, got.Load()-int64(clients)*int64(i), clients)
			}
			time.Sleep(200 * time.Microsecond)
		}
		mu.Lock()
		for _, at := range arrivals[ev.ID] {
			lat = append(lat, at.Sub(t0))
		}
		mu.Unlock()
	}
	b.StopTimer()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[(len(lat)-1)*99/100].Microseconds())/1000, "p99-ms")
	b.ReportMetric(float64(after.HeapInuse-before.HeapInuse)/clients, "heap-bytes/conn")
}
