package llmrouter

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestParseAPIError(t *testing.T) {
	tests := []struct {
		name              string
		body              string
		typ, code, prefix string
	}{
		{"openai", `{"error":{"message":"Incorrect API key provided.","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}`,
			"invalid_request_error", "invalid_api_key", "Incorrect API key provided."},
		{"llama.cpp numeric code", `{"error":{"code":400,"message":"the request exceeds the available context size","type":"invalid_request_error"}}`,
			"invalid_request_error", "400", "the request exceeds"},
		{"older vllm top level", `{"object":"error","message":"\"auto\" tool choice requires --enable-auto-tool-choice","type":"BadRequestError","param":null,"code":400}`,
			"BadRequestError", "400", `"auto" tool choice requires`},
		{"error string", `{"error":"model \"llama3\" not found, try pulling it first"}`, "", "", `model "llama3" not found`},
		{"html from a proxy", `<html><body>502 Bad Gateway</body></html>`, "", "", "<html><body>502 Bad Gateway"},
		{"empty", ``, "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := parseAPIError(400, []byte(tt.body))
			if e.StatusCode != 400 || e.Type != tt.typ || e.Code != tt.code || !strings.HasPrefix(e.Message, tt.prefix) {
				t.Errorf("parseAPIError = %+v, want type %q code %q message starting %q", e, tt.typ, tt.code, tt.prefix)
			}
		})
	}
	long := parseAPIError(500, []byte(strings.Repeat("é", 2000)))
	if len(long.Message) > maxErrorMessage+len("…") || !utf8.ValidString(long.Message) {
		t.Errorf("a long body gave a %d-byte message (valid UTF-8 %v)", len(long.Message), utf8.ValidString(long.Message))
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name   string
		header http.Header
		want   time.Duration
	}{
		{"none", http.Header{}, 0},
		{"seconds", http.Header{"Retry-After": {"7"}}, 7 * time.Second},
		{"fraction", http.Header{"Retry-After": {"0.5"}}, 500 * time.Millisecond},
		{"milliseconds win", http.Header{"Retry-After": {"7"}, "Retry-After-Ms": {"250"}}, 250 * time.Millisecond},
		{"http date", http.Header{"Retry-After": {now.Add(90 * time.Second).Format(http.TimeFormat)}}, 90 * time.Second},
		{"past date", http.Header{"Retry-After": {now.Add(-time.Minute).Format(http.TimeFormat)}}, 0},
		{"negative", http.Header{"Retry-After": {"-3"}}, 0},
		{"garbage", http.Header{"Retry-After": {"soon"}}, 0},
		{"huge is capped", http.Header{"Retry-After": {"99999999"}}, 24 * time.Hour},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := retryAfter(tt.header, now); got != tt.want {
				t.Errorf("retryAfter = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestRetryWaits records the waits between attempts: jittered exponential
// backoff, or the server's Retry-After exactly.
func TestRetryWaits(t *testing.T) {
	tests := []struct {
		name    string
		answers []func(w http.ResponseWriter)
		want    []time.Duration
	}{
		{"backoff doubles", []func(http.ResponseWriter){status(500, ""), status(500, ""), ok},
			[]time.Duration{75 * time.Millisecond, 150 * time.Millisecond}},
		{"retry-after honoured", []func(http.ResponseWriter){status(429, "3"), ok},
			[]time.Duration{3 * time.Second}},
		{"retry-after beyond 30s gives up", []func(http.ResponseWriter){status(429, "120"), ok}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := 0
			srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
				tt.answers[n](w)
				n++
			})
			o, err := NewOpenAI(OpenAIConfig{BaseURL: srv + "/v1", BackoffBase: 100 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			var waits []time.Duration
			o.sleep = func(_ context.Context, d time.Duration) error { waits = append(waits, d); return nil }
			o.jitter = func() float64 { return 0.5 }
			_, err = o.Complete(context.Background(), Request{Messages: []Message{{Role: RoleUser, Content: "hi"}}})
			if (err == nil) != (tt.want != nil) {
				t.Fatalf("err = %v", err)
			}
			if len(waits) != len(tt.want) {
				t.Fatalf("waits %v, want %v", waits, tt.want)
			}
			for i := range waits {
				if waits[i] != tt.want[i] {
					t.Errorf("wait %d = %v, want %v", i, waits[i], tt.want[i])
				}
			}
		})
	}
}

func status(code int, retryAfter string) func(http.ResponseWriter) {
	return func(w http.ResponseWriter) {
		if retryAfter != "" {
			w.Header().Set("Retry-After", retryAfter)
		}
		w.WriteHeader(code)
		_, _ = w.Write([]byte(`{"error":{"message":"x","type":"server_error"}}`))
	}
}

func ok(w http.ResponseWriter) {
	_, _ = w.Write([]byte(`{"choices":[{"message":{"role":"assistant","content":"ok"},"finish_reason":"stop"}]}`))
}

func TestResponseBodyIsBounded(t *testing.T) {
	n := 0
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		n++
		_, _ = w.Write([]byte(`{"choices":[{"message":{"role":"assistant","content":"`))
		_, _ = w.Write([]byte(strings.Repeat("a", maxResponseBody)))
		_, _ = w.Write([]byte(`"}}]}`))
	})
	o, err := NewOpenAI(OpenAIConfig{BaseURL: srv + "/v1", MaxAttempts: 1})
	if err != nil {
		t.Fatal(err)
	}
	_, err = o.Complete(context.Background(), Request{Messages: []Message{{Role: RoleUser, Content: "hi"}}})
	if !errors.Is(err, ErrBackendUnavailable) || !errors.Is(err, errMalformed) {
		t.Fatalf("err = %v, want an oversized answer refused", err)
	}
}

// FuzzParseResponse feeds the chat-completion parser arbitrary answers: it
// must not panic, and what it accepts must be a usable assistant message
// whose tool calls have ids and names and survive being sent back.
func FuzzParseResponse(f *testing.F) {
	paths, _ := filepath.Glob(filepath.Join("testdata", "responses", "*.json"))
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, s := range []string{
		`{}`, `null`, `{"choices":null}`, `{"choices":[null]}`, `{"choices":[{"message":null}]}`,
		`{"choices":[{"message":{"content":7}}]}`,
		`{"choices":[{"message":{"tool_calls":[{"function":{"name":"x","arguments":"\u0000{"}}]}}]}`,
		`{"choices":[{"message":{"tool_calls":[{"function":{"name":"x","arguments":[1,2]}}]}}]}`,
		`{"choices":[{"message":{"tool_calls":[{"function":{"name":"","arguments":"{}"}}]}}]}`,
		`{"choices":[{"message":{"content":[{"type":"image_url"},{"text":"a"}]}}],"usage":{"prompt_tokens":-1}}`,
		`{"error":{"message":"x"}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		resp, err := parseResponse(body)
		_ = parseAPIError(500, body)
		if err != nil {
			if !errors.Is(err, errMalformed) {
				t.Fatalf("error %v does not wrap errMalformed", err)
			}
			return
		}
		if resp.Message.Role != RoleAssistant {
			t.Fatalf("role %q", resp.Message.Role)
		}
		for _, c := range resp.Message.ToolCalls {
			if c.ID == "" || c.Name == "" {
				t.Fatalf("tool call without id or name: %+v", c)
			}
		}
		req := Request{Messages: []Message{{Role: RoleUser, Content: "q"}, resp.Message}}
		for _, c := range resp.Message.ToolCalls {
			req.Messages = append(req.Messages, Message{Role: RoleTool, ToolCallID: c.ID, Content: "{}"})
		}
		if err := req.Validate(); err != nil {
			t.Fatalf("a parsed answer does not validate as history: %v", err)
		}
		out, err := encodeRequest(req, "m")
		if err != nil || !json.Valid(out) {
			t.Fatalf("a parsed answer cannot be sent back: %v", err)
		}
	})
}
