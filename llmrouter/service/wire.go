package service

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/frontdesk-ai/frontdesk/llmrouter"
)

// Wire pieces that /llm/infer and the OpenAI facade share.

// argText is a tool call's argument text: a JSON string on the wire, as
// OpenAI sends it. Decoding also takes a JSON object or array (as some
// servers and clients send) and keeps its text.
type argText string

// MarshalJSON encodes the text as a JSON string.
func (a argText) MarshalJSON() ([]byte, error) { return json.Marshal(string(a)) }

// UnmarshalJSON takes a JSON string, null, or any other JSON value as text.
func (a *argText) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case bytes.Equal(b, []byte("null")):
		*a = ""
	case len(b) > 0 && b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*a = argText(s)
	default:
		*a = argText(b)
	}
	return nil
}

// toolChoice is a Request.ToolChoice on the wire: "auto", "none",
// "required" or a tool's name as a string; decoding also takes OpenAI's
// {"type":"function","function":{"name":…}}.
type toolChoice string

// UnmarshalJSON takes a string, null or OpenAI's named-function object.
func (c *toolChoice) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if bytes.Equal(b, []byte("null")) {
		*c = ""
		return nil
	}
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*c = toolChoice(s)
		return nil
	}
	var named struct {
		Type     string `json:"type"`
		Function struct {
			Name string `json:"name"`
		} `json:"function"`
	}
	if err := json.Unmarshal(b, &named); err != nil {
		return fmt.Errorf("tool_choice: want a string or {\"type\":\"function\",\"function\":{\"name\":…}}: %w", err)
	}
	if named.Type != "function" || named.Function.Name == "" {
		return fmt.Errorf("tool_choice: want {\"type\":\"function\",\"function\":{\"name\":…}}")
	}
	*c = toolChoice(named.Function.Name)
	return nil
}

// responseFormat is OpenAI's response_format.
type responseFormat struct {
	// Type is "text", "json_object" or "json_schema".
	Type       string      `json:"type"`
	JSONSchema *jsonSchema `json:"json_schema,omitempty"`
}

type jsonSchema struct {
	Name   string          `json:"name,omitempty"`
	Schema json.RawMessage `json:"schema,omitempty"`
	Strict bool            `json:"strict,omitempty"`
}

// toRouter returns the router's form of f: nil for none or "text".
func (f *responseFormat) toRouter() (*llmrouter.ResponseFormat, error) {
	if f == nil {
		return nil, nil
	}
	switch f.Type {
	case "", "text":
		return nil, nil
	case "json_object":
		return &llmrouter.ResponseFormat{}, nil
	case "json_schema":
		if f.JSONSchema == nil || len(bytes.TrimSpace(f.JSONSchema.Schema)) == 0 {
			return nil, invalid("response_format", "response_format json_schema needs json_schema.schema")
		}
		if !json.Valid(f.JSONSchema.Schema) {
			return nil, invalid("response_format", "response_format json_schema.schema is not JSON")
		}
		return &llmrouter.ResponseFormat{Name: f.JSONSchema.Name, Schema: f.JSONSchema.Schema, Strict: f.JSONSchema.Strict}, nil
	}
	return nil, invalid("response_format", fmt.Sprintf("response_format type %q: want text, json_object or json_schema", f.Type))
}

// fromRouterFormat is the wire form of f.
func fromRouterFormat(f *llmrouter.ResponseFormat) *responseFormat {
	switch {
	case f == nil:
		return nil
	case len(bytes.TrimSpace(f.Schema)) == 0:
		return &responseFormat{Type: "json_object"}
	}
	return &responseFormat{Type: "json_schema", JSONSchema: &jsonSchema{Name: f.Name, Schema: f.Schema, Strict: f.Strict}}
}

// rawArgs returns argument text as the router keeps it.
func rawArgs(a argText) json.RawMessage {
	if a == "" {
		return nil
	}
	return json.RawMessage(a)
}
