package service

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/frontdesk-ai/frontdesk/llmrouter"
)

// Defaults of ClientConfig.
const (
	DefaultClientTimeout     = DefaultTimeout + 30*time.Second
	DefaultClientMaxAttempts = 3
	DefaultClientBackoffBase = 250 * time.Millisecond
)

// Bounds on the Client's waits and reads.
const (
	maxClientBackoff   = 5 * time.Second
	maxClientRetryWait = 30 * time.Second
	maxClientBody      = 16 << 20
)

// ClientName is the Client's Name as an llmrouter.Backend.
const ClientName = "llmrouter-service"

// ClientConfig configures a Client.
type ClientConfig struct {
	// URL is the service's base URL (FRONTDESK_LLMROUTER_URL), e.g.
	// http://llmrouter:8080; requests go to {URL}/llm/infer.
	URL string
	// APIKey, when set, is sent as the bearer key
	// (FRONTDESK_LLMROUTER_API_KEY of the service).
	APIKey string
	// HTTPClient sends the requests; nil means a new http.Client.
	HTTPClient *http.Client
	// Timeout bounds each attempt; DefaultClientTimeout when 0.
	Timeout time.Duration
	// MaxAttempts bounds the attempts per call; DefaultClientMaxAttempts
	// when 0.
	MaxAttempts int
	// BackoffBase is the wait before the first retry, doubled for each
	// further one and jittered; DefaultClientBackoffBase when 0.
	BackoffBase time.Duration
}

// Validate reports a configuration that cannot work.
func (c ClientConfig) Validate() error {
	u, err := url.Parse(c.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("llm router client: url %q is not an absolute http(s) url", c.URL)
	}
	if c.Timeout < 0 || c.MaxAttempts < 0 || c.BackoffBase < 0 {
		return errors.New("llm router client: negative timeout, attempts or backoff")
	}
	return nil
}

// Client completes requests with a remote LLM router service over POST
// /llm/infer. It retries network failures, attempt timeouts, 408, 429 and
// 5xx with jittered exponential backoff (honouring Retry-After) within the
// caller's deadline. Its errors are those of the Router: they wrap
// llmrouter.ErrInvalidRequest for a request the service refused, are an
// *llmrouter.APIError for one the model server refused, wrap
// llmrouter.ErrBackendUnavailable when the service could not be reached or
// answer (so a Router holding the Client as a Backend falls back), and wrap
// the context's error when the caller gave up.
type Client struct {
	cfg                  ClientConfig
	endpoint, embeddings string
	http                 *http.Client
}

var (
	_ Streamer          = (*Client)(nil)
	_ llmrouter.Backend = (*Client)(nil)
)

// NewClient returns a Client for cfg.
func NewClient(cfg ClientConfig) (*Client, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultClientTimeout
	}
	if cfg.MaxAttempts == 0 {
		cfg.MaxAttempts = DefaultClientMaxAttempts
	}
	if cfg.BackoffBase == 0 {
		cfg.BackoffBase = DefaultClientBackoffBase
	}
	hc := cfg.HTTPClient
	if hc == nil {
		hc = &http.Client{}
	}
	base := strings.TrimRight(cfg.URL, "/")
	return &Client{cfg: cfg, endpoint: base + "/llm/infer", embeddings: base + "/v1/embeddings", http: hc}, nil
}

// Name returns ClientName.
func (c *Client) Name() string { return ClientName }

// Complete asks the service to answer req. Response.Latency is the time
// the call took here, retries included.
func (c *Client) Complete(ctx context.Context, req llmrouter.Request) (llmrouter.Response, error) {
	start := time.Now()
	body, err := json.Marshal(toInferRequest(req, false))
	if err != nil {
		return llmrouter.Response{}, fmt.Errorf("%s: encode request: %w", ClientName, err)
	}
	var resp llmrouter.Response
	err = c.retry(ctx, func(ctx context.Context) (bool, error) {
		hresp, err := c.post(ctx, body, false)
		if err != nil {
			return true, err
		}
		defer hresp.Body.Close()
		raw, err := io.ReadAll(io.LimitReader(hresp.Body, maxClientBody))
		if err != nil {
			return true, fmt.Errorf("read answer: %w", err)
		}
		var out inferResponse
		if err := json.Unmarshal(raw, &out); err != nil {
			return true, fmt.Errorf("malformed answer: %w", err)
		}
		resp = out.toRouter()
		return false, nil
	})
	if err != nil {
		return llmrouter.Response{}, err
	}
	resp.Latency = time.Since(start)
	return resp, nil
}

// Embed turns inputs into vectors with the service's embeddings route
// (POST {URL}/v1/embeddings), one per input in order, retried like
// Complete.
func (c *Client) Embed(ctx context.Context, model string, inputs []string) ([][]float32, error) {
	if len(inputs) == 0 {
		return nil, nil
	}
	body, err := json.Marshal(map[string]any{"model": model, "input": inputs, "encoding_format": "float"})
	if err != nil {
		return nil, fmt.Errorf("%s: encode embeddings request: %w", ClientName, err)
	}
	var out [][]float32
	err = c.retry(ctx, func(ctx context.Context) (bool, error) {
		hresp, err := c.postTo(ctx, c.embeddings, body, false)
		if err != nil {
			return true, err
		}
		defer hresp.Body.Close()
		var w struct {
			Data []struct {
				Index     int       `json:"index"`
				Embedding []float32 `json:"embedding"`
			} `json:"data"`
		}
		if err := json.NewDecoder(io.LimitReader(hresp.Body, maxClientBody)).Decode(&w); err != nil {
			return true, fmt.Errorf("malformed embeddings: %w", err)
		}
		if len(w.Data) != len(inputs) {
			return false, fmt.Errorf("%d embeddings for %d inputs", len(w.Data), len(inputs))
		}
		out = make([][]float32, len(inputs))
		for _, d := range w.Data {
			if d.Index < 0 || d.Index >= len(inputs) || out[d.Index] != nil || len(d.Embedding) == 0 {
				return false, fmt.Errorf("embedding index %d is out of place", d.Index)
			}
			out[d.Index] = d.Embedding
		}
		return false, nil
	})
	return out, err
}

// Stream asks the service to stream req's answer, calling onDelta with
// each piece. Attempts are repeated only until the first piece arrives.
// A service that cannot stream fails it with an error wrapping
// ErrStreamingUnsupported.
func (c *Client) Stream(ctx context.Context, req llmrouter.Request, onDelta func(llmrouter.Delta)) (llmrouter.Response, error) {
	start := time.Now()
	body, err := json.Marshal(toInferRequest(req, true))
	if err != nil {
		return llmrouter.Response{}, fmt.Errorf("%s: encode request: %w", ClientName, err)
	}
	var resp llmrouter.Response
	err = c.retry(ctx, func(ctx context.Context) (bool, error) {
		hresp, err := c.post(ctx, body, true)
		if err != nil {
			return true, err
		}
		defer hresp.Body.Close()
		delivered := false
		got := false
		err = readEvents(hresp.Body, func(name string, data []byte) error {
			switch name {
			case eventDelta:
				var d inferDelta
				if err := json.Unmarshal(data, &d); err != nil {
					return fmt.Errorf("malformed delta: %w", err)
				}
				delivered = true
				onDelta(d.toRouter())
			case eventResponse:
				var out inferResponse
				if err := json.Unmarshal(data, &out); err != nil {
					return fmt.Errorf("malformed response: %w", err)
				}
				resp, got = out.toRouter(), true
			case eventError:
				var e errorBody
				_ = json.Unmarshal(data, &e)
				return fmt.Errorf("%w: stream failed: %s", llmrouter.ErrBackendUnavailable, e.Error.Message)
			}
			return nil
		})
		if err == nil && !got {
			err = errors.New("stream ended without a response")
		}
		if err != nil && delivered {
			// Output reached the caller: the attempt cannot be repeated.
			return false, fmt.Errorf("%w: %w", llmrouter.ErrBackendUnavailable, err)
		}
		return err != nil, err
	})
	if err != nil {
		return llmrouter.Response{}, err
	}
	resp.Latency = time.Since(start)
	return resp, nil
}

// statusError is an error answer of the service.
type statusError struct {
	status     int
	body       errorObject
	retryAfter time.Duration
}

func (e *statusError) Error() string {
	return fmt.Sprintf("http %d: %s", e.status, e.body.Message)
}

func (e *statusError) retryable() bool {
	return e.status == http.StatusRequestTimeout || e.status == http.StatusTooManyRequests || e.status >= 500
}

// final turns an error answer into the error the Client returns.
func (e *statusError) final() error {
	code := ""
	if e.body.Code != nil {
		code = *e.body.Code
	}
	switch {
	case code == "streaming_unsupported":
		return fmt.Errorf("%s: %w", ClientName, ErrStreamingUnsupported)
	case code == "backend_refused":
		return fmt.Errorf("%s: %w", ClientName, &llmrouter.APIError{StatusCode: e.status, Type: e.body.Type, Code: code, Message: e.body.Message})
	case e.status == http.StatusBadRequest || e.status == http.StatusRequestEntityTooLarge:
		return fmt.Errorf("%s: %w: %s", ClientName, llmrouter.ErrInvalidRequest, e.body.Message)
	}
	return fmt.Errorf("%s: %w: %w", ClientName, llmrouter.ErrBackendUnavailable, e)
}

// post sends one attempt; an answer other than 200 is a *statusError.
func (c *Client) post(ctx context.Context, body []byte, stream bool) (*http.Response, error) {
	return c.postTo(ctx, c.endpoint, body, stream)
}

// postTo is post to endpoint.
func (c *Client) postTo(ctx context.Context, endpoint string, body []byte, stream bool) (*http.Response, error) {
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	hreq.Header.Set("Content-Type", "application/json")
	if stream {
		hreq.Header.Set("Accept", "text/event-stream")
	} else {
		hreq.Header.Set("Accept", "application/json")
	}
	if c.cfg.APIKey != "" {
		hreq.Header.Set("Authorization", "Bearer "+c.cfg.APIKey)
	}
	hresp, err := c.http.Do(hreq)
	if err != nil {
		return nil, err
	}
	if hresp.StatusCode == http.StatusOK {
		return hresp, nil
	}
	defer hresp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(hresp.Body, 64<<10))
	se := &statusError{status: hresp.StatusCode}
	var eb errorBody
	if json.Unmarshal(raw, &eb) == nil && eb.Error.Message != "" {
		se.body = eb.Error
	} else {
		se.body.Message = clip(strings.TrimSpace(string(raw)), 200)
	}
	if s := hresp.Header.Get("Retry-After"); s != "" {
		if n, err := strconv.Atoi(s); err == nil && n > 0 {
			se.retryAfter = time.Duration(n) * time.Second
		}
	}
	return nil, se
}

// retry runs attempt, each under the attempt timeout, until it succeeds,
// says not to retry, or the attempts or the caller's deadline run out.
func (c *Client) retry(ctx context.Context, attempt func(ctx context.Context) (retry bool, err error)) error {
	var last error
	for i := 0; i < c.cfg.MaxAttempts; i++ {
		if i > 0 {
			wait := c.backoff(i - 1)
			var se *statusError
			if errors.As(last, &se) && se.retryAfter > 0 {
				if se.retryAfter > maxClientRetryWait {
					break
				}
				wait = se.retryAfter
			}
			if dl, ok := ctx.Deadline(); ok && time.Until(dl) < wait {
				break
			}
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				return fmt.Errorf("%s: waiting to retry: %w", ClientName, ctx.Err())
			case <-t.C:
			}
		}
		actx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
		again, err := attempt(actx)
		cancel()
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("%s: %w", ClientName, ctx.Err())
		}
		var se *statusError
		if errors.As(err, &se) && !se.retryable() {
			return se.final()
		}
		if !again {
			return fmt.Errorf("%s: %w", ClientName, err)
		}
		last = err
	}
	var se *statusError
	if errors.As(last, &se) {
		return se.final()
	}
	return fmt.Errorf("%s: %w: %w", ClientName, llmrouter.ErrBackendUnavailable, last)
}

func (c *Client) backoff(retry int) time.Duration {
	d := c.cfg.BackoffBase << min(retry, 16)
	d = min(d, maxClientBackoff)
	return d/2 + time.Duration(rand.Int64N(int64(d/2)+1))
}

// readEvents reads server-sent events from r, calling fn with each event's
// name and data, until r ends or fn fails.
func readEvents(r io.Reader, fn func(name string, data []byte) error) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), maxClientBody)
	var name string
	var data bytes.Buffer
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			if data.Len() > 0 {
				if err := fn(name, data.Bytes()); err != nil {
					return err
				}
			}
			name = ""
			data.Reset()
		case strings.HasPrefix(line, "event:"):
			name = strings.TrimSpace(strings.TrimPrefix(line, "event:"))
		case strings.HasPrefix(line, "data:"):
			if data.Len() > 0 {
				data.WriteByte('\n')
			}
			data.WriteString(strings.TrimPrefix(strings.TrimPrefix(line, "data:"), " "))
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("read stream: %w", err)
	}
	if data.Len() > 0 {
		return fn(name, data.Bytes())
	}
	return nil
}
