package stripe

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/frontdesk-ai/frontdesk/commerce"
)

// maxResponse bounds how much of an answer is read: a page of a hundred
// Checkout Sessions is a few hundred kilobytes.
const maxResponse = 8 << 20

// Headers of the API.
const (
	headerIdempotencyKey = "Idempotency-Key"
	headerReplayed       = "Idempotent-Replayed"
	headerShouldRetry    = "Stripe-Should-Retry"
	headerVersion        = "Stripe-Version"
	headerRequestID      = "Request-Id"
)

// call is one API request: form is the query of a GET and the
// form-encoded body of a POST.
type call struct {
	method         string
	path           string
	form           url.Values
	idempotencyKey string
}

// answer is a successful response's body and whether Stripe replayed it
// for an idempotency key it had seen.
type answer struct {
	body     []byte
	replayed bool
}

// do makes r, trying again (up to maxRetries) after failures worth
// another try, and decodes the answer into out. It reports whether Stripe
// replayed a saved answer.
func (c *Client) do(ctx context.Context, op string, r call, out any) (replayed bool, err error) {
	var a answer
	err = commerce.Retry(ctx, c.maxRetries, c.sleep, func() error {
		var err error
		a, err = c.attempt(ctx, r)
		return err
	})
	if err != nil {
		return false, fmt.Errorf("stripe %s: %w", op, err)
	}
	if err := json.Unmarshal(a.body, out); err != nil {
		return false, fmt.Errorf("stripe %s: %w", op, malformed("decode answer: %v", err))
	}
	return a.replayed, nil
}

// attempt makes one request and returns its answer, a
// *commerce.RetryError for a failure worth another try, ctx's error when
// ctx ended, or a permanent error.
func (c *Client) attempt(ctx context.Context, r call) (answer, error) {
	callCtx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	req, err := c.newRequest(callCtx, r)
	if err != nil {
		return answer{}, err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return answer{}, ctx.Err() // the caller gave up: no retry
		}
		return answer{}, &commerce.RetryError{Err: err} // transport failure or this try's timeout
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse+1))
	if err != nil {
		if ctx.Err() != nil {
			return answer{}, ctx.Err()
		}
		return answer{}, &commerce.RetryError{Err: fmt.Errorf("read answer: %w", err)}
	}
	if len(raw) > maxResponse {
		return answer{}, fmt.Errorf("answer larger than %d bytes", maxResponse)
	}
	if err := statusError(resp, raw); err != nil {
		return answer{}, err
	}
	return answer{body: raw, replayed: resp.Header.Get(headerReplayed) == "true"}, nil
}

// newRequest builds r with the secret key, the pinned API version and, on
// a POST, the form body and the idempotency key.
func (c *Client) newRequest(ctx context.Context, r call) (*http.Request, error) {
	u := c.base + r.path
	var body io.Reader
	if r.method == http.MethodGet {
		if len(r.form) > 0 {
			u += "?" + r.form.Encode()
		}
	} else {
		body = strings.NewReader(r.form.Encode())
	}
	req, err := http.NewRequestWithContext(ctx, r.method, u, body)
	if err != nil {
		return nil, fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+c.key)
	req.Header.Set(headerVersion, APIVersion)
	req.Header.Set("Accept", "application/json")
	if r.method != http.MethodGet {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set(headerIdempotencyKey, r.idempotencyKey)
	}
	return req, nil
}

// statusError classifies a non-2xx answer: 401 and 403 wrap
// ErrUnauthorized; otherwise Stripe-Should-Retry decides when present;
// otherwise 409 (a concurrent request with the same idempotency key),
// 429 and 5xx are worth another try (after Retry-After when given) and
// the rest are permanent *Error.
func statusError(resp *http.Response, raw []byte) error {
	code := resp.StatusCode
	if code >= 200 && code <= 299 {
		return nil
	}
	apiErr := decodeError(resp, raw)
	if code == http.StatusUnauthorized || code == http.StatusForbidden {
		return fmt.Errorf("%w: %w", ErrUnauthorized, apiErr)
	}
	if retryable(code, resp.Header.Get(headerShouldRetry)) {
		return &commerce.RetryError{Err: apiErr, Wait: commerce.RetryAfter(resp.Header.Get("Retry-After"))}
	}
	return apiErr
}

// retryable reports whether a failed answer is worth another try: Stripe's
// Stripe-Should-Retry when it says true or false, else the status.
func retryable(status int, shouldRetry string) bool {
	switch strings.TrimSpace(shouldRetry) {
	case "true":
		return true
	case "false":
		return false
	}
	return status == http.StatusConflict || status == http.StatusTooManyRequests || status >= 500
}

// decodeError reads Stripe's error object; an answer without one keeps the
// start of its body as the message.
func decodeError(resp *http.Response, raw []byte) *Error {
	var body struct {
		Error struct {
			Type        string `json:"type"`
			Code        string `json:"code"`
			DeclineCode string `json:"decline_code"`
			Message     string `json:"message"`
			Param       string `json:"param"`
		} `json:"error"`
	}
	e := &Error{HTTPStatus: resp.StatusCode, RequestID: resp.Header.Get(headerRequestID)}
	if json.Unmarshal(raw, &body) == nil && body.Error.Type != "" {
		e.Type, e.Code, e.DeclineCode = body.Error.Type, body.Error.Code, body.Error.DeclineCode
		e.Message, e.Param = body.Error.Message, body.Error.Param
		return e
	}
	e.Message = strings.TrimSpace(string(raw[:min(len(raw), 200)]))
	return e
}
