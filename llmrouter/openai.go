package llmrouter

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
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
	// requests go to {BaseURL}/chat/completions.
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
	u, err := url.Parse(c.BaseURL)
	if err != nil {
		return fmt.Errorf("openai backend: base url: %w", err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("openai backend: base url %q is not an absolute http(s) url", c.BaseURL)
	}
	if c.Timeout < 0 || c.MaxAttempts < 0 || c.BackoffBase < 0 {
		return errors.New("openai backend: negative timeout, attempts or backoff")
	}
	return nil
}

// OpenAI is a Backend for an OpenAI-compatible chat-completions server
// (OpenAI, vLLM, llama.cpp's llama-server, Ollama's /v1). It does not
// stream. It retries network failures, per-attempt timeouts, 408, 429 and
// 5xx with jittered exponential backoff, honouring Retry-After, within the
// caller's deadline.
type OpenAI struct {
	name        string
	endpoint    string
	model       string
	apiKey      string
	http        *http.Client
	timeout     time.Duration
	maxAttempts int
	backoffBase time.Duration
	// sleep waits d or until ctx ends; tests replace it.
	sleep func(ctx context.Context, d time.Duration) error
	// jitter returns a value in [0,1); tests replace it.
	jitter func() float64
}

var _ Backend = (*OpenAI)(nil)

// NewOpenAI returns an OpenAI backend for cfg.
func NewOpenAI(cfg OpenAIConfig) (*OpenAI, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	o := &OpenAI{
		name:        cfg.Name,
		endpoint:    strings.TrimRight(cfg.BaseURL, "/") + "/chat/completions",
		model:       cfg.Model,
		apiKey:      cfg.APIKey,
		http:        cfg.HTTPClient,
		timeout:     cfg.Timeout,
		maxAttempts: cfg.MaxAttempts,
		backoffBase: cfg.BackoffBase,
		sleep:       sleep,
		jitter:      rand.Float64,
	}
	if o.name == "" {
		o.name = "openai"
	}
	if o.http == nil {
		o.http = &http.Client{}
	}
	if o.timeout == 0 {
		o.timeout = DefaultTimeout
	}
	if o.maxAttempts == 0 {
		o.maxAttempts = DefaultMaxAttempts
	}
	if o.backoffBase == 0 {
		o.backoffBase = DefaultBackoffBase
	}
	return o, nil
}

// Name returns the configured name, "openai" by default.
func (o *OpenAI) Name() string { return o.name }

// Complete posts req to {BaseURL}/chat/completions and returns the first
// choice. Its error wraps ErrInvalidRequest for a request it cannot send,
// is an *APIError for an error answer it does not retry (400, 422, …),
// wraps ErrBackendUnavailable (and the last *APIError or transport error)
// when the server could not answer within the attempts or the caller's
// deadline or says it is misconfigured (401, 403, 404), and wraps the
// context's error when the caller gave up.
func (o *OpenAI) Complete(ctx context.Context, req Request) (Response, error) {
	start := time.Now()
	if err := req.Validate(); err != nil {
		return Response{}, err
	}
	body, err := encodeRequest(req, o.model)
	if err != nil {
		return Response{}, err
	}
	var last error
	attempts := 0
	for attempt := 0; attempt < o.maxAttempts; attempt++ {
		if attempt > 0 {
			wait, ok := o.retryWait(ctx, last, attempt-1)
			if !ok {
				break
			}
			if err := o.sleep(ctx, wait); err != nil {
				return Response{}, fmt.Errorf("%s: waiting to retry: %w", o.name, err)
			}
		}
		attempts++
		resp, err := o.attempt(ctx, body)
		if err == nil {
			resp.Backend = o.name
			if resp.Model == "" {
				resp.Model = req.Model
				if resp.Model == "" {
					resp.Model = o.model
				}
			}
			resp.Latency = time.Since(start)
			return resp, nil
		}
		if ctx.Err() != nil {
			return Response{}, fmt.Errorf("%s: %w", o.name, ctx.Err())
		}
		var ae *APIError
		if errors.As(err, &ae) && !ae.Retryable() {
			if ae.misconfigured() {
				return Response{}, fmt.Errorf("%s: %w: %w", o.name, ErrBackendUnavailable, ae)
			}
			return Response{}, fmt.Errorf("%s: %w", o.name, ae)
		}
		last = err
	}
	return Response{}, fmt.Errorf("%s: %w after %d attempts: %w", o.name, ErrBackendUnavailable, attempts, last)
}

// retryWait returns the wait before retry number retry (0 for the first)
// after err: the server's Retry-After, else jittered exponential backoff.
// It reports false when the wait would run past ctx's deadline or
// maxRetryWait, so that the caller gives up now.
func (o *OpenAI) retryWait(ctx context.Context, err error, retry int) (time.Duration, bool) {
	var wait time.Duration
	var ae *APIError
	if errors.As(err, &ae) && ae.RetryAfter > 0 {
		wait = ae.RetryAfter
	} else {
		ceiling := maxBackoff
		if retry < 30 {
			if d := o.backoffBase << retry; d > 0 && d < ceiling {
				ceiling = d
			}
		}
		// Equal jitter: at least half the ceiling, so retries never bunch
		// up at zero.
		wait = ceiling/2 + time.Duration(o.jitter()*float64(ceiling/2))
	}
	if wait > maxRetryWait {
		return 0, false
	}
	if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) <= wait {
		return 0, false
	}
	return wait, true
}

// attempt makes one request. It returns an *APIError for an error answer,
// and another error for a transport failure, a timeout of this attempt or
// a malformed answer.
func (o *OpenAI) attempt(ctx context.Context, body []byte) (Response, error) {
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, o.endpoint, bytes.NewReader(body))
	if err != nil {
		return Response{}, fmt.Errorf("build request: %w", err)
	}
	hreq.Header.Set("Content-Type", "application/json")
	hreq.Header.Set("Accept", "application/json")
	if o.apiKey != "" {
		hreq.Header.Set("Authorization", "Bearer "+o.apiKey)
	}
	hresp, err := o.http.Do(hreq)
	if err != nil {
		return Response{}, fmt.Errorf("post chat completion: %w", err)
	}
	defer hresp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(hresp.Body, maxResponseBody+1))
	if err != nil {
		return Response{}, fmt.Errorf("read chat completion: %w", err)
	}
	if hresp.StatusCode < 200 || hresp.StatusCode > 299 {
		ae := parseAPIError(hresp.StatusCode, raw)
		ae.RetryAfter = retryAfter(hresp.Header, time.Now())
		return Response{}, ae
	}
	if len(raw) > maxResponseBody {
		return Response{}, fmt.Errorf("%w: answer exceeds %d bytes", errMalformed, maxResponseBody)
	}
	return parseResponse(raw)
}

// retryAfter reads retry-after-ms (OpenAI) or Retry-After (seconds or an
// HTTP date, relative to now); zero when absent or unreadable.
func retryAfter(h http.Header, now time.Time) time.Duration {
	if v := strings.TrimSpace(h.Get("Retry-After-Ms")); v != "" {
		if ms, err := strconv.ParseFloat(v, 64); err == nil && ms > 0 && ms < 1e9 {
			return time.Duration(ms * float64(time.Millisecond))
		}
	}
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0
	}
	if secs, err := strconv.ParseFloat(v, 64); err == nil {
		if secs <= 0 {
			return 0
		}
		return time.Duration(min(secs, 86400) * float64(time.Second))
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
