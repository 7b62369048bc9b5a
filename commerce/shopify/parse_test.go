package shopify_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/frontdesk-ai/frontdesk/commerce"
	"github.com/frontdesk-ai/frontdesk/commerce/shopify"
	"github.com/frontdesk-ai/frontdesk/commerce/shopify/shopifytest"
)

var update = flag.Bool("update", false, "rewrite testdata/webhooks/*.golden.json from the parser's output")

const shop = "acme.myshopify.com"

// fixtures are the webhook bodies under testdata/webhooks with their topic.
var fixtures = []struct{ file, topic string }{
	{"orders_create", shopify.TopicOrdersCreate},
	{"orders_updated", shopify.TopicOrdersUpdated},
	{"refunds_create", shopify.TopicRefundsCreate},
	{"customers_create", shopify.TopicCustomersCreate},
	{"app_uninstalled", shopify.TopicAppUninstalled},
	{"products_create", shopify.TopicProductsCreate},
	{"products_update", shopify.TopicProductsUpdate},
	{"products_update_untracked", shopify.TopicProductsUpdate},
	{"products_delete", shopify.TopicProductsDelete},
}

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "webhooks", name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestParseGolden holds each fixture's normalized event to its golden file
// (go test -update rewrites them; review the diff).
func TestParseGolden(t *testing.T) {
	for _, f := range fixtures {
		t.Run(f.file, func(t *testing.T) {
			ev, err := shopify.Parse(f.topic, shop, readFixture(t, f.file))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			out, err := json.MarshalIndent(ev, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("testdata", "webhooks", f.file+".golden.json")
			if *update {
				if err := os.WriteFile(golden, append(out, '\n'), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("read golden (run go test -update): %v", err)
			}
			if !bytes.Equal(bytes.TrimSpace(want), out) {
				t.Errorf("Parse(%s) differs from %s:\n%s", f.file, golden, out)
			}
		})
	}
}

func utc(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t.UTC()
}

// TestParseMapping states, apart from the golden files, what each field of
// the documented payloads becomes.
func TestParseMapping(t *testing.T) {
	t.Run("orders/create", func(t *testing.T) {
		ev, err := shopify.Parse(shopify.TopicOrdersCreate, "Acme.MyShopify.com", readFixture(t, "orders_create"))
		if err != nil {
			t.Fatal(err)
		}
		o := ev.Order
		if ev.Kind != commerce.KindOrder || o == nil {
			t.Fatalf("event = %+v", ev)
		}
		want := commerce.Order{
			Source: commerce.SourceShopify, Shop: shop, ExternalID: "5940139491234", Number: "1001",
			Email: "ana.lima@example.com",
			// No order or customer phone: the shipping address's, read in the US.
			Phone: "+15556251199",
			Customer: &commerce.Customer{
				Source: commerce.SourceShopify, Shop: shop, ExternalID: "7390865522850", Email: "ana.lima@example.com",
				Phone: "+15556251199", FirstName: "Ana", LastName: "Lima", UpdatedAt: utc("2024-11-10T15:30:01Z"),
			},
			FinancialStatus: "paid", FulfillmentStatus: "unfulfilled", TotalMinor: 40300, Currency: "USD",
			LineItems: []commerce.LineItem{
				{ExternalID: "13688971493691", Title: "Nano Speaker", SKU: "NANO-PINK", Quantity: 1, PriceMinor: 19900, ProductID: "8061536829755", VariantID: "44307356664123"},
				{ExternalID: "13688971526459", Title: "Nano Speaker", SKU: "NANO-BLUE", Quantity: 1, PriceMinor: 19900, ProductID: "8061536829755", VariantID: "44307356696891"},
			},
			CreatedAt: utc("2024-11-10T15:30:00Z"), UpdatedAt: utc("2024-11-10T15:30:02Z"),
			AdminURL: "https://acme.myshopify.com/admin/orders/5940139491234",
		}
		if !reflect.DeepEqual(*o, want) {
			t.Fatalf("order =\n%+v\nwant\n%+v", *o, want)
		}
	})
	t.Run("orders/updated", func(t *testing.T) {
		ev, err := shopify.Parse(shopify.TopicOrdersUpdated, shop, readFixture(t, "orders_updated"))
		if err != nil {
			t.Fatal(err)
		}
		o := ev.Order
		if o.Phone != "+49301234567" || o.FinancialStatus != "partially_refunded" || o.FulfillmentStatus != "partial" {
			t.Errorf("phone, statuses = %q %q %q", o.Phone, o.FinancialStatus, o.FulfillmentStatus)
		}
		if o.TotalMinor != 12990 || o.RefundedMinor != 2500 || o.Currency != "EUR" {
			t.Errorf("money = %d, refunded %d %s; want 12990, 2500 EUR (the failed refund left out)", o.TotalMinor, o.RefundedMinor, o.Currency)
		}
		wantTracking := []commerce.Tracking{
			{Company: "DHL Express", Number: "JD014600003828372834", URL: "https://www.dhl.com/de-en/home/tracking.html?tracking-id=JD014600003828372834", Status: "in_transit"},
			{Company: "DHL Express", Number: "JD014600003828372835", URL: "https://www.dhl.com/de-en/home/tracking.html?tracking-id=JD014600003828372835", Status: "in_transit"},
		}
		if !reflect.DeepEqual(o.Tracking, wantTracking) {
			t.Errorf("tracking = %+v (the cancelled fulfillment must be left out)", o.Tracking)
		}
		if li := o.LineItems[1]; li.ProductID != "" || li.VariantID != "" || li.SKU != "" || li.Quantity != 2 || li.PriceMinor != 1995 {
			t.Errorf("line item with null ids = %+v", li)
		}
		if !o.UpdatedAt.Equal(utc("2024-11-14T15:02:11.514Z")) || o.UpdatedAt.Location() != time.UTC {
			t.Errorf("updated_at = %v, want 15:02:11.514 UTC", o.UpdatedAt)
		}
		if o.Customer.Phone != "+4915112345678" {
			t.Errorf("customer phone = %q", o.Customer.Phone)
		}
	})
	t.Run("refunds/create with Shopify's null transaction currency", func(t *testing.T) {
		ev, err := shopify.Parse(shopify.TopicRefundsCreate, shop, readFixture(t, "refunds_create"))
		if err != nil {
			t.Fatal(err)
		}
		want := commerce.Refund{Source: commerce.SourceShopify, Shop: shop, ExternalID: "929361498402", OrderExternalID: "5940139491234",
			AmountMinor: 19900, Currency: "USD", CreatedAt: utc("2024-11-15T16:00:00Z")}
		if ev.Kind != commerce.KindRefund || ev.Refund == nil || *ev.Refund != want {
			t.Fatalf("event = %+v, refund %+v", ev, ev.Refund)
		}
	})
	t.Run("customers/create", func(t *testing.T) {
		ev, err := shopify.Parse(shopify.TopicCustomersCreate, shop, readFixture(t, "customers_create"))
		if err != nil {
			t.Fatal(err)
		}
		want := commerce.Customer{Source: commerce.SourceShopify, Shop: shop, ExternalID: "7390866407586", Email: "bob.norman@example.com",
			Phone: "+16135550142", FirstName: "Bob", LastName: "Norman", UpdatedAt: utc("2024-11-16T13:00:05Z")}
		if ev.Kind != commerce.KindCustomer || ev.Customer == nil || *ev.Customer != want {
			t.Fatalf("event = %+v, customer %+v", ev, ev.Customer)
		}
	})
	for _, c := range []struct {
		topic, file string
		kind        commerce.Kind
	}{
		{shopify.TopicAppUninstalled, "app_uninstalled", commerce.KindUninstalled},
		{"collections/update", "products_update", commerce.KindUnknown},
		{"orders/delete", "products_delete", commerce.KindUnknown},
	} {
		t.Run(c.topic, func(t *testing.T) {
			ev, err := shopify.Parse(c.topic, shop, readFixture(t, c.file))
			if err != nil || ev.Kind != c.kind || ev.Order != nil || ev.Customer != nil || ev.Refund != nil || ev.Product != nil {
				t.Fatalf("Parse = %+v, %v; want kind %s alone", ev, err, c.kind)
			}
		})
	}
}

// TestParseBuiltPayloads checks the builders of shopifytest against the
// parser: what a spec says is what the parser reads.
func TestParseBuiltPayloads(t *testing.T) {
	est := time.FixedZone("EST", -5*3600)
	cancelled := time.Date(2024, 3, 2, 9, 0, 0, 0, est)
	spec := shopifytest.OrderSpec{
		ID: 450789469, Name: "#7001", Email: "Yuki@Example.jp", Phone: "+81 3-1234-5678",
		Customer:          &shopifytest.CustomerSpec{ID: 207119551, Email: "yuki@example.jp", FirstName: "Yuki", UpdatedAt: time.Date(2024, 3, 1, 8, 0, 0, 0, est)},
		FinancialStatus:   "refunded",
		FulfillmentStatus: "fulfilled",
		TotalPrice:        "12000", Currency: "JPY",
		LineItems: []shopifytest.LineItemSpec{{ID: 466157049, Title: "Tea set", SKU: "TEA-1", Quantity: 2, Price: "6000", ProductID: 632910392, VariantID: 39072856}},
		Tracking:  []shopifytest.TrackingSpec{{Company: "Japan Post", Numbers: []string{"EJ123456789JP"}, URLs: []string{"https://trackings.post.japanpost.jp/?n=EJ123456789JP"}, ShipmentStatus: "delivered"}},
		Refunds: []shopifytest.RefundSpec{{ID: 509562969, CreatedAt: cancelled, Transactions: []shopifytest.TransactionSpec{
			{Amount: "12000", Currency: "JPY"}, {Amount: "500", Currency: "JPY", Kind: "refund", Status: "failure"},
		}}},
		CreatedAt: time.Date(2024, 3, 1, 8, 0, 0, 0, est), UpdatedAt: time.Date(2024, 3, 2, 9, 0, 1, 0, est), CancelledAt: &cancelled,
	}
	ev, err := shopify.Parse(shopify.TopicOrdersCancelled, shop, shopifytest.OrderPayload(spec))
	if err != nil {
		t.Fatal(err)
	}
	o := ev.Order
	if o.ExternalID != "450789469" || o.Number != "7001" || o.Email != "yuki@example.jp" || o.Phone != "+81312345678" ||
		o.TotalMinor != 12000 || o.RefundedMinor != 12000 || o.Currency != "JPY" || o.FinancialStatus != "refunded" || o.FulfillmentStatus != "fulfilled" {
		t.Errorf("order = %+v", o)
	}
	if o.CancelledAt == nil || !o.CancelledAt.Equal(cancelled) || o.CancelledAt.Location() != time.UTC {
		t.Errorf("cancelled_at = %v", o.CancelledAt)
	}
	if len(o.Tracking) != 1 || o.Tracking[0].Status != "delivered" || len(o.LineItems) != 1 || o.LineItems[0].PriceMinor != 6000 {
		t.Errorf("tracking %+v, items %+v", o.Tracking, o.LineItems)
	}

	refund := shopifytest.RefundSpec{ID: 509562969, OrderID: 450789469, CreatedAt: cancelled,
		LineItems: []shopifytest.RefundLineItemSpec{{LineItemID: 466157049, Quantity: 1, Subtotal: "6000", Currency: "JPY"}}}
	ev, err = shopify.Parse(shopify.TopicRefundsCreate, shop, shopifytest.RefundPayload(refund))
	if err != nil || ev.Refund.AmountMinor != 0 || ev.Refund.Currency != "JPY" {
		t.Errorf("a restock-only refund = %+v, %v; want 0 JPY", ev.Refund, err)
	}
	ev, err = shopify.Parse(shopify.TopicCustomersUpdate, shop, shopifytest.CustomerPayload(shopifytest.CustomerSpec{
		ID: 207119551, Email: "a@b.co", DefaultAddress: &shopifytest.AddressSpec{Phone: "(555) 123-4567", CountryCode: "US"}}))
	if err != nil || ev.Customer.Phone != "+15551234567" {
		t.Errorf("customer with the default address's phone = %+v, %v", ev.Customer, err)
	}
}

func TestParseRefuses(t *testing.T) {
	order := func(edit func(m map[string]any)) []byte {
		var m map[string]any
		if err := json.Unmarshal(readFixture(t, "orders_create"), &m); err != nil {
			t.Fatal(err)
		}
		edit(m)
		b, _ := json.Marshal(m)
		return b
	}
	deep := strings.Repeat(`{"a":`, 70) + "1" + strings.Repeat("}", 70)
	for _, c := range []struct {
		name, topic, shop string
		body              []byte
		currency          bool // also wraps commerce.ErrCurrency
	}{
		{"not JSON", shopify.TopicOrdersCreate, shop, []byte(`{"id":`), false},
		{"an array", shopify.TopicOrdersCreate, shop, []byte(`[{"id":1}]`), false},
		{"null", shopify.TopicCustomersCreate, shop, []byte(`null`), false},
		{"a string for an unknown topic", "collections/update", shop, []byte(`"x"`), false},
		{"too deep for an unknown topic", "collections/update", shop, []byte(deep), false},
		{"no shop", shopify.TopicOrdersCreate, "", readFixture(t, "orders_create"), false},
		{"order without id", shopify.TopicOrdersCreate, shop, order(func(m map[string]any) { delete(m, "id") }), false},
		{"order id with a fraction", shopify.TopicOrdersCreate, shop, order(func(m map[string]any) { m["id"] = 1.5 }), false},
		{"order id an object", shopify.TopicOrdersCreate, shop, order(func(m map[string]any) { m["id"] = map[string]any{} }), false},
		{"total with too many decimals", shopify.TopicOrdersPaid, shop, order(func(m map[string]any) { m["total_price"] = "403.001" }), false},
		{"total not a number", shopify.TopicOrdersPaid, shop, order(func(m map[string]any) { m["total_price"] = "4O3.00" }), false},
		{"no total", shopify.TopicOrdersPaid, shop, order(func(m map[string]any) { delete(m, "total_price") }), false},
		{"line price unparsable", shopify.TopicOrdersPaid, shop, order(func(m map[string]any) {
			m["line_items"].([]any)[0].(map[string]any)["price"] = "1e2"
		}), false},
		{"unknown currency", shopify.TopicOrdersUpdated, shop, order(func(m map[string]any) { m["currency"] = "XYZ" }), true},
		{"no currency", shopify.TopicOrdersUpdated, shop, order(func(m map[string]any) { delete(m, "currency") }), true},
		{"created_at without offset", shopify.TopicOrdersUpdated, shop, order(func(m map[string]any) { m["created_at"] = "2024-11-10 10:30:00" }), false},
		{"quantity a string", shopify.TopicOrdersUpdated, shop, order(func(m map[string]any) {
			m["line_items"].([]any)[0].(map[string]any)["quantity"] = "1"
		}), false},
		{"refund without order_id", shopify.TopicRefundsCreate, shop, []byte(`{"id":1,"transactions":[{"kind":"refund","status":"success","amount":"1.00","currency":"USD"}]}`), false},
		{"refund without any currency", shopify.TopicRefundsCreate, shop, []byte(`{"id":1,"order_id":2,"transactions":[{"kind":"refund","status":"success","amount":"1.00","currency":null}]}`), true},
		{"refund in two currencies", shopify.TopicRefundsCreate, shop, []byte(`{"id":1,"order_id":2,"transactions":[{"kind":"refund","status":"success","amount":"1.00","currency":"USD"},{"kind":"refund","status":"success","amount":"1.00","currency":"EUR"}]}`), false},
		{"customer without id", shopify.TopicCustomersUpdate, shop, []byte(`{"email":"a@b.co"}`), false},
	} {
		t.Run(c.name, func(t *testing.T) {
			ev, err := shopify.Parse(c.topic, c.shop, c.body)
			if !errors.Is(err, commerce.ErrMalformed) {
				t.Fatalf("Parse = %+v, %v; want an error wrapping commerce.ErrMalformed", ev, err)
			}
			if c.currency && !errors.Is(err, commerce.ErrCurrency) {
				t.Fatalf("Parse error %v does not wrap commerce.ErrCurrency", err)
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	for _, fx := range fixtures {
		f.Add(fx.topic, readFixture(f, fx.file))
	}
	f.Add(shopify.TopicOrdersCreate, shopifytest.OrderPayload(shopifytest.OrderSpec{ID: 1, TotalPrice: "1.5", Currency: "KWD",
		Tracking: []shopifytest.TrackingSpec{{Numbers: []string{"a", "b"}, URLs: []string{"u"}}}}))
	f.Add(shopify.TopicRefundsCreate, shopifytest.RefundPayload(shopifytest.RefundSpec{ID: 2, OrderID: 1,
		Transactions: []shopifytest.TransactionSpec{{Amount: "3", Currency: "JPY"}}}))
	f.Add(shopify.TopicCustomersUpdate, []byte(`{"id":"12","phone":"+1 555 0100 123"}`))
	f.Add("orders/paid", []byte(`{"id":1,"total_price":"1","currency":"usd","line_items":[{"price":"0.1"}]}`))
	f.Add(shopify.TopicProductsUpdate, shopifytest.ProductPayload(hoodieSpec()))
	f.Add(shopify.TopicProductsCreate, []byte(`{"id":"3","variants":[{"id":4,"price":"1.5","inventory_management":null,"inventory_quantity":-1}]}`))
	f.Add(shopify.TopicProductsDelete, []byte(`{"id":3}`))
	f.Fuzz(func(t *testing.T, topic string, body []byte) {
		ev, err := shopify.Parse(topic, shop, body)
		if err != nil {
			if !errors.Is(err, commerce.ErrMalformed) {
				t.Fatalf("error %v does not wrap commerce.ErrMalformed", err)
			}
			return
		}
		switch ev.Kind {
		case commerce.KindOrder:
			o := ev.Order
			if o == nil || o.Source != commerce.SourceShopify || o.Shop != shop || o.ExternalID == "" {
				t.Fatalf("order %+v", o)
			}
			validCurrency(t, o.Currency)
			if o.Customer != nil && (o.Customer.ExternalID == "" || o.Customer.Shop != shop) {
				t.Fatalf("order customer %+v", o.Customer)
			}
		case commerce.KindRefund:
			r := ev.Refund
			if r == nil || r.Source != commerce.SourceShopify || r.Shop != shop || r.ExternalID == "" || r.OrderExternalID == "" {
				t.Fatalf("refund %+v", r)
			}
			validCurrency(t, r.Currency)
		case commerce.KindCustomer:
			c := ev.Customer
			if c == nil || c.Source != commerce.SourceShopify || c.Shop != shop || c.ExternalID == "" {
				t.Fatalf("customer %+v", c)
			}
		case commerce.KindProduct:
			p := ev.Product
			if p == nil || p.Source != commerce.SourceShopify || p.Shop != shop || p.ExternalID == "" || p.Currency != "" {
				t.Fatalf("product %+v", p)
			}
			for _, v := range p.Variants {
				if v.ExternalID == "" || v.PriceMinor != 0 {
					t.Fatalf("variant %+v", v)
				}
			}
			// Every price Parse accepts converts in a currency with enough
			// decimals, or is refused as ErrMalformed.
			if err := p.SetCurrency("KWD"); err != nil && !errors.Is(err, commerce.ErrMalformed) {
				t.Fatalf("SetCurrency: %v", err)
			}
		case commerce.KindUninstalled, commerce.KindUnknown:
		default:
			t.Fatalf("kind %q", ev.Kind)
		}
	})
}

func validCurrency(t *testing.T, code string) {
	t.Helper()
	if _, err := commerce.MinorUnits(code); err != nil || code != strings.ToUpper(code) {
		t.Fatalf("currency %q: %v", code, err)
	}
}
