package stripe

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// expandable is an expandable field (payment_intent, charge): an id, null,
// or the object itself when expanded, of which the id is kept.
type expandable string

// UnmarshalJSON accepts a string, null or an object with an id.
func (e *expandable) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case bytes.Equal(b, []byte("null")):
		*e = ""
		return nil
	case len(b) > 0 && b[0] == '{':
		var obj struct {
			ID string `json:"id"`
		}
		if err := json.Unmarshal(b, &obj); err != nil {
			return err
		}
		*e = expandable(obj.ID)
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	*e = expandable(s)
	return nil
}

// wireObject holds the fields frontdesk reads of the objects it meets:
// checkout.session, payment_intent, charge and refund. Each object type
// fills its own subset.
type wireObject struct {
	ID     string `json:"id"`
	Object string `json:"object"`
	Status string `json:"status"`
	// Created and ExpiresAt are Unix seconds.
	Created   int64  `json:"created"`
	ExpiresAt int64  `json:"expires_at"`
	Currency  string `json:"currency"`
	// Amount is a PaymentIntent's, a Charge's or a Refund's; AmountTotal a
	// Checkout Session's; AmountRefunded a Charge's.
	Amount         *int64 `json:"amount"`
	AmountTotal    *int64 `json:"amount_total"`
	AmountRefunded *int64 `json:"amount_refunded"`
	// Checkout Session fields.
	URL               string `json:"url"`
	Mode              string `json:"mode"`
	PaymentStatus     string `json:"payment_status"`
	ClientReferenceID string `json:"client_reference_id"`
	// PaymentIntent is set on sessions, charges and refunds; Charge on
	// refunds.
	PaymentIntent expandable        `json:"payment_intent"`
	Charge        expandable        `json:"charge"`
	Metadata      map[string]string `json:"metadata"`
	// FailureMessage is a Charge's, FailureReason a Refund's,
	// LastPaymentError a PaymentIntent's.
	FailureMessage   string `json:"failure_message"`
	FailureReason    string `json:"failure_reason"`
	LastPaymentError *struct {
		Message string `json:"message"`
		Code    string `json:"code"`
	} `json:"last_payment_error"`
}

// wireList is a page of a list answer.
type wireList struct {
	Object  string       `json:"object"`
	HasMore bool         `json:"has_more"`
	Data    []wireObject `json:"data"`
}

// amounts returns the object's amount and refunded amount in minor units
// of its currency (upper case). An object without a currency has no
// amounts; an unknown currency or an amount that does not convert wraps
// ErrMalformed.
func (o wireObject) amounts() (amount, refunded int64, currency string, err error) {
	if strings.TrimSpace(o.Currency) == "" {
		return 0, 0, "", nil
	}
	currency = strings.ToUpper(strings.TrimSpace(o.Currency))
	for _, f := range []struct {
		from *int64
		to   *int64
	}{{o.Amount, &amount}, {o.AmountTotal, &amount}, {o.AmountRefunded, &refunded}} {
		if f.from == nil {
			continue
		}
		v, err := fromAPIAmount(*f.from, currency)
		if err != nil {
			return 0, 0, "", fmt.Errorf("%w: %w", ErrMalformed, err)
		}
		*f.to = v
	}
	return amount, refunded, currency, nil
}

// failure is why the object's payment or refund failed, if it says.
func (o wireObject) failure() string {
	switch {
	case o.LastPaymentError != nil && o.LastPaymentError.Message != "":
		return o.LastPaymentError.Message
	case o.LastPaymentError != nil:
		return o.LastPaymentError.Code
	case o.FailureMessage != "":
		return o.FailureMessage
	}
	return o.FailureReason
}

// reference is our reference of the object: a session's
// client_reference_id, else metadata[MetadataReference].
func (o wireObject) reference() string {
	if o.ClientReferenceID != "" {
		return o.ClientReferenceID
	}
	return o.Metadata[MetadataReference]
}

// paymentIntentID is the PaymentIntent the object belongs to: its own id
// when it is one.
func (o wireObject) paymentIntentID() string {
	if o.Object == ObjectPaymentIntent {
		return o.ID
	}
	return string(o.PaymentIntent)
}
