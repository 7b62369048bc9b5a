package payments_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/frontdesk-ai/frontdesk/payments"
	"github.com/frontdesk-ai/frontdesk/payments/stripe"
	"github.com/frontdesk-ai/frontdesk/payments/stripe/stripetest"
	"github.com/frontdesk-ai/frontdesk/persistence"
	"github.com/frontdesk-ai/frontdesk/persistence/sqlstore"
	"github.com/frontdesk-ai/frontdesk/persistence/sqlstore/sqlstoretest"
)

// TestLinkIsCreatedOnce: executing a confirmed payment again (a retry, or
// after a crash when Stripe has forgotten the idempotency key) finds the
// first Checkout Session instead of creating a second, and records one
// payment intent.
func TestLinkIsCreatedOnce(t *testing.T) {
	for _, d := range sqlstoretest.Dialects {
		t.Run(d, func(t *testing.T) {
			ctx := context.Background()
			store := sqlstoretest.Open(t, d)
			tn := &persistence.Tenant{Name: "Shop", Slug: "shop"}
			if err := store.CreateTenant(ctx, tn); err != nil {
				t.Fatal(err)
			}
			cust := &persistence.Customer{Base: persistence.Base{TenantID: tn.ID}, Name: "Lin"}
			if err := store.CreateCustomer(ctx, cust); err != nil {
				t.Fatal(err)
			}
			fake := stripetest.New(t, "sk_test_x")
			client, err := stripe.New(stripe.Config{SecretKey: "sk_test_x", APIURL: fake.URL(), SuccessURL: "https://brand.example/thanks"})
			if err != nil {
				t.Fatal(err)
			}
			links := payments.NewLinks(client, sqlstore.For[payments.Tx](store))
			c := persistence.Confirmation{Base: persistence.Base{ID: "9b2f0c1e-0000-4000-8000-000000000001", TenantID: tn.ID, CreatedAt: time.Now()},
				CustomerID: cust.ID, ConversationID: "conv-1", Action: "create_payment_intent",
				Arguments: json.RawMessage(`{"amount_minor":2500,"currency":"EUR","description":"Express shipping"}`), AmountMinor: 2500, Currency: "EUR"}
			first, err := links.Execute(ctx, c)
			if err != nil {
				t.Fatal(err)
			}
			fake.ForgetIdempotencyKeys()
			again, err := links.Execute(ctx, c)
			if err != nil {
				t.Fatal(err)
			}
			var a, b struct {
				URL       string `json:"url"`
				SessionID string `json:"session_id"`
			}
			_ = json.Unmarshal(first, &a)
			_ = json.Unmarshal(again, &b)
			if fake.SessionsCreated() != 1 || a.SessionID == "" || a.SessionID != b.SessionID || a.URL == "" {
				t.Fatalf("sessions %d; first %+v, again %+v", fake.SessionsCreated(), a, b)
			}
			pi, err := store.GetPaymentIntentByIdempotencyKey(ctx, tn.ID, c.ID)
			if err != nil || pi.ProviderRef != a.SessionID || pi.AmountCents != 2500 || pi.Status != "open" {
				t.Fatalf("payment intent %+v, %v", pi, err)
			}
		})
	}
}
