package llmrouter_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/frontdesk-ai/frontdesk/llmrouter"
	"github.com/frontdesk-ai/frontdesk/llmrouter/llmtest"
)

// TestCircuitBreaker drives one backend's breaker through its states with
// an injected clock and checks which calls reach the backend.
func TestCircuitBreaker(t *testing.T) {
	var failing atomic.Bool
	failing.Store(true)
	b := &recorder{name: "gpu", answer: func(ctx context.Context, req llmrouter.Request) (llmrouter.Response, error) {
		if failing.Load() {
			return llmrouter.Response{}, fmt.Errorf("gpu: %w", llmrouter.ErrBackendUnavailable)
		}
		return llmrouter.Response{Message: llmrouter.Message{Role: llmrouter.RoleAssistant, Content: "model"}}, nil
	}}
	clk := newClock()
	reg := prometheus.NewPedanticRegistry()
	r := newRouterWith(t, llmrouter.Config{
		Backends: []llmrouter.Backend{b},
		Limits:   map[string]llmrouter.Limits{"gpu": {Circuit: llmrouter.CircuitConfig{Failures: 3, Cooldown: time.Minute}}},
		Now:      clk.Now,
	}, reg)
	state := func() float64 {
		v, ok := metricValue(t, reg, "frontdesk_llm_circuit_state", map[string]string{"backend": "gpu"})
		if !ok {
			t.Fatal("no circuit state gauge")
		}
		return v
	}
	// step asks once and checks who answered and how many calls the
	// backend has had in all.
	step := func(what string, wantModel bool, wantCalls int, wantState float64) {
		t.Helper()
		resp, err := r.Complete(context.Background(), customerTurn("hi"))
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if resp.Offline == wantModel {
			t.Errorf("%s: offline %v, want the model %v", what, resp.Offline, wantModel)
		}
		if n := b.count(); n != wantCalls {
			t.Errorf("%s: backend has had %d calls, want %d", what, n, wantCalls)
		}
		if s := state(); s != wantState {
			t.Errorf("%s: circuit state %v, want %v", what, s, wantState)
		}
	}
	const closed, open = 0, 1

	step("failure 1", false, 1, closed)
	step("failure 2", false, 2, closed)
	step("failure 3 opens", false, 3, open)
	step("open: skipped", false, 3, open)
	clk.advance(59 * time.Second)
	step("still cooling down", false, 3, open)
	clk.advance(time.Second)
	step("half-open probe fails: open again", false, 4, open)
	clk.advance(30 * time.Second)
	step("open again for a full cool-down", false, 4, open)
	clk.advance(30 * time.Second)
	failing.Store(false)
	step("probe succeeds: closed", true, 5, closed)
	step("closed", true, 6, closed)

	if v, _ := metricValue(t, reg, "frontdesk_llm_calls_total", map[string]string{"backend": "gpu", "outcome": "circuit_open"}); v != 3 {
		t.Errorf("circuit_open outcomes %v, want 3", v)
	}
	if v, _ := metricValue(t, reg, "frontdesk_llm_calls_total", map[string]string{"backend": "gpu", "outcome": "unavailable"}); v != 4 {
		t.Errorf("unavailable outcomes %v, want 4", v)
	}
}

// TestCircuitHalfOpenLetsOneProbeThrough holds the probe in flight and
// checks a concurrent call skips the backend.
func TestCircuitHalfOpenLetsOneProbeThrough(t *testing.T) {
	var mode atomic.Int32 // 0 fail, 1 block until released
	entered, release := make(chan struct{}), make(chan struct{})
	b := &recorder{name: "gpu", answer: func(ctx context.Context, req llmrouter.Request) (llmrouter.Response, error) {
		if mode.Load() == 0 {
			return llmrouter.Response{}, fmt.Errorf("gpu: %w", llmrouter.ErrBackendUnavailable)
		}
		close(entered)
		<-release
		return llmrouter.Response{Message: llmrouter.Message{Role: llmrouter.RoleAssistant, Content: "probe"}}, nil
	}}
	clk := newClock()
	reg := prometheus.NewPedanticRegistry()
	r := newRouterWith(t, llmrouter.Config{
		Backends: []llmrouter.Backend{b},
		Limits:   map[string]llmrouter.Limits{"gpu": {Circuit: llmrouter.CircuitConfig{Failures: 1, Cooldown: time.Second}}},
		Now:      clk.Now,
	}, reg)
	if resp, _ := r.Complete(context.Background(), customerTurn("hi")); !resp.Offline {
		t.Fatal("first call did not fail over")
	}
	clk.advance(time.Second)
	mode.Store(1)
	done := make(chan llmrouter.Response)
	go func() {
		resp, _ := r.Complete(context.Background(), customerTurn("hi"))
		done <- resp
	}()
	<-entered
	if v, _ := metricValue(t, reg, "frontdesk_llm_circuit_state", map[string]string{"backend": "gpu"}); v != 2 {
		t.Errorf("state during the probe %v, want 2 (half-open)", v)
	}
	resp, err := r.Complete(context.Background(), customerTurn("hi"))
	if err != nil || !resp.Offline {
		t.Errorf("call during the probe = %+v, %v; want offline", resp, err)
	}
	if n := b.count(); n != 2 {
		t.Errorf("backend has had %d calls, want 2 (the failure and the probe)", n)
	}
	close(release)
	if probe := <-done; probe.Offline || probe.Message.Content != "probe" {
		t.Errorf("probe answer %+v", probe)
	}
	if v, _ := metricValue(t, reg, "frontdesk_llm_circuit_state", map[string]string{"backend": "gpu"}); v != 0 {
		t.Errorf("state after the probe %v, want 0 (closed)", v)
	}
}

// TestCircuitCountsOnlyUnavailability: a server refusing a request (400)
// or a backend that cannot serve a kind of request is not down.
func TestCircuitCountsOnlyUnavailability(t *testing.T) {
	var n atomic.Int32
	b := &recorder{name: "gpu", answer: func(ctx context.Context, req llmrouter.Request) (llmrouter.Response, error) {
		if n.Add(1)%2 == 0 {
			return llmrouter.Response{}, &llmrouter.APIError{StatusCode: 400, Message: "bad"}
		}
		return llmrouter.Response{}, fmt.Errorf("gpu: %w", llmrouter.ErrUnsupported)
	}}
	other := &recorder{name: "other"}
	r := newRouterWith(t, llmrouter.Config{
		Backends: []llmrouter.Backend{b, other},
		Limits:   map[string]llmrouter.Limits{"gpu": {Circuit: llmrouter.CircuitConfig{Failures: 1}}},
	}, nil)
	for i := range 6 {
		resp, err := r.Complete(context.Background(), customerTurn("hi"))
		if i%2 == 0 && (err != nil || resp.Backend != "other") {
			t.Fatalf("unsupported: %+v, %v; want the next candidate", resp, err)
		}
		if i%2 == 1 && err == nil {
			t.Fatalf("a 400 was answered by %s; it must not fall back", resp.Backend)
		}
	}
	if c := b.count(); c != 6 {
		t.Errorf("backend had %d calls, want 6: its circuit must stay closed", c)
	}
}

// TestCircuitWithFallbackOverFakes puts a primary and a secondary
// OpenAI-compatible fake behind one route, with an injected clock: while
// the primary is down the secondary answers; after Failures calls the
// primary's circuit opens and its fake gets no request; after the cooldown
// one probe reaches it: a failed probe opens the circuit again, a good one
// closes it and the primary answers again.
func TestCircuitWithFallbackOverFakes(t *testing.T) {
	primary, secondary := llmtest.NewServer(t), llmtest.NewServer(t)
	newBackend := func(name string, srv *llmtest.Server) llmrouter.Backend {
		cfg := srv.OpenAIConfig()
		cfg.Name = name
		return newOpenAI(t, cfg)
	}
	clk := newClock()
	reg := prometheus.NewPedanticRegistry()
	r := newRouterWith(t, llmrouter.Config{
		Backends: []llmrouter.Backend{newBackend("primary", primary), newBackend("secondary", secondary)},
		Policy: llmrouter.Policy{Routes: []llmrouter.Route{{Name: "support",
			Candidates: []llmrouter.Candidate{{Backend: "primary"}, {Backend: "secondary"}}}}},
		Limits: map[string]llmrouter.Limits{"primary": {Circuit: llmrouter.CircuitConfig{Failures: 2, Cooldown: time.Minute}}},
		Now:    clk.Now,
	}, reg)
	const closed, open = 0, 1
	attempts := llmrouter.DefaultMaxAttempts
	steps := []struct {
		name         string
		before       func()
		wantBackend  string
		wantPrimary  int // requests the primary's fake has received in all
		wantState    float64
		wantFallback int // requests the secondary's fake has received in all
	}{
		{"primary down: secondary answers", primary.Down, "secondary", attempts, closed, 1},
		{"second failure opens the circuit", nil, "secondary", 2 * attempts, open, 2},
		{"open: the primary is not contacted", nil, "secondary", 2 * attempts, open, 3},
		{"still cooling down", func() { clk.advance(59 * time.Second) }, "secondary", 2 * attempts, open, 4},
		{"failed probe opens it again", func() { clk.advance(time.Second) }, "secondary", 3 * attempts, open, 5},
		{"open again: not contacted", func() { clk.advance(30 * time.Second) }, "secondary", 3 * attempts, open, 6},
		{"good probe closes it", func() {
			clk.advance(30 * time.Second)
			primary.Up()
			primary.Script(llmtest.Text("from primary"))
		}, "primary", 3*attempts + 1, closed, 6},
		{"closed: the primary answers", func() { primary.Script(llmtest.Text("from primary")) }, "primary", 3*attempts + 2, closed, 6},
	}
	for _, s := range steps {
		if s.before != nil {
			s.before()
		}
		if s.wantBackend == "secondary" {
			secondary.Script(llmtest.Text("from secondary"))
		}
		resp, err := r.Complete(context.Background(), customerTurn("where is my order"))
		if err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if resp.Backend != s.wantBackend || resp.Message.Content != "from "+s.wantBackend || resp.Route != "support" {
			t.Errorf("%s: answered by %s (%q) on %q, want %s", s.name, resp.Backend, resp.Message.Content, resp.Route, s.wantBackend)
		}
		if n := len(primary.Requests()); n != s.wantPrimary {
			t.Errorf("%s: the primary's fake has received %d requests, want %d", s.name, n, s.wantPrimary)
		}
		if n := len(secondary.Requests()); n != s.wantFallback {
			t.Errorf("%s: the secondary's fake has received %d requests, want %d", s.name, n, s.wantFallback)
		}
		if v, _ := metricValue(t, reg, "frontdesk_llm_circuit_state", map[string]string{"backend": "primary"}); v != s.wantState {
			t.Errorf("%s: circuit state %v, want %v", s.name, v, s.wantState)
		}
	}
}
