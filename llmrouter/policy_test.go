package llmrouter_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/rs/zerolog"

	"github.com/frontdesk-ai/frontdesk/llmrouter"
)

func TestConditionMatches(t *testing.T) {
	withTools := llmrouter.Request{TenantID: "acme", Channel: "whatsapp", Language: "pt-BR", Tools: []llmrouter.Tool{{Name: "get_order"}}}
	noTools := llmrouter.Request{TenantID: "acme", Channel: "messenger", Language: "es"}
	toolsOff := withTools
	toolsOff.ToolChoice = llmrouter.ToolChoiceNone
	tests := []struct {
		name string
		cond llmrouter.Condition
		req  llmrouter.Request
		want bool
	}{
		{"empty matches all", llmrouter.Condition{}, noTools, true},
		{"tenant", llmrouter.Condition{Tenants: []string{"globex", "acme"}}, noTools, true},
		{"other tenant", llmrouter.Condition{Tenants: []string{"globex"}}, noTools, false},
		{"channel, any case", llmrouter.Condition{Channels: []string{"WhatsApp"}}, withTools, true},
		{"other channel", llmrouter.Condition{Channels: []string{"whatsapp"}}, noTools, false},
		{"language prefix", llmrouter.Condition{Languages: []string{"pt"}}, withTools, true},
		{"exact region", llmrouter.Condition{Languages: []string{"pt-br"}}, withTools, true},
		{"other region", llmrouter.Condition{Languages: []string{"pt-PT"}}, withTools, false},
		{"prefix is not a subtag", llmrouter.Condition{Languages: []string{"p"}}, withTools, false},
		{"no language", llmrouter.Condition{Languages: []string{"es"}}, llmrouter.Request{}, false},
		{"tools required", llmrouter.Condition{Tools: llmrouter.ToolsRequired}, withTools, true},
		{"tools required, none offered", llmrouter.Condition{Tools: llmrouter.ToolsRequired}, noTools, false},
		{"tools required, choice none", llmrouter.Condition{Tools: llmrouter.ToolsRequired}, toolsOff, false},
		{"tools none", llmrouter.Condition{Tools: llmrouter.ToolsNone}, toolsOff, true},
		{"tools none, offered", llmrouter.Condition{Tools: llmrouter.ToolsNone}, withTools, false},
		{"tools any", llmrouter.Condition{Tools: llmrouter.ToolsAny}, withTools, true},
		{"all parts must match", llmrouter.Condition{Tenants: []string{"acme"}, Channels: []string{"whatsapp"}, Tools: llmrouter.ToolsNone}, withTools, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.cond.Matches(tt.req); got != tt.want {
				t.Errorf("Matches = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestRouterFirstMatchingRouteWins(t *testing.T) {
	spanish, tools, rest := &recorder{name: "spanish"}, &recorder{name: "tools"}, &recorder{name: "rest"}
	r := newRouterWith(t, llmrouter.Config{
		Backends: []llmrouter.Backend{spanish, tools, rest},
		Policy: llmrouter.Policy{Routes: []llmrouter.Route{
			{Name: "es-whatsapp", When: llmrouter.Condition{Channels: []string{"whatsapp"}, Languages: []string{"es"}}, Candidates: []llmrouter.Candidate{{Backend: "spanish"}}},
			{Name: "tool-turns", When: llmrouter.Condition{Tools: llmrouter.ToolsRequired}, Candidates: []llmrouter.Candidate{{Backend: "tools"}}},
			{Name: "acme", When: llmrouter.Condition{Tenants: []string{"acme"}}, Candidates: []llmrouter.Candidate{{Backend: "rest"}}},
		}},
	}, nil)
	turn := func(tenant, channel, lang string, tools bool) llmrouter.Request {
		req := llmrouter.Request{TenantID: tenant, ConversationID: "c", Channel: channel, Language: lang, Messages: []llmrouter.Message{user("hola")}}
		if tools {
			req.Tools = []llmrouter.Tool{{Name: "get_order"}}
		}
		return req
	}
	tests := []struct {
		name                 string
		req                  llmrouter.Request
		wantBackend, wantRte string
	}{
		{"spanish whatsapp with tools", turn("acme", "whatsapp", "es-MX", true), "spanish", "es-whatsapp"},
		{"english whatsapp with tools", turn("acme", "whatsapp", "en", true), "tools", "tool-turns"},
		{"acme summary", turn("acme", "messenger", "en", false), "rest", "acme"},
		{"no route matches", turn("globex", "messenger", "en", false), "offline", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := r.Complete(context.Background(), tt.req)
			if err != nil {
				t.Fatal(err)
			}
			if resp.Backend != tt.wantBackend || resp.Route != tt.wantRte {
				t.Errorf("answered by %s on route %q, want %s on %q", resp.Backend, resp.Route, tt.wantBackend, tt.wantRte)
			}
		})
	}
	if spanish.count() != 1 || tools.count() != 1 || rest.count() != 1 {
		t.Errorf("backends got %d, %d, %d requests; want 1 each", spanish.count(), tools.count(), rest.count())
	}
}

// TestWeightedSplit checks the A/B split: a conversation keeps its
// candidate on every turn, conversations split by weight, and the
// unweighted fallback gets none of them while the split works.
func TestWeightedSplit(t *testing.T) {
	a, b, fallback := &recorder{name: "a"}, &recorder{name: "b"}, &recorder{name: "fallback"}
	r := newRouterWith(t, llmrouter.Config{
		Backends: []llmrouter.Backend{a, b, fallback},
		Policy: llmrouter.Policy{Routes: []llmrouter.Route{{Name: "ab", Candidates: []llmrouter.Candidate{
			{Backend: "a", Weight: 3}, {Backend: "b", Weight: 1}, {Backend: "fallback"},
		}}}},
	}, nil)
	ask := func(conv string) string {
		t.Helper()
		resp, err := r.Complete(context.Background(), llmrouter.Request{TenantID: "t1", ConversationID: conv, Messages: []llmrouter.Message{user("hi")}})
		if err != nil {
			t.Fatal(err)
		}
		if resp.Route != "ab" {
			t.Fatalf("route %q", resp.Route)
		}
		return resp.Backend
	}

	t.Run("sticky across 100 turns", func(t *testing.T) {
		for _, conv := range []string{"conv-1", "conv-2", "conv-3", "conv-4"} {
			first := ask(conv)
			for turn := 1; turn < 100; turn++ {
				if got := ask(conv); got != first {
					t.Fatalf("%s: turn %d went to %s, earlier turns to %s", conv, turn, got, first)
				}
			}
		}
	})
	t.Run("splits by weight", func(t *testing.T) {
		const n = 4000
		got := map[string]int{}
		for i := range n {
			got[ask(fmt.Sprintf("split-%d", i))]++
		}
		// 3:1 expects 3000 and 1000; the bounds are far beyond chance.
		if got["a"] < 2600 || got["a"] > 3400 || got["b"] < 600 || got["b"] > 1400 || got["fallback"] != 0 {
			t.Errorf("split %v, want about 3000 a, 1000 b, no fallback", got)
		}
	})
}

func TestCandidateOrderAndParams(t *testing.T) {
	down := func(ctx context.Context, req llmrouter.Request) (llmrouter.Response, error) {
		return llmrouter.Response{}, fmt.Errorf("down: %w", llmrouter.ErrBackendUnavailable)
	}
	a, b, c := &recorder{name: "a", answer: down}, &recorder{name: "b"}, &recorder{name: "c"}
	r := newRouterWith(t, llmrouter.Config{
		Backends: []llmrouter.Backend{a, b, c},
		Policy: llmrouter.Policy{Routes: []llmrouter.Route{{Name: "r", Candidates: []llmrouter.Candidate{
			{Backend: "c", Model: "big", Params: llmrouter.Params{MaxTokens: 2000}},
			{Backend: "a", Weight: 1},
			{Backend: "b", Model: "small", Params: llmrouter.Params{Temperature: float(0.1), MaxTokens: 256}},
		}}}},
	}, nil)
	req := llmrouter.Request{ConversationID: "c1", Model: "agent-model", Temperature: float(0.7), MaxTokens: 1024, Messages: []llmrouter.Message{user("hi")}}
	resp, err := r.Complete(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	// The only weighted candidate is picked first, then the others in
	// listed order: a fails, c answers.
	if resp.Backend != "c" || a.count() != 1 || b.count() != 0 {
		t.Fatalf("answered by %s after a %d, b %d calls; want a tried, then c", resp.Backend, a.count(), b.count())
	}
	sent := c.requests()[0]
	if sent.Model != "big" || *sent.Temperature != 0.7 || sent.MaxTokens != 1024 {
		t.Errorf("c got model %q temperature %v max tokens %d; want big, the request's 0.7, the request's smaller 1024",
			sent.Model, *sent.Temperature, sent.MaxTokens)
	}
	if got := a.requests()[0]; got.Model != "agent-model" {
		t.Errorf("a candidate without a model sent %q, want the request's", got.Model)
	}

	r2 := newRouterWith(t, llmrouter.Config{
		Backends: []llmrouter.Backend{b},
		Policy: llmrouter.Policy{Routes: []llmrouter.Route{{Name: "r", Candidates: []llmrouter.Candidate{
			{Backend: "b", Model: "small", Params: llmrouter.Params{Temperature: float(0.1), MaxTokens: 256}},
		}}}},
	}, nil)
	if _, err := r2.Complete(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	if sent := b.requests()[0]; sent.Model != "small" || *sent.Temperature != 0.1 || sent.MaxTokens != 256 {
		t.Errorf("b got model %q temperature %v max tokens %d; want small, 0.1, 256", sent.Model, *sent.Temperature, sent.MaxTokens)
	}
	if *req.Temperature != 0.7 {
		t.Error("the caller's request was changed")
	}
}

func TestPolicyValidation(t *testing.T) {
	b := &recorder{name: "b"}
	tests := []struct {
		name   string
		routes []llmrouter.Route
	}{
		{"unknown backend", []llmrouter.Route{{Name: "r", Candidates: []llmrouter.Candidate{{Backend: "x"}}}}},
		{"no candidates", []llmrouter.Route{{Name: "r"}}},
		{"duplicate route", []llmrouter.Route{{Name: "r", Candidates: []llmrouter.Candidate{{Backend: "b"}}}, {Name: "r", Candidates: []llmrouter.Candidate{{Backend: "b"}}}}},
		{"negative weight", []llmrouter.Route{{Name: "r", Candidates: []llmrouter.Candidate{{Backend: "b", Weight: -1}}}}},
		{"bad tools condition", []llmrouter.Route{{Name: "r", When: llmrouter.Condition{Tools: "sometimes"}, Candidates: []llmrouter.Candidate{{Backend: "b"}}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := llmrouter.New(llmrouter.Config{Backends: []llmrouter.Backend{b}, Policy: llmrouter.Policy{Routes: tt.routes}}, zerolog.Nop(), nil)
			if err == nil {
				t.Fatal("New accepted the policy")
			}
		})
	}
	if _, err := llmrouter.New(llmrouter.Config{Backends: []llmrouter.Backend{b, &recorder{name: "b"}}}, zerolog.Nop(), nil); err == nil {
		t.Error("New accepted two backends named b")
	}
}

// TestWeightedSplitOf10kConversations routes 10,000 conversations over a
// weighted route, three turns each: every arm's share is within 2
// percentage points of its weight, and every turn of a conversation goes
// to the arm of its first.
func TestWeightedSplitOf10kConversations(t *testing.T) {
	const conversations, turns = 10_000, 3
	tests := []struct {
		name    string
		weights map[string]int
	}{
		{"70:30", map[string]int{"a": 70, "b": 30}},
		{"50:25:25", map[string]int{"a": 50, "b": 25, "c": 25}},
		{"1:1:1:1", map[string]int{"a": 1, "b": 1, "c": 1, "d": 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var backends []llmrouter.Backend
			var cands []llmrouter.Candidate
			arms := map[string]*recorder{}
			for _, name := range []string{"a", "b", "c", "d"} {
				if w, ok := tt.weights[name]; ok {
					arms[name] = &recorder{name: name}
					backends = append(backends, arms[name])
					cands = append(cands, llmrouter.Candidate{Backend: name, Weight: w})
				}
			}
			r := newRouterWith(t, llmrouter.Config{Backends: backends,
				Policy: llmrouter.Policy{Routes: []llmrouter.Route{{Name: "ab-" + tt.name, Candidates: cands}}}}, nil)
			arm := make([]string, conversations)
			for turn := range turns {
				for i := range conversations {
					resp, err := r.Complete(context.Background(), llmrouter.Request{TenantID: "t1", ConversationID: fmt.Sprintf("conv-%d", i),
						Messages: []llmrouter.Message{user("hi")}})
					if err != nil {
						t.Fatal(err)
					}
					if turn == 0 {
						arm[i] = resp.Backend
					} else if resp.Backend != arm[i] {
						t.Fatalf("conv-%d: turn %d went to %s, its first to %s", i, turn, resp.Backend, arm[i])
					}
				}
			}
			total := 0
			for _, w := range tt.weights {
				total += w
			}
			for name, w := range tt.weights {
				// The recorders count what reached each backend.
				got := float64(arms[name].count()) / (conversations * turns)
				want := float64(w) / float64(total)
				if got < want-0.02 || got > want+0.02 {
					t.Errorf("arm %s got %.2f%% of the conversations, want %.0f%% ± 2", name, 100*got, 100*want)
				}
			}
		})
	}
}
