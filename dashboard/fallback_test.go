package dashboard_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/rs/zerolog"

	"github.com/frontdesk-ai/frontdesk/dashboard"
)

// fallbackEnv serves /ws, /ws/probe and /ws/poll as frontdesk serve does;
// closing stop is the server starting to shut down.
func fallbackEnv(t *testing.T, stop <-chan struct{}) (*httptest.Server, *fakeSource) {
	t.Helper()
	leakCheck(t)
	src := newFakeSource()
	h := startHub(t, dashboard.Config{PollInterval: 10 * time.Millisecond}, src)
	probes := dashboard.NewProbes()
	mux := http.NewServeMux()
	mux.Handle("GET /ws", dashboard.WSHandler(h.Hub, tokenAuth, dashboard.WSConfig{Probes: probes}, zerolog.Nop()))
	mux.Handle("GET /ws/probe", dashboard.ProbeHandler(probes, tokenAuth))
	mux.Handle("GET "+dashboard.FallbackPath, dashboard.PollHandler(h.Hub, tokenAuth, stop, zerolog.Nop()))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv, src
}

func getJSON(t *testing.T, url, token string, v any) int {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if v != nil {
		if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
			t.Fatalf("GET %s: decode: %v", url, err)
		}
	}
	return resp.StatusCode
}

// TestUpgradeBlocked: a /ws request stripped of its upgrade (what a proxy
// that does not forward WebSockets sends on) gets 426 with the fallback, and
// the client's probe then reads "blocked"; a real upgrade reads "ok"; a
// request that never arrived reads "unseen"; probes are per user.
func TestUpgradeBlocked(t *testing.T) {
	srv, _ := fallbackEnv(t, nil)
	var blocked struct {
		Error struct{ Code, Message string }
	}
	req, _ := http.NewRequest("GET", srv.URL+"/ws?token=tok-a&probe=p-1", nil)
	req.Header.Set("Connection", "keep-alive") // the proxy dropped Upgrade and rewrote Connection
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = json.NewDecoder(resp.Body).Decode(&blocked)
	resp.Body.Close()
	if resp.StatusCode != http.StatusUpgradeRequired || blocked.Error.Code != "upgrade_blocked" || resp.Header.Get("X-Frontdesk-Fallback") != dashboard.FallbackPath {
		t.Fatalf("stripped upgrade = %d %+v (fallback %q), want 426 upgrade_blocked", resp.StatusCode, blocked, resp.Header.Get("X-Frontdesk-Fallback"))
	}
	c, _, err := websocket.DefaultDialer.Dial("ws"+srv.URL[len("http"):]+"/ws?token=tok-a&probe=p-2", nil)
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	for _, tc := range []struct{ probe, token, want string }{
		{"p-1", "tok-a", dashboard.ProbeBlocked},
		{"p-2", "tok-a", dashboard.ProbeOK},
		{"p-3", "tok-a", dashboard.ProbeUnseen},
		{"p-1", "tok-b", dashboard.ProbeUnseen}, // another tenant's user cannot read it
	} {
		var v struct{ Probe, Verdict, Fallback string }
		if code := getJSON(t, srv.URL+"/ws/probe?probe="+tc.probe, tc.token, &v); code != http.StatusOK || v.Verdict != tc.want || v.Fallback != dashboard.FallbackPath {
			t.Errorf("probe %s as %s = %d %+v, want %s", tc.probe, tc.token, code, v, tc.want)
		}
	}
	if code := getJSON(t, srv.URL+"/ws/probe?probe=bad%20id", "tok-a", nil); code != http.StatusBadRequest {
		t.Errorf("malformed probe = %d, want 400", code)
	}
	if code := getJSON(t, srv.URL+"/ws/probe?probe=p-1", "", nil); code != http.StatusUnauthorized {
		t.Errorf("probe without token = %d, want 401", code)
	}
}

// TestPoll: the poll feed returns the same frames as the WebSocket, after the
// id the client has, in pages, per tenant.
func TestPoll(t *testing.T) {
	srv, src := fallbackEnv(t, nil)
	type page struct {
		Events      []dashboard.Frame
		LastEventID int64 `json:"last_event_id"`
		More        bool
	}
	var p page
	if code := getJSON(t, srv.URL+"/ws/poll", "tok-a", &p); code != http.StatusOK || len(p.Events) != 0 || p.LastEventID != 0 {
		t.Fatalf("empty stream = %d %+v", code, p)
	}
	want := src.appendEvents(t, "tenant-a", 3)
	src.appendEvents(t, "tenant-b", 2)
	if getJSON(t, srv.URL+"/ws/poll", "tok-a", &p); p.LastEventID != 3 || len(p.Events) != 0 {
		t.Fatalf("start = %+v, want the newest id 3 and no events", p)
	}
	p = page{}
	getJSON(t, srv.URL+"/ws/poll?after=1", "tok-a", &p)
	if len(p.Events) != 2 || p.LastEventID != 3 || p.More {
		t.Fatalf("after 1 = %+v", p)
	}
	for i, f := range p.Events {
		if w := dashboard.NewFrame(want[i+1]); f.ID != w.ID || f.Type != w.Type || string(f.Data) != string(w.Data) || f.Time != w.Time {
			t.Errorf("frame %d = %+v, want the WebSocket's %+v", i, f, w)
		}
	}
	p = page{}
	if getJSON(t, srv.URL+"/ws/poll?after=3", "tok-a", &p); len(p.Events) != 0 || p.LastEventID != 3 {
		t.Fatalf("caught up = %+v", p)
	}
	src.appendEvents(t, "tenant-a", 600)
	p = page{}
	getJSON(t, srv.URL+"/ws/poll?after=3", "tok-a", &p)
	if len(p.Events) != 500 || !p.More || p.LastEventID != 503 {
		t.Fatalf("big backlog: %d events, more %v, last %d; want 500, true, 503", len(p.Events), p.More, p.LastEventID)
	}
	for _, q := range []string{"after=-1", "after=x", "after=1&after=2"} {
		if code := getJSON(t, srv.URL+"/ws/poll?"+q, "tok-a", nil); code != http.StatusBadRequest {
			t.Errorf("%s = %d, want 400", q, code)
		}
	}
	if code := getJSON(t, fmt.Sprintf("%s/ws/poll?after=0", srv.URL), "", nil); code != http.StatusUnauthorized {
		t.Errorf("no token = %d, want 401", code)
	}
}

// TestLongPoll: with wait, a poll that finds nothing holds until an event
// comes and returns it; when none comes it returns empty at the deadline.
func TestLongPoll(t *testing.T) {
	stop := make(chan struct{})
	srv, src := fallbackEnv(t, stop)
	src.appendEvents(t, "tenant-a", 2)
	type page struct {
		Events      []dashboard.Frame
		LastEventID int64 `json:"last_event_id"`
	}
	got := make(chan page, 1)
	go func() {
		var p page
		getJSON(t, srv.URL+"/ws/poll?after=2&wait=20", "tok-a", &p)
		got <- p
	}()
	// The request is waiting (nothing after 2 yet); the events come later.
	time.Sleep(200 * time.Millisecond)
	select {
	case p := <-got:
		t.Fatalf("long poll answered before any event: %+v", p)
	default:
	}
	src.appendEvents(t, "tenant-a", 1)
	src.appendEvents(t, "tenant-b", 1)
	p := <-got
	if len(p.Events) != 1 || p.Events[0].ID != 3 || p.LastEventID != 3 {
		t.Fatalf("long poll = %+v, want event 3 of tenant a", p)
	}
	var empty page
	if code := getJSON(t, srv.URL+"/ws/poll?after=3&wait=1", "tok-a", &empty); code != http.StatusOK || len(empty.Events) != 0 || empty.LastEventID != 3 {
		t.Fatalf("long poll without events = %d %+v, want no events and last id 3", code, empty)
	}
	if code := getJSON(t, srv.URL+"/ws/poll?after=3&wait=x", "tok-a", nil); code != http.StatusBadRequest {
		t.Fatalf("wait=x = %d, want 400", code)
	}
	// Shutting down ends a waiting poll (an empty answer) instead of keeping
	// the server's shutdown waiting for it.
	go func() {
		var p page
		getJSON(t, srv.URL+"/ws/poll?after=3&wait=25", "tok-a", &p)
		got <- p
	}()
	time.Sleep(100 * time.Millisecond)
	close(stop)
	select {
	case p := <-got:
		if len(p.Events) != 0 || p.LastEventID != 3 {
			t.Fatalf("poll ended by shutdown = %+v, want empty", p)
		}
	case <-time.After(15 * time.Second): // well before its 25 s wait would end it
		t.Fatal("shutting down did not end the waiting poll")
	}
}
