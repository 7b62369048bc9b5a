package magento_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/frontdesk-ai/frontdesk/commerce"
	"github.com/frontdesk-ai/frontdesk/commerce/magento"
	"github.com/frontdesk-ai/frontdesk/commerce/magento/magentotest"
)

// invoicedOrder is a €45 order (two €10 mugs, a €20 shirt, €5 shipping)
// invoiced in full and paid by check: refunded offline.
func invoicedOrder() magentotest.OrderSpec {
	return magentotest.OrderSpec{
		EntityID: 42, State: "processing", Email: "ana@example.com", Currency: "EUR", GrandTotal: "45.00", ShippingAmount: "5.00",
		Items: []magentotest.ItemSpec{
			{ItemID: 421, ProductID: 7, Name: "Mug", SKU: "MUG", Qty: 2, Price: "10.00"},
			{ItemID: 422, ProductID: 8, Name: "Shirt", SKU: "TEE", Qty: 1, Price: "20.00"},
		},
		Invoices:  []magentotest.InvoiceSpec{{EntityID: 4201, GrandTotal: "45.00"}},
		CreatedAt: time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC), UpdatedAt: time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC),
	}
}

// paidOnline is invoicedOrder paid by card: its invoice has the capture's
// transaction id, so it is refunded online.
func paidOnline() magentotest.OrderSpec {
	o := invoicedOrder()
	o.PaymentMethod = "stripe_payments"
	o.Invoices[0].TransactionID = "pi_3PaBc"
	return o
}

func refundFixture(t *testing.T, orders ...magentotest.OrderSpec) (*magentotest.Server, *magento.Client, *sleeper) {
	t.Helper()
	srv := magentotest.NewServer(t, token)
	if len(orders) == 0 {
		orders = append(orders, invoicedOrder())
	}
	for _, o := range orders {
		srv.AddOrder(o)
	}
	c, s := newClient(t, srv)
	return srv, c, s
}

// args is a refund body's arguments as text: "shipping/+adjustment/-adjustment".
func args(b magentotest.RefundBody) string {
	a := b.Arguments
	if a == nil {
		return "none"
	}
	ship := "unset"
	if a.ShippingAmount != nil {
		ship = jsonFloat(*a.ShippingAmount)
	}
	return ship + "/" + jsonFloat(a.AdjustmentPositive) + "/" + jsonFloat(a.AdjustmentNegative)
}

func jsonFloat(f float64) string {
	b, _ := json.Marshal(f)
	return string(b)
}

func items(b magentotest.RefundBody) string {
	var out []string
	for _, it := range b.Items {
		out = append(out, jsonFloat(float64(it.OrderItemID))+"x"+jsonFloat(it.Qty))
	}
	return strings.Join(out, " ")
}

func TestRefundOffline(t *testing.T) {
	srv, c, _ := refundFixture(t)
	req := commerce.RefundRequest{OrderExternalID: "42", AmountMinor: 1500, Currency: "EUR", Reason: "Mug arrived broken", Key: "6f1c0e3a-0b7d-4a53-9d59-3c2d7f0e9a11"}
	res, err := c.Refund(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	memos := srv.CreditMemos()
	if len(memos) != 1 || res.ExternalID == "" || res.ExternalID != jsonFloat(float64(memos[0].EntityID)) || res.AmountMinor != 1500 || res.Currency != "EUR" || res.Replayed {
		t.Fatalf("Refund = %+v; credit memos %+v", res, memos)
	}
	calls := srv.RefundCalls()
	if len(calls) != 1 || calls[0].Path != "/V1/order/42/refund" {
		t.Fatalf("refund calls %+v", calls)
	}
	b := calls[0].Body
	if items(b) != "421x0 422x0" || args(b) != "0/15/0" || b.IsOnline || !b.Notify || b.AppendComment {
		t.Errorf("body: items %s, arguments %s, %+v", items(b), args(b), b)
	}
	if b.Comment == nil || b.Comment.Comment != "[frontdesk confirmation 6f1c0e3a-0b7d-4a53-9d59-3c2d7f0e9a11] Mug arrived broken" || b.Comment.IsVisibleOnFront != 0 {
		t.Errorf("comment %+v", b.Comment)
	}
	if b.Arguments == nil || len(b.Arguments.ExtensionAttributes.ReturnToStockItems) != 0 {
		t.Errorf("return_to_stock_items %+v", b.Arguments)
	}
	if o, _ := srv.Order(42); o.TotalRefunded != "15.00" || o.State != "processing" {
		t.Errorf("order after the refund: refunded %s, state %s", o.TotalRefunded, o.State)
	}
}

func TestRefundOnlineThroughTheInvoice(t *testing.T) {
	srv, c, _ := refundFixture(t, paidOnline())
	res, err := c.Refund(context.Background(), commerce.RefundRequest{OrderExternalID: "42", AmountMinor: 1500, Key: "k"})
	if err != nil {
		t.Fatal(err)
	}
	calls := srv.RefundCalls()
	if len(calls) != 1 || calls[0].Path != "/V1/invoice/4201/refund" || !calls[0].Body.IsOnline {
		t.Fatalf("refund calls %+v", calls)
	}
	if m := srv.CreditMemos()[0]; !m.Online || m.InvoiceID != 4201 || res.AmountMinor != 1500 {
		t.Errorf("credit memo %+v, result %+v", m, res)
	}
	var paths []string
	for _, r := range srv.Received() {
		paths = append(paths, r.Method+" "+strings.TrimPrefix(r.Path, magentotest.StorePath))
	}
	want := "GET /V1/orders/42,GET /V1/creditmemos,GET /V1/invoices,POST /V1/invoice/4201/refund,GET /V1/creditmemo/" + res.ExternalID
	if got := strings.Join(paths, ","); got != want {
		t.Errorf("requests\n%s\nwant\n%s", got, want)
	}
	if q := srv.Received()[1].Query; q.Get("searchCriteria[filter_groups][0][filters][0][field]") != "order_id" || q.Get("searchCriteria[filter_groups][0][filters][0][value]") != "42" {
		t.Errorf("credit memos searched by %v", q)
	}
}

// TestRefundOnceByKey: a second Refund with the same Key, after a crash or
// a lost answer, finds the first credit memo by its comment.
func TestRefundOnceByKey(t *testing.T) {
	req := commerce.RefundRequest{OrderExternalID: "42", AmountMinor: 1000, Key: "confirmation-1"}

	t.Run("the same key twice, and again after a restart", func(t *testing.T) {
		srv, c, _ := refundFixture(t)
		first, err := c.Refund(context.Background(), req)
		if err != nil {
			t.Fatal(err)
		}
		second, err := c.Refund(context.Background(), req)
		if err != nil {
			t.Fatal(err)
		}
		restarted, _ := newClient(t, srv)
		third, err := restarted.Refund(context.Background(), req)
		if err != nil {
			t.Fatal(err)
		}
		want := first
		want.Replayed = true
		if second != want || third != want || len(srv.RefundCalls()) != 1 || len(srv.CreditMemos()) != 1 {
			t.Fatalf("Refund = %+v, %+v, %+v after %d refund calls", first, second, third, len(srv.RefundCalls()))
		}
	})

	t.Run("the answer is lost: the retry reads the credit memos first", func(t *testing.T) {
		srv, c, s := refundFixture(t, paidOnline())
		srv.FailAfterNextRefund(http.StatusBadGateway)
		res, err := c.Refund(context.Background(), req)
		if err != nil || !res.Replayed || res.AmountMinor != 1000 {
			t.Fatalf("Refund = %+v, %v", res, err)
		}
		if len(srv.CreditMemos()) != 1 || len(srv.RefundCalls()) != 1 {
			t.Fatalf("%d credit memos after %d refund calls", len(srv.CreditMemos()), len(srv.RefundCalls()))
		}
		if want := []time.Duration{500 * time.Millisecond}; !reflect.DeepEqual(s.recorded(), want) {
			t.Errorf("waits %v, want %v", s.recorded(), want)
		}
	})

	t.Run("a credit memo made elsewhere with the marker", func(t *testing.T) {
		srv, c, _ := refundFixture(t)
		srv.AddCreditMemo(magentotest.CreditMemoSpec{EntityID: 77, OrderID: 42, GrandTotal: "10.00", Currency: "EUR", Comments: []string{"hand made", "x " + req.Marker()}})
		srv.AddCreditMemo(magentotest.CreditMemoSpec{EntityID: 78, OrderID: 42, GrandTotal: "3.00", Currency: "EUR", Comments: []string{"[frontdesk confirmation confirmation-10]"}})
		res, err := c.Refund(context.Background(), req)
		if err != nil || res != (commerce.RefundResult{ExternalID: "77", AmountMinor: 1000, Currency: "EUR", Replayed: true}) || len(srv.RefundCalls()) != 0 {
			t.Fatalf("Refund = %+v, %v after %d refund calls", res, err, len(srv.RefundCalls()))
		}
	})
}

func TestRefundAmounts(t *testing.T) {
	t.Run("no amount, nothing refunded yet: the whole order", func(t *testing.T) {
		srv, c, _ := refundFixture(t)
		res, err := c.Refund(context.Background(), commerce.RefundRequest{OrderExternalID: "42", Key: "k"})
		if err != nil || res.AmountMinor != 4500 {
			t.Fatalf("Refund = %+v, %v", res, err)
		}
		if b := srv.RefundCalls()[0].Body; len(b.Items) != 0 || b.Arguments != nil {
			t.Errorf("a full refund sent items %s, arguments %s", items(b), args(b))
		}
		if o, _ := srv.Order(42); o.State != "closed" || o.TotalRefunded != "45.00" || o.ShippingRefunded != "5.00" {
			t.Errorf("order after the full refund: %+v", o)
		}
	})

	t.Run("no amount after an earlier refund: what is left", func(t *testing.T) {
		earlier := invoicedOrder()
		earlier.TotalRefunded = "10.00"
		srv, c, _ := refundFixture(t, earlier)
		res, err := c.Refund(context.Background(), commerce.RefundRequest{OrderExternalID: "42", Key: "k"})
		if err != nil || res.AmountMinor != 3500 {
			t.Fatalf("Refund = %+v, %v", res, err)
		}
		if b := srv.RefundCalls()[0].Body; args(b) != "0/35/0" {
			t.Errorf("arguments %s", args(b))
		}
	})

	t.Run("above what is refundable: refused, nothing sent", func(t *testing.T) {
		earlier := invoicedOrder()
		earlier.TotalRefunded = "10.00"
		srv, c, _ := refundFixture(t, earlier)
		_, err := c.Refund(context.Background(), commerce.RefundRequest{OrderExternalID: "42", AmountMinor: 3501, Key: "k"})
		if !errors.Is(err, commerce.ErrRefused) || !strings.Contains(err.Error(), "35.01 EUR is more than the 35.00 EUR still refundable") || len(srv.RefundCalls()) != 0 {
			t.Fatalf("Refund = %v after %d refund calls", err, len(srv.RefundCalls()))
		}
	})

	t.Run("nothing paid", func(t *testing.T) {
		unpaid := invoicedOrder()
		unpaid.State, unpaid.Invoices = "new", nil
		srv, c, _ := refundFixture(t, unpaid)
		if _, err := c.Refund(context.Background(), commerce.RefundRequest{OrderExternalID: "42", Key: "k"}); !errors.Is(err, commerce.ErrRefused) || len(srv.RefundCalls()) != 0 {
			t.Fatalf("Refund of an unpaid order = %v", err)
		}
	})

	t.Run("an amount on an order with free shipping: Magento refuses", func(t *testing.T) {
		free := invoicedOrder()
		free.ShippingAmount, free.GrandTotal, free.Invoices[0].GrandTotal = "", "40.00", "40.00"
		srv, c, _ := refundFixture(t, free)
		_, err := c.Refund(context.Background(), commerce.RefundRequest{OrderExternalID: "42", AmountMinor: 500, Key: "k"})
		if !errors.Is(err, commerce.ErrRefused) || !strings.Contains(err.Error(), "You can't create a creditmemo without products.") {
			t.Fatalf("Refund = %v", err)
		}
		if len(srv.CreditMemos()) != 0 {
			t.Errorf("%d credit memos", len(srv.CreditMemos()))
		}
	})

	t.Run("a currency that is not the order's", func(t *testing.T) {
		srv, c, _ := refundFixture(t)
		if _, err := c.Refund(context.Background(), commerce.RefundRequest{OrderExternalID: "42", AmountMinor: 100, Currency: "USD", Key: "k"}); !errors.Is(err, commerce.ErrMalformed) || len(srv.RefundCalls()) != 0 {
			t.Fatalf("Refund in USD of a EUR order = %v", err)
		}
	})
}

func TestRefundLineItems(t *testing.T) {
	for name, c := range map[string]struct {
		amount     int64
		wantArgs   string
		wantAmount int64
	}{
		"lines alone: what Magento makes of them": {0, "0/0/0", 1000},
		"lines and more money":                    {1500, "0/5/0", 1500},
		"lines and less money":                    {500, "0/0/5", 500},
	} {
		t.Run(name, func(t *testing.T) {
			srv, client, _ := refundFixture(t, paidOnline())
			res, err := client.Refund(context.Background(), commerce.RefundRequest{OrderExternalID: "42", AmountMinor: c.amount, Key: "k",
				LineItems: []commerce.RefundLine{{LineItemExternalID: "421", Quantity: 1}}})
			if err != nil || res.AmountMinor != c.wantAmount {
				t.Fatalf("Refund = %+v, %v; want %d", res, err, c.wantAmount)
			}
			b := srv.RefundCalls()[0].Body
			if items(b) != "421x1" || args(b) != c.wantArgs {
				t.Errorf("items %s, arguments %s; want 421x1, %s", items(b), args(b), c.wantArgs)
			}
			if o, _ := srv.Order(42); o.Items[0].QtyRefunded != 1 || o.Items[1].QtyRefunded != 0 {
				t.Errorf("items after the refund %+v", o.Items)
			}
		})
	}

	t.Run("more than were bought: Magento refuses", func(t *testing.T) {
		srv, c, _ := refundFixture(t)
		_, err := c.Refund(context.Background(), commerce.RefundRequest{OrderExternalID: "42", Key: "k", LineItems: []commerce.RefundLine{{LineItemExternalID: "422", Quantity: 2}}})
		if !errors.Is(err, commerce.ErrRefused) || !strings.Contains(err.Error(), `unrefunded quantity for product SKU "TEE"`) || len(srv.CreditMemos()) != 0 {
			t.Fatalf("Refund = %v", err)
		}
	})

	t.Run("a line not of the order", func(t *testing.T) {
		srv, c, _ := refundFixture(t)
		_, err := c.Refund(context.Background(), commerce.RefundRequest{OrderExternalID: "42", Key: "k", LineItems: []commerce.RefundLine{{LineItemExternalID: "999", Quantity: 1}}})
		if !errors.Is(err, commerce.ErrRefused) || len(srv.RefundCalls()) != 0 {
			t.Fatalf("Refund = %v after %d refund calls", err, len(srv.RefundCalls()))
		}
	})
}

func TestRefundValidationErrorsRefuse(t *testing.T) {
	srv, c, s := refundFixture(t)
	srv.RefuseNextRefund("The most money available to refund is %1.", []any{12.5})
	_, err := c.Refund(context.Background(), commerce.RefundRequest{OrderExternalID: "42", AmountMinor: 1500, Key: "k"})
	if !errors.Is(err, commerce.ErrRefused) || !strings.Contains(err.Error(), "The most money available to refund is 12.5.") {
		t.Fatalf("Refund = %v; want ErrRefused with Magento's message", err)
	}
	if len(srv.RefundCalls()) != 1 || len(srv.CreditMemos()) != 0 || len(s.recorded()) != 0 {
		t.Fatalf("%d refund calls, %d credit memos, waits %v: a refusal is not retried", len(srv.RefundCalls()), len(srv.CreditMemos()), s.recorded())
	}
}

func TestRefundRetries(t *testing.T) {
	t.Run("429 on a read, 503 on the refund", func(t *testing.T) {
		srv, c, s := refundFixture(t)
		srv.TooManyNext(1, 3)
		srv.FailNextRefunds(1, http.StatusServiceUnavailable)
		res, err := c.Refund(context.Background(), commerce.RefundRequest{OrderExternalID: "42", AmountMinor: 700, Key: "k"})
		if err != nil || res.Replayed || res.AmountMinor != 700 {
			t.Fatalf("Refund = %+v, %v", res, err)
		}
		if want := []time.Duration{3 * time.Second, 500 * time.Millisecond}; !reflect.DeepEqual(s.recorded(), want) {
			t.Errorf("waits %v, want %v", s.recorded(), want)
		}
		if len(srv.RefundCalls()) != 2 || len(srv.CreditMemos()) != 1 {
			t.Errorf("%d refund calls, %d credit memos", len(srv.RefundCalls()), len(srv.CreditMemos()))
		}
		// The unsure refund is followed by a read of the credit memos before
		// it is sent again.
		var gets []string
		for _, r := range srv.Received() {
			gets = append(gets, r.Method+" "+strings.TrimPrefix(r.Path, magentotest.StorePath+"/V1"))
		}
		want := "GET /orders/42,GET /orders/42,GET /creditmemos,POST /order/42/refund,GET /orders/42,GET /creditmemos,POST /order/42/refund,GET /creditmemo/" + res.ExternalID
		if got := strings.Join(gets, ","); got != want {
			t.Errorf("requests\n%s\nwant\n%s", got, want)
		}
	})

	t.Run("gives up after MaxRetries without refunding", func(t *testing.T) {
		srv := magentotest.NewServer(t, token)
		srv.AddOrder(invoicedOrder())
		srv.FailNextRefunds(10, http.StatusBadGateway)
		c, _ := newClient(t, srv, func(c *magento.Config) { c.MaxRetries = 1 })
		_, err := c.Refund(context.Background(), commerce.RefundRequest{OrderExternalID: "42", AmountMinor: 700, Key: "k"})
		if err == nil || errors.Is(err, commerce.ErrRefused) || !strings.Contains(err.Error(), "502") || len(srv.RefundCalls()) != 2 || len(srv.CreditMemos()) != 0 {
			t.Fatalf("Refund = %v after %d refund calls", err, len(srv.RefundCalls()))
		}
	})
}

func TestRefundRefusesBadRequests(t *testing.T) {
	srv, c, _ := refundFixture(t)
	for name, c2 := range map[string]struct {
		req  commerce.RefundRequest
		want error
	}{
		"no key":             {commerce.RefundRequest{OrderExternalID: "42"}, commerce.ErrMalformed},
		"a key with a space": {commerce.RefundRequest{OrderExternalID: "42", Key: "a b"}, commerce.ErrMalformed},
		"a line twice": {commerce.RefundRequest{OrderExternalID: "42", Key: "k",
			LineItems: []commerce.RefundLine{{LineItemExternalID: "421", Quantity: 1}, {LineItemExternalID: "421", Quantity: 1}}}, commerce.ErrMalformed},
		"an increment id, not an entity id": {commerce.RefundRequest{OrderExternalID: "#000000042", Key: "k"}, commerce.ErrNotFound},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := c.Refund(context.Background(), c2.req); !errors.Is(err, c2.want) {
				t.Fatalf("Refund = %v, want %v", err, c2.want)
			}
		})
	}
	if srv.Requests() != 0 {
		t.Errorf("%d requests for invalid refunds", srv.Requests())
	}
	if _, err := c.Refund(context.Background(), commerce.RefundRequest{OrderExternalID: "43", Key: "k"}); !errors.Is(err, commerce.ErrNotFound) {
		t.Errorf("Refund of a missing order = %v", err)
	}
}
