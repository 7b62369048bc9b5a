package llmrouter

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// The OpenAI chat-completions wire format (specs/channels-and-llm.md §5).

type wireRequest struct {
	Model             string              `json:"model"`
	Messages          []wireMessage       `json:"messages"`
	Tools             []wireTool          `json:"tools,omitempty"`
	ToolChoice        any                 `json:"tool_choice,omitempty"`
	ParallelToolCalls *bool               `json:"parallel_tool_calls,omitempty"`
	ResponseFormat    *wireResponseFormat `json:"response_format,omitempty"`
	Temperature       *float64            `json:"temperature,omitempty"`
	MaxTokens         int                 `json:"max_tokens,omitempty"`
	Stream            bool                `json:"stream,omitempty"`
	StreamOptions     *wireStreamOptions  `json:"stream_options,omitempty"`
}

// wireResponseFormat is OpenAI's nested form, which vLLM and llama.cpp
// also parse: {"type":"json_schema","json_schema":{"name","schema"}} or
// {"type":"json_object"}.
type wireResponseFormat struct {
	Type       string          `json:"type"`
	JSONSchema *wireJSONSchema `json:"json_schema,omitempty"`
}

type wireJSONSchema struct {
	Name   string          `json:"name"`
	Schema json.RawMessage `json:"schema"`
	Strict bool            `json:"strict,omitempty"`
}

type wireStreamOptions struct {
	IncludeUsage bool `json:"include_usage"`
}

type wireMessage struct {
	Role string `json:"role"`
	// Content is null only on an assistant message that carries tool calls
	// and no text.
	Content    *string        `json:"content"`
	ToolCalls  []wireToolCall `json:"tool_calls,omitempty"`
	ToolCallID string         `json:"tool_call_id,omitempty"`
	Name       string         `json:"name,omitempty"`
}

type wireToolCall struct {
	ID       string       `json:"id"`
	Type     string       `json:"type"`
	Function wireFunction `json:"function"`
}

type wireFunction struct {
	Name string `json:"name"`
	// Arguments is a JSON string on the wire.
	Arguments string `json:"arguments"`
}

type wireTool struct {
	Type     string           `json:"type"`
	Function wireToolFunction `json:"function"`
}

type wireToolFunction struct {
	Name        string          `json:"name"`
	Description string          `json:"description,omitempty"`
	Parameters  json.RawMessage `json:"parameters"`
	Strict      *bool           `json:"strict,omitempty"`
}

type wireNamedChoice struct {
	Type     string `json:"type"`
	Function struct {
		Name string `json:"name"`
	} `json:"function"`
}

// emptyParameters is the schema of a tool without parameters; some servers'
// chat templates need one.
const emptyParameters = `{"type":"object","properties":{}}`

// defaultSchemaName names a ResponseFormat schema that has no name.
const defaultSchemaName = "response"

// encodeRequest builds the chat-completions body for req, sending model
// when req.Model is empty. req must be valid.
func encodeRequest(req Request, model string) ([]byte, error) {
	return encodeWith(req, model, dialect{}, false)
}

// encodeWith is encodeRequest for a server of dialect d, asking for a
// stream with usage when stream is set.
func encodeWith(req Request, model string, d dialect, stream bool) ([]byte, error) {
	if req.Model != "" {
		model = req.Model
	}
	w := wireRequest{
		Model:       model,
		Messages:    make([]wireMessage, 0, len(req.Messages)),
		Temperature: req.Temperature,
		MaxTokens:   req.MaxTokens,
	}
	if stream {
		w.Stream = true
		w.StreamOptions = &wireStreamOptions{IncludeUsage: true}
	}
	w.ResponseFormat = encodeResponseFormat(req.ResponseFormat)
	for _, m := range req.Messages {
		wm := wireMessage{Role: m.Role}
		content := m.Content
		if m.Role != RoleAssistant || content != "" || len(m.ToolCalls) == 0 {
			wm.Content = &content
		}
		switch m.Role {
		case RoleTool:
			// OpenAI's tool message has no name; the call id links it.
			wm.ToolCallID = m.ToolCallID
		default:
			wm.Name = m.Name
		}
		for _, c := range m.ToolCalls {
			args := string(c.Arguments)
			if strings.TrimSpace(args) == "" {
				args = "{}"
			}
			wm.ToolCalls = append(wm.ToolCalls, wireToolCall{
				ID: c.ID, Type: "function", Function: wireFunction{Name: c.Name, Arguments: args},
			})
		}
		w.Messages = append(w.Messages, wm)
	}
	for _, t := range req.Tools {
		params := t.Parameters
		if len(bytes.TrimSpace(params)) == 0 {
			params = json.RawMessage(emptyParameters)
		}
		f := wireToolFunction{Name: t.Name, Description: t.Description, Parameters: params}
		if d.strictTools {
			f.Strict = &d.strictTools
		}
		w.Tools = append(w.Tools, wireTool{Type: "function", Function: f})
	}
	if d.parallelToolCalls && req.wantsTools() {
		w.ParallelToolCalls = &d.parallelToolCalls
	}
	if len(req.Tools) > 0 {
		switch req.ToolChoice {
		case "":
			w.ToolChoice = ToolChoiceAuto
		case ToolChoiceAuto, ToolChoiceNone, ToolChoiceRequired:
			w.ToolChoice = req.ToolChoice
		default:
			var c wireNamedChoice
			c.Type = "function"
			c.Function.Name = req.ToolChoice
			w.ToolChoice = c
		}
	}
	body, err := json.Marshal(w)
	if err != nil {
		return nil, fmt.Errorf("encode chat completion request: %w", err)
	}
	return body, nil
}

// encodeResponseFormat returns the response_format of f, nil for none.
func encodeResponseFormat(f *ResponseFormat) *wireResponseFormat {
	if f == nil {
		return nil
	}
	if len(bytes.TrimSpace(f.Schema)) == 0 {
		return &wireResponseFormat{Type: "json_object"}
	}
	name := f.Name
	if name == "" {
		name = defaultSchemaName
	}
	return &wireResponseFormat{Type: "json_schema", JSONSchema: &wireJSONSchema{Name: name, Schema: f.Schema, Strict: f.Strict}}
}

type wireResponse struct {
	Model   string        `json:"model"`
	Choices []wireChoice  `json:"choices"`
	Usage   *wireUsage    `json:"usage"`
	Error   *wireAPIError `json:"error"`
}

type wireChoice struct {
	Message      *wireRespMessage `json:"message"`
	FinishReason *string          `json:"finish_reason"`
}

type wireRespMessage struct {
	Role string `json:"role"`
	// Content is a string, null, or (some servers) an array of parts.
	Content   json.RawMessage    `json:"content"`
	ToolCalls []wireRespToolCall `json:"tool_calls"`
}

type wireRespToolCall struct {
	ID       string `json:"id"`
	Function struct {
		Name string `json:"name"`
		// Arguments is a JSON string per OpenAI, an object from some
		// servers.
		Arguments json.RawMessage `json:"arguments"`
	} `json:"function"`
}

type wireUsage struct {
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
	TotalTokens      int `json:"total_tokens"`
}

// wireAPIError is the error object of an error answer. Code is a string
// (OpenAI), a number (llama.cpp, vLLM) or null.
type wireAPIError struct {
	Message string          `json:"message"`
	Type    string          `json:"type"`
	Code    json.RawMessage `json:"code"`
}

// errMalformed marks an answer that is not a usable chat completion.
var errMalformed = errors.New("malformed chat completion")

// parseResponse reads a chat-completion body: choices[0].message, its
// finish_reason, usage and model. Content may be null, a string or an array
// of text parts; tool-call arguments may be a JSON string (kept as its
// text) or any other JSON value (kept raw). A tool call without an id gets
// "call_<index>".
func parseResponse(body []byte) (Response, error) {
	var w wireResponse
	if err := json.Unmarshal(body, &w); err != nil {
		return Response{}, fmt.Errorf("%w: %w", errMalformed, err)
	}
	if len(w.Choices) == 0 || w.Choices[0].Message == nil {
		if w.Error != nil {
			return Response{}, fmt.Errorf("%w: no choices, error %q", errMalformed, clip(w.Error.Message, maxErrorMessage))
		}
		return Response{}, fmt.Errorf("%w: no choices", errMalformed)
	}
	ch := w.Choices[0]
	text, err := parseContent(ch.Message.Content)
	if err != nil {
		return Response{}, err
	}
	resp := Response{Model: w.Model, Message: Message{Role: RoleAssistant, Content: text}}
	if ch.FinishReason != nil {
		resp.FinishReason = *ch.FinishReason
	}
	if w.Usage != nil {
		resp.Usage = Usage{PromptTokens: w.Usage.PromptTokens, CompletionTokens: w.Usage.CompletionTokens, TotalTokens: w.Usage.TotalTokens}
	}
	for i, c := range ch.Message.ToolCalls {
		if c.Function.Name == "" {
			return Response{}, fmt.Errorf("%w: tool call %d has no function name", errMalformed, i)
		}
		args, err := parseArguments(c.Function.Arguments)
		if err != nil {
			return Response{}, fmt.Errorf("%w: tool call %d: %w", errMalformed, i, err)
		}
		id := c.ID
		if id == "" {
			id = "call_" + strconv.Itoa(i)
		}
		resp.Message.ToolCalls = append(resp.Message.ToolCalls, ToolCall{ID: id, Name: c.Function.Name, Arguments: args})
	}
	return resp, nil
}

func parseContent(raw json.RawMessage) (string, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return "", nil
	}
	switch raw[0] {
	case '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", fmt.Errorf("%w: content: %w", errMalformed, err)
		}
		return s, nil
	case '[':
		var parts []struct {
			Type string `json:"type"`
			Text string `json:"text"`
		}
		if err := json.Unmarshal(raw, &parts); err != nil {
			return "", fmt.Errorf("%w: content parts: %w", errMalformed, err)
		}
		var b strings.Builder
		for _, p := range parts {
			if p.Type == "text" || p.Type == "" {
				b.WriteString(p.Text)
			}
		}
		return b.String(), nil
	}
	return "", fmt.Errorf("%w: content is neither a string nor parts", errMalformed)
}

// parseArguments returns a tool call's arguments as raw JSON text: the
// contents of a JSON string, any other JSON value as sent, nothing for null
// or absent.
func parseArguments(raw json.RawMessage) (json.RawMessage, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return nil, nil
	}
	if raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, fmt.Errorf("arguments: %w", err)
		}
		return json.RawMessage(s), nil
	}
	return append(json.RawMessage(nil), raw...), nil
}

// maxErrorMessage bounds the server text kept in an error.
const maxErrorMessage = 500

// parseAPIError reads an error answer's body: {"error":{…}} (OpenAI,
// llama.cpp, Ollama /v1), {"error":"…"}, a top-level {"message","type",
// "code"} (older vLLM), or any other text, kept clipped.
func parseAPIError(status int, body []byte) *APIError {
	e := &APIError{StatusCode: status}
	var nested struct {
		Error json.RawMessage `json:"error"`
	}
	var obj wireAPIError
	switch {
	case json.Unmarshal(body, &nested) == nil && len(nested.Error) > 0 && nested.Error[0] == '{' && json.Unmarshal(nested.Error, &obj) == nil:
	case len(nested.Error) > 0 && nested.Error[0] == '"' && json.Unmarshal(nested.Error, &obj.Message) == nil:
	case json.Unmarshal(body, &obj) == nil && obj.Message != "":
	default:
		obj = wireAPIError{Message: strings.TrimSpace(string(body))}
	}
	e.Type = clip(obj.Type, 100)
	e.Code = clip(codeString(obj.Code), 100)
	e.Message = clip(obj.Message, maxErrorMessage)
	return e
}

func codeString(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	return string(raw)
}

// clip cuts s to at most n bytes on a rune boundary.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
