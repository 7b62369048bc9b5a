// Package llmtest provides scripted fakes of LLM servers for tests, each
// speaking its server's real wire format and recording every request:
// Server, an OpenAI-compatible chat-completions server (with server-sent
// event streams, /v1/embeddings and llama.cpp's /health), and Ollama, the
// native Ollama API (/api/chat with JSON or NDJSON answers, /api/embed).
// They refuse what the real servers refuse (a tool result that answers no
// call, a tool call left unanswered, tool_choice without tools, a bad key,
// string tool arguments for Ollama) and answer from a script of steps: a
// text reply, tool calls, an error answer, or a function of the request.
//
// Concurrency: a fake's script, mode and recorded requests are guarded by
// one mutex; its methods are safe to call while requests are in flight, and
// concurrent requests take steps in the order they arrive.
package llmtest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/frontdesk-ai/frontdesk/llmrouter"
)

// Paths the Server answers.
const (
	CompletionsPath = "/v1/chat/completions"
	EmbeddingsPath  = "/v1/embeddings"
	// HealthPath is llama.cpp's readiness endpoint.
	HealthPath = "/health"
)

// Model is the model OpenAIConfig configures.
const Model = "llmtest-model"

// Request is one request the Server received, recorded before it was
// answered.
type Request struct {
	Method string
	Path   string
	Header http.Header
	Raw    []byte
	// JSON is the body decoded as generic JSON; nil when it was not an
	// object.
	JSON map[string]any
	// Body is the body decoded as a chat-completion request (Server).
	Body ChatRequest
	// Ollama is the body decoded as an /api/chat request (Ollama).
	Ollama OllamaChat
}

// ChatRequest is a chat-completion request body.
type ChatRequest struct {
	Model       string          `json:"model"`
	Messages    []ChatMessage   `json:"messages"`
	Tools       []ChatTool      `json:"tools"`
	ToolChoice  json.RawMessage `json:"tool_choice"`
	Temperature *float64        `json:"temperature"`
	MaxTokens   *int            `json:"max_tokens"`
	Stream      bool            `json:"stream"`
	// StreamOptions is stream_options; null when absent.
	StreamOptions *struct {
		IncludeUsage bool `json:"include_usage"`
	} `json:"stream_options"`
	// ResponseFormat is the raw response_format; empty when absent.
	ResponseFormat    json.RawMessage `json:"response_format"`
	ParallelToolCalls *bool           `json:"parallel_tool_calls"`
}

// ChatMessage is one entry of ChatRequest.Messages.
type ChatMessage struct {
	Role string `json:"role"`
	// Content is the raw content: a string, null, or an array of parts.
	Content    json.RawMessage `json:"content"`
	ToolCalls  []ChatToolCall  `json:"tool_calls"`
	ToolCallID string          `json:"tool_call_id"`
	Name       string          `json:"name"`
}

// Text returns the content when it is a string, else "".
func (m ChatMessage) Text() string {
	var s string
	_ = json.Unmarshal(m.Content, &s)
	return s
}

// ChatToolCall is a tool call of an assistant ChatMessage.
type ChatToolCall struct {
	ID       string `json:"id"`
	Type     string `json:"type"`
	Function struct {
		Name string `json:"name"`
		// Arguments is the JSON string the wire format requires.
		Arguments string `json:"arguments"`
	} `json:"function"`
}

// ChatTool is an entry of ChatRequest.Tools.
type ChatTool struct {
	Type     string `json:"type"`
	Function struct {
		Name        string          `json:"name"`
		Description string          `json:"description"`
		Parameters  json.RawMessage `json:"parameters"`
		Strict      *bool           `json:"strict"`
	} `json:"function"`
}

// ToolNames returns the names of the offered tools, in order.
func (r ChatRequest) ToolNames() []string {
	var names []string
	for _, t := range r.Tools {
		names = append(names, t.Function.Name)
	}
	return names
}

// Last returns the last message, or a zero ChatMessage.
func (r ChatRequest) Last() ChatMessage {
	if len(r.Messages) == 0 {
		return ChatMessage{}
	}
	return r.Messages[len(r.Messages)-1]
}

// Step is one scripted answer: Func when set, else no answer when Hang is
// set, else an error answer when Status is set, else Body when set, else a
// completion of Text and ToolCalls.
type Step struct {
	// Text is the assistant content; with tool calls and no text the
	// content is null.
	Text      string
	ToolCalls []Call
	// FinishReason defaults to "tool_calls" with tool calls, else "stop".
	FinishReason string
	Usage        Usage
	// Status, when set, answers with that HTTP status and an OpenAI error
	// body of ErrorType (default by status), ErrorCode and ErrorMessage.
	Status       int
	ErrorType    string
	ErrorCode    string
	ErrorMessage string
	// RetryAfter, when set, is sent as the Retry-After header.
	RetryAfter string
	// Body, when set, is sent as is with HTTP 200 (for malformed or
	// unusual answers); to a streaming request, as an event stream.
	Body string
	// UsageChoicesNull makes a stream's usage chunk carry "choices": null,
	// as vLLM's does, instead of [].
	UsageChoicesNull bool
	// Hang holds the answer until the client gives up (its request ends)
	// or HangLimit passes, then answers nothing: a server that is too slow.
	Hang bool
	// Func computes the step from the request.
	Func func(Request) Step
}

// Call is a scripted tool call.
type Call struct {
	// ID defaults to "call_<request>_<index>".
	ID   string
	Name string
	// Arguments is the raw argument text the model "produced"; it is sent
	// as a JSON string, or as raw JSON when ArgumentsAsObject (as some
	// servers do).
	Arguments         string
	ArgumentsAsObject bool
}

// Usage is a scripted token count; the total is their sum.
type Usage struct {
	Prompt     int
	Completion int
}

// Text returns a step answering text.
func Text(text string) Step { return Step{Text: text} }

// ToolCalls returns a step calling the tools, in parallel when several.
func ToolCalls(calls ...Call) Step { return Step{ToolCalls: calls} }

// Error returns a step answering status with an OpenAI error body.
func Error(status int, message string) Step {
	return Step{Status: status, ErrorMessage: message}
}

// RateLimited returns a 429 step with Retry-After retryAfter.
func RateLimited(retryAfter string) Step {
	return Step{Status: http.StatusTooManyRequests, ErrorType: "requests", ErrorCode: "rate_limit_exceeded",
		ErrorMessage: "Rate limit reached. Please try again later.", RetryAfter: retryAfter}
}

// HangLimit bounds how long a Hang step holds a request whose client never
// gives up.
const HangLimit = 10 * time.Second

// Hang returns a step that holds the request until the client gives up.
func Hang() Step { return Step{Hang: true} }

// hang holds r until its client gives up or HangLimit passes.
func hang(r *http.Request) {
	t := time.NewTimer(HangLimit)
	defer t.Stop()
	select {
	case <-r.Context().Done():
	case <-t.C:
	}
}

// Func returns a step computed from the request.
func Func(f func(Request) Step) Step { return Step{Func: f} }

// WithUsage returns s reporting the given token counts.
func (s Step) WithUsage(prompt, completion int) Step {
	s.Usage = Usage{Prompt: prompt, Completion: completion}
	return s
}

// Server is the fake. Its zero value is not usable; call NewServer.
type Server struct {
	t   testing.TB
	srv *httptest.Server

	mu       sync.Mutex
	script   []Step
	down     bool
	loading  bool
	apiKey   string
	requests []Request
}

// NewServer starts a Server answering steps in order; t closes it at
// cleanup. A request that finds no step left fails t and gets a 500.
func NewServer(t testing.TB, steps ...Step) *Server {
	s := &Server{t: t, script: append([]Step(nil), steps...)}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.srv.Close)
	return s
}

// BaseURL returns the value for FRONTDESK_LLM_BASE_URL: the server's URL
// with /v1.
func (s *Server) BaseURL() string { return s.srv.URL + "/v1" }

// HTTPClient returns a client for the server.
func (s *Server) HTTPClient() *http.Client { return s.srv.Client() }

// OpenAIConfig returns a backend config for the server with Model, a 10 s
// attempt timeout and a 1 ms backoff base, so retries don't slow tests.
func (s *Server) OpenAIConfig() llmrouter.OpenAIConfig {
	return llmrouter.OpenAIConfig{BaseURL: s.BaseURL(), Model: Model, HTTPClient: s.HTTPClient(),
		Timeout: 10 * time.Second, BackoffBase: time.Millisecond}
}

// Script appends steps to the script.
func (s *Server) Script(steps ...Step) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.script = append(s.script, steps...)
}

// Pending returns how many scripted steps are left.
func (s *Server) Pending() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.script)
}

// Down makes every request get a 503 until Up; no step is taken.
func (s *Server) Down() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.down = true
}

// Up ends Down.
func (s *Server) Up() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.down = false
}

// Loading makes the server act as llama-server while it loads its model
// until Loaded: GET /health and every other request get a 503 "Loading
// model"; no step is taken.
func (s *Server) Loading() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.loading = true
}

// Loaded ends Loading: GET /health answers 200 {"status":"ok"}.
func (s *Server) Loaded() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.loading = false
}

// RequireAPIKey makes requests without "Authorization: Bearer key" get
// OpenAI's 401 invalid_api_key answer.
func (s *Server) RequireAPIKey(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.apiKey = key
}

// Requests returns every request received so far, in order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	raw, _ := io.ReadAll(io.LimitReader(r.Body, 16<<20))
	req := Request{Method: r.Method, Path: r.URL.Path, Header: r.Header.Clone(), Raw: raw}
	_ = json.Unmarshal(raw, &req.JSON)
	bodyErr := json.Unmarshal(raw, &req.Body)

	s.mu.Lock()
	s.requests = append(s.requests, req)
	n := len(s.requests)
	down, loading, apiKey := s.down, s.loading, s.apiKey
	s.mu.Unlock()

	switch {
	case loading:
		// llama-server's answer to every request while it loads.
		writeJSON(w, http.StatusServiceUnavailable, map[string]any{"error": map[string]any{
			"code": 503, "message": "Loading model", "type": "unavailable_error"}})
		return
	case r.Method == http.MethodGet && r.URL.Path == HealthPath:
		writeJSON(w, http.StatusOK, map[string]any{"status": "ok"})
		return
	case r.Method == http.MethodPost && r.URL.Path == EmbeddingsPath:
	case r.Method != http.MethodPost || r.URL.Path != CompletionsPath:
		writeError(w, Step{Status: http.StatusNotFound, ErrorType: "invalid_request_error", ErrorCode: "unknown_url",
			ErrorMessage: fmt.Sprintf("Unknown request URL: %s %s.", r.Method, r.URL.Path)})
		return
	case down:
		writeError(w, Step{Status: http.StatusServiceUnavailable, ErrorType: "server_error",
			ErrorMessage: "The server is overloaded or not ready yet."})
		return
	case apiKey != "" && r.Header.Get("Authorization") != "Bearer "+apiKey:
		writeError(w, Step{Status: http.StatusUnauthorized, ErrorType: "invalid_request_error", ErrorCode: "invalid_api_key",
			ErrorMessage: "Incorrect API key provided."})
		return
	}
	if bodyErr != nil {
		writeError(w, Step{Status: http.StatusBadRequest, ErrorType: "invalid_request_error",
			ErrorMessage: "We could not parse the JSON body of your request: " + bodyErr.Error()})
		return
	}
	if r.URL.Path == EmbeddingsPath {
		if down {
			writeError(w, Step{Status: http.StatusServiceUnavailable, ErrorType: "server_error",
				ErrorMessage: "The server is overloaded or not ready yet."})
			return
		}
		s.embeddings(w, req)
		return
	}
	if msg := validate(req.Body); msg != "" {
		writeError(w, Step{Status: http.StatusBadRequest, ErrorType: "invalid_request_error", ErrorMessage: msg})
		return
	}

	s.mu.Lock()
	var step Step
	ok := len(s.script) > 0
	if ok {
		step, s.script = s.script[0], s.script[1:]
	}
	s.mu.Unlock()
	if !ok {
		s.t.Errorf("llmtest: request %d found no scripted step", n)
		writeError(w, Step{Status: http.StatusInternalServerError, ErrorType: "server_error", ErrorMessage: "llmtest: script exhausted"})
		return
	}
	if step.Func != nil {
		step = step.Func(req)
		if step.Func != nil {
			s.t.Errorf("llmtest: request %d: Func returned another Func step", n)
		}
	}
	switch {
	case step.Hang:
		hang(r)
	case step.Status != 0:
		if step.RetryAfter != "" {
			w.Header().Set("Retry-After", step.RetryAfter)
		}
		writeError(w, step)
	case step.Body != "" && req.Body.Stream:
		w.Header().Set("Content-Type", "text/event-stream")
		_, _ = io.WriteString(w, step.Body)
	case step.Body != "":
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, step.Body)
	case req.Body.Stream:
		include := req.Body.StreamOptions != nil && req.Body.StreamOptions.IncludeUsage
		chunks, err := streamChunks(n, req.Body.Model, step, include)
		if err != nil {
			s.t.Errorf("llmtest: request %d: %v", n, err)
			writeError(w, Step{Status: http.StatusInternalServerError, ErrorType: "server_error", ErrorMessage: "llmtest: bad step"})
			return
		}
		writeEvents(w, chunks)
	default:
		out, err := completion(n, req.Body.Model, step)
		if err != nil {
			s.t.Errorf("llmtest: request %d: %v", n, err)
			writeError(w, Step{Status: http.StatusInternalServerError, ErrorType: "server_error", ErrorMessage: "llmtest: bad step"})
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(out)
	}
}

// validate returns what a strict OpenAI-compatible server would refuse in
// body, or "".
func validate(body ChatRequest) string {
	if body.Model == "" {
		return "you must provide a model parameter"
	}
	if len(body.Messages) == 0 {
		return "'messages' must contain at least one message"
	}
	if body.StreamOptions != nil && !body.Stream {
		return "The 'stream_options' parameter is only allowed when 'stream' is enabled."
	}
	if msg := validateResponseFormat(body.ResponseFormat); msg != "" {
		return msg
	}
	if len(body.ToolChoice) > 0 && string(body.ToolChoice) != "null" && len(body.Tools) == 0 {
		return "Invalid value for 'tool_choice': 'tool_choice' is only allowed when 'tools' are specified."
	}
	for i, t := range body.Tools {
		if t.Type != "function" || t.Function.Name == "" {
			return fmt.Sprintf("Invalid 'tools[%d]': a function tool with a name is required.", i)
		}
	}
	open := map[string]bool{} // tool calls awaiting a result
	for i, m := range body.Messages {
		if m.Role != "tool" && len(open) > 0 {
			return fmt.Sprintf("An assistant message with 'tool_calls' must be followed by tool messages responding to each 'tool_call_id'. (messages[%d])", i)
		}
		switch m.Role {
		case "system", "user":
		case "assistant":
			for _, c := range m.ToolCalls {
				if c.ID == "" || c.Type != "function" || c.Function.Name == "" {
					return fmt.Sprintf("Invalid 'messages[%d].tool_calls': id, type \"function\" and function.name are required.", i)
				}
				open[c.ID] = true
			}
		case "tool":
			if !open[m.ToolCallID] {
				return fmt.Sprintf("Invalid parameter: messages with role 'tool' must be a response to a preceeding message with 'tool_calls'. (messages[%d])", i)
			}
			delete(open, m.ToolCallID)
		default:
			return fmt.Sprintf("Invalid value for 'messages[%d].role': %q.", i, m.Role)
		}
	}
	if len(open) > 0 {
		return "An assistant message with 'tool_calls' must be followed by tool messages responding to each 'tool_call_id'."
	}
	return ""
}

// completion encodes step as the answer to request n.
func completion(n int, model string, step Step) ([]byte, error) {
	type function struct {
		Name      string          `json:"name"`
		Arguments json.RawMessage `json:"arguments"`
	}
	type toolCall struct {
		ID       string   `json:"id"`
		Type     string   `json:"type"`
		Function function `json:"function"`
	}
	var calls []toolCall
	for i, c := range step.ToolCalls {
		id := c.ID
		if id == "" {
			id = "call_" + strconv.Itoa(n) + "_" + strconv.Itoa(i)
		}
		args, _ := json.Marshal(c.Arguments)
		if c.ArgumentsAsObject {
			if !json.Valid([]byte(c.Arguments)) {
				return nil, fmt.Errorf("call %d: ArgumentsAsObject needs valid JSON arguments", i)
			}
			args = json.RawMessage(c.Arguments)
		}
		calls = append(calls, toolCall{ID: id, Type: "function", Function: function{Name: c.Name, Arguments: args}})
	}
	var content *string
	if step.Text != "" || len(calls) == 0 {
		content = &step.Text
	}
	finish := step.FinishReason
	if finish == "" {
		finish = "stop"
		if len(calls) > 0 {
			finish = "tool_calls"
		}
	}
	type message struct {
		Role      string     `json:"role"`
		Content   *string    `json:"content"`
		ToolCalls []toolCall `json:"tool_calls,omitempty"`
	}
	type choice struct {
		Index        int     `json:"index"`
		Message      message `json:"message"`
		FinishReason string  `json:"finish_reason"`
	}
	body := struct {
		ID      string   `json:"id"`
		Object  string   `json:"object"`
		Created int64    `json:"created"`
		Model   string   `json:"model"`
		Choices []choice `json:"choices"`
		Usage   struct {
			PromptTokens     int `json:"prompt_tokens"`
			CompletionTokens int `json:"completion_tokens"`
			TotalTokens      int `json:"total_tokens"`
		} `json:"usage"`
	}{
		ID: "chatcmpl-llmtest-" + strconv.Itoa(n), Object: "chat.completion", Created: 1735689600, Model: model,
		Choices: []choice{{Message: message{Role: "assistant", Content: content, ToolCalls: calls}, FinishReason: finish}},
	}
	body.Usage.PromptTokens, body.Usage.CompletionTokens = step.Usage.Prompt, step.Usage.Completion
	body.Usage.TotalTokens = step.Usage.Prompt + step.Usage.Completion
	return json.Marshal(body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	body, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

func writeError(w http.ResponseWriter, step Step) {
	typ := step.ErrorType
	if typ == "" {
		switch {
		case step.Status == http.StatusTooManyRequests:
			typ = "requests"
		case step.Status >= 500:
			typ = "server_error"
		default:
			typ = "invalid_request_error"
		}
	}
	var code any
	if step.ErrorCode != "" {
		code = step.ErrorCode
	}
	body, _ := json.Marshal(map[string]any{"error": map[string]any{
		"message": step.ErrorMessage, "type": typ, "param": nil, "code": code,
	}})
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(step.Status)
	_, _ = w.Write(body)
}
