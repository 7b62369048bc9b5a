package stripetest

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
)

// refundParams are the refund create parameters the fake knows.
var refundParams = []*regexp.Regexp{
	regexp.MustCompile(`^(payment_intent|charge|amount|reason)$`),
	regexp.MustCompile(`^metadata\[[^\[\]]+\]$`),
}

// createRefund is POST /v1/refunds of a succeeded PaymentIntent's (or a
// charge's) remaining amount or part of it. It records charge.refunded and
// refund.created.
func (s *Server) createRefund(form url.Values) reply {
	if p := unknownParam(form, refundParams); p != "" {
		return invalidParam("parameter_unknown", p, "Received unknown parameter: "+p)
	}
	ch, bad := s.refundedCharge(form)
	if bad.status != 0 {
		return bad
	}
	meta, bad := metadata(form, "metadata")
	if bad.status != 0 {
		return bad
	}
	switch r := form.Get("reason"); r {
	case "", "duplicate", "fraudulent", "requested_by_customer":
	default:
		return invalidParam("parameter_invalid_empty", "reason", "Invalid reason: must be one of duplicate, fraudulent, or requested_by_customer")
	}
	left := ch.Amount - ch.AmountRefunded
	amount := left
	if v := form.Get("amount"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1 {
			return invalidParam("parameter_invalid_integer", "amount", "Invalid positive integer")
		}
		amount = n
	}
	switch {
	case left == 0:
		return reply{status: http.StatusBadRequest, saved: true, body: apiError("invalid_request_error", "charge_already_refunded", "",
			fmt.Sprintf("Charge %s has already been refunded.", ch.ID))}
	case amount > left:
		return reply{status: http.StatusBadRequest, saved: true, body: apiError("invalid_request_error", "amount_too_large", "amount",
			fmt.Sprintf("Refund amount (%d) is greater than unrefunded amount on charge (%d)", amount, left))}
	}
	re := &refund{
		ID: s.newID("re_fake"), Object: "refund", Amount: amount, Charge: ch.ID, Created: s.now().Unix(),
		Currency: ch.Currency, Metadata: meta, PaymentIntent: ch.PaymentIntent, Status: "succeeded",
	}
	if v := form.Get("reason"); v != "" {
		re.Reason = ptr(v)
	}
	s.refunds[re.ID] = re
	ch.AmountRefunded += amount
	ch.Refunded = ch.AmountRefunded == ch.Amount
	s.record("charge.refunded", ch)
	s.record("refund.created", re)
	return reply{status: http.StatusOK, body: re, saved: true}
}

// refundedCharge is the charge a refund request names, through its
// payment_intent (which must have succeeded) or directly.
func (s *Server) refundedCharge(form url.Values) (*charge, reply) {
	if id := form.Get("charge"); id != "" {
		if ch, ok := s.charges[id]; ok {
			return ch, reply{}
		}
		return nil, invalidParam("resource_missing", "charge", "No such charge: '"+id+"'")
	}
	id := form.Get("payment_intent")
	if id == "" {
		return nil, invalidParam("parameter_missing", "payment_intent", "One of the following params should be provided for this request: payment_intent or charge.")
	}
	pi, ok := s.intents[id]
	if !ok {
		return nil, invalidParam("resource_missing", "payment_intent", "No such payment_intent: '"+id+"'")
	}
	if pi.Status != "succeeded" || pi.LatestCharge == nil {
		return nil, invalidParam("", "payment_intent", "This PaymentIntent does not have a successful charge to refund.")
	}
	return s.charges[*pi.LatestCharge], reply{}
}
