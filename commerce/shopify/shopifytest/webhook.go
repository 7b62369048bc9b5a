// Package shopifytest provides test doubles for Shopify that speak its
// documented wire formats: signed webhook deliveries (Sign, Deliver,
// NewDeliveryRequest), REST-shaped webhook bodies built from specs
// (OrderPayload, CustomerPayload, RefundPayload, ProductPayload,
// ProductDeletePayload), and Admin, a fake Admin GraphQL API serving
// orders, customers, products and the shop currency with pagination, search
// filters, extensions.cost, and knobs for THROTTLED, 429, 5xx and
// refundCreate userErrors.
//
// Concurrency: Admin's data, knobs and records are guarded by one mutex;
// its methods are safe to call while requests are in flight.
package shopifytest

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"
	"time"
)

// APIVersion is the version deliveries announce and Admin serves.
const APIVersion = "2025-01"

// Sign returns the X-Shopify-Hmac-Sha256 value of body: the base64
// HMAC-SHA256 keyed with secret.
func Sign(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// NewDeliveryRequest builds the POST Shopify sends to url for one delivery
// of an event (eventID) of topic from shop, with every X-Shopify-* header
// and a fresh X-Shopify-Webhook-Id; a zero triggeredAt leaves out
// X-Shopify-Triggered-At. It serves both handler.ServeHTTP and
// http.Client.Do.
func NewDeliveryRequest(ctx context.Context, url, secret, topic, shop, eventID string, triggeredAt time.Time, body []byte) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("build delivery: %w", err)
	}
	h := req.Header
	h.Set("Content-Type", "application/json")
	h.Set("X-Shopify-Topic", topic)
	h.Set("X-Shopify-Hmac-Sha256", Sign(secret, body))
	h.Set("X-Shopify-Shop-Domain", shop)
	h.Set("X-Shopify-API-Version", APIVersion)
	h.Set("X-Shopify-Webhook-Id", newUUID())
	h.Set("X-Shopify-Event-Id", eventID)
	if !triggeredAt.IsZero() {
		h.Set("X-Shopify-Triggered-At", triggeredAt.UTC().Format(time.RFC3339Nano))
	}
	return req, nil
}

// Deliver sends one delivery like Shopify (see NewDeliveryRequest) and
// returns the answer; the caller closes its body.
func Deliver(ctx context.Context, url, secret, topic, shop, eventID string, triggeredAt time.Time, body []byte) (*http.Response, error) {
	req, err := NewDeliveryRequest(ctx, url, secret, topic, shop, eventID, triggeredAt, body)
	if err != nil {
		return nil, err
	}
	return http.DefaultClient.Do(req)
}

// newUUID returns a random version 4 UUID.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}
