package llmrouter_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"sync/atomic"
	"testing"
	"time"

	"github.com/frontdesk-ai/frontdesk/llmrouter"
	"github.com/frontdesk-ai/frontdesk/llmrouter/llmtest"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden.json from the encoder's output")

func newOpenAI(t *testing.T, cfg llmrouter.OpenAIConfig) *llmrouter.OpenAI {
	t.Helper()
	b, err := llmrouter.NewOpenAI(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func float(f float64) *float64 { return &f }

// transcript is a turn after a tool round trip: the model called two tools,
// got their results, answered, and the customer wrote again.
func transcript() llmrouter.Request {
	return llmrouter.Request{
		TenantID: "t1", ConversationID: "c1",
		Messages: []llmrouter.Message{
			{Role: llmrouter.RoleSystem, Content: "You are the support agent of Acme."},
			{Role: llmrouter.RoleUser, Content: "Where is my order #1001?", Name: "maria"},
			{Role: llmrouter.RoleAssistant, ToolCalls: []llmrouter.ToolCall{
				{ID: "call_1", Name: "get_customer_profile", Arguments: json.RawMessage(`{}`)},
				{ID: "call_2", Name: "get_order", Arguments: json.RawMessage(`{"order_number":"#1001"}`)},
			}},
			{Role: llmrouter.RoleTool, ToolCallID: "call_1", Name: "get_customer_profile", Content: `{"name":"Maria"}`},
			{Role: llmrouter.RoleTool, ToolCallID: "call_2", Name: "get_order", Content: `{"status":"shipped"}`},
			{Role: llmrouter.RoleAssistant, Content: "It shipped yesterday, Maria."},
			{Role: llmrouter.RoleUser, Content: "Great, and can I change the address?"},
		},
		Tools: []llmrouter.Tool{
			{Name: "get_customer_profile", Description: "The customer's profile."},
			{Name: "get_order", Description: "One order by number.", Parameters: json.RawMessage(
				`{"type":"object","properties":{"order_number":{"type":"string"}},"required":["order_number"]}`)},
		},
		ToolChoice:  "get_order",
		Temperature: float(0.2),
		MaxTokens:   512,
	}
}

// TestOpenAIRequestBody checks the body the server receives against
// testdata/request_transcript.golden.json, and the headers.
func TestOpenAIRequestBody(t *testing.T) {
	srv := llmtest.NewServer(t, llmtest.Text("ok"))
	cfg := srv.OpenAIConfig()
	cfg.APIKey = "sk-test"
	if _, err := newOpenAI(t, cfg).Complete(context.Background(), transcript()); err != nil {
		t.Fatalf("Complete: %v", err)
	}
	reqs := srv.Requests()
	if len(reqs) != 1 {
		t.Fatalf("server got %d requests, want 1", len(reqs))
	}
	got := reqs[0]
	if got.Path != llmtest.CompletionsPath || got.Method != http.MethodPost {
		t.Errorf("request %s %s, want POST %s", got.Method, got.Path, llmtest.CompletionsPath)
	}
	if a := got.Header.Get("Authorization"); a != "Bearer sk-test" {
		t.Errorf("Authorization %q, want Bearer sk-test", a)
	}
	if ct := got.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
	var indented bytes.Buffer
	if err := json.Indent(&indented, got.Raw, "", "  "); err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "request_transcript.golden.json")
	if *update {
		if err := os.WriteFile(golden, append(indented.Bytes(), '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("read golden (run go test -update): %v", err)
	}
	var wantJSON any
	if err := json.Unmarshal(want, &wantJSON); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got.JSON, wantJSON) {
		t.Errorf("request body differs from %s:\n%s", golden, indented.String())
	}

	// The wire facts the golden file encodes, stated on their own.
	m := got.Body.Messages
	if m[2].Content != nil && string(m[2].Content) != "null" {
		t.Errorf("assistant tool-call message content %s, want null", m[2].Content)
	}
	if c := m[2].ToolCalls[1]; c.Type != "function" || c.Function.Arguments != `{"order_number":"#1001"}` {
		t.Errorf("tool call %+v: want type function and arguments as a JSON string", c)
	}
	if m[3].ToolCallID != "call_1" || m[3].Text() != `{"name":"Maria"}` || m[3].Name != "" {
		t.Errorf("tool message %+v: want tool_call_id call_1, the result as content, no name", m[3])
	}
	if _, ok := got.JSON["messages"].([]any)[2].(map[string]any)["content"]; !ok {
		t.Error("assistant tool-call message has no content key; want an explicit null")
	}
	if p := got.Body.Tools[0].Function.Parameters; string(p) != `{"type":"object","properties":{}}` {
		t.Errorf("parameters of a tool without any = %s, want an empty object schema", p)
	}
}

func TestOpenAIToolChoice(t *testing.T) {
	tools := []llmrouter.Tool{{Name: "get_order"}}
	tests := []struct {
		name   string
		tools  []llmrouter.Tool
		choice string
		want   string // raw JSON of tool_choice; "" for absent
	}{
		{"default is auto", tools, "", `"auto"`},
		{"auto", tools, "auto", `"auto"`},
		{"none", tools, "none", `"none"`},
		{"required", tools, "required", `"required"`},
		{"named", tools, "get_order", `{"type":"function","function":{"name":"get_order"}}`},
		{"no tools, no choice", nil, "", ``},
		{"no tools, none", nil, "none", ``},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := llmtest.NewServer(t, llmtest.Text("ok"))
			req := llmrouter.Request{Messages: []llmrouter.Message{{Role: "user", Content: "hi"}}, Tools: tt.tools, ToolChoice: tt.choice}
			if _, err := newOpenAI(t, srv.OpenAIConfig()).Complete(context.Background(), req); err != nil {
				t.Fatalf("Complete: %v", err)
			}
			got := srv.Requests()[0]
			if _, present := got.JSON["tool_choice"]; present != (tt.want != "") {
				t.Fatalf("tool_choice present=%v, want %v (body %s)", present, tt.want != "", got.Raw)
			}
			if tt.want != "" && !jsonEqual(t, got.Body.ToolChoice, []byte(tt.want)) {
				t.Errorf("tool_choice %s, want %s", got.Body.ToolChoice, tt.want)
			}
			if _, present := got.JSON["tools"]; present != (len(tt.tools) > 0) {
				t.Errorf("tools present=%v with %d tools", present, len(tt.tools))
			}
		})
	}
}

func TestOpenAIInvalidRequestIsNotSent(t *testing.T) {
	tests := []struct {
		name string
		req  llmrouter.Request
	}{
		{"no messages", llmrouter.Request{}},
		{"unknown role", llmrouter.Request{Messages: []llmrouter.Message{{Role: "bot"}}}},
		{"tool result without call id", llmrouter.Request{Messages: []llmrouter.Message{{Role: "tool", Content: "x"}}}},
		{"choice names no tool", llmrouter.Request{Messages: []llmrouter.Message{{Role: "user"}}, ToolChoice: "get_order"}},
		{"required without tools", llmrouter.Request{Messages: []llmrouter.Message{{Role: "user"}}, ToolChoice: "required"}},
		{"parameters not JSON", llmrouter.Request{Messages: []llmrouter.Message{{Role: "user"}}, Tools: []llmrouter.Tool{{Name: "x", Parameters: json.RawMessage(`{`)}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := llmtest.NewServer(t)
			_, err := newOpenAI(t, srv.OpenAIConfig()).Complete(context.Background(), tt.req)
			if !errors.Is(err, llmrouter.ErrInvalidRequest) {
				t.Errorf("err = %v, want ErrInvalidRequest", err)
			}
			if n := len(srv.Requests()); n != 0 {
				t.Errorf("server got %d requests, want none", n)
			}
		})
	}
}

func TestOpenAIResponseParsing(t *testing.T) {
	tests := []struct {
		file string
		want llmrouter.Response
	}{
		{"openai_text.json", llmrouter.Response{
			Message:      llmrouter.Message{Role: "assistant", Content: "Your order #1001 shipped yesterday."},
			FinishReason: "stop", Model: "gpt-4o-2024-08-06",
			Usage: llmrouter.Usage{PromptTokens: 1117, CompletionTokens: 46, TotalTokens: 1163},
		}},
		{"openai_parallel_tool_calls.json", llmrouter.Response{
			Message: llmrouter.Message{Role: "assistant", ToolCalls: []llmrouter.ToolCall{
				{ID: "call_abc123", Name: "get_customer_profile", Arguments: json.RawMessage(`{}`)},
				{ID: "call_def456", Name: "get_order", Arguments: json.RawMessage(`{"order_number":"#1001"}`)},
			}},
			FinishReason: "tool_calls", Model: "gpt-4o-mini",
			Usage: llmrouter.Usage{PromptTokens: 82, CompletionTokens: 17, TotalTokens: 99},
		}},
		{"object_arguments.json", llmrouter.Response{
			Message: llmrouter.Message{Role: "assistant", ToolCalls: []llmrouter.ToolCall{
				{ID: "call_x1", Name: "create_ticket", Arguments: json.RawMessage(`{"subject": "Refund", "priority": "high"}`)},
			}},
			FinishReason: "tool_calls", Model: "qwen2.5:7b",
		}},
		{"vllm_content_and_tool_call.json", llmrouter.Response{
			Message: llmrouter.Message{Role: "assistant", Content: "Let me look that up.", ToolCalls: []llmrouter.ToolCall{
				{ID: "chatcmpl-tool-5c0e", Name: "get_order", Arguments: json.RawMessage(`{"order_number": "1001"}`)},
			}},
			FinishReason: "tool_calls", Model: "Qwen/Qwen2.5-7B-Instruct",
			Usage: llmrouter.Usage{PromptTokens: 310, CompletionTokens: 28, TotalTokens: 338},
		}},
		{"invalid_arguments.json", llmrouter.Response{
			Message: llmrouter.Message{Role: "assistant", ToolCalls: []llmrouter.ToolCall{
				{ID: "call_0", Name: "get_order", Arguments: json.RawMessage(`{"order_number": `)},
				{ID: "call_1", Name: "get_customer_profile", Arguments: json.RawMessage(``)},
			}},
			FinishReason: "tool_calls", Model: "llama-3.1-8b",
			Usage: llmrouter.Usage{PromptTokens: 12, CompletionTokens: 9, TotalTokens: 21},
		}},
		{"content_parts.json", llmrouter.Response{
			Message:      llmrouter.Message{Role: "assistant", Content: "Hello, how can I help?"},
			FinishReason: "length", Model: "some-proxy-model",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			body, err := os.ReadFile(filepath.Join("testdata", "responses", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			srv := llmtest.NewServer(t, llmtest.Step{Body: string(body)})
			got, err := newOpenAI(t, srv.OpenAIConfig()).Complete(context.Background(), llmrouter.Request{
				Messages: []llmrouter.Message{{Role: "user", Content: "hi"}},
			})
			if err != nil {
				t.Fatalf("Complete: %v", err)
			}
			if got.Backend != "openai" || got.Offline || got.Latency <= 0 {
				t.Errorf("Backend %q Offline %v Latency %v, want openai, false, > 0", got.Backend, got.Offline, got.Latency)
			}
			got.Backend, got.Latency = "", 0
			for i := range got.Message.ToolCalls { // compare arguments as text: nil and empty are the same
				if len(got.Message.ToolCalls[i].Arguments) == 0 {
					got.Message.ToolCalls[i].Arguments = json.RawMessage{}
				}
			}
			for i := range tt.want.Message.ToolCalls {
				if len(tt.want.Message.ToolCalls[i].Arguments) == 0 {
					tt.want.Message.ToolCalls[i].Arguments = json.RawMessage{}
				}
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("response\n got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

// TestOpenAIRetries counts the requests the server receives for each
// failure script.
func TestOpenAIRetries(t *testing.T) {
	type outcome int
	const (
		answered outcome = iota
		unavailable
		apiError
	)
	tests := []struct {
		name     string
		steps    []llmtest.Step
		want     outcome
		status   int // of the *APIError, when one is expected
		requests int
	}{
		{"500 then 500 then ok", []llmtest.Step{llmtest.Error(500, "boom"), llmtest.Error(502, "bad gateway"), llmtest.Text("ok")}, answered, 0, 3},
		{"429 then ok", []llmtest.Step{llmtest.RateLimited("0"), llmtest.Text("ok")}, answered, 0, 2},
		{"408 then ok", []llmtest.Step{llmtest.Error(408, "timeout"), llmtest.Text("ok")}, answered, 0, 2},
		{"malformed then ok", []llmtest.Step{{Body: `{"choices":[]}`}, llmtest.Text("ok")}, answered, 0, 2},
		{"error object with 200 then ok", []llmtest.Step{{Body: `{"error":{"message":"upstream died"}}`}, llmtest.Text("ok")}, answered, 0, 2},
		{"503 three times", []llmtest.Step{llmtest.Error(503, "overloaded"), llmtest.Error(503, "overloaded"), llmtest.Error(503, "overloaded")}, unavailable, 503, 3},
		{"400 is not retried", []llmtest.Step{llmtest.Error(400, "This model's maximum context length is 8192 tokens.")}, apiError, 400, 1},
		{"422 is not retried", []llmtest.Step{llmtest.Error(422, "unprocessable")}, apiError, 422, 1},
		{"401 is a misconfigured backend", []llmtest.Step{{Status: 401, ErrorCode: "invalid_api_key", ErrorMessage: "Incorrect API key provided."}}, unavailable, 401, 1},
		{"404 is a misconfigured backend", []llmtest.Step{{Status: 404, ErrorCode: "model_not_found", ErrorMessage: "The model does not exist."}}, unavailable, 404, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := llmtest.NewServer(t, tt.steps...)
			resp, err := newOpenAI(t, srv.OpenAIConfig()).Complete(context.Background(), llmrouter.Request{
				Messages: []llmrouter.Message{{Role: "user", Content: "hi"}},
			})
			if n := len(srv.Requests()); n != tt.requests {
				t.Errorf("server got %d requests, want %d", n, tt.requests)
			}
			var ae *llmrouter.APIError
			switch tt.want {
			case answered:
				if err != nil || resp.Message.Content != "ok" {
					t.Fatalf("Complete = %q, %v; want ok", resp.Message.Content, err)
				}
			case unavailable:
				if !errors.Is(err, llmrouter.ErrBackendUnavailable) {
					t.Fatalf("err = %v, want ErrBackendUnavailable", err)
				}
			case apiError:
				if errors.Is(err, llmrouter.ErrBackendUnavailable) {
					t.Fatalf("err = %v wraps ErrBackendUnavailable; a request the server refused must not fall back", err)
				}
			}
			if tt.status != 0 {
				if !errors.As(err, &ae) || ae.StatusCode != tt.status {
					t.Fatalf("err = %v, want an *APIError with status %d", err, tt.status)
				}
				if want := tt.steps[len(tt.steps)-1].ErrorMessage; ae.Message != want {
					t.Errorf("APIError.Message %q, want the server's %q", ae.Message, want)
				}
			}
		})
	}
}

func TestOpenAIRetriesNetworkErrors(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL + "/v1"
	srv.Close() // connections are refused from now on
	_, err := newOpenAI(t, llmrouter.OpenAIConfig{BaseURL: url, BackoffBase: time.Millisecond}).Complete(
		context.Background(), llmrouter.Request{Messages: []llmrouter.Message{{Role: "user", Content: "hi"}}})
	if !errors.Is(err, llmrouter.ErrBackendUnavailable) {
		t.Fatalf("err = %v, want ErrBackendUnavailable", err)
	}
}

// hanging returns a server that holds the first n requests until the client
// gives up, then answers text, and counts the requests it got.
func hanging(t *testing.T, n int) (*httptest.Server, func() int) {
	t.Helper()
	var got atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		nth := got.Add(1)
		// Reading the body to EOF lets the server notice the client hang up.
		_, _ = io.Copy(io.Discard, r.Body)
		if nth <= int64(n) {
			select {
			case <-r.Context().Done():
			case <-time.After(10 * time.Second):
			}
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"choices":[{"message":{"role":"assistant","content":"late"},"finish_reason":"stop"}]}`))
	}))
	t.Cleanup(srv.Close)
	return srv, func() int { return int(got.Load()) }
}

func TestOpenAIAttemptTimeoutIsRetried(t *testing.T) {
	srv, count := hanging(t, 1)
	b := newOpenAI(t, llmrouter.OpenAIConfig{BaseURL: srv.URL + "/v1", Timeout: 300 * time.Millisecond, BackoffBase: time.Millisecond})
	resp, err := b.Complete(context.Background(), llmrouter.Request{Messages: []llmrouter.Message{{Role: "user", Content: "hi"}}})
	if err != nil || resp.Message.Content != "late" {
		t.Fatalf("Complete = %q, %v; want the second attempt's answer", resp.Message.Content, err)
	}
	if n := count(); n != 2 {
		t.Errorf("server got %d requests, want 2", n)
	}
}

func TestOpenAICallerCancellation(t *testing.T) {
	srv, count := hanging(t, 10)
	b := newOpenAI(t, llmrouter.OpenAIConfig{BaseURL: srv.URL + "/v1", BackoffBase: time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		for count() == 0 {
			time.Sleep(time.Millisecond)
		}
		cancel()
	}()
	_, err := b.Complete(ctx, llmrouter.Request{Messages: []llmrouter.Message{{Role: "user", Content: "hi"}}})
	if !errors.Is(err, context.Canceled) || errors.Is(err, llmrouter.ErrBackendUnavailable) {
		t.Fatalf("err = %v, want context.Canceled and not ErrBackendUnavailable", err)
	}
	if n := count(); n != 1 {
		t.Errorf("server got %d requests, want 1 (no retry after the caller gave up)", n)
	}
}

func TestOpenAIGivesUpBeforeTheCallersDeadline(t *testing.T) {
	srv := llmtest.NewServer(t, llmtest.RateLimited("20"), llmtest.Text("too late"))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	start := time.Now()
	_, err := newOpenAI(t, srv.OpenAIConfig()).Complete(ctx, llmrouter.Request{Messages: []llmrouter.Message{{Role: "user", Content: "hi"}}})
	if !errors.Is(err, llmrouter.ErrBackendUnavailable) {
		t.Fatalf("err = %v, want ErrBackendUnavailable", err)
	}
	if n := len(srv.Requests()); n != 1 {
		t.Errorf("server got %d requests, want 1: a Retry-After past the deadline is not waited out", n)
	}
	if time.Since(start) > 4*time.Second {
		t.Errorf("Complete waited %v; it should give up at once", time.Since(start))
	}
}

func jsonEqual(t *testing.T, a, b []byte) bool {
	t.Helper()
	var x, y any
	if err := json.Unmarshal(a, &x); err != nil {
		t.Fatalf("decode %s: %v", a, err)
	}
	if err := json.Unmarshal(b, &y); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
	return reflect.DeepEqual(x, y)
}
