package llmtest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/frontdesk-ai/frontdesk/llmrouter"
	"github.com/frontdesk-ai/frontdesk/llmrouter/llmtest"
)

// TestToolRoundTrip is the script other packages' end-to-end tests use: the
// model calls get_customer_profile, the tool result goes back, the model
// answers with text.
func TestToolRoundTrip(t *testing.T) {
	var sawResult string
	srv := llmtest.NewServer(t,
		llmtest.ToolCalls(llmtest.Call{Name: "get_customer_profile", Arguments: `{}`}).WithUsage(50, 10),
		llmtest.Func(func(r llmtest.Request) llmtest.Step {
			sawResult = r.Body.Last().Text()
			return llmtest.Text("Hi Maria! Your last order shipped yesterday.")
		}),
	)
	b, err := llmrouter.NewOpenAI(srv.OpenAIConfig())
	if err != nil {
		t.Fatal(err)
	}
	req := llmrouter.Request{
		Messages: []llmrouter.Message{{Role: llmrouter.RoleUser, Content: "where's my stuff?"}},
		Tools:    []llmrouter.Tool{{Name: "get_customer_profile", Parameters: json.RawMessage(`{"type":"object","properties":{}}`)}},
	}
	first, err := b.Complete(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	calls := first.Message.ToolCalls
	if len(calls) != 1 || calls[0].Name != "get_customer_profile" || string(calls[0].Arguments) != "{}" || calls[0].ID == "" {
		t.Fatalf("first answer %+v, want one get_customer_profile call", first.Message)
	}
	if first.FinishReason != llmrouter.FinishToolCalls || first.Usage.TotalTokens != 60 {
		t.Errorf("finish %q usage %+v", first.FinishReason, first.Usage)
	}
	req.Messages = append(req.Messages, first.Message, llmrouter.Message{
		Role: llmrouter.RoleTool, ToolCallID: calls[0].ID, Name: calls[0].Name, Content: `{"name":"Maria"}`,
	})
	second, err := b.Complete(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if second.Message.Content != "Hi Maria! Your last order shipped yesterday." {
		t.Errorf("second answer %q", second.Message.Content)
	}
	if sawResult != `{"name":"Maria"}` {
		t.Errorf("the server saw tool result %q", sawResult)
	}
	reqs := srv.Requests()
	if len(reqs) != 2 || srv.Pending() != 0 {
		t.Fatalf("%d requests, %d steps left; want 2 and 0", len(reqs), srv.Pending())
	}
	if got := reqs[0].Body.ToolNames(); len(got) != 1 || got[0] != "get_customer_profile" {
		t.Errorf("tools offered %v", got)
	}
	if m := reqs[1].Body.Messages[1]; len(m.ToolCalls) != 1 || m.ToolCalls[0].ID != calls[0].ID {
		t.Errorf("history sent back %+v, want the model's call", m)
	}
}

func post(t *testing.T, srv *llmtest.Server, path, auth, body string) (int, string, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, strings.TrimSuffix(srv.BaseURL(), "/v1")+path, bytes.NewBufferString(body))
	if err != nil {
		t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := srv.HTTPClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var e struct {
		Error struct {
			Message string  `json:"message"`
			Type    string  `json:"type"`
			Code    *string `json:"code"`
		} `json:"error"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&e); err != nil {
		t.Fatalf("answer is not JSON: %v", err)
	}
	code := ""
	if e.Error.Code != nil {
		code = *e.Error.Code
	}
	return resp.StatusCode, e.Error.Type, code
}

// TestServerRefusesWhatAStrictServerRefuses checks the fake answers
// malformed requests with OpenAI's error shape instead of a scripted step.
func TestServerRefusesWhatAStrictServerRefuses(t *testing.T) {
	const user = `{"role":"user","content":"hi"}`
	tests := []struct {
		name, path, body string
		status           int
	}{
		{"wrong path", "/v1/completions", `{}`, 404},
		{"not json", llmtest.CompletionsPath, `hello`, 400},
		{"no model", llmtest.CompletionsPath, `{"messages":[` + user + `]}`, 400},
		{"no messages", llmtest.CompletionsPath, `{"model":"m","messages":[]}`, 400},
		{"unknown role", llmtest.CompletionsPath, `{"model":"m","messages":[{"role":"bot","content":"x"}]}`, 400},
		{"tool_choice without tools", llmtest.CompletionsPath, `{"model":"m","messages":[` + user + `],"tool_choice":"auto"}`, 400},
		{"tool result answering no call", llmtest.CompletionsPath, `{"model":"m","messages":[` + user + `,{"role":"tool","tool_call_id":"c1","content":"{}"}]}`, 400},
		{"tool call left unanswered", llmtest.CompletionsPath, `{"model":"m","messages":[` + user +
			`,{"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function","function":{"name":"f","arguments":"{}"}}]},` + user + `]}`, 400},
		{"arguments as an object", llmtest.CompletionsPath, `{"model":"m","messages":[` + user +
			`,{"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function","function":{"name":"f","arguments":{}}}]}]}`, 400},
		{"stream_options without stream", llmtest.CompletionsPath, `{"model":"m","stream_options":{"include_usage":true},"messages":[` + user + `]}`, 400},
		{"json_schema without a name", llmtest.CompletionsPath, `{"model":"m","response_format":{"type":"json_schema","json_schema":{"schema":{}}},"messages":[` + user + `]}`, 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := llmtest.NewServer(t, llmtest.Text("must not be used"))
			status, typ, _ := post(t, srv, tt.path, "", tt.body)
			if status != tt.status || typ != "invalid_request_error" {
				t.Errorf("answer %d %q, want %d invalid_request_error", status, typ, tt.status)
			}
			if srv.Pending() != 1 || len(srv.Requests()) != 1 {
				t.Errorf("%d steps left, %d requests recorded; want the step kept and the request recorded", srv.Pending(), len(srv.Requests()))
			}
		})
	}
}

func TestServerModes(t *testing.T) {
	const body = `{"model":"m","messages":[{"role":"user","content":"hi"}]}`
	srv := llmtest.NewServer(t, llmtest.Text("a"), llmtest.Text("b"))

	srv.Down()
	if status, typ, _ := post(t, srv, llmtest.CompletionsPath, "", body); status != 503 || typ != "server_error" {
		t.Errorf("down: %d %q, want 503 server_error", status, typ)
	}
	srv.Up()
	srv.RequireAPIKey("sk-1")
	if status, _, code := post(t, srv, llmtest.CompletionsPath, "Bearer sk-2", body); status != 401 || code != "invalid_api_key" {
		t.Errorf("wrong key: %d %q, want 401 invalid_api_key", status, code)
	}
	if srv.Pending() != 2 {
		t.Errorf("%d steps left after refused requests, want 2", srv.Pending())
	}
	srv.Script(llmtest.RateLimited("1"))
	b, err := llmrouter.NewOpenAI(llmrouter.OpenAIConfig{BaseURL: srv.BaseURL(), Model: "m", APIKey: "sk-1", HTTPClient: srv.HTTPClient()})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"a", "b"} {
		resp, err := b.Complete(context.Background(), llmrouter.Request{Messages: []llmrouter.Message{{Role: "user", Content: "hi"}}})
		if err != nil || resp.Message.Content != want {
			t.Fatalf("Complete = %q, %v; want %q", resp.Message.Content, err, want)
		}
	}
	srv.RequireAPIKey("")
	resp, err := http.Post(srv.BaseURL()+"/chat/completions", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "1" {
		t.Errorf("rate limited step answered %d Retry-After %q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	if n := len(srv.Requests()); n != 5 {
		t.Errorf("%d requests recorded, want 5", n)
	}
}

func TestArgumentsAsObject(t *testing.T) {
	srv := llmtest.NewServer(t, llmtest.ToolCalls(
		llmtest.Call{ID: "c1", Name: "create_ticket", Arguments: `{"subject":"x"}`, ArgumentsAsObject: true},
		llmtest.Call{ID: "c2", Name: "handoff_to_human", Arguments: `{"reason":`},
	))
	resp, err := http.Post(srv.BaseURL()+"/chat/completions", "application/json",
		strings.NewReader(`{"model":"m","messages":[{"role":"user","content":"hi"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var got struct {
		Choices []struct {
			Message struct {
				Content   *string `json:"content"`
				ToolCalls []struct {
					Function struct {
						Arguments json.RawMessage `json:"arguments"`
					} `json:"function"`
				} `json:"tool_calls"`
			} `json:"message"`
			FinishReason string `json:"finish_reason"`
		} `json:"choices"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
		t.Fatal(err)
	}
	m := got.Choices[0].Message
	if m.Content != nil || got.Choices[0].FinishReason != "tool_calls" {
		t.Errorf("content %v finish %q, want null and tool_calls", m.Content, got.Choices[0].FinishReason)
	}
	if a := string(m.ToolCalls[0].Function.Arguments); a != `{"subject":"x"}` {
		t.Errorf("object arguments sent as %s", a)
	}
	if a := string(m.ToolCalls[1].Function.Arguments); a != `"{\"reason\":"` {
		t.Errorf("string arguments sent as %s", a)
	}
}
