package shopify

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/frontdesk-ai/frontdesk/commerce"
)

// maxResponse bounds how much of an answer is read.
const maxResponse = 16 << 20

// Waits between tries.
const (
	// minThrottleWait and maxThrottleWait bound the wait for the cost
	// bucket to refill after THROTTLED.
	minThrottleWait = time.Second
	maxThrottleWait = time.Minute
)

type gqlRequest struct {
	Query     string         `json:"query"`
	Variables map[string]any `json:"variables,omitempty"`
}

// gqlResponse is a GraphQL answer. Its extensions.cost is Shopify's
// calculated query cost and the app's bucket after the request.
type gqlResponse struct {
	Data       json.RawMessage `json:"data"`
	Errors     gqlErrors       `json:"errors"`
	Extensions struct {
		Cost *queryCost `json:"cost"`
	} `json:"extensions"`
}

type queryCost struct {
	RequestedQueryCost float64 `json:"requestedQueryCost"`
	ThrottleStatus     struct {
		MaximumAvailable   float64 `json:"maximumAvailable"`
		CurrentlyAvailable float64 `json:"currentlyAvailable"`
		RestoreRate        float64 `json:"restoreRate"`
	} `json:"throttleStatus"`
}

type gqlError struct {
	Message    string `json:"message"`
	Extensions struct {
		Code string `json:"code"`
	} `json:"extensions"`
}

// gqlErrors is GraphQL's errors list; Shopify answers some HTTP errors
// with "errors" as one string, which becomes one error.
type gqlErrors []gqlError

// UnmarshalJSON accepts a list of errors or a string.
func (e *gqlErrors) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*e = gqlErrors{{Message: s}}
		return nil
	}
	var list []gqlError
	err := json.Unmarshal(b, &list)
	*e = list
	return err
}

// String joins the messages.
func (e gqlErrors) String() string {
	msgs := make([]string, 0, len(e))
	for _, x := range e {
		if x.Extensions.Code != "" {
			msgs = append(msgs, x.Extensions.Code+": "+x.Message)
		} else {
			msgs = append(msgs, x.Message)
		}
	}
	return strings.Join(msgs, "; ")
}

// throttled reports whether the answer is Shopify's THROTTLED error.
func (r gqlResponse) throttled() bool {
	for _, e := range r.Errors {
		if e.Extensions.Code == "THROTTLED" {
			return true
		}
	}
	return false
}

// internalError reports whether the answer is Shopify's
// INTERNAL_SERVER_ERROR, its 500 in a 200 answer: worth another try.
func (r gqlResponse) internalError() bool {
	for _, e := range r.Errors {
		if e.Extensions.Code == "INTERNAL_SERVER_ERROR" {
			return true
		}
	}
	return false
}

// throttleWait is how long the bucket takes to refill enough for the
// request, (requested - available) / restoreRate seconds, at least a
// second; zero when the answer has no cost.
func (r gqlResponse) throttleWait() time.Duration {
	c := r.Extensions.Cost
	if c == nil || c.ThrottleStatus.RestoreRate <= 0 {
		return 0
	}
	need := (c.RequestedQueryCost - c.ThrottleStatus.CurrentlyAvailable) / c.ThrottleStatus.RestoreRate
	wait := time.Duration(need * float64(time.Second))
	return min(max(wait, minThrottleWait), maxThrottleWait)
}

// do posts query with vars to the GraphQL endpoint and decodes the answer's
// data into out, trying again (up to maxRetries) after THROTTLED,
// INTERNAL_SERVER_ERROR, 429, 5xx and transport failures. 401 and 403 wrap ErrUnauthorized; other GraphQL
// errors fail at once.
func (c *Client) do(ctx context.Context, op, query string, vars map[string]any, out any) error {
	body, err := json.Marshal(gqlRequest{Query: query, Variables: vars})
	if err != nil {
		return fmt.Errorf("shopify %s: encode request: %w", op, err)
	}
	var data []byte
	err = commerce.Retry(ctx, c.maxRetries, c.sleep, func() error {
		var err error
		data, err = c.attempt(ctx, body)
		return err
	})
	if err != nil {
		return fmt.Errorf("shopify %s: %w", op, err)
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("shopify %s: %w", op, commerce.Malformed("decode data: %v", err))
	}
	return nil
}

// attempt makes one request and returns the answer's data, a *commerce.RetryError
// for a failure worth another try, ctx's error when ctx ended, or a
// permanent error.
func (c *Client) attempt(ctx context.Context, body []byte) (json.RawMessage, error) {
	callCtx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(callCtx, http.MethodPost, c.endpoint, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("X-Shopify-Access-Token", c.token)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err() // the caller gave up: no retry
		}
		return nil, &commerce.RetryError{Err: err} // transport failure or this try's timeout
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse+1))
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, &commerce.RetryError{Err: fmt.Errorf("read answer: %w", err)}
	}
	if len(raw) > maxResponse {
		return nil, fmt.Errorf("answer larger than %d bytes", maxResponse)
	}
	var gr gqlResponse
	decodeErr := json.Unmarshal(raw, &gr)
	if err := statusError(resp, gr, raw); err != nil {
		return nil, err
	}
	switch {
	case decodeErr != nil:
		return nil, commerce.Malformed("answer is not GraphQL JSON: %v", decodeErr)
	case gr.throttled():
		return nil, &commerce.RetryError{Err: fmt.Errorf("throttled: %s", gr.Errors), Wait: gr.throttleWait()}
	case gr.internalError():
		return nil, &commerce.RetryError{Err: fmt.Errorf("graphql errors: %s", gr.Errors)}
	case len(gr.Errors) > 0:
		return nil, fmt.Errorf("graphql errors: %s", gr.Errors)
	case len(gr.Data) == 0 || string(gr.Data) == "null":
		return nil, commerce.Malformed("answer has no data")
	}
	return gr.Data, nil
}

// statusError classifies a non-2xx answer: 401 and 403 are permanent
// (ErrUnauthorized), 429 waits Retry-After (or for the cost bucket), 5xx
// backs off, other statuses are permanent.
func statusError(resp *http.Response, gr gqlResponse, raw []byte) error {
	code := resp.StatusCode
	if code >= 200 && code <= 299 {
		return nil
	}
	msg := gr.Errors.String()
	if msg == "" {
		msg = strings.TrimSpace(string(raw[:min(len(raw), 200)]))
	}
	switch {
	case code == http.StatusUnauthorized || code == http.StatusForbidden:
		return fmt.Errorf("%w: HTTP %d (%s): check the Admin API access token and the app's access scopes", ErrUnauthorized, code, msg)
	case code == http.StatusTooManyRequests:
		wait := commerce.RetryAfter(resp.Header.Get("Retry-After"))
		if wait == 0 {
			wait = gr.throttleWait()
		}
		return &commerce.RetryError{Err: fmt.Errorf("HTTP 429: %s", msg), Wait: wait}
	case code >= 500:
		return &commerce.RetryError{Err: fmt.Errorf("HTTP %d: %s", code, msg)}
	}
	return fmt.Errorf("HTTP %d: %s", code, msg)
}
