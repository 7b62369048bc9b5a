package llmrouter_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/frontdesk-ai/frontdesk/llmrouter"
)

// TestConcurrencyLimitFallsThrough fills the primary's only slot and
// checks the next call goes to the secondary at once instead of waiting.
func TestConcurrencyLimitFallsThrough(t *testing.T) {
	entered, release := make(chan struct{}, 2), make(chan struct{})
	primary := &recorder{name: "primary", answer: func(ctx context.Context, req llmrouter.Request) (llmrouter.Response, error) {
		entered <- struct{}{}
		<-release
		return llmrouter.Response{Message: llmrouter.Message{Role: llmrouter.RoleAssistant, Content: "primary"}}, nil
	}}
	secondary := &recorder{name: "secondary"}
	reg := prometheus.NewPedanticRegistry()
	r := newRouterWith(t, llmrouter.Config{
		Backends: []llmrouter.Backend{primary, secondary},
		Limits:   map[string]llmrouter.Limits{"primary": {MaxConcurrency: 1}},
	}, reg)

	first := make(chan llmrouter.Response)
	go func() {
		resp, _ := r.Complete(context.Background(), customerTurn("first"))
		first <- resp
	}()
	<-entered
	resp, err := r.Complete(context.Background(), customerTurn("second"))
	if err != nil || resp.Backend != "secondary" {
		t.Fatalf("second call = %+v, %v; want the secondary while the primary is full", resp, err)
	}
	close(release)
	if resp := <-first; resp.Backend != "primary" {
		t.Errorf("first call answered by %s", resp.Backend)
	}
	if n := primary.count(); n != 1 {
		t.Errorf("primary got %d calls, want 1", n)
	}
	if v, _ := metricValue(t, reg, "frontdesk_llm_calls_total", map[string]string{"backend": "primary", "outcome": "busy"}); v != 1 {
		t.Errorf("busy outcomes %v, want 1", v)
	}
	// The slot is free again.
	if resp, err := r.Complete(context.Background(), customerTurn("third")); err != nil || resp.Backend != "primary" {
		t.Errorf("third call = %+v, %v; want the primary again", resp, err)
	}
}

// TestBackendDeadline: a backend past its own deadline makes way for the
// next candidate; the caller's context has none.
func TestBackendDeadline(t *testing.T) {
	var sawDeadline bool
	slow := &recorder{name: "slow", answer: func(ctx context.Context, req llmrouter.Request) (llmrouter.Response, error) {
		_, sawDeadline = ctx.Deadline()
		<-ctx.Done()
		return llmrouter.Response{}, fmt.Errorf("slow: %w", ctx.Err())
	}}
	fast := &recorder{name: "fast"}
	r := newRouterWith(t, llmrouter.Config{
		Backends: []llmrouter.Backend{slow, fast},
		Limits:   map[string]llmrouter.Limits{"slow": {Deadline: 20 * time.Millisecond}},
	}, nil)
	resp, err := r.Complete(context.Background(), customerTurn("hi"))
	if err != nil || resp.Backend != "fast" {
		t.Fatalf("Complete = %+v, %v; want the fast backend", resp, err)
	}
	if !sawDeadline {
		t.Error("the slow backend's context had no deadline")
	}
}
