package llmrouter

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
)

// The chat-completions stream (specs/channels-and-llm.md §5): server-sent
// events whose data is a chat.completion.chunk, ending with data: [DONE].

// maxSSELine bounds one line of a stream.
const maxSSELine = 1 << 20

type wireChunk struct {
	Model string `json:"model"`
	// Choices is null or empty on the usage chunk (vLLM sends null).
	Choices []wireChunkChoice `json:"choices"`
	Usage   *wireUsage        `json:"usage"`
	Error   *wireAPIError     `json:"error"`
}

type wireChunkChoice struct {
	Index        int        `json:"index"`
	Delta        *wireDelta `json:"delta"`
	FinishReason *string    `json:"finish_reason"`
}

type wireDelta struct {
	// Content is a string or null.
	Content   json.RawMessage     `json:"content"`
	ToolCalls []wireDeltaToolCall `json:"tool_calls"`
}

type wireDeltaToolCall struct {
	// Index is absent from some servers' pieces.
	Index    *int   `json:"index"`
	ID       string `json:"id"`
	Function struct {
		Name string `json:"name"`
		// Arguments is a JSON string holding the next piece of the
		// argument text; some servers send the whole object at once.
		Arguments json.RawMessage `json:"arguments"`
	} `json:"function"`
}

// chunk is what one stream event says.
type chunk struct {
	delta  Delta // tool-call indexes are -1 where the server sent none
	finish string
	usage  *Usage
	model  string
}

// parseChunk reads the data of one stream event: the first choice's delta
// and finish reason, usage and model. Its errors wrap errMalformed; an
// error object in the stream is one too.
func parseChunk(data []byte) (chunk, error) {
	var w wireChunk
	if err := json.Unmarshal(data, &w); err != nil {
		return chunk{}, fmt.Errorf("%w: stream chunk: %w", errMalformed, err)
	}
	if w.Error != nil {
		return chunk{}, fmt.Errorf("%w: error in stream: %q", errMalformed, clip(w.Error.Message, maxErrorMessage))
	}
	c := chunk{model: w.Model}
	if w.Usage != nil {
		c.usage = &Usage{PromptTokens: w.Usage.PromptTokens, CompletionTokens: w.Usage.CompletionTokens, TotalTokens: w.Usage.TotalTokens}
	}
	for _, ch := range w.Choices {
		if ch.Index != 0 {
			continue // only one choice is asked for
		}
		if ch.FinishReason != nil {
			c.finish = *ch.FinishReason
		}
		if ch.Delta == nil {
			continue
		}
		text, err := parseContent(ch.Delta.Content)
		if err != nil {
			return chunk{}, err
		}
		c.delta.Content += text
		for _, tc := range ch.Delta.ToolCalls {
			args, err := parseArguments(tc.Function.Arguments)
			if err != nil {
				return chunk{}, fmt.Errorf("%w: stream tool call: %w", errMalformed, err)
			}
			idx := -1
			if tc.Index != nil {
				if *tc.Index < 0 {
					return chunk{}, fmt.Errorf("%w: negative tool call index", errMalformed)
				}
				idx = *tc.Index
			}
			c.delta.ToolCalls = append(c.delta.ToolCalls, ToolCallDelta{Index: idx, ID: tc.ID, Name: tc.Function.Name, Arguments: string(args)})
		}
	}
	return c, nil
}

// readSSE reads a chat-completions stream to its end, calling onDelta with
// each non-empty piece, and returns the assembled answer. The stream must
// end with data: [DONE] or, when the connection closes, have said a finish
// reason. An "error" event or an error object ends it with an error
// wrapping errMalformed.
func readSSE(r io.Reader, onDelta func(Delta)) (Response, error) {
	asm := newAssembler()
	sc := bufio.NewScanner(io.LimitReader(r, maxResponseBody+1))
	sc.Buffer(make([]byte, 0, 4096), maxSSELine)
	var data []byte
	var event string
	haveData, done := false, false
	dispatch := func() error {
		defer func() { data, haveData, event = data[:0], false, "" }()
		if !haveData {
			return nil
		}
		if event == "error" {
			return fmt.Errorf("%w: error event in stream: %q", errMalformed, clip(string(data), maxErrorMessage))
		}
		if bytes.Equal(bytes.TrimSpace(data), []byte("[DONE]")) {
			done = true
			return nil
		}
		c, err := parseChunk(data)
		if err != nil {
			return err
		}
		if c.model != "" {
			asm.model = c.model
		}
		if c.finish != "" {
			asm.finish = c.finish
		}
		if c.usage != nil {
			asm.usage = c.usage
		}
		d, err := asm.add(c.delta)
		if err != nil {
			return err
		}
		if !d.empty() {
			onDelta(d)
		}
		return nil
	}
	for !done && sc.Scan() {
		line := sc.Bytes()
		field, value, _ := bytes.Cut(line, []byte(":"))
		value = bytes.TrimPrefix(value, []byte(" "))
		switch {
		case len(line) == 0:
			if err := dispatch(); err != nil {
				return Response{}, err
			}
		case len(field) == 0:
			// A comment (keep-alive).
		case string(field) == "data":
			if haveData {
				data = append(data, '\n')
			}
			data = append(data, value...)
			haveData = true
		case string(field) == "event":
			event = string(value)
		case string(field) == "error":
			// llama.cpp reports a failure as an error: line.
			event, data, haveData = "error", append(data[:0], value...), true
		}
	}
	if err := sc.Err(); err != nil {
		return Response{}, fmt.Errorf("read stream: %w", err)
	}
	if !done {
		if err := dispatch(); err != nil {
			return Response{}, err
		}
	}
	if !done && asm.finish == "" {
		return Response{}, fmt.Errorf("%w: stream ended before [DONE]", errMalformed)
	}
	return asm.response()
}
