package shopify

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/frontdesk-ai/frontdesk/commerce"
)

// Headers of a webhook delivery (shopify.dev, "delivery structure"); Go's
// http.Header matches them case-insensitively.
const (
	HeaderHMAC        = "X-Shopify-Hmac-Sha256"
	HeaderTopic       = "X-Shopify-Topic"
	HeaderShopDomain  = "X-Shopify-Shop-Domain"
	HeaderEventID     = "X-Shopify-Event-Id"
	HeaderWebhookID   = "X-Shopify-Webhook-Id"
	HeaderAPIVersion  = "X-Shopify-API-Version"
	HeaderTriggeredAt = "X-Shopify-Triggered-At"
)

// Webhook topics frontdesk reads; any other topic parses as
// commerce.KindUnknown.
const (
	TopicOrdersCreate    = "orders/create"
	TopicOrdersUpdated   = "orders/updated"
	TopicOrdersPaid      = "orders/paid"
	TopicOrdersCancelled = "orders/cancelled"
	// TopicOrdersFulfilled and TopicOrdersPartiallyFulfilled carry the order
	// resource too.
	TopicOrdersFulfilled          = "orders/fulfilled"
	TopicOrdersPartiallyFulfilled = "orders/partially_fulfilled"
	TopicRefundsCreate            = "refunds/create"
	TopicCustomersCreate          = "customers/create"
	TopicCustomersUpdate          = "customers/update"
	// TopicProductsCreate and TopicProductsUpdate carry the product
	// resource; TopicProductsDelete only its id.
	TopicProductsCreate = "products/create"
	TopicProductsUpdate = "products/update"
	TopicProductsDelete = "products/delete"
	TopicAppUninstalled = "app/uninstalled"
)

// Verify checks hmacHeader, the value of X-Shopify-Hmac-Sha256, against the
// base64 HMAC-SHA256 of the raw body keyed with the app's client secret (or
// a store's webhook signing key), in constant time. A missing secret or
// header, a header that is not base64 of 32 bytes, and a mismatch are all
// errors wrapping commerce.ErrSignature.
func Verify(secret string, body []byte, hmacHeader string) error {
	if secret == "" {
		return fmt.Errorf("shopify webhook: no signing secret configured: %w", commerce.ErrSignature)
	}
	h := strings.TrimSpace(hmacHeader)
	if h == "" {
		return fmt.Errorf("shopify webhook: %s missing: %w", HeaderHMAC, commerce.ErrSignature)
	}
	got, err := base64.StdEncoding.DecodeString(h)
	if err != nil || len(got) != sha256.Size {
		return fmt.Errorf("shopify webhook: %s is not base64 of a SHA-256 HMAC: %w", HeaderHMAC, commerce.ErrSignature)
	}
	if !hmac.Equal(got, mac(secret, body)) {
		return fmt.Errorf("shopify webhook: %s does not match the body: %w", HeaderHMAC, commerce.ErrSignature)
	}
	return nil
}

// mac is the HMAC-SHA256 of body keyed with secret.
func mac(secret string, body []byte) []byte {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return m.Sum(nil)
}

// Delivery is what a webhook delivery's headers say about it.
type Delivery struct {
	Topic string
	// ShopDomain is the shop's myshopify.com domain, lower-cased.
	ShopDomain string
	// EventID is the same across deliveries of one event (several
	// subscriptions to one topic each get one); WebhookID is unique per
	// delivery. Shopify's docs disagree on which to deduplicate on: keep
	// both, deduplicate on EventID and Topic.
	EventID    string
	WebhookID  string
	APIVersion string
	// TriggeredAt is when the event fired; zero when the header is missing
	// or unreadable. Retries carry the original payload, so an older
	// TriggeredAt than one already applied means stale data.
	TriggeredAt time.Time
}

// DeliveryFrom reads a delivery's headers. A missing topic or shop domain
// is an error wrapping commerce.ErrMalformed; the other headers are
// optional.
func DeliveryFrom(h http.Header) (Delivery, error) {
	d := Delivery{
		Topic:      strings.TrimSpace(h.Get(HeaderTopic)),
		ShopDomain: strings.ToLower(strings.TrimSpace(h.Get(HeaderShopDomain))),
		EventID:    strings.TrimSpace(h.Get(HeaderEventID)),
		WebhookID:  strings.TrimSpace(h.Get(HeaderWebhookID)),
		APIVersion: strings.TrimSpace(h.Get(HeaderAPIVersion)),
	}
	if d.Topic == "" || d.ShopDomain == "" {
		return Delivery{}, fmt.Errorf("shopify webhook: %s or %s missing: %w", HeaderTopic, HeaderShopDomain, commerce.ErrMalformed)
	}
	if at := strings.TrimSpace(h.Get(HeaderTriggeredAt)); at != "" {
		// time.RFC3339 accepts fractional seconds when parsing.
		if t, err := time.Parse(time.RFC3339, at); err == nil {
			d.TriggeredAt = t.UTC()
		}
	}
	return d, nil
}
