package stripetest

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// sessionParams are the Checkout Session create parameters the fake
// knows; any other is refused as Stripe refuses an unknown parameter.
var sessionParams = []*regexp.Regexp{
	regexp.MustCompile(`^(mode|success_url|cancel_url|client_reference_id|customer_email|expires_at)$`),
	regexp.MustCompile(`^metadata\[[^\[\]]+\]$`),
	regexp.MustCompile(`^payment_intent_data\[metadata\]\[[^\[\]]+\]$`),
	regexp.MustCompile(`^payment_intent_data\[description\]$`),
	regexp.MustCompile(`^line_items\[\d+\]\[quantity\]$`),
	regexp.MustCompile(`^line_items\[\d+\]\[price_data\]\[(currency|unit_amount)\]$`),
	regexp.MustCompile(`^line_items\[\d+\]\[price_data\]\[product_data\]\[(name|description)\]$`),
}

// currencyCode is how Stripe takes a currency: three lower-case letters.
var currencyCode = regexp.MustCompile(`^[a-z]{3}$`)

// listParams are the list parameters the fake knows.
var listParams = []*regexp.Regexp{
	regexp.MustCompile(`^(limit|starting_after|ending_before|payment_intent|status)$`),
	regexp.MustCompile(`^created\[(gt|gte|lt|lte)\]$`),
}

// Checkout's limits.
const (
	sessionLifetime  = 24 * time.Hour
	maxMetadataKeys  = 50
	maxMetadataKey   = 40
	maxMetadataValue = 500
	maxLimit         = 100
	defaultLimit     = 10
)

// lineItem is one line_items[i].
type lineItem struct {
	currency string
	amount   int64
	quantity int64
	name     string
}

// createSession is POST /v1/checkout/sessions for mode=payment with inline
// price_data line items.
func (s *Server) createSession(form url.Values) reply {
	if p := unknownParam(form, sessionParams); p != "" {
		return invalidParam("parameter_unknown", p, "Received unknown parameter: "+p)
	}
	if form.Get("mode") != "payment" {
		return invalidParam("parameter_invalid_empty", "mode", "The fake only supports mode=payment.")
	}
	if form.Get("success_url") == "" {
		return invalidParam("parameter_missing", "success_url", "Missing required param: success_url.")
	}
	items, bad := lineItems(form)
	if bad.status != 0 {
		return bad
	}
	meta, bad := metadata(form, "metadata")
	if bad.status != 0 {
		return bad
	}
	intentMeta, bad := metadata(form, "payment_intent_data[metadata]")
	if bad.status != 0 {
		return bad
	}
	now := s.now().Unix()
	cs := &session{
		ID: s.newID("cs_test_fake"), Object: "checkout.session", Created: now, ExpiresAt: now + int64(sessionLifetime/time.Second),
		Currency: items[0].currency, CustomerCreation: "if_required", Metadata: meta, Mode: "payment",
		PaymentStatus: "unpaid", Status: "open", SuccessURL: form.Get("success_url"), intentMetadata: intentMeta,
	}
	for _, it := range items {
		cs.AmountSubtotal += it.amount * it.quantity
	}
	cs.AmountTotal = cs.AmountSubtotal
	cs.URL = ptr("https://checkout.stripe.com/c/pay/" + cs.ID)
	if v := form.Get("cancel_url"); v != "" {
		cs.CancelURL = ptr(v)
	}
	if v := form.Get("client_reference_id"); v != "" {
		cs.ClientReferenceID = ptr(v)
	}
	if v := form.Get("payment_intent_data[description]"); v != "" {
		cs.intentDescription = ptr(v)
	}
	s.sessions = append(s.sessions, cs)
	return reply{status: http.StatusOK, body: cs, saved: true}
}

// lineItems reads line_items[0..]: price_data with one currency, a
// positive integer unit_amount (ISK in multiples of 100), a product name
// and a positive quantity.
func lineItems(form url.Values) ([]lineItem, reply) {
	var items []lineItem
	for i := 0; ; i++ {
		p := fmt.Sprintf("line_items[%d]", i)
		if form.Get(p+"[quantity]") == "" && form.Get(p+"[price_data][currency]") == "" {
			break
		}
		it := lineItem{currency: form.Get(p + "[price_data][currency]"), name: form.Get(p + "[price_data][product_data][name]")}
		var err error
		if it.amount, err = strconv.ParseInt(form.Get(p+"[price_data][unit_amount]"), 10, 64); err != nil || it.amount < 1 {
			return nil, invalidParam("parameter_invalid_integer", p+"[price_data][unit_amount]", "Invalid integer: "+form.Get(p+"[price_data][unit_amount]"))
		}
		if it.quantity, err = strconv.ParseInt(form.Get(p+"[quantity]"), 10, 64); err != nil || it.quantity < 1 {
			return nil, invalidParam("parameter_missing", p+"[quantity]", "Missing required param: "+p+"[quantity].")
		}
		switch {
		case !currencyCode.MatchString(it.currency):
			return nil, invalidParam("parameter_invalid_empty", p+"[price_data][currency]", "Invalid currency: "+it.currency+". Stripe currently supports these currencies in lower case.")
		case len(items) > 0 && it.currency != items[0].currency:
			return nil, invalidParam("parameter_invalid_empty", p+"[price_data][currency]", "All line items must share a currency.")
		case it.name == "":
			return nil, invalidParam("parameter_missing", p+"[price_data][product_data][name]", "Missing required param: "+p+"[price_data][product_data][name].")
		case it.currency == "isk" && it.amount%100 != 0:
			return nil, invalidParam("invalid_charge_amount_no_decimal_compatible", p+"[price_data][unit_amount]",
				"Invalid amount. Currency ISK has become effectively zero-decimal and charged amounts must be evenly divisible by 100.")
		}
		items = append(items, it)
	}
	if len(items) == 0 {
		return nil, invalidParam("parameter_missing", "line_items", "Missing required param: line_items.")
	}
	return items, reply{}
}

// metadata reads prefix[key] parameters, held to Stripe's limits; never
// nil.
func metadata(form url.Values, prefix string) (map[string]string, reply) {
	meta := map[string]string{}
	for k, vs := range form {
		if !strings.HasPrefix(k, prefix+"[") {
			continue
		}
		key := strings.TrimSuffix(strings.TrimPrefix(k, prefix+"["), "]")
		if len(key) > maxMetadataKey || len(vs[0]) > maxMetadataValue {
			return nil, invalidParam("parameter_invalid_string", k, "Metadata keys can be at most 40 characters and values at most 500.")
		}
		meta[key] = vs[0]
	}
	if len(meta) > maxMetadataKeys {
		return nil, invalidParam("parameter_invalid_empty", prefix, "Metadata can have at most 50 keys.")
	}
	return meta, reply{}
}

// listSessions is GET /v1/checkout/sessions: newest first, filtered by
// created[gt|gte|lt|lte], payment_intent and status, paged by limit and
// starting_after or ending_before.
func (s *Server) listSessions(form url.Values) reply {
	if p := unknownParam(form, listParams); p != "" {
		return invalidParam("parameter_unknown", p, "Received unknown parameter: "+p)
	}
	limit := defaultLimit
	if v := form.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxLimit {
			return invalidParam("parameter_invalid_integer", "limit", "This value must be between 1 and 100 (it currently is '"+v+"').")
		}
		limit = n
	}
	matched, bad := s.filterSessions(form)
	if bad.status != 0 {
		return bad
	}
	page, more, bad := pageOf(matched, form.Get("starting_after"), form.Get("ending_before"), limit)
	if bad.status != 0 {
		return bad
	}
	return reply{status: http.StatusOK, body: list{Object: "list", URL: "/v1/checkout/sessions", HasMore: more, Data: page}}
}

// filterSessions returns the sessions matching form's filters, newest
// first.
func (s *Server) filterSessions(form url.Values) ([]*session, reply) {
	bounds := map[string]int64{}
	for _, op := range []string{"gt", "gte", "lt", "lte"} {
		if v := form.Get("created[" + op + "]"); v != "" {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return nil, invalidParam("parameter_invalid_integer", "created["+op+"]", "Invalid integer: "+v)
			}
			bounds[op] = n
		}
	}
	var out []*session
	for _, cs := range slices.Backward(s.sessions) {
		if inBounds(cs.Created, bounds) &&
			(form.Get("status") == "" || form.Get("status") == cs.Status) &&
			(form.Get("payment_intent") == "" || (cs.PaymentIntent != nil && *cs.PaymentIntent == form.Get("payment_intent"))) {
			out = append(out, cs)
		}
	}
	return out, reply{}
}

// inBounds reports whether t satisfies every created[op] bound.
func inBounds(t int64, bounds map[string]int64) bool {
	for op, b := range bounds {
		if (op == "gt" && t <= b) || (op == "gte" && t < b) || (op == "lt" && t >= b) || (op == "lte" && t > b) {
			return false
		}
	}
	return true
}

// pageOf cuts a page of at most limit sessions after the cursor
// starting_after (or before ending_before) and reports whether more
// follow in that direction.
func pageOf(all []*session, after, before string, limit int) ([]any, bool, reply) {
	start, end := 0, len(all)
	if cursor := after + before; cursor != "" {
		i := slices.IndexFunc(all, func(cs *session) bool { return cs.ID == cursor })
		if i < 0 {
			param := "starting_after"
			if after == "" {
				param = "ending_before"
			}
			return nil, false, invalidParam("resource_missing", param, "No such checkout.session: '"+cursor+"'")
		}
		if after != "" {
			start = i + 1
		} else {
			start, end = max(0, i-limit), i
		}
	}
	more := false
	if end-start > limit {
		end, more = start+limit, true
	}
	if before != "" {
		more = start > 0
	}
	page := make([]any, 0, end-start)
	for _, cs := range all[start:end] {
		page = append(page, cs)
	}
	return page, more, reply{}
}

// expireSession is POST /v1/checkout/sessions/{id}/expire.
func (s *Server) expireSession(id string) reply {
	cs := s.session(id)
	if cs == nil {
		return reply{status: http.StatusNotFound, body: apiError("invalid_request_error", "resource_missing", "session", "No such checkout.session: '"+id+"'")}
	}
	if cs.Status != "open" {
		return reply{status: http.StatusBadRequest, saved: true, body: apiError("invalid_request_error", "checkout_session_not_open", "",
			"Only Checkout Sessions with a status in [\"open\"] can be expired. This Checkout Session has a status of \""+cs.Status+"\".")}
	}
	s.expire(cs)
	return reply{status: http.StatusOK, body: cs, saved: true}
}

// session returns the session with id, or nil. s.mu is held.
func (s *Server) session(id string) *session {
	i := slices.IndexFunc(s.sessions, func(cs *session) bool { return cs.ID == id })
	if i < 0 {
		return nil
	}
	return s.sessions[i]
}

// Pay completes a payment as the customer would: for a Checkout Session
// (cs_…) it confirms a PaymentIntent carrying payment_intent_data (or
// reuses the one a declined attempt left), charges it, and completes the
// session; for a PaymentIntent (pi_…) awaiting a payment method it charges
// it. It records charge.succeeded, payment_intent.succeeded and, for a
// session, checkout.session.completed, and returns the PaymentIntent's id.
func (s *Server) Pay(id string) (paymentIntentID string, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if cs := s.session(id); cs != nil {
		if cs.Status != "open" {
			return "", fmt.Errorf("stripetest: session %s is %s, not open", id, cs.Status)
		}
		pi := s.intentFor(cs)
		s.succeed(pi)
		cs.Status, cs.PaymentStatus, cs.URL = "complete", "paid", nil
		s.record("checkout.session.completed", cs)
		return pi.ID, nil
	}
	pi, ok := s.intents[id]
	if !ok || pi.Status != "requires_payment_method" {
		return "", fmt.Errorf("stripetest: no open session or payable payment intent %q", id)
	}
	s.succeed(pi)
	return pi.ID, nil
}

// Decline fails a payment attempt on an open session with a card_declined
// error as the customer's bank would: the session's PaymentIntent (made
// on the first attempt) waits for another payment method, the session
// stays open. It records payment_intent.payment_failed and returns the
// PaymentIntent's id.
func (s *Server) Decline(sessionID, declineCode string) (paymentIntentID string, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cs := s.session(sessionID)
	if cs == nil || cs.Status != "open" {
		return "", fmt.Errorf("stripetest: no open session %q", sessionID)
	}
	pi := s.intentFor(cs)
	pi.Status = "requires_payment_method"
	pi.LastPaymentError = &paymentError{Code: "card_declined", DeclineCode: declineCode, DocURL: "https://stripe.com/docs/error-codes/card-declined",
		Message: "Your card was declined.", Type: "card_error"}
	s.record("payment_intent.payment_failed", pi)
	return pi.ID, nil
}

// Expire expires an open session as its expires_at passing would,
// canceling a PaymentIntent a declined attempt left. It records
// checkout.session.expired (and payment_intent.canceled).
func (s *Server) Expire(sessionID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	cs := s.session(sessionID)
	if cs == nil || cs.Status != "open" {
		return fmt.Errorf("stripetest: no open session %q", sessionID)
	}
	s.expire(cs)
	return nil
}

// expire moves an open session to expired. s.mu is held.
func (s *Server) expire(cs *session) {
	cs.Status, cs.URL = "expired", nil
	if cs.PaymentIntent != nil {
		pi := s.intents[*cs.PaymentIntent]
		pi.Status, pi.CanceledAt, pi.CancellationReason = "canceled", ptr(s.now().Unix()), ptr("abandoned")
		s.record("payment_intent.canceled", pi)
	}
	s.record("checkout.session.expired", cs)
}

// intentFor returns the session's PaymentIntent, creating it from
// payment_intent_data on the first attempt (Stripe creates it when the
// customer confirms, since API version 2022-08-01). s.mu is held.
func (s *Server) intentFor(cs *session) *paymentIntent {
	if cs.PaymentIntent != nil {
		return s.intents[*cs.PaymentIntent]
	}
	id := s.newID("pi_fake")
	pi := &paymentIntent{
		ID: id, Object: "payment_intent", Amount: cs.AmountTotal, CaptureMethod: "automatic", ClientSecret: id + "_secret_fake",
		ConfirmationMethod: "automatic", Created: s.now().Unix(), Currency: cs.Currency, Description: cs.intentDescription,
		Metadata: cs.intentMetadata, PaymentMethodTypes: []string{"card"}, Status: "requires_payment_method",
	}
	s.intents[id] = pi
	cs.PaymentIntent = ptr(id)
	return pi
}

// succeed charges pi in full. s.mu is held.
func (s *Server) succeed(pi *paymentIntent) {
	ch := &charge{
		ID: s.newID("ch_fake"), Object: "charge", Amount: pi.Amount, AmountCaptured: pi.Amount, Captured: true,
		Created: s.now().Unix(), Currency: pi.Currency, Description: pi.Description, Metadata: map[string]string{},
		Paid: true, PaymentIntent: pi.ID, Status: "succeeded",
	}
	s.charges[ch.ID] = ch
	pi.Status, pi.AmountReceived, pi.LatestCharge, pi.LastPaymentError = "succeeded", pi.Amount, ptr(ch.ID), nil
	s.record("charge.succeeded", ch)
	s.record("payment_intent.succeeded", pi)
}

// sortedKeys returns form's keys in order.
func sortedKeys(form url.Values) []string {
	keys := make([]string, 0, len(form))
	for k := range form {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
