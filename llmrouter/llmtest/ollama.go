package llmtest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/frontdesk-ai/frontdesk/llmrouter"
)

// Paths the Ollama fake answers.
const (
	OllamaChatPath  = "/api/chat"
	OllamaEmbedPath = "/api/embed"
)

// OllamaChat is an /api/chat request body, decoded as Ollama decodes it:
// tool-call arguments must be JSON objects.
type OllamaChat struct {
	Model    string          `json:"model"`
	Messages []OllamaMessage `json:"messages"`
	Tools    []ChatTool      `json:"tools"`
	// Stream is nil when absent, which Ollama takes as true.
	Stream *bool `json:"stream"`
	// Format is "json", a JSON Schema, or empty.
	Format  json.RawMessage `json:"format"`
	Options *struct {
		Temperature *float64 `json:"temperature"`
		NumPredict  *int     `json:"num_predict"`
	} `json:"options"`
	// ToolChoice is recorded to show it is never sent: Ollama has none.
	ToolChoice json.RawMessage `json:"tool_choice"`
}

// OllamaMessage is one entry of OllamaChat.Messages.
type OllamaMessage struct {
	Role      string           `json:"role"`
	Content   string           `json:"content"`
	ToolCalls []OllamaToolCall `json:"tool_calls"`
	ToolName  string           `json:"tool_name"`
}

// OllamaToolCall is a tool call of an assistant OllamaMessage.
type OllamaToolCall struct {
	Function struct {
		Name      string         `json:"name"`
		Arguments map[string]any `json:"arguments"`
	} `json:"function"`
}

// ToolNames returns the names of the offered tools, in order.
func (c OllamaChat) ToolNames() []string {
	var names []string
	for _, t := range c.Tools {
		names = append(names, t.Function.Name)
	}
	return names
}

// Ollama is a fake of Ollama's native API. Steps are Server's: Text and
// ToolCalls become the message (arguments sent as JSON objects; a Call's
// ID, when set, is sent as Ollama 0.12 does), Usage becomes
// prompt_eval_count and eval_count, Status an {"error": ErrorMessage}
// answer (with RetryAfter as the Retry-After header), Hang holds the
// request as Server's does, Body is sent as is. A request without
// "stream": false gets an NDJSON stream: the text a word at a time, the
// tool calls in one object, then the done object. Its zero value is not
// usable; call NewOllama.
type Ollama struct {
	t   testing.TB
	srv *httptest.Server

	mu       sync.Mutex
	script   []Step
	down     bool
	models   map[string]bool
	requests []Request
}

// NewOllama starts an Ollama fake that has pulled Model and answers steps
// in order; t closes it at cleanup.
func NewOllama(t testing.TB, steps ...Step) *Ollama {
	o := &Ollama{t: t, script: append([]Step(nil), steps...), models: map[string]bool{Model: true}}
	o.srv = httptest.NewServer(http.HandlerFunc(o.serve))
	t.Cleanup(o.srv.Close)
	return o
}

// URL returns the server's root, the BaseURL of an Ollama backend.
func (o *Ollama) URL() string { return o.srv.URL }

// OllamaConfig returns a backend config for the fake with Model, a 10 s
// attempt timeout and a 1 ms backoff base.
func (o *Ollama) OllamaConfig() llmrouter.OllamaConfig {
	return llmrouter.OllamaConfig{BaseURL: o.URL(), Model: Model, HTTPClient: o.srv.Client(),
		Timeout: 10 * time.Second, BackoffBase: time.Millisecond}
}

// Pull makes models available besides Model; others get a 404.
func (o *Ollama) Pull(models ...string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, m := range models {
		o.models[m] = true
	}
}

// Script appends steps to the script.
func (o *Ollama) Script(steps ...Step) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.script = append(o.script, steps...)
}

// Pending returns how many scripted steps are left.
func (o *Ollama) Pending() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.script)
}

// Down makes every request get Ollama's 503 until Up.
func (o *Ollama) Down() {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.down = true
}

// Up ends Down.
func (o *Ollama) Up() {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.down = false
}

// Requests returns every request received so far, in order.
func (o *Ollama) Requests() []Request {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]Request(nil), o.requests...)
}

func ollamaError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}

func (o *Ollama) serve(w http.ResponseWriter, r *http.Request) {
	raw, _ := io.ReadAll(io.LimitReader(r.Body, 16<<20))
	req := Request{Method: r.Method, Path: r.URL.Path, Header: r.Header.Clone(), Raw: raw}
	_ = json.Unmarshal(raw, &req.JSON)
	var bodyErr error
	if r.URL.Path == OllamaChatPath {
		bodyErr = json.Unmarshal(raw, &req.Ollama)
	}

	o.mu.Lock()
	o.requests = append(o.requests, req)
	n := len(o.requests)
	down := o.down
	o.mu.Unlock()

	switch {
	case r.Method != http.MethodPost || (r.URL.Path != OllamaChatPath && r.URL.Path != OllamaEmbedPath):
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(http.StatusNotFound)
		_, _ = io.WriteString(w, "404 page not found")
		return
	case down:
		ollamaError(w, http.StatusServiceUnavailable, "server busy, please try again.  maximum pending requests exceeded")
		return
	case bodyErr != nil:
		ollamaError(w, http.StatusBadRequest, bodyErr.Error())
		return
	}
	var model string
	if r.URL.Path == OllamaEmbedPath {
		var body struct {
			Model string `json:"model"`
		}
		_ = json.Unmarshal(raw, &body)
		model = body.Model
	} else {
		model = req.Ollama.Model
	}
	if msg := o.checkModel(model); msg != "" {
		status := http.StatusNotFound
		if model == "" {
			status = http.StatusBadRequest
		}
		ollamaError(w, status, msg)
		return
	}
	if r.URL.Path == OllamaEmbedPath {
		o.embed(w, raw)
		return
	}
	for i, m := range req.Ollama.Messages {
		switch m.Role {
		case "system", "user", "assistant", "tool":
		default:
			ollamaError(w, http.StatusBadRequest, fmt.Sprintf("invalid role %q in messages[%d]", m.Role, i))
			return
		}
	}

	o.mu.Lock()
	var step Step
	ok := len(o.script) > 0
	if ok {
		step, o.script = o.script[0], o.script[1:]
	}
	o.mu.Unlock()
	if !ok {
		o.t.Errorf("llmtest: ollama request %d found no scripted step", n)
		ollamaError(w, http.StatusInternalServerError, "llmtest: script exhausted")
		return
	}
	if step.Func != nil {
		step = step.Func(req)
	}
	stream := req.Ollama.Stream == nil || *req.Ollama.Stream
	switch {
	case step.Hang:
		hang(r)
		return
	case step.Status != 0:
		if step.RetryAfter != "" {
			// As a proxy in front of Ollama (or Ollama's cloud) sends it.
			w.Header().Set("Retry-After", step.RetryAfter)
		}
		ollamaError(w, step.Status, step.ErrorMessage)
		return
	case step.Body != "":
		w.Header().Set("Content-Type", "application/json")
		if stream {
			w.Header().Set("Content-Type", "application/x-ndjson")
		}
		_, _ = io.WriteString(w, step.Body)
		return
	}
	lines, err := ollamaLines(model, step, stream)
	if err != nil {
		o.t.Errorf("llmtest: ollama request %d: %v", n, err)
		ollamaError(w, http.StatusInternalServerError, "llmtest: bad step")
		return
	}
	if !stream {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(lines[0])
		return
	}
	w.Header().Set("Content-Type", "application/x-ndjson")
	f, _ := w.(http.Flusher)
	for _, l := range lines {
		_, _ = w.Write(append(l, '\n'))
		if f != nil {
			f.Flush()
		}
	}
}

func (o *Ollama) checkModel(model string) string {
	if model == "" {
		return "model is required"
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if !o.models[model] && !o.models[strings.TrimSuffix(model, ":latest")] {
		return fmt.Sprintf("model %q not found, try pulling it first", model)
	}
	return ""
}

// ollamaLines encodes step as /api/chat answer objects: one when not
// streaming, else the pieces and the done object.
func ollamaLines(model string, step Step, stream bool) ([][]byte, error) {
	const created = "2025-01-01T00:00:00.000000Z"
	var calls []map[string]any
	for i, c := range step.ToolCalls {
		var args map[string]any
		if err := json.Unmarshal([]byte(c.Arguments), &args); err != nil {
			return nil, fmt.Errorf("call %d: Ollama sends arguments as an object: %w", i, err)
		}
		call := map[string]any{"function": map[string]any{"name": c.Name, "arguments": args}}
		if c.ID != "" {
			call["id"] = c.ID
			call["function"].(map[string]any)["index"] = i
		}
		calls = append(calls, call)
	}
	reason := step.FinishReason
	if reason == "" {
		reason = "stop" // also after tool calls
	}
	done := func(m map[string]any) []byte {
		b, _ := json.Marshal(map[string]any{
			"model": model, "created_at": created, "message": m, "done": true, "done_reason": reason,
			"total_duration": 1_500_000_000, "load_duration": 20_000_000,
			"prompt_eval_count": step.Usage.Prompt, "prompt_eval_duration": 100_000_000,
			"eval_count": step.Usage.Completion, "eval_duration": 1_300_000_000,
		})
		return b
	}
	if !stream {
		m := map[string]any{"role": "assistant", "content": step.Text}
		if len(calls) > 0 {
			m["tool_calls"] = calls
		}
		return [][]byte{done(m)}, nil
	}
	piece := func(m map[string]any) []byte {
		b, _ := json.Marshal(map[string]any{"model": model, "created_at": created, "message": m, "done": false})
		return b
	}
	var out [][]byte
	for _, word := range strings.SplitAfter(step.Text, " ") {
		if word != "" {
			out = append(out, piece(map[string]any{"role": "assistant", "content": word}))
		}
	}
	if len(calls) > 0 {
		out = append(out, piece(map[string]any{"role": "assistant", "content": "", "tool_calls": calls}))
	}
	return append(out, done(map[string]any{"role": "assistant", "content": ""})), nil
}

// embed answers POST /api/embed.
func (o *Ollama) embed(w http.ResponseWriter, raw []byte) {
	var body struct {
		Model string          `json:"model"`
		Input json.RawMessage `json:"input"`
	}
	_ = json.Unmarshal(raw, &body)
	texts, ok := inputs(body.Input)
	if !ok {
		ollamaError(w, http.StatusBadRequest, "invalid input type")
		return
	}
	vs := make([][]float32, len(texts))
	for i, t := range texts {
		vs[i] = Vector(t)
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"model": body.Model, "embeddings": vs, "total_duration": 14_143_917, "load_duration": 1_019_500,
		"prompt_eval_count": len(texts),
	})
}
