package llmrouter_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/frontdesk-ai/frontdesk/llmrouter"
)

// recorder is a Backend that records the requests it gets and answers with
// its answer function, by default with its own name as the text. It is
// safe for concurrent use.
type recorder struct {
	name   string
	answer func(ctx context.Context, req llmrouter.Request) (llmrouter.Response, error)

	mu   sync.Mutex
	reqs []llmrouter.Request
}

var _ llmrouter.Backend = (*recorder)(nil)

func (r *recorder) Name() string { return r.name }

func (r *recorder) Complete(ctx context.Context, req llmrouter.Request) (llmrouter.Response, error) {
	r.mu.Lock()
	r.reqs = append(r.reqs, req)
	r.mu.Unlock()
	if r.answer != nil {
		return r.answer(ctx, req)
	}
	return llmrouter.Response{Message: llmrouter.Message{Role: llmrouter.RoleAssistant, Content: r.name}, Model: req.Model,
		Usage: llmrouter.Usage{PromptTokens: 10, CompletionTokens: 3, TotalTokens: 13}}, nil
}

// requests returns the requests received so far.
func (r *recorder) requests() []llmrouter.Request {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]llmrouter.Request(nil), r.reqs...)
}

func (r *recorder) count() int { return len(r.requests()) }

// clock is a settable clock for the circuit breakers.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock { return &clock{now: time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func newRouterWith(t *testing.T, cfg llmrouter.Config, reg prometheus.Registerer) *llmrouter.Router {
	t.Helper()
	r, err := llmrouter.New(cfg, zerolog.Nop(), reg)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// metricValue returns the value of the counter or gauge name with labels
// from reg, and whether it exists.
func metricValue(t *testing.T, reg prometheus.Gatherer, name string, labels map[string]string) (float64, bool) {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	metric:
		for _, m := range mf.GetMetric() {
			have := map[string]string{}
			for _, l := range m.GetLabel() {
				have[l.GetName()] = l.GetValue()
			}
			for k, v := range labels {
				if have[k] != v {
					continue metric
				}
			}
			switch {
			case m.GetCounter() != nil:
				return m.GetCounter().GetValue(), true
			case m.GetGauge() != nil:
				return m.GetGauge().GetValue(), true
			case m.GetHistogram() != nil:
				return float64(m.GetHistogram().GetSampleCount()), true
			}
		}
	}
	return 0, false
}
