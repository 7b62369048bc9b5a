package llmrouter

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Defaults of OpenAIConfig.
const (
	DefaultTimeout     = 60 * time.Second
	DefaultMaxAttempts = 3
	DefaultBackoffBase = 500 * time.Millisecond
)

// maxBackoff caps one computed backoff; maxRetryWait is the longest
// Retry-After the backend waits out before it gives up instead.
const (
	maxBackoff   = 10 * time.Second
	maxRetryWait = 30 * time.Second
)

// maxResponseBody bounds how much of an answer is read.
const maxResponseBody = 8 << 20

// OpenAIConfig configures an OpenAI backend.
type OpenAIConfig struct {
	// Name is the backend's Name; empty means "openai".
	Name string
	// BaseURL is the API base including /v1 (FRONTDESK_LLM_BASE_URL);
	// requests go to {BaseURL}/chat/completions and {BaseURL}/embeddings.
	BaseURL string
	// Model is sent when a Request names none (FRONTDESK_LLM_MODEL).
	Model string
	// APIKey, when set, is sent as a bearer token (FRONTDESK_LLM_API_KEY).
	APIKey string
	// HTTPClient sends the requests; nil means a new http.Client.
	HTTPClient *http.Client
	// Timeout bounds each attempt; zero means DefaultTimeout.
	Timeout time.Duration
	// MaxAttempts bounds the attempts per Complete; zero means
	// DefaultMaxAttempts.
	MaxAttempts int
	// BackoffBase is the wait before the first retry, doubled for each
	// further one and jittered; zero means DefaultBackoffBase.
	BackoffBase time.Duration
}

// Validate reports whether the config is usable once defaults are applied.
func (c OpenAIConfig) Validate() error {
	if err := checkBaseURL(c.BaseURL); err != nil {
		return fmt.Errorf("openai backend: %w", err)
	}
	if c.Timeout < 0 || c.MaxAttempts < 0 || c.BackoffBase < 0 {
		return errors.New("openai backend: negative timeout, attempts or backoff")
	}
	return nil
}

// checkBaseURL reports whether raw is an absolute http(s) URL.
func checkBaseURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("base url: %w", err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("base url %q is not an absolute http(s) url", raw)
	}
	return nil
}

// OpenAI is a Backend for an OpenAI-compatible chat-completions server
// (OpenAI, vLLM, llama.cpp's llama-server, Ollama's /v1). It streams
// (Stream) and embeds (Embed). It retries network failures, per-attempt
// timeouts, 408, 429 and 5xx with jittered exponential backoff, honouring
// Retry-After, within the caller's deadline.
type OpenAI struct {
	name       string
	endpoint   string
	embeddings string
	model      string
	apiKey     string
	http       *http.Client
	dialect    dialect
	retrier
}

var (
	_ Streamer = (*OpenAI)(nil)
	_ Embedder = (*OpenAI)(nil)
)

// dialect is what one kind of OpenAI-compatible server needs beyond the
// common format.
type dialect struct {
	// kind names the server kind in errors.
	kind string
	// noAutoTools: the server cannot serve tool_choice "auto" (vLLM
	// without --enable-auto-tool-choice answers 400).
	noAutoTools bool
	// strictTools marks every tool strict, which makes vLLM constrain
	// "auto" calls to the schema.
	strictTools bool
	// parallelToolCalls sends parallel_tool_calls: true with tools
	// (llama.cpp makes one call per turn otherwise).
	parallelToolCalls bool
	// noNamedChoice: the server ignores a named tool_choice, so the backend
	// offers only that tool with "required" instead.
	noNamedChoice bool
}

// NewOpenAI returns an OpenAI backend for cfg.
func NewOpenAI(cfg OpenAIConfig) (*OpenAI, error) {
	return newOpenAICompatible(cfg, "openai", dialect{kind: "openai"})
}

func newOpenAICompatible(cfg OpenAIConfig, defaultName string, d dialect) (*OpenAI, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	base := strings.TrimRight(cfg.BaseURL, "/")
	o := &OpenAI{
		name:       cfg.Name,
		endpoint:   base + "/chat/completions",
		embeddings: base + "/embeddings",
		model:      cfg.Model,
		apiKey:     cfg.APIKey,
		http:       cfg.HTTPClient,
		dialect:    d,
		retrier:    newRetrier(cfg.Timeout, cfg.MaxAttempts, cfg.BackoffBase),
	}
	if o.name == "" {
		o.name = defaultName
	}
	if o.http == nil {
		o.http = &http.Client{}
	}
	return o, nil
}

// newRetrier returns a retrier with the defaults applied to zero values.
func newRetrier(timeout time.Duration, maxAttempts int, backoffBase time.Duration) retrier {
	r := retrier{timeout: timeout, maxAttempts: maxAttempts, backoffBase: backoffBase, sleep: sleep, jitter: rand.Float64}
	if r.timeout == 0 {
		r.timeout = DefaultTimeout
	}
	if r.maxAttempts == 0 {
		r.maxAttempts = DefaultMaxAttempts
	}
	if r.backoffBase == 0 {
		r.backoffBase = DefaultBackoffBase
	}
	return r
}

// Name returns the configured name, "openai" by default.
func (o *OpenAI) Name() string { return o.name }

// Model returns the model sent when a Request names none.
func (o *OpenAI) Model() string { return o.model }

// Complete posts req to {BaseURL}/chat/completions and returns the first
// choice. Its error wraps ErrInvalidRequest for a request it cannot send,
// wraps ErrUnsupported for one this kind of server cannot serve, is an
// *APIError for an error answer it does not retry (400, 422, …), wraps
// ErrBackendUnavailable (and the last *APIError or transport error) when
// the server could not answer within the attempts or the caller's deadline
// or says it is misconfigured (401, 403, 404), and wraps the context's
// error when the caller gave up.
func (o *OpenAI) Complete(ctx context.Context, req Request) (Response, error) {
	start := time.Now()
	body, err := o.encode(req, false)
	if err != nil {
		return Response{}, err
	}
	var resp Response
	err = o.do(ctx, o.name, func(ctx context.Context) error {
		hresp, err := post(ctx, o.http, o.endpoint, o.apiKey, body, "application/json")
		if err != nil {
			return err
		}
		defer hresp.Body.Close()
		raw, err := readBody(hresp)
		if err != nil {
			return err
		}
		resp, err = parseResponse(raw)
		return err
	})
	if err != nil {
		return Response{}, err
	}
	return o.answered(resp, req, start), nil
}

// Stream is Complete with stream: true and stream_options.include_usage:
// it calls onDelta with each piece of the server-sent events and returns
// the assembled answer. A failed attempt is retried as in Complete only
// while nothing has reached onDelta. A server that answers with a plain
// completion instead of a stream is accepted (one Delta).
func (o *OpenAI) Stream(ctx context.Context, req Request, onDelta func(Delta)) (Response, error) {
	start := time.Now()
	body, err := o.encode(req, true)
	if err != nil {
		return Response{}, err
	}
	delivered := false
	emit := func(d Delta) {
		delivered = true
		onDelta(d)
	}
	var resp Response
	err = o.do(ctx, o.name, func(ctx context.Context) error {
		hresp, err := post(ctx, o.http, o.endpoint, o.apiKey, body, "text/event-stream")
		if err != nil {
			return err
		}
		defer hresp.Body.Close()
		if !strings.HasPrefix(hresp.Header.Get("Content-Type"), "text/event-stream") {
			raw, err := readBody(hresp)
			if err != nil {
				return err
			}
			if resp, err = parseResponse(raw); err != nil {
				return err
			}
			emit(wholeDelta(resp.Message))
			return nil
		}
		resp, err = readSSE(hresp.Body, emit)
		if err != nil && delivered {
			return fmt.Errorf("%w: %w", errStreamBroken, err)
		}
		return err
	})
	if err != nil {
		return Response{}, err
	}
	return o.answered(resp, req, start), nil
}

// encode validates req and builds its body for this server.
func (o *OpenAI) encode(req Request, stream bool) ([]byte, error) {
	if err := req.Validate(); err != nil {
		return nil, err
	}
	if o.dialect.noAutoTools && req.wantsTools() && !req.mustCall() {
		return nil, fmt.Errorf("%s: %w: tool_choice auto needs a %s server with a tool-call parser", o.name, ErrUnsupported, o.dialect.kind)
	}
	if o.dialect.noNamedChoice {
		req = req.onlyNamedTool()
	}
	return encodeWith(req, o.model, o.dialect, stream)
}

// answered completes a parsed answer with what the server may leave out.
func (o *OpenAI) answered(resp Response, req Request, start time.Time) Response {
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
