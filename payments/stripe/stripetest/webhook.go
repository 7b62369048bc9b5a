package stripetest

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"time"
)

// Sign returns a Stripe-Signature value for body signed at t with secret:
// "t={unix},v1={hex HMAC-SHA256 of "{unix}.{body}"}".
func Sign(secret string, body []byte, t time.Time) string {
	return fmt.Sprintf("t=%d,v1=%s", t.Unix(), v1(secret, body, t))
}

// SignRotated returns the Stripe-Signature Stripe sends while an endpoint
// secret is being rolled: one v1 per secret, then a v0 as test-mode events
// carry (which receivers ignore).
func SignRotated(secrets []string, body []byte, t time.Time) string {
	h := fmt.Sprintf("t=%d", t.Unix())
	for _, s := range secrets {
		h += ",v1=" + v1(s, body, t)
	}
	return h + ",v0=" + v1("test-mode", body, t)
}

// v1 is the hex HMAC-SHA256 of "{unix}.{body}" keyed with secret.
func v1(secret string, body []byte, t time.Time) string {
	m := hmac.New(sha256.New, []byte(secret))
	fmt.Fprintf(m, "%d.", t.Unix())
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

// NewWebhookRequest builds the POST Stripe sends to url for one delivery
// of an event body, signed now with secret. It serves both
// handler.ServeHTTP and http.Client.Do.
func NewWebhookRequest(ctx context.Context, url, secret string, body []byte) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("build webhook delivery: %w", err)
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	req.Header.Set("User-Agent", "Stripe/1.0 (+https://stripe.com/docs/webhooks)")
	req.Header.Set("Stripe-Signature", Sign(secret, body, time.Now()))
	return req, nil
}

// Event returns the body of an event of typ about object (any value that
// marshals to a Stripe object: a map, a json.RawMessage from
// Server.Object), created now, with a fresh evt_ id.
func Event(typ string, object any) ([]byte, error) {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return newEvent("evt_"+hex.EncodeToString(b[:]), typ, time.Now(), object)
}

// newEvent is an event as Stripe's webhooks deliver it.
func newEvent(id, typ string, created time.Time, object any) ([]byte, error) {
	return json.Marshal(map[string]any{
		"id":               id,
		"object":           "event",
		"api_version":      APIVersion,
		"created":          created.Unix(),
		"data":             map[string]any{"object": object},
		"livemode":         false,
		"pending_webhooks": 1,
		"request":          map[string]any{"id": nil, "idempotency_key": nil},
		"type":             typ,
	})
}
