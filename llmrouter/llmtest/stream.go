package llmtest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"
)

// argumentPiece is the most argument text one stream chunk carries, so
// that every call arrives in several pieces.
const argumentPiece = 7

// streamChunks encodes step as the chat.completion.chunk events that
// answer streaming request n, as OpenAI sends them: a role chunk, the text
// a word at a time, each tool call's id and name with the first piece of
// its arguments and then the rest in pieces (calls one after another,
// numbered by index), a chunk with the finish reason, and, when
// includeUsage, a usage chunk with no choices.
func streamChunks(n int, model string, step Step, includeUsage bool) ([][]byte, error) {
	id := "chatcmpl-llmtest-" + strconv.Itoa(n)
	chunk := func(delta map[string]any, finish any) []byte {
		b, _ := json.Marshal(map[string]any{
			"id": id, "object": "chat.completion.chunk", "created": 1735689600, "model": model,
			"choices": []any{map[string]any{"index": 0, "delta": delta, "logprobs": nil, "finish_reason": finish}},
		})
		return b
	}
	out := [][]byte{chunk(map[string]any{"role": "assistant", "content": ""}, nil)}
	for _, word := range strings.SplitAfter(step.Text, " ") {
		if word != "" {
			out = append(out, chunk(map[string]any{"content": word}, nil))
		}
	}
	for i, c := range step.ToolCalls {
		if c.ArgumentsAsObject {
			return nil, fmt.Errorf("call %d: ArgumentsAsObject is not streamed", i)
		}
		callID := c.ID
		if callID == "" {
			callID = "call_" + strconv.Itoa(n) + "_" + strconv.Itoa(i)
		}
		pieces := split(c.Arguments, argumentPiece)
		first := ""
		if len(pieces) > 0 {
			first, pieces = pieces[0], pieces[1:]
		}
		out = append(out, chunk(map[string]any{"tool_calls": []any{map[string]any{
			"index": i, "id": callID, "type": "function", "function": map[string]any{"name": c.Name, "arguments": first},
		}}}, nil))
		for _, p := range pieces {
			out = append(out, chunk(map[string]any{"tool_calls": []any{map[string]any{
				"index": i, "function": map[string]any{"arguments": p},
			}}}, nil))
		}
	}
	finish := step.FinishReason
	if finish == "" {
		finish = "stop"
		if len(step.ToolCalls) > 0 {
			finish = "tool_calls"
		}
	}
	out = append(out, chunk(map[string]any{}, finish))
	if includeUsage {
		var choices any = []any{}
		if step.UsageChoicesNull {
			choices = nil
		}
		b, _ := json.Marshal(map[string]any{
			"id": id, "object": "chat.completion.chunk", "created": 1735689600, "model": model, "choices": choices,
			"usage": map[string]int{"prompt_tokens": step.Usage.Prompt, "completion_tokens": step.Usage.Completion,
				"total_tokens": step.Usage.Prompt + step.Usage.Completion},
		})
		out = append(out, b)
	}
	return out, nil
}

// split cuts s into pieces of at most n bytes on rune boundaries.
func split(s string, n int) []string {
	var out []string
	for len(s) > 0 {
		end := min(n, len(s))
		for end < len(s) && !utf8.RuneStart(s[end]) {
			end++
		}
		out = append(out, s[:end])
		s = s[end:]
	}
	return out
}

// writeEvents sends chunks as server-sent events, flushing each, and ends
// with data: [DONE].
func writeEvents(w http.ResponseWriter, chunks [][]byte) {
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	f, _ := w.(http.Flusher)
	for _, c := range chunks {
		_, _ = fmt.Fprintf(w, "data: %s\n\n", c)
		if f != nil {
			f.Flush()
		}
	}
	_, _ = fmt.Fprint(w, "data: [DONE]\n\n")
}

// validateResponseFormat returns what OpenAI refuses in a response_format,
// or "".
func validateResponseFormat(raw json.RawMessage) string {
	if len(raw) == 0 || string(raw) == "null" {
		return ""
	}
	var f struct {
		Type       string `json:"type"`
		JSONSchema *struct {
			Name   string          `json:"name"`
			Schema json.RawMessage `json:"schema"`
		} `json:"json_schema"`
	}
	if err := json.Unmarshal(raw, &f); err != nil {
		return "Invalid 'response_format': " + err.Error()
	}
	switch f.Type {
	case "text", "json_object":
	case "json_schema":
		if f.JSONSchema == nil || f.JSONSchema.Name == "" {
			return "Missing required parameter: 'response_format.json_schema.name'."
		}
		if len(f.JSONSchema.Schema) == 0 || f.JSONSchema.Schema[0] != '{' {
			return "Invalid 'response_format.json_schema.schema': an object is required."
		}
	default:
		return fmt.Sprintf("Invalid value for 'response_format.type': %q.", f.Type)
	}
	return ""
}
