package stripe

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/frontdesk-ai/frontdesk/commerce"
)

// Event types frontdesk reads; any other type parses as KindUnknown.
const (
	EventCheckoutSessionCompleted             = "checkout.session.completed"
	EventCheckoutSessionAsyncPaymentSucceeded = "checkout.session.async_payment_succeeded"
	EventCheckoutSessionAsyncPaymentFailed    = "checkout.session.async_payment_failed"
	EventCheckoutSessionExpired               = "checkout.session.expired"
	EventPaymentIntentSucceeded               = "payment_intent.succeeded"
	EventPaymentIntentPaymentFailed           = "payment_intent.payment_failed"
	EventPaymentIntentCanceled                = "payment_intent.canceled"
	EventChargeRefunded                       = "charge.refunded"
	EventRefundCreated                        = "refund.created"
	EventRefundUpdated                        = "refund.updated"
	EventChargeRefundUpdated                  = "charge.refund.updated"
)

// Kind is what an event means for the payment.
type Kind string

// Kinds of events. One payment produces several events of one kind (a
// session's checkout.session.completed and its PaymentIntent's
// payment_intent.succeeded): deduplicate on the PaymentIntent or the
// reference, not the event.
const (
	// KindSucceeded: the customer paid.
	KindSucceeded Kind = "succeeded"
	// KindPending: the session completed with a payment method that
	// settles later (bank debits); an async_payment event follows.
	KindPending Kind = "pending"
	// KindFailed: a payment attempt failed; the customer may try again on
	// the same page until the session expires.
	KindFailed Kind = "failed"
	// KindCanceled: the PaymentIntent was canceled.
	KindCanceled Kind = "canceled"
	// KindExpired: the link expired unpaid.
	KindExpired Kind = "expired"
	// KindRefunded: money went back; Object is the charge, with the total
	// refunded so far.
	KindRefunded Kind = "refunded"
	// KindRefundUpdated: a refund was created or changed status; Object is
	// the refund.
	KindRefundUpdated Kind = "refund_updated"
	// KindUnknown is a type frontdesk does not use: stored, ignored.
	KindUnknown Kind = "unknown"
)

// eventTypes maps each event type read to its kind and the object type its
// data.object must be.
var eventTypes = map[string]struct {
	kind   Kind
	object string
}{
	EventCheckoutSessionCompleted:             {KindSucceeded, ObjectCheckoutSession},
	EventCheckoutSessionAsyncPaymentSucceeded: {KindSucceeded, ObjectCheckoutSession},
	EventCheckoutSessionAsyncPaymentFailed:    {KindFailed, ObjectCheckoutSession},
	EventCheckoutSessionExpired:               {KindExpired, ObjectCheckoutSession},
	EventPaymentIntentSucceeded:               {KindSucceeded, ObjectPaymentIntent},
	EventPaymentIntentPaymentFailed:           {KindFailed, ObjectPaymentIntent},
	EventPaymentIntentCanceled:                {KindCanceled, ObjectPaymentIntent},
	EventChargeRefunded:                       {KindRefunded, ObjectCharge},
	EventRefundCreated:                        {KindRefundUpdated, ObjectRefund},
	EventRefundUpdated:                        {KindRefundUpdated, ObjectRefund},
	EventChargeRefundUpdated:                  {KindRefundUpdated, ObjectRefund},
}

// Event is one webhook event, normalized.
type Event struct {
	// ID is the event's id (evt_…), the same on every delivery of it:
	// deduplicate on it.
	ID   string `json:"id"`
	Type string `json:"type"`
	Kind Kind   `json:"kind"`
	// Created is when the event happened (UTC); deliveries may arrive out
	// of order.
	Created    time.Time `json:"created"`
	Livemode   bool      `json:"livemode"`
	APIVersion string    `json:"api_version,omitempty"`
	// Object is data.object; empty for KindUnknown.
	Object PaymentObject `json:"object"`
}

// PaymentObject is the event's object: a Checkout Session, a
// PaymentIntent, a Charge or a Refund.
type PaymentObject struct {
	ID string `json:"id,omitempty"`
	// Object is ObjectCheckoutSession, ObjectPaymentIntent, ObjectCharge
	// or ObjectRefund.
	Object string `json:"object,omitempty"`
	// Status is the object's own status (a session's open/complete/expired,
	// a PaymentIntent's succeeded/requires_payment_method/canceled, a
	// refund's pending/succeeded/failed).
	Status string `json:"status,omitempty"`
	// PaymentStatus is a session's paid/unpaid/no_payment_required.
	PaymentStatus string `json:"payment_status,omitempty"`
	// AmountMinor is the session's total, the PaymentIntent's or the
	// charge's amount, or the refund's amount, in minor units of Currency.
	AmountMinor int64 `json:"amount_minor"`
	// AmountRefundedMinor is a charge's total refunded so far.
	AmountRefundedMinor int64 `json:"amount_refunded_minor"`
	// Currency is an upper-case ISO 4217 code.
	Currency string `json:"currency,omitempty"`
	// PaymentIntentID links every object to the payment: the
	// PaymentIntent's own id, or the one the session, charge or refund
	// belongs to (a session has none until the customer confirms).
	PaymentIntentID string `json:"payment_intent_id,omitempty"`
	// ChargeID is a refund's charge.
	ChargeID string `json:"charge_id,omitempty"`
	// Reference is a session's client_reference_id, else
	// metadata[MetadataReference] (set on the PaymentIntent by
	// CreatePaymentLink).
	Reference string            `json:"reference,omitempty"`
	Metadata  map[string]string `json:"metadata,omitempty"`
	// FailureMessage says why a payment or refund failed.
	FailureMessage string `json:"failure_message,omitempty"`
}

// wireEvent is an event as Stripe sends it.
type wireEvent struct {
	ID         string  `json:"id"`
	Object     string  `json:"object"`
	Type       string  `json:"type"`
	Created    int64   `json:"created"`
	Livemode   bool    `json:"livemode"`
	APIVersion *string `json:"api_version"`
	Data       struct {
		Object json.RawMessage `json:"object"`
	} `json:"data"`
}

// ParseEvent parses a webhook body (after VerifySignature). A body that is
// not an event, or a known type whose object is not what the type says,
// wraps ErrMalformed; an unknown type is KindUnknown with no object.
func ParseEvent(body []byte) (Event, error) {
	if err := commerce.CheckObject(body); err != nil {
		return Event{}, fmt.Errorf("stripe event: %w: %w", ErrMalformed, err)
	}
	var w wireEvent
	if err := json.Unmarshal(body, &w); err != nil {
		return Event{}, fmt.Errorf("stripe event: %w", malformed("%v", err))
	}
	if w.ID == "" || w.Type == "" || w.Created <= 0 || (w.Object != "" && w.Object != "event") {
		return Event{}, fmt.Errorf("stripe event: %w", malformed("not an event: id %q, type %q, created %d, object %q", w.ID, w.Type, w.Created, w.Object))
	}
	ev := Event{ID: w.ID, Type: w.Type, Kind: KindUnknown, Created: time.Unix(w.Created, 0).UTC(), Livemode: w.Livemode}
	if w.APIVersion != nil {
		ev.APIVersion = *w.APIVersion
	}
	t, known := eventTypes[w.Type]
	if !known {
		return ev, nil
	}
	obj, err := parseObject(w.Data.Object, t.object)
	if err != nil {
		return Event{}, fmt.Errorf("stripe event %s %s: %w", w.ID, w.Type, err)
	}
	ev.Kind, ev.Object = t.kind, obj
	if w.Type == EventCheckoutSessionCompleted && obj.PaymentStatus == "unpaid" {
		ev.Kind = KindPending
	}
	return ev, nil
}

// parseObject reads data.object, which must be an object of type want
// with an id.
func parseObject(raw json.RawMessage, want string) (PaymentObject, error) {
	if len(raw) == 0 || raw[0] != '{' {
		return PaymentObject{}, malformed("data.object is not an object")
	}
	var o wireObject
	if err := json.Unmarshal(raw, &o); err != nil {
		return PaymentObject{}, malformed("data.object: %v", err)
	}
	if o.Object != want || o.ID == "" {
		return PaymentObject{}, malformed("data.object is a %q with id %q, want a %s", o.Object, o.ID, want)
	}
	amount, refunded, currency, err := o.amounts()
	if err != nil {
		return PaymentObject{}, err
	}
	return PaymentObject{
		ID:                  o.ID,
		Object:              o.Object,
		Status:              o.Status,
		PaymentStatus:       o.PaymentStatus,
		AmountMinor:         amount,
		AmountRefundedMinor: refunded,
		Currency:            currency,
		PaymentIntentID:     o.paymentIntentID(),
		ChargeID:            string(o.Charge),
		Reference:           o.reference(),
		Metadata:            o.Metadata,
		FailureMessage:      o.failure(),
	}, nil
}
