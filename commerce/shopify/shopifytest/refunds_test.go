package shopifytest_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/frontdesk-ai/frontdesk/commerce/shopify/shopifytest"
)

const refundOrderQuery = `query RefundOrder($id: ID!, $refundLineItems: [RefundLineItemInput!]) {
  order(id: $id) {
    id currencyCode presentmentCurrencyCode
    refunds(first: 50) { id legacyResourceId note totalRefundedSet { presentmentMoney { amount currencyCode } } }
    transactions(first: 50) { id kind status gateway amountSet { presentmentMoney { amount currencyCode } } parentTransaction { id } }
    suggestedRefund(refundLineItems: $refundLineItems) {
      amountSet { presentmentMoney { amount } }
      maximumRefundableSet { presentmentMoney { amount } }
      suggestedTransactions { gateway amountSet { presentmentMoney { amount } } parentTransaction { id } }
    }
  }
}`

const idempotentRefundCreate = `mutation refundCreate($input: RefundInput!, $key: String!) {
  refundCreate(input: $input) @idempotent(key: $key) { refund { id } userErrors { field message } }
}`

// postTo sends a GraphQL request to the Admin API at base.
func postTo(t *testing.T, base, token, query string, vars map[string]any) (int, map[string]any) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, _ := http.NewRequest(http.MethodPost, base+"/graphql.json", bytes.NewReader(body))
	req.Header.Set("X-Shopify-Access-Token", token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, out
}

// at walks m by keys and list indexes.
func at(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, _ := v.(map[string]any)
			v = m[k]
		case int:
			l, _ := v.([]any)
			if k >= len(l) {
				return nil
			}
			v = l[k]
		}
	}
	return v
}

// twoPayments is a $50 order paid $30 by card and $20 by gift card, $5 of
// the card refunded already.
func twoPayments() shopifytest.OrderSpec {
	return shopifytest.OrderSpec{
		ID: 7, Name: "#1007", TotalPrice: "50.00", Currency: "USD", FinancialStatus: "partially_refunded",
		LineItems: []shopifytest.LineItemSpec{{ID: 11, Title: "Mug", Quantity: 2, Price: "20.00"}, {ID: 12, Title: "Card", Quantity: 1, Price: "10.00"}},
		Payments:  []shopifytest.PaymentSpec{{ID: 101, Amount: "30.00", Gateway: "shopify_payments"}, {ID: 102, Amount: "20.00", Gateway: "gift_card"}},
		Refunds:   []shopifytest.RefundSpec{{ID: 5, Note: "late", Transactions: []shopifytest.TransactionSpec{{ID: 55, Amount: "5.00", ParentID: 101}}}},
		UpdatedAt: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC),
	}
}

func refundInput(txs []any, lines []any) map[string]any {
	in := map[string]any{"orderId": "gid://shopify/Order/7", "notify": true, "note": "n [frontdesk confirmation k]", "transactions": txs}
	if lines != nil {
		in["refundLineItems"] = lines
	}
	return map[string]any{"input": in}
}

func tx(parent, amount, gateway string) map[string]any {
	return map[string]any{"orderId": "gid://shopify/Order/7", "parentId": "gid://shopify/OrderTransaction/" + parent, "amount": amount, "gateway": gateway, "kind": "REFUND"}
}

func TestRefundOrderAnswersTheSuggestion(t *testing.T) {
	admin := shopifytest.NewAdmin(t, "tok")
	admin.AddOrder(twoPayments())
	vars := map[string]any{"id": "gid://shopify/Order/7", "refundLineItems": []any{map[string]any{"lineItemId": "gid://shopify/LineItem/11", "quantity": 1, "restockType": "NO_RESTOCK"}}}
	_, out := postTo(t, admin.URL(), "tok", refundOrderQuery, vars)
	o := at(out, "data", "order")
	s := at(o, "suggestedRefund")
	if at(s, "amountSet", "presentmentMoney", "amount") != "20.0" || at(s, "maximumRefundableSet", "presentmentMoney", "amount") != "45.0" {
		t.Fatalf("suggestion %v", s)
	}
	if st := at(s, "suggestedTransactions").([]any); len(st) != 1 || at(st, 0, "parentTransaction", "id") != "gid://shopify/OrderTransaction/101" || at(st, 0, "gateway") != "shopify_payments" {
		t.Fatalf("suggested transactions %v", st)
	}
	if at(o, "refunds", 0, "note") != "late" || at(o, "refunds", 0, "totalRefundedSet", "presentmentMoney", "amount") != "5.0" {
		t.Errorf("refunds %v", at(o, "refunds"))
	}
	txs := at(o, "transactions").([]any)
	if len(txs) != 3 || at(txs, 0, "kind") != "SALE" || at(txs, 2, "kind") != "REFUND" || at(txs, 2, "parentTransaction", "id") != "gid://shopify/OrderTransaction/101" {
		t.Errorf("transactions %v", txs)
	}
	if admin.Calls("refundOrder") != 1 {
		t.Errorf("%d refundOrder calls", admin.Calls("refundOrder"))
	}

	unbounded := `query { order(id: $id) { refunds { id } transactions { id } suggestedRefund(refundLineItems: null) { amountSet { shopMoney { amount } } } } }`
	if _, out := postTo(t, admin.URL(), "tok", unbounded, vars); at(out, "errors", 0, "extensions", "code") != "MAX_COST_EXCEEDED" {
		t.Errorf("unbounded lists were answered: %v", out)
	}
}

func TestRefundCreateRefusesLikeShopify(t *testing.T) {
	for name, c := range map[string]struct {
		txs, lines []any
		field      []any
	}{
		"more than is left of the payment": {txs: []any{tx("101", "25.01", "shopify_payments")}, field: []any{"transactions", "0", "amount"}},
		"two refunds of one payment":       {txs: []any{tx("101", "20.00", "shopify_payments"), tx("101", "5.01", "shopify_payments")}, field: []any{"transactions", "1", "amount"}},
		"an unknown parent":                {txs: []any{tx("999", "1.00", "shopify_payments")}, field: []any{"transactions", "0", "parentId"}},
		"another gateway":                  {txs: []any{tx("102", "1.00", "bogus")}, field: []any{"transactions", "0", "gateway"}},
		"more items than were bought": {txs: []any{tx("101", "1.00", "shopify_payments")},
			lines: []any{map[string]any{"lineItemId": "gid://shopify/LineItem/12", "quantity": 2, "restockType": "NO_RESTOCK"}}, field: []any{"refundLineItems", "0", "quantity"}},
	} {
		t.Run(name, func(t *testing.T) {
			admin := shopifytest.NewAdmin(t, "tok")
			admin.AddOrder(twoPayments())
			_, out := postTo(t, admin.URL(), "tok", refundCreate, refundInput(c.txs, c.lines))
			rc := at(out, "data", "refundCreate")
			errs, _ := at(rc, "userErrors").([]any)
			if len(errs) != 1 || at(rc, "refund") != nil {
				t.Fatalf("answered %v", rc)
			}
			if got, _ := json.Marshal(at(errs, 0, "field")); string(got) != mustJSON(c.field) {
				t.Errorf("field %s, want %s", got, mustJSON(c.field))
			}
			if o, _ := admin.Order(7); len(o.Refunds) != 1 || len(admin.Refunds()) != 0 {
				t.Errorf("a refused refund changed the order: %+v", o.Refunds)
			}
		})
	}

	admin := shopifytest.NewAdmin(t, "tok")
	admin.AddOrder(twoPayments())
	lines := []any{map[string]any{"lineItemId": "gid://shopify/LineItem/11", "quantity": 2, "restockType": "NO_RESTOCK"}}
	_, out := postTo(t, admin.URL(), "tok", refundCreate, refundInput([]any{tx("101", "25.00", "shopify_payments"), tx("102", "20.00", "gift_card")}, lines))
	if errs := at(out, "data", "refundCreate", "userErrors").([]any); len(errs) != 0 {
		t.Fatalf("userErrors %v", errs)
	}
	o, _ := admin.Order(7)
	if o.FinancialStatus != "refunded" || len(o.Refunds) != 2 || o.Refunds[1].Note != "n [frontdesk confirmation k]" || len(o.Refunds[1].LineItems) != 1 {
		t.Fatalf("order after the refund of the rest: %+v", o)
	}
	_, out = postTo(t, admin.URL(), "tok", refundOrderQuery, map[string]any{"id": "gid://shopify/Order/7"})
	if m := at(out, "data", "order", "suggestedRefund", "maximumRefundableSet", "presentmentMoney", "amount"); m != "0.0" {
		t.Errorf("still refundable after everything: %v", m)
	}
	if at(out, "data", "order", "refunds", 1, "note") != "n [frontdesk confirmation k]" {
		t.Errorf("the read does not find the new refund's note: %v", at(out, "data", "order", "refunds"))
	}
}

func TestIdempotentDirective(t *testing.T) {
	admin := shopifytest.NewAdmin(t, "tok")
	admin.AddOrder(twoPayments())
	vars := refundInput([]any{tx("101", "1.00", "shopify_payments")}, nil)
	vars["key"] = "k-1"

	if _, out := postTo(t, admin.URL(), "tok", idempotentRefundCreate, vars); out["errors"] == nil {
		t.Errorf("2025-01 took @idempotent: %v", out)
	}
	if _, out := postTo(t, admin.URLVersion("2026-04"), "tok", refundCreate, vars); out["errors"] == nil {
		t.Errorf("2026-04 took refundCreate without @idempotent: %v", out)
	}
	_, first := postTo(t, admin.URLVersion("2026-01"), "tok", idempotentRefundCreate, vars)
	_, again := postTo(t, admin.URLVersion("2026-01"), "tok", idempotentRefundCreate, vars)
	id := at(first, "data", "refundCreate", "refund", "id")
	if id == nil || at(again, "data", "refundCreate", "refund", "id") != id || len(admin.Refunds()) != 1 {
		t.Fatalf("the same key refunded %d times: %v then %v", len(admin.Refunds()), first, again)
	}
	if qs := admin.Queries(); qs[len(qs)-1].Version != "2026-01" || qs[0].Version != shopifytest.APIVersion {
		t.Errorf("versions recorded %q … %q", qs[0].Version, qs[len(qs)-1].Version)
	}
}

func TestFailures(t *testing.T) {
	admin := shopifytest.NewAdmin(t, "tok")
	admin.AddOrder(twoPayments())
	vars := refundInput([]any{tx("101", "1.00", "shopify_payments")}, nil)

	admin.FailNextOp("refundCreate", 1, http.StatusServiceUnavailable)
	if code, _ := postTo(t, admin.URL(), "tok", refundOrderQuery, map[string]any{"id": "gid://shopify/Order/7"}); code != http.StatusOK {
		t.Fatalf("another operation failed: %d", code)
	}
	if code, _ := postTo(t, admin.URL(), "tok", refundCreate, vars); code != http.StatusServiceUnavailable || len(admin.Refunds()) != 0 {
		t.Fatalf("FailNextOp: %d with %d refunds", code, len(admin.Refunds()))
	}
	admin.FailAfterNextRefund(http.StatusBadGateway)
	if code, _ := postTo(t, admin.URL(), "tok", refundCreate, vars); code != http.StatusBadGateway || len(admin.Refunds()) != 1 {
		t.Fatalf("FailAfterNextRefund: %d with %d refunds", code, len(admin.Refunds()))
	}
	if code, out := postTo(t, admin.URL(), "tok", refundCreate, vars); code != http.StatusOK || at(out, "data", "refundCreate", "refund") == nil {
		t.Fatalf("after the failures: %d %v", code, out)
	}
	if n := admin.Calls("refundCreate"); n != 3 {
		t.Errorf("%d refundCreate calls, want 3", n)
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
