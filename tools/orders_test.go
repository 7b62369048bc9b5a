package tools_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/frontdesk-ai/frontdesk/persistence"
	"github.com/frontdesk-ai/frontdesk/persistence/sqlstore/sqlstoretest"
	"github.com/frontdesk-ai/frontdesk/tools"
)

// fetcher stands in for the shops: it imports order number for customer
// when asked.
type fetcher struct {
	f        fixture
	t        *testing.T
	customer string
	asked    []string
}

func (x *fetcher) FetchOrder(ctx context.Context, tenantID, number string) error {
	x.asked = append(x.asked, number)
	x.f.order(x.t, x.customer, "77"+number, number, "paid", time.Now())
	return nil
}

func (f fixture) order(t *testing.T, customerID, externalID, number, financial string, placed time.Time) {
	t.Helper()
	o := &persistence.Order{Base: persistence.Base{TenantID: f.scope.TenantID, CreatedAt: placed}, CustomerID: customerID, Source: "shopify",
		ExternalID: externalID, Number: number, Status: "open", FinancialStatus: financial, FulfillmentStatus: "unfulfilled",
		TotalMinor: 4998, Currency: "USD", PlacedAt: &placed,
		Items:    json.RawMessage(`[{"title":"Blue mug","quantity":2,"price_minor":2499}]`),
		Tracking: json.RawMessage(`[{"number":"1Z999","url":"https://ups.example/1Z999"}]`)}
	if err := f.store.CreateOrder(context.Background(), o); err != nil {
		t.Fatal(err)
	}
}

func (f fixture) otherCustomer(t *testing.T) string {
	t.Helper()
	c := &persistence.Customer{Base: persistence.Base{TenantID: f.scope.TenantID}, Name: "Mallory"}
	if err := f.store.CreateCustomer(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	return c.ID
}

var orderTools = []string{tools.ListCustomerOrders, tools.GetOrder}

func TestOrderTools(t *testing.T) {
	for _, d := range sqlstoretest.Dialects {
		t.Run(d, func(t *testing.T) {
			ctx := context.Background()
			run := func(f fixture, name, args string) map[string]any {
				t.Helper()
				res := f.reg.Execute(ctx, f.scope, orderTools, tools.Call{ID: "c", Name: name, Arguments: json.RawMessage(args)}, 0)
				if !res.Executed || res.Error != "" {
					t.Fatalf("%s(%s) = %+v", name, args, res)
				}
				var out map[string]any
				if err := json.Unmarshal(res.Output, &out); err != nil {
					t.Fatal(err)
				}
				return out
			}
			t.Run("list: newest first, status filter, limit, never another customer's", func(t *testing.T) {
				f := setup(t, d)
				now := time.Now().UTC().Truncate(time.Second)
				f.order(t, f.scope.CustomerID, "1", "1001", "paid", now.Add(-48*time.Hour))
				f.order(t, f.scope.CustomerID, "2", "1002", "refunded", now.Add(-24*time.Hour))
				f.order(t, f.otherCustomer(t), "3", "1003", "paid", now)
				out := run(f, tools.ListCustomerOrders, `{}`)
				b, _ := json.Marshal(out["orders"])
				if out["count"] != float64(2) || !strings.Contains(string(b), `"order_number":"#1002"`) || strings.Contains(string(b), "#1003") ||
					strings.Index(string(b), "#1002") > strings.Index(string(b), "#1001") || !strings.Contains(string(b), "2 × Blue mug (24.99 USD)") ||
					!strings.Contains(string(b), `"total":"49.98 USD"`) || !strings.Contains(string(b), "1Z999") {
					t.Fatalf("orders = %s", b)
				}
				if out := run(f, tools.ListCustomerOrders, `{"status":"refunded"}`); out["count"] != float64(1) {
					t.Fatalf("refunded = %v", out)
				}
				if out := run(f, tools.ListCustomerOrders, `{"limit":1}`); out["count"] != float64(1) {
					t.Fatalf("limit 1 = %v", out)
				}
				res := f.reg.Execute(ctx, f.scope, orderTools, tools.Call{ID: "c", Name: tools.ListCustomerOrders, Arguments: json.RawMessage(`{"limit":100}`)}, 0)
				if res.Executed || !strings.Contains(res.Error, "schema") {
					t.Fatalf("limit 100 = %+v, want a schema error", res)
				}
			})
			t.Run("get: by number with or without #; another customer's is not found", func(t *testing.T) {
				f := setup(t, d)
				f.order(t, f.scope.CustomerID, "1", "1001", "paid", time.Now())
				f.order(t, f.otherCustomer(t), "3", "1003", "paid", time.Now())
				for _, n := range []string{`"#1001"`, `"1001"`, `" # 1001 "`} {
					if out := run(f, tools.GetOrder, `{"order_number":`+n+`}`); out["found"] != true {
						t.Fatalf("get %s = %v", n, out)
					}
				}
				out := run(f, tools.GetOrder, `{"order_number":"#1003"}`)
				if b, _ := json.Marshal(out); out["found"] != false || strings.Contains(string(b), "Blue mug") {
					t.Fatalf("another customer's order = %s", b)
				}
			})
			t.Run("get: an order the store does not have yet is fetched from the shop", func(t *testing.T) {
				f := setup(t, d)
				x := &fetcher{f: f, t: t, customer: f.scope.CustomerID}
				f.reg.SetOrderFetcher(x)
				if out := run(f, tools.GetOrder, `{"order_number":"#2001"}`); out["found"] != true {
					t.Fatalf("fetched order = %v", out)
				}
				if out := run(f, tools.GetOrder, `{"order_number":"#2001"}`); out["found"] != true || len(x.asked) != 1 {
					t.Fatalf("second lookup = %v, shop asked %v times (want once: the store has it now)", out, x.asked)
				}
			})
		})
	}
}
