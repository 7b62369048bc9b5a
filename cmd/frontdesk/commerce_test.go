package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/frontdesk-ai/frontdesk/channels/whatsapp/whatsapptest"
	"github.com/frontdesk-ai/frontdesk/commerce/shopify/shopifytest"
	"github.com/frontdesk-ai/frontdesk/llmrouter/llmtest"
	"github.com/frontdesk-ai/frontdesk/persistence"
	"github.com/frontdesk-ai/frontdesk/persistence/sqlstore"
)

const (
	testShop       = "e2e-shop.myshopify.com"
	testShopSecret = "shopify-secret-for-tests"
)

type apiOrder struct {
	ID                string `json:"id"`
	Number            string `json:"number"`
	ExternalID        string `json:"external_id"`
	FinancialStatus   string `json:"financial_status"`
	FulfillmentStatus string `json:"fulfillment_status"`
	TotalMinor        int64  `json:"total_minor"`
	Currency          string `json:"currency"`
	Tracking          []struct {
		Number string `json:"number"`
		URL    string `json:"url"`
	} `json:"tracking"`
}

func (p *pilot) deliver(t *testing.T, secret, topic, eventID string, at time.Time, body []byte) int {
	t.Helper()
	resp, err := shopifytest.Deliver(context.Background(), "http://"+p.addr+"/webhooks/shopify", secret, topic, testShop, eventID, at, body)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func (p *pilot) ordersOf(t *testing.T, customerID string) []apiOrder {
	t.Helper()
	var out struct{ Orders []apiOrder }
	if code := p.api(t, "GET", "/api/v1/customers/"+customerID+"/orders", nil, &out); code != 200 {
		t.Fatalf("orders of %s: %d", customerID, code)
	}
	return out.Orders
}

// TestShopifyOrderReachesTheAgent: a Shopify order for a phone number, then
// the same person on WhatsApp asking about it: one customer, the model is
// offered the order tools and its call returns that order, the reply
// reaches the Graph API. Forged, duplicate and older deliveries change
// nothing; another customer naming the order number is told it is not
// found.
func TestShopifyOrderReachesTheAgent(t *testing.T) {
	p := startPilot(t, "FRONTDESK_SHOPIFY_SHOP="+testShop, "FRONTDESK_SHOPIFY_WEBHOOK_SECRET="+testShopSecret)
	const waID, other = "15550002222", "15550003333"
	placed := time.Date(2026, 12, 1, 10, 30, 0, 0, time.FixedZone("EST", -5*3600))
	order := shopifytest.OrderSpec{ID: 450789469, Name: "#1001", Email: "grace@example.com", Phone: "+1 555-000-2222",
		Customer:        &shopifytest.CustomerSpec{ID: 207119551, Email: "grace@example.com", Phone: "+15550002222", FirstName: "Grace", LastName: "Hopper"},
		FinancialStatus: "paid", TotalPrice: "49.98", Currency: "USD",
		LineItems: []shopifytest.LineItemSpec{{ID: 1, Title: "Blue mug", Quantity: 2, Price: "24.99"}},
		Tracking:  []shopifytest.TrackingSpec{{Company: "UPS", Numbers: []string{"1Z999"}, URLs: []string{"https://ups.example/1Z999"}}},
		CreatedAt: placed, UpdatedAt: placed.Add(time.Minute)}
	body := shopifytest.OrderPayload(order)

	if code := p.deliver(t, "wrong-secret", "orders/create", "ev-forged", placed, body); code != 401 {
		t.Fatalf("forged delivery: %d, want 401", code)
	}
	if code := p.deliver(t, testShopSecret, "orders/create", "ev-bad", placed, []byte(`{"id":`)); code != 400 {
		t.Fatalf("malformed delivery: %d, want 400", code)
	}
	if code := p.deliver(t, testShopSecret, "orders/create", "ev-1", placed, body); code != 200 {
		t.Fatalf("orders/create: %d, want 200", code)
	}
	// A duplicate delivery (same event id and topic), and an older update
	// with another status.
	if code := p.deliver(t, testShopSecret, "orders/create", "ev-1", placed, body); code != 200 {
		t.Fatalf("duplicate: %d, want 200", code)
	}
	older := order
	older.FinancialStatus, older.UpdatedAt = "pending", placed
	if code := p.deliver(t, testShopSecret, "orders/updated", "ev-0", placed, shopifytest.OrderPayload(older)); code != 200 {
		t.Fatalf("older orders/updated: %d, want 200", code)
	}

	// Grace writes on WhatsApp: the model sees the order tools and lists
	// her orders.
	p.llm.Script(
		llmtest.Func(func(r llmtest.Request) llmtest.Step {
			names := strings.Join(r.Body.ToolNames(), ",")
			if !strings.Contains(names, "list_customer_orders") || !strings.Contains(names, "get_order") {
				return llmtest.Text("order tools missing: " + names)
			}
			return llmtest.ToolCalls(llmtest.Call{Name: "list_customer_orders", Arguments: "{}"})
		}),
		llmtest.Func(func(r llmtest.Request) llmtest.Step {
			last := r.Body.Last()
			if last.Role != "tool" || !strings.Contains(last.Text(), "#1001") || !strings.Contains(last.Text(), "1Z999") {
				return llmtest.Text("the order did not come back: " + last.Text())
			}
			return llmtest.Text("Your order #1001 (2 × Blue mug, 49.98 USD) is paid; tracking 1Z999.")
		}),
	)
	var conv apiConversation
	waitUntil(t, "order #1001 applied", func() bool {
		var list struct {
			Customers []struct {
				ID string `json:"id"`
			} `json:"customers"`
		}
		p.api(t, "GET", "/api/v1/customers?query=grace", nil, &list)
		return len(list.Customers) == 1 && len(p.ordersOf(t, list.Customers[0].ID)) == 1
	})
	if code := p.webhook(t, whatsapptest.TextWebhook(pilotPNID, waID, "Grace", "wamid.order.1", "where is my order?", time.Now()), pilotSecret); code != 200 {
		t.Fatalf("whatsapp webhook: %d", code)
	}
	want := "Your order #1001 (2 × Blue mug, 49.98 USD) is paid; tracking 1Z999."
	waitUntil(t, "the reply at the Graph API", func() bool { return p.textRequests(want) == 1 })
	var ok bool
	if conv, ok = p.conversationOf(t, waID); !ok {
		t.Fatal("no conversation for Grace")
	}
	orders := p.ordersOf(t, conv.Customer.ID)
	if len(orders) != 1 {
		t.Fatalf("Grace's WhatsApp customer has %d orders, want the shop's one (linked by phone)", len(orders))
	}
	o := orders[0]
	if o.Number != "1001" || o.ExternalID != "450789469" || o.FinancialStatus != "paid" || o.FulfillmentStatus != "unfulfilled" ||
		o.TotalMinor != 4998 || o.Currency != "USD" || len(o.Tracking) != 1 || o.Tracking[0].Number != "1Z999" {
		t.Fatalf("order as applied (the older update must change nothing): %+v", o)
	}
	var one apiOrder
	if code := p.api(t, "GET", "/api/v1/orders/"+o.ID, nil, &one); code != 200 || one.Number != "1001" {
		t.Fatalf("GET /api/v1/orders/%s: %d %+v", o.ID, code, one)
	}

	// Someone else names Grace's order number: not found, and none of its
	// data reaches the model.
	p.llm.Script(
		llmtest.ToolCalls(llmtest.Call{Name: "get_order", Arguments: `{"order_number":"#1001"}`}),
		llmtest.Func(func(r llmtest.Request) llmtest.Step {
			last := r.Body.Last()
			if last.Role != "tool" || !strings.Contains(last.Text(), `"found":false`) || strings.Contains(last.Text(), "Blue mug") {
				return llmtest.Text("another customer's order leaked: " + last.Text())
			}
			return llmtest.Text("I could not find order #1001 for you.")
		}),
	)
	if code := p.webhook(t, whatsapptest.TextWebhook(pilotPNID, other, "Mallory", "wamid.order.2", "status of order #1001?", time.Now()), pilotSecret); code != 200 {
		t.Fatalf("whatsapp webhook: %d", code)
	}
	waitUntil(t, "the not-found reply", func() bool { return p.textRequests("I could not find order #1001 for you.") == 1 })

	// The shop's settings page data: one event applied per distinct
	// delivery, the forged one counted as a failure.
	var shops struct {
		Shops []struct {
			Domain         string `json:"domain"`
			LastEventTopic string `json:"last_event_topic"`
			EventsTotal    int    `json:"events_total"`
			FailuresTotal  int    `json:"failures_total"`
		} `json:"shops"`
	}
	if code := p.api(t, "GET", "/api/v1/commerce/shops", nil, &shops); code != 200 || len(shops.Shops) != 1 {
		t.Fatalf("shops: %d %+v", code, shops)
	}
	if s := shops.Shops[0]; s.Domain != testShop || s.EventsTotal != 2 || s.FailuresTotal < 1 {
		t.Fatalf("shop: %+v (want 2 events: create and the stale update; the forged one a failure)", s)
	}
}

// TestCommerceBackfill runs `frontdesk commerce backfill` against a fake
// Shopify Admin API that throttles once: it imports every order and
// customer page by page, printing its progress, and a second run changes
// nothing.
func TestCommerceBackfill(t *testing.T) {
	admin := shopifytest.NewAdmin(t, "shpat_test")
	base := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	for i := range 60 {
		id := int64(5000 + i)
		at := base.Add(time.Duration(i) * time.Hour)
		admin.AddOrder(shopifytest.OrderSpec{ID: id, Name: fmt.Sprintf("#%d", 1000+i), Email: fmt.Sprintf("buyer%d@example.com", i%7),
			Customer:        &shopifytest.CustomerSpec{ID: int64(900 + i%7), Email: fmt.Sprintf("buyer%d@example.com", i%7), FirstName: "Buyer", LastName: fmt.Sprint(i % 7), UpdatedAt: at},
			FinancialStatus: "paid", TotalPrice: "12.50", Currency: "EUR", CreatedAt: at, UpdatedAt: at})
	}
	admin.ThrottleNext(1)
	dir := t.TempDir()
	env := append(os.Environ(), "FRONTDESK_DATA_DIR="+dir, "FRONTDESK_LOG_FORMAT=json",
		"FRONTDESK_SHOPIFY_SHOP="+testShop, "FRONTDESK_SHOPIFY_ADMIN_TOKEN=shpat_test", "FRONTDESK_SHOPIFY_API_URL="+admin.URL())
	run := func() string {
		t.Helper()
		cmd := exec.Command(binary, "commerce", "backfill", "-since", "2026-10-01T00:00:00Z")
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("backfill: %v\n%s", err, out)
		}
		return string(out)
	}
	out := run()
	if !strings.Contains(out, "page 2:") || !strings.Contains(out, "done: 60 orders (0 unchanged)") {
		t.Fatalf("progress output:\n%s", out)
	}
	if out := run(); !strings.Contains(out, "done: 60 orders (60 unchanged)") {
		t.Fatalf("second run:\n%s", out)
	}
	store, err := sqlstore.Open(context.Background(), sqlstore.Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	tenant, err := ensureDefaultTenant(context.Background(), store)
	if err != nil {
		t.Fatal(err)
	}
	orders, _, err := store.ListOrders(context.Background(), tenant.ID, persistence.Page{Limit: 500})
	if err != nil || len(orders) != 60 {
		t.Fatalf("orders stored: %d, %v", len(orders), err)
	}
	custs, _, err := store.ListCustomers(context.Background(), tenant.ID, persistence.Page{Limit: 500})
	if err != nil || len(custs) != 7 {
		t.Fatalf("customers stored: %d, %v (one per shop customer)", len(custs), err)
	}
	for _, o := range orders {
		if o.TotalMinor != 1250 || o.Currency != "EUR" || o.FinancialStatus != "paid" {
			t.Fatalf("order %+v", o)
		}
	}
}

// refundPilot is a pilot with a Shopify shop whose API refunds (the fake
// admin), order #1002 (30.00 USD) of Ada Byron (+15550004444), the default
// agent allowed refund_order under policy, and Ada having asked for a
// refund: it returns the runtime's question with its buttons.
func refundPilot(t *testing.T, policy string) (*pilot, *shopifytest.Admin, whatsapptest.Sent) {
	t.Helper()
	admin := shopifytest.NewAdmin(t, "shpat_refunds")
	p := startPilot(t, "FRONTDESK_SHOPIFY_SHOP="+testShop, "FRONTDESK_SHOPIFY_WEBHOOK_SECRET="+testShopSecret,
		"FRONTDESK_SHOPIFY_ADMIN_TOKEN=shpat_refunds", "FRONTDESK_SHOPIFY_API_URL="+admin.URL())
	placed := time.Now().Add(-48 * time.Hour).UTC().Truncate(time.Second)
	order := shopifytest.OrderSpec{ID: 820982911, Name: "#1002", Phone: "+15550004444",
		Customer:        &shopifytest.CustomerSpec{ID: 115310627, Phone: "+15550004444", FirstName: "Ada", LastName: "Byron"},
		FinancialStatus: "paid", TotalPrice: "30.00", Currency: "USD",
		LineItems: []shopifytest.LineItemSpec{{ID: 11, Title: "Teapot", Quantity: 1, Price: "30.00"}},
		CreatedAt: placed, UpdatedAt: placed}
	admin.AddOrder(order)
	if code := p.deliver(t, testShopSecret, "orders/create", "ev-r1", placed, shopifytest.OrderPayload(order)); code != 200 {
		t.Fatalf("orders/create: %d", code)
	}
	p.enableTool(t, "refund_order", policy)
	p.llm.Script(
		llmtest.ToolCalls(llmtest.Call{Name: "refund_order", Arguments: `{"order_number":"#1002","reason":"teapot arrived cracked"}`}),
		llmtest.Func(func(r llmtest.Request) llmtest.Step {
			if last := r.Body.Last(); last.Role != "tool" || !strings.Contains(last.Text(), "awaiting_customer_confirmation") {
				return llmtest.Text("no proposal: " + last.Text())
			}
			return llmtest.Text("I have asked you to confirm the refund with the buttons.")
		}),
	)
	waitUntil(t, "order #1002 applied", func() bool {
		id := p.customerID(t, "byron")
		return id != "" && len(p.ordersOf(t, id)) == 1
	})
	if code := p.webhook(t, whatsapptest.TextWebhook(pilotPNID, refundWAID, "Ada", "wamid.refund.1", "my teapot is cracked, refund please", time.Now()), pilotSecret); code != 200 {
		t.Fatalf("whatsapp webhook: %d", code)
	}
	question := p.question(t, refundWAID)
	if !strings.Contains(question.Text, "30.00 USD") || !strings.Contains(question.Text, "#1002") || question.Buttons[0].Title != "Yes" {
		t.Fatalf("question %+v", question)
	}
	if n := len(admin.Refunds()); n != 0 {
		t.Fatalf("refunded %d times before the customer's yes", n)
	}
	return p, admin, question
}

const refundWAID = "15550004444"

// enableTool gives the default agent profile tool, and policy (JSON) as its
// money policy.
func (p *pilot) enableTool(t *testing.T, tool, policy string) {
	t.Helper()
	var agents struct {
		Agents []struct {
			ID      string   `json:"id"`
			Version int64    `json:"version"`
			Tools   []string `json:"tools"`
		} `json:"agents"`
	}
	if code := p.api(t, "GET", "/api/v1/agents", nil, &agents); code != 200 || len(agents.Agents) == 0 {
		t.Fatalf("agents: %d", code)
	}
	a := agents.Agents[0]
	change := map[string]any{"version": a.Version, "tools": append(a.Tools, tool), "policy": json.RawMessage(policy)}
	if code := p.api(t, "PATCH", "/api/v1/agents/"+a.ID, change, nil); code != 200 {
		t.Fatalf("enable %s with policy %s: %d", tool, policy, code)
	}
}

// question waits for the runtime's question with Yes / No buttons to waID.
func (p *pilot) question(t *testing.T, waID string) whatsapptest.Sent {
	t.Helper()
	var question whatsapptest.Sent
	waitUntil(t, "the runtime's question with buttons", func() bool {
		for _, s := range p.sentTo(waID) {
			if len(s.Buttons) == 2 {
				question = s
				return true
			}
		}
		return false
	})
	return question
}

// customerID is the one customer query finds, or "".
func (p *pilot) customerID(t *testing.T, query string) string {
	t.Helper()
	var list struct {
		Customers []struct {
			ID string `json:"id"`
		} `json:"customers"`
	}
	p.api(t, "GET", "/api/v1/customers?query="+query, nil, &list)
	if len(list.Customers) != 1 {
		return ""
	}
	return list.Customers[0].ID
}

// tap posts the customer's tap on button of question.
func (p *pilot) tap(t *testing.T, wamid string, question whatsapptest.Sent, button int) {
	t.Helper()
	b := question.Buttons[button]
	if code := p.webhook(t, whatsapptest.ButtonReplyWebhook(pilotPNID, refundWAID, "Ada", wamid, question.WAMID, b.ID, b.Title, time.Now()), pilotSecret); code != 200 {
		t.Fatalf("tap %s: %d", wamid, code)
	}
}

// told waits for a message to the customer starting with or containing
// text.
func (p *pilot) told(t *testing.T, text string) {
	t.Helper()
	waitUntil(t, "the customer told "+text, func() bool {
		for _, s := range p.sentTo(refundWAID) {
			if strings.Contains(s.Text, text) {
				return true
			}
		}
		return false
	})
}

// refundedOnTheOrder waits for the order to show minor refunded.
func (p *pilot) refundedOnTheOrder(t *testing.T, minor int64) {
	t.Helper()
	id := p.customerID(t, "byron")
	waitUntil(t, "the refund on the order", func() bool {
		var out struct {
			Orders []struct {
				RefundedMinor int64 `json:"refunded_minor"`
			} `json:"orders"`
		}
		p.api(t, "GET", "/api/v1/customers/"+id+"/orders", nil, &out)
		return len(out.Orders) == 1 && out.Orders[0].RefundedMinor == minor
	})
}

// TestRefundWithTheCustomersYes: through the real binary, a refund the
// model proposes is asked by the runtime with WhatsApp buttons, executed at
// the shop once on the customer's tap (a second tap changes nothing), and
// the outcome reaches the customer.
func TestRefundWithTheCustomersYes(t *testing.T) {
	p, admin, question := refundPilot(t, `{}`)
	p.tap(t, "wamid.refund.yes1", question, 0)
	p.tap(t, "wamid.refund.yes2", question, 0)
	p.told(t, "Done:")
	p.told(t, "no longer valid")
	if n := len(admin.Refunds()); n != 1 {
		t.Fatalf("refundCreate reached the shop %d times, want 1", n)
	}
	p.refundedOnTheOrder(t, 3000)
	_, metrics := p.get("/metrics")
	for _, want := range []string{
		`frontdesk_confirmations_total{action="refund_order",step="executed"} 1`,
		`frontdesk_confirmations_total{action="refund_order",step="pending"} 1`,
		`frontdesk_confirmation_executed_minor_total{action="refund_order",currency="USD"} 3000`,
		`frontdesk_confirmation_answer_seconds_count{action="refund_order"} 1`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

// TestRefundAboveTheLimitIsApprovedBySupervisor: above the agent's limit
// the customer's yes waits in the approval queue; an agent may not decide;
// the admin's approval refunds once and the customer is told.
func TestRefundAboveTheLimitIsApprovedBySupervisor(t *testing.T) {
	p, admin, question := refundPilot(t, `{"auto_limit_minor":{"USD":2000}}`)
	p.tap(t, "wamid.refund.yes1", question, 0)
	p.told(t, "review")
	type approval struct {
		ID             string `json:"id"`
		State          string `json:"state"`
		ApprovalReason string `json:"approval_reason"`
		CustomerName   string `json:"customer_name"`
		Timeline       []struct {
			Action string `json:"action"`
		} `json:"timeline"`
	}
	var queue struct{ Approvals []approval }
	if code := p.api(t, "GET", "/api/v1/approvals", nil, &queue); code != 200 || len(queue.Approvals) != 1 {
		t.Fatalf("approvals: %d %+v", code, queue)
	}
	a := queue.Approvals[0]
	if a.State != "awaiting_approval" || a.ApprovalReason != "above the 20.00 USD limit" || len(a.Timeline) < 2 {
		t.Fatalf("approval %+v", a)
	}
	if n := len(admin.Refunds()); n != 0 {
		t.Fatal("refunded before approval")
	}
	// An agent may not decide.
	if code := p.api(t, "POST", "/api/v1/users", map[string]string{"email": "al@example.com", "name": "Al", "password": "al-password-1234", "role": "agent"}, nil); code != 201 {
		t.Fatalf("create agent: %d", code)
	}
	admin2 := p.token
	var login struct{ Token string }
	p.token = ""
	p.api(t, "POST", "/api/v1/auth/login", map[string]string{"email": "al@example.com", "password": "al-password-1234"}, &login)
	p.token = login.Token
	if code := p.api(t, "POST", "/api/v1/approvals/"+a.ID+"/approve", map[string]string{}, nil); code != 403 {
		t.Fatalf("an agent approving: %d, want 403", code)
	}
	p.token = admin2
	var decided approval
	if code := p.api(t, "POST", "/api/v1/approvals/"+a.ID+"/approve", map[string]string{"note": "long-standing customer"}, &decided); code != 200 {
		t.Fatalf("approve: %d", code)
	}
	if code := p.api(t, "POST", "/api/v1/approvals/"+a.ID+"/approve", map[string]string{}, nil); code != 409 {
		t.Fatalf("a second approval: %d, want 409", code)
	}
	p.told(t, "Done:")
	if n := len(admin.Refunds()); n != 1 {
		t.Fatalf("refundCreate reached the shop %d times, want 1", n)
	}
	p.refundedOnTheOrder(t, 3000)
}

// TestRefundSurvivesACrashBetweenTheYesAndTheShopsAnswer: the shop refunds,
// the process is killed (SIGKILL) before it hears so, and after a restart
// the customer's grain finishes what was confirmed by finding the shop's
// refund, not by refunding again.
func TestRefundSurvivesACrashBetweenTheYesAndTheShopsAnswer(t *testing.T) {
	p, admin, question := refundPilot(t, `{}`)
	release := admin.HoldNextRefund()
	defer release()
	p.tap(t, "wamid.refund.yes1", question, 0)
	waitUntil(t, "the shop refunded", func() bool { return len(admin.Refunds()) == 1 })
	p.crashAndRestart(t)
	release()
	// Ada writes again: her grains activate and finish what was confirmed.
	p.llm.Script(llmtest.Text("You are welcome."))
	if code := p.webhook(t, whatsapptest.TextWebhook(pilotPNID, refundWAID, "Ada", "wamid.refund.2", "any news?", time.Now()), pilotSecret); code != 200 {
		t.Fatalf("whatsapp webhook: %d", code)
	}
	p.told(t, "Done:")
	if n, calls := len(admin.Refunds()), admin.Calls("refundCreate"); n != 1 || calls != 1 {
		t.Fatalf("after the crash: %d refunds, %d refundCreate calls; want 1 and 1", n, calls)
	}
	p.refundedOnTheOrder(t, 3000)
}
