package gateway_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/frontdesk-ai/frontdesk/channels/whatsapp"
	"github.com/frontdesk-ai/frontdesk/channels/whatsapp/whatsapptest"
	"github.com/frontdesk-ai/frontdesk/gateway"
	"github.com/frontdesk-ai/frontdesk/persistence"
	"github.com/frontdesk-ai/frontdesk/persistence/sqlstore/sqlstoretest"
)

const benchSecret = "bench-secret"

// load sends n signed requests from conc clients and returns the requests
// per second and the sorted latencies.
func load(b *testing.B, url string, n, conc int, body func(i int) []byte) (float64, []time.Duration) {
	b.Helper()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: conc}}
	lat := make([]time.Duration, n)
	var next atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				req, _ := whatsapptest.NewWebhookRequest(context.Background(), url, benchSecret, body(i))
				t0 := time.Now()
				resp, err := client.Do(req)
				if err != nil {
					b.Error(err)
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				lat[i] = time.Since(t0)
				if resp.StatusCode != 200 {
					b.Errorf("status %d", resp.StatusCode)
					return
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	return float64(n) / elapsed.Seconds(), lat
}

func pct(lat []time.Duration, p float64) float64 {
	return float64(lat[int(float64(len(lat)-1)*p)].Microseconds()) / 1000
}

// BenchmarkWebhookIngest measures POST /webhooks/whatsapp (signed, one text
// message: verify, parse, dedupe, append to the log in one transaction,
// answer) against a bare net/http handler that only answers 200, in the same
// run, and reports both and their ratio. Each b.N is one request per side.
func BenchmarkWebhookIngest(b *testing.B) {
	for _, dialect := range sqlstoretest.Dialects {
		b.Run(dialect, func(b *testing.B) {
			store := sqlstoretest.Open(b, dialect)
			tn := &persistence.Tenant{Name: "Bench", Slug: "bench"}
			if err := store.CreateTenant(context.Background(), tn); err != nil {
				b.Fatal(err)
			}
			wh := newWebhooks(b, store, benchSecret, gateway.WebhookAccount{Channel: whatsapp.Name, Account: "1555", TenantID: tn.ID})
			srv := gateway.New(gateway.Config{}, zerolog.Nop(), prometheus.NewRegistry(), nil)
			wh.Register(srv)
			ingest := httptest.NewServer(srv.Handler())
			defer ingest.Close()
			bare := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_, _ = io.Copy(io.Discard, r.Body)
				w.WriteHeader(http.StatusOK)
			}))
			defer bare.Close()
			now := time.Now()
			body := func(i int) []byte {
				return whatsapptest.TextWebhook("1555", fmt.Sprintf("49170%07d", i%500), "Bench", fmt.Sprintf("wamid.bench.%d.%d", b.N, i), "hello there", now)
			}
			const conc = 8
			b.ResetTimer()
			bareRPS, bareLat := load(b, bare.URL, b.N, conc, body)
			rps, lat := load(b, ingest.URL+"/webhooks/whatsapp", b.N, conc, body)
			b.StopTimer()
			b.ReportMetric(rps, "req/s")
			b.ReportMetric(pct(lat, 0.50), "p50-ms")
			b.ReportMetric(pct(lat, 0.99), "p99-ms")
			b.ReportMetric(bareRPS, "bare-req/s")
			b.ReportMetric(pct(bareLat, 0.50), "bare-p50-ms")
			b.ReportMetric(pct(bareLat, 0.99), "bare-p99-ms")
			b.ReportMetric(rps/bareRPS, "ratio-vs-bare")
		})
	}
}
