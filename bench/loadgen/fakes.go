package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/frontdesk-ai/frontdesk/llmrouter/llmtest"
)

// The fakes below speak the wire formats of llmtest.Server and
// whatsapptest.Graph but keep nothing per request beyond what the load
// generator measures: those test doubles record every request body (a
// model request carries the whole prompt) and answer from a script of
// steps, which over minutes of load would grow by gigabytes and take CPU
// from the process under test; and the Graph fake records no arrival times.

// modelFake is an OpenAI-compatible chat-completions server that answers
// every request at once with the same text and no tool calls.
type modelFake struct {
	answer     []byte
	calls      atomic.Int64
	unexpected atomic.Int64
}

func newModelFake(text string) *modelFake {
	type message struct {
		Role    string `json:"role"`
		Content string `json:"content"`
	}
	type choice struct {
		Index        int     `json:"index"`
		Message      message `json:"message"`
		FinishReason string  `json:"finish_reason"`
	}
	type usage struct {
		PromptTokens     int `json:"prompt_tokens"`
		CompletionTokens int `json:"completion_tokens"`
		TotalTokens      int `json:"total_tokens"`
	}
	body, err := json.Marshal(struct {
		ID      string   `json:"id"`
		Object  string   `json:"object"`
		Created int64    `json:"created"`
		Model   string   `json:"model"`
		Choices []choice `json:"choices"`
		Usage   usage    `json:"usage"`
	}{
		ID: "chatcmpl-loadgen", Object: "chat.completion", Created: 1735689600, Model: llmtest.Model,
		Choices: []choice{{Message: message{Role: "assistant", Content: text}, FinishReason: "stop"}},
		Usage:   usage{PromptTokens: 100, CompletionTokens: 5, TotalTokens: 105},
	})
	if err != nil {
		panic(err) // a fixed value always encodes
	}
	return &modelFake{answer: body}
}

func (m *modelFake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	raw, _ := io.ReadAll(io.LimitReader(r.Body, 16<<20))
	if r.Method != http.MethodPost || r.URL.Path != llmtest.CompletionsPath {
		m.unexpected.Add(1)
		openAIError(w, http.StatusNotFound, "invalid_request_error", fmt.Sprintf("Unknown request URL: %s %s.", r.Method, r.URL.Path))
		return
	}
	if bytes.Contains(raw, []byte(`"stream":true`)) {
		m.unexpected.Add(1)
		openAIError(w, http.StatusBadRequest, "invalid_request_error", "loadgen's model fake does not stream")
		return
	}
	m.calls.Add(1)
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(m.answer)
}

func openAIError(w http.ResponseWriter, status int, typ, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{"message": msg, "type": typ}})
}

// graphFake is the Graph API's POST /{version}/{phone_number_id}/messages
// for one business number and token: it answers text (and any other)
// messages with a wamid and read receipts / typing indicators with
// success, and records the arrival time of every message per recipient and
// the number of sends per biz_opaque_callback_data (frontdesk's message
// id), so a reply sent twice shows.
//
// Concurrency: one mutex guards the inboxes and keys; each inbox wakes its
// one waiter through a channel of capacity 1.
type graphFake struct {
	phoneNumberID, token string

	reads   atomic.Int64
	refused atomic.Int64
	seq     atomic.Int64

	mu      sync.Mutex
	inboxes map[string]*inbox
	keys    map[string]int
}

// inbox is what reached one recipient.
type inbox struct {
	arrivals []time.Time
	wake     chan struct{}
}

func newGraphFake(phoneNumberID, token string) *graphFake {
	g := &graphFake{phoneNumberID: phoneNumberID, token: token}
	g.reset()
	return g
}

// reset forgets every recipient and key (a new scenario with a new
// frontdesk process).
func (g *graphFake) reset() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.inboxes = map[string]*inbox{}
	g.keys = map[string]int{}
	g.reads.Store(0)
	g.refused.Store(0)
}

// inboxLocked returns to's inbox, creating it; g.mu is held.
func (g *graphFake) inboxLocked(to string) *inbox {
	b := g.inboxes[to]
	if b == nil {
		b = &inbox{wake: make(chan struct{}, 1)}
		g.inboxes[to] = b
	}
	return b
}

// replies returns how many messages reached to.
func (g *graphFake) replies(to string) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	if b := g.inboxes[to]; b != nil {
		return len(b.arrivals)
	}
	return 0
}

// errNoReply is a reply that did not come within the wait.
var errNoReply = errors.New("no reply")

// waitReply waits until the n-th message (counted from 1) reached to and
// returns its arrival time; errNoReply after timeout.
func (g *graphFake) waitReply(ctx context.Context, to string, n int, timeout time.Duration) (time.Time, error) {
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	for {
		g.mu.Lock()
		b := g.inboxLocked(to)
		if len(b.arrivals) >= n {
			t := b.arrivals[n-1]
			g.mu.Unlock()
			return t, nil
		}
		g.mu.Unlock()
		select {
		case <-b.wake:
		case <-timer.C:
			return time.Time{}, errNoReply
		case <-ctx.Done():
			return time.Time{}, ctx.Err()
		}
	}
}

// doubledKeys returns how many sends repeated a key already sent.
func (g *graphFake) doubledKeys() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	n := 0
	for _, c := range g.keys {
		n += c - 1
	}
	return n
}

// messagingProduct is the Cloud API's required messaging_product value: a
// field of the wire format, not a channel name anything branches on.
const messagingProduct = "whatsapp"

var graphMessagesPath = regexp.MustCompile(`^/v[0-9]+\.[0-9]+/([^/]+)/messages$`)

func (g *graphFake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	arrived := time.Now()
	raw, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	m := graphMessagesPath.FindStringSubmatch(r.URL.Path)
	if r.Method != http.MethodPost || m == nil || m[1] != g.phoneNumberID {
		g.refused.Add(1)
		graphError(w, http.StatusBadRequest, 100, "Unsupported request.")
		return
	}
	if tok, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); tok != g.token {
		g.refused.Add(1)
		graphError(w, http.StatusUnauthorized, 190, "Error validating access token.")
		return
	}
	var body struct {
		MessagingProduct string `json:"messaging_product"`
		Status           string `json:"status"`
		MessageID        string `json:"message_id"`
		To               string `json:"to"`
		Key              string `json:"biz_opaque_callback_data"`
	}
	if err := json.Unmarshal(raw, &body); err != nil || body.MessagingProduct != messagingProduct {
		g.refused.Add(1)
		graphError(w, http.StatusBadRequest, 100, "(#100) Invalid parameter")
		return
	}
	if body.Status != "" {
		if body.Status != "read" || body.MessageID == "" {
			g.refused.Add(1)
			graphError(w, http.StatusBadRequest, 100, "(#100) Invalid parameter")
			return
		}
		g.reads.Add(1)
		writeGraphJSON(w, http.StatusOK, map[string]any{"success": true})
		return
	}
	if body.To == "" {
		g.refused.Add(1)
		graphError(w, http.StatusBadRequest, 100, "(#100) The parameter to is required.")
		return
	}
	g.mu.Lock()
	b := g.inboxLocked(body.To)
	b.arrivals = append(b.arrivals, arrived)
	if body.Key != "" {
		g.keys[body.Key]++
	}
	g.mu.Unlock()
	select {
	case b.wake <- struct{}{}:
	default:
	}
	wamid := fmt.Sprintf("wamid.loadgen.%d", g.seq.Add(1))
	writeGraphJSON(w, http.StatusOK, map[string]any{
		"messaging_product": messagingProduct,
		"contacts":          []map[string]string{{"input": body.To, "wa_id": strings.TrimPrefix(body.To, "+")}},
		"messages":          []map[string]string{{"id": wamid}},
	})
}

func graphError(w http.ResponseWriter, status, code int, msg string) {
	writeGraphJSON(w, status, map[string]any{"error": map[string]any{
		"message": msg, "type": "OAuthException", "code": code, "fbtrace_id": "AloadgenTrace"}})
}

func writeGraphJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// bareHandler only reads the body and answers 200: the ceiling an HTTP
// handler reaches on this machine, the yardstick of webhook ingest.
func bareHandler(w http.ResponseWriter, r *http.Request) {
	_, _ = io.Copy(io.Discard, r.Body)
	w.WriteHeader(http.StatusOK)
}

// listen serves h on a random loopback port and returns its base URL
// (http://127.0.0.1:port) and a function that stops it.
func listen(h http.Handler) (string, func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, fmt.Errorf("listen: %w", err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	return "http://" + ln.Addr().String(), func() { _ = srv.Close() }, nil
}
