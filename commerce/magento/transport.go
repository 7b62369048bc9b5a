package magento

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// maxResponse bounds how much of an answer is read.
const maxResponse = 16 << 20

// Waits between tries.
const (
	firstBackoff = 500 * time.Millisecond
	maxBackoff   = 30 * time.Second
)

// filter is one searchCriteria filter.
type filter struct{ field, value, condition string }

// criteria is a searchCriteria: filters ANDed (one group each), a sort
// order and a page.
type criteria struct {
	filters            []filter
	sortField, sortDir string
	pageSize, page     int
}

// values writes the criteria as Magento's searchCriteria query parameters.
func (c criteria) values() url.Values {
	v := url.Values{}
	for i, f := range c.filters {
		p := fmt.Sprintf("searchCriteria[filter_groups][%d][filters][0]", i)
		v.Set(p+"[field]", f.field)
		v.Set(p+"[value]", f.value)
		v.Set(p+"[condition_type]", f.condition)
	}
	if c.sortField != "" {
		v.Set("searchCriteria[sortOrders][0][field]", c.sortField)
		v.Set("searchCriteria[sortOrders][0][direction]", c.sortDir)
	}
	v.Set("searchCriteria[pageSize]", strconv.Itoa(c.pageSize))
	v.Set("searchCriteria[currentPage]", strconv.Itoa(c.page))
	return v
}

// retryError is a failure worth another try, after wait (zero: the
// exponential backoff).
type retryError struct {
	err  error
	wait time.Duration
}

func (e *retryError) Error() string { return e.err.Error() }
func (e *retryError) Unwrap() error { return e.err }

// backoff is the wait before try attempt+2: 0.5 s, 1 s, 2 s, … up to 30 s.
func backoff(attempt int) time.Duration {
	if attempt >= 16 {
		return maxBackoff
	}
	return min(firstBackoff<<attempt, maxBackoff)
}

// retryAfter reads a Retry-After of seconds; anything else is zero.
func retryAfter(h string) time.Duration {
	s, err := strconv.ParseFloat(strings.TrimSpace(h), 64)
	if err != nil || s <= 0 || math.IsInf(s, 0) || math.IsNaN(s) {
		return 0
	}
	return min(time.Duration(s*float64(time.Second)), 10*time.Minute)
}

// get asks GET {base}{path}?query and decodes the JSON answer into out,
// trying again (up to maxRetries) after 429, 5xx and transport failures.
// 401 and 403 wrap ErrUnauthorized; other statuses fail at once.
func (c *Client) get(ctx context.Context, op, path string, query url.Values, out any) error {
	endpoint := c.base + path + "?" + query.Encode()
	for attempt := 0; ; attempt++ {
		raw, err := c.attempt(ctx, endpoint)
		if err == nil {
			if err := json.Unmarshal(raw, out); err != nil {
				return fmt.Errorf("magento %s: %w", op, malformed("decode answer: %v", err))
			}
			return nil
		}
		var again *retryError
		if !errors.As(err, &again) {
			return fmt.Errorf("magento %s: %w", op, err)
		}
		if attempt >= c.maxRetries {
			return fmt.Errorf("magento %s: giving up after %d tries: %w", op, attempt+1, err)
		}
		wait := again.wait
		if wait <= 0 {
			wait = backoff(attempt)
		}
		if err := c.sleep(ctx, wait); err != nil {
			return fmt.Errorf("magento %s: %w", op, err)
		}
	}
}

// attempt makes one request and returns the 2xx answer's body, a
// *retryError for a failure worth another try, ctx's error when ctx ended,
// or a permanent error.
func (c *Client) attempt(ctx context.Context, endpoint string) ([]byte, error) {
	callCtx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(callCtx, http.MethodGet, endpoint, nil)
	if err != nil {
		return nil, fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Accept", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err() // the caller gave up: no retry
		}
		return nil, &retryError{err: err}
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse+1))
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, &retryError{err: fmt.Errorf("read answer: %w", err)}
	}
	if len(raw) > maxResponse {
		return nil, fmt.Errorf("answer larger than %d bytes", maxResponse)
	}
	code := resp.StatusCode
	switch {
	case code >= 200 && code <= 299:
		return raw, nil
	case code == http.StatusUnauthorized || code == http.StatusForbidden:
		return nil, fmt.Errorf("%w: HTTP %d (%s): check the REST bearer token and its ACL", ErrUnauthorized, code, message(raw))
	case code == http.StatusTooManyRequests:
		return nil, &retryError{err: fmt.Errorf("HTTP 429: %s", message(raw)), wait: retryAfter(resp.Header.Get("Retry-After"))}
	case code >= 500:
		return nil, &retryError{err: fmt.Errorf("HTTP %d: %s", code, message(raw))}
	}
	return nil, fmt.Errorf("HTTP %d: %s", code, message(raw))
}

// message reads Magento's error body, {"message": "… %1 …", "parameters":
// [...] or {...}}, with its parameters put in; else the start of the body.
func message(raw []byte) string {
	var e struct {
		Message    string          `json:"message"`
		Parameters json.RawMessage `json:"parameters"`
	}
	if json.Unmarshal(raw, &e) != nil || e.Message == "" {
		return strings.TrimSpace(string(raw[:min(len(raw), 200)]))
	}
	msg := e.Message
	var list []any
	var named map[string]any
	switch {
	case json.Unmarshal(e.Parameters, &list) == nil:
		for i := len(list) - 1; i >= 0; i-- { // %10 before %1
			msg = strings.ReplaceAll(msg, "%"+strconv.Itoa(i+1), fmt.Sprint(list[i]))
		}
	case json.Unmarshal(e.Parameters, &named) == nil:
		for k, v := range named {
			msg = strings.ReplaceAll(msg, "%"+k, fmt.Sprint(v))
		}
	}
	return msg
}
