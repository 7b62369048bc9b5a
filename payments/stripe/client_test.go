package stripe_test

import (
	"context"
	"errors"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/frontdesk-ai/frontdesk/commerce"
	"github.com/frontdesk-ai/frontdesk/payments/stripe"
	"github.com/frontdesk-ai/frontdesk/payments/stripe/stripetest"
)

const (
	secretKey  = "sk_test_4eC39HqLyjWDarjtT1zdp7dc"
	successURL = "https://frontdesk.example/payments/done?session={CHECKOUT_SESSION_ID}"
	cancelURL  = "https://frontdesk.example/payments/cancel"
)

// sleeper records the waits a Client asks for instead of waiting.
type sleeper struct {
	mu    sync.Mutex
	waits []time.Duration
}

func (s *sleeper) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.waits = append(s.waits, d)
	s.mu.Unlock()
	return ctx.Err()
}

func (s *sleeper) recorded() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Duration(nil), s.waits...)
}

func newClient(t *testing.T, fake *stripetest.Server, edit ...func(*stripe.Config)) (*stripe.Client, *sleeper) {
	t.Helper()
	s := &sleeper{}
	cfg := stripe.Config{SecretKey: secretKey, APIURL: fake.URL(), SuccessURL: successURL, CancelURL: cancelURL, Sleep: s.sleep}
	for _, e := range edit {
		e(&cfg)
	}
	c, err := stripe.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c, s
}

func paymentRequest(ref string) stripe.PaymentRequest {
	return stripe.PaymentRequest{
		AmountMinor: 4250, Currency: "EUR", Description: "Order #1001, balance",
		Reference: ref, Metadata: map[string]string{"conversation_id": "conv_7"}, IdempotencyKey: "pay-" + ref,
	}
}

func TestNewValidates(t *testing.T) {
	for name, cfg := range map[string]stripe.Config{
		"no key":              {SuccessURL: successURL},
		"key with a space":    {SecretKey: "sk_test_ x", SuccessURL: successURL},
		"no success url":      {SecretKey: secretKey},
		"relative success":    {SecretKey: secretKey, SuccessURL: "/done"},
		"relative cancel":     {SecretKey: secretKey, SuccessURL: successURL, CancelURL: "cancel"},
		"api url not http":    {SecretKey: secretKey, SuccessURL: successURL, APIURL: "ftp://api.stripe.com"},
		"negative timeout":    {SecretKey: secretKey, SuccessURL: successURL, Timeout: -time.Second},
		"api url not a url":   {SecretKey: secretKey, SuccessURL: successURL, APIURL: "https://%zz"},
		"success url no host": {SecretKey: secretKey, SuccessURL: "https://"},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := stripe.New(cfg); err == nil {
				t.Fatal("New accepted an unusable config")
			}
		})
	}
	if _, err := stripe.New(stripe.Config{SecretKey: secretKey, SuccessURL: successURL}); err != nil {
		t.Fatalf("New with the defaults: %v", err)
	}
}

func TestCreatePaymentLinkSpeaksStripesWireFormat(t *testing.T) {
	fake := stripetest.New(t, secretKey)
	c, _ := newClient(t, fake)
	p, err := c.CreatePaymentLink(context.Background(), paymentRequest("conf_1"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(p.ID, "cs_") || p.URL != "https://checkout.stripe.com/c/pay/"+p.ID || p.Status != "open" ||
		p.PaymentStatus != "unpaid" || p.AmountMinor != 4250 || p.Currency != "EUR" || p.Reference != "conf_1" ||
		p.PaymentIntentID != "" || p.Replayed || p.Created.IsZero() || !p.ExpiresAt.After(p.Created) {
		t.Fatalf("payment %+v", p)
	}
	if p.Metadata["conversation_id"] != "conv_7" || p.Metadata[stripe.MetadataReference] != "conf_1" {
		t.Fatalf("metadata %v", p.Metadata)
	}

	reqs := fake.Requests()
	if len(reqs) != 1 {
		t.Fatalf("%d requests, want 1", len(reqs))
	}
	r := reqs[0]
	if r.Method != http.MethodPost || r.Path != "/v1/checkout/sessions" {
		t.Fatalf("request %s %s", r.Method, r.Path)
	}
	for h, want := range map[string]string{
		"Authorization":   "Bearer " + secretKey,
		"Stripe-Version":  stripe.APIVersion,
		"Content-Type":    "application/x-www-form-urlencoded",
		"Idempotency-Key": "pay-conf_1",
	} {
		if got := r.Header.Get(h); got != want {
			t.Errorf("%s = %q, want %q", h, got, want)
		}
	}
	want := map[string]string{
		"mode":                                   "payment",
		"success_url":                            successURL,
		"cancel_url":                             cancelURL,
		"client_reference_id":                    "conf_1",
		"line_items[0][quantity]":                "1",
		"line_items[0][price_data][currency]":    "eur",
		"line_items[0][price_data][unit_amount]": "4250",
		"line_items[0][price_data][product_data][name]":      "Order #1001, balance",
		"payment_intent_data[description]":                   "Order #1001, balance",
		"metadata[conversation_id]":                          "conv_7",
		"metadata[frontdesk_reference]":                      "conf_1",
		"payment_intent_data[metadata][conversation_id]":     "conv_7",
		"payment_intent_data[metadata][frontdesk_reference]": "conf_1",
	}
	got := map[string]string{}
	for k, v := range r.Form {
		got[k] = strings.Join(v, ",")
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("form\n got %v\nwant %v", got, want)
	}
}

func TestCreatePaymentLinkDefaultsTheProductName(t *testing.T) {
	fake := stripetest.New(t, secretKey)
	c, _ := newClient(t, fake, func(cfg *stripe.Config) { cfg.CancelURL = "" })
	req := paymentRequest("conf_2")
	req.Description = ""
	if _, err := c.CreatePaymentLink(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	f := fake.Requests()[0].Form
	if f.Get("line_items[0][price_data][product_data][name]") != stripe.DefaultProductName || f.Has("cancel_url") || f.Has("payment_intent_data[description]") {
		t.Fatalf("form %v", f)
	}
}

func TestRetryWithTheSameKeyReplaysTheSession(t *testing.T) {
	fake := stripetest.New(t, secretKey)
	c, _ := newClient(t, fake)
	ctx := context.Background()
	first, err := c.CreatePaymentLink(ctx, paymentRequest("conf_1"))
	if err != nil {
		t.Fatal(err)
	}
	again, err := c.CreatePaymentLink(ctx, paymentRequest("conf_1"))
	if err != nil {
		t.Fatal(err)
	}
	if again.ID != first.ID || again.URL != first.URL || !again.Replayed {
		t.Fatalf("retry gave %+v, first was %+v", again, first)
	}
	if n := fake.SessionsCreated(); n != 1 {
		t.Fatalf("%d sessions, want exactly one", n)
	}
}

func TestSameKeyWithOtherParametersIsAnIdempotencyError(t *testing.T) {
	fake := stripetest.New(t, secretKey)
	c, _ := newClient(t, fake)
	ctx := context.Background()
	if _, err := c.CreatePaymentLink(ctx, paymentRequest("conf_1")); err != nil {
		t.Fatal(err)
	}
	changed := paymentRequest("conf_1")
	changed.AmountMinor = 9999
	_, err := c.CreatePaymentLink(ctx, changed)
	var se *stripe.Error
	if !errors.As(err, &se) || se.HTTPStatus != http.StatusBadRequest || se.Type != "idempotency_error" {
		t.Fatalf("err = %v, want a 400 idempotency_error", err)
	}
	var again *commerce.RetryError
	if errors.As(err, &again) || len(fake.Requests()) != 2 || fake.SessionsCreated() != 1 {
		t.Fatalf("retried or created: %d requests, %d sessions", len(fake.Requests()), fake.SessionsCreated())
	}
}

func TestALostAnswerIsRetriedAndReplayed(t *testing.T) {
	fake := stripetest.New(t, secretKey)
	c, _ := newClient(t, fake)
	fake.LoseNext(1)
	p, err := c.CreatePaymentLink(context.Background(), paymentRequest("conf_1"))
	if err != nil {
		t.Fatal(err)
	}
	if !p.Replayed || fake.SessionsCreated() != 1 || len(fake.Requests()) != 2 {
		t.Fatalf("payment %+v after %d requests, %d sessions; want the first session replayed", p, len(fake.Requests()), fake.SessionsCreated())
	}
}

// createOnce is how a caller executes a payment link exactly once: after
// a crash it reconciles with Stripe before creating.
func createOnce(ctx context.Context, c *stripe.Client, req stripe.PaymentRequest, firstTry time.Time) (stripe.Payment, error) {
	p, err := c.FindByReference(ctx, req.Reference, firstTry.Add(-time.Minute))
	if err == nil {
		return p, nil
	}
	if !errors.Is(err, stripe.ErrNotFound) {
		return stripe.Payment{}, err
	}
	return c.CreatePaymentLink(ctx, req)
}

func TestReconcileFindsTheSessionAfterTheKeyIsForgotten(t *testing.T) {
	fake := stripetest.New(t, secretKey)
	c, _ := newClient(t, fake)
	ctx := context.Background()
	start := time.Now()
	first, err := c.CreatePaymentLink(ctx, paymentRequest("conf_1"))
	if err != nil {
		t.Fatal(err)
	}
	fake.ForgetIdempotencyKeys() // a day later, or a crash past the key's life
	again, err := createOnce(ctx, c, paymentRequest("conf_1"), start)
	if err != nil {
		t.Fatal(err)
	}
	if again.ID != first.ID || again.URL != first.URL || again.Reference != "conf_1" {
		t.Fatalf("reconcile found %+v, want %+v", again, first)
	}
	if n := fake.SessionsCreated(); n != 1 {
		t.Fatalf("%d sessions, want exactly one", n)
	}
	r := fake.Requests()[1]
	if r.Method != http.MethodGet || r.Path != "/v1/checkout/sessions" || r.IdempotencyKey() != "" ||
		r.Form.Get("limit") != "100" || r.Form.Get("created[gte]") == "" {
		t.Fatalf("reconcile request %s %s %v", r.Method, r.Path, r.Form)
	}

	// Without the reconcile read, the forgotten key makes a second session:
	// what createOnce prevents.
	if _, err := c.CreatePaymentLink(ctx, paymentRequest("conf_1")); err != nil {
		t.Fatal(err)
	}
	if fake.SessionsCreated() != 2 {
		t.Fatal("a forgotten key should create anew at Stripe")
	}
}

func TestFindByReferencePagesAndBoundsByTime(t *testing.T) {
	fake := stripetest.New(t, secretKey)
	c, _ := newClient(t, fake)
	ctx := context.Background()
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	fake.SetNow(func() time.Time { return now })

	// An old session with the same reference, before the window.
	if _, err := c.CreatePaymentLink(ctx, paymentRequest("conf_old")); err != nil {
		t.Fatal(err)
	}
	now = now.Add(time.Hour)
	target, err := c.CreatePaymentLink(ctx, paymentRequest("conf_target"))
	if err != nil {
		t.Fatal(err)
	}
	for i := range 150 { // newer sessions push the target to the second page
		req := paymentRequest("conf_other")
		req.IdempotencyKey = "other-" + string(rune('a'+i%26)) + string(rune('a'+i/26))
		if _, err := c.CreatePaymentLink(ctx, req); err != nil {
			t.Fatal(err)
		}
	}
	got, err := c.FindByReference(ctx, "conf_target", now.Add(-time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != target.ID {
		t.Fatalf("found %s, want %s", got.ID, target.ID)
	}
	if _, err := c.FindByReference(ctx, "conf_old", now.Add(-time.Minute)); !errors.Is(err, stripe.ErrNotFound) {
		t.Fatalf("a session before the window: err = %v, want ErrNotFound", err)
	}
	if _, err := c.FindByReference(ctx, "conf_target", time.Time{}); !errors.Is(err, stripe.ErrInvalid) {
		t.Fatalf("no start time: err = %v, want ErrInvalid", err)
	}
}

func TestFindByReferencePrefersTheCompleteSession(t *testing.T) {
	fake := stripetest.New(t, secretKey)
	c, _ := newClient(t, fake)
	ctx := context.Background()
	start := time.Now()
	paid, err := c.CreatePaymentLink(ctx, paymentRequest("conf_1"))
	if err != nil {
		t.Fatal(err)
	}
	pi, err := fake.Pay(paid.ID)
	if err != nil {
		t.Fatal(err)
	}
	fake.ForgetIdempotencyKeys()
	if _, err := c.CreatePaymentLink(ctx, paymentRequest("conf_1")); err != nil { // a duplicate, newer
		t.Fatal(err)
	}
	got, err := c.FindByReference(ctx, "conf_1", start.Add(-time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != paid.ID || got.Status != "complete" || got.PaymentStatus != "paid" || got.PaymentIntentID != pi || got.URL != "" {
		t.Fatalf("found %+v, want the paid session %s with %s", got, paid.ID, pi)
	}
}

func TestRetries(t *testing.T) {
	for _, tc := range []struct {
		name      string
		knob      func(*stripetest.Server)
		requests  int
		waits     []time.Duration
		permanent bool
	}{
		{name: "429 backs off", knob: func(s *stripetest.Server) { s.TooManyNext(2) }, requests: 3,
			waits: []time.Duration{500 * time.Millisecond, time.Second}},
		{name: "429 honours Retry-After", knob: func(s *stripetest.Server) { s.TooManyNext(1); s.SetRetryAfter("2") }, requests: 2,
			waits: []time.Duration{2 * time.Second}},
		{name: "500", knob: func(s *stripetest.Server) { s.FailNext(1, 500) }, requests: 2, waits: []time.Duration{500 * time.Millisecond}},
		{name: "503 twice", knob: func(s *stripetest.Server) { s.FailNext(2, 503) }, requests: 3,
			waits: []time.Duration{500 * time.Millisecond, time.Second}},
		{name: "Stripe-Should-Retry true", knob: func(s *stripetest.Server) { s.ShouldRetryNext(1) }, requests: 2,
			waits: []time.Duration{500 * time.Millisecond}},
		{name: "Stripe-Should-Retry false beats 503", knob: func(s *stripetest.Server) { s.ShouldNotRetryNext(1) }, requests: 1, permanent: true},
		{name: "400 is permanent", knob: func(s *stripetest.Server) { s.FailNext(1, 400) }, requests: 1, permanent: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fake := stripetest.New(t, secretKey)
			c, sl := newClient(t, fake)
			tc.knob(fake)
			p, err := c.CreatePaymentLink(context.Background(), paymentRequest("conf_1"))
			if tc.permanent {
				var se *stripe.Error
				if !errors.As(err, &se) || fake.SessionsCreated() != 0 {
					t.Fatalf("err = %v with %d sessions, want a permanent *stripe.Error and none", err, fake.SessionsCreated())
				}
			} else if err != nil || p.ID == "" || fake.SessionsCreated() != 1 {
				t.Fatalf("payment %+v, err %v, %d sessions", p, err, fake.SessionsCreated())
			}
			if n := len(fake.Requests()); n != tc.requests {
				t.Fatalf("%d requests, want %d", n, tc.requests)
			}
			if got := sl.recorded(); !reflect.DeepEqual(got, tc.waits) && (len(got) != 0 || len(tc.waits) != 0) {
				t.Fatalf("waits %v, want %v", got, tc.waits)
			}
		})
	}
}

func TestGivingUpLeavesAnUnknownOutcome(t *testing.T) {
	fake := stripetest.New(t, secretKey)
	c, _ := newClient(t, fake, func(cfg *stripe.Config) { cfg.MaxRetries = 2 })
	fake.FailNext(10, 500)
	_, err := c.CreatePaymentLink(context.Background(), paymentRequest("conf_1"))
	var again *commerce.RetryError
	var se *stripe.Error
	if !errors.As(err, &again) || !errors.As(err, &se) || se.Type != "api_error" {
		t.Fatalf("err = %v, want a RetryError around a 500 api_error: the caller must reconcile", err)
	}
	if n := len(fake.Requests()); n != 3 {
		t.Fatalf("%d requests, want 3", n)
	}
}

func TestUnauthorizedIsPermanent(t *testing.T) {
	fake := stripetest.New(t, secretKey)
	c, _ := newClient(t, fake, func(cfg *stripe.Config) { cfg.SecretKey = "sk_test_wrongwrongwrong" })
	_, err := c.CreatePaymentLink(context.Background(), paymentRequest("conf_1"))
	var se *stripe.Error
	if !errors.Is(err, stripe.ErrUnauthorized) || !errors.As(err, &se) || se.HTTPStatus != 401 || se.Type != "invalid_request_error" ||
		!strings.Contains(se.Message, "Invalid API Key provided") || strings.Contains(se.Message, "wrongwrongwrong") {
		t.Fatalf("err = %v", err)
	}
	if len(fake.Requests()) != 1 || fake.SessionsCreated() != 0 {
		t.Fatalf("%d requests, %d sessions; want one refused request", len(fake.Requests()), fake.SessionsCreated())
	}
}

func TestCardErrorIsTyped(t *testing.T) {
	fake := stripetest.New(t, secretKey)
	c, _ := newClient(t, fake)
	fake.FailNext(1, http.StatusPaymentRequired)
	_, err := c.CreatePaymentLink(context.Background(), paymentRequest("conf_1"))
	var se *stripe.Error
	if !errors.As(err, &se) {
		t.Fatalf("err = %v, want a *stripe.Error", err)
	}
	want := stripe.Error{HTTPStatus: 402, Type: "card_error", Code: "card_declined", DeclineCode: "generic_decline", Message: "Your card was declined.", Param: "card"}
	se.RequestID = ""
	if *se != want {
		t.Fatalf("error %+v, want %+v", *se, want)
	}
	if len(fake.Requests()) != 1 {
		t.Fatal("a card error was retried")
	}
}

func TestInvalidRequestsAreNotSent(t *testing.T) {
	long := strings.Repeat("x", 501)
	for name, edit := range map[string]func(*stripe.PaymentRequest){
		"no idempotency key":   func(r *stripe.PaymentRequest) { r.IdempotencyKey = "" },
		"key too long":         func(r *stripe.PaymentRequest) { r.IdempotencyKey = strings.Repeat("k", 256) },
		"zero amount":          func(r *stripe.PaymentRequest) { r.AmountMinor = 0 },
		"negative amount":      func(r *stripe.PaymentRequest) { r.AmountMinor = -5 },
		"unknown currency":     func(r *stripe.PaymentRequest) { r.Currency = "XYZ" },
		"no reference":         func(r *stripe.PaymentRequest) { r.Reference = " " },
		"metadata value long":  func(r *stripe.PaymentRequest) { r.Metadata = map[string]string{"note": long} },
		"metadata key bracket": func(r *stripe.PaymentRequest) { r.Metadata = map[string]string{"a[b]": "c"} },
		"reference conflict":   func(r *stripe.PaymentRequest) { r.Metadata = map[string]string{stripe.MetadataReference: "other"} },
		"fractional ariary":    func(r *stripe.PaymentRequest) { r.Currency, r.AmountMinor = "MGA", 150050 },
	} {
		t.Run(name, func(t *testing.T) {
			fake := stripetest.New(t, secretKey)
			c, _ := newClient(t, fake)
			req := paymentRequest("conf_1")
			edit(&req)
			if _, err := c.CreatePaymentLink(context.Background(), req); !errors.Is(err, stripe.ErrInvalid) {
				t.Fatalf("err = %v, want ErrInvalid", err)
			}
			if n := len(fake.Requests()); n != 0 {
				t.Fatalf("%d requests sent", n)
			}
		})
	}
}

func TestAmountsAtTheWire(t *testing.T) {
	for _, tc := range []struct {
		currency string
		minor    int64
		wire     string
	}{
		{"USD", 1999, "1999"},
		{"jpy", 500, "500"},     // zero-decimal both ways
		{"ISK", 5000, "500000"}, // whole krónur, two-decimal at Stripe
		{"KWD", 1500, "1500"},   // three-decimal
		{"MGA", 150000, "1500"}, // ISO's two decimals, zero-decimal at Stripe
	} {
		t.Run(tc.currency, func(t *testing.T) {
			fake := stripetest.New(t, secretKey)
			c, _ := newClient(t, fake)
			req := paymentRequest("conf_1")
			req.Currency, req.AmountMinor = tc.currency, tc.minor
			p, err := c.CreatePaymentLink(context.Background(), req)
			if err != nil {
				t.Fatal(err)
			}
			if got := fake.Requests()[0].Form.Get("line_items[0][price_data][unit_amount]"); got != tc.wire {
				t.Fatalf("unit_amount %s, want %s", got, tc.wire)
			}
			if p.AmountMinor != tc.minor || p.Currency != strings.ToUpper(tc.currency) {
				t.Fatalf("read back %d %s, want %d", p.AmountMinor, p.Currency, tc.minor)
			}
		})
	}
}

func TestRefund(t *testing.T) {
	fake := stripetest.New(t, secretKey)
	c, _ := newClient(t, fake)
	ctx := context.Background()
	p, err := c.CreatePaymentLink(ctx, paymentRequest("conf_1"))
	if err != nil {
		t.Fatal(err)
	}
	pi, err := fake.Pay(p.ID)
	if err != nil {
		t.Fatal(err)
	}
	part := stripe.RefundRequest{PaymentIntentID: pi, AmountMinor: 1000, Currency: "EUR", Reason: "requested_by_customer",
		Metadata: map[string]string{"confirmation_id": "conf_r1"}, IdempotencyKey: "refund-conf_r1"}
	r, err := c.Refund(ctx, part)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(r.ID, "re_") || r.Status != "succeeded" || r.AmountMinor != 1000 || r.Currency != "EUR" ||
		r.PaymentIntentID != pi || !strings.HasPrefix(r.ChargeID, "ch_") || r.Replayed {
		t.Fatalf("refund %+v", r)
	}
	req := fake.Requests()[len(fake.Requests())-1]
	if req.Path != "/v1/refunds" || req.IdempotencyKey() != "refund-conf_r1" || req.Form.Get("payment_intent") != pi ||
		req.Form.Get("amount") != "1000" || req.Form.Get("reason") != "requested_by_customer" || req.Form.Get("metadata[confirmation_id]") != "conf_r1" {
		t.Fatalf("refund request %s %v", req.Path, req.Form)
	}
	again, err := c.Refund(ctx, part)
	if err != nil || again.ID != r.ID || !again.Replayed {
		t.Fatalf("retried refund %+v, %v", again, err)
	}
	rest, err := c.Refund(ctx, stripe.RefundRequest{PaymentIntentID: pi, IdempotencyKey: "refund-rest"})
	if err != nil || rest.AmountMinor != 3250 {
		t.Fatalf("refund of the rest %+v, %v", rest, err)
	}
	_, err = c.Refund(ctx, stripe.RefundRequest{PaymentIntentID: pi, IdempotencyKey: "refund-more"})
	var se *stripe.Error
	if !errors.As(err, &se) || se.Code != "charge_already_refunded" {
		t.Fatalf("refunding a refunded payment: %v", err)
	}
	if n := fake.RefundsCreated(); n != 2 {
		t.Fatalf("%d refunds, want 2", n)
	}
	for name, bad := range map[string]stripe.RefundRequest{
		"no key":         {PaymentIntentID: pi},
		"not a pi":       {PaymentIntentID: "ch_1", IdempotencyKey: "k"},
		"no currency":    {PaymentIntentID: pi, AmountMinor: 5, IdempotencyKey: "k"},
		"unknown reason": {PaymentIntentID: pi, Reason: "because", IdempotencyKey: "k"},
	} {
		if _, err := c.Refund(ctx, bad); !errors.Is(err, stripe.ErrInvalid) {
			t.Errorf("%s: err = %v, want ErrInvalid", name, err)
		}
	}
}

func TestCanceledContextStopsRetrying(t *testing.T) {
	fake := stripetest.New(t, secretKey)
	c, _ := newClient(t, fake)
	fake.FailNext(5, 503)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c.CreatePaymentLink(ctx, paymentRequest("conf_1")); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}
