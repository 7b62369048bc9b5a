package service

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/frontdesk-ai/frontdesk/llmrouter"
)

// POST /llm/infer: frontdesk's own completion API, one llmrouter.Request
// in, one llmrouter.Response out (or, with stream, its pieces as
// server-sent events and then the whole response).

type inferRequest struct {
	TenantID       string          `json:"tenant_id"`
	AgentProfileID string          `json:"agent_profile_id,omitempty"`
	ConversationID string          `json:"conversation_id,omitempty"`
	Channel        string          `json:"channel,omitempty"`
	Language       string          `json:"language,omitempty"`
	Messages       []inferMessage  `json:"messages"`
	AllowedTools   []inferTool     `json:"allowed_tools,omitempty"`
	ToolChoice     toolChoice      `json:"tool_choice,omitempty"`
	ResponseFormat *responseFormat `json:"response_format,omitempty"`
	Model          string          `json:"model,omitempty"`
	Temperature    *float64        `json:"temperature,omitempty"`
	MaxTokens      int             `json:"max_tokens,omitempty"`
	Stream         bool            `json:"stream,omitempty"`
}

type inferMessage struct {
	Role       string          `json:"role"`
	Content    string          `json:"content"`
	ToolCalls  []inferToolCall `json:"tool_calls,omitempty"`
	ToolCallID string          `json:"tool_call_id,omitempty"`
	Name       string          `json:"name,omitempty"`
}

type inferToolCall struct {
	ID        string  `json:"id"`
	Name      string  `json:"name"`
	Arguments argText `json:"arguments"`
}

type inferTool struct {
	Name        string          `json:"name"`
	Description string          `json:"description,omitempty"`
	Parameters  json.RawMessage `json:"parameters,omitempty"`
}

type inferUsage struct {
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
	TotalTokens      int `json:"total_tokens"`
}

type inferResponse struct {
	Message      inferMessage `json:"message"`
	FinishReason string       `json:"finish_reason"`
	Usage        inferUsage   `json:"usage"`
	Backend      string       `json:"backend"`
	Model        string       `json:"model"`
	Route        string       `json:"route,omitempty"`
	LatencyMS    int64        `json:"latency_ms"`
	Offline      bool         `json:"offline"`
}

// inferDelta is one streamed piece.
type inferDelta struct {
	Content   string               `json:"content,omitempty"`
	ToolCalls []inferToolCallDelta `json:"tool_calls,omitempty"`
}

type inferToolCallDelta struct {
	Index     int    `json:"index"`
	ID        string `json:"id,omitempty"`
	Name      string `json:"name,omitempty"`
	Arguments string `json:"arguments,omitempty"`
}

// toRouter returns the router's request; its errors are 400s.
func (in inferRequest) toRouter() (llmrouter.Request, error) {
	if in.TenantID == "" {
		return llmrouter.Request{}, invalid("tenant_id", "tenant_id is required")
	}
	rf, err := in.ResponseFormat.toRouter()
	if err != nil {
		return llmrouter.Request{}, err
	}
	req := llmrouter.Request{
		TenantID: in.TenantID, AgentProfileID: in.AgentProfileID, ConversationID: in.ConversationID,
		Channel: in.Channel, Language: in.Language, ToolChoice: string(in.ToolChoice), ResponseFormat: rf,
		Model: in.Model, Temperature: in.Temperature, MaxTokens: in.MaxTokens,
		Messages: make([]llmrouter.Message, len(in.Messages)),
	}
	for i, m := range in.Messages {
		rm := llmrouter.Message{Role: m.Role, Content: m.Content, ToolCallID: m.ToolCallID, Name: m.Name}
		for _, c := range m.ToolCalls {
			rm.ToolCalls = append(rm.ToolCalls, llmrouter.ToolCall{ID: c.ID, Name: c.Name, Arguments: rawArgs(c.Arguments)})
		}
		req.Messages[i] = rm
	}
	for _, t := range in.AllowedTools {
		req.Tools = append(req.Tools, llmrouter.Tool{Name: t.Name, Description: t.Description, Parameters: t.Parameters})
	}
	if err := req.Validate(); err != nil {
		return llmrouter.Request{}, invalid("", err.Error())
	}
	return req, nil
}

// toInferRequest is the wire form of req (the Client's side).
func toInferRequest(req llmrouter.Request, stream bool) inferRequest {
	out := inferRequest{
		TenantID: req.TenantID, AgentProfileID: req.AgentProfileID, ConversationID: req.ConversationID,
		Channel: req.Channel, Language: req.Language, ToolChoice: toolChoice(req.ToolChoice),
		ResponseFormat: fromRouterFormat(req.ResponseFormat), Model: req.Model, Temperature: req.Temperature,
		MaxTokens: req.MaxTokens, Stream: stream, Messages: make([]inferMessage, len(req.Messages)),
	}
	for i, m := range req.Messages {
		out.Messages[i] = toInferMessage(m)
	}
	for _, t := range req.Tools {
		out.AllowedTools = append(out.AllowedTools, inferTool{Name: t.Name, Description: t.Description, Parameters: t.Parameters})
	}
	return out
}

func toInferMessage(m llmrouter.Message) inferMessage {
	out := inferMessage{Role: m.Role, Content: m.Content, ToolCallID: m.ToolCallID, Name: m.Name}
	for _, c := range m.ToolCalls {
		out.ToolCalls = append(out.ToolCalls, inferToolCall{ID: c.ID, Name: c.Name, Arguments: argText(c.Arguments)})
	}
	return out
}

func toInferResponse(resp llmrouter.Response) inferResponse {
	msg := resp.Message
	if msg.Role == "" {
		msg.Role = llmrouter.RoleAssistant
	}
	return inferResponse{
		Message: toInferMessage(msg), FinishReason: resp.FinishReason,
		Usage: inferUsage{PromptTokens: resp.Usage.PromptTokens, CompletionTokens: resp.Usage.CompletionTokens,
			TotalTokens: resp.Usage.TotalTokens},
		Backend: resp.Backend, Model: resp.Model, Route: resp.Route, LatencyMS: resp.Latency.Milliseconds(), Offline: resp.Offline,
	}
}

// toRouter returns the router's response (the Client's side); Latency is
// left for the caller to measure.
func (r inferResponse) toRouter() llmrouter.Response {
	m := llmrouter.Message{Role: r.Message.Role, Content: r.Message.Content, ToolCallID: r.Message.ToolCallID, Name: r.Message.Name}
	for _, c := range r.Message.ToolCalls {
		m.ToolCalls = append(m.ToolCalls, llmrouter.ToolCall{ID: c.ID, Name: c.Name, Arguments: rawArgs(c.Arguments)})
	}
	return llmrouter.Response{Message: m, FinishReason: r.FinishReason,
		Usage:   llmrouter.Usage{PromptTokens: r.Usage.PromptTokens, CompletionTokens: r.Usage.CompletionTokens, TotalTokens: r.Usage.TotalTokens},
		Backend: r.Backend, Model: r.Model, Route: r.Route, Offline: r.Offline}
}

func toInferDelta(d llmrouter.Delta) inferDelta {
	out := inferDelta{Content: d.Content}
	for _, c := range d.ToolCalls {
		out.ToolCalls = append(out.ToolCalls, inferToolCallDelta{Index: c.Index, ID: c.ID, Name: c.Name, Arguments: c.Arguments})
	}
	return out
}

func (d inferDelta) toRouter() llmrouter.Delta {
	out := llmrouter.Delta{Content: d.Content}
	for _, c := range d.ToolCalls {
		out.ToolCalls = append(out.ToolCalls, llmrouter.ToolCallDelta{Index: c.Index, ID: c.ID, Name: c.Name, Arguments: c.Arguments})
	}
	return out
}

// SSE event names of a streamed /llm/infer answer.
const (
	eventDelta    = "delta"
	eventResponse = "response"
	eventError    = "error"
)

// infer handles POST /llm/infer.
func (s *Service) infer(w http.ResponseWriter, r *http.Request) error {
	var in inferRequest
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	req, err := in.toRouter()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.Timeout)
	defer cancel()
	if !in.Stream {
		resp, err := s.c.Complete(ctx, req)
		if err != nil {
			return fmt.Errorf("infer: %w", err)
		}
		writeJSON(w, http.StatusOK, toInferResponse(resp))
		return nil
	}
	st, ok := s.c.(Streamer)
	if !ok {
		return ErrStreamingUnsupported
	}
	ev := newEventWriter(w)
	var writeErr error
	resp, err := st.Stream(ctx, req, func(d llmrouter.Delta) {
		if writeErr == nil {
			if writeErr = ev.event(eventDelta, toInferDelta(d)); writeErr != nil {
				cancel() // the client is gone: stop generating
			}
		}
	})
	if err != nil {
		if ev.started {
			e := asError(err)
			_ = ev.event(eventError, errorBody{errorObject{Message: e.Message, Type: e.Type, Code: optional(e.Code)}})
		}
		return fmt.Errorf("infer stream: %w", err)
	}
	if writeErr != nil {
		return fmt.Errorf("infer stream: write: %w", writeErr)
	}
	return ev.event(eventResponse, toInferResponse(resp))
}
