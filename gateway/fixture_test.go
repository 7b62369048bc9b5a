package gateway_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
	"golang.org/x/crypto/bcrypt"

	"github.com/frontdesk-ai/frontdesk/actors"
	"github.com/frontdesk-ai/frontdesk/cluster/clustertest"
	"github.com/frontdesk-ai/frontdesk/events"
	"github.com/frontdesk-ai/frontdesk/gateway"
	"github.com/frontdesk-ai/frontdesk/llmrouter"
	"github.com/frontdesk-ai/frontdesk/persistence"
	"github.com/frontdesk-ai/frontdesk/persistence/sqlstore"
	"github.com/frontdesk-ai/frontdesk/persistence/sqlstore/sqlstoretest"
	"github.com/frontdesk-ai/frontdesk/tools"
)

// The real store satisfies the interfaces the gateway owns.
var (
	_ gateway.APIStore   = sqlstore.Typed[gateway.Tx]{}
	_ gateway.AdminStore = (*sqlstore.Store)(nil)
)

// password is every test user's password.
const password = "correct horse battery"

// sessionTTL is the fixture's session lifetime.
const sessionTTL = 2 * time.Hour

// clock is a settable clock for session expiry.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// syncBuffer collects log output from concurrent handlers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// fixture is a real API on a real store of one dialect behind the real
// server's mux.
type fixture struct {
	t     *testing.T
	store *sqlstore.Store
	api   *gateway.API
	h     http.Handler
	clock *clock
	logs  *syncBuffer
	// rt runs the conversation grains the API's commands go to.
	rt *actors.Runtime
}

// newGrains starts conversation and customer grains on store in this
// process (no cluster), as the API's conversation commands need.
func newGrains(t *testing.T, store *sqlstore.Store) *actors.Runtime {
	t.Helper()
	reg, err := tools.New(sqlstore.For[tools.Tx](store))
	if err != nil {
		t.Fatal(err)
	}
	offline := llmrouter.NewOffline()
	rt, err := actors.New(actors.Config{}, actors.Deps{Store: sqlstore.For[actors.Tx](store), Model: offline, Offline: offline, Tools: reg},
		zerolog.Nop(), prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	rt.SetCaller(clustertest.NewLocal(rt.Kinds()...))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = rt.Drain(ctx)
	})
	return rt
}

func newFixture(t *testing.T, dialect string) *fixture {
	t.Helper()
	f := &fixture{t: t, store: sqlstoretest.Open(t, dialect), clock: &clock{t: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)}, logs: &syncBuffer{}}
	log := zerolog.New(f.logs)
	f.store.SetTxLog(f.store.Log())
	f.rt = newGrains(t, f.store)
	f.api = gateway.NewAPI(gateway.APIConfig{BcryptCost: bcrypt.MinCost, SessionTTL: sessionTTL, Now: f.clock.Now, Grains: f.rt}, sqlstore.For[gateway.Tx](f.store), log)
	srv := gateway.New(gateway.Config{}, log, prometheus.NewRegistry(), nil)
	f.api.Register(srv)
	f.h = srv.Handler()
	return f
}

// tenant creates a tenant and returns its id.
func (f *fixture) tenant(slug string) string {
	f.t.Helper()
	tn := persistence.Tenant{Name: slug, Slug: slug}
	if err := f.store.CreateTenant(context.Background(), &tn); err != nil {
		f.t.Fatalf("create tenant: %v", err)
	}
	return tn.ID
}

// user creates a user of tenantID with the test password.
func (f *fixture) user(tenantID, email string, role persistence.Role) persistence.User {
	f.t.Helper()
	hash, err := gateway.HashPassword(password, bcrypt.MinCost)
	if err != nil {
		f.t.Fatal(err)
	}
	u := persistence.User{Base: persistence.Base{TenantID: tenantID}, Email: email, Name: "User " + string(role), Role: role, PasswordHash: hash}
	if err := f.store.CreateUser(context.Background(), &u); err != nil {
		f.t.Fatalf("create user: %v", err)
	}
	return u
}

func (f *fixture) customer(tenantID, name string) persistence.Customer {
	f.t.Helper()
	c := persistence.Customer{Base: persistence.Base{TenantID: tenantID}, Name: name, Phone: "+4915100000", Email: strings.ToLower(name) + "@example.com"}
	if err := f.store.CreateCustomer(context.Background(), &c); err != nil {
		f.t.Fatalf("create customer: %v", err)
	}
	return c
}

func (f *fixture) conversation(tenantID, customerID string, at time.Time) persistence.Conversation {
	f.t.Helper()
	c := persistence.Conversation{Base: persistence.Base{TenantID: tenantID, CreatedAt: at}, CustomerID: customerID,
		Channel: "whatsapp", ChannelAccount: "pn-1", ThreadKey: events.ThreadKey(tenantID, "whatsapp", fmt.Sprint(at.UnixNano()))}
	if err := f.store.CreateConversation(context.Background(), &c); err != nil {
		f.t.Fatalf("create conversation: %v", err)
	}
	return c
}

func (f *fixture) message(c persistence.Conversation, text string, at time.Time) persistence.Message {
	f.t.Helper()
	m := persistence.Message{Base: persistence.Base{TenantID: c.TenantID, CreatedAt: at}, ConversationID: c.ID,
		Direction: persistence.DirectionInbound, Channel: c.Channel, Sender: persistence.SenderCustomer, Text: text}
	if err := f.store.CreateMessage(context.Background(), &m); err != nil {
		f.t.Fatalf("create message: %v", err)
	}
	return m
}

// do sends a request to the server's handler; body is marshalled to JSON
// unless it is a string (sent as is) or nil.
func (f *fixture) do(method, path, token string, body any) (int, []byte) {
	f.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			f.t.Fatal(err)
		}
		rd = bytes.NewReader(raw)
	}
	req := httptest.NewRequest(method, path, rd)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	rec := httptest.NewRecorder()
	f.h.ServeHTTP(rec, req)
	return rec.Code, rec.Body.Bytes()
}

// get sends a GET and decodes a 200 answer into v.
func (f *fixture) get(path, token string, v any) {
	f.t.Helper()
	code, body := f.do("GET", path, token, nil)
	if code != http.StatusOK {
		f.t.Fatalf("GET %s = %d %s", path, code, body)
	}
	if err := json.Unmarshal(body, v); err != nil {
		f.t.Fatalf("GET %s: decode %s: %v", path, body, err)
	}
}

// login signs email in and returns the token.
func (f *fixture) login(email string) string {
	f.t.Helper()
	code, body := f.do("POST", "/api/v1/auth/login", "", map[string]string{"email": email, "password": password})
	if code != http.StatusOK {
		f.t.Fatalf("login %s = %d %s", email, code, body)
	}
	var out struct{ Token string }
	if err := json.Unmarshal(body, &out); err != nil || out.Token == "" {
		f.t.Fatalf("login %s: body %s: %v", email, body, err)
	}
	return out.Token
}

// errorCode returns the code of a JSON error body.
func errorCode(t *testing.T, body []byte) string {
	t.Helper()
	var e struct {
		Error struct{ Code, Message string }
	}
	if err := json.Unmarshal(body, &e); err != nil || e.Error.Code == "" || e.Error.Message == "" {
		t.Fatalf("not a JSON error body: %s (%v)", body, err)
	}
	return e.Error.Code
}
