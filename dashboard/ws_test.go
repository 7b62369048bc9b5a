package dashboard_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/rs/zerolog"

	"github.com/frontdesk-ai/frontdesk/dashboard"
	"github.com/frontdesk-ai/frontdesk/persistence"
)

// tokens maps the test's bearer tokens to tenants.
var tokens = map[string]string{"tok-a": "tenant-a", "tok-b": "tenant-b"}

// tokenAuth reads the token from the Authorization header or ?token=, as
// the gateway's authenticator does.
func tokenAuth(r *http.Request) (string, string, error) {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		tok = r.URL.Query().Get("token")
	}
	tenant, ok := tokens[tok]
	if !ok {
		return "", "", errors.New("bad token")
	}
	return tenant, "user-" + tok, nil
}

type wsEnv struct {
	hub *runningHub
	src *fakeSource
	srv *httptest.Server
}

func startWS(t *testing.T, hcfg dashboard.Config, wcfg dashboard.WSConfig) *wsEnv {
	t.Helper()
	leakCheck(t)
	src := newFakeSource()
	h := startHub(t, hcfg, src)
	srv := httptest.NewServer(dashboard.WSHandler(h.Hub, tokenAuth, wcfg, zerolog.Nop()))
	t.Cleanup(srv.Close)
	return &wsEnv{hub: h, src: src, srv: srv}
}

// url returns the WebSocket URL of the endpoint with query q.
func (e *wsEnv) url(q string) string {
	u := "ws" + strings.TrimPrefix(e.srv.URL, "http") + "/ws"
	if q != "" {
		u += "?" + q
	}
	return u
}

func (e *wsEnv) dial(t *testing.T, query string, header http.Header) *websocket.Conn {
	t.Helper()
	d := &websocket.Dialer{HandshakeTimeout: 5 * time.Second}
	c, resp, err := d.Dial(e.url(query), header)
	if err != nil {
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		t.Fatalf("dial %s: %v (status %d)", query, err, status)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func bearer(tok string) http.Header { return http.Header{"Authorization": {"Bearer " + tok}} }

// readFrame reads one text frame and decodes it.
func readFrame(t *testing.T, c *websocket.Conn) dashboard.Frame {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	typ, b, err := c.ReadMessage()
	if err != nil {
		t.Fatalf("read frame: %v", err)
	}
	if typ != websocket.TextMessage {
		t.Fatalf("frame type %d, want text", typ)
	}
	var f dashboard.Frame
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatalf("frame %s: %v", b, err)
	}
	return f
}

func readIDs(t *testing.T, c *websocket.Conn, n int) []int64 {
	t.Helper()
	var ids []int64
	for range n {
		ids = append(ids, readFrame(t, c).ID)
	}
	return ids
}

func wantIDs(t *testing.T, got []int64, from int64) {
	t.Helper()
	for i, id := range got {
		if id != from+int64(i) {
			t.Fatalf("ids %v, want a run from %d", got, from)
		}
	}
}

// TestWSHandshake checks the answers before and at the upgrade.
func TestWSHandshake(t *testing.T) {
	e := startWS(t, dashboard.Config{PollInterval: 10 * time.Millisecond},
		dashboard.WSConfig{AllowedOrigins: []string{"https://support.example.com"}})
	cases := []struct {
		name   string
		query  string
		header http.Header
		status int
	}{
		{"no token", "", nil, http.StatusUnauthorized},
		{"wrong token", "", bearer("nope"), http.StatusUnauthorized},
		{"wrong query token", "token=nope", nil, http.StatusUnauthorized},
		{"last_event_id not a number", "last_event_id=abc", bearer("tok-a"), http.StatusBadRequest},
		{"last_event_id negative", "last_event_id=-1", bearer("tok-a"), http.StatusBadRequest},
		{"last_event_id empty", "last_event_id=", bearer("tok-a"), http.StatusBadRequest},
		{"last_event_id twice", "last_event_id=1&last_event_id=2", bearer("tok-a"), http.StatusBadRequest},
		{"foreign origin", "", http.Header{"Authorization": {"Bearer tok-a"}, "Origin": {"https://evil.example"}}, http.StatusForbidden},
		{"allowed origin", "", http.Header{"Authorization": {"Bearer tok-a"}, "Origin": {"https://Support.example.com"}}, http.StatusSwitchingProtocols},
		{"same origin", "", http.Header{"Authorization": {"Bearer tok-a"}, "Origin": {e.srv.URL}}, http.StatusSwitchingProtocols},
		{"header token", "", bearer("tok-a"), http.StatusSwitchingProtocols},
		{"query token and resume", "token=tok-b&last_event_id=0", nil, http.StatusSwitchingProtocols},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := &websocket.Dialer{HandshakeTimeout: 5 * time.Second}
			conn, resp, err := d.Dial(e.url(c.query), c.header)
			if resp == nil {
				t.Fatalf("no response: %v", err)
			}
			if resp.StatusCode != c.status {
				t.Fatalf("status %d, want %d (err %v)", resp.StatusCode, c.status, err)
			}
			if conn != nil {
				conn.Close()
			}
		})
	}
	eventually(t, "no subscriber left", func() bool { return e.hub.metric(t, "frontdesk_live_subscribers") == 0 })
}

// TestWSFrames checks the frame contract and the tenant filter.
func TestWSFrames(t *testing.T) {
	e := startWS(t, dashboard.Config{PollInterval: 10 * time.Millisecond}, dashboard.WSConfig{})
	c := e.dial(t, "", bearer("tok-a"))
	e.src.appendEvents(t, "tenant-b", 2)
	want := e.src.appendEvents(t, "tenant-a", 3)
	e.hub.Notify("tenant-a")
	for _, w := range want {
		_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
		typ, b, err := c.ReadMessage()
		if err != nil || typ != websocket.TextMessage {
			t.Fatalf("read: type %d, %v", typ, err)
		}
		var raw map[string]json.RawMessage
		if err := json.Unmarshal(b, &raw); err != nil {
			t.Fatal(err)
		}
		for _, k := range []string{"id", "type", "conversation_id", "data", "time"} {
			if _, ok := raw[k]; !ok {
				t.Fatalf("frame %s lacks %q", b, k)
			}
		}
		var f struct {
			ID             int64           `json:"id"`
			Type           string          `json:"type"`
			ConversationID string          `json:"conversation_id"`
			Data           json.RawMessage `json:"data"`
			Time           string          `json:"time"`
		}
		if err := json.Unmarshal(b, &f); err != nil {
			t.Fatal(err)
		}
		tm, err := time.Parse(time.RFC3339, f.Time)
		if err != nil {
			t.Fatalf("time %q: %v", f.Time, err)
		}
		if f.ID != w.ID || f.Type != persistence.LiveMessageCreated || f.ConversationID != "conv-tenant-a" ||
			string(f.Data) != string(w.Data) || !tm.Equal(w.CreatedAt) {
			t.Fatalf("frame %s, want event %+v", b, w)
		}
	}
	// Nothing of tenant b follows.
	_ = c.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	if _, b, err := c.ReadMessage(); err == nil {
		t.Fatalf("unexpected frame %s", b)
	}
}

// TestWSResume reconnects with the last id seen and gets what it missed,
// then live events.
func TestWSResume(t *testing.T) {
	e := startWS(t, dashboard.Config{PollInterval: 10 * time.Millisecond, BackfillLimit: 2}, dashboard.WSConfig{})
	e.src.appendEvents(t, "tenant-a", 2)
	c := e.dial(t, "last_event_id=0", bearer("tok-a"))
	wantIDs(t, readIDs(t, c, 2), 1)
	e.src.appendEvents(t, "tenant-a", 1)
	e.hub.Notify("tenant-a")
	wantIDs(t, readIDs(t, c, 1), 3)
	c.Close()
	eventually(t, "the first subscriber to leave", func() bool { return e.hub.metric(t, "frontdesk_live_subscribers") == 0 })

	e.src.appendEvents(t, "tenant-a", 5) // missed while away
	c2 := e.dial(t, "token=tok-a&last_event_id=3", nil)
	wantIDs(t, readIDs(t, c2, 5), 4)
	e.src.appendEvents(t, "tenant-a", 2)
	e.hub.Notify("tenant-a")
	wantIDs(t, readIDs(t, c2, 2), 9)

	// Without last_event_id a client starts after the newest event.
	c3 := e.dial(t, "", bearer("tok-a"))
	e.src.appendEvents(t, "tenant-a", 1)
	e.hub.Notify("tenant-a")
	wantIDs(t, readIDs(t, c3, 1), 11)
}

// TestWSKeepalive checks that a client answering pings stays connected and
// one that does not is dropped after PongWait.
func TestWSKeepalive(t *testing.T) {
	const ping, pongWait = 20 * time.Millisecond, 100 * time.Millisecond
	e := startWS(t, dashboard.Config{PollInterval: 10 * time.Millisecond},
		dashboard.WSConfig{PingInterval: ping, PongWait: pongWait, WriteTimeout: time.Second})

	var pings atomic.Int32
	good := e.dial(t, "", bearer("tok-a"))
	good.SetPingHandler(func(data string) error {
		pings.Add(1)
		return good.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(time.Second))
	})
	mute := e.dial(t, "", bearer("tok-a"))
	mute.SetPingHandler(func(string) error { return nil }) // reads, never answers

	muteErr := make(chan error, 1)
	go func() {
		_ = mute.SetReadDeadline(time.Now().Add(10 * time.Second))
		for {
			if _, _, err := mute.ReadMessage(); err != nil {
				muteErr <- err
				return
			}
		}
	}()
	frames := make(chan int64, 10)
	goodErr := make(chan error, 1)
	go func() {
		for {
			_ = good.SetReadDeadline(time.Now().Add(10 * time.Second))
			_, b, err := good.ReadMessage()
			if err != nil {
				goodErr <- err
				return
			}
			var f dashboard.Frame
			_ = json.Unmarshal(b, &f)
			frames <- f.ID
		}
	}()

	start := time.Now()
	select {
	case err := <-muteErr:
		var ne interface{ Timeout() bool }
		if errors.As(err, &ne) && ne.Timeout() {
			t.Fatalf("mute client was never dropped: %v", err)
		}
		if d := time.Since(start); d < pongWait/2 {
			t.Fatalf("mute client dropped after %s, before the pong wait", d)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("mute client still connected")
	}
	// Several pong waits later the answering client is still served.
	time.Sleep(3 * pongWait)
	e.src.appendEvents(t, "tenant-a", 1)
	e.hub.Notify("tenant-a")
	select {
	case id := <-frames:
		if id != 1 {
			t.Fatalf("frame %d, want 1", id)
		}
	case err := <-goodErr:
		t.Fatalf("answering client dropped: %v", err)
	case <-time.After(5 * time.Second):
		t.Fatal("no frame for the answering client")
	}
	if n := pings.Load(); n < 5 {
		t.Fatalf("%d pings in %s, want at least 5", n, time.Since(start))
	}
	good.Close()
	<-goodErr
}

// TestWSClose checks the close frames: 1008 for a slow consumer, 1001 when
// the hub stops.
func TestWSClose(t *testing.T) {
	t.Run("slow consumer", func(t *testing.T) {
		e := startWS(t, dashboard.Config{PollInterval: time.Hour, SubscriberBuffer: 1}, dashboard.WSConfig{})
		c := e.dial(t, "", bearer("tok-a"))
		e.src.appendEvents(t, "tenant-a", 200) // one poll offers them all at once
		e.hub.Notify("tenant-a")
		var ids []int64
		for {
			_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
			_, b, err := c.ReadMessage()
			if err != nil {
				var ce *websocket.CloseError
				if !errors.As(err, &ce) || ce.Code != websocket.ClosePolicyViolation || ce.Text != "slow consumer" {
					t.Fatalf("read ended with %v, want close 1008 slow consumer", err)
				}
				break
			}
			var f dashboard.Frame
			if err := json.Unmarshal(b, &f); err != nil {
				t.Fatal(err)
			}
			ids = append(ids, f.ID)
		}
		if len(ids) >= 200 {
			t.Fatalf("all %d events delivered before the drop", len(ids))
		}
		wantIDs(t, ids, 1)
	})
	t.Run("hub stops", func(t *testing.T) {
		e := startWS(t, dashboard.Config{PollInterval: 10 * time.Millisecond}, dashboard.WSConfig{})
		c := e.dial(t, "", bearer("tok-a"))
		if err := e.hub.stop(); err != nil {
			t.Fatal(err)
		}
		_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
		_, _, err := c.ReadMessage()
		var ce *websocket.CloseError
		if !errors.As(err, &ce) || ce.Code != websocket.CloseGoingAway {
			t.Fatalf("read ended with %v, want close 1001", err)
		}
	})
}

// TestWSConfigValidate reports impossible settings.
func TestWSConfigValidate(t *testing.T) {
	cases := []struct {
		name string
		cfg  dashboard.WSConfig
		ok   bool
	}{
		{"defaults", dashboard.WSConfig{}, true},
		{"pong wait below ping interval", dashboard.WSConfig{PingInterval: 90 * time.Second}, false},
		{"negative timeout", dashboard.WSConfig{WriteTimeout: -1}, false},
		{"origin with path", dashboard.WSConfig{AllowedOrigins: []string{"https://a.example/app"}}, false},
		{"origin without scheme", dashboard.WSConfig{AllowedOrigins: []string{"a.example"}}, false},
		{"origin", dashboard.WSConfig{AllowedOrigins: []string{"https://a.example:8443"}}, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if err := c.cfg.Validate(); (err == nil) != c.ok {
				t.Fatalf("Validate = %v, want ok=%v", err, c.ok)
			}
		})
	}
}
