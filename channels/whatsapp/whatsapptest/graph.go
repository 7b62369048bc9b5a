// Package whatsapptest provides test doubles for the WhatsApp Cloud API that
// speak its real wire format: Graph, a fake Graph API messages endpoint that
// records every request and can be scripted to fail, and builders of signed
// webhook bodies and requests for gateway and end-to-end tests.
//
// Concurrency: Graph's recorded requests and failure script are guarded by
// one mutex; its methods are safe to call while requests are in flight.
package whatsapptest

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Version is the Graph API version in BaseURL's path.
const Version = "v21.0"

// Request is one request the fake received, recorded before it is answered.
type Request struct {
	Method        string
	Path          string
	PhoneNumberID string
	// Token is the bearer token of the Authorization header.
	Token       string
	ContentType string
	// Body is the decoded JSON body; nil when it was not a JSON object.
	Body map[string]any
	Raw  []byte
}

// Sent is a text message the fake accepted.
type Sent struct {
	WAMID         string
	PhoneNumberID string
	Token         string
	To            string
	Text          string
	// ReplyTo is context.message_id.
	ReplyTo string
	// Buttons are an interactive message's reply buttons (Text is then its
	// body).
	Buttons []SentButton
	// Template is a template message's name, TemplateParams its body's
	// parameters.
	Template       string
	TemplateParams []string
}

// SentButton is a reply button of a sent interactive message.
type SentButton struct{ ID, Title string }

// Failure scripts an error answer: HTTPStatus with a Graph error body.
type Failure struct {
	HTTPStatus int
	Code       int
	Subcode    int
	// Type defaults to "OAuthException".
	Type    string
	Message string
	// Details becomes error.error_data.details.
	Details string
	// RetryAfter, when set, is sent as the Retry-After header.
	RetryAfter string
}

// ServerError is Graph's HTTP 500 "unknown error" (code 1).
func ServerError() Failure {
	return Failure{HTTPStatus: http.StatusInternalServerError, Code: 1, Message: "An unknown error occurred"}
}

// RateLimited is throughput error 130429 with HTTP 429 and Retry-After.
func RateLimited(retryAfter string) Failure {
	return Failure{HTTPStatus: http.StatusTooManyRequests, Code: 130429, Message: "(#130429) Rate limit hit",
		Details: "Cloud API message throughput has been reached.", RetryAfter: retryAfter}
}

// ReEngagement is error 131047: the 24 h customer-service window is closed.
func ReEngagement() Failure {
	return Failure{HTTPStatus: http.StatusBadRequest, Code: 131047, Message: "(#131047) Re-engagement message",
		Details: "Message failed to send because more than 24 hours have passed since the customer last replied to this number."}
}

// InvalidToken is error 190 with HTTP 401: a bad or expired access token.
func InvalidToken() Failure {
	return Failure{HTTPStatus: http.StatusUnauthorized, Code: 190, Subcode: 463,
		Message: "Error validating access token: Session has expired."}
}

// Graph is a fake Graph API serving POST /{Version}/{phone_number_id}/messages
// for text and other sends and for read receipts.
type Graph struct {
	srv *httptest.Server

	mu       sync.Mutex
	requests []Request
	sent     []Sent
	failures []Failure // answered in order, one per call
	always   *Failure
	report   *statusReport
	slow     time.Duration
	tokens   map[string]bool
	seq      int
}

// NewGraph starts a fake Graph API that t closes at cleanup. It accepts any
// non-empty bearer token until AcceptTokens says otherwise.
func NewGraph(t testing.TB) *Graph {
	g := &Graph{}
	g.srv = httptest.NewServer(http.HandlerFunc(g.serve))
	t.Cleanup(g.srv.Close)
	return g
}

// BaseURL returns the value for FRONTDESK_GRAPH_API_URL: the server's URL
// with the version path.
func (g *Graph) BaseURL() string { return g.srv.URL + "/" + Version }

// HTTPClient returns a client for the fake's server.
func (g *Graph) HTTPClient() *http.Client { return g.srv.Client() }

// AcceptTokens makes the fake answer 401 with code 190 to any other token.
func (g *Graph) AcceptTokens(tokens ...string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.tokens = make(map[string]bool, len(tokens))
	for _, t := range tokens {
		g.tokens[t] = true
	}
}

// FailNext makes the next n calls answer f.
func (g *Graph) FailNext(n int, f Failure) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for range n {
		g.failures = append(g.failures, f)
	}
}

// FailAlways makes every call answer f until Heal.
func (g *Graph) FailAlways(f Failure) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.always = &f
}

// Heal drops every scripted failure.
func (g *Graph) Heal() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.failures, g.always = nil, nil
}

// Requests returns a copy of every request received so far, in order.
func (g *Graph) Requests() []Request {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]Request(nil), g.requests...)
}

// Sent returns the text messages accepted so far, in order.
func (g *Graph) Sent() []Sent {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]Sent(nil), g.sent...)
}

var messagesPath = regexp.MustCompile(`^/v[0-9]+\.[0-9]+/([^/]+)/messages$`)

func (g *Graph) serve(w http.ResponseWriter, r *http.Request) {
	raw, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	req := Request{
		Method:      r.Method,
		Path:        r.URL.Path,
		ContentType: r.Header.Get("Content-Type"),
		Raw:         raw,
	}
	if tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
		req.Token = tok
	}
	if m := messagesPath.FindStringSubmatch(r.URL.Path); m != nil {
		req.PhoneNumberID = m[1]
	}
	_ = json.Unmarshal(raw, &req.Body)

	g.mu.Lock()
	g.requests = append(g.requests, req)
	g.seq++
	seq := g.seq
	var fail *Failure
	switch {
	case len(g.failures) > 0:
		f := g.failures[0]
		g.failures = g.failures[1:]
		fail = &f
	case g.always != nil:
		f := *g.always
		fail = &f
	case req.Token == "" || (g.tokens != nil && !g.tokens[req.Token]):
		f := InvalidToken()
		fail = &f
	}
	g.mu.Unlock()

	if fail != nil {
		writeError(w, seq, *fail)
		return
	}
	if r.Method != http.MethodPost || req.PhoneNumberID == "" {
		writeError(w, seq, Failure{HTTPStatus: http.StatusBadRequest, Code: 100, Subcode: 33,
			Message: fmt.Sprintf("Unsupported %s request.", strings.ToLower(r.Method))})
		return
	}
	if req.Body == nil {
		writeError(w, seq, invalidParam("The request body must be a JSON object."))
		return
	}
	if req.Body["messaging_product"] != "whatsapp" {
		writeError(w, seq, invalidParam("(#100) The parameter messaging_product is required."))
		return
	}
	if status, ok := req.Body["status"]; ok {
		id, _ := req.Body["message_id"].(string)
		if status != "read" || id == "" {
			writeError(w, seq, invalidParam("(#100) Invalid parameter"))
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"success": true})
		return
	}
	to, _ := req.Body["to"].(string)
	typ, _ := req.Body["type"].(string)
	if typ == "" {
		typ = "text"
	}
	obj, _ := req.Body[typ].(map[string]any)
	missing := ""
	switch {
	case to == "":
		missing = "to"
	case obj == nil:
		missing = typ
	}
	if missing != "" {
		writeError(w, seq, invalidParam("(#100) The parameter "+missing+" is required."))
		return
	}
	s := Sent{WAMID: wamid(seq), PhoneNumberID: req.PhoneNumberID, Token: req.Token, To: to}
	if typ == "text" {
		body, _ := obj["body"].(string)
		if body == "" {
			writeError(w, seq, invalidParam("(#100) The parameter text['body'] is required."))
			return
		}
		s.Text = body
	}
	switch typ {
	case "interactive":
		s.Text, s.Buttons = interactiveOf(obj)
	case "template":
		s.Template, s.TemplateParams = templateOf(obj)
	}
	if ctx, ok := req.Body["context"].(map[string]any); ok {
		s.ReplyTo, _ = ctx["message_id"].(string)
	}
	g.mu.Lock()
	g.sent = append(g.sent, s)
	report := g.report
	g.mu.Unlock()
	if report != nil {
		key, _ := req.Body["biz_opaque_callback_data"].(string)
		go report.deliver(req.PhoneNumberID, strings.TrimPrefix(to, "+"), s.WAMID, key)
	}
	g.mu.Lock()
	slow := g.slow
	g.mu.Unlock()
	if slow > 0 {
		// The message is taken (and reported); the answer is late.
		time.Sleep(slow)
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"messaging_product": "whatsapp",
		"contacts":          []map[string]string{{"input": to, "wa_id": strings.TrimPrefix(to, "+")}},
		"messages":          []map[string]string{{"id": s.WAMID}},
	})
}

// SlowAnswers makes the fake answer each accepted message d late (0: at
// once), as a slow or distant Graph API does: a sender killed meanwhile
// never learns the message went out.
func (g *Graph) SlowAnswers(d time.Duration) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.slow = d
}

// statusReport delivers status webhooks for accepted messages.
type statusReport struct {
	secret  string
	targets func() []string
}

// ReportStatuses makes the fake do what Meta does for every message it
// accepts: post a signed "sent" status webhook carrying the message's
// biz_opaque_callback_data to the business's webhook. targets returns the
// webhook URLs to try (cluster members, some of which may be down); each
// report is tried on them in turn until one answers 200, for up to a
// minute.
func (g *Graph) ReportStatuses(appSecret string, targets func() []string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.report = &statusReport{secret: appSecret, targets: targets}
}

func (r *statusReport) deliver(phoneNumberID, recipient, wamid, key string) {
	body := KeyedStatusWebhook(phoneNumberID, recipient, wamid, "sent", key, time.Now())
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		for _, url := range r.targets() {
			req, err := NewWebhookRequest(context.Background(), url, r.secret, body)
			if err != nil {
				return
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				continue
			}
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
	}
}

func invalidParam(msg string) Failure {
	return Failure{HTTPStatus: http.StatusBadRequest, Code: 100, Message: msg}
}

// wamid returns a fresh, wamid-shaped message id for call seq.
func wamid(seq int) string {
	return "wamid.HBgL" + base64.StdEncoding.EncodeToString([]byte("FRONTDESKFAKE"+strconv.Itoa(100000000+seq)))
}

func writeError(w http.ResponseWriter, seq int, f Failure) {
	if f.RetryAfter != "" {
		w.Header().Set("Retry-After", f.RetryAfter)
	}
	typ := f.Type
	if typ == "" {
		typ = "OAuthException"
	}
	e := map[string]any{
		"message":    f.Message,
		"type":       typ,
		"code":       f.Code,
		"fbtrace_id": fmt.Sprintf("AfakeTrace%06d", seq),
	}
	if f.Subcode != 0 {
		e["error_subcode"] = f.Subcode
	}
	if f.Details != "" {
		e["error_data"] = map[string]any{"messaging_product": "whatsapp", "details": f.Details}
	}
	writeJSON(w, f.HTTPStatus, map[string]any{"error": e})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// interactiveOf reads an interactive "button" message's body text and
// reply buttons.
func interactiveOf(obj map[string]any) (string, []SentButton) {
	body, _ := obj["body"].(map[string]any)
	text, _ := body["text"].(string)
	action, _ := obj["action"].(map[string]any)
	list, _ := action["buttons"].([]any)
	var buttons []SentButton
	for _, b := range list {
		bm, _ := b.(map[string]any)
		reply, _ := bm["reply"].(map[string]any)
		id, _ := reply["id"].(string)
		title, _ := reply["title"].(string)
		buttons = append(buttons, SentButton{ID: id, Title: title})
	}
	return text, buttons
}

// templateOf reads a template message's name and body parameters.
func templateOf(obj map[string]any) (string, []string) {
	name, _ := obj["name"].(string)
	var params []string
	comps, _ := obj["components"].([]any)
	for _, c := range comps {
		cm, _ := c.(map[string]any)
		if cm["type"] != "body" {
			continue
		}
		ps, _ := cm["parameters"].([]any)
		for _, p := range ps {
			pm, _ := p.(map[string]any)
			text, _ := pm["text"].(string)
			params = append(params, text)
		}
	}
	return name, params
}
