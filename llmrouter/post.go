package llmrouter

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// post sends body as JSON to url, with apiKey as a bearer token when set,
// and returns the answer when its status is 2xx; the caller closes its
// body. An error answer is returned as an *APIError (with the server's
// Retry-After), a transport failure as another error.
func post(ctx context.Context, client *http.Client, url, apiKey string, body []byte, accept string) (*http.Response, error) {
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("build request: %w", err)
	}
	hreq.Header.Set("Content-Type", "application/json")
	hreq.Header.Set("Accept", accept)
	if apiKey != "" {
		hreq.Header.Set("Authorization", "Bearer "+apiKey)
	}
	return send(client, hreq)
}

// send does hreq; see post.
func send(client *http.Client, hreq *http.Request) (*http.Response, error) {
	hresp, err := client.Do(hreq)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", hreq.Method, hreq.URL.Path, err)
	}
	if hresp.StatusCode >= 200 && hresp.StatusCode <= 299 {
		return hresp, nil
	}
	defer hresp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(hresp.Body, maxResponseBody))
	if err != nil {
		return nil, fmt.Errorf("read error answer: %w", err)
	}
	ae := parseAPIError(hresp.StatusCode, raw)
	ae.RetryAfter = retryAfter(hresp.Header, time.Now())
	return nil, ae
}

// readBody reads an answer's body, refusing one over maxResponseBody.
func readBody(hresp *http.Response) ([]byte, error) {
	raw, err := io.ReadAll(io.LimitReader(hresp.Body, maxResponseBody+1))
	if err != nil {
		return nil, fmt.Errorf("read answer: %w", err)
	}
	if len(raw) > maxResponseBody {
		return nil, fmt.Errorf("%w: answer exceeds %d bytes", errMalformed, maxResponseBody)
	}
	return raw, nil
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
