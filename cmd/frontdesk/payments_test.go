package main

import (
	"context"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/frontdesk-ai/frontdesk/channels/whatsapp/whatsapptest"
	"github.com/frontdesk-ai/frontdesk/llmrouter/llmtest"
	"github.com/frontdesk-ai/frontdesk/payments/stripe"
	"github.com/frontdesk-ai/frontdesk/payments/stripe/stripetest"
)

// TestPaymentLinkWithTheCustomersYes: through the real binary, a payment the
// model proposes is asked by the runtime; on the customer's Yes one Stripe
// Checkout Session is created and its link sent; Stripe's signed webhooks
// (a forged one refused, a replay and the second report of the same
// payment changing nothing) record the payment, and the customer is told
// once.
func TestPaymentLinkWithTheCustomersYes(t *testing.T) {
	const whsec = "whsec_test_secret"
	fake := stripetest.New(t, "sk_test_frontdesk")
	p := startPilot(t, "FRONTDESK_STRIPE_SECRET_KEY=sk_test_frontdesk", "FRONTDESK_STRIPE_API_URL="+fake.URL(),
		"FRONTDESK_STRIPE_WEBHOOK_SECRET="+whsec, "FRONTDESK_STRIPE_SUCCESS_URL=https://brand.example/thanks")
	const waID = "15550005555"
	p.enableTool(t, "create_payment_intent", `{}`)
	p.llm.Script(
		llmtest.ToolCalls(llmtest.Call{Name: "create_payment_intent", Arguments: `{"amount_minor":2500,"currency":"eur","description":"Express shipping"}`}),
		llmtest.Text("I have asked you to confirm the payment."),
	)
	if code := p.webhook(t, whatsapptest.TextWebhook(pilotPNID, waID, "Lin", "wamid.pay.1", "can I pay for express shipping?", time.Now()), pilotSecret); code != 200 {
		t.Fatalf("whatsapp webhook: %d", code)
	}
	question := p.question(t, waID)
	if !strings.Contains(question.Text, "25.00 EUR") || !strings.Contains(question.Text, "Express shipping") {
		t.Fatalf("question %+v", question)
	}
	if fake.SessionsCreated() != 0 {
		t.Fatal("a session was created before the customer's yes")
	}
	yes := question.Buttons[0]
	if code := p.webhook(t, whatsapptest.ButtonReplyWebhook(pilotPNID, waID, "Lin", "wamid.pay.yes", question.WAMID, yes.ID, yes.Title, time.Now()), pilotSecret); code != 200 {
		t.Fatalf("tap: %d", code)
	}
	link := regexp.MustCompile(`https?://\S+`)
	var url string
	waitUntil(t, "the payment link", func() bool {
		for _, s := range p.sentTo(waID) {
			if strings.HasPrefix(s.Text, "Here is your secure link to pay 25.00 EUR") {
				url = link.FindString(s.Text)
				return true
			}
		}
		return false
	})
	if fake.SessionsCreated() != 1 || url == "" {
		t.Fatalf("sessions %d, link %q", fake.SessionsCreated(), url)
	}
	// The customer pays; Stripe reports it (the session and its intent).
	id := url[strings.LastIndex(url, "/")+1:]
	paid, err := fake.Pay(id)
	if err != nil {
		t.Fatal(err)
	}
	deliver := func(secret string, body []byte) int {
		t.Helper()
		req, err := stripetest.NewWebhookRequest(context.Background(), "http://"+p.addr+"/webhooks/stripe", secret, body)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	evs := fake.Events()
	if len(evs) == 0 {
		t.Fatal("the fake reported no events")
	}
	if code := deliver("whsec_forged", evs[0]); code != 401 {
		t.Fatalf("forged webhook: %d, want 401", code)
	}
	for _, ev := range append(evs, evs[0]) {
		if code := deliver(whsec, ev); code != 200 {
			t.Fatalf("webhook: %d", code)
		}
	}
	waitUntil(t, "the payment acknowledged", func() bool {
		for _, s := range p.sentTo(waID) {
			if strings.Contains(s.Text, "We received your payment of 25.00 EUR") {
				return true
			}
		}
		return false
	})
	time.Sleep(500 * time.Millisecond) // a second acknowledgement would have been queued by now
	n := 0
	for _, s := range p.sentTo(waID) {
		if strings.Contains(s.Text, "We received your payment") {
			n++
		}
	}
	if n != 1 || fake.SessionsCreated() != 1 {
		t.Fatalf("acknowledgements %d (want 1), sessions %d (want 1)", n, fake.SessionsCreated())
	}
	// The brand refunds the payment in Stripe: its charge.refunded names
	// only the payment intent, and the customer is told.
	client, err := stripe.New(stripe.Config{SecretKey: "sk_test_frontdesk", APIURL: fake.URL(), SuccessURL: "https://brand.example/thanks"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := client.Refund(context.Background(), stripe.RefundRequest{PaymentIntentID: paid, AmountMinor: 2500, Currency: "EUR", IdempotencyKey: "refund-1"}); err != nil {
		t.Fatal(err)
	}
	for _, ev := range fake.Events()[len(evs):] {
		if code := deliver(whsec, ev); code != 200 {
			t.Fatalf("webhook: %d", code)
		}
	}
	waitUntil(t, "the refund told", func() bool {
		for _, s := range p.sentTo(waID) {
			if strings.Contains(s.Text, "Your payment of 25.00 EUR has been refunded") {
				return true
			}
		}
		return false
	})
}

// TestFollowUpFiresOnceAfterARestart: the model schedules a follow-up two
// seconds ahead; the process is killed (SIGKILL) and restarted meanwhile;
// the follow-up fires once, and its turn writes to the customer.
func TestFollowUpFiresOnceAfterARestart(t *testing.T) {
	p := startPilot(t)
	const waID = "15550006666"
	p.llm.Script(
		llmtest.ToolCalls(llmtest.Call{Name: "schedule_followup", Arguments: `{"in":"2s","note":"check that the parcel arrived"}`}),
		llmtest.Func(func(r llmtest.Request) llmtest.Step {
			if last := r.Body.Last(); last.Role != "tool" || !strings.Contains(last.Text(), `"scheduled":true`) {
				return llmtest.Text("not scheduled: " + last.Text())
			}
			return llmtest.Text("I will check back with you.")
		}),
		llmtest.Func(func(r llmtest.Request) llmtest.Step {
			if !strings.Contains(r.Body.Messages[0].Text(), "check that the parcel arrived") {
				return llmtest.Text("the follow-up's note is missing")
			}
			return llmtest.Text("Hello again! Did your parcel arrive?")
		}),
	)
	if code := p.webhook(t, whatsapptest.TextWebhook(pilotPNID, waID, "Mo", "wamid.fu.1", "my parcel should come tomorrow", time.Now()), pilotSecret); code != 200 {
		t.Fatalf("whatsapp webhook: %d", code)
	}
	waitUntil(t, "the first reply", func() bool { return p.textRequests("I will check back with you.") == 1 })
	p.crashAndRestart(t)
	waitUntil(t, "the follow-up", func() bool { return p.textRequests("Hello again! Did your parcel arrive?") == 1 })
	time.Sleep(3 * time.Second) // a second firing would have come by now (reminders are polled every second)
	if n := p.textRequests("Hello again! Did your parcel arrive?"); n != 1 {
		t.Fatalf("the follow-up was sent %d times", n)
	}
}
