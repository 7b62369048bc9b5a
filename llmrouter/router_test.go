package llmrouter_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/frontdesk-ai/frontdesk/llmrouter"
	"github.com/frontdesk-ai/frontdesk/llmrouter/llmtest"
)

// fakeBackend is a Backend that answers with a function and counts calls.
type fakeBackend struct {
	name     string
	complete func(ctx context.Context, req llmrouter.Request) (llmrouter.Response, error)
	calls    int
}

var _ llmrouter.Backend = (*fakeBackend)(nil)

func (f *fakeBackend) Name() string { return f.name }

func (f *fakeBackend) Complete(ctx context.Context, req llmrouter.Request) (llmrouter.Response, error) {
	f.calls++
	return f.complete(ctx, req)
}

func newRouter(t *testing.T, reg prometheus.Registerer, backends ...llmrouter.Backend) *llmrouter.Router {
	t.Helper()
	r, err := llmrouter.New(llmrouter.Config{Backends: backends}, zerolog.Nop(), reg)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func customerTurn(text string) llmrouter.Request {
	return llmrouter.Request{
		TenantID: "t1", ConversationID: "c1", Language: "en",
		Messages: []llmrouter.Message{{Role: llmrouter.RoleSystem, Content: "You are Acme's agent."}, user(text)},
		Tools:    escalationTools,
	}
}

func TestRouterUsesAHealthyBackend(t *testing.T) {
	srv := llmtest.NewServer(t, llmtest.Text("Hello! How can I help?").WithUsage(20, 7))
	r := newRouter(t, nil, newOpenAI(t, srv.OpenAIConfig()))
	resp, err := r.Complete(context.Background(), customerTurn("hi"))
	if err != nil {
		t.Fatal(err)
	}
	if resp.Offline || resp.Backend != "openai" || resp.Model != llmtest.Model || resp.Message.Content != "Hello! How can I help?" {
		t.Errorf("response %+v, want the model's answer", resp)
	}
	if resp.Usage != (llmrouter.Usage{PromptTokens: 20, CompletionTokens: 7, TotalTokens: 27}) {
		t.Errorf("usage %+v", resp.Usage)
	}
	if resp.Latency <= 0 {
		t.Errorf("latency %v, want > 0", resp.Latency)
	}
	if n := len(srv.Requests()); n != 1 {
		t.Errorf("server got %d requests, want 1", n)
	}
}

// TestRouterFallsBackToOffline runs the offline two-step protocol through
// the router with the model server down, as the conversation actor would.
func TestRouterFallsBackToOffline(t *testing.T) {
	srv := llmtest.NewServer(t)
	srv.Down()
	reg := prometheus.NewPedanticRegistry()
	r := newRouter(t, reg, newOpenAI(t, srv.OpenAIConfig()))

	req := customerTurn("My order never arrived")
	first, err := r.Complete(context.Background(), req)
	if err != nil {
		t.Fatalf("first Complete: %v", err)
	}
	if n := len(srv.Requests()); n != llmrouter.DefaultMaxAttempts {
		t.Errorf("server got %d requests, want %d attempts", n, llmrouter.DefaultMaxAttempts)
	}
	if !first.Offline || first.Backend != "offline" || len(first.Message.ToolCalls) != 2 {
		t.Fatalf("first answer %+v, want the offline escalation calls", first)
	}

	// The actor runs the tools and sends their results back.
	ticket, handoff := first.Message.ToolCalls[0], first.Message.ToolCalls[1]
	req.Messages = append(req.Messages, first.Message,
		toolResult(ticket.ID, ticket.Name, `{"ticket_id":"1a2b3c4d"}`),
		toolResult(handoff.ID, handoff.Name, `{"ok":true}`))
	second, err := r.Complete(context.Background(), req)
	if err != nil {
		t.Fatalf("second Complete: %v", err)
	}
	want := "Thanks for your message. We've passed it to our team (ticket 1a2b3c4d) and someone will get back to you here shortly."
	if !second.Offline || second.Message.Content != want {
		t.Errorf("second answer %+v, want %q", second, want)
	}
	if n := len(srv.Requests()); n != 2*llmrouter.DefaultMaxAttempts {
		t.Errorf("server got %d requests, want the backend tried again on the second turn", n)
	}
	// The tool results went to the server in the real format.
	last := srv.Requests()[len(srv.Requests())-1].Body
	if got := last.Last(); got.Role != "tool" || got.ToolCallID != handoff.ID {
		t.Errorf("last message sent %+v, want the handoff result", got)
	}

	if got := calls(t, reg, "openai", "unavailable"); got != 2 {
		t.Errorf("unavailable openai calls = %v, want 2", got)
	}
	if got := calls(t, reg, "offline", "ok"); got != 2 {
		t.Errorf("ok offline calls = %v, want 2", got)
	}

	// The server comes back: the router uses it again.
	srv.Up()
	srv.Script(llmtest.Text("Sorry about that! A colleague will follow up."))
	req.Messages = append(req.Messages, second.Message, user("thanks"))
	third, err := r.Complete(context.Background(), req)
	if err != nil || third.Offline {
		t.Fatalf("third answer %+v, %v; want the model", third, err)
	}
}

// calls returns frontdesk_llm_calls_total{backend,outcome} from reg.
func calls(t *testing.T, reg prometheus.Gatherer, backend, outcome string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "frontdesk_llm_calls_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["backend"] == backend && labels["outcome"] == outcome {
				return m.GetCounter().GetValue()
			}
		}
	}
	t.Fatalf("no frontdesk_llm_calls_total{backend=%q,outcome=%q}", backend, outcome)
	return 0
}

func TestRouterTriesBackendsInOrder(t *testing.T) {
	down := llmtest.NewServer(t)
	down.Down()
	up := llmtest.NewServer(t, llmtest.Text("from the second"))
	cfgDown, cfgUp := down.OpenAIConfig(), up.OpenAIConfig()
	cfgDown.Name, cfgUp.Name = "primary", "secondary"
	r := newRouter(t, nil, newOpenAI(t, cfgDown), newOpenAI(t, cfgUp))
	resp, err := r.Complete(context.Background(), customerTurn("hi"))
	if err != nil {
		t.Fatal(err)
	}
	if resp.Backend != "secondary" || resp.Message.Content != "from the second" {
		t.Errorf("response %+v, want the secondary's answer", resp)
	}
	if len(down.Requests()) == 0 || len(up.Requests()) != 1 {
		t.Errorf("primary got %d, secondary %d requests; want the primary tried first", len(down.Requests()), len(up.Requests()))
	}
}

func TestRouterDoesNotFallBack(t *testing.T) {
	t.Run("request refused by the server", func(t *testing.T) {
		srv := llmtest.NewServer(t, llmtest.Error(400, "This model's maximum context length is 8192 tokens."))
		r := newRouter(t, nil, newOpenAI(t, srv.OpenAIConfig()))
		_, err := r.Complete(context.Background(), customerTurn("hi"))
		var ae *llmrouter.APIError
		if !errors.As(err, &ae) || ae.StatusCode != 400 || !strings.Contains(err.Error(), "maximum context length") {
			t.Fatalf("err = %v, want the server's 400", err)
		}
	})
	t.Run("invalid request", func(t *testing.T) {
		b := &fakeBackend{name: "fake", complete: func(context.Context, llmrouter.Request) (llmrouter.Response, error) {
			return llmrouter.Response{}, nil
		}}
		r := newRouter(t, nil, b)
		_, err := r.Complete(context.Background(), llmrouter.Request{Messages: []llmrouter.Message{{Role: "robot"}}})
		if !errors.Is(err, llmrouter.ErrInvalidRequest) || b.calls != 0 {
			t.Fatalf("err = %v after %d backend calls, want ErrInvalidRequest before any", err, b.calls)
		}
	})
	t.Run("caller cancels", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		b := &fakeBackend{name: "fake", complete: func(ctx context.Context, _ llmrouter.Request) (llmrouter.Response, error) {
			cancel()
			<-ctx.Done()
			// A backend that reports its failure as unavailability must
			// still not make the router answer a caller who left.
			return llmrouter.Response{}, fmt.Errorf("fake: %w: %w", llmrouter.ErrBackendUnavailable, ctx.Err())
		}}
		r := newRouter(t, nil, b)
		resp, err := r.Complete(ctx, customerTurn("hi"))
		if !errors.Is(err, context.Canceled) || resp.Offline {
			t.Fatalf("Complete = %+v, %v; want context.Canceled and no offline answer", resp, err)
		}
	})
	t.Run("caller's deadline passes", func(t *testing.T) {
		srv := llmtest.NewServer(t, llmtest.Func(func(llmtest.Request) llmtest.Step {
			time.Sleep(200 * time.Millisecond)
			return llmtest.Text("too late")
		}))
		r := newRouter(t, nil, newOpenAI(t, srv.OpenAIConfig()))
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		defer cancel()
		resp, err := r.Complete(ctx, customerTurn("hi"))
		if !errors.Is(err, context.DeadlineExceeded) || resp.Offline {
			t.Fatalf("Complete = %+v, %v; want DeadlineExceeded and no offline answer", resp, err)
		}
	})
}

func TestRouterFallsBackOnABackendsOwnDeadline(t *testing.T) {
	b := &fakeBackend{name: "slow", complete: func(ctx context.Context, _ llmrouter.Request) (llmrouter.Response, error) {
		attempt, cancel := context.WithTimeout(ctx, time.Millisecond)
		defer cancel()
		<-attempt.Done()
		return llmrouter.Response{}, fmt.Errorf("slow: %w", attempt.Err())
	}}
	r := newRouter(t, nil, b)
	resp, err := r.Complete(context.Background(), customerTurn("hi"))
	if err != nil || !resp.Offline || b.calls != 1 {
		t.Fatalf("Complete = %+v, %v after %d calls; want the offline answer", resp, err, b.calls)
	}
}

func TestNewDefault(t *testing.T) {
	t.Run("no base url is offline only", func(t *testing.T) {
		r, err := llmrouter.NewDefault("", "", "", zerolog.Nop(), nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := r.Complete(context.Background(), customerTurn("hi"))
		if err != nil || !resp.Offline {
			t.Fatalf("Complete = %+v, %v; want the offline answer", resp, err)
		}
	})
	t.Run("base url, model and key reach the server", func(t *testing.T) {
		srv := llmtest.NewServer(t, llmtest.Text("hello"))
		srv.RequireAPIKey("sk-1")
		r, err := llmrouter.NewDefault(srv.BaseURL(), "qwen2.5-7b", "sk-1", zerolog.Nop(), prometheus.NewRegistry())
		if err != nil {
			t.Fatal(err)
		}
		resp, err := r.Complete(context.Background(), customerTurn("hi"))
		if err != nil || resp.Offline || resp.Message.Content != "hello" {
			t.Fatalf("Complete = %+v, %v; want the model's answer", resp, err)
		}
		if m := srv.Requests()[0].Body.Model; m != "qwen2.5-7b" {
			t.Errorf("model %q, want qwen2.5-7b", m)
		}
	})
	t.Run("bad base url", func(t *testing.T) {
		if _, err := llmrouter.NewDefault("localhost:8000", "m", "", zerolog.Nop(), nil); err == nil {
			t.Fatal("NewDefault accepted a base url without scheme")
		}
	})
}
