package llmtest_test

import (
	"bufio"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/frontdesk-ai/frontdesk/llmrouter/llmtest"
)

// TestOllamaRefusesWhatOllamaRefuses checks the fake's error answers, in
// Ollama's {"error": "..."} shape, take no step.
func TestOllamaRefusesWhatOllamaRefuses(t *testing.T) {
	const user = `{"role":"user","content":"hi"}`
	tests := []struct {
		name, path, body string
		status           int
	}{
		{"wrong path", "/v1/chat", `{}`, 404},
		{"no model", llmtest.OllamaChatPath, `{"messages":[` + user + `]}`, 400},
		{"model not pulled", llmtest.OllamaChatPath, `{"model":"llama3.3:70b","messages":[` + user + `]}`, 404},
		{"string arguments", llmtest.OllamaChatPath, `{"model":"` + llmtest.Model + `","messages":[` + user +
			`,{"role":"assistant","content":"","tool_calls":[{"function":{"name":"f","arguments":"{}"}}]}]}`, 400},
		{"unknown role", llmtest.OllamaChatPath, `{"model":"` + llmtest.Model + `","messages":[{"role":"bot","content":"x"}]}`, 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := llmtest.NewOllama(t, llmtest.Text("must not be used"))
			resp, err := http.Post(o.URL()+tt.path, "application/json", strings.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if resp.StatusCode != tt.status {
				t.Errorf("status %d, want %d", resp.StatusCode, tt.status)
			}
			if tt.status != 404 || tt.path == llmtest.OllamaChatPath {
				var e struct {
					Error string `json:"error"`
				}
				if err := json.NewDecoder(resp.Body).Decode(&e); err != nil || e.Error == "" {
					t.Errorf("answer is not an Ollama error: %v", err)
				}
			}
			if o.Pending() != 1 || len(o.Requests()) != 1 {
				t.Errorf("%d steps left, %d requests; want the step kept and the request recorded", o.Pending(), len(o.Requests()))
			}
		})
	}
}

// TestOllamaStreamsByDefault: without "stream": false the answer is NDJSON
// ending with the done object.
func TestOllamaStreamsByDefault(t *testing.T) {
	o := llmtest.NewOllama(t, llmtest.Text("two words").WithUsage(7, 2))
	resp, err := http.Post(o.URL()+llmtest.OllamaChatPath, "application/json",
		strings.NewReader(`{"model":"`+llmtest.Model+`","messages":[{"role":"user","content":"hi"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "application/x-ndjson" {
		t.Errorf("Content-Type %q", ct)
	}
	var lines []map[string]any
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		lines = append(lines, m)
	}
	if len(lines) != 3 || lines[2]["done"] != true || lines[2]["prompt_eval_count"] != 7.0 || lines[2]["eval_count"] != 2.0 {
		t.Errorf("lines %v, want two pieces and the done object with the counts", lines)
	}
}
