package gateway_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/frontdesk-ai/frontdesk/channels"
	"github.com/frontdesk-ai/frontdesk/channels/whatsapp"
	"github.com/frontdesk-ai/frontdesk/channels/whatsapp/whatsapptest"
	"github.com/frontdesk-ai/frontdesk/events"
	"github.com/frontdesk-ai/frontdesk/gateway"
	"github.com/frontdesk-ai/frontdesk/persistence"
	"github.com/frontdesk-ai/frontdesk/persistence/sqlstore"
	"github.com/frontdesk-ai/frontdesk/persistence/sqlstore/sqlstoretest"
)

const (
	whSecret = "webhook-app-secret"
	whToken  = "webhook-verify-token"
	whPNID   = "106540352242922"
)

// newWebhooks returns the webhook handler for a WhatsApp channel signed
// with secret (verify token whToken), on store.
func newWebhooks(t testing.TB, store *sqlstore.Store, secret string, accounts ...gateway.WebhookAccount) *gateway.Webhooks {
	t.Helper()
	store.SetTxLog(store.Log())
	set, err := channels.NewSet(whatsapp.NewChannel(whatsapp.ChannelConfig{AppSecret: secret, VerifyToken: whToken}, nil, nil))
	if err != nil {
		t.Fatal(err)
	}
	wh, err := gateway.NewWebhooks(gateway.WebhookConfig{Accounts: accounts, MaxBodyBytes: 64 << 10}, set,
		sqlstore.For[gateway.WebhookTx](store), zerolog.Nop(), prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	return wh
}

// failingStore is a store whose transactions fail.
type failingStore struct{ gateway.WebhookStore }

func (failingStore) InTx(context.Context, func(gateway.WebhookTx) error) error {
	return errors.New("database is down")
}

// whEnv is a server with the webhook handler on a fresh store.
type whEnv struct {
	t      *testing.T
	store  *sqlstore.Store
	tenant string
	url    string
}

func newWhEnv(t *testing.T) *whEnv {
	t.Helper()
	store := sqlstoretest.Open(t, "sqlite")
	tn := &persistence.Tenant{Name: "Shop", Slug: "shop"}
	if err := store.CreateTenant(context.Background(), tn); err != nil {
		t.Fatal(err)
	}
	wh := newWebhooks(t, store, whSecret, gateway.WebhookAccount{Channel: whatsapp.Name, Account: whPNID, TenantID: tn.ID})
	srv := gateway.New(gateway.Config{}, zerolog.Nop(), prometheus.NewRegistry(), nil)
	wh.Register(srv)
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	return &whEnv{t: t, store: store, tenant: tn.ID, url: ts.URL}
}

// post sends body to path with the signature header sig ("" for none).
func (e *whEnv) post(path string, body []byte, sig string) (int, string) {
	e.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, e.url+path, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if sig != "" {
		req.Header.Set(whatsapp.SignatureHeader, sig)
	}
	return e.do(req)
}

func (e *whEnv) get(path string, q url.Values) (int, string) {
	e.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, e.url+path+"?"+q.Encode(), nil)
	return e.do(req)
}

func (e *whEnv) do(req *http.Request) (int, string) {
	e.t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// records returns what topic holds, all partitions.
func (e *whEnv) records(topic string) []persistence.Record {
	e.t.Helper()
	var out []persistence.Record
	for p := range int32(sqlstore.DefaultLogPartitions) {
		recs, err := e.store.Log().Read(context.Background(), topic, p, 0, 100)
		if err != nil {
			e.t.Fatal(err)
		}
		out = append(out, recs...)
	}
	return out
}

// inbound decodes the inbound topic's events.
func (e *whEnv) inbound() []events.Envelope {
	e.t.Helper()
	var out []events.Envelope
	for _, r := range e.records(persistence.TopicInbound) {
		env, err := events.Parse(r.Value)
		if err != nil {
			e.t.Fatal(err)
		}
		out = append(out, env)
	}
	return out
}

// TestWebhookContract holds POST and GET /webhooks/whatsapp to
// ARCHITECTURE.md's contract, through the one /webhooks/{channel} handler.
func TestWebhookContract(t *testing.T) {
	now := time.Unix(1749416383, 0)
	text := whatsapptest.TextWebhook(whPNID, "4915550001234", "Ada", "wamid.IN1", "Where is my parcel?", now)

	t.Run("verification", func(t *testing.T) {
		e := newWhEnv(t)
		if code, body := e.get("/webhooks/whatsapp", whatsapptest.VerifyQuery(whToken, "1158201444")); code != 200 || body != "1158201444" {
			t.Errorf("good token: %d %q", code, body)
		}
		if code, _ := e.get("/webhooks/whatsapp", whatsapptest.VerifyQuery("wrong", "1158201444")); code != 403 {
			t.Errorf("wrong token: %d, want 403", code)
		}
		if code, _ := e.get("/webhooks/whatsapp", whatsapptest.VerifyQuery(whToken, "")); code != 400 {
			t.Errorf("no challenge: %d, want 400", code)
		}
		if code, _ := e.get("/webhooks/telegraph", whatsapptest.VerifyQuery(whToken, "1")); code != 404 {
			t.Errorf("unknown channel: %d, want 404", code)
		}
	})

	t.Run("bad or missing signature is refused and nothing is stored", func(t *testing.T) {
		e := newWhEnv(t)
		for name, sig := range map[string]string{
			"missing":     "",
			"wrong":       whatsapp.Sign("not-the-secret", text),
			"malformed":   "sha256=zz",
			"other body":  whatsapp.Sign(whSecret, []byte(`{}`)),
			"no prefix":   strings.TrimPrefix(whatsapp.Sign(whSecret, text), "sha256="),
			"md5-flavour": "md5=" + strings.Repeat("0", 32),
		} {
			if code, _ := e.post("/webhooks/whatsapp", text, sig); code != 401 {
				t.Errorf("%s signature: %d, want 401", name, code)
			}
		}
		if n := len(e.records(persistence.TopicInbound)); n != 0 {
			t.Fatalf("%d records stored for refused requests", n)
		}
		// Nothing was claimed either: the genuine delivery is appended.
		if code, _ := e.post("/webhooks/whatsapp", text, whatsapp.Sign(whSecret, text)); code != 200 {
			t.Fatalf("signed: %d", code)
		}
		if n := len(e.inbound()); n != 1 {
			t.Fatalf("%d records after the signed delivery, want 1", n)
		}
	})

	t.Run("malformed is 400, too large is 413, unknown channel is 404", func(t *testing.T) {
		e := newWhEnv(t)
		bad := []byte(`{"object":"whatsapp_business_account","entry":[`)
		if code, _ := e.post("/webhooks/whatsapp", bad, whatsapp.Sign(whSecret, bad)); code != 400 {
			t.Errorf("malformed: %d, want 400", code)
		}
		big := bytes.Repeat([]byte(" "), 65<<10)
		if code, _ := e.post("/webhooks/whatsapp", big, whatsapp.Sign(whSecret, big)); code != 413 {
			t.Errorf("too large: %d, want 413", code)
		}
		if code, _ := e.post("/webhooks/telegraph", text, whatsapp.Sign(whSecret, text)); code != 404 {
			t.Errorf("unknown channel: %d, want 404", code)
		}
		if n := len(e.records(persistence.TopicInbound)); n != 0 {
			t.Fatalf("%d records stored", n)
		}
	})

	t.Run("accepted once durably in the log, deduplicated", func(t *testing.T) {
		e := newWhEnv(t)
		for range 2 {
			if code, _ := e.post("/webhooks/whatsapp", text, whatsapp.Sign(whSecret, text)); code != 200 {
				t.Fatalf("delivery: %d", code)
			}
		}
		got := e.inbound()
		if len(got) != 1 {
			t.Fatalf("%d records for a delivery and its redelivery, want 1", len(got))
		}
		env := got[0]
		if env.Type != events.TypeMessageReceived || env.TenantID != e.tenant || env.Key != events.ThreadKey(e.tenant, "whatsapp", "4915550001234") {
			t.Errorf("envelope %+v", env)
		}
		p, err := events.Decode(env)
		if err != nil {
			t.Fatal(err)
		}
		m := p.(*events.MessageReceived)
		if m.ChannelMessageID != "wamid.IN1" || m.ChannelAccount != whPNID || m.Phone != "+4915550001234" || m.Text != "Where is my parcel?" {
			t.Errorf("event %+v", m)
		}

		status := whatsapptest.KeyedStatusWebhook(whPNID, "4915550001234", "wamid.OUT1", "delivered", "msg-42", now)
		if code, _ := e.post("/webhooks/whatsapp", status, whatsapp.Sign(whSecret, status)); code != 200 {
			t.Fatalf("status: %d", code)
		}
		got = e.inbound()
		var st *events.MessageStatus
		for _, env := range got {
			if env.Type == events.TypeMessageStatus {
				p, _ := events.Decode(env)
				st = p.(*events.MessageStatus)
			}
		}
		if st == nil || st.ClientKey != "msg-42" || st.ChannelAccount != whPNID || st.ChannelMessageID != "wamid.OUT1" {
			t.Errorf("status event %+v", st)
		}
	})

	t.Run("an unknown number is parked on the dead-letter topic; value errors are audited", func(t *testing.T) {
		e := newWhEnv(t)
		other := whatsapptest.TextWebhook("999000111", "4915550001234", "Ada", "wamid.X1", "hello?", now)
		if code, _ := e.post("/webhooks/whatsapp", other, whatsapp.Sign(whSecret, other)); code != 200 {
			t.Fatalf("unroutable: %d", code)
		}
		if n, dl := len(e.records(persistence.TopicInbound)), len(e.records(persistence.DeadLetterTopic(persistence.TopicInbound))); n != 0 || dl != 1 {
			t.Errorf("inbound %d, dead letters %d; want 0 and 1", n, dl)
		}
		errs := whatsapptest.Webhook(whPNID, map[string]any{"errors": []any{map[string]any{"code": 130429, "title": "Rate limit hit"}}})
		if code, _ := e.post("/webhooks/whatsapp", errs, whatsapp.Sign(whSecret, errs)); code != 200 {
			t.Fatalf("errors: %d", code)
		}
		audits, _, err := e.store.ListAuditEvents(context.Background(), e.tenant, persistence.Page{})
		if err != nil {
			t.Fatal(err)
		}
		if len(audits) != 1 || audits[0].Action != "whatsapp.webhook_error" || audits[0].TargetID != whPNID || !strings.Contains(string(audits[0].Data), "130429") {
			t.Errorf("audits %+v", audits)
		}
	})

	t.Run("a store failure is 503 and the provider retries", func(t *testing.T) {
		store := sqlstoretest.Open(t, "sqlite")
		set, _ := channels.NewSet(whatsapp.NewChannel(whatsapp.ChannelConfig{AppSecret: whSecret}, nil, nil))
		wh, err := gateway.NewWebhooks(gateway.WebhookConfig{Accounts: []gateway.WebhookAccount{{Channel: whatsapp.Name, Account: whPNID, TenantID: "t"}}},
			set, failingStore{sqlstore.For[gateway.WebhookTx](store)}, zerolog.Nop(), prometheus.NewRegistry())
		if err != nil {
			t.Fatal(err)
		}
		srv := gateway.New(gateway.Config{}, zerolog.Nop(), prometheus.NewRegistry(), nil)
		wh.Register(srv)
		rec := httptest.NewRecorder()
		req, _ := whatsapptest.NewWebhookRequest(context.Background(), "/webhooks/whatsapp", whSecret, text)
		srv.Handler().ServeHTTP(rec, req)
		if rec.Code != http.StatusServiceUnavailable {
			t.Errorf("store down: %d, want 503", rec.Code)
		}
	})
}
