package magentotest_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/frontdesk-ai/frontdesk/commerce/magento/magentotest"
)

func post(t *testing.T, srv *magentotest.Server, path string, body any) (int, json.RawMessage) {
	t.Helper()
	raw, _ := json.Marshal(body)
	req, _ := http.NewRequest(http.MethodPost, srv.URL()+path, bytes.NewReader(raw))
	req.Header.Set("Authorization", "Bearer tok")
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out json.RawMessage
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, out
}

func order(method, transaction string) magentotest.OrderSpec {
	return magentotest.OrderSpec{
		EntityID: 5, State: "processing", Currency: "EUR", GrandTotal: "25.00", ShippingAmount: "5.00", PaymentMethod: method,
		Items:     []magentotest.ItemSpec{{ItemID: 51, SKU: "MUG", Qty: 2, Price: "10.00"}},
		Invoices:  []magentotest.InvoiceSpec{{EntityID: 50, GrandTotal: "25.00", TransactionID: transaction}},
		UpdatedAt: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC),
	}
}

func byOrder(id string) url.Values {
	return url.Values{
		"searchCriteria[filter_groups][0][filters][0][field]": {"order_id"},
		"searchCriteria[filter_groups][0][filters][0][value]": {id},
	}
}

func TestRefundServices(t *testing.T) {
	srv := magentotest.NewServer(t, "tok")
	srv.AddOrder(order("checkmo", ""))
	comment := map[string]any{"comment": "broken [frontdesk confirmation k]", "is_visible_on_front": 0}

	code, out := post(t, srv, "/V1/invoice/50/refund", map[string]any{"isOnline": true, "items": []any{}, "comment": comment})
	if code != http.StatusBadRequest || !strings.Contains(string(out), "We can't create creditmemo for the invoice.") {
		t.Fatalf("online refund of a check: %d %s", code, out)
	}
	zero := map[string]any{"order_item_id": 51, "qty": 0}
	code, out = post(t, srv, "/V1/order/5/refund", map[string]any{"items": []any{zero}, "comment": comment,
		"arguments": map[string]any{"shipping_amount": 0, "adjustment_positive": 25.01, "adjustment_negative": 0}})
	if code != http.StatusBadRequest || !strings.Contains(string(out), `Creditmemo Document Validation Error(s):\nThe most money available to refund is 25.`) {
		t.Fatalf("more than was paid: %d %s", code, out)
	}
	code, out = post(t, srv, "/V1/order/5/refund", map[string]any{"items": []any{zero}, "notify": true, "comment": comment,
		"arguments": map[string]any{"shipping_amount": 0, "adjustment_positive": 7.5, "adjustment_negative": 0}})
	if code != http.StatusOK || len(srv.CreditMemos()) != 1 || string(out) != "901" {
		t.Fatalf("an adjustment refund: %d %s", code, out)
	}
	if o, _ := srv.Order(5); o.TotalRefunded != "7.50" || o.Items[0].QtyRefunded != 0 {
		t.Errorf("order after the adjustment: %+v", o)
	}
	code, list := get(t, srv, "tok", "/V1/creditmemos", byOrder("5"))
	items, _ := list["items"].([]any)
	if code != http.StatusOK || len(items) != 1 {
		t.Fatalf("credit memos of the order: %d %v", code, list)
	}
	memo := items[0].(map[string]any)
	if memo["grand_total"] != 7.5 || memo["comments"].([]any)[0].(map[string]any)["comment"] != "broken [frontdesk confirmation k]" {
		t.Errorf("credit memo %v", memo)
	}
	if _, other := get(t, srv, "tok", "/V1/creditmemos", byOrder("6")); other["total_count"] != float64(0) {
		t.Errorf("another order's credit memos: %v", other)
	}

	// Everything else: no items refunds both mugs and the shipping, 17.50
	// of the 25 paid is too much after the 7.50.
	code, out = post(t, srv, "/V1/order/5/refund", map[string]any{"items": []any{}})
	if code != http.StatusBadRequest || !strings.Contains(string(out), "The most money available to refund is 17.5.") {
		t.Fatalf("a full refund after a partial one: %d %s", code, out)
	}
	code, _ = post(t, srv, "/V1/order/5/refund", map[string]any{"items": []any{map[string]any{"order_item_id": 51, "qty": 1}},
		"arguments": map[string]any{"shipping_amount": 5, "adjustment_negative": 2.5}})
	if o, _ := srv.Order(5); code != http.StatusOK || o.TotalRefunded != "20.00" || o.Items[0].QtyRefunded != 1 || o.ShippingRefunded != "5.00" {
		t.Fatalf("a line and the shipping: %d, order %+v", code, o)
	}
	code, out = post(t, srv, "/V1/order/5/refund", map[string]any{"items": []any{map[string]any{"order_item_id": 51, "qty": 2}}})
	if code != http.StatusBadRequest || !strings.Contains(string(out), `unrefunded quantity for product SKU \"MUG\"`) {
		t.Fatalf("more mugs than are left: %d %s", code, out)
	}
	code, out = post(t, srv, "/V1/order/5/refund", map[string]any{"items": []any{map[string]any{"order_item_id": 51, "qty": 0}},
		"arguments": map[string]any{"shipping_amount": 0, "adjustment_positive": 1}})
	if code != http.StatusBadRequest || !strings.Contains(string(out), "You can't create a creditmemo without products.") {
		t.Fatalf("an adjustment once the shipping is refunded: %d %s", code, out)
	}
	if code, out = post(t, srv, "/V1/order/5/refund", map[string]any{}); code != http.StatusBadRequest || !strings.Contains(string(out), "The most money available to refund is 5.") {
		t.Fatalf("the last mug at full price: %d %s", code, out)
	}
	if code, out = post(t, srv, "/V1/order/5/refund", map[string]any{"arguments": map[string]any{"adjustment_negative": 5}}); code != http.StatusOK {
		t.Fatalf("the last mug less 5: %d %s", code, out)
	}
	o, _ := srv.Order(5)
	code, out = post(t, srv, "/V1/order/5/refund", map[string]any{})
	if o.State != "closed" || code != http.StatusBadRequest || !strings.Contains(string(out), "when an order has a status of closed") {
		t.Fatalf("a refund of a closed order (%s): %d %s", o.State, code, out)
	}
	if n := len(srv.RefundCalls()); n != 10 {
		t.Errorf("%d refund calls recorded, want 10", n)
	}
}

func TestOnlineOrdersAreRefundedThroughTheInvoice(t *testing.T) {
	srv := magentotest.NewServer(t, "tok")
	srv.AddOrder(order("braintree", "txn-1"))
	if code, out := post(t, srv, "/V1/order/5/refund", map[string]any{}); code != http.StatusBadRequest || !strings.Contains(string(out), "through its invoice") {
		t.Fatalf("the offline service for an order paid online: %d %s", code, out)
	}
	srv.FailAfterNextRefund(http.StatusBadGateway)
	if code, _ := post(t, srv, "/V1/invoice/50/refund", map[string]any{"is_online": true}); code != http.StatusBadGateway || len(srv.CreditMemos()) != 1 {
		t.Fatalf("a lost answer: %d with %d credit memos", code, len(srv.CreditMemos()))
	}
	m := srv.CreditMemos()[0]
	if !m.Online || m.InvoiceID != 50 || m.GrandTotal != "25.00" {
		t.Errorf("credit memo %+v", m)
	}
	if code, memo := get(t, srv, "tok", "/V1/creditmemo/901", nil); code != http.StatusOK || memo["invoice_id"] != float64(50) || memo["transaction_id"] == nil {
		t.Errorf("GET the credit memo: %d %v", code, memo)
	}
	if code, _ := get(t, srv, "tok", "/V1/orders/6", nil); code != http.StatusNotFound {
		t.Errorf("a missing order: %d", code)
	}
	if code, inv := get(t, srv, "tok", "/V1/invoices", byOrder("5")); code != http.StatusOK || inv["items"].([]any)[0].(map[string]any)["base_total_refunded"] != float64(25) {
		t.Errorf("invoices after the refund: %d %v", code, inv)
	}
	srv.RefuseNextRefund("Could not save a Creditmemo, see error log for details", nil)
	if code, out := post(t, srv, "/V1/invoice/50/refund", map[string]any{}); code != http.StatusBadRequest || !strings.Contains(string(out), "Could not save") {
		t.Errorf("a scripted refusal: %d %s", code, out)
	}
}
