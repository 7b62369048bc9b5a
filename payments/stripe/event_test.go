package stripe_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/frontdesk-ai/frontdesk/payments/stripe"
	"github.com/frontdesk-ai/frontdesk/payments/stripe/stripetest"
)

var update = flag.Bool("update", false, "rewrite testdata/events/*.golden.json from the parser's output")

// fixtures are the event bodies under testdata/events (documented shapes,
// API version 2024-06-20) with the kind each parses to.
var fixtures = []struct {
	file string
	kind stripe.Kind
}{
	{"checkout_session_completed", stripe.KindSucceeded},
	{"checkout_session_completed_unpaid", stripe.KindPending},
	{"checkout_session_completed_isk", stripe.KindSucceeded},
	{"checkout_session_expired", stripe.KindExpired},
	{"payment_intent_succeeded", stripe.KindSucceeded},
	{"payment_intent_payment_failed", stripe.KindFailed},
	{"payment_intent_canceled", stripe.KindCanceled},
	{"charge_refunded", stripe.KindRefunded},
	{"refund_updated", stripe.KindRefundUpdated},
	{"charge_refund_updated", stripe.KindRefundUpdated},
	{"customer_created", stripe.KindUnknown},
}

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "events", name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestParseEventGolden holds each fixture's normalized event to its golden
// file (go test -update rewrites them; review the diff).
func TestParseEventGolden(t *testing.T) {
	for _, f := range fixtures {
		t.Run(f.file, func(t *testing.T) {
			ev, err := stripe.ParseEvent(readFixture(t, f.file))
			if err != nil {
				t.Fatalf("ParseEvent: %v", err)
			}
			if ev.Kind != f.kind {
				t.Fatalf("kind %s, want %s", ev.Kind, f.kind)
			}
			out, err := json.MarshalIndent(ev, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("testdata", "events", f.file+".golden.json")
			if *update {
				if err := os.WriteFile(golden, append(out, '\n'), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if !bytes.Equal(bytes.TrimSpace(out), bytes.TrimSpace(want)) {
				t.Fatalf("parsed event differs from %s:\n%s", golden, out)
			}
		})
	}
}

// TestEventsLinkToThePayment follows one payment link through the events
// Stripe sends: each names the reference or the PaymentIntent that the
// conversation's payment is known by.
func TestEventsLinkToThePayment(t *testing.T) {
	fake := stripetest.New(t, secretKey)
	c, _ := newClient(t, fake)
	ctx := context.Background()
	p, err := c.CreatePaymentLink(ctx, paymentRequest("conf_1"))
	if err != nil {
		t.Fatal(err)
	}
	declined, err := fake.Decline(p.ID, "insufficient_funds")
	if err != nil {
		t.Fatal(err)
	}
	pi, err := fake.Pay(p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if declined != pi {
		t.Fatalf("the retry after a decline used %s, not the session's %s", pi, declined)
	}
	if _, err := c.Refund(ctx, stripe.RefundRequest{PaymentIntentID: pi, AmountMinor: 250, Currency: "EUR", IdempotencyKey: "r1"}); err != nil {
		t.Fatal(err)
	}

	var kinds []string
	for _, b := range fake.Events() {
		ev, err := stripe.ParseEvent(b)
		if err != nil {
			t.Fatalf("%s: %v", b, err)
		}
		kinds = append(kinds, ev.Type+"="+string(ev.Kind))
		o := ev.Object
		if ev.Kind == stripe.KindUnknown {
			continue
		}
		if o.PaymentIntentID != pi || o.Currency != "EUR" {
			t.Errorf("%s: payment intent %q currency %q, want %s EUR", ev.Type, o.PaymentIntentID, o.Currency, pi)
		}
		switch ev.Kind {
		case stripe.KindFailed:
			if o.FailureMessage != "Your card was declined." || o.Reference != "conf_1" {
				t.Errorf("failed: %+v", o)
			}
		case stripe.KindSucceeded:
			if o.AmountMinor != 4250 || o.Reference != "conf_1" || o.Metadata["conversation_id"] != "conv_7" {
				t.Errorf("%s: %+v", ev.Type, o)
			}
		case stripe.KindRefunded:
			if o.AmountMinor != 4250 || o.AmountRefundedMinor != 250 {
				t.Errorf("refunded: %+v", o)
			}
		case stripe.KindRefundUpdated:
			if o.AmountMinor != 250 || o.Status != "succeeded" || !strings.HasPrefix(o.ChargeID, "ch_") {
				t.Errorf("refund: %+v", o)
			}
		}
	}
	want := "payment_intent.payment_failed=failed charge.succeeded=unknown payment_intent.succeeded=succeeded " +
		"checkout.session.completed=succeeded charge.refunded=refunded refund.created=refund_updated"
	if got := strings.Join(kinds, " "); got != want {
		t.Fatalf("events\n got %s\nwant %s", got, want)
	}
}

func TestExpiredLinkEvents(t *testing.T) {
	fake := stripetest.New(t, secretKey)
	c, _ := newClient(t, fake)
	p, err := c.CreatePaymentLink(context.Background(), paymentRequest("conf_1"))
	if err != nil {
		t.Fatal(err)
	}
	if err := fake.Expire(p.ID); err != nil {
		t.Fatal(err)
	}
	events := fake.Events()
	if len(events) != 1 {
		t.Fatalf("%d events, want checkout.session.expired alone", len(events))
	}
	ev, err := stripe.ParseEvent(events[0])
	if err != nil || ev.Kind != stripe.KindExpired || ev.Object.ID != p.ID || ev.Object.Reference != "conf_1" || ev.Object.PaymentIntentID != "" {
		t.Fatalf("%+v, %v", ev, err)
	}
}

func TestParseEventRefusesMalformed(t *testing.T) {
	valid := string(readFixture(t, "payment_intent_succeeded"))
	for name, b := range map[string]string{
		"not json":               `{"id":`,
		"an array":               `[{"id":"evt_1"}]`,
		"empty":                  ``,
		"no id":                  `{"object":"event","type":"customer.created","created":1,"data":{"object":{}}}`,
		"no type":                `{"id":"evt_1","object":"event","created":1,"data":{"object":{}}}`,
		"no created":             `{"id":"evt_1","object":"event","type":"customer.created","data":{"object":{}}}`,
		"not an event":           `{"id":"pi_1","object":"payment_intent","type":"x","created":1}`,
		"object of another type": strings.Replace(valid, `"object": "payment_intent"`, `"object": "charge"`, 1),
		"object without id":      strings.Replace(valid, `"id": "pi_3PqKjZ2eZvKYlo2C1dkLbIsr"`, `"id": ""`, 1),
		"no data.object":         `{"id":"evt_1","object":"event","type":"payment_intent.succeeded","created":1,"data":{}}`,
		"data.object a string":   `{"id":"evt_1","object":"event","type":"payment_intent.succeeded","created":1,"data":{"object":"pi_1"}}`,
		"unknown currency":       strings.Replace(valid, `"currency": "eur"`, `"currency": "zzz"`, 1),
		"amount a string":        strings.Replace(valid, `"amount": 4250`, `"amount": "4250"`, 1),
		"metadata not strings":   strings.Replace(valid, `"conversation_id": "conv_7"`, `"conversation_id": 7`, 1),
		"deeply nested":          `{"id":"evt_1","object":"event","type":"customer.created","created":1,"data":{"object":` + strings.Repeat(`[`, 100) + strings.Repeat(`]`, 100) + `}}`,
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := stripe.ParseEvent([]byte(b)); !errors.Is(err, stripe.ErrMalformed) {
				t.Fatalf("err = %v, want ErrMalformed", err)
			}
		})
	}
}

func TestParseEventReadsExpandedFields(t *testing.T) {
	b := strings.Replace(string(readFixture(t, "charge_refunded")), `"payment_intent": "pi_3PqKjZ2eZvKYlo2C1dkLbIsr"`,
		`"payment_intent": {"id": "pi_3PqKjZ2eZvKYlo2C1dkLbIsr", "object": "payment_intent", "amount": 4250}`, 1)
	ev, err := stripe.ParseEvent([]byte(b))
	if err != nil || ev.Object.PaymentIntentID != "pi_3PqKjZ2eZvKYlo2C1dkLbIsr" {
		t.Fatalf("%+v, %v", ev.Object, err)
	}
}

func FuzzParseEvent(f *testing.F) {
	for _, fx := range fixtures {
		f.Add(readFixture(f, fx.file))
	}
	f.Add([]byte(`{"id":"evt_1","object":"event","type":"charge.refunded","created":1,"data":{"object":{"id":"ch_1","object":"charge","amount":1,"currency":"mga","payment_intent":null}}}`))
	f.Add([]byte(`{"id":"evt_1","type":"refund.updated","created":9,"data":{"object":{"id":"re_1","object":"refund","charge":{"id":"ch_1"},"currency":"ISK","amount":150}}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		ev, err := stripe.ParseEvent(b)
		if err != nil {
			if !errors.Is(err, stripe.ErrMalformed) {
				t.Fatalf("error %v does not wrap ErrMalformed", err)
			}
			return
		}
		if ev.ID == "" || ev.Type == "" || ev.Created.IsZero() || ev.Kind == "" {
			t.Fatalf("event %+v", ev)
		}
		o := ev.Object
		if ev.Kind == stripe.KindUnknown {
			if o.ID != "" {
				t.Fatalf("unknown event with an object %+v", o)
			}
			return
		}
		if o.ID == "" || o.Object == "" || o.Currency != strings.ToUpper(o.Currency) {
			t.Fatalf("object %+v", o)
		}
		if o.Object == stripe.ObjectPaymentIntent && o.PaymentIntentID != o.ID {
			t.Fatalf("payment intent %+v links elsewhere", o)
		}
	})
}
