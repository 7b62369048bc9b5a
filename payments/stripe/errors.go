package stripe

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors. Each error this package returns wraps at most one of
// them, and errors.As finds an *Error in any error that Stripe answered.
var (
	// ErrUnauthorized means Stripe refused the secret key (HTTP 401) or the
	// key lacks a permission (403, a restricted key): retrying won't help.
	ErrUnauthorized = errors.New("stripe: secret key refused")
	// ErrInvalid means a request was refused before it was sent: a missing
	// idempotency key, a non-positive amount, an unknown currency.
	ErrInvalid = errors.New("stripe: invalid request")
	// ErrNotFound means no Checkout Session matched a reference.
	ErrNotFound = errors.New("stripe: not found")
	// ErrSignature means a webhook delivery's Stripe-Signature is missing,
	// unreadable, wrong, or its timestamp is outside the tolerance.
	ErrSignature = errors.New("stripe: invalid webhook signature")
	// ErrMalformed means a webhook body or an API answer cannot be parsed.
	ErrMalformed = errors.New("stripe: malformed payload")
)

// Error is an error object Stripe answered with:
// {"error":{"type","code","decline_code","message","param"}}.
type Error struct {
	// HTTPStatus is the answer's status code.
	HTTPStatus int
	// Type is api_error, card_error, idempotency_error or
	// invalid_request_error.
	Type string
	// Code is the error code (card_declined, resource_missing, …); empty
	// when Stripe gives none.
	Code string
	// DeclineCode is the card issuer's reason, for card errors.
	DeclineCode string
	// Message is for people; for card errors it may be shown to customers.
	Message string
	// Param names the request parameter at fault, if one is.
	Param string
	// RequestID is the Request-Id header, for Stripe's request logs.
	RequestID string
}

// Error reads "stripe: HTTP 402 card_error card_declined (insufficient_funds): message".
func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "stripe: HTTP %d", e.HTTPStatus)
	for _, s := range []string{e.Type, e.Code} {
		if s != "" {
			b.WriteString(" " + s)
		}
	}
	if e.DeclineCode != "" {
		b.WriteString(" (" + e.DeclineCode + ")")
	}
	if e.Param != "" {
		b.WriteString(" param " + e.Param)
	}
	if e.Message != "" {
		b.WriteString(": " + e.Message)
	}
	return b.String()
}

// invalid returns an error wrapping ErrInvalid.
func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalid}, args...)...)
}

// malformed returns an error wrapping ErrMalformed.
func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrMalformed}, args...)...)
}
