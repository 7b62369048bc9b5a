package sqlstore_test

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/frontdesk-ai/frontdesk/persistence"
	"github.com/frontdesk-ai/frontdesk/persistence/sqlstore/sqlstoretest"
)

// benchKeys is how many conversation keys the benchmark records spread over.
const benchKeys = 64

// benchRecords returns n records of 200-byte values starting at sequence i.
func benchRecords(topic string, i, n int) []persistence.Record {
	value := make([]byte, 200)
	recs := make([]persistence.Record, n)
	for j := range recs {
		recs[j] = persistence.Record{Topic: topic, Key: "conv-" + strconv.Itoa((i+j)%benchKeys), Value: value}
	}
	return recs
}

// reportLog reports events/s and the p50/p99 latency of one call (an
// Append, or a Poll plus its Commit).
func reportLog(b *testing.B, events int, elapsed time.Duration, lat []time.Duration) {
	b.ReportMetric(float64(events)/elapsed.Seconds(), "events/s")
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	pct := func(p float64) float64 {
		return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))].Microseconds())
	}
	b.ReportMetric(pct(0.50), "p50-us")
	b.ReportMetric(pct(0.99), "p99-us")
}

// BenchmarkLogAppend appends b.N events one per transaction (batch1) and
// in batches of 100 (batch100); an op is one event.
func BenchmarkLogAppend(b *testing.B) {
	for _, d := range sqlstoretest.Dialects {
		for _, batch := range []int{1, 100} {
			b.Run(fmt.Sprintf("%s/batch%d", d, batch), func(b *testing.B) {
				ctx := context.Background()
				l := sqlstoretest.Open(b, d).Log()
				lat := make([]time.Duration, 0, b.N/batch+1)
				b.ResetTimer()
				start := time.Now()
				for i := 0; i < b.N; i += batch {
					recs := benchRecords("bench", i, min(batch, b.N-i))
					t0 := time.Now()
					if _, err := l.Append(ctx, recs...); err != nil {
						b.Fatal(err)
					}
					lat = append(lat, time.Since(t0))
				}
				elapsed := time.Since(start)
				b.StopTimer()
				reportLog(b, b.N, elapsed, lat)
			})
		}
	}
}

// BenchmarkLogConsume polls and commits b.N events of a prefilled topic; an
// op is one event.
func BenchmarkLogConsume(b *testing.B) {
	for _, d := range sqlstoretest.Dialects {
		b.Run(d, func(b *testing.B) {
			ctx := context.Background()
			l := sqlstoretest.Open(b, d).Log()
			for i := 0; i < b.N; i += 500 {
				if _, err := l.Append(ctx, benchRecords("bench", i, min(500, b.N-i))...); err != nil {
					b.Fatal(err)
				}
			}
			sub, err := l.Subscribe(ctx, "bench-g", "bench")
			if err != nil {
				b.Fatal(err)
			}
			defer sub.Close()
			var lat []time.Duration
			b.ResetTimer()
			start := time.Now()
			for got := 0; got < b.N; {
				t0 := time.Now()
				recs, err := sub.Poll(ctx)
				if err != nil {
					b.Fatal(err)
				}
				if err := sub.Commit(ctx, recs); err != nil {
					b.Fatal(err)
				}
				lat = append(lat, time.Since(t0))
				got += len(recs)
			}
			elapsed := time.Since(start)
			b.StopTimer()
			reportLog(b, b.N, elapsed, lat)
		})
	}
}
