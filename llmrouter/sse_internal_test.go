package llmrouter

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestReadSSE(t *testing.T) {
	tests := []struct {
		name    string
		stream  string
		want    Response
		deltas  int
		wantErr bool
	}{
		{
			name: "text with usage on a null-choices chunk",
			stream: "data: {\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hel\"}}]}\n\n" +
				"data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"lo\"},\"finish_reason\":\"stop\"}]}\n\n" +
				"data: {\"choices\":null,\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":2,\"total_tokens\":5}}\n\n" +
				"data: [DONE]\n\n",
			want:   Response{Model: "m", FinishReason: "stop", Message: Message{Role: RoleAssistant, Content: "Hello"}, Usage: Usage{3, 2, 5}},
			deltas: 2,
		},
		{
			name: "CRLF, comments, event and id fields, no blank line before EOF after finish",
			stream: ": ping\r\nevent: message\r\nid: 1\r\ndata: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"ok\"}}]}\r\n\r\n" +
				"data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"length\"}]}",
			want:   Response{FinishReason: "length", Message: Message{Role: RoleAssistant, Content: "ok"}},
			deltas: 1,
		},
		{
			name: "tool call pieces without index continue the call with the same id",
			stream: "data: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"id\":\"a\",\"function\":{\"name\":\"f\",\"arguments\":\"{\\\"x\\\"\"}}]}}]}\n\n" +
				"data: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"function\":{\"arguments\":\":1}\"}}]}}]}\n\n" +
				"data: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"id\":\"b\",\"function\":{\"name\":\"g\",\"arguments\":\"{}\"}}]}}]}\n\n" +
				"data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"tool_calls\"}]}\n\ndata: [DONE]\n\n",
			want: Response{FinishReason: "tool_calls", Message: Message{Role: RoleAssistant, ToolCalls: []ToolCall{
				{ID: "a", Name: "f", Arguments: json.RawMessage(`{"x":1}`)}, {ID: "b", Name: "g", Arguments: json.RawMessage(`{}`)},
			}}},
			deltas: 3,
		},
		{
			name:    "error object mid-stream",
			stream:  "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"a\"}}]}\n\ndata: {\"error\":{\"message\":\"upstream died\"}}\n\n",
			deltas:  1,
			wantErr: true,
		},
		{
			name:    "llama.cpp error line",
			stream:  "error: {\"code\":500,\"message\":\"context shift disabled\",\"type\":\"server_error\"}\n\n",
			wantErr: true,
		},
		{
			name:    "ended before DONE or finish",
			stream:  "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"a\"}}]}\n\n",
			deltas:  1,
			wantErr: true,
		},
		{
			name:    "tool call without a name",
			stream:  "data: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\"{}\"}}]},\"finish_reason\":\"tool_calls\"}]}\n\ndata: [DONE]\n\n",
			deltas:  1,
			wantErr: true,
		},
		{
			name:    "index out of range",
			stream:  "data: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":99999,\"id\":\"a\",\"function\":{\"name\":\"f\"}}]}}]}\n\n",
			wantErr: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			deltas := 0
			got, err := readSSE(strings.NewReader(tt.stream), func(Delta) { deltas++ })
			if deltas != tt.deltas {
				t.Errorf("%d deltas, want %d", deltas, tt.deltas)
			}
			if tt.wantErr {
				if !errors.Is(err, errMalformed) {
					t.Fatalf("err = %v, want errMalformed", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("response\n got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

// FuzzParseChunk feeds the stream chunk parser arbitrary event data: it
// must not panic, and its errors must wrap errMalformed.
func FuzzParseChunk(f *testing.F) {
	for _, s := range []string{
		`{"choices":[{"index":0,"delta":{"content":"a"}}]}`,
		`{"choices":null,"usage":{"prompt_tokens":1}}`,
		`{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"a","function":{"name":"f","arguments":"{"}}]}}]}`,
		`{"choices":[{"index":0,"delta":{"tool_calls":[{"index":-1}]}}]}`,
		`{"choices":[{"index":0,"delta":{"tool_calls":[{"function":{"arguments":{"a":1}}}]}}]}`,
		`{"choices":[{"index":0,"delta":{"content":[{"type":"text","text":"x"}]}}]}`,
		`{"error":{"message":"x"}}`, `[DONE]`, `null`, `{"choices":[null]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := parseChunk(data)
		if err != nil {
			if !errors.Is(err, errMalformed) {
				t.Fatalf("error %v does not wrap errMalformed", err)
			}
			return
		}
		for _, tc := range c.delta.ToolCalls {
			if tc.Index < -1 {
				t.Fatalf("index %d", tc.Index)
			}
		}
	})
}

// FuzzReadSSE feeds whole streams to the reader: it must not panic, every
// delta it hands over must be part of the answer it returns, and what it
// accepts must be a usable assistant message.
func FuzzReadSSE(f *testing.F) {
	paths, _ := filepath.Glob(filepath.Join("testdata", "streams", "*.sse"))
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"a\"},\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n"))
	f.Add([]byte("error: boom\n\n"))
	f.Fuzz(func(t *testing.T, stream []byte) {
		var text strings.Builder
		resp, err := readSSE(strings.NewReader(string(stream)), func(d Delta) {
			if d.empty() {
				t.Fatal("empty delta handed over")
			}
			text.WriteString(d.Content)
		})
		if err != nil {
			return
		}
		if resp.Message.Role != RoleAssistant || resp.Message.Content != text.String() || resp.FinishReason == "" {
			t.Fatalf("response %+v after deltas %q", resp, text.String())
		}
		for _, c := range resp.Message.ToolCalls {
			if c.ID == "" || c.Name == "" {
				t.Fatalf("tool call without id or name: %+v", c)
			}
		}
	})
}

// FuzzParseOllama feeds the /api/chat answer reader arbitrary NDJSON.
func FuzzParseOllama(f *testing.F) {
	paths, _ := filepath.Glob(filepath.Join("testdata", "ollama", "*"))
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"error":"model \"x\" not found"}`))
	f.Add([]byte(`{"message":{"tool_calls":[{"function":{"name":"f","arguments":"{}"}}]},"done":true}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		req := Request{ConversationID: "c1", Messages: []Message{{Role: RoleUser, Content: "q"}}}
		resp, err := readOllama(strings.NewReader(string(body)), req, func(Delta) {})
		if err != nil {
			if !errors.Is(err, errMalformed) && !strings.Contains(err.Error(), "read ollama answer") {
				t.Fatalf("error %v does not wrap errMalformed", err)
			}
			return
		}
		for _, c := range resp.Message.ToolCalls {
			if c.ID == "" || c.Name == "" {
				t.Fatalf("tool call without id or name: %+v", c)
			}
		}
		req.Messages = append(req.Messages, resp.Message)
		for _, c := range resp.Message.ToolCalls {
			req.Messages = append(req.Messages, Message{Role: RoleTool, ToolCallID: c.ID, Content: "{}"})
		}
		if err := req.Validate(); err != nil {
			t.Fatalf("a parsed answer does not validate as history: %v", err)
		}
		if _, err := encodeOllama(req, "m", false); err != nil {
			t.Fatalf("a parsed answer cannot be sent back: %v", err)
		}
	})
}

// FuzzParseEmbeddings feeds both embeddings parsers arbitrary answers.
func FuzzParseEmbeddings(f *testing.F) {
	f.Add([]byte(`{"data":[{"index":1,"embedding":[0.1,0.2]},{"index":0,"embedding":[0.3,0.4]}]}`), 2)
	f.Add([]byte(`{"embeddings":[[0.1],[0.2]]}`), 2)
	f.Add([]byte(`{"data":[{"index":0,"embedding":[]}]}`), 1)
	f.Fuzz(func(t *testing.T, body []byte, n int) {
		if n < 0 || n > 64 {
			return
		}
		for _, parse := range []func([]byte, int) ([][]float32, error){parseEmbeddings, parseOllamaEmbeddings} {
			vs, err := parse(body, n)
			if err != nil {
				if !errors.Is(err, errMalformed) {
					t.Fatalf("error %v does not wrap errMalformed", err)
				}
				continue
			}
			if len(vs) != n {
				t.Fatalf("%d vectors for %d inputs", len(vs), n)
			}
			for _, v := range vs {
				if len(v) == 0 || len(v) != len(vs[0]) {
					t.Fatalf("vector lengths %d and %d", len(v), len(vs[0]))
				}
			}
		}
	})
}
