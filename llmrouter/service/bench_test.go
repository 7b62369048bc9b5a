package service_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/frontdesk-ai/frontdesk/llmrouter"
	"github.com/frontdesk-ai/frontdesk/llmrouter/service"
	"github.com/frontdesk-ai/frontdesk/persistence"
	"github.com/frontdesk-ai/frontdesk/persistence/sqlstore/sqlstoretest"
)

// instantCompletion is the fixed answer of the benchmark's backend.
var instantCompletion = []byte(`{"id":"chatcmpl-bench","object":"chat.completion","created":1735689600,"model":"bench-model",` +
	`"choices":[{"index":0,"message":{"role":"assistant","content":"Your order shipped yesterday."},"finish_reason":"stop"}],` +
	`"usage":{"prompt_tokens":42,"completion_tokens":6,"total_tokens":48}}`)

// benchRequest is a chat completion as a client sends it.
var benchRequest = []byte(`{"model":"bench-model","messages":[{"role":"system","content":"You are Acme's support agent. Be brief."},` +
	`{"role":"user","content":"Where is my order #1001?"}],"max_tokens":256}`)

// poster sends benchRequest to url with header and checks the answer.
type poster struct {
	client *http.Client
	url    string
	header http.Header
}

func (p poster) post() error {
	req, err := http.NewRequest("POST", p.url, bytes.NewReader(benchRequest))
	if err != nil {
		return err
	}
	for k, v := range p.header {
		req.Header[k] = v
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := p.client.Do(req)
	if err != nil {
		return err
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if err == nil && resp.StatusCode != http.StatusOK {
		err = fmt.Errorf("%s: status %d", p.url, resp.StatusCode)
	}
	return err
}

// rate sends n requests from conc clients and returns requests per second.
func (p poster) rate(b *testing.B, n, conc int) float64 {
	b.Helper()
	var next atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(n) {
				if err := p.post(); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	return float64(n) / time.Since(start).Seconds()
}

// micros returns the p-quantile of sorted latencies in microseconds.
func micros(sorted []time.Duration, p float64) float64 {
	return float64(sorted[int(float64(len(sorted)-1)*p)].Nanoseconds()) / 1e3
}

// BenchmarkRouterOverhead measures what the LLM router service adds to a
// chat completion: an instant OpenAI-compatible backend (an httptest
// handler answering a fixed completion) is called (a) directly with
// net/http and (b) through POST /v1/chat/completions of the service (the
// facade, the Router with its policy, circuit breaker, egress check and
// metrics, the OpenAI backend) in the same run. Each b.N is one request
// per side: first sequentially, interleaved, for p50/p99 latency, then
// from 8 concurrent clients for requests per second. overhead-* is (b) −
// (a).
//
// accounting=on is the service as frontdesk llmrouter runs it: the
// Completer is an Accountant recording every call (with its tenant, agent
// profile and conversation, from the X-Frontdesk-* headers) in a real
// SQLite store, which writes them in batches in the background (what the
// writer's goroutine costs the request path is in the figures); every call
// must be in llm_calls once the Accountant is closed.
// accounting=off leaves the Accountant out, for comparison.
func BenchmarkRouterOverhead(b *testing.B) {
	b.Run("accounting=off", func(b *testing.B) { benchRouterOverhead(b, false) })
	b.Run("accounting=on", func(b *testing.B) { benchRouterOverhead(b, true) })
}

func benchRouterOverhead(b *testing.B, accounting bool) {
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(instantCompletion)
	}))
	defer backend.Close()
	reg := prometheus.NewRegistry()
	router, err := llmrouter.NewFromConfig(llmrouter.FileConfig{Backends: []llmrouter.BackendConfig{
		{Name: "instant", Kind: llmrouter.KindOpenAI, BaseURL: backend.URL + "/v1", Model: "bench-model"},
	}}, zerolog.Nop(), reg)
	if err != nil {
		b.Fatal(err)
	}
	var c service.Completer = router
	header := http.Header{}
	var count func() int
	if accounting {
		ctx := context.Background()
		store := sqlstoretest.Open(b, "sqlite")
		agent := persistence.AgentProfile{Base: persistence.Base{TenantID: "bench-tenant"}, Name: "Support", LiveVersion: 2}
		if err := store.CreateAgentProfile(ctx, &agent); err != nil {
			b.Fatal(err)
		}
		acct, err := service.NewAccountant(service.AccountantConfig{Agents: store}, router, store, zerolog.Nop(), reg)
		if err != nil {
			b.Fatal(err)
		}
		c = acct
		header.Set(service.HeaderTenantID, agent.TenantID)
		header.Set(service.HeaderAgentProfileID, agent.ID)
		header.Set(service.HeaderConversationID, "bench-conversation")
		count = func() int {
			if err := acct.Close(ctx); err != nil {
				b.Fatal(err)
			}
			var n int
			if err := store.DB().QueryRowContext(ctx, "SELECT COUNT(*) FROM llm_calls").Scan(&n); err != nil {
				b.Fatal(err)
			}
			return n
		}
	}
	svc, err := service.New(service.Config{}, c, router, zerolog.Nop(), reg, reg)
	if err != nil {
		b.Fatal(err)
	}
	front := httptest.NewServer(svc)
	defer front.Close()
	const conc, warm = 8, 200
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 2 * conc}}
	direct := poster{client, backend.URL + "/v1/chat/completions", nil}
	routed := poster{client, front.URL + "/v1/chat/completions", header}
	for range warm { // warm connections and code paths
		if err := direct.post(); err != nil {
			b.Fatal(err)
		}
		if err := routed.post(); err != nil {
			b.Fatal(err)
		}
	}

	b.ResetTimer()
	directLat, routedLat := make([]time.Duration, b.N), make([]time.Duration, b.N)
	for i := range b.N {
		t0 := time.Now()
		if err := direct.post(); err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		if err := routed.post(); err != nil {
			b.Fatal(err)
		}
		directLat[i], routedLat[i] = t1.Sub(t0), time.Since(t1)
	}
	directRate := direct.rate(b, b.N, conc)
	routedRate := routed.rate(b, b.N, conc)
	b.StopTimer()

	if accounting {
		if n, want := count(), warm+2*b.N; n != want {
			b.Fatalf("llm_calls holds %d rows, want %d", n, want)
		}
	}
	slices.Sort(directLat)
	slices.Sort(routedLat)
	b.ReportMetric(0, "ns/op")
	b.ReportMetric(micros(directLat, 0.50), "direct-p50-us")
	b.ReportMetric(micros(directLat, 0.99), "direct-p99-us")
	b.ReportMetric(micros(routedLat, 0.50), "router-p50-us")
	b.ReportMetric(micros(routedLat, 0.99), "router-p99-us")
	b.ReportMetric(micros(routedLat, 0.50)-micros(directLat, 0.50), "overhead-p50-us")
	b.ReportMetric(micros(routedLat, 0.99)-micros(directLat, 0.99), "overhead-p99-us")
	b.ReportMetric(directRate, "direct-req/s")
	b.ReportMetric(routedRate, "router-req/s")
}
