package payments

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/rs/zerolog"

	"github.com/frontdesk-ai/frontdesk/consume"
	"github.com/frontdesk-ai/frontdesk/events"
	"github.com/frontdesk-ai/frontdesk/payments/stripe"
	"github.com/frontdesk-ai/frontdesk/persistence"
)

// DefaultGroup is the consumer group that applies the payments topic.
const DefaultGroup = "payments"

// Log is what the consumer needs from the event log.
type Log interface {
	consume.Subscriber
	persistence.Appender
}

// Notifier tells a conversation what became of its payment.
type Notifier interface {
	PaymentNotice(ctx context.Context, tenantID, conversationID, outcome string, amountMinor int64, currency string) error
}

// Consumer applies the provider's events: the payment intent's status
// (paid, failed, refunded, expired), a transaction per charge or refund
// (once per event), and a message to the customer when the status changed.
type Consumer struct {
	store  Store
	log    Log
	notify Notifier
	logger zerolog.Logger
}

// NewConsumer returns the consumer of the payments topic.
func NewConsumer(store Store, log Log, notify Notifier, logger zerolog.Logger) *Consumer {
	return &Consumer{store: store, log: log, notify: notify, logger: logger.With().Str("component", "payments").Logger()}
}

// Run consumes the payments topic until ctx ends.
func (c *Consumer) Run(ctx context.Context) error {
	return consume.Run(ctx, c.log, consume.Config{Group: DefaultGroup, Topic: persistence.TopicPayments,
		Failed: func(err error) { c.logger.Error().Err(err).Msg("payments consumer") }}, c.Handle)
}

// outcomes maps what the provider reports to the payment's status.
var outcomes = map[stripe.Kind]string{
	stripe.KindSucceeded: "paid", stripe.KindFailed: "failed", stripe.KindRefunded: "refunded", stripe.KindExpired: "expired",
	stripe.KindCanceled: "failed",
}

// Handle applies one record; it returns false only when ctx ended first.
func (c *Consumer) Handle(ctx context.Context, rec persistence.Record) bool {
	env, err := events.Parse(rec.Value)
	if err != nil {
		return consume.AppendDeadLetter(ctx, c.log, rec, err)
	}
	p, err := events.Decode(env)
	if err != nil {
		return consume.AppendDeadLetter(ctx, c.log, rec, err)
	}
	pe, ok := p.(*events.PaymentEvent)
	if !ok {
		return consume.AppendDeadLetter(ctx, c.log, rec, fmt.Errorf("event %s: %s is not a payment event", env.ID, env.Type))
	}
	ev, err := stripe.ParseEvent(pe.Body)
	if err != nil {
		return consume.AppendDeadLetter(ctx, c.log, rec, err)
	}
	outcome, ok := outcomes[ev.Kind]
	if !ok || (ev.Object.Reference == "" && ev.Object.PaymentIntentID == "") {
		return true // not a change of one of our payments
	}
	for {
		pi, changed, err := c.apply(ctx, env.TenantID, ev, outcome)
		if err == nil {
			if changed && outcome != "expired" {
				amount := pi.AmountCents
				if err := c.notify.PaymentNotice(ctx, env.TenantID, pi.ConversationID, outcome, amount, pi.Currency); err != nil {
					c.logger.Warn().Err(err).Str("payment_intent_id", pi.ID).Msg("the customer was not told of their payment")
				}
			}
			return true
		}
		c.logger.Warn().Err(err).Str("event", ev.ID).Msg("payment event not applied yet; retrying")
		if !consume.Sleep(ctx, retryWait) {
			return false
		}
	}
}

// apply records ev on the payment intent its reference names (the
// confirmation id) and reports whether the status changed.
func (c *Consumer) apply(ctx context.Context, tenantID string, ev stripe.Event, outcome string) (persistence.PaymentIntent, bool, error) {
	var pi persistence.PaymentIntent
	changed := false
	err := c.store.InTx(ctx, func(tx Tx) error {
		changed = false
		var err error
		// Our reference (the confirmation id) where the event carries it;
		// else (a charge refunded) the provider's payment intent, recorded
		// when it was paid.
		if ev.Object.Reference != "" {
			pi, err = tx.GetPaymentIntentByIdempotencyKey(ctx, tenantID, ev.Object.Reference)
		} else {
			pi, err = tx.GetPaymentIntentByProviderRef(ctx, tenantID, Provider, ev.Object.PaymentIntentID)
		}
		if errors.Is(err, persistence.ErrNotFound) {
			return nil // a session this frontdesk did not create
		}
		if err != nil {
			return err
		}
		if kind, amount := transactionOf(ev, outcome); kind != "" {
			if _, err := tx.GetTransactionByIdempotencyKey(ctx, tenantID, ev.ID); errors.Is(err, persistence.ErrNotFound) {
				if err := tx.CreateTransaction(ctx, &persistence.Transaction{Base: persistence.Base{TenantID: tenantID},
					PaymentIntentID: pi.ID, Kind: kind, AmountCents: amount, Currency: pi.Currency, Status: "succeeded",
					ProviderRef: ev.Object.ID, IdempotencyKey: ev.ID}); err != nil {
					return err
				}
			} else if err != nil {
				return err
			}
		}
		if pi.Status == outcome || (pi.Status == "refunded" && outcome == "paid") {
			return nil // a second report of the same change (session and intent both report a payment)
		}
		meta := map[string]any{}
		_ = json.Unmarshal(pi.Metadata, &meta)
		if ev.Object.PaymentIntentID != "" {
			// From now on the payment is found by the provider's intent (its
			// refunds name only that); the session stays in the metadata.
			pi.ProviderRef = ev.Object.PaymentIntentID
		}
		pi.Metadata, _ = json.Marshal(meta)
		pi.Status, changed = outcome, true
		return tx.UpdatePaymentIntent(ctx, &pi)
	})
	return pi, changed, err
}

// transactionOf is the transaction an event records: a charge when paid, a
// refund when refunded.
func transactionOf(ev stripe.Event, outcome string) (persistence.TransactionKind, int64) {
	switch outcome {
	case "paid":
		return persistence.TransactionCharge, ev.Object.AmountMinor
	case "refunded":
		amount := ev.Object.AmountRefundedMinor
		if amount == 0 {
			amount = ev.Object.AmountMinor
		}
		return persistence.TransactionRefund, amount
	}
	return "", 0
}

// retryWait is the pause before applying an event again after the store
// failed.
const retryWait = 200 * time.Millisecond
