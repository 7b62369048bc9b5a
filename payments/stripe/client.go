package stripe

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/frontdesk-ai/frontdesk/commerce"
)

// APIVersion is the Stripe-Version every request pins.
const APIVersion = "2024-06-20"

// Defaults of Config.
const (
	DefaultAPIURL     = "https://api.stripe.com"
	DefaultTimeout    = 30 * time.Second
	DefaultMaxRetries = 3
	// DefaultProductName names the line item when a request has no
	// description: Stripe requires a name.
	DefaultProductName = "Payment"
)

// MetadataReference is the metadata key that carries a request's
// Reference on the Checkout Session and on its PaymentIntent.
const MetadataReference = "frontdesk_reference"

// Object types, as the "object" field of Stripe's objects names them.
const (
	ObjectCheckoutSession = "checkout.session"
	ObjectPaymentIntent   = "payment_intent"
	ObjectCharge          = "charge"
	ObjectRefund          = "refund"
)

// Limits Stripe documents for what we send.
const (
	maxIdempotencyKey = 255
	maxReference      = 200 // client_reference_id
	maxMetadataKeys   = 50
	maxMetadataKey    = 40
	maxMetadataValue  = 500
	// listPage is the most a list page holds; maxListPages bounds a
	// reconcile scan (five thousand sessions since the first attempt).
	listPage     = 100
	maxListPages = 50
)

// Config configures a Client.
type Config struct {
	// SecretKey is the API secret key (sk_live_…, sk_test_…) or a
	// restricted key allowed to write Checkout Sessions and Refunds.
	SecretKey string
	// APIURL is the API's base; empty means DefaultAPIURL.
	APIURL string
	// SuccessURL is where Stripe sends the customer after paying; it may
	// hold the literal {CHECKOUT_SESSION_ID}, which Stripe fills in.
	// Required: Stripe's hosted page needs one and only the deployment
	// knows its public address.
	SuccessURL string
	// CancelURL, when set, gives the payment page a back link to it.
	CancelURL string
	// HTTP sends the requests; nil means a new http.Client.
	HTTP *http.Client
	// Timeout bounds each try; zero means DefaultTimeout.
	Timeout time.Duration
	// MaxRetries is how often a rate-limited, failed (409, 5xx) or
	// unreachable request is tried again; zero means DefaultMaxRetries, a
	// negative value none.
	MaxRetries int
	// Sleep waits d or until ctx ends (returning its error); nil means a
	// timer. Tests inject one that records the waits.
	Sleep func(ctx context.Context, d time.Duration) error
}

// Validate reports whether the config is usable once defaults are applied.
func (c Config) Validate() error {
	if strings.TrimSpace(c.SecretKey) == "" || strings.ContainsAny(c.SecretKey, " \t\r\n") {
		return errors.New("stripe client: no usable secret key")
	}
	if c.Timeout < 0 {
		return fmt.Errorf("stripe client: negative timeout %s", c.Timeout)
	}
	if c.SuccessURL == "" {
		return errors.New("stripe client: no success url (where Stripe sends the customer after paying)")
	}
	for name, u := range map[string]string{"api url": c.APIURL, "success url": c.SuccessURL, "cancel url": c.CancelURL} {
		if u == "" {
			continue
		}
		if err := absoluteURL(u); err != nil {
			return fmt.Errorf("stripe client: %s: %w", name, err)
		}
	}
	return nil
}

// absoluteURL refuses anything but an absolute http(s) URL.
func absoluteURL(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return err
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%q is not an absolute http(s) url", s)
	}
	return nil
}

// Client creates payment links, finds them again and refunds payments
// through Stripe's API.
type Client struct {
	key        string
	base       string
	successURL string
	cancelURL  string
	http       *http.Client
	timeout    time.Duration
	maxRetries int
	sleep      func(context.Context, time.Duration) error
}

// New returns a Client for cfg.
func New(cfg Config) (*Client, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	c := &Client{
		key:        cfg.SecretKey,
		base:       strings.TrimRight(cfg.APIURL, "/"),
		successURL: cfg.SuccessURL,
		cancelURL:  cfg.CancelURL,
		http:       cfg.HTTP,
		timeout:    cfg.Timeout,
		maxRetries: cfg.MaxRetries,
		sleep:      cfg.Sleep,
	}
	if c.base == "" {
		c.base = DefaultAPIURL
	}
	tr := commerce.Transport{HTTP: c.http, Timeout: c.timeout, MaxRetries: c.maxRetries, Sleep: c.sleep}.WithDefaults(DefaultTimeout, DefaultMaxRetries)
	c.http, c.timeout, c.maxRetries, c.sleep = tr.HTTP, tr.Timeout, tr.MaxRetries, tr.Sleep
	return c, nil
}

// PaymentRequest asks for a link to pay an amount.
type PaymentRequest struct {
	// AmountMinor is the amount in minor units of Currency; positive.
	AmountMinor int64
	// Currency is an ISO 4217 code, either case.
	Currency string
	// Description is what the customer is paying for, shown on the
	// payment page and on the PaymentIntent; empty means
	// DefaultProductName.
	Description string
	// Reference is our id of the payment (the confirmation's id): sent as
	// client_reference_id and as metadata[MetadataReference] on the
	// session and its PaymentIntent, and what FindByReference matches.
	Reference string
	// Metadata is put on the session and on its PaymentIntent too.
	Metadata map[string]string
	// IdempotencyKey makes retries of this request replay Stripe's first
	// answer; required, at most 255 characters. Keep it with the
	// confirmation and use it for every try.
	IdempotencyKey string
}

// Payment is a Checkout Session: a link to pay and what became of it.
type Payment struct {
	// ID is the session's id (cs_…).
	ID string
	// URL is the page the customer pays on; Stripe clears it once the
	// session is complete or expired.
	URL string
	// Status is open, complete or expired.
	Status string
	// PaymentStatus is unpaid, paid or no_payment_required.
	PaymentStatus string
	AmountMinor   int64
	// Currency is upper case.
	Currency string
	// PaymentIntentID is set once the customer has confirmed the payment.
	PaymentIntentID string
	Reference       string
	Metadata        map[string]string
	Created         time.Time
	ExpiresAt       time.Time
	// Replayed is true when Stripe answered from its idempotency store: the
	// session was created by an earlier try.
	Replayed bool
}

// CreatePaymentLink creates a Checkout Session in payment mode for the
// request's amount and returns it with the URL to send the customer.
// Retrying with the same IdempotencyKey and request returns the same
// session (Replayed) rather than a second one.
func (c *Client) CreatePaymentLink(ctx context.Context, req PaymentRequest) (Payment, error) {
	form, err := c.sessionForm(req)
	if err != nil {
		return Payment{}, fmt.Errorf("stripe create payment link: %w", err)
	}
	var o wireObject
	replayed, err := c.do(ctx, "create payment link", call{
		method: http.MethodPost, path: "/v1/checkout/sessions", form: form, idempotencyKey: req.IdempotencyKey,
	}, &o)
	if err != nil {
		return Payment{}, err
	}
	p, err := paymentFrom(o)
	if err != nil {
		return Payment{}, fmt.Errorf("stripe create payment link: %w", err)
	}
	p.Replayed = replayed
	return p, nil
}

// sessionForm is the Checkout Session create request for req.
func (c *Client) sessionForm(req PaymentRequest) (url.Values, error) {
	if err := checkKey(req.IdempotencyKey); err != nil {
		return nil, err
	}
	if req.AmountMinor <= 0 {
		return nil, invalid("amount %d is not positive", req.AmountMinor)
	}
	amount, err := toAPIAmount(req.AmountMinor, req.Currency)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	ref := strings.TrimSpace(req.Reference)
	if ref == "" || len(ref) > maxReference {
		return nil, invalid("reference %q is empty or longer than %d", ref, maxReference)
	}
	meta, err := withReference(req.Metadata, ref)
	if err != nil {
		return nil, err
	}
	name := strings.TrimSpace(req.Description)
	if name == "" {
		name = DefaultProductName
	}
	f := url.Values{}
	f.Set("mode", "payment")
	f.Set("success_url", c.successURL)
	if c.cancelURL != "" {
		f.Set("cancel_url", c.cancelURL)
	}
	f.Set("client_reference_id", ref)
	f.Set("line_items[0][quantity]", "1")
	f.Set("line_items[0][price_data][currency]", strings.ToLower(strings.TrimSpace(req.Currency)))
	f.Set("line_items[0][price_data][unit_amount]", strconv.FormatInt(amount, 10))
	f.Set("line_items[0][price_data][product_data][name]", name)
	if d := strings.TrimSpace(req.Description); d != "" {
		f.Set("payment_intent_data[description]", d)
	}
	for k, v := range meta {
		f.Set("metadata["+k+"]", v)
		f.Set("payment_intent_data[metadata]["+k+"]", v)
	}
	return f, nil
}

// checkKey refuses a missing or overlong idempotency key.
func checkKey(key string) error {
	if strings.TrimSpace(key) == "" || len(key) > maxIdempotencyKey {
		return invalid("idempotency key is empty or longer than %d", maxIdempotencyKey)
	}
	return nil
}

// withReference returns meta with MetadataReference set to ref, checked
// against Stripe's metadata limits.
func withReference(meta map[string]string, ref string) (map[string]string, error) {
	out := make(map[string]string, len(meta)+1)
	for k, v := range meta {
		out[k] = v
	}
	if v, ok := out[MetadataReference]; ok && v != ref {
		return nil, invalid("metadata %s %q differs from the reference %q", MetadataReference, v, ref)
	}
	out[MetadataReference] = ref
	return out, checkMetadata(out)
}

// checkMetadata holds meta to Stripe's limits: 50 keys, keys up to 40
// characters without square brackets, values up to 500 characters.
func checkMetadata(meta map[string]string) error {
	if len(meta) > maxMetadataKeys {
		return invalid("%d metadata keys, at most %d", len(meta), maxMetadataKeys)
	}
	for k, v := range meta {
		if k == "" || len(k) > maxMetadataKey || strings.ContainsAny(k, "[]") {
			return invalid("metadata key %q is empty, longer than %d or has square brackets", k, maxMetadataKey)
		}
		if len(v) > maxMetadataValue {
			return invalid("metadata %s is longer than %d", k, maxMetadataValue)
		}
	}
	return nil
}

// paymentFrom reads a Checkout Session.
func paymentFrom(o wireObject) (Payment, error) {
	if o.Object != ObjectCheckoutSession || o.ID == "" {
		return Payment{}, malformed("answer is a %q with id %q, not a checkout.session", o.Object, o.ID)
	}
	amount, _, currency, err := o.amounts()
	if err != nil {
		return Payment{}, err
	}
	return Payment{
		ID:              o.ID,
		URL:             o.URL,
		Status:          o.Status,
		PaymentStatus:   o.PaymentStatus,
		AmountMinor:     amount,
		Currency:        currency,
		PaymentIntentID: string(o.PaymentIntent),
		Reference:       o.reference(),
		Metadata:        o.Metadata,
		Created:         unixTime(o.Created),
		ExpiresAt:       unixTime(o.ExpiresAt),
	}, nil
}

// unixTime is Unix seconds in UTC; zero stays the zero time.
func unixTime(s int64) time.Time {
	if s == 0 {
		return time.Time{}
	}
	return time.Unix(s, 0).UTC()
}

// FindByReference returns the Checkout Session created for reference
// since since (the time of the first attempt, less a margin for clock
// skew), preferring a complete one, or an error wrapping ErrNotFound. Call
// it before retrying a create after a crash: it finds the session even
// when Stripe has pruned the idempotency key. It reads the list API, which
// shows a session as soon as it is created.
func (c *Client) FindByReference(ctx context.Context, reference string, since time.Time) (Payment, error) {
	if strings.TrimSpace(reference) == "" || since.IsZero() {
		return Payment{}, fmt.Errorf("stripe find payment link: %w", invalid("a reference and a start time are required"))
	}
	var found []wireObject
	after := ""
	for page := 0; ; page++ {
		if page == maxListPages {
			return Payment{}, fmt.Errorf("stripe find payment link: more than %d sessions since %s", maxListPages*listPage, since.UTC().Format(time.RFC3339))
		}
		form := url.Values{}
		form.Set("created[gte]", strconv.FormatInt(since.Unix(), 10))
		form.Set("limit", strconv.Itoa(listPage))
		if after != "" {
			form.Set("starting_after", after)
		}
		var list wireList
		if _, err := c.do(ctx, "find payment link", call{method: http.MethodGet, path: "/v1/checkout/sessions", form: form}, &list); err != nil {
			return Payment{}, err
		}
		for _, o := range list.Data {
			if o.reference() == reference {
				found = append(found, o)
			}
		}
		if !list.HasMore || len(list.Data) == 0 {
			break
		}
		after = list.Data[len(list.Data)-1].ID
	}
	if len(found) == 0 {
		return Payment{}, fmt.Errorf("stripe find payment link %q: %w", reference, ErrNotFound)
	}
	p, err := paymentFrom(preferComplete(found))
	if err != nil {
		return Payment{}, fmt.Errorf("stripe find payment link: %w", err)
	}
	return p, nil
}

// preferComplete returns the first complete session of found (newest
// first, as Stripe lists), else the newest.
func preferComplete(found []wireObject) wireObject {
	for _, o := range found {
		if o.Status == "complete" {
			return o
		}
	}
	return found[0]
}

// RefundRequest asks to refund a payment.
type RefundRequest struct {
	// PaymentIntentID is the payment's PaymentIntent (pi_…).
	PaymentIntentID string
	// AmountMinor is how much to refund in minor units of Currency; zero
	// refunds all that is left.
	AmountMinor int64
	// Currency is the payment's currency; required with an amount.
	Currency string
	// Reason is duplicate, fraudulent, requested_by_customer or empty.
	Reason   string
	Metadata map[string]string
	// IdempotencyKey is required, as for PaymentRequest.
	IdempotencyKey string
}

// Refund is a refund as Stripe answered it.
type Refund struct {
	// ID is the refund's id (re_…).
	ID string
	// Status is pending, requires_action, succeeded, failed or canceled.
	Status          string
	AmountMinor     int64
	Currency        string
	PaymentIntentID string
	ChargeID        string
	// FailureReason says why a failed refund failed.
	FailureReason string
	Replayed      bool
}

// Refund refunds (part of) a payment. A refund Stripe refuses (already
// refunded, more than is left) is an *Error.
func (c *Client) Refund(ctx context.Context, req RefundRequest) (Refund, error) {
	form, err := refundForm(req)
	if err != nil {
		return Refund{}, fmt.Errorf("stripe refund: %w", err)
	}
	var o wireObject
	replayed, err := c.do(ctx, "refund", call{method: http.MethodPost, path: "/v1/refunds", form: form, idempotencyKey: req.IdempotencyKey}, &o)
	if err != nil {
		return Refund{}, err
	}
	if o.Object != ObjectRefund || o.ID == "" {
		return Refund{}, fmt.Errorf("stripe refund: %w", malformed("answer is a %q with id %q, not a refund", o.Object, o.ID))
	}
	amount, _, currency, err := o.amounts()
	if err != nil {
		return Refund{}, fmt.Errorf("stripe refund: %w", err)
	}
	return Refund{
		ID: o.ID, Status: o.Status, AmountMinor: amount, Currency: currency,
		PaymentIntentID: string(o.PaymentIntent), ChargeID: string(o.Charge),
		FailureReason: o.FailureReason, Replayed: replayed,
	}, nil
}

// refundForm is the refund create request for req.
func refundForm(req RefundRequest) (url.Values, error) {
	if err := checkKey(req.IdempotencyKey); err != nil {
		return nil, err
	}
	if !strings.HasPrefix(req.PaymentIntentID, "pi_") {
		return nil, invalid("payment intent %q is not a pi_ id", req.PaymentIntentID)
	}
	if req.AmountMinor < 0 {
		return nil, invalid("refund amount %d is negative", req.AmountMinor)
	}
	if err := checkMetadata(req.Metadata); err != nil {
		return nil, err
	}
	f := url.Values{}
	f.Set("payment_intent", req.PaymentIntentID)
	if req.AmountMinor > 0 {
		amount, err := toAPIAmount(req.AmountMinor, req.Currency)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
		}
		f.Set("amount", strconv.FormatInt(amount, 10))
	}
	switch req.Reason {
	case "":
	case "duplicate", "fraudulent", "requested_by_customer":
		f.Set("reason", req.Reason)
	default:
		return nil, invalid("refund reason %q", req.Reason)
	}
	for k, v := range req.Metadata {
		f.Set("metadata["+k+"]", v)
	}
	return f, nil
}
