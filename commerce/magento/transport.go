package magento

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/frontdesk-ai/frontdesk/commerce"
)

// maxResponse bounds how much of an answer is read.
const maxResponse = 16 << 20

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

// get asks GET {base}{path}?query and decodes the JSON answer into out,
// trying again (up to maxRetries) after 429, 5xx and transport failures.
// 401 and 403 wrap ErrUnauthorized, 404 commerce.ErrNotFound; other
// statuses fail at once.
func (c *Client) get(ctx context.Context, op, path string, query url.Values, out any) error {
	endpoint := c.base + path
	if len(query) > 0 {
		endpoint += "?" + query.Encode()
	}
	var raw []byte
	err := commerce.Retry(ctx, c.maxRetries, c.sleep, func() error {
		var err error
		raw, err = c.attempt(ctx, http.MethodGet, endpoint, nil)
		return err
	})
	if err != nil {
		return fmt.Errorf("magento %s: %w", op, err)
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("magento %s: %w", op, commerce.Malformed("decode answer: %v", err))
	}
	return nil
}

// statusError is an answer with a status that another try will not
// change (other than 401, 403 and 404).
type statusError struct {
	Code    int
	Message string
}

func (e *statusError) Error() string { return fmt.Sprintf("HTTP %d: %s", e.Code, e.Message) }

// attempt makes one request (a JSON body when body is not nil) and returns
// the 2xx answer's body, a *commerce.RetryError for a failure worth
// another try, ctx's error when ctx ended, or a permanent error: one
// wrapping ErrUnauthorized or commerce.ErrNotFound, or a *statusError.
func (c *Client) attempt(ctx context.Context, method, endpoint string, body []byte) ([]byte, error) {
	callCtx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(callCtx, method, endpoint, rd)
	if err != nil {
		return nil, fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err() // the caller gave up: no retry
		}
		return nil, &commerce.RetryError{Err: err}
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
	code := resp.StatusCode
	switch {
	case code >= 200 && code <= 299:
		return raw, nil
	case code == http.StatusUnauthorized || code == http.StatusForbidden:
		return nil, fmt.Errorf("%w: HTTP %d (%s): check the REST bearer token and its ACL", ErrUnauthorized, code, message(raw))
	case code == http.StatusNotFound:
		return nil, fmt.Errorf("%w: HTTP 404 (%s)", commerce.ErrNotFound, message(raw))
	case code == http.StatusTooManyRequests:
		return nil, &commerce.RetryError{Err: fmt.Errorf("HTTP 429: %s", message(raw)), Wait: commerce.RetryAfter(resp.Header.Get("Retry-After"))}
	case code >= 500:
		return nil, &commerce.RetryError{Err: fmt.Errorf("HTTP %d: %s", code, message(raw))}
	}
	return nil, &statusError{Code: code, Message: message(raw)}
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
