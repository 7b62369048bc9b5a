package gateway_test

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/frontdesk-ai/frontdesk/commerce"
	"github.com/frontdesk-ai/frontdesk/commerce/magento"
	"github.com/frontdesk-ai/frontdesk/commerce/magento/magentotest"
	"github.com/frontdesk-ai/frontdesk/commerce/shopify/shopifytest"
	"github.com/frontdesk-ai/frontdesk/events"
	"github.com/frontdesk-ai/frontdesk/gateway"
	"github.com/frontdesk-ai/frontdesk/persistence"
	"github.com/frontdesk-ai/frontdesk/persistence/sqlstore"
	"github.com/frontdesk-ai/frontdesk/persistence/sqlstore/sqlstoretest"
	"github.com/frontdesk-ai/frontdesk/shops"
)

const (
	shopSecret = "shopify-webhook-secret"
	shopDomain = "acme.myshopify.com"
)

func TestShopifyWebhook(t *testing.T) {
	ctx := context.Background()
	store := sqlstoretest.Open(t, "sqlite")
	store.SetTxLog(store.Log())
	tn := &persistence.Tenant{Name: "Shop", Slug: "shop"}
	if err := store.CreateTenant(ctx, tn); err != nil {
		t.Fatal(err)
	}
	if err := shops.Connect(ctx, store, tn.ID, commerce.SourceShopify, shopDomain); err != nil {
		t.Fatal(err)
	}
	hooks, err := gateway.NewShopWebhooks([]gateway.ShopHook{shops.Shopify{Secret: shopSecret}}, sqlstore.For[gateway.WebhookTx](store),
		zerolog.Nop(), prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	srv := gateway.New(gateway.Config{}, zerolog.Nop(), prometheus.NewRegistry(), nil)
	hooks.Register(srv)
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	e := &whEnv{t: t, store: store, tenant: tn.ID, url: ts.URL}

	at := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	body := shopifytest.OrderPayload(shopifytest.OrderSpec{ID: 42, Name: "#1042", TotalPrice: "10.00", Currency: "EUR", CreatedAt: at, UpdatedAt: at})
	deliver := func(secret, shop, topic, eventID string, b []byte) int {
		t.Helper()
		req, err := shopifytest.NewDeliveryRequest(ctx, ts.URL+"/webhooks/shopify", secret, topic, shop, eventID, at, b)
		if err != nil {
			t.Fatal(err)
		}
		code, _ := e.do(req)
		return code
	}
	for _, c := range []struct {
		name                string
		secret, shop, topic string
		body                []byte
		want                int
	}{
		{"forged signature", "other-secret", shopDomain, "orders/create", body, 401},
		{"malformed body", shopSecret, shopDomain, "orders/create", []byte(`{"id":`), 400},
		{"not an object", shopSecret, shopDomain, "orders/create", []byte(`[1,2]`), 400},
		{"currency without minor units", shopSecret, shopDomain, "orders/create",
			shopifytest.OrderPayload(shopifytest.OrderSpec{ID: 43, TotalPrice: "1.00", Currency: "XXQ", CreatedAt: at, UpdatedAt: at}), 400},
		{"a shop no tenant connected", shopSecret, "other.myshopify.com", "orders/create", body, 404},
	} {
		if got := deliver(c.secret, c.shop, c.topic, "ev-"+c.name, c.body); got != c.want {
			t.Errorf("%s: %d, want %d", c.name, got, c.want)
		}
	}
	if recs := e.records(persistence.TopicCommerce); len(recs) != 0 {
		t.Fatalf("refused deliveries stored %d records", len(recs))
	}
	s, err := store.GetShopByDomain(ctx, commerce.SourceShopify, shopDomain)
	if err != nil || s.FailuresTotal != 4 || s.LastFailure == "" {
		t.Fatalf("failures counted on the shop: %+v, %v", s, err)
	}

	if got := deliver(shopSecret, shopDomain, "orders/create", "ev-1", body); got != 200 {
		t.Fatalf("signed delivery: %d", got)
	}
	if got := deliver(shopSecret, shopDomain, "orders/create", "ev-1", body); got != 200 {
		t.Fatalf("redelivery: %d", got)
	}
	if got := deliver(shopSecret, shopDomain, "products/update", "ev-2", []byte(`{"id":7}`)); got != 200 {
		t.Fatalf("unknown topic: %d (stored, ignored by the consumer)", got)
	}
	recs := e.records(persistence.TopicCommerce)
	if len(recs) != 2 {
		t.Fatalf("commerce topic holds %d records, want 2 (the redelivery deduplicated)", len(recs))
	}
	env, err := events.Parse(recs[0].Value)
	if err != nil {
		t.Fatal(err)
	}
	p, err := events.Decode(env)
	if err != nil {
		t.Fatal(err)
	}
	ev := p.(*events.ShopEvent)
	if env.TenantID != tn.ID || ev.Topic != "orders/create" || ev.EventID != "ev-1" || ev.Shop != shopDomain || string(ev.Body) != string(body) {
		t.Fatalf("record: %+v %+v", env, ev)
	}
}

func TestMagentoWebhook(t *testing.T) {
	ctx := context.Background()
	store := sqlstoretest.Open(t, "sqlite")
	store.SetTxLog(store.Log())
	tn := &persistence.Tenant{Name: "Shop", Slug: "shop"}
	if err := store.CreateTenant(ctx, tn); err != nil {
		t.Fatal(err)
	}
	const domain = "shop.example.com"
	if err := shops.Connect(ctx, store, tn.ID, commerce.SourceMagento, domain); err != nil {
		t.Fatal(err)
	}
	priv, pemPath := magentotest.NewKey(t)
	pub, err := magento.LoadPublicKey(pemPath)
	if err != nil {
		t.Fatal(err)
	}
	hooks, err := gateway.NewShopWebhooks([]gateway.ShopHook{shops.Magento{Shop: domain, Secret: "async-secret", PublicKey: pub}},
		sqlstore.For[gateway.WebhookTx](store), zerolog.Nop(), prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	srv := gateway.New(gateway.Config{}, zerolog.Nop(), prometheus.NewRegistry(), nil)
	hooks.Register(srv)
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	e := &whEnv{t: t, store: store, tenant: tn.ID, url: ts.URL}
	at := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	order := magentotest.OrderJSON(magentotest.OrderSpec{EntityID: 7, IncrementID: "000000007", State: "processing", Email: "ana@example.com",
		GrandTotal: "165.00", Currency: "EUR", CreatedAt: at, UpdatedAt: at})

	// Open-source async events: hex HMAC.
	req, err := magentotest.NewAsyncEventRequest(ctx, ts.URL+"/webhooks/magento", "async-secret", magentotest.AsyncEventBody(order))
	if err != nil {
		t.Fatal(err)
	}
	if code, body := e.do(req); code != 200 || body != `{"op":"success"}` {
		t.Fatalf("async event: %d %s", code, body)
	}
	// Adobe Commerce webhook: RSA over the base64 body.
	other := magentotest.OrderJSON(magentotest.OrderSpec{EntityID: 8, State: "new", Email: "ana@example.com", GrandTotal: "5.00", Currency: "EUR", CreatedAt: at, UpdatedAt: at})
	req, err = magentotest.NewWebhookRequest(ctx, ts.URL+"/webhooks/magento", priv, magentotest.WebhookBody("observer.sales_order_save_after", "order", other))
	if err != nil {
		t.Fatal(err)
	}
	if code, body := e.do(req); code != 200 || body != `{"op":"success"}` {
		t.Fatalf("adobe webhook: %d %s", code, body)
	}
	// Forged: the wrong secret, and an RSA signature by another key.
	req, _ = magentotest.NewAsyncEventRequest(ctx, ts.URL+"/webhooks/magento", "not-the-secret", magentotest.AsyncEventBody(order))
	if code, _ := e.do(req); code != 401 {
		t.Fatalf("forged HMAC: %d, want 401", code)
	}
	stranger, _ := magentotest.NewKey(t)
	req, _ = magentotest.NewWebhookRequest(ctx, ts.URL+"/webhooks/magento", stranger, magentotest.WebhookBody("observer.sales_order_save_after", "order", other))
	if code, _ := e.do(req); code != 401 {
		t.Fatalf("forged RSA: %d, want 401", code)
	}
	recs := e.records(persistence.TopicCommerce)
	if len(recs) != 2 {
		t.Fatalf("commerce topic holds %d records, want 2", len(recs))
	}
	for _, r := range recs {
		env, _ := events.Parse(r.Value)
		p, err := events.Decode(env)
		if err != nil {
			t.Fatal(err)
		}
		ev := p.(*events.ShopEvent)
		parsed, err := shops.Parse(*ev)
		if err != nil || parsed.Kind != commerce.KindOrder || parsed.Order.Currency != "EUR" || ev.Shop != domain {
			t.Fatalf("record %+v parses to %+v, %v", ev, parsed, err)
		}
	}
}
