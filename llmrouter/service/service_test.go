package service_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/frontdesk-ai/frontdesk/llmrouter"
	"github.com/frontdesk-ai/frontdesk/llmrouter/llmtest"
	"github.com/frontdesk-ai/frontdesk/llmrouter/service"
	"github.com/frontdesk-ai/frontdesk/persistence"
	"github.com/frontdesk-ai/frontdesk/persistence/sqlstore"
	"github.com/frontdesk-ai/frontdesk/persistence/sqlstore/sqlstoretest"
)

// The real router, store and client satisfy the interfaces the service owns.
var (
	_ service.Streamer      = (*llmrouter.Router)(nil)
	_ service.Embedder      = (*llmrouter.OpenAI)(nil)
	_ service.CallStore     = (*sqlstore.Store)(nil)
	_ service.AgentProfiles = (*sqlstore.Store)(nil)
	_ service.Completer     = (*service.Client)(nil)
)

const tenant = "tenant-1"

// fixture is a Service over a real Router (one OpenAI backend on the
// llmtest fake, then Offline) wrapped in an Accountant on a real store.
type fixture struct {
	t      *testing.T
	llm    *llmtest.Server
	store  *sqlstore.Store
	router *llmrouter.Router
	acct   *service.Accountant
	svc    *service.Service
	srv    *httptest.Server
	agent  persistence.AgentProfile
}

type fixtureOpts struct {
	dialect  string
	cfg      service.Config
	embedder service.Embedder
}

func newFixture(t *testing.T, o fixtureOpts) *fixture {
	t.Helper()
	if o.dialect == "" {
		o.dialect = "sqlite"
	}
	f := &fixture{t: t, llm: llmtest.NewServer(t), store: sqlstoretest.Open(t, o.dialect)}
	b, err := llmrouter.NewOpenAI(f.llm.OpenAIConfig())
	if err != nil {
		t.Fatal(err)
	}
	log := zerolog.New(io.Discard)
	if f.router, err = llmrouter.New(llmrouter.Config{Backends: []llmrouter.Backend{b}}, log, nil); err != nil {
		t.Fatal(err)
	}
	f.agent = persistence.AgentProfile{Base: persistence.Base{TenantID: tenant}, Name: "Support", LiveVersion: 3}
	if err := f.store.CreateAgentProfile(context.Background(), &f.agent); err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	f.acct = newAccountant(t, service.AccountantConfig{Agents: f.store}, f.router, f.store, reg)
	if o.cfg.DefaultTenantID == "" {
		o.cfg.DefaultTenantID = tenant
	}
	if o.cfg.Models == nil {
		o.cfg.Models = []string{llmtest.Model}
	}
	if f.svc, err = service.New(o.cfg, f.acct, o.embedder, log, reg, reg); err != nil {
		t.Fatal(err)
	}
	f.srv = httptest.NewServer(f.svc)
	t.Cleanup(f.srv.Close)
	return f
}

// do sends body (JSON unless a string) to path with the headers (name,
// value pairs) and returns the answer.
func (f *fixture) do(method, path string, body any, headers ...string) (*http.Response, []byte) {
	f.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			f.t.Fatal(err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, f.srv.URL+path, rd)
	if err != nil {
		f.t.Fatal(err)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := f.srv.Client().Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp, raw
}

// calls returns the tenant's recorded LLM calls, oldest first, once the
// accountant has written every call made so far.
func (f *fixture) calls(tenantID string) []persistence.LLMCall {
	f.t.Helper()
	return recorded(f.t, f.acct, f.store, tenantID)
}

// recorded flushes acct and returns the tenant's LLM calls in store.
func recorded(t *testing.T, acct *service.Accountant, store *sqlstore.Store, tenantID string) []persistence.LLMCall {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := acct.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	cs, _, err := store.ListLLMCalls(ctx, tenantID, persistence.Page{Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

// newAccountant returns an Accountant registered with reg (none when nil),
// closed when the test ends.
func newAccountant(t *testing.T, cfg service.AccountantConfig, next service.Completer, store service.CallStore, reg prometheus.Registerer) *service.Accountant {
	t.Helper()
	acct, err := service.NewAccountant(cfg, next, store, zerolog.New(io.Discard), reg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := acct.Close(ctx); err != nil {
			t.Error(err)
		}
	})
	return acct
}

// openAIError decodes an OpenAI error body, failing when it is not one.
func openAIError(t *testing.T, body []byte) (typ, code, message string) {
	t.Helper()
	var e struct {
		Error struct {
			Message string  `json:"message"`
			Type    string  `json:"type"`
			Param   *string `json:"param"`
			Code    *string `json:"code"`
		} `json:"error"`
	}
	if err := json.Unmarshal(body, &e); err != nil || e.Error.Message == "" || e.Error.Type == "" {
		t.Fatalf("not an OpenAI error body: %s (%v)", body, err)
	}
	if e.Error.Code != nil {
		code = *e.Error.Code
	}
	return e.Error.Type, code, e.Error.Message
}

func inferBody(extra map[string]any) map[string]any {
	b := map[string]any{
		"tenant_id": tenant, "conversation_id": "conv-1",
		"messages": []map[string]any{{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Where is my order?"}},
		"allowed_tools": []map[string]any{{"name": "get_order", "description": "Look up an order",
			"parameters": map[string]any{"type": "object", "properties": map[string]any{"id": map[string]any{"type": "string"}}}}},
	}
	for k, v := range extra {
		b[k] = v
	}
	return b
}

type inferAnswer struct {
	Message struct {
		Role      string `json:"role"`
		Content   string `json:"content"`
		ToolCalls []struct {
			ID, Name  string
			Arguments string `json:"arguments"`
		} `json:"tool_calls"`
	} `json:"message"`
	FinishReason string `json:"finish_reason"`
	Usage        struct {
		PromptTokens     int `json:"prompt_tokens"`
		CompletionTokens int `json:"completion_tokens"`
		TotalTokens      int `json:"total_tokens"`
	} `json:"usage"`
	Backend   string `json:"backend"`
	Model     string `json:"model"`
	Route     string `json:"route"`
	LatencyMS *int64 `json:"latency_ms"`
	Offline   bool   `json:"offline"`
}

func TestInfer(t *testing.T) {
	for _, d := range sqlstoretest.Dialects {
		t.Run(d, func(t *testing.T) {
			f := newFixture(t, fixtureOpts{dialect: d})
			f.llm.Script(llmtest.Text("It ships today.").WithUsage(12, 4))
			resp, body := f.do("POST", "/llm/infer", inferBody(map[string]any{"agent_profile_id": f.agent.ID, "channel": "whatsapp", "language": "es"}))
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("infer = %d %s", resp.StatusCode, body)
			}
			var a inferAnswer
			if err := json.Unmarshal(body, &a); err != nil {
				t.Fatal(err)
			}
			if a.Message.Role != "assistant" || a.Message.Content != "It ships today." || a.FinishReason != "stop" ||
				a.Usage.PromptTokens != 12 || a.Usage.CompletionTokens != 4 || a.Usage.TotalTokens != 16 ||
				a.Backend != "openai" || a.Model != llmtest.Model || a.Route != llmrouter.DefaultRoute || a.LatencyMS == nil || a.Offline {
				t.Fatalf("answer = %s", body)
			}
			reqs := f.llm.Requests()
			if len(reqs) != 1 {
				t.Fatalf("fake received %d requests", len(reqs))
			}
			got := reqs[0].Body
			if len(got.Messages) != 2 || got.Messages[1].Text() != "Where is my order?" || strings.Join(got.ToolNames(), ",") != "get_order" {
				t.Fatalf("fake received %s", reqs[0].Raw)
			}
			calls := f.calls(tenant)
			if len(calls) != 1 {
				t.Fatalf("%d llm_calls rows", len(calls))
			}
			c := calls[0]
			if c.Outcome != persistence.LLMOutcomeOK || c.AgentProfileID != f.agent.ID || c.AgentVersion != 3 || c.ConversationID != "conv-1" ||
				c.Backend != "openai" || c.Model != llmtest.Model || c.Route != llmrouter.DefaultRoute || c.PromptTokens != 12 || c.CompletionTokens != 4 {
				t.Fatalf("recorded %+v", c)
			}
		})
	}
}

func TestInferCases(t *testing.T) {
	f := newFixture(t, fixtureOpts{cfg: service.Config{MaxBodyBytes: 4 << 10}})
	for _, tc := range []struct {
		name    string
		step    *llmtest.Step
		down    bool
		body    any
		status  int
		code    string
		outcome string // of the recorded call; "" when none is recorded
		check   func(t *testing.T, a inferAnswer, fake []llmtest.Request)
	}{
		{name: "tool call", step: ptr(llmtest.ToolCalls(llmtest.Call{ID: "call_1", Name: "get_order", Arguments: `{"id":"42"}`})),
			body: inferBody(map[string]any{"tool_choice": "get_order"}), status: 200, outcome: persistence.LLMOutcomeOK,
			check: func(t *testing.T, a inferAnswer, fake []llmtest.Request) {
				if len(a.Message.ToolCalls) != 1 || a.Message.ToolCalls[0].Arguments != `{"id":"42"}` || a.FinishReason != "tool_calls" {
					t.Fatalf("answer %+v", a)
				}
				if !strings.Contains(string(fake[0].Body.ToolChoice), `"get_order"`) {
					t.Fatalf("tool_choice sent %s", fake[0].Body.ToolChoice)
				}
			}},
		{name: "tool result turn", step: ptr(llmtest.Text("Order 42 ships today.")),
			body: inferBody(map[string]any{"messages": []map[string]any{
				{"role": "user", "content": "Where is 42?"},
				{"role": "assistant", "content": "", "tool_calls": []map[string]any{{"id": "call_1", "name": "get_order", "arguments": `{"id":"42"}`}}},
				{"role": "tool", "tool_call_id": "call_1", "name": "get_order", "content": `{"status":"shipped"}`}}}),
			status: 200, outcome: persistence.LLMOutcomeOK,
			check: func(t *testing.T, a inferAnswer, fake []llmtest.Request) {
				m := fake[0].Body.Messages
				if len(m) != 3 || len(m[1].ToolCalls) != 1 || m[1].ToolCalls[0].Function.Arguments != `{"id":"42"}` || m[2].ToolCallID != "call_1" {
					t.Fatalf("fake received %s", fake[0].Raw)
				}
			}},
		{name: "response format", step: ptr(llmtest.Text(`{"ok":true}`)),
			body: inferBody(map[string]any{"response_format": map[string]any{"type": "json_schema",
				"json_schema": map[string]any{"name": "answer", "schema": map[string]any{"type": "object"}}}}),
			status: 200, outcome: persistence.LLMOutcomeOK,
			check: func(t *testing.T, a inferAnswer, fake []llmtest.Request) {
				if !strings.Contains(string(fake[0].Body.ResponseFormat), `"json_schema"`) {
					t.Fatalf("response_format sent %s", fake[0].Body.ResponseFormat)
				}
			}},
		{name: "model refuses", step: ptr(llmtest.Error(http.StatusBadRequest, "context too long")), body: inferBody(nil),
			status: 400, code: "backend_refused", outcome: persistence.LLMOutcomeError},
		{name: "model down: offline answers", down: true, body: inferBody(nil), status: 200, outcome: persistence.LLMOutcomeOffline,
			check: func(t *testing.T, a inferAnswer, _ []llmtest.Request) {
				if !a.Offline || a.Backend != llmrouter.OfflineName || a.Message.Content == "" && len(a.Message.ToolCalls) == 0 {
					t.Fatalf("answer %+v", a)
				}
			}},
		{name: "no tenant", body: inferBody(map[string]any{"tenant_id": ""}), status: 400},
		{name: "unknown role", body: inferBody(map[string]any{"messages": []map[string]any{{"role": "wizard", "content": "x"}}}), status: 400},
		{name: "no messages", body: inferBody(map[string]any{"messages": []any{}}), status: 400},
		{name: "tool choice names no tool", body: inferBody(map[string]any{"tool_choice": "refund"}), status: 400},
		{name: "bad response format", body: inferBody(map[string]any{"response_format": map[string]any{"type": "yaml"}}), status: 400},
		{name: "malformed JSON", body: `{"tenant_id":`, status: 400},
		{name: "two JSON values", body: `{} {}`, status: 400},
		{name: "too large", body: inferBody(map[string]any{"messages": []map[string]any{{"role": "user", "content": strings.Repeat("x", 5<<10)}}}),
			status: 413, code: "request_too_large"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before, seen := len(f.calls(tenant)), len(f.llm.Requests())
			if tc.step != nil {
				f.llm.Script(*tc.step)
			}
			if tc.down {
				f.llm.Down()
				defer f.llm.Up()
			}
			resp, body := f.do("POST", "/llm/infer", tc.body)
			if resp.StatusCode != tc.status {
				t.Fatalf("status = %d %s, want %d", resp.StatusCode, body, tc.status)
			}
			if tc.status != 200 {
				if _, code, _ := openAIError(t, body); code != tc.code {
					t.Fatalf("code = %q, want %q", code, tc.code)
				}
			}
			calls := f.calls(tenant)[before:]
			switch {
			case tc.outcome == "" && len(calls) != 0:
				t.Fatalf("recorded %+v for a refused request", calls)
			case tc.outcome != "" && (len(calls) != 1 || calls[0].Outcome != tc.outcome):
				t.Fatalf("recorded %+v, want one %s", calls, tc.outcome)
			case tc.outcome == persistence.LLMOutcomeError && !strings.Contains(calls[0].Error, "context too long"):
				t.Fatalf("recorded error %q", calls[0].Error)
			}
			fake := f.llm.Requests()[seen:]
			if tc.step == nil && !tc.down && len(fake) != 0 {
				t.Fatalf("a refused request reached the model: %s", fake[0].Raw)
			}
			if tc.check != nil {
				var a inferAnswer
				if err := json.Unmarshal(body, &a); err != nil {
					t.Fatal(err)
				}
				tc.check(t, a, fake)
			}
		})
	}
	if n := f.llm.Pending(); n != 0 {
		t.Fatalf("%d scripted steps unused", n)
	}
}

func ptr[T any](v T) *T { return &v }

// event is one server-sent event.
type event struct {
	name string
	data string
}

func readSSE(t *testing.T, body []byte) []event {
	t.Helper()
	var out []event
	var cur event
	sc := bufio.NewScanner(bytes.NewReader(body))
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			if cur.data != "" {
				out = append(out, cur)
			}
			cur = event{}
		case strings.HasPrefix(line, "event: "):
			cur.name = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			cur.data = strings.TrimPrefix(line, "data: ")
		}
	}
	return out
}

func TestInferStream(t *testing.T) {
	f := newFixture(t, fixtureOpts{})
	f.llm.Script(llmtest.Text("It ships today, on the early truck.").WithUsage(9, 8))
	resp, body := f.do("POST", "/llm/infer", inferBody(map[string]any{"stream": true}), "Accept", "text/event-stream")
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		t.Fatalf("stream = %d %s %s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	evs := readSSE(t, body)
	if len(evs) < 3 || evs[len(evs)-1].name != "response" {
		t.Fatalf("events %+v", evs)
	}
	var text strings.Builder
	for _, e := range evs[:len(evs)-1] {
		var d struct{ Content string }
		if e.name != "delta" || json.Unmarshal([]byte(e.data), &d) != nil {
			t.Fatalf("event %+v", e)
		}
		text.WriteString(d.Content)
	}
	var a inferAnswer
	if err := json.Unmarshal([]byte(evs[len(evs)-1].data), &a); err != nil {
		t.Fatal(err)
	}
	if text.String() != "It ships today, on the early truck." || a.Message.Content != text.String() || a.Usage.CompletionTokens != 8 {
		t.Fatalf("deltas %q, response %+v", text.String(), a)
	}
	if reqs := f.llm.Requests(); len(reqs) != 1 || !reqs[0].Body.Stream {
		t.Fatalf("the model was not asked to stream: %+v", reqs)
	}
	if calls := f.calls(tenant); len(calls) != 1 || calls[0].Outcome != persistence.LLMOutcomeOK || calls[0].CompletionTokens != 8 {
		t.Fatalf("recorded %+v", calls)
	}
}

// completeOnly hides a Completer's other methods.
type completeOnly struct{ service.Completer }

func TestStreamingUnsupported(t *testing.T) {
	llm := llmtest.NewServer(t)
	b, err := llmrouter.NewOpenAI(llm.OpenAIConfig())
	if err != nil {
		t.Fatal(err)
	}
	router, err := llmrouter.New(llmrouter.Config{Backends: []llmrouter.Backend{b}}, zerolog.Nop(), nil)
	if err != nil {
		t.Fatal(err)
	}
	store := sqlstoretest.Open(t, "sqlite")
	for _, tc := range []struct {
		name string
		c    service.Completer
	}{
		{"plain completer", completeOnly{router}},
		{"accountant around a plain completer", newAccountant(t, service.AccountantConfig{}, completeOnly{router}, store, nil)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			svc, err := service.New(service.Config{}, tc.c, nil, zerolog.Nop(), nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			for _, path := range []string{"/llm/infer", "/v1/chat/completions"} {
				raw, _ := json.Marshal(inferBody(map[string]any{"stream": true}))
				rec := httptest.NewRecorder()
				req := httptest.NewRequest("POST", path, bytes.NewReader(raw))
				req.RemoteAddr = "127.0.0.1:40000" // keyless: loopback only
				svc.ServeHTTP(rec, req)
				if rec.Code != http.StatusBadRequest {
					t.Fatalf("%s = %d %s", path, rec.Code, rec.Body)
				}
				if _, code, msg := openAIError(t, rec.Body.Bytes()); code != "streaming_unsupported" || msg != "streaming not supported by this router" {
					t.Fatalf("%s: code %q message %q", path, code, msg)
				}
			}
			if n := len(llm.Requests()); n != 0 {
				t.Fatalf("the model received %d requests", n)
			}
		})
	}
}

type chatAnswer struct {
	ID      string `json:"id"`
	Object  string `json:"object"`
	Model   string `json:"model"`
	Choices []struct {
		Message struct {
			Role      string  `json:"role"`
			Content   *string `json:"content"`
			ToolCalls []struct {
				ID       string `json:"id"`
				Type     string `json:"type"`
				Function struct{ Name, Arguments string }
			} `json:"tool_calls"`
		} `json:"message"`
		FinishReason string `json:"finish_reason"`
	} `json:"choices"`
	Usage struct {
		TotalTokens int `json:"total_tokens"`
	} `json:"usage"`
}

func chatBody(extra map[string]any) map[string]any {
	b := map[string]any{
		"model": "gpt-4o-mini",
		"messages": []map[string]any{
			{"role": "developer", "content": "Be brief."},
			{"role": "user", "content": []map[string]any{{"type": "text", "text": "Where is"}, {"type": "text", "text": "order 42?"}}},
		},
		"tools": []map[string]any{{"type": "function", "function": map[string]any{"name": "get_order",
			"parameters": map[string]any{"type": "object"}}}},
		"tool_choice": map[string]any{"type": "function", "function": map[string]any{"name": "get_order"}},
		"top_p":       0.9, "max_tokens": 64,
	}
	for k, v := range extra {
		b[k] = v
	}
	return b
}

func TestFacade(t *testing.T) {
	f := newFixture(t, fixtureOpts{})
	f.llm.Script(llmtest.ToolCalls(llmtest.Call{ID: "call_9", Name: "get_order", Arguments: `{"id":"42"}`}).WithUsage(20, 5))
	resp, body := f.do("POST", "/v1/chat/completions", chatBody(nil), service.HeaderTenantID, "tenant-2", service.HeaderConversationID, "conv-7")
	if resp.StatusCode != 200 {
		t.Fatalf("chat = %d %s", resp.StatusCode, body)
	}
	var a chatAnswer
	if err := json.Unmarshal(body, &a); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(a.ID, "chatcmpl-") || a.Object != "chat.completion" || a.Model != "gpt-4o-mini" || len(a.Choices) != 1 {
		t.Fatalf("answer %s", body)
	}
	ch := a.Choices[0]
	if ch.FinishReason != "tool_calls" || ch.Message.Role != "assistant" || ch.Message.Content != nil || len(ch.Message.ToolCalls) != 1 ||
		ch.Message.ToolCalls[0].Type != "function" || ch.Message.ToolCalls[0].Function.Arguments != `{"id":"42"}` ||
		a.Usage.TotalTokens != 25 {
		t.Fatalf("answer %s", body)
	}
	if resp.Header.Get(service.HeaderBackend) != "openai" || resp.Header.Get(service.HeaderModel) != llmtest.Model ||
		resp.Header.Get(service.HeaderOffline) != "false" || resp.Header.Get(service.HeaderRoute) != llmrouter.DefaultRoute {
		t.Fatalf("headers %v", resp.Header)
	}
	got := f.llm.Requests()[0].Body
	if got.Model != llmtest.Model || got.Messages[0].Role != "system" || got.Messages[1].Text() != "Where is\norder 42?" ||
		got.MaxTokens == nil || *got.MaxTokens != 64 || !strings.Contains(string(got.ToolChoice), "get_order") {
		t.Fatalf("fake received %s", f.llm.Requests()[0].Raw)
	}
	if calls := f.calls("tenant-2"); len(calls) != 1 || calls[0].ConversationID != "conv-7" || calls[0].PromptTokens != 20 {
		t.Fatalf("recorded %+v", calls)
	}

	// No tenant header: the default tenant; no model: the backend's.
	f.llm.Script(llmtest.Text("Hello"))
	resp, body = f.do("POST", "/v1/chat/completions", map[string]any{"messages": []map[string]any{{"role": "user", "content": "Hi"}}})
	if err := json.Unmarshal(body, &a); err != nil || resp.StatusCode != 200 || a.Model != llmtest.Model || *a.Choices[0].Message.Content != "Hello" {
		t.Fatalf("chat = %d %s", resp.StatusCode, body)
	}
	if calls := f.calls(tenant); len(calls) != 1 {
		t.Fatalf("default tenant recorded %+v", calls)
	}

	for _, tc := range []struct {
		name  string
		body  any
		param string
	}{
		{"n of 2", chatBody(map[string]any{"n": 2}), "n"},
		{"image part", chatBody(map[string]any{"messages": []map[string]any{{"role": "user", "content": []map[string]any{{"type": "image_url"}}}}}), "messages[0].content"},
		{"tool result without a call id", chatBody(map[string]any{"messages": []map[string]any{{"role": "tool", "content": "x"}}}), ""},
		{"non-function tool", chatBody(map[string]any{"tools": []map[string]any{{"type": "retrieval"}}}), "tools[0].type"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			seen := len(f.llm.Requests())
			resp, body := f.do("POST", "/v1/chat/completions", tc.body)
			if resp.StatusCode != 400 {
				t.Fatalf("= %d %s", resp.StatusCode, body)
			}
			if typ, _, _ := openAIError(t, body); typ != "invalid_request_error" {
				t.Fatalf("type %q", typ)
			}
			var e struct{ Error struct{ Param *string } }
			_ = json.Unmarshal(body, &e)
			if (tc.param == "") != (e.Error.Param == nil) || (e.Error.Param != nil && *e.Error.Param != tc.param) {
				t.Fatalf("param %v, want %q", e.Error.Param, tc.param)
			}
			if len(f.llm.Requests()) != seen {
				t.Fatal("a refused request reached the model")
			}
		})
	}
}

func TestFacadeStream(t *testing.T) {
	f := newFixture(t, fixtureOpts{})
	f.llm.Script(llmtest.ToolCalls(llmtest.Call{ID: "call_1", Name: "get_order", Arguments: `{"id":"42","verbose":true}`}).WithUsage(3, 2))
	resp, body := f.do("POST", "/v1/chat/completions", chatBody(map[string]any{"stream": true, "stream_options": map[string]any{"include_usage": true}}))
	if resp.StatusCode != 200 {
		t.Fatalf("= %d %s", resp.StatusCode, body)
	}
	evs := readSSE(t, body)
	if len(evs) < 4 || evs[len(evs)-1].data != "[DONE]" {
		t.Fatalf("events %+v", evs)
	}
	var args strings.Builder
	var finish string
	var usage int
	for i, e := range evs[:len(evs)-1] {
		var c struct {
			Object  string
			Model   string
			Choices []struct {
				Delta struct {
					Role      string
					ToolCalls []struct {
						Index    int
						ID       string
						Function struct{ Name, Arguments string }
					} `json:"tool_calls"`
				}
				FinishReason *string `json:"finish_reason"`
			}
			Usage *struct {
				TotalTokens int `json:"total_tokens"`
			} `json:"usage"`
		}
		if err := json.Unmarshal([]byte(e.data), &c); err != nil || c.Object != "chat.completion.chunk" || c.Model != "gpt-4o-mini" {
			t.Fatalf("chunk %d %s: %v", i, e.data, err)
		}
		if i == 0 && (len(c.Choices) != 1 || c.Choices[0].Delta.Role != "assistant") {
			t.Fatalf("first chunk %s", e.data)
		}
		for _, ch := range c.Choices {
			for _, tc := range ch.Delta.ToolCalls {
				args.WriteString(tc.Function.Arguments)
			}
			if ch.FinishReason != nil {
				finish = *ch.FinishReason
			}
		}
		if c.Usage != nil {
			usage = c.Usage.TotalTokens
		}
	}
	if args.String() != `{"id":"42","verbose":true}` || finish != "tool_calls" || usage != 5 {
		t.Fatalf("arguments %q, finish %q, usage %d", args.String(), finish, usage)
	}
	if calls := f.calls(tenant); len(calls) != 1 || calls[0].Outcome != persistence.LLMOutcomeOK {
		t.Fatalf("recorded %+v", calls)
	}
}

func TestAuth(t *testing.T) {
	f := newFixture(t, fixtureOpts{cfg: service.Config{APIKey: "s3cret"}})
	for _, tc := range []struct {
		method, path string
		auth         string
		want         int
	}{
		{"POST", "/llm/infer", "", 401},
		{"POST", "/llm/infer", "Bearer wrong", 401},
		{"POST", "/llm/infer", "Basic s3cret", 401},
		{"POST", "/v1/chat/completions", "", 401},
		{"POST", "/v1/embeddings", "", 401},
		{"GET", "/v1/models", "", 401},
		{"GET", "/v1/models", "Bearer s3cret", 200},
		{"POST", "/llm/infer", "Bearer s3cret", 200},
		{"GET", "/healthz", "", 200},
		{"GET", "/readyz", "", 200},
		{"GET", "/metrics", "", 200},
		{"GET", "/openapi.json", "", 200},
		{"GET", "/nope", "Bearer s3cret", 404},
	} {
		t.Run(tc.method+" "+tc.path+" "+tc.auth, func(t *testing.T) {
			var body any
			if tc.want == 200 && tc.path == "/llm/infer" {
				f.llm.Script(llmtest.Text("ok"))
				body = inferBody(nil)
			}
			resp, raw := f.do(tc.method, tc.path, body, "Authorization", tc.auth)
			if resp.StatusCode != tc.want {
				t.Fatalf("= %d %s, want %d", resp.StatusCode, raw, tc.want)
			}
			if tc.want == 401 {
				if typ, code, _ := openAIError(t, raw); typ != "authentication_error" || code != "invalid_api_key" || resp.Header.Get("WWW-Authenticate") == "" {
					t.Fatalf("401 %s %v", raw, resp.Header)
				}
			}
		})
	}
	if n := len(f.llm.Requests()); n != 1 {
		t.Fatalf("the model received %d requests, want the one authorized", n)
	}
}

func TestModelsAndEmbeddings(t *testing.T) {
	f := newFixture(t, fixtureOpts{cfg: service.Config{Models: []string{"qwen", "llama"}}})
	resp, body := f.do("GET", "/v1/models", nil)
	var ml struct {
		Object string
		Data   []struct{ ID, Object, OwnedBy string }
	}
	if err := json.Unmarshal(body, &ml); err != nil || resp.StatusCode != 200 || ml.Object != "list" || len(ml.Data) != 2 ||
		ml.Data[0].ID != "qwen" || ml.Data[1].Object != "model" {
		t.Fatalf("models = %d %s", resp.StatusCode, body)
	}
	resp, body = f.do("POST", "/v1/embeddings", map[string]any{"model": "x", "input": "hi"})
	if _, code, _ := openAIError(t, body); resp.StatusCode != http.StatusNotImplemented || code != "embeddings_unsupported" {
		t.Fatalf("embeddings without an embedder = %d %s", resp.StatusCode, body)
	}

	emb, err := llmrouter.NewOpenAI(f.llm.OpenAIConfig())
	if err != nil {
		t.Fatal(err)
	}
	g := newFixture(t, fixtureOpts{embedder: emb})
	g.llm = f.llm // the embedder talks to f's fake
	resp, body = g.do("POST", "/v1/embeddings", map[string]any{"model": "text-embedding-3-small", "input": []string{"a", "b"}})
	var e struct {
		Object string
		Model  string
		Data   []struct {
			Index     int
			Embedding []float32
		}
	}
	if err := json.Unmarshal(body, &e); err != nil || resp.StatusCode != 200 || len(e.Data) != 2 || e.Model != "text-embedding-3-small" {
		t.Fatalf("embeddings = %d %s", resp.StatusCode, body)
	}
	for i, text := range []string{"a", "b"} {
		if want := llmtest.Vector(text); e.Data[i].Index != i || !equalVec(e.Data[i].Embedding, want) {
			t.Fatalf("vector %d = %v, want %v", i, e.Data[i].Embedding, want)
		}
	}
	resp, body = g.do("POST", "/v1/embeddings", map[string]any{"input": "a", "encoding_format": "base64"})
	var e64 struct{ Data []struct{ Embedding string } }
	if err := json.Unmarshal(body, &e64); err != nil || resp.StatusCode != 200 || len(e64.Data) != 1 {
		t.Fatalf("base64 embeddings = %d %s", resp.StatusCode, body)
	}
	raw, _ := base64.StdEncoding.DecodeString(e64.Data[0].Embedding)
	vec := make([]float32, len(raw)/4)
	for i := range vec {
		vec[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
	}
	if !equalVec(vec, llmtest.Vector("a")) {
		t.Fatalf("base64 vector %v", vec)
	}
	if resp, body := g.do("POST", "/v1/embeddings", map[string]any{"input": []string{}}); resp.StatusCode != 400 {
		t.Fatalf("empty input = %d %s", resp.StatusCode, body)
	}
}

func equalVec(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestMetrics(t *testing.T) {
	f := newFixture(t, fixtureOpts{})
	f.llm.Script(llmtest.Text("ok"))
	f.do("POST", "/llm/infer", inferBody(nil))
	f.do("POST", "/llm/infer", `{`)
	_, body := f.do("GET", "/metrics", nil)
	for _, want := range []string{
		`frontdesk_llmrouter_requests_total{code="200",endpoint="infer"} 1`,
		`frontdesk_llmrouter_requests_total{code="400",endpoint="infer"} 1`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("metrics lack %s:\n%s", want, body)
		}
	}
}

func TestReadyz(t *testing.T) {
	down := true
	svc, err := service.New(service.Config{Ready: func(context.Context) error {
		if down {
			return io.ErrUnexpectedEOF
		}
		return nil
	}}, completeOnly{}, nil, zerolog.Nop(), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []int{503, 200} {
		rec := httptest.NewRecorder()
		svc.ServeHTTP(rec, httptest.NewRequest("GET", "/readyz", nil))
		if rec.Code != want {
			t.Fatalf("readyz = %d, want %d", rec.Code, want)
		}
		down = false
	}
}

// TestAccountantRecordsFailures: a caller that gives up is still recorded,
// and a store that cannot record does not fail the call: the record is
// dropped and counted.
func TestAccountantRecordsFailures(t *testing.T) {
	f := newFixture(t, fixtureOpts{})
	acct := newAccountant(t, service.AccountantConfig{}, f.router, f.store, nil)
	f.llm.Script(llmtest.Func(func(llmtest.Request) llmtest.Step {
		time.Sleep(200 * time.Millisecond)
		return llmtest.Text("late")
	}))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	req := llmrouter.Request{TenantID: "tenant-9", Messages: []llmrouter.Message{{Role: "user", Content: "hi"}}}
	if _, err := acct.Complete(ctx, req); err == nil {
		t.Fatal("a call past its deadline succeeded")
	}
	if calls := recorded(t, acct, f.store, "tenant-9"); len(calls) != 1 || calls[0].Outcome != persistence.LLMOutcomeError || calls[0].Error == "" {
		t.Fatalf("recorded %+v", calls)
	}

	closed := sqlstoretest.Open(t, "sqlite")
	closed.Close()
	reg := prometheus.NewRegistry()
	// (Not the fake model: under load the late step above may still wait
	// for a request that gave up before it reached the fake.)
	acct = newAccountant(t, service.AccountantConfig{Retries: 1, RetryBackoff: time.Millisecond}, keylessCompleter{}, closed, reg)
	resp, err := acct.Complete(context.Background(), req)
	if err != nil || resp.Message.Content != "hello" {
		t.Fatalf("with a broken store: %+v, %v", resp, err)
	}
	if err := acct.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := dropped(t, reg, "store_error"); n != 1 {
		t.Fatalf("dropped{store_error} = %v, want 1", n)
	}
}

// TestOpenOnlyOnLoopbackWithoutKey: with no API key the service answers
// loopback clients and refuses everyone else.
func TestOpenOnlyOnLoopbackWithoutKey(t *testing.T) {
	svc, err := service.New(service.Config{}, keylessCompleter{}, nil, zerolog.Nop(), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	body := `{"tenant_id":"t","messages":[{"role":"user","content":"hi"}]}`
	for _, tc := range []struct {
		remote string
		want   int
	}{{"127.0.0.1:5555", http.StatusOK}, {"[::1]:5555", http.StatusOK}, {"192.0.2.7:5555", http.StatusUnauthorized}} {
		req := httptest.NewRequest("POST", "/llm/infer", strings.NewReader(body))
		req.RemoteAddr = tc.remote
		rec := httptest.NewRecorder()
		svc.ServeHTTP(rec, req)
		if rec.Code != tc.want {
			t.Fatalf("%s: %d %s, want %d", tc.remote, rec.Code, rec.Body.String(), tc.want)
		}
	}
}

type keylessCompleter struct{}

func (keylessCompleter) Complete(_ context.Context, _ llmrouter.Request) (llmrouter.Response, error) {
	return llmrouter.Response{Message: llmrouter.Message{Role: "assistant", Content: "hello"}, Backend: "test", Model: "m"}, nil
}
