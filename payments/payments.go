// Package payments owns taking a customer's payment at run time: the
// create_payment_intent action that sends a confirmed payment's link
// (created once at the provider, found again after a crash), the Stripe
// webhook hook the gateway calls, and the consumer that records what the
// provider reports (paid, failed, refunded) and tells the conversation.
// Stripe's wire format lives in payments/stripe.
package payments

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/frontdesk-ai/frontdesk/commerce"
	"github.com/frontdesk-ai/frontdesk/events"
	"github.com/frontdesk-ai/frontdesk/payments/stripe"
	"github.com/frontdesk-ai/frontdesk/persistence"
	"github.com/frontdesk-ai/frontdesk/tools"
)

// Provider is the name of the payment provider in records.
const Provider = "stripe"

// Tx is what recording a payment reads and writes.
type Tx interface {
	GetPaymentIntentByIdempotencyKey(ctx context.Context, tenantID, key string) (persistence.PaymentIntent, error)
	GetPaymentIntentByProviderRef(ctx context.Context, tenantID, provider, ref string) (persistence.PaymentIntent, error)
	CreatePaymentIntent(ctx context.Context, m *persistence.PaymentIntent) error
	UpdatePaymentIntent(ctx context.Context, m *persistence.PaymentIntent) error
	GetTransactionByIdempotencyKey(ctx context.Context, tenantID, key string) (persistence.Transaction, error)
	CreateTransaction(ctx context.Context, m *persistence.Transaction) error
}

// Store runs a transaction.
type Store interface {
	InTx(ctx context.Context, fn func(tx Tx) error) error
}

// Links creates the payment link of a confirmed create_payment_intent
// confirmation (an actors.ActionFunc): keyed by the confirmation id at the
// provider, found again by it after a crash, recorded as a payment intent.
type Links struct {
	client *stripe.Client
	store  Store
}

// NewLinks returns the payment action over client.
func NewLinks(client *stripe.Client, store Store) *Links { return &Links{client: client, store: store} }

// Execute creates (or finds) c's payment link and records it.
func (l *Links) Execute(ctx context.Context, c persistence.Confirmation) (json.RawMessage, error) {
	var a tools.PaymentArgs
	if err := json.Unmarshal(c.Arguments, &a); err != nil || a.AmountMinor <= 0 {
		return nil, fmt.Errorf("payment %s: malformed arguments: %v", c.ID, err)
	}
	// After a crash the link may exist: at the provider, and maybe here.
	p, err := l.client.FindByReference(ctx, c.ID, c.CreatedAt.Add(-time.Hour))
	if errors.Is(err, stripe.ErrNotFound) {
		desc := a.Description
		if desc == "" {
			desc = "Payment"
		}
		p, err = l.client.CreatePaymentLink(ctx, stripe.PaymentRequest{AmountMinor: a.AmountMinor, Currency: a.Currency, Description: desc,
			Reference: c.ID, IdempotencyKey: "confirmation-" + c.ID,
			Metadata: map[string]string{"tenant_id": c.TenantID, "conversation_id": c.ConversationID, "customer_id": c.CustomerID}})
	}
	if err != nil {
		return nil, fmt.Errorf("payment link: %w", err)
	}
	err = l.store.InTx(ctx, func(tx Tx) error {
		if _, err := tx.GetPaymentIntentByIdempotencyKey(ctx, c.TenantID, c.ID); err == nil {
			return nil
		} else if !errors.Is(err, persistence.ErrNotFound) {
			return err
		}
		meta, _ := json.Marshal(map[string]string{"url": p.URL, "session_id": p.ID, "description": a.Description})
		return tx.CreatePaymentIntent(ctx, &persistence.PaymentIntent{Base: persistence.Base{TenantID: c.TenantID, Metadata: meta},
			CustomerID: c.CustomerID, ConversationID: c.ConversationID, AmountCents: a.AmountMinor, Currency: a.Currency,
			Status: "open", Provider: Provider, ProviderRef: p.ID, IdempotencyKey: c.ID})
	})
	if err != nil {
		return nil, fmt.Errorf("record payment: %w", err)
	}
	return json.Marshal(map[string]any{"url": p.URL, "session_id": p.ID, "amount_minor": a.AmountMinor, "currency": a.Currency,
		"replayed": p.Replayed})
}

// Hook is Stripe's webhook (a gateway.PaymentHook): Stripe-Signature with
// the endpoint secret, within the tolerance window. Its errors wrap
// commerce.ErrSignature (401) or commerce.ErrMalformed (400).
type Hook struct {
	Secret    string
	Tolerance time.Duration
	Now       func() time.Time
}

// Receive checks the signature and reads the event.
func (h Hook) Receive(hdr http.Header, body []byte) (events.PaymentEvent, error) {
	now := time.Now
	if h.Now != nil {
		now = h.Now
	}
	if _, err := stripe.VerifySignature(h.Secret, body, hdr.Get(stripe.HeaderSignature), now(), h.Tolerance); err != nil {
		return events.PaymentEvent{}, fmt.Errorf("%w: %w", commerce.ErrSignature, err)
	}
	ev, err := stripe.ParseEvent(body)
	if err != nil {
		return events.PaymentEvent{}, fmt.Errorf("%w: %w", commerce.ErrMalformed, err)
	}
	return events.PaymentEvent{Provider: Provider, EventID: ev.ID, Type: ev.Type, Body: body}, nil
}
