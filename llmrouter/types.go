package llmrouter

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// Roles of a Message.
const (
	RoleSystem    = "system"
	RoleUser      = "user"
	RoleAssistant = "assistant"
	RoleTool      = "tool"
)

// Values of Request.ToolChoice other than a tool's name.
const (
	ToolChoiceAuto     = "auto"
	ToolChoiceNone     = "none"
	ToolChoiceRequired = "required"
)

// Finish reasons of a Response, as OpenAI-compatible servers report them.
const (
	FinishStop          = "stop"
	FinishLength        = "length"
	FinishToolCalls     = "tool_calls"
	FinishContentFilter = "content_filter"
)

// Backend is one way to get a completion: an LLM server or the Offline
// responder. Complete returns an error wrapping ErrBackendUnavailable when
// the backend could not answer, so that a Router can try the next one.
type Backend interface {
	Complete(ctx context.Context, req Request) (Response, error)
	// Name identifies the backend in Response.Backend, logs and metrics.
	Name() string
}

// Request is one completion the conversation actor asks for.
type Request struct {
	// TenantID, AgentProfileID and ConversationID say whose turn this is;
	// they go to logs and metrics, never to the model.
	TenantID       string
	AgentProfileID string
	ConversationID string
	// Messages is the transcript the model sees, oldest first.
	Messages []Message
	// Tools the model may call.
	Tools []Tool
	// ToolChoice is ToolChoiceAuto (the default when empty), ToolChoiceNone,
	// ToolChoiceRequired or the name of one of Tools, which the model must
	// call.
	ToolChoice string
	// Model overrides the backend's configured model when set.
	Model string
	// Temperature is sent when set.
	Temperature *float64
	// MaxTokens bounds the completion when positive.
	MaxTokens int
	// Language is the customer's BCP 47 language tag ("es", "pt-BR"); the
	// Offline responder answers in it when it knows it.
	Language string
	// Channel is the conversation's channel ("whatsapp", "messenger",
	// "webhook"); routes may match on it.
	Channel string
	// ResponseFormat, when set, asks for a JSON answer.
	ResponseFormat *ResponseFormat
}

// ResponseFormat asks the model for JSON: matching Schema when it is set,
// any JSON object otherwise. Servers that support it enforce it by
// constrained decoding (vLLM structured outputs, llama.cpp grammars, Ollama
// format).
type ResponseFormat struct {
	// Name names the schema (json_schema.name); empty means "response".
	Name string
	// Schema is a JSON Schema; empty asks for any JSON object.
	Schema json.RawMessage
	// Strict asks OpenAI for strict schema adherence (json_schema.strict).
	Strict bool
}

// Message is one entry of a transcript.
type Message struct {
	// Role is RoleSystem, RoleUser, RoleAssistant or RoleTool.
	Role    string
	Content string
	// ToolCalls are the calls an assistant message makes.
	ToolCalls []ToolCall
	// ToolCallID links a RoleTool message to the ToolCall it answers.
	ToolCallID string
	// Name is the tool's name on a RoleTool message (kept for backends whose
	// format needs it), or a participant's name on other roles.
	Name string
}

// ToolCall is a call of a tool the model asked for.
type ToolCall struct {
	ID   string
	Name string
	// Arguments is the raw JSON text the model produced. It may be invalid
	// JSON or empty: the caller validates it against the tool's schema.
	Arguments json.RawMessage
}

// Tool is a function the model may call.
type Tool struct {
	Name        string
	Description string
	// Parameters is the JSON Schema of the arguments; empty means none.
	Parameters json.RawMessage
}

// Usage counts the tokens of one completion.
type Usage struct {
	PromptTokens     int
	CompletionTokens int
	TotalTokens      int
}

// Response is a completion: an assistant message with text, tool calls or
// both.
type Response struct {
	Message Message
	// FinishReason is FinishStop, FinishToolCalls, FinishLength,
	// FinishContentFilter or whatever else the server said.
	FinishReason string
	Usage        Usage
	// Backend is the Name of the backend that answered; Model the model it
	// reported.
	Backend string
	Model   string
	// Latency is the time the answer took; the Router's includes the
	// backends that failed before it.
	Latency time.Duration
	// Offline is true when the Offline responder answered: no model saw
	// the conversation.
	Offline bool
	// Route is the name of the routing-policy route that chose the
	// backends, set by the Router; empty when no route matched (Offline
	// answered) or a backend was called directly.
	Route string
}

// Validate reports whether r can be sent to a backend: known roles, tool
// results that name the call they answer, named and distinct tools, and a ToolChoice that
// names an offered tool. Its errors wrap ErrInvalidRequest.
func (r Request) Validate() error {
	if len(r.Messages) == 0 {
		return fmt.Errorf("%w: no messages", ErrInvalidRequest)
	}
	for i, m := range r.Messages {
		switch m.Role {
		case RoleSystem, RoleUser, RoleAssistant:
		case RoleTool:
			if m.ToolCallID == "" {
				return fmt.Errorf("%w: message %d: tool result without tool call id", ErrInvalidRequest, i)
			}
		default:
			return fmt.Errorf("%w: message %d: unknown role %q", ErrInvalidRequest, i, m.Role)
		}
		if len(m.ToolCalls) > 0 && m.Role != RoleAssistant {
			return fmt.Errorf("%w: message %d: tool calls on a %s message", ErrInvalidRequest, i, m.Role)
		}
		for _, c := range m.ToolCalls {
			if c.ID == "" || c.Name == "" {
				return fmt.Errorf("%w: message %d: tool call without id or name", ErrInvalidRequest, i)
			}
		}
	}
	seen := make(map[string]bool, len(r.Tools))
	for _, t := range r.Tools {
		if t.Name == "" {
			return fmt.Errorf("%w: tool without a name", ErrInvalidRequest)
		}
		if seen[t.Name] {
			return fmt.Errorf("%w: tool %q offered twice", ErrInvalidRequest, t.Name)
		}
		seen[t.Name] = true
		if len(t.Parameters) > 0 && !json.Valid(t.Parameters) {
			return fmt.Errorf("%w: tool %q: parameters are not JSON", ErrInvalidRequest, t.Name)
		}
	}
	switch r.ToolChoice {
	case "", ToolChoiceAuto, ToolChoiceNone:
	case ToolChoiceRequired:
		if len(r.Tools) == 0 {
			return fmt.Errorf("%w: tool choice required without tools", ErrInvalidRequest)
		}
	default:
		if !seen[r.ToolChoice] {
			return fmt.Errorf("%w: tool choice %q names no offered tool", ErrInvalidRequest, r.ToolChoice)
		}
	}
	if r.MaxTokens < 0 {
		return fmt.Errorf("%w: negative max tokens", ErrInvalidRequest)
	}
	if f := r.ResponseFormat; f != nil && len(bytes.TrimSpace(f.Schema)) > 0 && !json.Valid(f.Schema) {
		return fmt.Errorf("%w: response format schema is not JSON", ErrInvalidRequest)
	}
	return nil
}

// mustCall reports whether req obliges the model to call a tool: a
// required or named ToolChoice.
func (r Request) mustCall() bool {
	switch r.ToolChoice {
	case "", ToolChoiceAuto, ToolChoiceNone:
		return false
	}
	return len(r.Tools) > 0
}

// wantsTools reports whether req lets the model call any tool.
func (r Request) wantsTools() bool {
	return len(r.Tools) > 0 && r.ToolChoice != ToolChoiceNone
}

// onlyNamedTool returns req offering just the tool its ToolChoice names,
// with ToolChoiceRequired, for servers that cannot name a tool; other
// requests are returned as they are.
func (r Request) onlyNamedTool() Request {
	if !r.mustCall() || r.ToolChoice == ToolChoiceRequired {
		return r
	}
	for _, t := range r.Tools {
		if t.Name == r.ToolChoice {
			r.Tools = []Tool{t}
			r.ToolChoice = ToolChoiceRequired
			return r
		}
	}
	return r
}

// offers reports whether r lets the model call the tool named name.
func (r Request) offers(name string) bool {
	switch r.ToolChoice {
	case ToolChoiceNone:
		return false
	case "", ToolChoiceAuto, ToolChoiceRequired:
	default:
		if r.ToolChoice != name {
			return false
		}
	}
	for _, t := range r.Tools {
		if t.Name == name {
			return true
		}
	}
	return false
}
