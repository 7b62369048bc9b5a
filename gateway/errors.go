package gateway

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/rs/zerolog"

	"github.com/frontdesk-ai/frontdesk/persistence"
)

// Error is the one typed error from which the gateway writes every API error
// response: Status is the HTTP status, Code and Message are what the client
// sees as {"error":{"code","message"}}, and Err is the cause, logged for
// server errors and never sent.
type Error struct {
	Status  int
	Code    string
	Message string
	Err     error
}

// Error returns the message and, when set, the cause.
func (e *Error) Error() string {
	if e.Err != nil {
		return e.Message + ": " + e.Err.Error()
	}
	return e.Message
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Error codes of API error responses.
const (
	CodeBadRequest      = "bad_request"
	CodeInvalid         = "invalid"
	CodeUnauthorized    = "unauthorized"
	CodeForbidden       = "forbidden"
	CodeNotFound        = "not_found"
	CodeDuplicate       = "duplicate"
	CodeVersionConflict = "version_conflict"
	CodeTooLarge        = "too_large"
	CodeInternal        = "internal"
)

// AsError returns the *Error that err is or wraps; otherwise it maps the
// persistence sentinels (ErrNotFound → 404, ErrInvalid → 400, ErrDuplicate
// and ErrVersionConflict → 409), an oversized body to 413, and anything else
// to a 500 with a generic message. The result wraps err.
func AsError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	var tooLarge *http.MaxBytesError
	switch {
	case errors.Is(err, persistence.ErrNotFound):
		return &Error{Status: http.StatusNotFound, Code: CodeNotFound, Message: "not found", Err: err}
	case errors.Is(err, persistence.ErrInvalid):
		return &Error{Status: http.StatusBadRequest, Code: CodeInvalid, Message: "invalid request", Err: err}
	case errors.Is(err, persistence.ErrDuplicate):
		return &Error{Status: http.StatusConflict, Code: CodeDuplicate, Message: "already exists", Err: err}
	case errors.Is(err, persistence.ErrVersionConflict):
		return &Error{Status: http.StatusConflict, Code: CodeVersionConflict, Message: "changed by someone else; reload and retry", Err: err}
	case errors.As(err, &tooLarge):
		return &Error{Status: http.StatusRequestEntityTooLarge, Code: CodeTooLarge, Message: "request body too large", Err: err}
	}
	return &Error{Status: http.StatusInternalServerError, Code: CodeInternal, Message: "internal error", Err: err}
}

// WriteError writes err as a JSON error response with the status AsError
// gives it. Server errors (5xx) are logged with their cause; the client sees
// only the generic message.
func WriteError(w http.ResponseWriter, log zerolog.Logger, err error) {
	e := AsError(err)
	if e.Status >= http.StatusInternalServerError {
		log.Error().Err(err).Int("status", e.Status).Msg("api request failed")
	}
	if e.Status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="frontdesk"`)
	}
	type body struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	}
	writeJSON(w, e.Status, struct {
		Error body `json:"error"`
	}{body{Code: e.Code, Message: e.Message}})
}

// writeJSON writes v as the JSON body of a response with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// errBadRequest is a 400 with message, caused by err (may be nil).
func errBadRequest(message string, err error) *Error {
	return &Error{Status: http.StatusBadRequest, Code: CodeBadRequest, Message: message, Err: err}
}

// errInvalid is a 400 for a field that breaks a rule, with message.
func errInvalid(message string) *Error {
	return &Error{Status: http.StatusBadRequest, Code: CodeInvalid, Message: message}
}

// errUnauthorized is a 401 with message, caused by err (may be nil).
func errUnauthorized(message string, err error) *Error {
	return &Error{Status: http.StatusUnauthorized, Code: CodeUnauthorized, Message: message, Err: err}
}

// errForbidden is the 403 of a role that a route does not allow.
func errForbidden() *Error {
	return &Error{Status: http.StatusForbidden, Code: CodeForbidden, Message: "your role may not do this"}
}
