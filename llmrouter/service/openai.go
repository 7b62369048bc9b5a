package service

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"

	"github.com/frontdesk-ai/frontdesk/llmrouter"
)

// The OpenAI-compatible facade (specs/channels-and-llm.md §5): standard
// clients point their base URL at {service}/v1 and work unchanged. The
// request's model is echoed back but selects nothing: the router's policy
// picks the backend, and X-Frontdesk-Backend / -Model / -Route / -Offline
// say which answered. /v1/embeddings passes the request's model on (see
// Service.embeddings). Sampling options the router has no field for (top_p,
// stop, penalties, seed, …) are accepted and ignored.

// Headers of the facade: the accounting identity of a call (the tenant
// defaults to Config.DefaultTenantID) and what answered it.
const (
	HeaderTenantID       = "X-Frontdesk-Tenant-ID"
	HeaderAgentProfileID = "X-Frontdesk-Agent-Profile-ID"
	HeaderConversationID = "X-Frontdesk-Conversation-ID"
	HeaderBackend        = "X-Frontdesk-Backend"
	HeaderModel          = "X-Frontdesk-Model"
	HeaderRoute          = "X-Frontdesk-Route"
	HeaderOffline        = "X-Frontdesk-Offline"
)

type chatRequest struct {
	Model               string          `json:"model"`
	Messages            []chatMessage   `json:"messages"`
	Tools               []chatTool      `json:"tools"`
	ToolChoice          toolChoice      `json:"tool_choice"`
	ResponseFormat      *responseFormat `json:"response_format"`
	Stream              bool            `json:"stream"`
	StreamOptions       *streamOptions  `json:"stream_options"`
	Temperature         *float64        `json:"temperature"`
	MaxTokens           *int            `json:"max_tokens"`
	MaxCompletionTokens *int            `json:"max_completion_tokens"`
	N                   *int            `json:"n"`
}

type streamOptions struct {
	IncludeUsage bool `json:"include_usage"`
}

type chatMessage struct {
	Role string `json:"role"`
	// Content is a string, null, or an array of content parts.
	Content    json.RawMessage `json:"content"`
	ToolCalls  []chatToolCall  `json:"tool_calls,omitempty"`
	ToolCallID string          `json:"tool_call_id,omitempty"`
	Name       string          `json:"name,omitempty"`
}

type chatToolCall struct {
	ID       string       `json:"id"`
	Type     string       `json:"type"`
	Function chatFunction `json:"function"`
}

type chatFunction struct {
	Name      string  `json:"name"`
	Arguments argText `json:"arguments"`
}

type chatTool struct {
	Type     string `json:"type"`
	Function struct {
		Name        string          `json:"name"`
		Description string          `json:"description"`
		Parameters  json.RawMessage `json:"parameters"`
	} `json:"function"`
}

type chatCompletion struct {
	ID                string       `json:"id"`
	Object            string       `json:"object"`
	Created           int64        `json:"created"`
	Model             string       `json:"model"`
	Choices           []chatChoice `json:"choices"`
	Usage             *chatUsage   `json:"usage,omitempty"`
	SystemFingerprint *string      `json:"system_fingerprint"`
}

type chatChoice struct {
	Index        int              `json:"index"`
	Message      *chatRespMessage `json:"message,omitempty"`
	Delta        *chatDelta       `json:"delta,omitempty"`
	FinishReason *string          `json:"finish_reason"`
	Logprobs     *struct{}        `json:"logprobs"`
}

type chatRespMessage struct {
	Role      string         `json:"role"`
	Content   *string        `json:"content"`
	Refusal   *string        `json:"refusal"`
	ToolCalls []chatToolCall `json:"tool_calls,omitempty"`
}

type chatDelta struct {
	Role      string              `json:"role,omitempty"`
	Content   string              `json:"content,omitempty"`
	ToolCalls []chatToolCallPiece `json:"tool_calls,omitempty"`
}

type chatToolCallPiece struct {
	Index    int    `json:"index"`
	ID       string `json:"id,omitempty"`
	Type     string `json:"type,omitempty"`
	Function struct {
		Name      string `json:"name,omitempty"`
		Arguments string `json:"arguments"`
	} `json:"function"`
}

type chatUsage struct {
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
	TotalTokens      int `json:"total_tokens"`
}

// text returns a message's content: a string, null, or the text of an
// array of text parts, joined by newlines.
func (m chatMessage) text(i int) (string, error) {
	raw := bytes.TrimSpace(m.Content)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return "", nil
	}
	param := "messages[" + strconv.Itoa(i) + "].content"
	if raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", invalid(param, "content is not a string: "+err.Error())
		}
		return s, nil
	}
	var parts []struct {
		Type string `json:"type"`
		Text string `json:"text"`
	}
	if err := json.Unmarshal(raw, &parts); err != nil {
		return "", invalid(param, "content must be a string, null or an array of content parts")
	}
	texts := make([]string, 0, len(parts))
	for _, p := range parts {
		if p.Type != "text" {
			return "", invalid(param, fmt.Sprintf("content part type %q is not supported: only text", p.Type))
		}
		texts = append(texts, p.Text)
	}
	return strings.Join(texts, "\n"), nil
}

// toRouter returns the router's request for a facade call.
func (in chatRequest) toRouter(r *http.Request, defaultTenant string) (llmrouter.Request, error) {
	if in.N != nil && *in.N != 1 {
		return llmrouter.Request{}, invalid("n", "n must be 1: the router returns one choice")
	}
	rf, err := in.ResponseFormat.toRouter()
	if err != nil {
		return llmrouter.Request{}, err
	}
	req := llmrouter.Request{
		TenantID: r.Header.Get(HeaderTenantID), AgentProfileID: r.Header.Get(HeaderAgentProfileID),
		ConversationID: r.Header.Get(HeaderConversationID), ToolChoice: string(in.ToolChoice),
		ResponseFormat: rf, Temperature: in.Temperature, Messages: make([]llmrouter.Message, len(in.Messages)),
	}
	if req.TenantID == "" {
		req.TenantID = defaultTenant
	}
	switch {
	case in.MaxCompletionTokens != nil:
		req.MaxTokens = *in.MaxCompletionTokens
	case in.MaxTokens != nil:
		req.MaxTokens = *in.MaxTokens
	}
	for i, m := range in.Messages {
		text, err := m.text(i)
		if err != nil {
			return llmrouter.Request{}, err
		}
		role := m.Role
		if role == "developer" { // OpenAI's newer name for system
			role = llmrouter.RoleSystem
		}
		rm := llmrouter.Message{Role: role, Content: text, ToolCallID: m.ToolCallID, Name: m.Name}
		for _, c := range m.ToolCalls {
			rm.ToolCalls = append(rm.ToolCalls, llmrouter.ToolCall{ID: c.ID, Name: c.Function.Name, Arguments: rawArgs(c.Function.Arguments)})
		}
		req.Messages[i] = rm
	}
	for i, t := range in.Tools {
		if t.Type != "function" {
			return llmrouter.Request{}, invalid("tools["+strconv.Itoa(i)+"].type", "only function tools are supported")
		}
		req.Tools = append(req.Tools, llmrouter.Tool{Name: t.Function.Name, Description: t.Function.Description, Parameters: t.Function.Parameters})
	}
	if err := req.Validate(); err != nil {
		return llmrouter.Request{}, invalid("", err.Error())
	}
	return req, nil
}

// newCompletionID returns a fresh chat completion id.
func newCompletionID() string {
	var b [12]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return "chatcmpl-" + hex.EncodeToString(b[:])
}

func setAnswerHeaders(w http.ResponseWriter, resp llmrouter.Response) {
	h := w.Header()
	h.Set(HeaderBackend, resp.Backend)
	h.Set(HeaderModel, resp.Model)
	if resp.Route != "" {
		h.Set(HeaderRoute, resp.Route)
	}
	h.Set(HeaderOffline, strconv.FormatBool(resp.Offline))
}

// chatCompletions handles POST /v1/chat/completions.
func (s *Service) chatCompletions(w http.ResponseWriter, r *http.Request) error {
	var in chatRequest
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	req, err := in.toRouter(r, s.cfg.DefaultTenantID)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.Timeout)
	defer cancel()
	id, created := newCompletionID(), s.now().Unix()
	if in.Stream {
		return s.streamChat(ctx, cancel, w, in, req, id, created)
	}
	resp, err := s.c.Complete(ctx, req)
	if err != nil {
		return fmt.Errorf("chat completion: %w", err)
	}
	model := in.Model
	if model == "" {
		model = resp.Model
	}
	msg := &chatRespMessage{Role: llmrouter.RoleAssistant}
	if resp.Message.Content != "" || len(resp.Message.ToolCalls) == 0 {
		content := resp.Message.Content
		msg.Content = &content
	}
	for _, c := range resp.Message.ToolCalls {
		msg.ToolCalls = append(msg.ToolCalls, chatToolCall{ID: c.ID, Type: "function", Function: chatFunction{Name: c.Name, Arguments: argText(c.Arguments)}})
	}
	finish := resp.FinishReason
	setAnswerHeaders(w, resp)
	writeJSON(w, http.StatusOK, chatCompletion{
		ID: id, Object: "chat.completion", Created: created, Model: model,
		Choices: []chatChoice{{Index: 0, Message: msg, FinishReason: &finish}},
		Usage: &chatUsage{PromptTokens: resp.Usage.PromptTokens, CompletionTokens: resp.Usage.CompletionTokens,
			TotalTokens: resp.Usage.TotalTokens},
	})
	return nil
}

// streamChat answers a streaming chat completion with OpenAI's
// chat.completion.chunk events and data: [DONE].
func (s *Service) streamChat(ctx context.Context, cancel context.CancelFunc, w http.ResponseWriter, in chatRequest, req llmrouter.Request, id string, created int64) error {
	st, ok := s.c.(Streamer)
	if !ok {
		return ErrStreamingUnsupported
	}
	model := in.Model
	ev := newEventWriter(w)
	chunk := func(c chatChoice) chatCompletion {
		return chatCompletion{ID: id, Object: "chat.completion.chunk", Created: created, Model: model, Choices: []chatChoice{c}}
	}
	first := true
	var writeErr error
	resp, err := st.Stream(ctx, req, func(d llmrouter.Delta) {
		if writeErr != nil {
			return
		}
		cd := &chatDelta{Content: d.Content}
		if first {
			cd.Role, first = llmrouter.RoleAssistant, false
		}
		for _, c := range d.ToolCalls {
			p := chatToolCallPiece{Index: c.Index, ID: c.ID}
			if c.ID != "" || c.Name != "" {
				p.Type = "function"
			}
			p.Function.Name, p.Function.Arguments = c.Name, c.Arguments
			cd.ToolCalls = append(cd.ToolCalls, p)
		}
		if writeErr = ev.event("", chunk(chatChoice{Delta: cd})); writeErr != nil {
			cancel() // the client is gone: stop generating
		}
	})
	if err != nil {
		if ev.started {
			e := asError(err)
			_ = ev.event("", errorBody{errorObject{Message: e.Message, Type: e.Type, Code: optional(e.Code)}})
		}
		return fmt.Errorf("chat completion stream: %w", err)
	}
	if writeErr != nil {
		return fmt.Errorf("chat completion stream: write: %w", writeErr)
	}
	if model == "" {
		model = resp.Model
	}
	if !ev.started {
		setAnswerHeaders(w, resp)
	}
	finish := resp.FinishReason
	if err := ev.event("", chunk(chatChoice{Delta: &chatDelta{}, FinishReason: &finish})); err != nil {
		return err
	}
	if in.StreamOptions != nil && in.StreamOptions.IncludeUsage {
		c := chatCompletion{ID: id, Object: "chat.completion.chunk", Created: created, Model: model, Choices: []chatChoice{},
			Usage: &chatUsage{PromptTokens: resp.Usage.PromptTokens, CompletionTokens: resp.Usage.CompletionTokens, TotalTokens: resp.Usage.TotalTokens}}
		if err := ev.event("", c); err != nil {
			return err
		}
	}
	return ev.raw("", []byte("[DONE]"))
}

// Embedder turns texts into vectors (see llmrouter.Embedder); model empty
// means the backend's configured model.
type Embedder interface {
	Embed(ctx context.Context, model string, inputs []string) ([][]float32, error)
}

type embeddingsRequest struct {
	Model string `json:"model"`
	// Input is a string or an array of strings.
	Input          json.RawMessage `json:"input"`
	EncodingFormat string          `json:"encoding_format"`
}

type embeddingsResponse struct {
	Object string      `json:"object"`
	Data   []embedding `json:"data"`
	Model  string      `json:"model"`
	Usage  struct {
		PromptTokens int `json:"prompt_tokens"`
		TotalTokens  int `json:"total_tokens"`
	} `json:"usage"`
}

type embedding struct {
	Object string `json:"object"`
	Index  int    `json:"index"`
	// Embedding is []float32, or a base64 string of little-endian float32s
	// with encoding_format base64.
	Embedding any `json:"embedding"`
}

// embeddings handles POST /v1/embeddings with the Embedder, passing it the
// request's model (a router sends its configured embeddings model instead
// when it names one); without an Embedder, or one that cannot embed
// (llmrouter.ErrUnsupported), it answers 501.
func (s *Service) embeddings(w http.ResponseWriter, r *http.Request) error {
	if s.e == nil {
		return &Error{Status: http.StatusNotImplemented, Type: typeInvalidRequest, Code: "embeddings_unsupported",
			Message: "embeddings are not supported by this router: it has no embedding backend"}
	}
	var in embeddingsRequest
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	var inputs []string
	var one string
	if err := json.Unmarshal(in.Input, &one); err == nil {
		inputs = []string{one}
	} else if err := json.Unmarshal(in.Input, &inputs); err != nil || len(inputs) == 0 {
		return invalid("input", "input must be a string or a non-empty array of strings")
	}
	if in.EncodingFormat != "" && in.EncodingFormat != "float" && in.EncodingFormat != "base64" {
		return invalid("encoding_format", "encoding_format must be float or base64")
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.Timeout)
	defer cancel()
	vecs, err := s.e.Embed(ctx, in.Model, inputs)
	if errors.Is(err, llmrouter.ErrUnsupported) {
		return &Error{Status: http.StatusNotImplemented, Type: typeInvalidRequest, Code: "embeddings_unsupported",
			Message: "embeddings are not supported by this router: it has no embedding backend", Err: err}
	}
	if err != nil {
		return fmt.Errorf("embeddings: %w", err)
	}
	out := embeddingsResponse{Object: "list", Model: in.Model, Data: make([]embedding, len(vecs))}
	for i, v := range vecs {
		var e any = v
		if in.EncodingFormat == "base64" {
			b := make([]byte, 0, 4*len(v))
			for _, f := range v {
				b = binary.LittleEndian.AppendUint32(b, math.Float32bits(f))
			}
			e = base64.StdEncoding.EncodeToString(b)
		}
		out.Data[i] = embedding{Object: "embedding", Index: i, Embedding: e}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

type modelList struct {
	Object string      `json:"object"`
	Data   []modelInfo `json:"data"`
}

type modelInfo struct {
	ID      string `json:"id"`
	Object  string `json:"object"`
	Created int64  `json:"created"`
	OwnedBy string `json:"owned_by"`
}

// models handles GET /v1/models: the configured models.
func (s *Service) models(w http.ResponseWriter, _ *http.Request) error {
	out := modelList{Object: "list", Data: make([]modelInfo, 0, len(s.cfg.Models))}
	for _, m := range s.cfg.Models {
		out.Data = append(out.Data, modelInfo{ID: m, Object: "model", OwnedBy: "frontdesk"})
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
