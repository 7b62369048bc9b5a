package llmrouter

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
)

// Ollama's native chat API (specs/channels-and-llm.md §5): POST /api/chat
// with tool-call arguments as JSON objects, tool results named by
// tool_name, format for JSON output, options for sampling, and NDJSON
// streams whose last object has done: true and the token counts.

type ollamaRequest struct {
	Model    string          `json:"model"`
	Messages []ollamaMessage `json:"messages"`
	Tools    []wireTool      `json:"tools,omitempty"`
	// Format is "json" or a JSON Schema.
	Format  json.RawMessage `json:"format,omitempty"`
	Options *ollamaOptions  `json:"options,omitempty"`
	// Stream is always sent: Ollama streams when it is absent.
	Stream bool `json:"stream"`
}

type ollamaOptions struct {
	Temperature *float64 `json:"temperature,omitempty"`
	NumPredict  int      `json:"num_predict,omitempty"`
}

type ollamaMessage struct {
	Role      string           `json:"role"`
	Content   string           `json:"content"`
	ToolCalls []ollamaToolCall `json:"tool_calls,omitempty"`
	ToolName  string           `json:"tool_name,omitempty"`
}

type ollamaToolCall struct {
	ID       string             `json:"id,omitempty"`
	Function ollamaToolFunction `json:"function"`
}

type ollamaToolFunction struct {
	Index *int   `json:"index,omitempty"`
	Name  string `json:"name"`
	// Arguments is a JSON object.
	Arguments json.RawMessage `json:"arguments"`
}

type ollamaResponse struct {
	Model   string `json:"model"`
	Message *struct {
		Content   string           `json:"content"`
		ToolCalls []ollamaToolCall `json:"tool_calls"`
	} `json:"message"`
	Done            bool            `json:"done"`
	DoneReason      string          `json:"done_reason"`
	PromptEvalCount int             `json:"prompt_eval_count"`
	EvalCount       int             `json:"eval_count"`
	Error           json.RawMessage `json:"error"`
}

// encodeOllama builds the /api/chat body for req, sending model when
// req.Model is empty; req must be valid and its tools already narrowed to
// what the model may call.
func encodeOllama(req Request, model string, stream bool) ([]byte, error) {
	if req.Model != "" {
		model = req.Model
	}
	w := ollamaRequest{Model: model, Messages: make([]ollamaMessage, 0, len(req.Messages)), Stream: stream}
	names := map[string]string{} // tool call id → tool name
	for _, m := range req.Messages {
		om := ollamaMessage{Role: m.Role, Content: m.Content}
		for _, c := range m.ToolCalls {
			names[c.ID] = c.Name
			om.ToolCalls = append(om.ToolCalls, ollamaToolCall{Function: ollamaToolFunction{Name: c.Name, Arguments: objectArguments(c.Arguments)}})
		}
		if m.Role == RoleTool {
			om.ToolName = m.Name
			if om.ToolName == "" {
				om.ToolName = names[m.ToolCallID]
			}
		}
		w.Messages = append(w.Messages, om)
	}
	if req.ToolChoice != ToolChoiceNone {
		for _, t := range req.Tools {
			params := t.Parameters
			if len(bytes.TrimSpace(params)) == 0 {
				params = json.RawMessage(emptyParameters)
			}
			w.Tools = append(w.Tools, wireTool{Type: "function", Function: wireToolFunction{Name: t.Name, Description: t.Description, Parameters: params}})
		}
	}
	if f := req.ResponseFormat; f != nil {
		w.Format = json.RawMessage(`"json"`)
		if len(bytes.TrimSpace(f.Schema)) > 0 {
			w.Format = f.Schema
		}
	}
	if req.Temperature != nil || req.MaxTokens > 0 {
		w.Options = &ollamaOptions{Temperature: req.Temperature, NumPredict: req.MaxTokens}
	}
	body, err := json.Marshal(w)
	if err != nil {
		return nil, fmt.Errorf("encode ollama chat request: %w", err)
	}
	return body, nil
}

// objectArguments returns args when it is a JSON object, else {}: Ollama
// refuses anything else.
func objectArguments(args json.RawMessage) json.RawMessage {
	args = bytes.TrimSpace(args)
	var obj map[string]json.RawMessage
	if len(args) > 0 && args[0] == '{' && json.Unmarshal(args, &obj) == nil {
		return args
	}
	return json.RawMessage(`{}`)
}

// ollamaLine is what one object of an /api/chat answer says.
type ollamaLine struct {
	chunk
	done bool
}

// parseOllama reads one /api/chat answer object (the whole answer, or one
// line of a stream). Tool calls come whole, with index -1 unless the
// server numbered them; their arguments are kept as raw JSON text. Its
// errors wrap errMalformed; an error object is one too.
func parseOllama(data []byte) (ollamaLine, error) {
	var w ollamaResponse
	if err := json.Unmarshal(data, &w); err != nil {
		return ollamaLine{}, fmt.Errorf("%w: ollama answer: %w", errMalformed, err)
	}
	if e := codeString(w.Error); e != "" {
		return ollamaLine{}, fmt.Errorf("%w: ollama error: %q", errMalformed, clip(e, maxErrorMessage))
	}
	l := ollamaLine{chunk: chunk{model: w.Model}, done: w.Done}
	if w.Done {
		l.finish = w.DoneReason
		l.usage = &Usage{PromptTokens: w.PromptEvalCount, CompletionTokens: w.EvalCount, TotalTokens: w.PromptEvalCount + w.EvalCount}
	}
	if w.Message != nil {
		l.delta.Content = w.Message.Content
		for _, c := range w.Message.ToolCalls {
			args, err := parseArguments(c.Function.Arguments)
			if err != nil {
				return ollamaLine{}, fmt.Errorf("%w: ollama tool call: %w", errMalformed, err)
			}
			idx := -1
			if i := c.Function.Index; i != nil && *i >= 0 {
				idx = *i
			}
			l.delta.ToolCalls = append(l.delta.ToolCalls, ToolCallDelta{Index: idx, ID: c.ID, Name: c.Function.Name, Arguments: string(args)})
		}
	}
	return l, nil
}

// readOllama reads an /api/chat answer: NDJSON objects up to the one with
// done: true (a single object when not streaming). Each tool call is a
// whole call; one without an id gets callID's. onDelta, when set, gets
// each non-empty piece.
func readOllama(r io.Reader, req Request, onDelta func(Delta)) (Response, error) {
	asm := newAssembler()
	sc := bufio.NewScanner(io.LimitReader(r, maxResponseBody+1))
	sc.Buffer(make([]byte, 0, 4096), maxSSELine)
	done, calls := false, 0
	for !done && sc.Scan() {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		l, err := parseOllama(line)
		if err != nil {
			return Response{}, err
		}
		done = l.done
		if l.model != "" {
			asm.model = l.model
		}
		if l.usage != nil {
			asm.usage, asm.finish = l.usage, l.finish
		}
		for i := range l.delta.ToolCalls {
			tc := &l.delta.ToolCalls[i]
			if tc.Index < 0 {
				tc.Index = calls
			}
			calls = max(calls, tc.Index+1)
			if tc.ID == "" {
				tc.ID = callID(req, tc.Index)
			}
		}
		d, err := asm.add(l.delta)
		if err != nil {
			return Response{}, err
		}
		if onDelta != nil && !d.empty() {
			onDelta(d)
		}
	}
	if err := sc.Err(); err != nil {
		return Response{}, fmt.Errorf("read ollama answer: %w", err)
	}
	if !done {
		return Response{}, fmt.Errorf("%w: ollama answer ended before done", errMalformed)
	}
	resp, err := asm.response()
	if err != nil {
		return Response{}, err
	}
	if len(resp.Message.ToolCalls) > 0 && resp.FinishReason == FinishStop {
		// Ollama says "stop" after tool calls.
		resp.FinishReason = FinishToolCalls
	}
	return resp, nil
}

// callID names the i-th tool call of the answer to req for a server that
// gives calls no id: derived from the conversation and the transcript's
// length, so a replayed request gets the same id and later turns new ones.
func callID(req Request, i int) string {
	h := sha256.New()
	h.Write([]byte(req.ConversationID))
	h.Write([]byte{0})
	h.Write([]byte(strconv.Itoa(len(req.Messages))))
	h.Write([]byte{0})
	h.Write([]byte(strconv.Itoa(i)))
	return "call_" + hex.EncodeToString(h.Sum(nil))[:16]
}

// parseOllamaEmbeddings reads an /api/embed answer for n inputs.
func parseOllamaEmbeddings(body []byte, n int) ([][]float32, error) {
	var w struct {
		Embeddings [][]float32 `json:"embeddings"`
	}
	if err := json.Unmarshal(body, &w); err != nil {
		return nil, fmt.Errorf("%w: ollama embeddings: %w", errMalformed, err)
	}
	if len(w.Embeddings) != n {
		return nil, fmt.Errorf("%w: %d embeddings for %d inputs", errMalformed, len(w.Embeddings), n)
	}
	return w.Embeddings, checkVectors(w.Embeddings)
}
