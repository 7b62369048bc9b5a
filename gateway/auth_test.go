package gateway_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
	"golang.org/x/crypto/bcrypt"

	"github.com/frontdesk-ai/frontdesk/dashboard"
	"github.com/frontdesk-ai/frontdesk/gateway"
	"github.com/frontdesk-ai/frontdesk/persistence"
	"github.com/frontdesk-ai/frontdesk/persistence/sqlstore"
	"github.com/frontdesk-ai/frontdesk/persistence/sqlstore/sqlstoretest"
)

// sessionHashes returns the token_hash column of every stored session.
func sessionHashes(t *testing.T, f *fixture) []string {
	t.Helper()
	rows, err := f.store.DB().QueryContext(context.Background(), "SELECT token_hash FROM sessions ORDER BY token_hash")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var h string
		if err := rows.Scan(&h); err != nil {
			t.Fatal(err)
		}
		out = append(out, h)
	}
	return out
}

// TestLogin covers POST /api/v1/auth/login on both dialects: the token it
// returns works and only its hash is stored; every failure stores nothing
// and a wrong email and a wrong password read the same.
func TestLogin(t *testing.T) {
	for _, d := range sqlstoretest.Dialects {
		t.Run(d, func(t *testing.T) {
			f := newFixture(t, d)
			tn := f.tenant("acme")
			u := f.user(tn, "ana@example.com", persistence.RoleAgent)
			off := f.user(tn, "off@example.com", persistence.RoleAgent)
			off.Disabled = true
			if err := f.store.UpdateUser(context.Background(), &off); err != nil {
				t.Fatal(err)
			}

			for _, tc := range []struct {
				name     string
				body     any
				wantCode int
				wantErr  string // error code; "" for success
				wantMsg  string
			}{
				{"ok", map[string]string{"email": "ana@example.com", "password": password}, 200, "", ""},
				{"email in other case", map[string]string{"email": " ANA@Example.com", "password": password}, 200, "", ""},
				{"wrong password", map[string]string{"email": "ana@example.com", "password": password + "x"}, 401, gateway.CodeUnauthorized, "invalid email or password"},
				{"unknown email", map[string]string{"email": "bob@example.com", "password": password}, 401, gateway.CodeUnauthorized, "invalid email or password"},
				{"disabled user", map[string]string{"email": "off@example.com", "password": password}, 401, gateway.CodeUnauthorized, ""},
				{"disabled user, wrong password", map[string]string{"email": "off@example.com", "password": "nope"}, 401, gateway.CodeUnauthorized, "invalid email or password"},
				{"malformed JSON", `{"email": "ana@example.com", "password": `, 400, gateway.CodeBadRequest, ""},
				{"two JSON values", `{"email":"ana@example.com","password":"x"} {}`, 400, gateway.CodeBadRequest, ""},
				{"empty body", "", 400, gateway.CodeBadRequest, ""},
				{"missing password", map[string]string{"email": "ana@example.com"}, 400, gateway.CodeInvalid, ""},
				{"body over 64 KiB", map[string]string{"email": "ana@example.com", "password": strings.Repeat("p", 70<<10)}, 413, gateway.CodeTooLarge, ""},
			} {
				t.Run(tc.name, func(t *testing.T) {
					before := sessionHashes(t, f)
					code, body := f.do("POST", "/api/v1/auth/login", "", tc.body)
					if code != tc.wantCode {
						t.Fatalf("status = %d %s, want %d", code, body, tc.wantCode)
					}
					if tc.wantErr != "" {
						if got := errorCode(t, body); got != tc.wantErr {
							t.Fatalf("error code = %q, want %q", got, tc.wantErr)
						}
						if tc.wantMsg != "" && !strings.Contains(string(body), tc.wantMsg) {
							t.Fatalf("body %s lacks %q", body, tc.wantMsg)
						}
						if after := sessionHashes(t, f); len(after) != len(before) {
							t.Fatalf("failed login stored a session: %d → %d", len(before), len(after))
						}
						return
					}
					var out struct {
						Token     string
						ExpiresAt time.Time `json:"expires_at"`
						User      struct {
							ID, Email, Name, Role string
							TenantID              string `json:"tenant_id"`
						}
					}
					if err := json.Unmarshal(body, &out); err != nil {
						t.Fatal(err)
					}
					if out.User.ID != u.ID || out.User.Email != u.Email || out.User.Role != "agent" || out.User.TenantID != tn || out.User.Name != u.Name {
						t.Fatalf("user = %+v, want %+v", out.User, u)
					}
					if !out.ExpiresAt.Equal(f.clock.Now().Add(sessionTTL)) {
						t.Fatalf("expires_at = %v, want now + %v", out.ExpiresAt, sessionTTL)
					}
					// 32 random bytes, base64url without padding.
					if len(out.Token) != 43 {
						t.Fatalf("token %q has %d characters, want 43", out.Token, len(out.Token))
					}
					sum := sha256.Sum256([]byte(out.Token))
					after := sessionHashes(t, f)
					if len(after) != len(before)+1 || !containsString(after, hex.EncodeToString(sum[:])) {
						t.Fatalf("sessions %v lack the token's hash", after)
					}
					if containsString(after, out.Token) {
						t.Fatal("the token itself is stored")
					}
					var me struct{ ID string }
					f.get("/api/v1/me", out.Token, &me)
					if me.ID != u.ID {
						t.Fatalf("me = %s, want %s", me.ID, u.ID)
					}
				})
			}
			if logs := f.logs.String(); strings.Contains(logs, password) || strings.Contains(logs, "ana@example.com") {
				t.Fatalf("logs hold a password or an email:\n%s", logs)
			}
		})
	}
}

func containsString(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// TestAuthRequired checks the bearer middleware: every way a token can be
// missing or stop working answers 401 on both dialects.
func TestAuthRequired(t *testing.T) {
	for _, d := range sqlstoretest.Dialects {
		t.Run(d, func(t *testing.T) {
			f := newFixture(t, d)
			tn := f.tenant("acme")
			f.user(tn, "ana@example.com", persistence.RoleAgent)

			send := func(header, query string) (int, []byte) {
				req := httptest.NewRequest("GET", "/api/v1/conversations"+query, nil)
				if header != "" {
					req.Header.Set("Authorization", header)
				}
				rec := httptest.NewRecorder()
				f.h.ServeHTTP(rec, req)
				return rec.Code, rec.Body.Bytes()
			}
			token := f.login("ana@example.com")
			for _, tc := range []struct {
				name, header, query string
				want                int
			}{
				{"valid", "Bearer " + token, "", 200},
				{"scheme in lower case", "bearer " + token, "", 200},
				{"no header", "", "", 401},
				{"other scheme", "Basic " + token, "", 401},
				{"unknown token", "Bearer " + strings.Repeat("A", 43), "", 401},
				{"query token outside the WebSocket", "", "?token=" + token, 401},
			} {
				t.Run(tc.name, func(t *testing.T) {
					code, body := send(tc.header, tc.query)
					if code != tc.want {
						t.Fatalf("status = %d %s, want %d", code, body, tc.want)
					}
					if code == 401 && errorCode(t, body) != gateway.CodeUnauthorized {
						t.Fatalf("body = %s", body)
					}
				})
			}

			t.Run("expired", func(t *testing.T) {
				tok := f.login("ana@example.com")
				f.clock.Advance(sessionTTL - time.Second)
				if code, body := send("Bearer "+tok, ""); code != 200 {
					t.Fatalf("just before expiry: %d %s", code, body)
				}
				f.clock.Advance(time.Second)
				if code, _ := send("Bearer "+tok, ""); code != 401 {
					t.Fatalf("at expiry: status %d, want 401", code)
				}
			})

			t.Run("logout", func(t *testing.T) {
				tok := f.login("ana@example.com")
				if code, body := f.do("POST", "/api/v1/auth/logout", tok, nil); code != http.StatusNoContent {
					t.Fatalf("logout = %d %s", code, body)
				}
				if code, _ := send("Bearer "+tok, ""); code != 401 {
					t.Fatalf("after logout: status %d, want 401", code)
				}
				sum := sha256.Sum256([]byte(tok))
				if containsString(sessionHashes(t, f), hex.EncodeToString(sum[:])) {
					t.Fatal("logout left the session in the store")
				}
			})

			t.Run("user disabled after login", func(t *testing.T) {
				f.user(tn, "eve@example.com", persistence.RoleAdmin)
				tok := f.login("eve@example.com")
				u, err := f.store.GetUserByEmail(context.Background(), "eve@example.com")
				if err != nil {
					t.Fatal(err)
				}
				u.Disabled = true
				if err := f.store.UpdateUser(context.Background(), &u); err != nil {
					t.Fatal(err)
				}
				if code, _ := send("Bearer "+tok, ""); code != 401 {
					t.Fatalf("status %d, want 401", code)
				}
			})
		})
	}
}

// TestAuthenticate checks the WebSocket's entry point: it takes the header
// or the query token and answers 401 errors.
func TestAuthenticate(t *testing.T) {
	f := newFixture(t, "sqlite")
	tn := f.tenant("acme")
	u := f.user(tn, "ana@example.com", persistence.RoleAnalyst)
	token := f.login("ana@example.com")

	for _, tc := range []struct {
		name, header, query string
		ok                  bool
	}{
		{"header", "Bearer " + token, "", true},
		{"query", "", "?token=" + token, true},
		{"none", "", "", false},
		{"bad query token", "", "?token=nope", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest("GET", "/ws"+tc.query, nil)
			if tc.header != "" {
				req.Header.Set("Authorization", tc.header)
			}
			tenantID, userID, err := f.api.Authenticate(req)
			if tc.ok {
				if err != nil || tenantID != tn || userID != u.ID {
					t.Fatalf("Authenticate = %q, %q, %v; want %q, %q", tenantID, userID, err, tn, u.ID)
				}
				return
			}
			var e *gateway.Error
			if !errors.As(err, &e) || e.Status != http.StatusUnauthorized || tenantID != "" || userID != "" {
				t.Fatalf("Authenticate = %q, %q, %v; want a 401 *Error", tenantID, userID, err)
			}
		})
	}
}

// TestAuthSessionSweep checks that Run deletes expired sessions and keeps
// live ones.
func TestAuthSessionSweep(t *testing.T) {
	f := newFixture(t, "sqlite")
	tn := f.tenant("acme")
	f.user(tn, "ana@example.com", persistence.RoleAgent)
	f.login("ana@example.com")
	f.clock.Advance(sessionTTL)
	live := f.login("ana@example.com")
	if n := len(sessionHashes(t, f)); n != 2 {
		t.Fatalf("%d sessions before the sweep, want 2", n)
	}

	api := gateway.NewAPI(gateway.APIConfig{BcryptCost: bcrypt.MinCost, SweepInterval: time.Hour, Now: f.clock.Now}, sqlstore.For[gateway.Tx](f.store), zerolog.Nop())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- api.Run(ctx) }()
	sum := sha256.Sum256([]byte(live))
	deadline := time.Now().Add(10 * time.Second)
	for {
		hs := sessionHashes(t, f)
		if len(hs) == 1 {
			if hs[0] != hex.EncodeToString(sum[:]) {
				t.Fatal("the sweep deleted the live session")
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("sweep did not delete the expired session: %d left", len(hs))
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run = %v", err)
	}
}

// TestEnsureAdmin checks the first-start admin: created once with a bcrypt
// hash, never overwritten, and exactly one when members race.
func TestEnsureAdmin(t *testing.T) {
	for _, d := range sqlstoretest.Dialects {
		t.Run(d, func(t *testing.T) {
			ctx := context.Background()
			f := newFixture(t, d)
			tn := f.tenant("acme")

			t.Run("creates once", func(t *testing.T) {
				created, err := gateway.EnsureAdmin(ctx, f.store, tn, "Admin@Example.com", password, bcrypt.MinCost)
				if err != nil || !created {
					t.Fatalf("first call = %v, %v; want created", created, err)
				}
				u, err := f.store.GetUserByEmail(ctx, "admin@example.com")
				if err != nil {
					t.Fatal(err)
				}
				if u.Role != persistence.RoleAdmin || u.TenantID != tn {
					t.Fatalf("admin = %+v", u)
				}
				if u.PasswordHash == password || !strings.HasPrefix(u.PasswordHash, "$2") ||
					bcrypt.CompareHashAndPassword([]byte(u.PasswordHash), []byte(password)) != nil {
					t.Fatalf("stored password is not a bcrypt hash of the password: %q", u.PasswordHash)
				}
				// A second start with another password leaves the user alone.
				created, err = gateway.EnsureAdmin(ctx, f.store, tn, "admin@example.com", "another long password", bcrypt.MinCost)
				if err != nil || created {
					t.Fatalf("second call = %v, %v; want not created", created, err)
				}
				again, err := f.store.GetUserByEmail(ctx, "admin@example.com")
				if err != nil || again.PasswordHash != u.PasswordHash || again.Version != u.Version {
					t.Fatalf("second call changed the user: %+v (%v)", again, err)
				}
				f.login("admin@example.com")
			})

			t.Run("concurrent", func(t *testing.T) {
				const n = 8
				var wg sync.WaitGroup
				results := make(chan error, n)
				createdCount := make(chan bool, n)
				for range n {
					wg.Go(func() {
						c, err := gateway.EnsureAdmin(ctx, f.store, tn, "race@example.com", password, bcrypt.MinCost)
						results <- err
						createdCount <- c
					})
				}
				wg.Wait()
				close(results)
				close(createdCount)
				for err := range results {
					if err != nil {
						t.Fatalf("EnsureAdmin: %v", err)
					}
				}
				created := 0
				for c := range createdCount {
					if c {
						created++
					}
				}
				users, _, err := f.store.ListUsers(ctx, tn, persistence.Page{Limit: 100})
				if err != nil {
					t.Fatal(err)
				}
				rows := 0
				for _, u := range users {
					if u.Email == "race@example.com" {
						rows++
					}
				}
				if created != 1 || rows != 1 {
					t.Fatalf("%d calls reported created and %d users exist; want 1 and 1", created, rows)
				}
			})

			t.Run("refuses", func(t *testing.T) {
				for _, tc := range []struct{ name, tenant, email, password string }{
					{"short password", tn, "short@example.com", "short"},
					{"no email", tn, "", password},
					{"no tenant", "", "x@example.com", password},
				} {
					t.Run(tc.name, func(t *testing.T) {
						_, err := gateway.EnsureAdmin(ctx, f.store, tc.tenant, tc.email, tc.password, bcrypt.MinCost)
						if !errors.Is(err, persistence.ErrInvalid) {
							t.Fatalf("err = %v, want ErrInvalid", err)
						}
						if tc.email != "" {
							if _, err := f.store.GetUserByEmail(ctx, tc.email); !errors.Is(err, persistence.ErrNotFound) {
								t.Fatalf("refused admin was stored (%v)", err)
							}
						}
					})
				}
			})
		})
	}
}

// TestAuthPasswordHash checks HashPassword's rules and output.
func TestAuthPasswordHash(t *testing.T) {
	for _, tc := range []struct {
		name, password string
		ok             bool
	}{
		{"12 characters", "abcdefghijkl", true},
		{"12 runes, more bytes", "ääääääääääää", true},
		{"11 characters", "abcdefghijk", false},
		{"72 bytes", strings.Repeat("a", 72), true},
		{"73 bytes", strings.Repeat("a", 73), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, err := gateway.HashPassword(tc.password, bcrypt.MinCost)
			if !tc.ok {
				if !errors.Is(err, persistence.ErrInvalid) || h != "" {
					t.Fatalf("HashPassword = %q, %v; want ErrInvalid", h, err)
				}
				return
			}
			if err != nil || bcrypt.CompareHashAndPassword([]byte(h), []byte(tc.password)) != nil {
				t.Fatalf("HashPassword = %q, %v", h, err)
			}
			if cost, _ := bcrypt.Cost([]byte(h)); cost != bcrypt.MinCost {
				t.Fatalf("cost = %d", cost)
			}
		})
	}
	t.Run("default cost", func(t *testing.T) {
		if testing.Short() {
			t.Skip("cost 12 is slow")
		}
		h, err := gateway.HashPassword("abcdefghijkl", 0)
		if cost, _ := bcrypt.Cost([]byte(h)); err != nil || cost != gateway.DefaultBcryptCost {
			t.Fatalf("cost = %d, %v; want %d", cost, err, gateway.DefaultBcryptCost)
		}
	})
}

// TestDemoUsersOnlyInDemoMode checks that the demo admin, whose password is
// public, works while the API is in demo mode and is refused otherwise: its
// login fails exactly like a wrong password and a token it got in demo mode
// no longer authenticates; other users are not affected.
func TestDemoUsersOnlyInDemoMode(t *testing.T) {
	for _, d := range sqlstoretest.Dialects {
		t.Run(d, func(t *testing.T) {
			f := newFixture(t, d) // f.h: an API not in demo mode
			ctx := context.Background()
			tn := f.tenant("demo")
			created, err := gateway.EnsureDemoAdmin(ctx, f.store, tn, "admin@demo.local", password, bcrypt.MinCost)
			if err != nil || !created {
				t.Fatalf("EnsureDemoAdmin = %v, %v", created, err)
			}
			f.user(tn, "ana@example.com", persistence.RoleAgent)

			demoAPI := gateway.NewAPI(gateway.APIConfig{BcryptCost: bcrypt.MinCost, SessionTTL: sessionTTL, Now: f.clock.Now, Demo: true},
				sqlstore.For[gateway.Tx](f.store), zerolog.Nop())
			srv := gateway.New(gateway.Config{}, zerolog.Nop(), prometheus.NewRegistry(), nil)
			demoAPI.Register(srv)
			demo := &fixture{t: t, store: f.store, h: srv.Handler(), clock: f.clock}
			token := demo.login("admin@demo.local")
			if code, body := demo.do("GET", "/api/v1/me", token, nil); code != http.StatusOK {
				t.Fatalf("demo mode: GET /me with the demo token = %d %s, want 200", code, body)
			}

			// The same store served outside demo mode.
			code, body := f.do("POST", "/api/v1/auth/login", "", map[string]string{"email": "admin@demo.local", "password": password})
			wrongCode, wrongBody := f.do("POST", "/api/v1/auth/login", "", map[string]string{"email": "ana@example.com", "password": "not the password"})
			if code != http.StatusUnauthorized || string(body) != string(wrongBody) || wrongCode != http.StatusUnauthorized {
				t.Fatalf("demo login outside demo mode = %d %s, want 401 like a wrong password (%d %s)", code, body, wrongCode, wrongBody)
			}
			if code, body := f.do("GET", "/api/v1/me", token, nil); code != http.StatusUnauthorized {
				t.Fatalf("demo token outside demo mode: GET /me = %d %s, want 401", code, body)
			}
			if _, _, err := f.api.Authenticate(httptest.NewRequest("GET", "/ws?token="+token, nil)); err == nil {
				t.Fatal("demo token outside demo mode authenticates /ws")
			}
			other := f.login("ana@example.com")
			if code, body := f.do("GET", "/api/v1/me", other, nil); code != http.StatusOK {
				t.Fatalf("other user outside demo mode: GET /me = %d %s, want 200", code, body)
			}
		})
	}
}

// TestWSEndsAtLogout: a /ws socket and a /ws/poll long poll of a session end
// soon after it is logged out through the API: the socket closes with 4401
// "session ended" and the long poll answers 401.
func TestWSEndsAtLogout(t *testing.T) {
	f := newFixture(t, "sqlite")
	tn := f.tenant("acme")
	f.user(tn, "ana@example.com", persistence.RoleAgent)
	token := f.login("ana@example.com")
	pollToken := f.login("ana@example.com")

	hub := dashboard.New(dashboard.Config{PollInterval: 20 * time.Millisecond}, f.store, zerolog.Nop())
	ctx, cancel := context.WithCancel(context.Background())
	hubDone := make(chan error, 1)
	go func() { hubDone <- hub.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-hubDone })
	mux := http.NewServeMux()
	mux.Handle("/", f.h)
	mux.Handle("GET /ws", dashboard.WSHandler(hub, f.api.Authenticate, dashboard.WSConfig{RecheckInterval: 50 * time.Millisecond}, zerolog.Nop()))
	mux.Handle("GET /ws/poll", dashboard.PollHandlerRecheck(hub, f.api.Authenticate, nil, 50*time.Millisecond, zerolog.Nop()))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	c, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(srv.URL, "http")+"/ws",
		http.Header{"Authorization": {"Bearer " + token}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// A browser's socket: a ticket in the URL, no header; it stays open
	// through its re-checks until the logout.
	code, body := f.do("POST", "/api/v1/ws/tickets", token, nil)
	var tk struct{ Ticket string }
	if code != http.StatusOK || json.Unmarshal(body, &tk) != nil {
		t.Fatalf("ticket = %d %s", code, body)
	}
	tc, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(srv.URL, "http")+"/ws?ticket="+tk.Ticket, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tc.Close()
	pollDone := make(chan int, 1)
	go func() {
		req, _ := http.NewRequest("GET", srv.URL+"/ws/poll?after=0&wait=20", nil)
		req.Header.Set("Authorization", "Bearer "+pollToken)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			pollDone <- 0
			return
		}
		resp.Body.Close()
		pollDone <- resp.StatusCode
	}()
	time.Sleep(200 * time.Millisecond) // both are open and re-checking

	for _, tok := range []string{token, pollToken} {
		if code, body := f.do("POST", "/api/v1/auth/logout", tok, nil); code != http.StatusNoContent {
			t.Fatalf("logout = %d %s", code, body)
		}
	}
	for _, conn := range []*websocket.Conn{c, tc} {
		_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		_, b, err := conn.ReadMessage()
		var ce *websocket.CloseError
		if !errors.As(err, &ce) || ce.Code != dashboard.CloseSessionEnded || ce.Text != "session ended" {
			t.Fatalf("read = %s, %v; want close 4401 session ended", b, err)
		}
	}
	select {
	case code := <-pollDone:
		if code != http.StatusUnauthorized {
			t.Fatalf("long poll = %d, want 401", code)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("long poll still open 5s after logout")
	}
}

// TestWSTickets: POST /api/v1/ws/tickets gives a single-use ticket valid 30
// s that authenticates its session's user once; re-checks of the same
// request then follow the session (and end with it).
func TestWSTickets(t *testing.T) {
	f := newFixture(t, "sqlite")
	tn := f.tenant("acme")
	u := f.user(tn, "ana@example.com", persistence.RoleAnalyst)
	token := f.login("ana@example.com")
	issue := func() string {
		t.Helper()
		code, body := f.do("POST", "/api/v1/ws/tickets", token, nil)
		if code != http.StatusOK {
			t.Fatalf("tickets = %d %s", code, body)
		}
		var out struct {
			Ticket    string
			ExpiresIn int `json:"expires_in"`
		}
		if err := json.Unmarshal(body, &out); err != nil || len(out.Ticket) != 43 || out.ExpiresIn != 30 {
			t.Fatalf("ticket body %s: %v", body, err)
		}
		if out.Ticket == token {
			t.Fatal("the ticket is the session token")
		}
		return out.Ticket
	}
	auth := func(r *http.Request) error {
		t.Helper()
		tenantID, userID, err := f.api.Authenticate(r)
		if err == nil && (tenantID != tn || userID != u.ID) {
			t.Fatalf("Authenticate = %q, %q", tenantID, userID)
		}
		return err
	}

	if code, _ := f.do("POST", "/api/v1/ws/tickets", "", nil); code != http.StatusUnauthorized {
		t.Fatalf("ticket without a session = %d", code)
	}
	t.Run("single use", func(t *testing.T) {
		tk := issue()
		r1 := httptest.NewRequest("GET", "/ws?ticket="+tk, nil)
		if err := auth(r1); err != nil {
			t.Fatalf("first use: %v", err)
		}
		if err := auth(httptest.NewRequest("GET", "/ws?ticket="+tk, nil)); err == nil {
			t.Fatal("second use of a ticket authenticated")
		}
		// The first request's re-checks follow its session.
		if err := auth(r1); err != nil {
			t.Fatalf("re-check: %v", err)
		}
		if r1.URL.Query().Get("token") != "" {
			t.Fatal("token put in the URL")
		}
	})
	t.Run("expiry", func(t *testing.T) {
		tk := issue()
		f.clock.Advance(30 * time.Second)
		if err := auth(httptest.NewRequest("GET", "/ws?ticket="+tk, nil)); err == nil {
			t.Fatal("expired ticket authenticated")
		}
	})
	t.Run("unknown", func(t *testing.T) {
		if err := auth(httptest.NewRequest("GET", "/ws?ticket="+strings.Repeat("A", 43), nil)); err == nil {
			t.Fatal("unknown ticket authenticated")
		}
	})
	t.Run("ends with the session", func(t *testing.T) {
		tk := issue()
		r := httptest.NewRequest("GET", "/ws/poll?ticket="+tk, nil)
		if err := auth(r); err != nil {
			t.Fatal(err)
		}
		if code, _ := f.do("POST", "/api/v1/auth/logout", token, nil); code != http.StatusNoContent {
			t.Fatal("logout failed")
		}
		if err := auth(r); err == nil {
			t.Fatal("re-check after logout authenticated")
		}
	})
}
