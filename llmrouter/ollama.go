package llmrouter

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// OllamaConfig configures an Ollama backend.
type OllamaConfig struct {
	// Name is the backend's Name; empty means "ollama".
	Name string
	// BaseURL is the server's root (http://localhost:11434), without /v1;
	// requests go to {BaseURL}/api/chat and {BaseURL}/api/embed.
	BaseURL string
	// Model is sent when a Request names none.
	Model string
	// APIKey, when set, is sent as a bearer token (for a proxy in front).
	APIKey string
	// HTTPClient sends the requests; nil means a new http.Client.
	HTTPClient *http.Client
	// Timeout, MaxAttempts and BackoffBase are as in OpenAIConfig.
	Timeout     time.Duration
	MaxAttempts int
	BackoffBase time.Duration
}

// Validate reports whether the config is usable once defaults are applied.
func (c OllamaConfig) Validate() error {
	if err := checkBaseURL(c.BaseURL); err != nil {
		return fmt.Errorf("ollama backend: %w", err)
	}
	if c.Timeout < 0 || c.MaxAttempts < 0 || c.BackoffBase < 0 {
		return errors.New("ollama backend: negative timeout, attempts or backoff")
	}
	return nil
}

// Ollama is a Backend for Ollama's native API (specs/channels-and-llm.md
// §5): POST /api/chat, NDJSON streams, POST /api/embed. Ollama has no
// tool_choice, so Ollama emulates it: with ToolChoiceNone no tools are
// sent; with a named choice only that tool is offered; with a named or
// required choice a closing system message tells the model to call it,
// and an answer without any call is asked for once more. Tool calls
// without an id get one derived from the conversation (see callID). It
// retries as OpenAI does.
type Ollama struct {
	name   string
	chat   string
	embed  string
	model  string
	apiKey string
	http   *http.Client
	retrier
}

var (
	_ Streamer = (*Ollama)(nil)
	_ Embedder = (*Ollama)(nil)
)

// NewOllama returns an Ollama backend for cfg.
func NewOllama(cfg OllamaConfig) (*Ollama, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	base := strings.TrimRight(cfg.BaseURL, "/")
	o := &Ollama{
		name: cfg.Name, chat: base + "/api/chat", embed: base + "/api/embed", model: cfg.Model, apiKey: cfg.APIKey,
		http: cfg.HTTPClient, retrier: newRetrier(cfg.Timeout, cfg.MaxAttempts, cfg.BackoffBase),
	}
	if o.name == "" {
		o.name = "ollama"
	}
	if o.http == nil {
		o.http = &http.Client{}
	}
	return o, nil
}

// Name returns the configured name, "ollama" by default.
func (o *Ollama) Name() string { return o.name }

// Model returns the model sent when a Request names none.
func (o *Ollama) Model() string { return o.model }

// Complete posts req to /api/chat without streaming; its errors are as
// OpenAI.Complete's.
func (o *Ollama) Complete(ctx context.Context, req Request) (Response, error) {
	return o.converse(ctx, req, nil)
}

// Stream posts req to /api/chat with stream: true and calls onDelta with
// each piece of the NDJSON answer. When the request obliges the model to
// call a tool the answer may have to be asked for twice, so it is
// delivered as one Delta at the end.
func (o *Ollama) Stream(ctx context.Context, req Request, onDelta func(Delta)) (Response, error) {
	return o.converse(ctx, req, onDelta)
}

// Instructions Ollama adds where OpenAI-compatible servers have
// tool_choice.
const (
	ollamaCallNow   = "Answer now by calling the tool %s."
	ollamaCallOne   = "Answer now by calling one of the tools: %s."
	ollamaCallAgain = "You did not call a tool. You must call %s now."
)

func (o *Ollama) converse(ctx context.Context, req Request, onDelta func(Delta)) (Response, error) {
	start := time.Now()
	if err := req.Validate(); err != nil {
		return Response{}, err
	}
	send := req.onlyNamedTool()
	if !send.mustCall() {
		resp, err := o.ask(ctx, send, onDelta)
		if err != nil {
			return Response{}, err
		}
		return o.answered(resp, req, start), nil
	}
	names := make([]string, 0, len(send.Tools))
	for _, t := range send.Tools {
		names = append(names, t.Name)
	}
	instruction := fmt.Sprintf(ollamaCallOne, strings.Join(names, ", "))
	if len(names) == 1 {
		instruction = fmt.Sprintf(ollamaCallNow, names[0])
	}
	send.Messages = append(send.Messages[:len(send.Messages):len(send.Messages)], Message{Role: RoleSystem, Content: instruction})
	resp, err := o.ask(ctx, send, nil)
	if err != nil {
		return Response{}, err
	}
	if len(resp.Message.ToolCalls) == 0 {
		first := resp.Usage
		send.Messages = append(send.Messages,
			Message{Role: RoleAssistant, Content: resp.Message.Content},
			Message{Role: RoleSystem, Content: fmt.Sprintf(ollamaCallAgain, strings.Join(names, " or "))})
		if resp, err = o.ask(ctx, send, nil); err != nil {
			return Response{}, err
		}
		resp.Usage = Usage{PromptTokens: first.PromptTokens + resp.Usage.PromptTokens,
			CompletionTokens: first.CompletionTokens + resp.Usage.CompletionTokens, TotalTokens: first.TotalTokens + resp.Usage.TotalTokens}
	}
	if onDelta != nil {
		onDelta(wholeDelta(resp.Message))
	}
	return o.answered(resp, req, start), nil
}

// ask makes one /api/chat call with retries, streaming when onDelta is
// set.
func (o *Ollama) ask(ctx context.Context, req Request, onDelta func(Delta)) (Response, error) {
	body, err := encodeOllama(req, o.model, onDelta != nil)
	if err != nil {
		return Response{}, err
	}
	delivered := false
	emit := func(d Delta) {
		delivered = true
		onDelta(d)
	}
	if onDelta == nil {
		emit = nil
	}
	var resp Response
	err = o.do(ctx, o.name, func(ctx context.Context) error {
		hresp, err := post(ctx, o.http, o.chat, o.apiKey, body, "application/x-ndjson")
		if err != nil {
			return err
		}
		defer hresp.Body.Close()
		resp, err = readOllama(hresp.Body, req, emit)
		if err != nil && delivered {
			return fmt.Errorf("%w: %w", errStreamBroken, err)
		}
		return err
	})
	return resp, err
}

func (o *Ollama) answered(resp Response, req Request, start time.Time) Response {
	resp.Backend = o.name
	if resp.Model == "" {
		resp.Model = req.Model
		if resp.Model == "" {
			resp.Model = o.model
		}
	}
	resp.Latency = time.Since(start)
	return resp
}

// Embed posts inputs to /api/embed and returns Ollama's (L2-normalized)
// vectors in input order.
func (o *Ollama) Embed(ctx context.Context, model string, inputs []string) ([][]float32, error) {
	model, err := checkEmbed(o.name, model, o.model, inputs)
	if err != nil || len(inputs) == 0 {
		return nil, err
	}
	body, err := json.Marshal(struct {
		Model string   `json:"model"`
		Input []string `json:"input"`
	}{model, inputs})
	if err != nil {
		return nil, fmt.Errorf("encode ollama embed request: %w", err)
	}
	var out [][]float32
	err = o.do(ctx, o.name, func(ctx context.Context) error {
		hresp, err := post(ctx, o.http, o.embed, o.apiKey, body, "application/json")
		if err != nil {
			return err
		}
		defer hresp.Body.Close()
		raw, err := readBody(hresp)
		if err != nil {
			return err
		}
		out, err = parseOllamaEmbeddings(raw, len(inputs))
		return err
	})
	return out, err
}
