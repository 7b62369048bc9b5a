//go:build cluster

package main

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/frontdesk-ai/frontdesk/channels/whatsapp/whatsapptest"
)

// BenchmarkClusterEndToEnd measures webhook in → reply out through 1 and 3
// members (PostgreSQL, kfake, instant scripted model): 200 conversations
// chat at once, each sending its next message when the previous one was
// answered (no folding), 5 messages each, with the WhatsApp send limit
// lifted. Reports messages/s and the p50/p99 of one message's
// webhook-to-Graph-API latency.
func BenchmarkClusterEndToEnd(b *testing.B) {
	for _, n := range []int{1, 3} {
		b.Run(fmt.Sprintf("members=%d", n), func(b *testing.B) {
			for range b.N {
				// The WhatsApp send limit is lifted: this measures the
				// members, not Meta's 80 sends/s per number.
				c := startMembers(b, n, "FRONTDESK_WHATSAPP_RATE=1000000")
				var mu sync.Mutex
				var lat []time.Duration
				// One poller counts the replies per customer for everyone.
				var cmu sync.RWMutex
				seen := map[string]int{}
				stop := make(chan struct{})
				go func() {
					for {
						m := map[string]int{}
						for _, s := range c.graph.Sent() {
							m[s.To]++
						}
						cmu.Lock()
						seen = m
						cmu.Unlock()
						select {
						case <-stop:
							return
						case <-time.After(5 * time.Millisecond):
						}
					}
				}()
				counts := func(wa string) int {
					cmu.RLock()
					defer cmu.RUnlock()
					return seen[wa]
				}
				start := time.Now()
				var wg sync.WaitGroup
				for conv := range clusterConversations {
					wg.Add(1)
					go func() {
						defer wg.Done()
						wa := clusterWaID(conv)
						members := c.live()
						for msg := range clusterMessages {
							before := counts(wa)
							body := whatsapptest.TextWebhook(pilotPNID, wa, "Bench", fmt.Sprintf("wamid.bench.%d.%d", conv, msg), fmt.Sprintf("message %d", msg), time.Now())
							req, _ := whatsapptest.NewWebhookRequest(context.Background(), "http://"+members[conv%len(members)].addr+"/webhooks/whatsapp", pilotSecret, body)
							t0 := time.Now()
							resp, err := httpClient.Do(req)
							if err != nil {
								b.Error(err)
								return
							}
							resp.Body.Close()
							for counts(wa) <= before {
								if time.Since(t0) > time.Minute {
									b.Errorf("conversation %d message %d not answered", conv, msg)
									return
								}
								time.Sleep(2 * time.Millisecond)
							}
							mu.Lock()
							lat = append(lat, time.Since(t0))
							mu.Unlock()
						}
					}()
				}
				wg.Wait()
				elapsed := time.Since(start)
				close(stop)
				sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
				if len(lat) == 0 {
					b.Fatal("no message answered")
				}
				c.close()
				b.ReportMetric(float64(len(lat))/elapsed.Seconds(), "msgs/s")
				b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
				b.ReportMetric(float64(lat[(len(lat)-1)*99/100].Microseconds())/1000, "p99-ms")
			}
		})
	}
}

// BenchmarkClusterRecovery kills one of three members after the first
// message of every conversation and measures the time from the kill until
// every conversation has answered its next message (stored), and until
// each of those answers reached the Graph API; p50 and max over b.N runs.
// The goal (issue 11) is at most 10 s for both. Each run's phases are
// logged (the line TestClusterKillOneMember prints in CI).
func BenchmarkClusterRecovery(b *testing.B) {
	var rec, del []time.Duration
	for range b.N {
		c := startCluster(b)
		c.send(0)
		c.waitAnswered("before the kill")
		clock := c.kill(2)
		c.send(1)
		c.waitAnswered("after kill -9")
		r := clock.report(time.Now())
		b.Logf("cluster recovery after kill -9: %s", r) // after the result line: stdout would split it
		rec = append(rec, r.answered)
		if r.delivered == 0 {
			b.Fatal("some answers never reached the Graph API")
		}
		del = append(del, r.delivered)
		c.close()
	}
	for _, d := range [][]time.Duration{rec, del} {
		sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
	}
	b.ReportMetric(rec[len(rec)/2].Seconds(), "p50-recovery-s")
	b.ReportMetric(rec[len(rec)-1].Seconds(), "max-recovery-s")
	b.ReportMetric(del[len(del)/2].Seconds(), "p50-delivered-s")
	b.ReportMetric(del[len(del)-1].Seconds(), "max-delivered-s")
}
