package service_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/frontdesk-ai/frontdesk/llmrouter"
	"github.com/frontdesk-ai/frontdesk/llmrouter/llmtest"
	"github.com/frontdesk-ai/frontdesk/llmrouter/service"
)

func newClient(t *testing.T, url, key string) *service.Client {
	t.Helper()
	c, err := service.NewClient(service.ClientConfig{URL: url, APIKey: key, BackoffBase: time.Millisecond, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestClientRoundTrip: a request sent through the Client and the service
// reaches the model exactly as the in-process router sends it, and the
// answer comes back the same.
func TestClientRoundTrip(t *testing.T) {
	f := newFixture(t, fixtureOpts{cfg: service.Config{APIKey: "k"}})
	client := newClient(t, f.srv.URL, "k")
	temp := 0.2
	base := llmrouter.Request{TenantID: tenant, AgentProfileID: f.agent.ID, ConversationID: "conv-1", Channel: "whatsapp", Language: "pt-BR",
		Messages: []llmrouter.Message{{Role: "system", Content: "Be brief."}, {Role: "user", Content: "Where is 42?", Name: "Zoe"}},
		Tools: []llmrouter.Tool{{Name: "get_order", Description: "Look up", Parameters: json.RawMessage(`{"type":"object","properties":{"id":{"type":"string"}}}`)},
			{Name: "handoff"}}}
	for _, tc := range []struct {
		name string
		req  func(r llmrouter.Request) llmrouter.Request
		step llmtest.Step
	}{
		{"text", func(r llmrouter.Request) llmrouter.Request { return r }, llmtest.Text("Today.").WithUsage(5, 1)},
		{"tool call", func(r llmrouter.Request) llmrouter.Request { r.ToolChoice = llmrouter.ToolChoiceRequired; return r },
			llmtest.ToolCalls(llmtest.Call{ID: "c1", Name: "get_order", Arguments: `{"id":"42"}`}, llmtest.Call{ID: "c2", Name: "handoff"})},
		{"tool results", func(r llmrouter.Request) llmrouter.Request {
			r.Messages = append(r.Messages,
				llmrouter.Message{Role: "assistant", ToolCalls: []llmrouter.ToolCall{{ID: "c1", Name: "get_order", Arguments: json.RawMessage(`{"id":"42"}`)}}},
				llmrouter.Message{Role: "tool", ToolCallID: "c1", Name: "get_order", Content: `{"status":"late"}`})
			r.Temperature, r.MaxTokens, r.ToolChoice = &temp, 99, "get_order"
			return r
		}, llmtest.Text("It is late.")},
		{"response format", func(r llmrouter.Request) llmrouter.Request {
			r.ResponseFormat = &llmrouter.ResponseFormat{Name: "answer", Schema: json.RawMessage(`{"type":"object"}`), Strict: true}
			r.Tools, r.Model = nil, "other-model"
			return r
		}, llmtest.Text(`{"a":1}`)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := tc.req(base)
			f.llm.Script(tc.step, tc.step)
			n := len(f.llm.Requests())
			local, err := f.router.Complete(context.Background(), req)
			if err != nil {
				t.Fatal(err)
			}
			remote, err := client.Complete(context.Background(), req)
			if err != nil {
				t.Fatal(err)
			}
			got := f.llm.Requests()[n:]
			if len(got) != 2 || !reflect.DeepEqual(got[0].JSON, got[1].JSON) {
				t.Fatalf("the model received\n in-process: %s\n via client: %s", got[0].Raw, got[1].Raw)
			}
			if remote.Latency <= 0 {
				t.Fatalf("latency %v", remote.Latency)
			}
			local.Latency, remote.Latency = 0, 0
			for _, r := range []*llmrouter.Response{&local, &remote} {
				for i := range r.Message.ToolCalls {
					if len(r.Message.ToolCalls[i].Arguments) == 0 {
						r.Message.ToolCalls[i].Arguments = nil // empty either way
					}
				}
			}
			if !reflect.DeepEqual(local, remote) {
				t.Fatalf("answers differ:\n in-process %+v\n via client %+v", local, remote)
			}
		})
	}
	if n := len(f.calls(tenant)); n != 4 {
		t.Fatalf("the service recorded %d calls, want the 4 sent through it", n)
	}
}

// flaky answers the first failures with status (and Retry-After), then
// passes requests to next; it counts every attempt.
type flaky struct {
	status     int
	retryAfter string
	failures   int32
	attempts   atomic.Int32
	next       http.Handler
}

func (h *flaky) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if n := h.attempts.Add(1); n <= h.failures {
		if h.retryAfter != "" {
			w.Header().Set("Retry-After", h.retryAfter)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(h.status)
		_, _ = w.Write([]byte(`{"error":{"message":"busy","type":"server_error","param":null,"code":null}}`))
		return
	}
	h.next.ServeHTTP(w, r)
}

func TestClientErrorsAndRetries(t *testing.T) {
	f := newFixture(t, fixtureOpts{cfg: service.Config{APIKey: "k"}})
	req := llmrouter.Request{TenantID: tenant, Messages: []llmrouter.Message{{Role: "user", Content: "hi"}}}
	for _, tc := range []struct {
		name     string
		h        *flaky
		key      string
		step     *llmtest.Step
		req      llmrouter.Request
		attempts int32
		check    func(t *testing.T, resp llmrouter.Response, err error)
	}{
		{name: "503 twice, then answered", h: &flaky{status: 503, failures: 2}, key: "k", step: ptr(llmtest.Text("ok")), attempts: 3,
			check: func(t *testing.T, resp llmrouter.Response, err error) {
				if err != nil || resp.Message.Content != "ok" {
					t.Fatalf("%+v, %v", resp, err)
				}
			}},
		{name: "429 honours Retry-After", h: &flaky{status: 429, failures: 1, retryAfter: "1"}, key: "k", step: ptr(llmtest.Text("ok")), attempts: 2,
			check: func(t *testing.T, resp llmrouter.Response, err error) {
				if err != nil || resp.Latency < time.Second {
					t.Fatalf("latency %v, err %v: want a wait of 1s", resp.Latency, err)
				}
			}},
		{name: "503 always: unavailable", h: &flaky{status: 503, failures: 99}, key: "k", attempts: 3,
			check: func(t *testing.T, _ llmrouter.Response, err error) {
				if !errors.Is(err, llmrouter.ErrBackendUnavailable) {
					t.Fatalf("err = %v", err)
				}
			}},
		{name: "invalid request: no retry", h: &flaky{}, key: "k", req: llmrouter.Request{TenantID: tenant}, attempts: 1,
			check: func(t *testing.T, _ llmrouter.Response, err error) {
				if !errors.Is(err, llmrouter.ErrInvalidRequest) || errors.Is(err, llmrouter.ErrBackendUnavailable) {
					t.Fatalf("err = %v", err)
				}
			}},
		{name: "model refuses: its APIError", h: &flaky{}, key: "k", step: ptr(llmtest.Error(400, "too long")), attempts: 1,
			check: func(t *testing.T, _ llmrouter.Response, err error) {
				var ae *llmrouter.APIError
				if !errors.As(err, &ae) || ae.StatusCode != 400 || !strings.Contains(ae.Message, "too long") {
					t.Fatalf("err = %v", err)
				}
			}},
		{name: "wrong key: unavailable, no retry", h: &flaky{}, key: "wrong", attempts: 1,
			check: func(t *testing.T, _ llmrouter.Response, err error) {
				if !errors.Is(err, llmrouter.ErrBackendUnavailable) || !strings.Contains(err.Error(), "401") {
					t.Fatalf("err = %v", err)
				}
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.h.next = f.svc
			front := httptest.NewServer(tc.h)
			defer front.Close()
			if tc.step != nil {
				f.llm.Script(*tc.step)
			}
			r := req
			if tc.req.TenantID != "" {
				r = tc.req
			}
			resp, err := newClient(t, front.URL, tc.key).Complete(context.Background(), r)
			tc.check(t, resp, err)
			if got := tc.h.attempts.Load(); got != tc.attempts {
				t.Fatalf("%d attempts, want %d", got, tc.attempts)
			}
		})
	}

	t.Run("deadline", func(t *testing.T) {
		f.llm.Script(llmtest.Func(func(llmtest.Request) llmtest.Step {
			time.Sleep(300 * time.Millisecond)
			return llmtest.Text("late")
		}))
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		_, err := newClient(t, f.srv.URL, "k").Complete(ctx, req)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("err = %v", err)
		}
	})

	t.Run("as a router backend, a service that is gone falls back to offline", func(t *testing.T) {
		gone := httptest.NewServer(http.NotFoundHandler())
		gone.Close()
		router, err := llmrouter.New(llmrouter.Config{Backends: []llmrouter.Backend{newClient(t, gone.URL, "k")}}, zerolog.Nop(), nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := router.Complete(context.Background(), req)
		if err != nil || !resp.Offline {
			t.Fatalf("%+v, %v", resp, err)
		}
	})
}

func TestClientStream(t *testing.T) {
	f := newFixture(t, fixtureOpts{cfg: service.Config{APIKey: "k"}})
	client := newClient(t, f.srv.URL, "k")
	f.llm.Script(llmtest.ToolCalls(llmtest.Call{ID: "c1", Name: "get_order", Arguments: `{"id":"42","x":[1,2,3]}`}).WithUsage(4, 6))
	req := llmrouter.Request{TenantID: tenant, Messages: []llmrouter.Message{{Role: "user", Content: "hi"}},
		Tools: []llmrouter.Tool{{Name: "get_order"}}}
	var args strings.Builder
	pieces := 0
	resp, err := client.Stream(context.Background(), req, func(d llmrouter.Delta) {
		pieces++
		for _, c := range d.ToolCalls {
			args.WriteString(c.Arguments)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if pieces < 2 || args.String() != `{"id":"42","x":[1,2,3]}` || len(resp.Message.ToolCalls) != 1 ||
		string(resp.Message.ToolCalls[0].Arguments) != args.String() || resp.Usage.CompletionTokens != 6 {
		t.Fatalf("%d pieces, arguments %q, response %+v", pieces, args.String(), resp)
	}

	plain, err := service.New(service.Config{}, completeOnly{f.router}, nil, zerolog.Nop(), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(plain)
	defer srv.Close()
	_, err = newClient(t, srv.URL, "").Stream(context.Background(), req, func(llmrouter.Delta) { t.Fatal("a piece arrived") })
	if !errors.Is(err, service.ErrStreamingUnsupported) {
		t.Fatalf("err = %v", err)
	}
}
