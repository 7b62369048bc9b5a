package llmrouter_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/frontdesk-ai/frontdesk/llmrouter"
	"github.com/frontdesk-ai/frontdesk/llmrouter/llmtest"
)

// collect returns an onDelta that records the deltas it gets.
func collect(deltas *[]llmrouter.Delta) func(llmrouter.Delta) {
	return func(d llmrouter.Delta) { *deltas = append(*deltas, d) }
}

// replay assembles deltas the way a caller would: text appended, tool
// calls by index.
func replay(deltas []llmrouter.Delta) (string, map[int]*llmrouter.ToolCall) {
	var text strings.Builder
	calls := map[int]*llmrouter.ToolCall{}
	for _, d := range deltas {
		text.WriteString(d.Content)
		for _, tc := range d.ToolCalls {
			c := calls[tc.Index]
			if c == nil {
				c = &llmrouter.ToolCall{}
				calls[tc.Index] = c
			}
			if tc.ID != "" {
				c.ID = tc.ID
			}
			if tc.Name != "" {
				c.Name = tc.Name
			}
			c.Arguments = append(c.Arguments, tc.Arguments...)
		}
	}
	return text.String(), calls
}

// TestOpenAIStreamMatchesComplete answers the same step to Complete and to
// Stream and expects the same Response, the deltas adding up to it, and
// the streaming request asking for usage.
func TestOpenAIStreamMatchesComplete(t *testing.T) {
	steps := map[string]llmtest.Step{
		"text": llmtest.Text("Your order #1001 shipped yesterday, María.").WithUsage(40, 9),
		"parallel tool calls": llmtest.ToolCalls(
			llmtest.Call{Name: "get_customer_profile", Arguments: `{}`},
			llmtest.Call{Name: "get_order", Arguments: `{"order_number":"#1001","include":["items","tracking"]}`},
		).WithUsage(82, 17),
		"text and a tool call":    {Text: "Let me look.", ToolCalls: []llmtest.Call{{ID: "call_x", Name: "get_order", Arguments: `{"order_number":"1"}`}}},
		"usage with choices null": {Text: "ok then", Usage: llmtest.Usage{Prompt: 5, Completion: 1}, UsageChoicesNull: true},
	}
	for name, step := range steps {
		t.Run(name, func(t *testing.T) {
			// The fake numbers tool call ids by request, so give each call
			// an id to compare the two answers.
			for i := range step.ToolCalls {
				if step.ToolCalls[i].ID == "" {
					step.ToolCalls[i].ID = "call_" + step.ToolCalls[i].Name
				}
			}
			srv := llmtest.NewServer(t, step, step)
			b := newOpenAI(t, srv.OpenAIConfig())
			req := transcript()
			req.ToolChoice = ""
			want, err := b.Complete(context.Background(), req)
			if err != nil {
				t.Fatal(err)
			}
			var deltas []llmrouter.Delta
			got, err := b.Stream(context.Background(), req, collect(&deltas))
			if err != nil {
				t.Fatal(err)
			}
			want.Latency, got.Latency = 0, 0
			if !reflect.DeepEqual(got, want) {
				t.Errorf("Stream answer\n got %+v\nwant %+v", got, want)
			}
			if len(deltas) < 2 {
				t.Errorf("%d deltas; want the answer in pieces", len(deltas))
			}
			text, calls := replay(deltas)
			if text != want.Message.Content || len(calls) != len(want.Message.ToolCalls) {
				t.Errorf("deltas add up to %q and %d calls", text, len(calls))
			}
			for i, c := range want.Message.ToolCalls {
				if g := calls[i]; g == nil || g.ID != c.ID || g.Name != c.Name || string(g.Arguments) != string(c.Arguments) {
					t.Errorf("deltas of call %d add up to %+v, want %+v", i, g, c)
				}
			}
			sent := srv.Requests()[1]
			if !sent.Body.Stream || sent.Body.StreamOptions == nil || !sent.Body.StreamOptions.IncludeUsage {
				t.Errorf("streaming request %s lacks stream and stream_options.include_usage", sent.Raw)
			}
			if srv.Requests()[0].Body.Stream {
				t.Error("Complete asked for a stream")
			}
		})
	}
}

// TestOpenAIStreamRecordedStreams replays recorded streams of three
// servers: interleaved parallel tool-call pieces, vLLM's null choices on
// the usage chunk, llama.cpp's pieces without index.
func TestOpenAIStreamRecordedStreams(t *testing.T) {
	tests := []struct {
		file string
		want llmrouter.Response
	}{
		{"openai_interleaved_tool_calls.sse", llmrouter.Response{
			Message: llmrouter.Message{Role: "assistant", ToolCalls: []llmrouter.ToolCall{
				{ID: "call_abc123", Name: "get_customer_profile", Arguments: json.RawMessage(`{}`)},
				{ID: "call_def456", Name: "get_order", Arguments: json.RawMessage(`{"order_number":"#1001"}`)},
			}},
			FinishReason: "tool_calls", Model: "gpt-4o-mini", Usage: llmrouter.Usage{PromptTokens: 82, CompletionTokens: 17, TotalTokens: 99},
		}},
		{"vllm_text_usage_null_choices.sse", llmrouter.Response{
			Message: llmrouter.Message{Role: "assistant", Content: "Your order shipped."}, FinishReason: "stop",
			Model: "Qwen/Qwen2.5-7B-Instruct", Usage: llmrouter.Usage{PromptTokens: 310, CompletionTokens: 4, TotalTokens: 314},
		}},
		{"llamacpp_no_index_tool_call.sse", llmrouter.Response{
			Message: llmrouter.Message{Role: "assistant", ToolCalls: []llmrouter.ToolCall{
				{ID: "FfqTeyWo7HXhbIBMo1TCXHFcgXbh2nMA", Name: "create_ticket", Arguments: json.RawMessage(`{"subject":"Refund"}`)},
			}},
			FinishReason: "tool_calls", Model: "qwen2.5-7b-instruct-q4_k_m.gguf", Usage: llmrouter.Usage{PromptTokens: 240, CompletionTokens: 12, TotalTokens: 252},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			body, err := os.ReadFile(filepath.Join("testdata", "streams", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			srv := llmtest.NewServer(t, llmtest.Step{Body: string(body)})
			var deltas []llmrouter.Delta
			got, err := newOpenAI(t, srv.OpenAIConfig()).Stream(context.Background(), customerTurn("hi"), collect(&deltas))
			if err != nil {
				t.Fatal(err)
			}
			got.Backend, got.Latency = "", 0
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("response\n got %+v\nwant %+v", got, tt.want)
			}
			if _, calls := replay(deltas); len(calls) != len(tt.want.Message.ToolCalls) {
				t.Errorf("deltas carry %d calls, want %d", len(calls), len(tt.want.Message.ToolCalls))
			}
		})
	}
}

func TestOpenAIStreamRetriesOnlyBeforeOutput(t *testing.T) {
	t.Run("failure before any delta is retried", func(t *testing.T) {
		srv := llmtest.NewServer(t, llmtest.Error(503, "overloaded"), llmtest.Text("hello there"))
		var deltas []llmrouter.Delta
		resp, err := newOpenAI(t, srv.OpenAIConfig()).Stream(context.Background(), customerTurn("hi"), collect(&deltas))
		if err != nil || resp.Message.Content != "hello there" {
			t.Fatalf("Stream = %q, %v", resp.Message.Content, err)
		}
		if n := len(srv.Requests()); n != 2 {
			t.Errorf("server got %d requests, want 2", n)
		}
	})
	t.Run("a stream cut after a delta is not", func(t *testing.T) {
		var got atomic.Int64
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			got.Add(1)
			_, _ = io.Copy(io.Discard, r.Body)
			w.Header().Set("Content-Type", "text/event-stream")
			_, _ = io.WriteString(w, "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hel\"}}]}\n\n")
			// The connection closes without a finish reason or [DONE].
		}))
		t.Cleanup(srv.Close)
		var deltas []llmrouter.Delta
		_, err := newOpenAI(t, llmrouter.OpenAIConfig{BaseURL: srv.URL + "/v1", Model: "m"}).Stream(
			context.Background(), customerTurn("hi"), collect(&deltas))
		if !errors.Is(err, llmrouter.ErrBackendUnavailable) {
			t.Fatalf("err = %v, want ErrBackendUnavailable", err)
		}
		if got.Load() != 1 || len(deltas) != 1 {
			t.Errorf("%d requests, %d deltas; want 1 and 1 (no retry after output)", got.Load(), len(deltas))
		}
	})
	t.Run("a server that ignores stream answers in one delta", func(t *testing.T) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, `{"model":"m","choices":[{"message":{"role":"assistant","content":"whole"},"finish_reason":"stop"}]}`)
		}))
		t.Cleanup(srv.Close)
		var deltas []llmrouter.Delta
		resp, err := newOpenAI(t, llmrouter.OpenAIConfig{BaseURL: srv.URL + "/v1"}).Stream(context.Background(), customerTurn("hi"), collect(&deltas))
		if err != nil || resp.Message.Content != "whole" || len(deltas) != 1 || deltas[0].Content != "whole" {
			t.Fatalf("Stream = %+v, %v with deltas %+v", resp, err, deltas)
		}
	})
}
