package shopify_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/frontdesk-ai/frontdesk/commerce"
	"github.com/frontdesk-ai/frontdesk/commerce/shopify"
	"github.com/frontdesk-ai/frontdesk/commerce/shopify/shopifytest"
)

const orderID = "450789469"

// paidOrder is a $30 order of three $10 mugs, paid by one sale through
// "bogus".
func paidOrder() shopifytest.OrderSpec {
	return shopifytest.OrderSpec{
		ID: 450789469, Name: "#1001", TotalPrice: "30.00", Currency: "USD", FinancialStatus: "paid",
		LineItems: []shopifytest.LineItemSpec{{ID: 1001, Title: "Mug", Quantity: 3, Price: "10.00"}},
		CreatedAt: time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC), UpdatedAt: time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC),
	}
}

func refundFixture(t *testing.T, orders ...shopifytest.OrderSpec) (*shopifytest.Admin, *shopify.Client, *sleeper) {
	t.Helper()
	admin := shopifytest.NewAdmin(t, token)
	if len(orders) == 0 {
		orders = append(orders, paidOrder())
	}
	for _, o := range orders {
		admin.AddOrder(o)
	}
	c, s := newClient(t, admin)
	return admin, c, s
}

func saleOf(t *testing.T, admin *shopifytest.Admin, id int64) string {
	t.Helper()
	o, _ := admin.Order(id)
	if len(o.Payments) == 0 {
		t.Fatalf("order %d has no payments", id)
	}
	return fmt.Sprintf("gid://shopify/OrderTransaction/%d", o.Payments[0].ID)
}

func operations(admin *shopifytest.Admin) string {
	var ops []string
	for _, q := range admin.Queries() {
		ops = append(ops, q.Operation)
	}
	return strings.Join(ops, " ")
}

func TestRefund(t *testing.T) {
	admin, c, _ := refundFixture(t)
	req := commerce.RefundRequest{OrderExternalID: orderID, AmountMinor: 1250, Currency: "usd", Reason: "Arrived\n broken", Key: "6f1c0e3a-0b7d-4a53-9d59-3c2d7f0e9a11"}
	res, err := c.Refund(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if res.ExternalID == "" || res.AmountMinor != 1250 || res.Currency != "USD" || res.Replayed {
		t.Fatalf("Refund = %+v", res)
	}
	ins := admin.Refunds()
	if len(ins) != 1 {
		t.Fatalf("%d refunds at the shop", len(ins))
	}
	in := ins[0]
	if in.OrderID != "gid://shopify/Order/"+orderID || !in.Notify || in.Note != "[frontdesk confirmation 6f1c0e3a-0b7d-4a53-9d59-3c2d7f0e9a11] Arrived broken" || len(in.RefundLineItems) != 0 || in.Currency != "" {
		t.Errorf("refundCreate input %+v", in)
	}
	if len(in.Transactions) != 1 || in.Transactions[0].ParentID != saleOf(t, admin, 450789469) || in.Transactions[0].Amount != "12.50" ||
		in.Transactions[0].Gateway != "bogus" || in.Transactions[0].Kind != "REFUND" || in.Transactions[0].OrderID != in.OrderID {
		t.Errorf("transactions %+v", in.Transactions)
	}
	if o, _ := admin.Order(450789469); o.FinancialStatus != "partially_refunded" || len(o.Refunds) != 1 || fmt.Sprint(o.Refunds[0].ID) != res.ExternalID {
		t.Errorf("order after the refund: %+v", o)
	}
	if got := operations(admin); got != "refundOrder refundCreate" {
		t.Errorf("requests %s", got)
	}
	if q := admin.Queries()[1]; strings.Contains(q.Query, "@idempotent") || q.Variables["idempotencyKey"] != nil {
		t.Errorf("API %s has no @idempotent, but the mutation sent one: %s", shopify.APIVersion, q.Query)
	}
}

// TestRefundOnceByKey: whatever happens between the shop's answer and the
// caller's record of it (a crash, a restart, a lost answer), a second
// Refund with the same Key finds the first refund and makes none.
func TestRefundOnceByKey(t *testing.T) {
	req := commerce.RefundRequest{OrderExternalID: orderID, AmountMinor: 1000, Key: "confirmation-1"}

	t.Run("the same key twice", func(t *testing.T) {
		admin, c, _ := refundFixture(t)
		first, err := c.Refund(context.Background(), req)
		if err != nil {
			t.Fatal(err)
		}
		second, err := c.Refund(context.Background(), req)
		if err != nil {
			t.Fatal(err)
		}
		want := first
		want.Replayed = true
		if second != want || admin.Calls("refundCreate") != 1 || len(admin.Refunds()) != 1 {
			t.Fatalf("second Refund = %+v after %d refundCreate; want %+v after 1", second, admin.Calls("refundCreate"), want)
		}
	})

	t.Run("a crash before the record: a new client retries", func(t *testing.T) {
		admin, c, _ := refundFixture(t)
		if _, err := c.Refund(context.Background(), req); err != nil {
			t.Fatal(err)
		}
		restarted, _ := newClient(t, admin) // the process died before it kept the result
		res, err := restarted.Refund(context.Background(), req)
		if err != nil || !res.Replayed || res.AmountMinor != 1000 || len(admin.Refunds()) != 1 {
			t.Fatalf("Refund after a restart = %+v, %v with %d refunds", res, err, len(admin.Refunds()))
		}
		other := req
		other.Key = "confirmation-2" // another confirmation is another refund
		if res, err := restarted.Refund(context.Background(), other); err != nil || res.Replayed || len(admin.Refunds()) != 2 {
			t.Fatalf("Refund with another key = %+v, %v with %d refunds", res, err, len(admin.Refunds()))
		}
	})

	t.Run("the answer is lost: the retry reads the order first", func(t *testing.T) {
		admin, c, s := refundFixture(t)
		admin.FailAfterNextRefund(http.StatusBadGateway)
		res, err := c.Refund(context.Background(), req)
		if err != nil || !res.Replayed || res.AmountMinor != 1000 || res.ExternalID == "" {
			t.Fatalf("Refund = %+v, %v", res, err)
		}
		if len(admin.Refunds()) != 1 || operations(admin) != "refundOrder refundCreate refundOrder" {
			t.Fatalf("%d refunds after %s", len(admin.Refunds()), operations(admin))
		}
		if want := []time.Duration{500 * time.Millisecond}; !reflect.DeepEqual(s.recorded(), want) {
			t.Errorf("waits %v, want %v", s.recorded(), want)
		}
	})
}

func TestRefundAmounts(t *testing.T) {
	earlier := paidOrder()
	earlier.FinancialStatus = "partially_refunded"
	earlier.Payments = []shopifytest.PaymentSpec{{ID: 77, Amount: "30.00"}}
	earlier.Refunds = []shopifytest.RefundSpec{{ID: 9, Note: "goodwill", Transactions: []shopifytest.TransactionSpec{{ID: 91, Amount: "5.00", ParentID: 77}}}}

	t.Run("no amount: what is still refundable", func(t *testing.T) {
		admin, c, _ := refundFixture(t, earlier)
		res, err := c.Refund(context.Background(), commerce.RefundRequest{OrderExternalID: orderID, Key: "k"})
		if err != nil || res.AmountMinor != 2500 {
			t.Fatalf("Refund = %+v, %v; want the 25.00 left", res, err)
		}
		if o, _ := admin.Order(450789469); o.FinancialStatus != "refunded" {
			t.Errorf("financial status %s", o.FinancialStatus)
		}
	})

	t.Run("above what is refundable: refused, nothing created", func(t *testing.T) {
		admin, c, _ := refundFixture(t, earlier)
		_, err := c.Refund(context.Background(), commerce.RefundRequest{OrderExternalID: orderID, AmountMinor: 2501, Key: "k"})
		if !errors.Is(err, commerce.ErrRefused) || !strings.Contains(err.Error(), "25.01 USD is more than the 25.00 USD still refundable") {
			t.Fatalf("Refund = %v; want ErrRefused naming both amounts", err)
		}
		if admin.Calls("refundCreate") != 0 {
			t.Errorf("%d refundCreate calls", admin.Calls("refundCreate"))
		}
	})

	t.Run("nothing left", func(t *testing.T) {
		pending := paidOrder()
		pending.FinancialStatus = "pending"
		admin, c, _ := refundFixture(t, pending)
		if _, err := c.Refund(context.Background(), commerce.RefundRequest{OrderExternalID: orderID, Key: "k"}); !errors.Is(err, commerce.ErrRefused) || admin.Calls("refundCreate") != 0 {
			t.Fatalf("Refund of an unpaid order = %v", err)
		}
	})

	t.Run("split over the payments, each through its gateway", func(t *testing.T) {
		split := paidOrder()
		split.Payments = []shopifytest.PaymentSpec{{ID: 101, Amount: "18.00", Gateway: "shopify_payments"}, {ID: 102, Amount: "12.00", Gateway: "gift_card"}}
		admin, c, _ := refundFixture(t, split)
		if _, err := c.Refund(context.Background(), commerce.RefundRequest{OrderExternalID: orderID, AmountMinor: 2000, Key: "k"}); err != nil {
			t.Fatal(err)
		}
		txs := admin.Refunds()[0].Transactions
		if len(txs) != 2 || txs[0].ParentID != "gid://shopify/OrderTransaction/101" || txs[0].Amount != "18.00" || txs[0].Gateway != "shopify_payments" ||
			txs[1].ParentID != "gid://shopify/OrderTransaction/102" || txs[1].Amount != "2.00" || txs[1].Gateway != "gift_card" {
			t.Fatalf("transactions %+v", txs)
		}
	})

	t.Run("a currency that is not the order's", func(t *testing.T) {
		admin, c, _ := refundFixture(t)
		_, err := c.Refund(context.Background(), commerce.RefundRequest{OrderExternalID: orderID, AmountMinor: 100, Currency: "EUR", Key: "k"})
		if !errors.Is(err, commerce.ErrMalformed) || admin.Calls("refundCreate") != 0 {
			t.Fatalf("Refund in EUR of a USD order = %v", err)
		}
	})
}

func TestRefundLineItems(t *testing.T) {
	t.Run("lines without an amount: what Shopify says they are worth", func(t *testing.T) {
		admin, c, _ := refundFixture(t)
		res, err := c.Refund(context.Background(), commerce.RefundRequest{OrderExternalID: orderID, Key: "k",
			LineItems: []commerce.RefundLine{{LineItemExternalID: "1001", Quantity: 2}}})
		if err != nil || res.AmountMinor != 2000 {
			t.Fatalf("Refund = %+v, %v", res, err)
		}
		in := admin.Refunds()[0]
		if len(in.RefundLineItems) != 1 || in.RefundLineItems[0].LineItemID != "gid://shopify/LineItem/1001" || in.RefundLineItems[0].Quantity != 2 || in.RefundLineItems[0].RestockType != "NO_RESTOCK" {
			t.Errorf("refundLineItems %+v", in.RefundLineItems)
		}
		if len(in.Transactions) != 1 || in.Transactions[0].Amount != "20.00" {
			t.Errorf("transactions %+v", in.Transactions)
		}
		if q := admin.Queries()[0]; q.Variables["refundLineItems"] == nil {
			t.Errorf("the suggestion was asked without the lines: %v", q.Variables)
		}
	})

	t.Run("lines and an amount", func(t *testing.T) {
		admin, c, _ := refundFixture(t)
		res, err := c.Refund(context.Background(), commerce.RefundRequest{OrderExternalID: orderID, AmountMinor: 550, Key: "k",
			LineItems: []commerce.RefundLine{{LineItemExternalID: "1001", Quantity: 1}}})
		if err != nil || res.AmountMinor != 550 {
			t.Fatalf("Refund = %+v, %v", res, err)
		}
		if in := admin.Refunds()[0]; len(in.RefundLineItems) != 1 || len(in.Transactions) != 1 || in.Transactions[0].Amount != "5.50" {
			t.Errorf("input %+v", in)
		}
	})

	t.Run("more than were bought: the userError refuses it", func(t *testing.T) {
		admin, c, _ := refundFixture(t)
		_, err := c.Refund(context.Background(), commerce.RefundRequest{OrderExternalID: orderID, AmountMinor: 100, Key: "k",
			LineItems: []commerce.RefundLine{{LineItemExternalID: "1001", Quantity: 4}}})
		if !errors.Is(err, commerce.ErrRefused) || !strings.Contains(err.Error(), "refundLineItems.0.quantity: Quantity cannot refund more items than were purchased") {
			t.Fatalf("Refund = %v", err)
		}
		if len(admin.Refunds()) != 0 {
			t.Errorf("%d refunds", len(admin.Refunds()))
		}
	})
}

func TestRefundNoteKeepsTheReasonShort(t *testing.T) {
	admin, c, _ := refundFixture(t)
	req := commerce.RefundRequest{OrderExternalID: orderID, AmountMinor: 100, Key: "k-long", Reason: strings.Repeat("é", 250)}
	if _, err := c.Refund(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	if note := admin.Refunds()[0].Note; note != "[frontdesk confirmation k-long] "+strings.Repeat("é", 200)+"…" {
		t.Fatalf("note %q", note)
	}
	if res, err := c.Refund(context.Background(), req); err != nil || !res.Replayed {
		t.Fatalf("the long note is not found again: %+v, %v", res, err)
	}
}

func TestRefundUserErrorsRefuse(t *testing.T) {
	admin, c, s := refundFixture(t)
	admin.FailNextRefund(shopifytest.UserError{Field: []string{"transactions", "0", "amount"}, Message: "Amount exceeds the gateway's limit"})
	_, err := c.Refund(context.Background(), commerce.RefundRequest{OrderExternalID: orderID, AmountMinor: 100, Key: "k"})
	if !errors.Is(err, commerce.ErrRefused) || !strings.Contains(err.Error(), "transactions.0.amount: Amount exceeds the gateway's limit") {
		t.Fatalf("Refund = %v; want ErrRefused with the userError", err)
	}
	if len(admin.Refunds()) != 0 || admin.Calls("refundCreate") != 1 || len(s.recorded()) != 0 {
		t.Fatalf("%d refunds, %d refundCreate, waits %v; a refusal is not retried", len(admin.Refunds()), admin.Calls("refundCreate"), s.recorded())
	}
}

func TestRefundRetries(t *testing.T) {
	t.Run("429 on the read, 503 on the mutation", func(t *testing.T) {
		admin, c, s := refundFixture(t)
		admin.TooManyNext(1, 2)
		admin.FailNextOp("refundCreate", 2, http.StatusServiceUnavailable)
		res, err := c.Refund(context.Background(), commerce.RefundRequest{OrderExternalID: orderID, AmountMinor: 300, Key: "k"})
		if err != nil || res.Replayed || res.AmountMinor != 300 {
			t.Fatalf("Refund = %+v, %v", res, err)
		}
		// Each unsure mutation is followed by a read before it is sent again.
		if got := operations(admin); got != "refundOrder refundOrder refundCreate refundOrder refundCreate refundOrder refundCreate" {
			t.Errorf("requests %s", got)
		}
		if want := []time.Duration{2 * time.Second, 500 * time.Millisecond, time.Second}; !reflect.DeepEqual(s.recorded(), want) {
			t.Errorf("waits %v, want %v", s.recorded(), want)
		}
		if len(admin.Refunds()) != 1 {
			t.Errorf("%d refunds", len(admin.Refunds()))
		}
	})

	t.Run("429 on the mutation", func(t *testing.T) {
		admin, c, _ := refundFixture(t)
		admin.FailNextOp("refundCreate", 1, http.StatusTooManyRequests)
		res, err := c.Refund(context.Background(), commerce.RefundRequest{OrderExternalID: orderID, AmountMinor: 300, Key: "k"})
		if err != nil || res.Replayed {
			t.Fatalf("Refund = %+v, %v", res, err)
		}
		if len(admin.Refunds()) != 1 || admin.Calls("refundCreate") != 2 {
			t.Fatalf("%d refunds after %d refundCreate", len(admin.Refunds()), admin.Calls("refundCreate"))
		}
	})

	t.Run("gives up after MaxRetries without refunding", func(t *testing.T) {
		admin := shopifytest.NewAdmin(t, token)
		admin.AddOrder(paidOrder())
		admin.FailNextOp("refundCreate", 10, http.StatusServiceUnavailable)
		c, _ := newClient(t, admin, func(c *shopify.Config) { c.MaxRetries = 2 })
		_, err := c.Refund(context.Background(), commerce.RefundRequest{OrderExternalID: orderID, AmountMinor: 300, Key: "k"})
		if err == nil || errors.Is(err, commerce.ErrRefused) || !strings.Contains(err.Error(), "503") || admin.Calls("refundCreate") != 3 || len(admin.Refunds()) != 0 {
			t.Fatalf("Refund = %v after %d refundCreate", err, admin.Calls("refundCreate"))
		}
	})

	t.Run("the caller gives up", func(t *testing.T) {
		admin := shopifytest.NewAdmin(t, token)
		admin.AddOrder(paidOrder())
		admin.FailNextOp("refundCreate", 10, http.StatusServiceUnavailable)
		ctx, cancel := context.WithCancel(context.Background())
		c, _ := newClient(t, admin, func(c *shopify.Config) {
			c.Sleep = func(ctx context.Context, d time.Duration) error { cancel(); return ctx.Err() }
		})
		if _, err := c.Refund(ctx, commerce.RefundRequest{OrderExternalID: orderID, AmountMinor: 300, Key: "k"}); !errors.Is(err, context.Canceled) || admin.Calls("refundCreate") != 1 {
			t.Fatalf("Refund = %v after %d refundCreate", err, admin.Calls("refundCreate"))
		}
	})
}

// TestRefundInternalErrorAfterTheRefund: Shopify answers
// INTERNAL_SERVER_ERROR (in an HTTP 200) to a refundCreate that did run;
// the retry reads the order first and finds the refund.
func TestRefundInternalErrorAfterTheRefund(t *testing.T) {
	admin := shopifytest.NewAdmin(t, token)
	admin.AddOrder(paidOrder())
	broke := false
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		req, _ := http.NewRequest(http.MethodPost, admin.URL()+"/graphql.json", bytes.NewReader(body))
		req.Header = r.Header.Clone()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		answer, _ := io.ReadAll(resp.Body)
		w.Header().Set("Content-Type", "application/json")
		if !broke && bytes.Contains(body, []byte("refundCreate(")) {
			broke = true
			fmt.Fprint(w, `{"errors":[{"message":"Internal error. Looks like something went wrong on our end.","extensions":{"code":"INTERNAL_SERVER_ERROR","requestId":"b7e0"}}]}`)
			return
		}
		w.WriteHeader(resp.StatusCode)
		w.Write(answer)
	}))
	defer srv.Close()
	c, s := newClient(t, admin, func(c *shopify.Config) { c.APIURL = srv.URL + "/admin/api/" + shopify.APIVersion })
	res, err := c.Refund(context.Background(), commerce.RefundRequest{OrderExternalID: orderID, AmountMinor: 400, Key: "k"})
	if err != nil || !res.Replayed || res.AmountMinor != 400 {
		t.Fatalf("Refund = %+v, %v", res, err)
	}
	if len(admin.Refunds()) != 1 || operations(admin) != "refundOrder refundCreate refundOrder" || len(s.recorded()) != 1 {
		t.Fatalf("%d refunds after %s, waits %v", len(admin.Refunds()), operations(admin), s.recorded())
	}
}

func TestRefundRefusesBadRequests(t *testing.T) {
	admin, c, _ := refundFixture(t)
	for name, c2 := range map[string]struct {
		req  commerce.RefundRequest
		want error
	}{
		"no key":               {commerce.RefundRequest{OrderExternalID: orderID}, commerce.ErrMalformed},
		"a key with a bracket": {commerce.RefundRequest{OrderExternalID: orderID, Key: "a]b"}, commerce.ErrMalformed},
		"negative amount":      {commerce.RefundRequest{OrderExternalID: orderID, Key: "k", AmountMinor: -1}, commerce.ErrMalformed},
		"zero quantity":        {commerce.RefundRequest{OrderExternalID: orderID, Key: "k", LineItems: []commerce.RefundLine{{LineItemExternalID: "1001"}}}, commerce.ErrMalformed},
		"a line id not numeric": {commerce.RefundRequest{OrderExternalID: orderID, Key: "k",
			LineItems: []commerce.RefundLine{{LineItemExternalID: "gid://shopify/LineItem/1", Quantity: 1}}}, commerce.ErrMalformed},
		"an order id not numeric": {commerce.RefundRequest{OrderExternalID: "#1001", Key: "k"}, commerce.ErrNotFound},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := c.Refund(context.Background(), c2.req); !errors.Is(err, c2.want) {
				t.Fatalf("Refund = %v, want %v", err, c2.want)
			}
		})
	}
	if admin.Requests() != 0 {
		t.Errorf("%d requests for invalid refunds", admin.Requests())
	}
	if _, err := c.Refund(context.Background(), commerce.RefundRequest{OrderExternalID: "999", Key: "k"}); !errors.Is(err, commerce.ErrNotFound) {
		t.Errorf("Refund of a missing order = %v", err)
	}
}

func TestRefundIdempotencyKeyFromAPI202601(t *testing.T) {
	admin := shopifytest.NewAdmin(t, token)
	admin.AddOrder(paidOrder())
	c, _ := newClient(t, admin, func(c *shopify.Config) { c.APIURL = admin.URLVersion("2026-04") })
	res, err := c.Refund(context.Background(), commerce.RefundRequest{OrderExternalID: orderID, AmountMinor: 300, Key: "k-2026"})
	if err != nil || res.Replayed {
		t.Fatalf("Refund = %+v, %v", res, err)
	}
	q := admin.Queries()[1]
	if q.Version != "2026-04" || !strings.Contains(q.Query, "@idempotent(key: $idempotencyKey)") || q.Variables["idempotencyKey"] != "k-2026" {
		t.Fatalf("refundCreate on 2026-04: %s %v", q.Query, q.Variables)
	}
}
