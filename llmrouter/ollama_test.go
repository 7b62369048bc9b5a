package llmrouter_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/frontdesk-ai/frontdesk/llmrouter"
	"github.com/frontdesk-ai/frontdesk/llmrouter/llmtest"
)

func newOllama(t *testing.T, srv *llmtest.Ollama) *llmrouter.Ollama {
	t.Helper()
	b, err := llmrouter.NewOllama(srv.OllamaConfig())
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestOllamaRequestBody(t *testing.T) {
	srv := llmtest.NewOllama(t, llmtest.Text("ok"))
	req := transcript()
	req.ToolChoice = ""
	req.ResponseFormat = &llmrouter.ResponseFormat{Schema: orderSchema}
	req.Model = "qwen2.5:7b"
	srv.Pull("qwen2.5:7b")
	if _, err := newOllama(t, srv).Complete(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	got := srv.Requests()[0]
	if got.Method != "POST" || got.Path != llmtest.OllamaChatPath {
		t.Fatalf("request %s %s", got.Method, got.Path)
	}
	body := got.Ollama
	if body.Model != "qwen2.5:7b" || body.Stream == nil || *body.Stream {
		t.Errorf("model %q stream %v, want qwen2.5:7b and an explicit false", body.Model, body.Stream)
	}
	m := body.Messages
	if len(m) != 7 || m[2].Role != "assistant" || len(m[2].ToolCalls) != 2 {
		t.Fatalf("messages %+v", m)
	}
	if args := m[2].ToolCalls[1].Function.Arguments; args["order_number"] != "#1001" {
		t.Errorf("tool call arguments %v, want an object", args)
	}
	if m[3].Role != "tool" || m[3].ToolName != "get_customer_profile" || m[4].ToolName != "get_order" || m[4].Content != `{"status":"shipped"}` {
		t.Errorf("tool results %+v %+v, want tool_name and content", m[3], m[4])
	}
	if names := body.ToolNames(); !slices.Equal(names, []string{"get_customer_profile", "get_order"}) {
		t.Errorf("tools %v", names)
	}
	if !jsonEqual(t, body.Format, orderSchema) {
		t.Errorf("format %s, want the schema", body.Format)
	}
	if o := body.Options; o == nil || o.Temperature == nil || *o.Temperature != 0.2 || o.NumPredict == nil || *o.NumPredict != 512 {
		t.Errorf("options %+v, want temperature 0.2 and num_predict 512", o)
	}
	if _, ok := got.JSON["tool_choice"]; ok {
		t.Error("tool_choice sent to Ollama")
	}
}

func TestOllamaResponseParsing(t *testing.T) {
	body, err := os.ReadFile(filepath.Join("testdata", "ollama", "chat_tool_call.json"))
	if err != nil {
		t.Fatal(err)
	}
	srv := llmtest.NewOllama(t, llmtest.Step{Body: string(body)})
	req := customerTurn("refund please")
	req.ToolChoice = ""
	got, err := newOllama(t, srv).Complete(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	got.Latency = 0
	want := llmrouter.Response{
		Message: llmrouter.Message{Role: "assistant", ToolCalls: []llmrouter.ToolCall{
			{ID: "call_k2lq8j", Name: "create_ticket", Arguments: json.RawMessage(`{"subject":"Refund","priority":"high"}`)},
		}},
		FinishReason: "tool_calls", Model: "llama3.1", Backend: "ollama",
		Usage: llmrouter.Usage{PromptTokens: 80, CompletionTokens: 25, TotalTokens: 105},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("response\n got %+v\nwant %+v", got, want)
	}
}

func TestOllamaToolCallIDs(t *testing.T) {
	step := llmtest.ToolCalls(llmtest.Call{Name: "create_ticket", Arguments: `{"subject":"x"}`}, llmtest.Call{Name: "handoff_to_human", Arguments: `{}`})
	srv := llmtest.NewOllama(t, step, step, step)
	b := newOllama(t, srv)
	req := customerTurn("help")
	first, err := b.Complete(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	again, err := b.Complete(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	c := first.Message.ToolCalls
	if len(c) != 2 || c[0].ID == "" || c[0].ID == c[1].ID || string(c[0].Arguments) != `{"subject":"x"}` {
		t.Fatalf("calls %+v, want two with distinct ids and the arguments as JSON text", c)
	}
	if again.Message.ToolCalls[0].ID != c[0].ID {
		t.Errorf("a replayed request got id %q, want %q", again.Message.ToolCalls[0].ID, c[0].ID)
	}
	later := req
	later.Messages = append(later.Messages, first.Message,
		toolResult(c[0].ID, c[0].Name, `{"ticket_id":"1"}`), toolResult(c[1].ID, c[1].Name, `{}`), user("and?"))
	third, err := b.Complete(context.Background(), later)
	if err != nil {
		t.Fatal(err)
	}
	if third.Message.ToolCalls[0].ID == c[0].ID {
		t.Error("a later turn reused a tool call id")
	}
}

func TestOllamaStream(t *testing.T) {
	t.Run("scripted", func(t *testing.T) {
		srv := llmtest.NewOllama(t, llmtest.Step{Text: "Let me check that.", ToolCalls: []llmtest.Call{
			{Name: "get_customer_profile", Arguments: `{}`}, {Name: "get_order", Arguments: `{"order_number":"#1001"}`},
		}, Usage: llmtest.Usage{Prompt: 120, Completion: 31}})
		var deltas []llmrouter.Delta
		req := customerTurn("where is my order")
		req.Tools = []llmrouter.Tool{{Name: "get_customer_profile"}, {Name: "get_order"}}
		resp, err := newOllama(t, srv).Stream(context.Background(), req, collect(&deltas))
		if err != nil {
			t.Fatal(err)
		}
		if s := srv.Requests()[0].Ollama.Stream; s == nil || !*s {
			t.Error("stream not asked for")
		}
		if len(deltas) < 3 {
			t.Errorf("%d deltas, want the text word by word and the calls", len(deltas))
		}
		text, calls := replay(deltas)
		if text != "Let me check that." || resp.Message.Content != text {
			t.Errorf("text %q / %q", text, resp.Message.Content)
		}
		if len(resp.Message.ToolCalls) != 2 || len(calls) != 2 || calls[1].ID != resp.Message.ToolCalls[1].ID ||
			string(resp.Message.ToolCalls[1].Arguments) != `{"order_number":"#1001"}` {
			t.Errorf("calls %+v, deltas' %+v", resp.Message.ToolCalls, calls)
		}
		if resp.FinishReason != llmrouter.FinishToolCalls || resp.Usage != (llmrouter.Usage{PromptTokens: 120, CompletionTokens: 31, TotalTokens: 151}) {
			t.Errorf("finish %q usage %+v", resp.FinishReason, resp.Usage)
		}
	})
	t.Run("recorded", func(t *testing.T) {
		body, err := os.ReadFile(filepath.Join("testdata", "ollama", "stream_tool_calls.ndjson"))
		if err != nil {
			t.Fatal(err)
		}
		srv := llmtest.NewOllama(t, llmtest.Step{Body: string(body)})
		var deltas []llmrouter.Delta
		resp, err := newOllama(t, srv).Stream(context.Background(), customerTurn("hi"), collect(&deltas))
		if err != nil {
			t.Fatal(err)
		}
		if resp.Model != "qwen2.5:7b" || resp.Message.Content != "Let me check." || len(resp.Message.ToolCalls) != 2 || resp.Usage.TotalTokens != 151 {
			t.Errorf("response %+v", resp)
		}
	})
	t.Run("error line", func(t *testing.T) {
		srv := llmtest.NewOllama(t, llmtest.Step{Body: `{"error":"an error was encountered while running the model: unexpected EOF"}` + "\n"},
			llmtest.Text("second try"))
		resp, err := newOllama(t, srv).Stream(context.Background(), customerTurn("hi"), func(llmrouter.Delta) {})
		if err != nil || resp.Message.Content != "second try" {
			t.Fatalf("Stream = %q, %v; want the retry's answer", resp.Message.Content, err)
		}
	})
}

// TestOllamaToolChoiceEmulation checks what Ollama is sent for each
// tool_choice, which it has no field for.
func TestOllamaToolChoiceEmulation(t *testing.T) {
	tools := []llmrouter.Tool{{Name: "get_order"}, {Name: "create_ticket"}}
	call := llmtest.ToolCalls(llmtest.Call{Name: "get_order", Arguments: `{}`})
	tests := []struct {
		name        string
		choice      string
		steps       []llmtest.Step
		wantTools   [][]string // tools offered in each request
		instruction string     // in the closing system message of the first request; "" for none
		wantCall    bool
	}{
		{"auto offers all", "", []llmtest.Step{call}, [][]string{{"get_order", "create_ticket"}}, "", true},
		{"none offers none", "none", []llmtest.Step{llmtest.Text("ok")}, [][]string{nil}, "", false},
		{"named offers only it", "create_ticket", []llmtest.Step{llmtest.ToolCalls(llmtest.Call{Name: "create_ticket", Arguments: `{}`})},
			[][]string{{"create_ticket"}}, "calling the tool create_ticket", true},
		{"required is instructed", "required", []llmtest.Step{call}, [][]string{{"get_order", "create_ticket"}}, "calling one of the tools: get_order, create_ticket", true},
		{"required is asked again once", "required", []llmtest.Step{llmtest.Text("Sure, one moment."), call},
			[][]string{{"get_order", "create_ticket"}, {"get_order", "create_ticket"}}, "calling one of the tools", true},
		{"required gives up after one more ask", "required", []llmtest.Step{llmtest.Text("no"), llmtest.Text("still no")},
			[][]string{{"get_order", "create_ticket"}, {"get_order", "create_ticket"}}, "calling one of the tools", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := llmtest.NewOllama(t, tt.steps...)
			req := llmrouter.Request{Messages: []llmrouter.Message{{Role: "system", Content: "Be brief."}, {Role: "user", Content: "order 1?"}},
				Tools: tools, ToolChoice: tt.choice}
			resp, err := newOllama(t, srv).Complete(context.Background(), req)
			if err != nil {
				t.Fatal(err)
			}
			reqs := srv.Requests()
			if len(reqs) != len(tt.wantTools) {
				t.Fatalf("%d requests, want %d", len(reqs), len(tt.wantTools))
			}
			for i, r := range reqs {
				if got := r.Ollama.ToolNames(); !slices.Equal(got, tt.wantTools[i]) {
					t.Errorf("request %d offered %v, want %v", i, got, tt.wantTools[i])
				}
			}
			msgs := reqs[0].Ollama.Messages
			last := msgs[len(msgs)-1]
			if tt.instruction == "" {
				if len(msgs) != 2 {
					t.Errorf("messages %+v, want the transcript alone", msgs)
				}
			} else if last.Role != "system" || !strings.Contains(last.Content, tt.instruction) {
				t.Errorf("closing message %+v, want a system instruction containing %q", last, tt.instruction)
			}
			if len(reqs) == 2 {
				m := reqs[1].Ollama.Messages
				if n := len(m); n != len(msgs)+2 || m[n-2].Role != "assistant" || m[n-1].Role != "system" || !strings.Contains(m[n-1].Content, "did not call a tool") {
					t.Errorf("second ask %+v, want the answer and a reminder appended", m)
				}
			}
			if (len(resp.Message.ToolCalls) > 0) != tt.wantCall {
				t.Errorf("answer %+v, want a call %v", resp.Message, tt.wantCall)
			}
		})
	}
}

func TestOllamaErrors(t *testing.T) {
	t.Run("model not pulled is a misconfigured backend", func(t *testing.T) {
		srv := llmtest.NewOllama(t)
		cfg := srv.OllamaConfig()
		cfg.Model = "llama3.3:70b"
		b, err := llmrouter.NewOllama(cfg)
		if err != nil {
			t.Fatal(err)
		}
		_, err = b.Complete(context.Background(), customerTurn("hi"))
		var ae *llmrouter.APIError
		if !errors.Is(err, llmrouter.ErrBackendUnavailable) || !errors.As(err, &ae) || ae.StatusCode != 404 || !strings.Contains(ae.Message, "not found") {
			t.Fatalf("err = %v, want an unavailable 404", err)
		}
		if n := len(srv.Requests()); n != 1 {
			t.Errorf("%d requests, want 1", n)
		}
	})
	t.Run("busy is retried", func(t *testing.T) {
		srv := llmtest.NewOllama(t, llmtest.Error(503, "server busy"), llmtest.Text("ok"))
		resp, err := newOllama(t, srv).Complete(context.Background(), customerTurn("hi"))
		if err != nil || resp.Message.Content != "ok" || len(srv.Requests()) != 2 {
			t.Fatalf("Complete = %q, %v after %d requests", resp.Message.Content, err, len(srv.Requests()))
		}
	})
	t.Run("bad base url", func(t *testing.T) {
		if _, err := llmrouter.NewOllama(llmrouter.OllamaConfig{BaseURL: "localhost:11434"}); err == nil {
			t.Fatal("NewOllama accepted a base url without scheme")
		}
	})
}
