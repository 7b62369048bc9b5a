package service

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/frontdesk-ai/frontdesk/llmrouter"
)

// Error types of error answers, as OpenAI names them.
const (
	typeInvalidRequest = "invalid_request_error"
	typeServer         = "server_error"
)

// Error is the one typed error from which the service writes every error
// answer: Status is the HTTP status; Type, Code and Message are what the
// client sees as OpenAI's {"error":{"message","type","param","code"}}, so
// that OpenAI clients report them; Err is the cause, logged for server
// errors and never sent.
type Error struct {
	Status  int
	Type    string
	Code    string
	Param   string
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

// invalid is a 400 for a request that breaks a rule; param names the field.
func invalid(param, message string) *Error {
	return &Error{Status: http.StatusBadRequest, Type: typeInvalidRequest, Param: param, Message: message}
}

// asError returns the *Error that err is or wraps; otherwise it maps an
// invalid llmrouter request to 400, a backend's refusal (an *APIError the
// router did not fall back on) to 400, an oversized body to 413, a backend
// that could not answer to 502, the deadline to 504, and anything else to a
// 500 with a generic message.
func asError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	var tooLarge *http.MaxBytesError
	var api *llmrouter.APIError
	switch {
	case errors.As(err, &tooLarge):
		return &Error{Status: http.StatusRequestEntityTooLarge, Type: typeInvalidRequest, Code: "request_too_large",
			Message: "request body too large", Err: err}
	case errors.Is(err, llmrouter.ErrInvalidRequest):
		return &Error{Status: http.StatusBadRequest, Type: typeInvalidRequest, Message: strings.TrimPrefix(err.Error(), "llm router: "), Err: err}
	case errors.Is(err, ErrStreamingUnsupported):
		return &Error{Status: http.StatusBadRequest, Type: typeInvalidRequest, Code: "streaming_unsupported", Param: "stream",
			Message: ErrStreamingUnsupported.Error(), Err: err}
	case errors.Is(err, context.DeadlineExceeded):
		return &Error{Status: http.StatusGatewayTimeout, Type: typeServer, Code: "timeout", Message: "the model did not answer in time", Err: err}
	case errors.As(err, &api) && api.StatusCode >= 400 && api.StatusCode < 500:
		return &Error{Status: http.StatusBadRequest, Type: typeInvalidRequest, Code: "backend_refused",
			Message: "the model server refused the request: " + api.Message, Err: err}
	case errors.Is(err, llmrouter.ErrBackendUnavailable):
		return &Error{Status: http.StatusBadGateway, Type: typeServer, Code: "backend_unavailable", Message: "no model could answer", Err: err}
	}
	return &Error{Status: http.StatusInternalServerError, Type: typeServer, Message: "internal error", Err: err}
}

// errorBody is OpenAI's error answer.
type errorBody struct {
	Error errorObject `json:"error"`
}

type errorObject struct {
	Message string  `json:"message"`
	Type    string  `json:"type"`
	Param   *string `json:"param"`
	Code    *string `json:"code"`
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// writeError writes err as an error answer; server errors (5xx) are logged
// with their cause, the client sees the generic message.
func (s *Service) writeError(w http.ResponseWriter, r *http.Request, err error) {
	e := asError(err)
	if e.Status >= http.StatusInternalServerError {
		s.log.Error().Err(err).Int("status", e.Status).Str("path", r.URL.Path).Msg("llm router request failed")
	}
	if e.Status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="frontdesk llmrouter"`)
	}
	writeJSON(w, e.Status, errorBody{errorObject{Message: e.Message, Type: e.Type, Param: optional(e.Param), Code: optional(e.Code)}})
}

// writeJSON writes v as the JSON body of an answer with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// decodeJSON reads r's body (already bounded by the service) as one JSON
// value into v.
func decodeJSON(r *http.Request, v any) error {
	dec := json.NewDecoder(r.Body)
	if err := dec.Decode(v); err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return err
		}
		return &Error{Status: http.StatusBadRequest, Type: typeInvalidRequest, Message: "malformed JSON body: " + err.Error(), Err: err}
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return &Error{Status: http.StatusBadRequest, Type: typeInvalidRequest, Message: "malformed JSON body: more than one value"}
	}
	return nil
}

// bearerToken returns the token of an "Authorization: Bearer" header, or "".
func bearerToken(r *http.Request) string {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(token)
}
