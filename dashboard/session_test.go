package dashboard_test

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/rs/zerolog"

	"github.com/frontdesk-ai/frontdesk/dashboard"
)

// sessions is a revocable token check, as the gateway's: a token works
// until it is revoked (logout, expiry, user disabled).
type sessions struct {
	mu      sync.Mutex
	revoked map[string]bool
	calls   int
}

func (s *sessions) revoke(tok string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.revoked[tok] = true
}

func (s *sessions) auth(r *http.Request) (string, string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	tok, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if s.revoked[tok] {
		return "", "", errors.New("session ended")
	}
	return tokenAuth(r)
}

const testRecheck = 50 * time.Millisecond

// TestWSSessionEnds: a socket whose session ends closes with 4401 "session
// ended" within a few rechecks and gets no frame after.
func TestWSSessionEnds(t *testing.T) {
	leakCheck(t)
	src := newFakeSource()
	h := startHub(t, dashboard.Config{PollInterval: 10 * time.Millisecond}, src)
	s := &sessions{revoked: map[string]bool{}}
	srv := httptest.NewServer(dashboard.WSHandler(h.Hub, s.auth, dashboard.WSConfig{RecheckInterval: testRecheck}, zerolog.Nop()))
	t.Cleanup(srv.Close)
	e := &wsEnv{hub: h, src: src, srv: srv}

	c := e.dial(t, "", bearer("tok-a"))
	src.appendEvents(t, "tenant-a", 1)
	h.Notify("tenant-a")
	if f := readFrame(t, c); f.ID != 1 {
		t.Fatalf("first frame %d", f.ID)
	}
	// Let a few rechecks pass: a live session stays open.
	time.Sleep(4 * testRecheck)

	s.revoke("tok-a")
	revokedAt := time.Now()
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		_, b, err := c.ReadMessage()
		if err != nil {
			var ce *websocket.CloseError
			if !errors.As(err, &ce) || ce.Code != dashboard.CloseSessionEnded || ce.Text != "session ended" {
				t.Fatalf("read ended with %v, want close 4401 session ended", err)
			}
			break
		}
		t.Fatalf("frame after the session ended: %s", b)
	}
	if d := time.Since(revokedAt); d > 20*testRecheck {
		t.Fatalf("closed %s after the session ended", d)
	}
}

// TestWSSessionKeepsOthers: revoking one token leaves another's socket open.
func TestWSSessionKeepsOthers(t *testing.T) {
	leakCheck(t)
	src := newFakeSource()
	h := startHub(t, dashboard.Config{PollInterval: 10 * time.Millisecond}, src)
	s := &sessions{revoked: map[string]bool{}}
	srv := httptest.NewServer(dashboard.WSHandler(h.Hub, s.auth, dashboard.WSConfig{RecheckInterval: testRecheck}, zerolog.Nop()))
	t.Cleanup(srv.Close)
	e := &wsEnv{hub: h, src: src, srv: srv}
	gone := e.dial(t, "", bearer("tok-a"))
	kept := e.dial(t, "", bearer("tok-b"))
	s.revoke("tok-a")
	_ = gone.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, _, err := gone.ReadMessage(); !websocket.IsCloseError(err, dashboard.CloseSessionEnded) {
		t.Fatalf("revoked socket: %v", err)
	}
	src.appendEvents(t, "tenant-b", 1)
	h.Notify("tenant-b")
	if f := readFrame(t, kept); f.ID != 1 {
		t.Fatalf("kept socket frame %d", f.ID)
	}
}

// TestLongPollSessionEnds: a long poll whose session ends answers 401
// "session ended" within a few rechecks instead of waiting out its wait.
func TestLongPollSessionEnds(t *testing.T) {
	leakCheck(t)
	src := newFakeSource()
	h := startHub(t, dashboard.Config{PollInterval: 10 * time.Millisecond}, src)
	s := &sessions{revoked: map[string]bool{}}
	srv := httptest.NewServer(dashboard.PollHandlerRecheck(h.Hub, s.auth, nil, testRecheck, zerolog.Nop()))
	t.Cleanup(srv.Close)

	type result struct {
		code int
		body string
	}
	done := make(chan result, 1)
	go func() {
		req, _ := http.NewRequest("GET", srv.URL+dashboard.FallbackPath+"?after=0&wait=20", nil)
		req.Header.Set("Authorization", "Bearer tok-a")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			done <- result{0, err.Error()}
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		done <- result{resp.StatusCode, string(b)}
	}()
	time.Sleep(4 * testRecheck)
	select {
	case r := <-done:
		t.Fatalf("long poll answered before the session ended: %d %s", r.code, r.body)
	default:
	}
	s.revoke("tok-a")
	select {
	case r := <-done:
		var e struct {
			Error struct{ Code, Message string }
		}
		_ = json.Unmarshal([]byte(r.body), &e)
		if r.code != http.StatusUnauthorized || e.Error.Message != "session ended" {
			t.Fatalf("long poll = %d %s, want 401 session ended", r.code, r.body)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("long poll still waiting 5s after its session ended")
	}
	http.DefaultClient.CloseIdleConnections()
}
