package shopify_test

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/frontdesk-ai/frontdesk/commerce"
	"github.com/frontdesk-ai/frontdesk/commerce/shopify"
	"github.com/frontdesk-ai/frontdesk/commerce/shopify/shopifytest"
)

func TestVerify(t *testing.T) {
	body := []byte(`{"id":5940139491234,"name":"#1001"}`)
	const secret = "shpss_client_secret"
	for _, c := range []struct {
		name, secret, header string
		ok                   bool
	}{
		{"right", secret, shopifytest.Sign(secret, body), true},
		{"right with spaces", secret, " " + shopifytest.Sign(secret, body) + "\n", true},
		{"other secret", secret, shopifytest.Sign("another secret", body), false},
		{"other body", secret, shopifytest.Sign(secret, []byte(`{"id":1}`)), false},
		{"missing", secret, "", false},
		{"not base64", secret, "%%%not-base64%%%", false},
		{"hex instead of base64", secret, "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", false},
		{"truncated", secret, shopifytest.Sign(secret, body)[:20], false},
		{"no secret configured", "", shopifytest.Sign("", body), false},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := shopify.Verify(c.secret, body, c.header)
			if c.ok && err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if !c.ok && !errors.Is(err, commerce.ErrSignature) {
				t.Fatalf("Verify = %v, want an error wrapping commerce.ErrSignature", err)
			}
		})
	}
}

func TestDeliveryFrom(t *testing.T) {
	triggered := time.Date(2024, 11, 10, 15, 30, 0, 877041743, time.UTC)
	req, err := shopifytest.NewDeliveryRequest(context.Background(), "http://frontdesk.test/webhooks/shopify", "s3cret",
		"orders/create", "Acme.myshopify.com", "c0e8d9f1-2f6f-4a1b-9c53-0a1f7b0e2d41", triggered, []byte(`{"id":1}`))
	if err != nil {
		t.Fatal(err)
	}
	d, err := shopify.DeliveryFrom(req.Header)
	if err != nil {
		t.Fatalf("DeliveryFrom: %v", err)
	}
	if d.Topic != "orders/create" || d.ShopDomain != "acme.myshopify.com" || d.EventID != "c0e8d9f1-2f6f-4a1b-9c53-0a1f7b0e2d41" ||
		d.APIVersion != shopifytest.APIVersion || d.WebhookID == "" || !d.TriggeredAt.Equal(triggered) {
		t.Fatalf("DeliveryFrom = %+v", d)
	}
	if err := shopify.Verify("s3cret", []byte(`{"id":1}`), req.Header.Get(shopify.HeaderHMAC)); err != nil {
		t.Fatalf("Verify of a built delivery: %v", err)
	}

	t.Run("header names in any case", func(t *testing.T) {
		h := http.Header{}
		for k, v := range map[string]string{
			"x-shopify-topic": "refunds/create", "X-SHOPIFY-SHOP-DOMAIN": "acme.myshopify.com",
			"x-shopify-triggered-at": "2024-11-10T10:30:00-05:00", "x-shopify-event-id": "e1",
		} {
			h.Set(k, v) // Set canonicalizes, as net/http does for received headers
		}
		d, err := shopify.DeliveryFrom(h)
		if err != nil || d.Topic != "refunds/create" || d.EventID != "e1" || !d.TriggeredAt.Equal(time.Date(2024, 11, 10, 15, 30, 0, 0, time.UTC)) {
			t.Fatalf("DeliveryFrom = %+v, %v", d, err)
		}
	})
	t.Run("unreadable triggered-at is left zero", func(t *testing.T) {
		h := http.Header{"X-Shopify-Topic": {"orders/paid"}, "X-Shopify-Shop-Domain": {"acme.myshopify.com"}, "X-Shopify-Triggered-At": {"yesterday"}}
		d, err := shopify.DeliveryFrom(h)
		if err != nil || !d.TriggeredAt.IsZero() {
			t.Fatalf("DeliveryFrom = %+v, %v", d, err)
		}
	})
	for name, h := range map[string]http.Header{
		"no topic":       {"X-Shopify-Shop-Domain": {"acme.myshopify.com"}},
		"no shop domain": {"X-Shopify-Topic": {"orders/paid"}},
		"blank topic":    {"X-Shopify-Topic": {"  "}, "X-Shopify-Shop-Domain": {"acme.myshopify.com"}},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := shopify.DeliveryFrom(h); !errors.Is(err, commerce.ErrMalformed) {
				t.Fatalf("DeliveryFrom = %v, want commerce.ErrMalformed", err)
			}
		})
	}
}
