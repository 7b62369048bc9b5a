package stripetest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// APIVersion is the version the fake renders objects and events in.
const APIVersion = "2024-06-20"

// Request is one API request the fake received, recorded before it is
// answered.
type Request struct {
	Method string
	Path   string
	// Form is a POST's decoded body or a GET's query.
	Form url.Values
	// Header holds the request's headers (Authorization included).
	Header http.Header
}

// IdempotencyKey is the request's Idempotency-Key header.
func (r Request) IdempotencyKey() string { return r.Header.Get("Idempotency-Key") }

// savedAnswer is what the idempotency layer keeps of a request that began
// executing: the endpoint and parameters it was made with and the answer.
type savedAnswer struct {
	endpoint  string
	params    string
	status    int
	body      []byte
	requestID string
}

// reply is a handler's answer; saved says whether the endpoint began
// executing, so that the idempotency layer keeps it (Stripe keeps no
// answer for a request refused in validation).
type reply struct {
	status int
	body   any
	saved  bool
}

// Server is a fake Stripe API: Checkout Sessions (create, list with
// created[...] filters and cursor pagination, retrieve, expire),
// PaymentIntents (retrieve) and Refunds (create), form-encoded like
// Stripe, answering any key but its own with HTTP 401 and Stripe's error
// shape, and keeping idempotency keys like Stripe: the same key with the
// same parameters replays the first answer with Idempotent-Replayed: true;
// with other parameters it is a 400 idempotency_error.
//
// Pay, Decline and Expire move a session along as a customer would and
// record the events Stripe would send (Events). Knobs make the next
// requests fail before they execute (FailNext, TooManyNext,
// ShouldRetryNext) or lose their answer after executing (LoseNext).
//
// Concurrency: one mutex guards the objects, knobs and records, held for
// the whole of each request, so requests execute one at a time (where
// Stripe would answer a concurrent request with the same idempotency key
// with 409, the fake makes it wait).
type Server struct {
	srv *httptest.Server
	key string

	mu             sync.Mutex
	now            func() time.Time
	seq            int
	sessions       []*session // in creation order
	intents        map[string]*paymentIntent
	charges        map[string]*charge
	refunds        map[string]*refund
	saved          map[string]savedAnswer
	requests       []Request
	events         [][]byte
	failNext       int
	failStatus     int
	tooManyNext    int
	retryAfter     string
	shouldRetry    int
	shouldNotRetry int
	loseNext       int
}

// New starts a Server accepting secretKey; it stops when t ends.
func New(t testing.TB, secretKey string) *Server {
	s := &Server{
		key:     secretKey,
		now:     time.Now,
		intents: map[string]*paymentIntent{},
		charges: map[string]*charge{},
		refunds: map[string]*refund{},
		saved:   map[string]savedAnswer{},
	}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.srv.Close)
	return s
}

// URL is the APIURL to configure a client with.
func (s *Server) URL() string { return s.srv.URL }

// SetNow makes now the fake's clock (creation times, expiry, events).
func (s *Server) SetNow(now func() time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.now = now
}

// FailNext answers the next n requests with status and the error object
// Stripe sends with it (api_error for 5xx, card_error card_declined for
// 402, invalid_request_error otherwise), before they execute.
func (s *Server) FailNext(n, status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failNext, s.failStatus = n, status
}

// TooManyNext answers the next n requests with 429 rate_limit, before they
// execute, with Retry-After when SetRetryAfter gave one.
func (s *Server) TooManyNext(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tooManyNext = n
}

// SetRetryAfter sets the Retry-After header of TooManyNext's answers;
// empty leaves it out.
func (s *Server) SetRetryAfter(v string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.retryAfter = v
}

// ShouldRetryNext answers the next n requests with 409 lock_timeout and
// Stripe-Should-Retry: true, before they execute.
func (s *Server) ShouldRetryNext(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.shouldRetry = n
}

// ShouldNotRetryNext answers the next n requests with 503 and
// Stripe-Should-Retry: false, before they execute.
func (s *Server) ShouldNotRetryNext(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.shouldNotRetry = n
}

// LoseNext executes the next n requests, keeps their answers for their
// idempotency keys, then closes the connection without answering: the
// client cannot tell whether anything happened.
func (s *Server) LoseNext(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.loseNext = n
}

// ForgetIdempotencyKeys drops every saved answer, as Stripe does with keys
// older than 24 hours: a retry with an old key then creates anew.
func (s *Server) ForgetIdempotencyKeys() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.saved = map[string]savedAnswer{}
}

// Requests returns the requests received so far, oldest first.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// SessionsCreated is how many Checkout Sessions exist.
func (s *Server) SessionsCreated() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.sessions)
}

// PaymentIntentsCreated is how many PaymentIntents exist.
func (s *Server) PaymentIntentsCreated() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.intents)
}

// RefundsCreated is how many refunds exist.
func (s *Server) RefundsCreated() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.refunds)
}

// Object returns the object with id (cs_, pi_, ch_, re_) as the API shows
// it now.
func (s *Server) Object(id string) (json.RawMessage, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	obj := s.object(id)
	if obj == nil {
		return nil, false
	}
	b, err := json.Marshal(obj)
	return b, err == nil
}

// object returns the object with id, or nil. s.mu is held.
func (s *Server) object(id string) any {
	if cs := s.session(id); cs != nil {
		return cs
	}
	if pi, ok := s.intents[id]; ok {
		return pi
	}
	if ch, ok := s.charges[id]; ok {
		return ch
	}
	if re, ok := s.refunds[id]; ok {
		return re
	}
	return nil
}

// Events returns the bodies of the events Stripe would have sent so far,
// oldest first; deliver them with NewWebhookRequest.
func (s *Server) Events() [][]byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([][]byte(nil), s.events...)
}

// record keeps an event of typ about obj, as it is now. s.mu is held.
func (s *Server) record(typ string, obj any) {
	s.seq++
	body, err := newEvent(fmt.Sprintf("evt_fake%08d", s.seq), typ, s.now(), obj)
	if err != nil {
		panic(fmt.Sprintf("stripetest: event %s: %v", typ, err)) // our own objects always marshal
	}
	s.events = append(s.events, body)
}

// newID returns a fresh id with prefix. s.mu is held.
func (s *Server) newID(prefix string) string {
	s.seq++
	return fmt.Sprintf("%s%08d", prefix, s.seq)
}

// serve authenticates, records, applies the knobs and the idempotency
// layer, and routes.
func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := r.ParseForm(); err != nil {
		s.write(w, http.StatusBadRequest, apiError("invalid_request_error", "", "", "Invalid request body: "+err.Error()), "")
		return
	}
	form := r.URL.Query()
	if r.Method == http.MethodPost {
		form = r.PostForm
	}
	s.requests = append(s.requests, Request{Method: r.Method, Path: r.URL.Path, Form: form, Header: r.Header.Clone()})
	if !s.authorized(r) {
		s.write(w, http.StatusUnauthorized, s.unauthorized(r), "")
		return
	}
	if s.knob(w) {
		return
	}
	key := r.Header.Get("Idempotency-Key")
	endpoint := r.Method + " " + r.URL.Path
	if r.Method == http.MethodPost && key != "" {
		if prev, ok := s.saved[key]; ok {
			s.replay(w, prev, endpoint, form.Encode(), key)
			return
		}
	}
	if r.Method == http.MethodPost && r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" {
		s.write(w, http.StatusBadRequest, apiError("invalid_request_error", "", "", "Stripe's API takes form-encoded bodies (application/x-www-form-urlencoded)."), "")
		return
	}
	rep := s.route(r.Method, r.URL.Path, form)
	body, err := json.Marshal(rep.body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	reqID := s.newID("req_fake")
	if r.Method == http.MethodPost && key != "" && rep.saved {
		s.saved[key] = savedAnswer{endpoint: endpoint, params: form.Encode(), status: rep.status, body: body, requestID: reqID}
	}
	if s.loseNext > 0 {
		s.loseNext--
		s.hangUp(w)
		return
	}
	w.Header().Set("Request-Id", reqID)
	s.writeRaw(w, rep.status, body)
}

// authorized reports whether r carries the secret key, as a bearer token
// or as basic auth's user name (curl -u sk_…:).
func (s *Server) authorized(r *http.Request) bool {
	if user, _, ok := r.BasicAuth(); ok {
		return user == s.key
	}
	return r.Header.Get("Authorization") == "Bearer "+s.key
}

// unauthorized is Stripe's answer to a missing or wrong key.
func (s *Server) unauthorized(r *http.Request) map[string]any {
	if r.Header.Get("Authorization") == "" {
		return apiError("invalid_request_error", "", "", "You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY').")
	}
	return apiError("invalid_request_error", "", "", "Invalid API Key provided: "+redact(strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")))
}

// redact shows a key as Stripe does: its prefix and last four characters.
func redact(key string) string {
	if len(key) <= 12 {
		return strings.Repeat("*", len(key))
	}
	return key[:8] + strings.Repeat("*", len(key)-12) + key[len(key)-4:]
}

// knob answers r from the first pending failure knob, reporting whether it
// did. s.mu is held.
func (s *Server) knob(w http.ResponseWriter) bool {
	switch {
	case s.failNext > 0:
		s.failNext--
		s.write(w, s.failStatus, failure(s.failStatus), "")
	case s.tooManyNext > 0:
		s.tooManyNext--
		if s.retryAfter != "" {
			w.Header().Set("Retry-After", s.retryAfter)
		}
		s.write(w, http.StatusTooManyRequests, apiError("invalid_request_error", "rate_limit", "", "Too many requests hit the API too quickly. We recommend an exponential backoff of your requests."), "")
	case s.shouldRetry > 0:
		s.shouldRetry--
		s.write(w, http.StatusConflict, apiError("invalid_request_error", "lock_timeout", "", "This object cannot be accessed right now because another API request or Stripe process is currently accessing it."), "true")
	case s.shouldNotRetry > 0:
		s.shouldNotRetry--
		s.write(w, http.StatusServiceUnavailable, apiError("api_error", "", "", "Stripe is temporarily unavailable; do not retry this request."), "false")
	default:
		return false
	}
	return true
}

// failure is the error object Stripe sends with status.
func failure(status int) map[string]any {
	switch {
	case status >= 500:
		return apiError("api_error", "", "", "An unknown error occurred.")
	case status == http.StatusPaymentRequired:
		e := apiError("card_error", "card_declined", "card", "Your card was declined.")
		e["error"].(map[string]any)["decline_code"] = "generic_decline"
		return e
	}
	return apiError("invalid_request_error", "parameter_invalid", "", "Invalid request.")
}

// replay answers a request whose idempotency key was seen: the saved
// answer if the endpoint and parameters are the same, else a 400
// idempotency_error.
func (s *Server) replay(w http.ResponseWriter, prev savedAnswer, endpoint, params, key string) {
	if prev.endpoint != endpoint || prev.params != params {
		s.write(w, http.StatusBadRequest, apiError("idempotency_error", "", "",
			fmt.Sprintf("Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '%s' if you meant to execute a different request.", key)), "")
		return
	}
	w.Header().Set("Idempotent-Replayed", "true")
	w.Header().Set("Original-Request", prev.requestID)
	w.Header().Set("Request-Id", s.newID("req_fake"))
	s.writeRaw(w, prev.status, prev.body)
}

// hangUp closes r's connection without an answer.
func (s *Server) hangUp(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic("stripetest: connection cannot be hijacked")
	}
	conn, _, err := hj.Hijack()
	if err == nil {
		conn.Close()
	}
}

// write answers with status and body as JSON; shouldRetry, when set, is
// the Stripe-Should-Retry header.
func (s *Server) write(w http.ResponseWriter, status int, body any, shouldRetry string) {
	b, err := json.Marshal(body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	if shouldRetry != "" {
		w.Header().Set("Stripe-Should-Retry", shouldRetry)
	}
	w.Header().Set("Request-Id", s.newID("req_fake"))
	s.writeRaw(w, status, b)
}

// writeRaw answers with status and a JSON body.
func (s *Server) writeRaw(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Stripe-Version", APIVersion)
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// apiError is Stripe's error body.
func apiError(typ, code, param, message string) map[string]any {
	e := map[string]any{"type": typ, "message": message}
	if code != "" {
		e["code"] = code
		e["doc_url"] = "https://stripe.com/docs/error-codes/" + strings.ReplaceAll(code, "_", "-")
	}
	if param != "" {
		e["param"] = param
	}
	return map[string]any{"error": e}
}

// invalidParam is a 400 for a bad parameter; it is not saved.
func invalidParam(code, param, message string) reply {
	return reply{status: http.StatusBadRequest, body: apiError("invalid_request_error", code, param, message)}
}

// Routes of the fake.
var (
	sessionPath = regexp.MustCompile(`^/v1/checkout/sessions/([A-Za-z0-9_]+)$`)
	expirePath  = regexp.MustCompile(`^/v1/checkout/sessions/([A-Za-z0-9_]+)/expire$`)
	intentPath  = regexp.MustCompile(`^/v1/payment_intents/([A-Za-z0-9_]+)$`)
)

// route runs the endpoint for method and path. s.mu is held.
func (s *Server) route(method, path string, form url.Values) reply {
	switch {
	case method == http.MethodPost && path == "/v1/checkout/sessions":
		return s.createSession(form)
	case method == http.MethodGet && path == "/v1/checkout/sessions":
		return s.listSessions(form)
	case method == http.MethodGet && sessionPath.MatchString(path):
		return s.retrieve(sessionPath.FindStringSubmatch(path)[1], "checkout.session")
	case method == http.MethodPost && expirePath.MatchString(path):
		return s.expireSession(expirePath.FindStringSubmatch(path)[1])
	case method == http.MethodGet && intentPath.MatchString(path):
		return s.retrieve(intentPath.FindStringSubmatch(path)[1], "payment_intent")
	case method == http.MethodPost && path == "/v1/refunds":
		return s.createRefund(form)
	}
	return reply{status: http.StatusNotFound, body: apiError("invalid_request_error", "", "",
		fmt.Sprintf("Unrecognized request URL (%s: %s). Please see https://stripe.com/docs or we can help at https://support.stripe.com/.", method, path))}
}

// retrieve answers the object with id of type typ, or 404 resource_missing.
func (s *Server) retrieve(id, typ string) reply {
	obj := s.object(id)
	if obj == nil || objectType(obj) != typ {
		return reply{status: http.StatusNotFound, body: apiError("invalid_request_error", "resource_missing", "id", fmt.Sprintf("No such %s: '%s'", typ, id))}
	}
	return reply{status: http.StatusOK, body: obj}
}

// objectType is the "object" of one of the fake's objects.
func objectType(obj any) string {
	switch o := obj.(type) {
	case *session:
		return o.Object
	case *paymentIntent:
		return o.Object
	case *charge:
		return o.Object
	case *refund:
		return o.Object
	}
	return ""
}

// unknownParam returns the first key of form that matches none of allowed,
// in sorted order.
func unknownParam(form url.Values, allowed []*regexp.Regexp) string {
	for _, k := range sortedKeys(form) {
		ok := false
		for _, re := range allowed {
			if re.MatchString(k) {
				ok = true
				break
			}
		}
		if !ok {
			return k
		}
	}
	return ""
}
