package shopifytest_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/frontdesk-ai/frontdesk/commerce/shopify/shopifytest"
)

const refundCreate = `mutation refundCreate($input: RefundInput!) {
  refundCreate(input: $input) { refund { id } order { id } userErrors { field message } }
}`

// post sends a GraphQL request to admin and decodes the answer.
func post(t *testing.T, admin *shopifytest.Admin, token, query string, vars map[string]any) (int, map[string]any) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, _ := http.NewRequest(http.MethodPost, admin.URL()+"/graphql.json", bytes.NewReader(body))
	req.Header.Set("X-Shopify-Access-Token", token)
	req.Header.Set("Content-Type", "application/json")
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

func TestRefundCreate(t *testing.T) {
	admin := shopifytest.NewAdmin(t, "tok")
	admin.AddOrder(shopifytest.OrderSpec{ID: 450789469, TotalPrice: "30.00", Currency: "USD", FinancialStatus: "paid",
		UpdatedAt: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)})
	stored, _ := admin.Order(450789469)
	if len(stored.Payments) != 1 || stored.Payments[0].ID == 0 || stored.Payments[0].Amount != "30.00" {
		t.Fatalf("a paid order without payments got %+v, want one sale of its total", stored.Payments)
	}
	sale := fmt.Sprintf("gid://shopify/OrderTransaction/%d", stored.Payments[0].ID)
	input := func(amount string) map[string]any {
		return map[string]any{"input": map[string]any{
			"orderId": "gid://shopify/Order/450789469", "notify": true, "note": "damaged",
			"transactions": []any{map[string]any{"orderId": "gid://shopify/Order/450789469", "parentId": sale, "amount": amount, "gateway": "bogus", "kind": "REFUND"}},
		}}
	}

	admin.FailNextRefund(shopifytest.UserError{Field: []string{"transactions", "0", "amount"}, Message: "Amount exceeds refundable amount"})
	_, out := post(t, admin, "tok", refundCreate, input("99.00"))
	rc := out["data"].(map[string]any)["refundCreate"].(map[string]any)
	if errs := rc["userErrors"].([]any); len(errs) != 1 || rc["refund"] != nil {
		t.Fatalf("scripted failure answered %v", rc)
	}
	if o, _ := admin.Order(450789469); len(o.Refunds) != 0 || len(admin.Refunds()) != 0 {
		t.Fatalf("a refused refund changed the order: %+v", o)
	}

	_, out = post(t, admin, "tok", refundCreate, input("10.00"))
	rc = out["data"].(map[string]any)["refundCreate"].(map[string]any)
	if rc["refund"] == nil || len(rc["userErrors"].([]any)) != 0 || rc["order"].(map[string]any)["id"] != "gid://shopify/Order/450789469" {
		t.Fatalf("refundCreate answered %v", rc)
	}
	if _, ok := out["extensions"].(map[string]any)["cost"]; !ok {
		t.Errorf("answer without extensions.cost: %v", out)
	}
	o, _ := admin.Order(450789469)
	if o.FinancialStatus != "partially_refunded" || len(o.Refunds) != 1 || !o.UpdatedAt.After(time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("order after a partial refund: %+v", o)
	}
	post(t, admin, "tok", refundCreate, input("20.00"))
	if o, _ := admin.Order(450789469); o.FinancialStatus != "refunded" || len(admin.Refunds()) != 2 || admin.Refunds()[1].Note != "damaged" {
		t.Fatalf("order after the full refund: %+v; inputs %+v", o, admin.Refunds())
	}

	in := input("1.00")
	in["input"].(map[string]any)["orderId"] = "gid://shopify/Order/1"
	_, out = post(t, admin, "tok", refundCreate, in)
	if errs := out["data"].(map[string]any)["refundCreate"].(map[string]any)["userErrors"].([]any); len(errs) != 1 {
		t.Fatalf("refund of a missing order answered %v", out)
	}
}

func TestAdminRefusesAndFails(t *testing.T) {
	admin := shopifytest.NewAdmin(t, "tok")
	if code, out := post(t, admin, "wrong", refundCreate, nil); code != http.StatusUnauthorized || out["errors"] == nil {
		t.Fatalf("wrong token: %d %v", code, out)
	}
	if code, out := post(t, admin, "tok", `{ shop { name } }`, nil); code != http.StatusOK || out["errors"] == nil {
		t.Fatalf("unknown operation: %d %v", code, out)
	}
	q := `query { orders(first: $first, query: $query) { nodes { name } } }`
	if _, out := post(t, admin, "tok", q, map[string]any{"first": 5, "query": "email:a@b.co"}); out["errors"] == nil {
		t.Fatalf("an unsupported search was answered: %v", out)
	}
	if _, out := post(t, admin, "tok", q, map[string]any{"first": 251}); out["errors"] == nil {
		t.Fatalf("first over 250 was answered: %v", out)
	}
	costly := `query { orders(first: $first) { nodes { lineItems(first: 100) { nodes { id } } } } }`
	_, out := post(t, admin, "tok", costly, map[string]any{"first": 50})
	if errs, _ := out["errors"].([]any); len(errs) != 1 || errs[0].(map[string]any)["extensions"].(map[string]any)["code"] != "MAX_COST_EXCEEDED" {
		t.Fatalf("a query over 1000 points was answered: %v", out)
	}
	admin.ThrottleNext(1)
	_, out = post(t, admin, "tok", q, map[string]any{"first": 5})
	errs, _ := out["errors"].([]any)
	if len(errs) != 1 || errs[0].(map[string]any)["extensions"].(map[string]any)["code"] != "THROTTLED" {
		t.Fatalf("throttled answer %v", out)
	}
	if admin.Requests() != 6 || len(admin.Queries()) != 6 {
		t.Fatalf("%d requests recorded", admin.Requests())
	}
}
