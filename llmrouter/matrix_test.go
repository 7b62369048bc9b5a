package llmrouter_test

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/frontdesk-ai/frontdesk/llmrouter"
	"github.com/frontdesk-ai/frontdesk/llmrouter/llmtest"
)

// matrixTools are the tools every matrix request offers.
var matrixTools = []llmrouter.Tool{
	{Name: "get_customer_profile", Description: "The customer's profile.", Parameters: json.RawMessage(`{"type":"object","additionalProperties":false}`)},
	{Name: "get_order", Description: "One order by number.", Parameters: json.RawMessage(
		`{"type":"object","properties":{"order_number":{"type":"string"}},"required":["order_number"],"additionalProperties":false}`)},
}

func matrixRequest() llmrouter.Request {
	return llmrouter.Request{TenantID: "t1", ConversationID: "c1", Language: "en", Tools: matrixTools,
		Messages: []llmrouter.Message{{Role: llmrouter.RoleSystem, Content: "You are Acme's agent."}, user("Where is order #1001?")}}
}

// matrixFake is one fake server and the backend that speaks its format.
type matrixFake struct {
	backend llmrouter.Streamer
	script  func(...llmtest.Step)
	pending func() int
	// chats returns the chat requests the fake received (not llama.cpp's
	// readiness reads).
	chats func() []llmtest.Request
}

// Kinds of server in the matrix.
const (
	fakeVLLM     = "vllm"
	fakeLlamaCpp = "llamacpp"
	fakeOllama   = "ollama"
)

// newMatrixFake starts a fake of kind and its backend; attempt bounds each
// attempt (zero: the fakes' 10 s).
func newMatrixFake(t *testing.T, kind string, attempt time.Duration) matrixFake {
	t.Helper()
	if kind == fakeOllama {
		srv := llmtest.NewOllama(t)
		cfg := srv.OllamaConfig()
		if attempt > 0 {
			cfg.Timeout = attempt
		}
		b, err := llmrouter.NewOllama(cfg)
		if err != nil {
			t.Fatal(err)
		}
		return matrixFake{backend: b, script: srv.Script, pending: srv.Pending, chats: srv.Requests}
	}
	srv := llmtest.NewServer(t)
	cfg := srv.OpenAIConfig()
	if attempt > 0 {
		cfg.Timeout = attempt
	}
	var b llmrouter.Streamer
	var err error
	if kind == fakeVLLM {
		b, err = llmrouter.NewVLLM(llmrouter.VLLMConfig{OpenAIConfig: cfg, ToolParser: "hermes"})
	} else {
		b, err = llmrouter.NewLlamaCpp(llmrouter.LlamaCppConfig{OpenAIConfig: cfg})
	}
	if err != nil {
		t.Fatal(err)
	}
	chats := func() []llmtest.Request {
		var out []llmtest.Request
		for _, r := range srv.Requests() {
			if r.Path == llmtest.CompletionsPath {
				out = append(out, r)
			}
		}
		return out
	}
	return matrixFake{backend: b, script: srv.Script, pending: srv.Pending, chats: chats}
}

// cutBody returns an answer that ends mid-way, in the wire format of the
// fake and mode: a stream that has sent pieces but never its end ([DONE],
// a finish reason, done: true), or a JSON body cut in the middle.
func cutBody(ollama, stream bool) string {
	switch {
	case ollama && stream:
		return `{"model":"llmtest-model","created_at":"2025-01-01T00:00:00Z","message":{"role":"assistant","content":"Your "},"done":false}` + "\n" +
			`{"model":"llmtest-model","created_at":"2025-01-01T00:00:00Z","message":{"role":"assistant","content":"order "},"done":false}` + "\n"
	case ollama:
		return `{"model":"llmtest-model","created_at":"2025-01-01T00:00:00Z","message":{"role":"assistant","content":"Your ord`
	case stream:
		return `data: {"id":"c1","object":"chat.completion.chunk","model":"llmtest-model","choices":[{"index":0,"delta":{"role":"assistant","content":"Your "},"finish_reason":null}]}` + "\n\n" +
			`data: {"id":"c1","object":"chat.completion.chunk","model":"llmtest-model","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"get_order","arguments":"{\"order_"}}]},"finish_reason":null}]}` + "\n\n"
	}
	return `{"id":"c1","object":"chat.completion","model":"llmtest-model","choices":[{"index":0,"message":{"role":"assistant","content":"Your ord`
}

// wantCall is a tool call the answer must carry, arguments as text.
type wantCall struct{ name, args string }

// TestLLMFakeServerMatrix runs every case against the vLLM, llama.cpp and
// Ollama fakes, with and without streaming, and checks the answer (or the
// error) and the requests each fake received.
//
// The tool cases pass through untouched: the router and its backends do not
// judge tool calls. A call outside the agent's allow-list, arguments that
// break the tool's schema or are not JSON at all reach the caller as the
// model produced them; refusing them and telling the model why is the tools
// package's job (tools.Registry.Execute, tools/tools_test.go "invalid calls
// are not executed and explain why"), and the conversation actor's repair
// loop is covered end to end by cmd/frontdesk's TestWhatsAppPilotEndToEnd
// ("a tool call that breaks its schema is not executed and the model sees
// why"). TestRouterLeavesToolCallValidationToTheCaller shows the check.
func TestLLMFakeServerMatrix(t *testing.T) {
	orderCall := llmtest.Call{ID: "call_a", Name: "get_order", Arguments: `{"order_number":"#1001"}`}
	tests := []struct {
		name string
		// steps returns the script for the fake (ollama) and mode (stream).
		steps    func(ollama, stream bool) []llmtest.Step
		attempt  time.Duration // per attempt; zero for the fakes' default
		deadline time.Duration // the caller's; zero for none
		// Expected: an error wrapping err (and no answer at all), else the
		// answer's text, calls and usage (when not zero).
		err     error
		text    func(ollama bool) string
		calls   func(ollama bool) []wantCall
		usage   llmrouter.Usage
		posts   func(stream bool) int // chat requests the fake receives
		pending int                   // steps the fake never gets to
	}{
		{
			name: "tool call",
			steps: func(bool, bool) []llmtest.Step {
				return []llmtest.Step{llmtest.ToolCalls(orderCall).WithUsage(50, 9)}
			},
			calls: func(bool) []wantCall { return []wantCall{{"get_order", `{"order_number":"#1001"}`}} },
			usage: llmrouter.Usage{PromptTokens: 50, CompletionTokens: 9, TotalTokens: 59},
		},
		{
			name: "parallel tool calls",
			steps: func(bool, bool) []llmtest.Step {
				return []llmtest.Step{llmtest.ToolCalls(llmtest.Call{ID: "call_p", Name: "get_customer_profile", Arguments: `{}`}, orderCall)}
			},
			calls: func(bool) []wantCall {
				return []wantCall{{"get_customer_profile", `{}`}, {"get_order", `{"order_number":"#1001"}`}}
			},
		},
		{
			// OpenAI-compatible servers send the model's argument text as
			// is; Ollama parses it itself and, when it cannot, answers the
			// model's text as content without a call.
			name: "malformed tool JSON",
			steps: func(ollama, _ bool) []llmtest.Step {
				if ollama {
					return []llmtest.Step{llmtest.Text(`{"name": "get_order", "arguments": {"order_number": "#10`)}
				}
				return []llmtest.Step{llmtest.ToolCalls(llmtest.Call{Name: "get_order", Arguments: `{"order_number": "#10`})}
			},
			text: func(ollama bool) string {
				if ollama {
					return `{"name": "get_order", "arguments": {"order_number": "#10`
				}
				return ""
			},
			calls: func(ollama bool) []wantCall {
				if ollama {
					return nil
				}
				return []wantCall{{"get_order", `{"order_number": "#10`}}
			},
		},
		{
			name: "tool not on the allow-list",
			steps: func(bool, bool) []llmtest.Step {
				return []llmtest.Step{llmtest.ToolCalls(llmtest.Call{Name: "delete_account", Arguments: `{"customer":"all"}`})}
			},
			calls: func(bool) []wantCall { return []wantCall{{"delete_account", `{"customer":"all"}`}} },
		},
		{
			name: "arguments that break the schema",
			steps: func(bool, bool) []llmtest.Step {
				return []llmtest.Step{llmtest.ToolCalls(llmtest.Call{Name: "get_order", Arguments: `{"order_number":1001,"urgent":true}`})}
			},
			calls: func(bool) []wantCall { return []wantCall{{"get_order", `{"order_number":1001,"urgent":true}`}} },
		},
		{
			name: "500 on every attempt",
			steps: func(bool, bool) []llmtest.Step {
				return []llmtest.Step{llmtest.Error(500, "boom"), llmtest.Error(500, "boom"), llmtest.Error(500, "boom")}
			},
			err:   llmrouter.ErrBackendUnavailable,
			posts: func(bool) int { return llmrouter.DefaultMaxAttempts },
		},
		{
			name: "429 is retried after Retry-After",
			steps: func(bool, bool) []llmtest.Step {
				return []llmtest.Step{llmtest.RateLimited("0.01"), llmtest.Text("Your order shipped.")}
			},
			text:  func(bool) string { return "Your order shipped." },
			posts: func(bool) int { return 2 },
		},
		{
			// Were Retry-After ignored, the 1 ms backoff would retry and
			// take the second step.
			name: "429 with Retry-After past the caller's deadline",
			steps: func(bool, bool) []llmtest.Step {
				return []llmtest.Step{llmtest.RateLimited("20"), llmtest.Text("too late")}
			},
			deadline: 5 * time.Second,
			err:      llmrouter.ErrBackendUnavailable,
			posts:    func(bool) int { return 1 },
			pending:  1,
		},
		{
			name: "timeout on every attempt",
			steps: func(bool, bool) []llmtest.Step {
				return []llmtest.Step{llmtest.Hang(), llmtest.Hang(), llmtest.Hang()}
			},
			attempt: 150 * time.Millisecond,
			err:     llmrouter.ErrBackendUnavailable,
			posts:   func(bool) int { return llmrouter.DefaultMaxAttempts },
		},
		{
			// A stream that delivered pieces is never repeated; a cut JSON
			// body is malformed and retried.
			name: "answer cut mid-way",
			steps: func(ollama, stream bool) []llmtest.Step {
				cut := llmtest.Step{Body: cutBody(ollama, stream)}
				if stream {
					return []llmtest.Step{cut}
				}
				return []llmtest.Step{cut, cut, cut}
			},
			err: llmrouter.ErrBackendUnavailable,
			posts: func(stream bool) int {
				if stream {
					return 1
				}
				return llmrouter.DefaultMaxAttempts
			},
		},
		{
			// vLLM's usage chunk has "choices": null; Ollama counts tokens
			// in its done object.
			name: "usage chunk with choices null",
			steps: func(bool, bool) []llmtest.Step {
				return []llmtest.Step{{Text: "Your order shipped.", Usage: llmtest.Usage{Prompt: 310, Completion: 4}, UsageChoicesNull: true}}
			},
			text:  func(bool) string { return "Your order shipped." },
			usage: llmrouter.Usage{PromptTokens: 310, CompletionTokens: 4, TotalTokens: 314},
		},
	}
	for _, kind := range []string{fakeVLLM, fakeLlamaCpp, fakeOllama} {
		ollama := kind == fakeOllama
		for _, stream := range []bool{false, true} {
			mode := "complete"
			if stream {
				mode = "stream"
			}
			for _, tt := range tests {
				t.Run(kind+"/"+mode+"/"+tt.name, func(t *testing.T) {
					t.Parallel()
					f := newMatrixFake(t, kind, tt.attempt)
					f.script(tt.steps(ollama, stream)...)
					ctx := context.Background()
					if tt.deadline > 0 {
						var cancel context.CancelFunc
						ctx, cancel = context.WithTimeout(ctx, tt.deadline)
						defer cancel()
					}
					var deltas []llmrouter.Delta
					var resp llmrouter.Response
					var err error
					if stream {
						resp, err = f.backend.Stream(ctx, matrixRequest(), collect(&deltas))
					} else {
						resp, err = f.backend.Complete(ctx, matrixRequest())
					}

					wantPosts := 1
					if tt.posts != nil {
						wantPosts = tt.posts(stream)
					}
					if n := len(f.chats()); n != wantPosts {
						t.Errorf("the fake received %d chat requests, want %d", n, wantPosts)
					}
					if n := f.pending(); n != tt.pending {
						t.Errorf("%d scripted steps left, want %d", n, tt.pending)
					}
					if tt.err != nil {
						if !errors.Is(err, tt.err) {
							t.Fatalf("err = %v, want %v", err, tt.err)
						}
						if !reflect.DeepEqual(resp, llmrouter.Response{}) {
							t.Fatalf("a failed call returned an answer: %+v", resp)
						}
						if tt.name == "answer cut mid-way" && stream && len(deltas) == 0 {
							t.Fatal("no piece reached the caller before the cut")
						}
						return
					}
					if err != nil {
						t.Fatal(err)
					}
					checkAnswer(t, resp, tt.text, tt.calls, tt.usage, ollama)
					if stream {
						text, calls := replay(deltas)
						if text != resp.Message.Content || len(calls) != len(resp.Message.ToolCalls) {
							t.Errorf("deltas add up to %q and %d calls, the answer is %q and %d calls",
								text, len(calls), resp.Message.Content, len(resp.Message.ToolCalls))
						}
					}
					if sent := f.chats()[0]; !sentTools(sent, ollama) {
						t.Errorf("request %s does not offer the tools", sent.Raw)
					}
				})
			}
		}
	}
}

// checkAnswer compares resp with the expected text, calls and usage.
func checkAnswer(t *testing.T, resp llmrouter.Response, text func(bool) string, calls func(bool) []wantCall, usage llmrouter.Usage, ollama bool) {
	t.Helper()
	var wantText string
	if text != nil {
		wantText = text(ollama)
	}
	var want []wantCall
	if calls != nil {
		want = calls(ollama)
	}
	if resp.Message.Content != wantText {
		t.Errorf("content %q, want %q", resp.Message.Content, wantText)
	}
	if len(resp.Message.ToolCalls) != len(want) {
		t.Fatalf("calls %+v, want %v", resp.Message.ToolCalls, want)
	}
	for i, c := range resp.Message.ToolCalls {
		if c.ID == "" || c.Name != want[i].name || !sameArgs(c.Arguments, want[i].args) {
			t.Errorf("call %d = %s %s (id %q), want %s %s", i, c.Name, c.Arguments, c.ID, want[i].name, want[i].args)
		}
	}
	if len(want) > 0 && resp.FinishReason != llmrouter.FinishToolCalls {
		t.Errorf("finish reason %q, want %q", resp.FinishReason, llmrouter.FinishToolCalls)
	}
	if usage != (llmrouter.Usage{}) && resp.Usage != usage {
		t.Errorf("usage %+v, want %+v", resp.Usage, usage)
	}
}

// sameArgs compares argument text: exactly when it is not JSON (it must
// arrive as the model produced it), as JSON values otherwise (Ollama sends
// an object that Go re-encodes).
func sameArgs(got json.RawMessage, want string) bool {
	if !json.Valid([]byte(want)) {
		return string(got) == want
	}
	var a, b any
	return json.Unmarshal(got, &a) == nil && json.Unmarshal([]byte(want), &b) == nil && reflect.DeepEqual(a, b)
}

// sentTools reports whether a chat request offered matrixTools.
func sentTools(r llmtest.Request, ollama bool) bool {
	names := r.Body.ToolNames()
	if ollama {
		names = r.Ollama.ToolNames()
	}
	return reflect.DeepEqual(names, []string{"get_customer_profile", "get_order"})
}

// TestRouterLeavesToolCallValidationToTheCaller routes one answer with four
// parallel calls through the Router untouched, then checks them as the
// tools package does (allow-list, JSON object, JSON Schema with
// santhosh-tekuri/jsonschema) to show where each is caught.
func TestRouterLeavesToolCallValidationToTheCaller(t *testing.T) {
	srv := llmtest.NewServer(t, llmtest.ToolCalls(
		llmtest.Call{Name: "get_order", Arguments: `{"order_number":"#1001"}`},
		llmtest.Call{Name: "delete_account", Arguments: `{}`},
		llmtest.Call{Name: "get_order", Arguments: `{"order_number":1001}`},
		llmtest.Call{Name: "get_order", Arguments: `{"order_number":`},
	))
	b, err := llmrouter.NewVLLM(llmrouter.VLLMConfig{OpenAIConfig: srv.OpenAIConfig(), ToolParser: "hermes"})
	if err != nil {
		t.Fatal(err)
	}
	r := newRouter(t, nil, b)
	resp, err := r.Complete(context.Background(), matrixRequest())
	if err != nil {
		t.Fatal(err)
	}
	if resp.Backend != "vllm" || len(resp.Message.ToolCalls) != 4 {
		t.Fatalf("answer %+v, want the model's four calls", resp)
	}
	schemas := map[string]*jsonschema.Schema{}
	for _, tool := range matrixTools {
		doc, err := jsonschema.UnmarshalJSON(strings.NewReader(string(tool.Parameters)))
		if err != nil {
			t.Fatal(err)
		}
		c := jsonschema.NewCompiler()
		if err := c.AddResource("tool:"+tool.Name, doc); err != nil {
			t.Fatal(err)
		}
		if schemas[tool.Name], err = c.Compile("tool:" + tool.Name); err != nil {
			t.Fatal(err)
		}
	}
	// check is the tools package's validation in short.
	check := func(c llmrouter.ToolCall) string {
		s, ok := schemas[c.Name]
		if !ok {
			return "not available"
		}
		args, err := jsonschema.UnmarshalJSON(strings.NewReader(string(c.Arguments)))
		if err != nil {
			return "not valid JSON"
		}
		if err := s.Validate(args); err != nil {
			return "breaks the schema"
		}
		return ""
	}
	want := []string{"", "not available", "breaks the schema", "not valid JSON"}
	for i, c := range resp.Message.ToolCalls {
		if got := check(c); got != want[i] {
			t.Errorf("call %d %s %s: %q, want %q", i, c.Name, c.Arguments, got, want[i])
		}
	}
}
