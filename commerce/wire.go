package commerce

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// What the shop systems' packages share: checking a webhook body's shape
// and retrying their APIs.

// MaxDepth is how deep a shop's JSON body may nest.
const MaxDepth = 64

// CheckObject refuses a body that is not one JSON object nesting at most
// MaxDepth levels (wrapping ErrMalformed).
func CheckObject(body []byte) error {
	if !json.Valid(body) {
		return Malformed("invalid JSON")
	}
	if t := bytes.TrimLeft(body, " \t\r\n"); len(t) == 0 || t[0] != '{' {
		return Malformed("body is not a JSON object")
	}
	depth, inString, escaped := 0, false, false
	for _, c := range body {
		switch {
		case escaped:
			escaped = false
		case inString:
			escaped = c == '\\'
			inString = c != '"'
		case c == '"':
			inString = true
		case c == '{' || c == '[':
			if depth++; depth > MaxDepth {
				return Malformed("nesting deeper than %d", MaxDepth)
			}
		case c == '}' || c == ']':
			depth--
		}
	}
	return nil
}

// Malformed returns an error wrapping ErrMalformed.
func Malformed(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrMalformed}, args...)...)
}

// RetryError is a failure worth another try, after Wait (zero: Backoff).
type RetryError struct {
	Err  error
	Wait time.Duration
}

func (e *RetryError) Error() string { return e.Err.Error() }
func (e *RetryError) Unwrap() error { return e.Err }

// Backoff bounds.
const (
	firstBackoff = 500 * time.Millisecond
	maxBackoff   = 30 * time.Second
)

// Backoff is the wait before try attempt+2: 0.5 s, 1 s, 2 s, … up to 30 s.
func Backoff(attempt int) time.Duration {
	if attempt >= 16 {
		return maxBackoff
	}
	return min(firstBackoff<<attempt, maxBackoff)
}

// RetryAfter reads a Retry-After of (possibly fractional) seconds, at most
// ten minutes; anything else is zero.
func RetryAfter(h string) time.Duration {
	s, err := strconv.ParseFloat(strings.TrimSpace(h), 64)
	if err != nil || s <= 0 || math.IsInf(s, 0) || math.IsNaN(s) {
		return 0
	}
	return min(time.Duration(s*float64(time.Second)), 10*time.Minute)
}

// Retry calls try until it succeeds or fails with an error that is not a
// *RetryError, trying again at most maxRetries times; between tries it
// sleeps the error's Wait, else Backoff. sleep returns ctx's error when ctx
// ends first.
func Retry(ctx context.Context, maxRetries int, sleep func(context.Context, time.Duration) error, try func() error) error {
	for attempt := 0; ; attempt++ {
		err := try()
		var again *RetryError
		if err == nil || !errors.As(err, &again) {
			return err
		}
		if attempt >= maxRetries {
			return fmt.Errorf("giving up after %d tries: %w", attempt+1, err)
		}
		wait := again.Wait
		if wait <= 0 {
			wait = Backoff(attempt)
		}
		if err := sleep(ctx, wait); err != nil {
			return err
		}
	}
}

// Transport is how a provider's API client sends: its HTTP client, the
// timeout of one request, how often a retryable failure is tried again,
// and how it waits between tries.
type Transport struct {
	HTTP       *http.Client
	Timeout    time.Duration
	MaxRetries int
	Sleep      func(ctx context.Context, d time.Duration) error
}

// WithDefaults fills t's zero fields: a new http.Client, timeout,
// maxRetries (a negative MaxRetries means none), Sleep.
func (t Transport) WithDefaults(timeout time.Duration, maxRetries int) Transport {
	if t.HTTP == nil {
		t.HTTP = &http.Client{}
	}
	if t.Timeout == 0 {
		t.Timeout = timeout
	}
	switch {
	case t.MaxRetries == 0:
		t.MaxRetries = maxRetries
	case t.MaxRetries < 0:
		t.MaxRetries = 0
	}
	if t.Sleep == nil {
		t.Sleep = Sleep
	}
	return t
}

// Sleep waits d or until ctx ends (returning its error).
func Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
