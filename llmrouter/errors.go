package llmrouter

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// ErrBackendUnavailable is wrapped by a backend's error when it could not
// answer after its retries (network failures, timeouts, 5xx, 429, a
// malformed answer) or is misconfigured (401, 403, 404): another backend
// may still answer the same request.
var ErrBackendUnavailable = errors.New("llm backend unavailable")

// ErrUnsupported is wrapped by a backend's error for a request that this
// kind of server cannot serve as configured (tool_choice auto on a vLLM
// server without a tool-call parser, say): the Router moves on to the next
// candidate without counting it against the backend's circuit.
var ErrUnsupported = errors.New("llm backend cannot serve this request")

// ErrCircuitOpen is wrapped by the Router's record of a backend it skipped
// because its circuit breaker is open.
var ErrCircuitOpen = errors.New("llm backend circuit open")

// ErrBackendBusy is wrapped by the Router's record of a backend it skipped
// because the backend already had its maximum of calls in flight.
var ErrBackendBusy = errors.New("llm backend at its concurrency limit")

// ErrEgressDenied is wrapped by the error of a request to a host that is
// not one of the configured backends' hosts; it is never sent.
var ErrEgressDenied = errors.New("llm egress to an unconfigured host denied")

// ErrInvalidRequest is wrapped by the error for a Request that no backend
// can send (see Request.Validate).
var ErrInvalidRequest = errors.New("invalid llm request")

// APIError is an error answer of an OpenAI-compatible server: its HTTP
// status and the body's error object.
type APIError struct {
	StatusCode int
	// Type, Code and Message are error.type, error.code and error.message
	// of the body; Message is the start of the body when it had no error
	// object.
	Type    string
	Code    string
	Message string
	// RetryAfter is the wait the server asked for (Retry-After or
	// retry-after-ms), zero when it asked for none.
	RetryAfter time.Duration
}

var _ error = (*APIError)(nil)

// Error describes the answer: status, type, code and message.
func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "http %d", e.StatusCode)
	if e.Type != "" || e.Code != "" {
		b.WriteString(" (")
		b.WriteString(e.Type)
		if e.Type != "" && e.Code != "" {
			b.WriteString(", ")
		}
		b.WriteString(e.Code)
		b.WriteString(")")
	}
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	return b.String()
}

// Retryable reports whether the same request may succeed later: 408, 429
// and 5xx.
func (e *APIError) Retryable() bool {
	return e.StatusCode == http.StatusRequestTimeout || e.StatusCode == http.StatusTooManyRequests || e.StatusCode >= 500
}

// misconfigured reports whether the answer says the backend, not the
// request, is wrong: a bad key, no access, or an unknown path or model.
func (e *APIError) misconfigured() bool {
	switch e.StatusCode {
	case http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound:
		return true
	}
	return false
}
