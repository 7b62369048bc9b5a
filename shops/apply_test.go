package shops

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/frontdesk-ai/frontdesk/commerce"
	"github.com/frontdesk-ai/frontdesk/persistence"
	"github.com/frontdesk-ai/frontdesk/persistence/sqlstore"
	"github.com/frontdesk-ai/frontdesk/persistence/sqlstore/sqlstoretest"
)

const shop = "acme.myshopify.com"

type notices struct {
	mu  sync.Mutex
	got []string
}

func (n *notices) CustomerChanged(_ context.Context, _, customerID, part string) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.got = append(n.got, customerID+":"+part)
	return nil
}

func (n *notices) Relink(_ context.Context, _, conversationID string) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.got = append(n.got, "relink:"+conversationID)
	return nil
}

func (n *notices) has(s string) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, g := range n.got {
		if g == s {
			return true
		}
	}
	return false
}

type fixture struct {
	t      *testing.T
	store  *sqlstore.Store
	tenant string
	a      *Applier
	n      *notices
}

func newFixture(t *testing.T, dialect string) *fixture {
	ctx := context.Background()
	s := sqlstoretest.Open(t, dialect)
	tn := &persistence.Tenant{Name: "Acme", Slug: "acme"}
	if err := s.CreateTenant(ctx, tn); err != nil {
		t.Fatal(err)
	}
	if err := Connect(ctx, s, tn.ID, commerce.SourceShopify, shop); err != nil {
		t.Fatal(err)
	}
	n := &notices{}
	return &fixture{t: t, store: s, tenant: tn.ID, a: NewApplier(sqlstore.For[Tx](s), n), n: n}
}

func (f *fixture) apply(ev commerce.Event, topic string) Outcome {
	f.t.Helper()
	out, err := f.a.Apply(context.Background(), f.tenant, Meta{Source: commerce.SourceShopify, Shop: shop, Topic: topic, TriggeredAt: time.Now()}, ev)
	if err != nil {
		f.t.Fatalf("apply %s: %v", topic, err)
	}
	return out
}

// chatCustomer is a WhatsApp customer as the runtime creates one.
func (f *fixture) chatCustomer(phone, waID string) persistence.Customer {
	f.t.Helper()
	ctx := context.Background()
	c := persistence.Customer{Base: persistence.Base{TenantID: f.tenant}, Name: "Grace (WhatsApp)", Phone: phone}
	if err := f.store.CreateCustomer(ctx, &c); err != nil {
		f.t.Fatal(err)
	}
	id := persistence.CustomerIdentity{Base: persistence.Base{TenantID: f.tenant}, CustomerID: c.ID, Channel: "whatsapp", ExternalID: waID}
	if err := f.store.CreateCustomerIdentity(ctx, &id); err != nil {
		f.t.Fatal(err)
	}
	return c
}

func (f *fixture) orders(customerID string) []persistence.Order {
	f.t.Helper()
	os, _, err := f.store.ListCustomerOrders(context.Background(), f.tenant, customerID, persistence.Page{})
	if err != nil {
		f.t.Fatal(err)
	}
	return os
}

var t0 = time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)

func order(id, number string, updated time.Time, c *commerce.Customer) commerce.Event {
	return commerce.Event{Kind: commerce.KindOrder, Order: &commerce.Order{Source: commerce.SourceShopify, Shop: shop, ExternalID: id,
		Number: number, Customer: c, FinancialStatus: "paid", FulfillmentStatus: "unfulfilled", TotalMinor: 4998, Currency: "USD",
		LineItems: []commerce.LineItem{{Title: "Blue mug", Quantity: 2, PriceMinor: 2499}},
		Tracking:  []commerce.Tracking{{Number: "1Z999", URL: "https://ups.example/1Z999"}},
		CreatedAt: t0, UpdatedAt: updated, AdminURL: "https://" + shop + "/admin/orders/" + id}}
}

func grace(phone, email string) *commerce.Customer {
	return &commerce.Customer{Source: commerce.SourceShopify, Shop: shop, ExternalID: "207119551", Phone: phone, Email: email,
		FirstName: "Grace", LastName: "Hopper", UpdatedAt: t0}
}

func TestApplier(t *testing.T) {
	for _, d := range sqlstoretest.Dialects {
		t.Run(d, func(t *testing.T) {
			t.Run("an order joins the chat customer with its verified phone", func(t *testing.T) {
				f := newFixture(t, d)
				chat := f.chatCustomer("+15550002222", "15550002222")
				if out := f.apply(order("1", "1001", t0, grace("+1 555-000-2222", "Grace@Example.com")), "orders/create"); out != Applied {
					t.Fatalf("outcome %s", out)
				}
				os := f.orders(chat.ID)
				if len(os) != 1 || os[0].Number != "1001" || os[0].TotalMinor != 4998 || os[0].FinancialStatus != "paid" {
					t.Fatalf("chat customer's orders: %+v", os)
				}
				var tr []commerce.Tracking
				if err := json.Unmarshal(os[0].Tracking, &tr); err != nil || len(tr) != 1 || tr[0].Number != "1Z999" {
					t.Fatalf("tracking %s", os[0].Tracking)
				}
				ident, err := f.store.GetCustomerIdentity(context.Background(), f.tenant, commerce.SourceShopify, IdentityID(shop, "207119551"))
				if err != nil || ident.CustomerID != chat.ID {
					t.Fatalf("shop identity %+v, %v; want it on the chat customer", ident, err)
				}
				c, _ := f.store.GetCustomer(context.Background(), f.tenant, chat.ID)
				if c.Email != "grace@example.com" || c.Name != "Grace (WhatsApp)" {
					t.Fatalf("profile filled where empty only: %+v", c)
				}
				if !f.n.has(chat.ID + ":orders") {
					t.Fatalf("the customer grain was not told: %v", f.n.got)
				}
				if byNumber, err := f.store.GetCustomerOrderByNumber(context.Background(), f.tenant, chat.ID, "1001"); err != nil || byNumber.ExternalID != "1" {
					t.Fatalf("by number: %+v, %v", byNumber, err)
				}
			})

			t.Run("a name links nobody", func(t *testing.T) {
				f := newFixture(t, d)
				chat := f.chatCustomer("+15550009999", "15550009999")
				f.apply(order("2", "1002", t0, grace("+15550002222", "")), "orders/create")
				if os := f.orders(chat.ID); len(os) != 0 {
					t.Fatalf("linked by name: %+v", os)
				}
			})

			t.Run("stale and repeated updates change nothing", func(t *testing.T) {
				f := newFixture(t, d)
				chat := f.chatCustomer("+15550002222", "15550002222")
				f.apply(order("3", "1003", t0.Add(time.Hour), grace("+15550002222", "")), "orders/updated")
				older := order("3", "1003", t0, grace("+15550002222", ""))
				older.Order.FinancialStatus = "pending"
				if out := f.apply(older, "orders/updated"); out != Stale {
					t.Fatalf("older update: %s, want stale", out)
				}
				if out := f.apply(order("3", "1003", t0.Add(time.Hour), grace("+15550002222", "")), "orders/updated"); out != Stale {
					t.Fatalf("same update again: %s, want stale", out)
				}
				newer := order("3", "1003", t0.Add(2*time.Hour), grace("+15550002222", ""))
				newer.Order.FulfillmentStatus = "fulfilled"
				if out := f.apply(newer, "orders/fulfilled"); out != Applied {
					t.Fatalf("newer: %s", out)
				}
				if os := f.orders(chat.ID); len(os) != 1 || os[0].FinancialStatus != "paid" || os[0].FulfillmentStatus != "fulfilled" {
					t.Fatalf("orders: %+v", os)
				}
			})

			t.Run("a refund counts once", func(t *testing.T) {
				f := newFixture(t, d)
				chat := f.chatCustomer("+15550002222", "15550002222")
				f.apply(order("4", "1004", t0, grace("+15550002222", "")), "orders/create")
				r := commerce.Event{Kind: commerce.KindRefund, Refund: &commerce.Refund{Source: commerce.SourceShopify, Shop: shop,
					ExternalID: "r1", OrderExternalID: "4", AmountMinor: 999, Currency: "USD"}}
				if out := f.apply(r, "refunds/create"); out != Applied {
					t.Fatalf("refund: %s", out)
				}
				if out := f.apply(r, "refunds/create"); out != Stale {
					t.Fatalf("same refund again: %s", out)
				}
				if os := f.orders(chat.ID); os[0].RefundedMinor != 999 {
					t.Fatalf("refunded %d, want 999", os[0].RefundedMinor)
				}
				unknown := commerce.Event{Kind: commerce.KindRefund, Refund: &commerce.Refund{ExternalID: "r2", OrderExternalID: "nope", Source: commerce.SourceShopify}}
				if out := f.apply(unknown, "refunds/create"); out != Ignored {
					t.Fatalf("refund of an unknown order: %s", out)
				}
			})

			t.Run("a guest order makes a customer; unknown topics and uninstall are recorded", func(t *testing.T) {
				f := newFixture(t, d)
				ev := order("5", "1005", t0, nil)
				ev.Order.Email = "guest@example.com"
				f.apply(ev, "orders/create")
				cs, err := f.store.FindCustomersByContact(context.Background(), f.tenant, "", "guest@example.com")
				if err != nil || len(cs) != 1 || len(f.orders(cs[0].ID)) != 1 {
					t.Fatalf("guest: %+v, %v", cs, err)
				}
				if out := f.apply(commerce.Event{Kind: commerce.KindUnknown}, "products/update"); out != Ignored {
					t.Fatalf("unknown topic: %s", out)
				}
				f.apply(commerce.Event{Kind: commerce.KindUninstalled}, "app/uninstalled")
				s, err := f.store.GetShopByDomain(context.Background(), commerce.SourceShopify, shop)
				if err != nil || s.Status != persistence.ShopUninstalled || s.EventsTotal != 3 || s.LastEventTopic != "app/uninstalled" {
					t.Fatalf("shop %+v, %v", s, err)
				}
			})

			t.Run("two customers found to be one are merged, and an admin can undo it for good", func(t *testing.T) {
				f := newFixture(t, d)
				ctx := context.Background()
				// The shop customer first, with email only; then Grace on
				// WhatsApp; then the shop learns her phone.
				f.apply(order("6", "1006", t0, grace("", "grace@example.com")), "orders/create")
				time.Sleep(2 * time.Millisecond)
				chat := f.chatCustomer("+15550002222", "15550002222")
				conv := &persistence.Conversation{Base: persistence.Base{TenantID: f.tenant}, CustomerID: chat.ID, Channel: "whatsapp",
					ThreadKey: f.tenant + "/whatsapp/15550002222", Status: persistence.ConversationOpen}
				if err := f.store.CreateConversation(ctx, conv); err != nil {
					t.Fatal(err)
				}
				shopCust, err := f.store.FindCustomersByContact(ctx, f.tenant, "", "grace@example.com")
				if err != nil || len(shopCust) != 1 || shopCust[0].ID == chat.ID {
					t.Fatalf("shop customer %+v, %v", shopCust, err)
				}
				upd := commerce.Event{Kind: commerce.KindCustomer, Customer: grace("+15550002222", "grace@example.com")}
				f.apply(upd, "customers/update")
				ms, err := f.store.ListCustomerMerges(ctx, f.tenant, chat.ID)
				if err != nil || len(ms) != 1 {
					t.Fatalf("merges %+v, %v", ms, err)
				}
				m := ms[0]
				if m.KeptCustomerID != shopCust[0].ID || m.MergedCustomerID != chat.ID || m.Reason != "phone" {
					t.Fatalf("merge %+v: the older customer is kept", m)
				}
				ident, _ := f.store.GetCustomerIdentity(ctx, f.tenant, "whatsapp", "15550002222")
				if ident.CustomerID != m.KeptCustomerID {
					t.Fatalf("the WhatsApp identity did not move: %+v", ident)
				}
				if c, _ := f.store.GetConversation(ctx, f.tenant, conv.ID); c.CustomerID != m.KeptCustomerID || c.Version != conv.Version+1 {
					t.Fatalf("the conversation did not move (with a new version): %+v", c)
				}
				if !f.n.has(m.KeptCustomerID+":orders") || !f.n.has(chat.ID+":profile") || !f.n.has("relink:"+conv.ID) {
					t.Fatalf("grains not told: %v", f.n.got)
				}
				if _, err := f.a.Unmerge(ctx, f.tenant, m.ID, "admin-1"); err != nil {
					t.Fatal(err)
				}
				ident, _ = f.store.GetCustomerIdentity(ctx, f.tenant, "whatsapp", "15550002222")
				if ident.CustomerID != chat.ID {
					t.Fatalf("undo did not move the identity back: %+v", ident)
				}
				if _, err := f.a.Unmerge(ctx, f.tenant, m.ID, "admin-1"); !errors.Is(err, persistence.ErrInvalid) {
					t.Fatalf("second undo: %v", err)
				}
				// The next event with the same phone does not merge them again.
				upd.Customer.UpdatedAt = t0.Add(time.Hour)
				f.apply(upd, "customers/update")
				if ms, _ := f.store.ListCustomerMerges(ctx, f.tenant, chat.ID); len(ms) != 1 {
					t.Fatalf("merged again after undo: %+v", ms)
				}
				audits, _, err := f.store.ListAuditEvents(ctx, f.tenant, persistence.Page{Limit: 100})
				if err != nil {
					t.Fatal(err)
				}
				seen := map[string]bool{}
				for _, a := range audits {
					seen[a.Action] = true
				}
				if !seen[ActionMerged] || !seen[ActionUnmerged] {
					t.Fatalf("audit: %v", seen)
				}
			})
		})
	}
}
