package stripe_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/frontdesk-ai/frontdesk/payments/stripe"
	"github.com/frontdesk-ai/frontdesk/payments/stripe/stripetest"
)

const whsec = "whsec_test_8d2e0f1a"

var (
	signedAt = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	body     = []byte(`{"id":"evt_1","object":"event","type":"payment_intent.succeeded","created":1740830400,"data":{"object":{}}}`)
)

func TestVerifySignature(t *testing.T) {
	for _, tc := range []struct {
		name      string
		secret    string
		header    string
		body      []byte
		now       time.Time
		tolerance time.Duration
		ok        bool
	}{
		{name: "right secret", header: stripetest.Sign(whsec, body, signedAt), now: signedAt, ok: true},
		{name: "a little later", header: stripetest.Sign(whsec, body, signedAt), now: signedAt.Add(299 * time.Second), ok: true},
		{name: "our clock behind", header: stripetest.Sign(whsec, body, signedAt), now: signedAt.Add(-time.Minute), ok: true},
		{name: "wrong secret", header: stripetest.Sign("whsec_other", body, signedAt), now: signedAt},
		{name: "body changed", header: stripetest.Sign(whsec, body, signedAt), body: append([]byte(" "), body...), now: signedAt},
		{name: "rolled secret: new and old v1", header: stripetest.SignRotated([]string{"whsec_new", whsec}, body, signedAt), now: signedAt, ok: true},
		{name: "rolled secret: neither", header: stripetest.SignRotated([]string{"whsec_new", "whsec_old"}, body, signedAt), now: signedAt},
		{name: "replayed ten minutes later", header: stripetest.Sign(whsec, body, signedAt), now: signedAt.Add(10 * time.Minute)},
		{name: "signed in the future", header: stripetest.Sign(whsec, body, signedAt), now: signedAt.Add(-10 * time.Minute)},
		{name: "wider tolerance", header: stripetest.Sign(whsec, body, signedAt), now: signedAt.Add(10 * time.Minute), tolerance: 15 * time.Minute, ok: true},
		{name: "timestamp moved", header: strings.Replace(stripetest.Sign(whsec, body, signedAt), "t=", "t=1", 1), now: signedAt},
		{name: "missing header", header: "", now: signedAt},
		{name: "no v1", header: "t=1740830400,v0=abc", now: signedAt},
		{name: "v1 not hex", header: "t=1740830400,v1=zz", now: signedAt},
		{name: "no timestamp", header: "v1=" + strings.Repeat("ab", 32), now: signedAt},
		{name: "two timestamps", header: stripetest.Sign(whsec, body, signedAt) + ",t=1", now: signedAt},
		{name: "no secret configured", secret: "-", header: stripetest.Sign("", body, signedAt), now: signedAt},
	} {
		t.Run(tc.name, func(t *testing.T) {
			secret, b := whsec, body
			if tc.secret == "-" {
				secret = ""
			}
			if tc.body != nil {
				b = tc.body
			}
			at, err := stripe.VerifySignature(secret, b, tc.header, tc.now, tc.tolerance)
			if tc.ok {
				if err != nil || !at.Equal(signedAt) {
					t.Fatalf("VerifySignature = %v, %v; want %v", at, err, signedAt)
				}
				return
			}
			if !errors.Is(err, stripe.ErrSignature) {
				t.Fatalf("err = %v, want ErrSignature", err)
			}
		})
	}
}

func TestNewWebhookRequestIsSignedLikeStripe(t *testing.T) {
	req, err := stripetest.NewWebhookRequest(context.Background(), "https://frontdesk.example/webhooks/stripe", whsec, body)
	if err != nil {
		t.Fatal(err)
	}
	if req.Method != "POST" || !strings.HasPrefix(req.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("%s %s", req.Method, req.Header.Get("Content-Type"))
	}
	if _, err := stripe.VerifySignature(whsec, body, req.Header.Get(stripe.HeaderSignature), time.Now(), 0); err != nil {
		t.Fatal(err)
	}
}

func FuzzVerifySignature(f *testing.F) {
	f.Add("whsec_x", []byte(`{"id":"evt_1"}`), int64(1740830400), "t=1740830400,v1=00")
	f.Add("", []byte{}, int64(1), "")
	f.Add("s", []byte("x"), int64(-5), "t=,v1=,=,,t=9999999999999999999")
	f.Fuzz(func(t *testing.T, secret string, b []byte, ts int64, header string) {
		now := time.Unix(ts, 0)
		// Anything goes in: no panic, and a failure is ErrSignature.
		if _, err := stripe.VerifySignature(secret, b, header, now, 0); err != nil && !errors.Is(err, stripe.ErrSignature) {
			t.Fatalf("err %v does not wrap ErrSignature", err)
		}
		// What Stripe signs with the right secret always verifies.
		if secret == "" || ts <= 0 {
			return
		}
		signed := stripetest.Sign(secret, b, now)
		at, err := stripe.VerifySignature(secret, b, signed, now, 0)
		if err != nil || at.Unix() != ts {
			t.Fatalf("VerifySignature(%q) = %v, %v", signed, at, err)
		}
	})
}
