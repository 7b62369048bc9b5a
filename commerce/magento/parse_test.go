package magento_test

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
	"github.com/frontdesk-ai/frontdesk/commerce/magento"
	"github.com/frontdesk-ai/frontdesk/commerce/magento/magentotest"
)

var update = flag.Bool("update", false, "rewrite testdata/webhooks/*.golden.json from the parser's output")

const shop = "shop.example.com"

// fixtures are the webhook bodies under testdata/webhooks with the event
// name the caller knows ("" when only the body can tell).
var fixtures = []struct{ file, name string }{
	{"async_order", magentotest.AsyncOrderCreated},
	{"async_customer", ""},
	{"adobe_order_save_after", ""},
	{"adobe_customer_save_after", ""},
	{"adobe_creditmemo_save_after", ""},
	{"adobe_order_unnamed", ""},
	{"adobe_shipment_save_after", ""},
}

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "webhooks", name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestParseGolden holds each fixture's normalized event and name to its
// golden file (go test -update rewrites them; review the diff).
func TestParseGolden(t *testing.T) {
	for _, f := range fixtures {
		t.Run(f.file, func(t *testing.T) {
			ev, name, err := magento.ParseNamed(shop, f.name, readFixture(t, f.file))
			if err != nil {
				t.Fatalf("ParseNamed: %v", err)
			}
			out, err := json.MarshalIndent(struct {
				Name  string         `json:"name"`
				Event commerce.Event `json:"event"`
			}{name, ev}, "", "  ")
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
				t.Errorf("ParseNamed(%s) differs from %s:\n%s", f.file, golden, out)
			}
		})
	}
}

func at(s string) time.Time {
	t, err := time.Parse("2006-01-02 15:04:05", s)
	if err != nil {
		panic(err)
	}
	return t
}

// TestParseMapping states, apart from the golden files, what each field
// becomes.
func TestParseMapping(t *testing.T) {
	t.Run("async-events order (REST shape, no event name)", func(t *testing.T) {
		ev, name, err := magento.Parse("Shop.Example.com", readFixture(t, "async_order"))
		if err != nil {
			t.Fatal(err)
		}
		want := commerce.Order{
			Source: commerce.SourceMagento, Shop: shop, ExternalID: "3", Number: "000000003",
			Email: "jdoe@example.com", Phone: "+15125551111",
			Customer: &commerce.Customer{Source: commerce.SourceMagento, Shop: shop, ExternalID: "3", Email: "jdoe@example.com",
				Phone: "+15125551111", FirstName: "Jane", LastName: "Doe"},
			// processing is paid; one of three shippable lines shipped.
			FinancialStatus: "paid", FulfillmentStatus: "partial", TotalMinor: 16500, Currency: "USD",
			// The bundle's and the configurable's children are left out.
			LineItems: []commerce.LineItem{
				{ExternalID: "3", Title: "Radiant Tee-M-Orange", SKU: "WS12-M-Orange", Quantity: 1, PriceMinor: 2200, ProductID: "1553"},
				{ExternalID: "4", Title: "Advanced Pilates & Yoga (Strength)", SKU: "240-LV08", Quantity: 1, PriceMinor: 1800, ProductID: "49"},
				{ExternalID: "5", Title: "Sprite Yoga Companion Kit", SKU: "24-WG080-24-WG084-24-WG088-24-WG082-blue-24-WG086", Quantity: 1, PriceMinor: 6800, ProductID: "51"},
				{ExternalID: "10", Title: "Chaz Kangeroo Hoodie", SKU: "MH01-S-Gray", Quantity: 1, PriceMinor: 5200, ProductID: "67"},
			},
			CreatedAt: at("2024-08-21 22:22:19"), UpdatedAt: at("2024-08-21 22:30:02"),
		}
		if name != "" || ev.Kind != commerce.KindOrder || !reflect.DeepEqual(*ev.Order, want) {
			t.Fatalf("Parse = %q, %+v\nwant order %+v", name, ev.Order, want)
		}
	})
	t.Run("Adobe observer order (model data)", func(t *testing.T) {
		ev, name, err := magento.Parse(shop, readFixture(t, "adobe_order_save_after"))
		if err != nil {
			t.Fatal(err)
		}
		o := ev.Order
		if name != "observer.sales_order_save_after" || o.ExternalID != "17" || o.Number != "000000017" || o.Customer != nil {
			t.Errorf("name %q, order %+v", name, o)
		}
		if o.FinancialStatus != "partially_refunded" || o.FulfillmentStatus != "fulfilled" || o.TotalMinor != 4990 || o.RefundedMinor != 1000 || o.Currency != "EUR" {
			t.Errorf("statuses and money: %+v", o)
		}
		if o.Phone != "+33123456789" { // the billing address's, read in France
			t.Errorf("phone %q", o.Phone)
		}
		if len(o.LineItems) != 1 || o.LineItems[0].Quantity != 2 || o.LineItems[0].PriceMinor != 1995 {
			t.Errorf("items keyed by id: %+v", o.LineItems)
		}
		if len(o.Tracking) != 1 || o.Tracking[0] != (commerce.Tracking{Company: "Colissimo", Number: "6A12345678901"}) {
			t.Errorf("tracking %+v", o.Tracking)
		}
	})
	t.Run("canceled order", func(t *testing.T) {
		ev, _, err := magento.Parse(shop, readFixture(t, "adobe_order_unnamed"))
		if err != nil {
			t.Fatal(err)
		}
		o := ev.Order
		if o.FinancialStatus != "voided" || o.CancelledAt == nil || !o.CancelledAt.Equal(at("2024-09-06 02:00:00")) || o.TotalMinor != 1200 || o.Currency != "JPY" ||
			o.Phone != "+81312345678" || o.Customer == nil || o.Customer.ExternalID != "9" {
			t.Fatalf("order %+v", o)
		}
	})
	t.Run("customers", func(t *testing.T) {
		ev, _, err := magento.Parse(shop, readFixture(t, "async_customer"))
		if err != nil || ev.Kind != commerce.KindCustomer {
			t.Fatal(ev, err)
		}
		want := commerce.Customer{Source: commerce.SourceMagento, Shop: shop, ExternalID: "3", Email: "jdoe@example.com",
			Phone: "+15125551111", FirstName: "Jane", LastName: "Doe", UpdatedAt: at("2024-08-21 21:52:10")}
		if *ev.Customer != want {
			t.Errorf("REST customer %+v (the default billing address's phone)", ev.Customer)
		}
		ev, _, err = magento.Parse(shop, readFixture(t, "adobe_customer_save_after"))
		if err != nil || ev.Customer.ExternalID != "42" || ev.Customer.Email != "hans.muster@example.ch" || ev.Customer.Phone != "" {
			t.Errorf("model customer %+v, %v", ev.Customer, err)
		}
	})
	t.Run("credit memo", func(t *testing.T) {
		ev, _, err := magento.Parse(shop, readFixture(t, "adobe_creditmemo_save_after"))
		want := commerce.Refund{Source: commerce.SourceMagento, Shop: shop, ExternalID: "8", OrderExternalID: "17", AmountMinor: 1000, Currency: "EUR", CreatedAt: at("2024-09-05 17:40:11")}
		if err != nil || ev.Kind != commerce.KindRefund || *ev.Refund != want {
			t.Fatalf("Parse = %+v, %v", ev.Refund, err)
		}
	})
}

// TestParseBuiltPayloads runs magentotest's builders through both body
// shapes: a spec reads the same from REST and from model data.
func TestParseBuiltPayloads(t *testing.T) {
	spec := magentotest.OrderSpec{
		EntityID: 204, State: "closed", Email: "Ana@Example.com", FirstName: "Ana", LastName: "Lima", CustomerID: 77,
		Telephone: "(11) 91234-5678", CountryID: "BR", GrandTotal: "250.5", TotalRefunded: "250.5", Currency: "BRL",
		Items: []magentotest.ItemSpec{
			{ItemID: 1, ProductID: 10, Name: "Hoodie", SKU: "H-M", ProductType: "configurable", Qty: 1, QtyShipped: 1, Price: "250.50"},
			{ItemID: 2, ParentItemID: 1, ProductID: 11, Name: "Hoodie-M", SKU: "H-M", Qty: 1, QtyShipped: 1, Price: "0"},
		},
		CreatedAt: time.Date(2024, 2, 1, 10, 0, 0, 0, time.UTC), UpdatedAt: time.Date(2024, 2, 3, 10, 0, 0, 0, time.UTC),
	}
	rest, _, err := magento.Parse(shop, magentotest.AsyncEventBody(magentotest.OrderJSON(spec)))
	if err != nil {
		t.Fatal(err)
	}
	model, name, err := magento.Parse(shop, magentotest.WebhookBody(magentotest.EventOrderSaveAfter, "order", magentotest.OrderModelData(spec)))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(rest, model) || name != magentotest.EventOrderSaveAfter {
		t.Fatalf("REST\n%+v\nmodel data\n%+v", rest.Order, model.Order)
	}
	o := rest.Order
	if o.Number != "000000204" || o.FinancialStatus != "refunded" || o.FulfillmentStatus != "fulfilled" || o.TotalMinor != 25050 ||
		o.RefundedMinor != 25050 || o.Phone != "+5511912345678" || len(o.LineItems) != 1 || o.Customer.ExternalID != "77" {
		t.Errorf("order %+v", o)
	}

	c := magentotest.CustomerSpec{ID: 77, Email: "ana@example.com", FirstName: "Ana", Telephone: "+55 11 91234-5678", CountryID: "BR", UpdatedAt: spec.UpdatedAt}
	restC, _, err1 := magento.Parse(shop, magentotest.AsyncEventBody(magentotest.CustomerJSON(c)))
	modelC, _, err2 := magento.Parse(shop, magentotest.WebhookBody(magentotest.EventCustomerSaveAfter, "customer", magentotest.CustomerModelData(c)))
	if err1 != nil || err2 != nil || restC.Customer.Phone != "+5511912345678" || modelC.Customer.ExternalID != "77" || !modelC.Customer.UpdatedAt.Equal(spec.UpdatedAt) {
		t.Errorf("customers %+v %v, %+v %v", restC.Customer, err1, modelC.Customer, err2)
	}
	m := magentotest.CreditMemoSpec{EntityID: 9, OrderID: 204, GrandTotal: "0.05", Currency: "KWD", CreatedAt: spec.UpdatedAt}
	r, _, err := magento.Parse(shop, magentotest.AsyncEventBody(magentotest.CreditMemoJSON(m)))
	if err != nil || r.Kind != commerce.KindRefund || r.Refund.AmountMinor != 50 || r.Refund.OrderExternalID != "204" {
		t.Errorf("credit memo %+v, %v", r.Refund, err)
	}
}

func TestParseNames(t *testing.T) {
	order := magentotest.OrderJSON(magentotest.OrderSpec{EntityID: 1, GrandTotal: "1", Currency: "USD"})
	customer := magentotest.CustomerModelData(magentotest.CustomerSpec{ID: 2, Email: "a@b.co"})
	memo := magentotest.CreditMemoJSON(magentotest.CreditMemoSpec{EntityID: 3, OrderID: 1, GrandTotal: "1", Currency: "USD"})
	for _, c := range []struct {
		name string
		body []byte
		kind commerce.Kind
	}{
		{"sales.order.created", magentotest.AsyncEventBody(order), commerce.KindOrder},
		{"observer.sales_order_place_after", magentotest.WebhookBody("", "order", order), commerce.KindOrder},
		{"observer.order_cancel_after", magentotest.WebhookBody("", "order", order), commerce.KindOrder},
		{"plugin.magento.sales.api.order_repository.save", magentotest.WebhookBody("", "entity", order), commerce.KindOrder},
		{"observer.customer_register_success", magentotest.WebhookBody("", "customer", customer), commerce.KindCustomer},
		{"observer.customer_save_after", magentotest.WebhookBody("", "data_object", customer), commerce.KindCustomer},
		{"observer.sales_order_creditmemo_save_after", magentotest.WebhookBody("", "creditmemo", memo), commerce.KindRefund},
		{"sales.creditmemo.created", magentotest.AsyncEventBody(memo), commerce.KindRefund},
		{"observer.sales_order_place_before", magentotest.WebhookBody("", "order", order), commerce.KindUnknown},
		{"observer.sales_order_shipment_save_after", magentotest.WebhookBody("", "shipment", order), commerce.KindUnknown},
		{"observer.sales_order_invoice_pay", magentotest.WebhookBody("", "invoice", order), commerce.KindUnknown},
		{"observer.customer_address_save_after", magentotest.WebhookBody("", "customer_address", customer), commerce.KindUnknown},
		{"observer.customer_delete_after", magentotest.WebhookBody("", "customer", customer), commerce.KindUnknown},
		{"observer.catalog_product_save_after", magentotest.WebhookBody("", "product", []byte(`{"sku":"x"}`)), commerce.KindUnknown},
	} {
		t.Run(c.name, func(t *testing.T) {
			ev, name, err := magento.ParseNamed(shop, c.name, c.body)
			if err != nil || ev.Kind != c.kind || name != c.name {
				t.Fatalf("ParseNamed = %s %q, %v; want %s", ev.Kind, name, err, c.kind)
			}
		})
	}
	t.Run("the body's eventName wins", func(t *testing.T) {
		ev, name, err := magento.ParseNamed(shop, "sales.order.created", magentotest.WebhookBody(magentotest.EventCustomerSaveAfter, "customer", customer))
		if err != nil || ev.Kind != commerce.KindCustomer || name != magentotest.EventCustomerSaveAfter {
			t.Fatalf("ParseNamed = %s %q, %v", ev.Kind, name, err)
		}
	})
	t.Run("unnamed data of no known shape", func(t *testing.T) {
		ev, name, err := magento.Parse(shop, []byte(`{"data":{"sku":"x","qty":2}}`))
		if err != nil || ev.Kind != commerce.KindUnknown || name != "" {
			t.Fatalf("Parse = %+v %q, %v", ev, name, err)
		}
	})
}

func TestParseRefuses(t *testing.T) {
	order := func(edit func(m map[string]any)) []byte {
		var m map[string]any
		if err := json.Unmarshal(readFixture(t, "async_order"), &m); err != nil {
			t.Fatal(err)
		}
		edit(m["data"].(map[string]any))
		b, _ := json.Marshal(m)
		return b
	}
	deep := `{"data":` + strings.Repeat(`[`, 70) + strings.Repeat(`]`, 70) + "}"
	for _, c := range []struct {
		name, shop, event string
		body              []byte
		currency          bool
	}{
		{"not JSON", shop, "", []byte(`{"data":`), false},
		{"an array", shop, "", []byte(`[{"op":"success"}]`), false},
		{"null", shop, "", []byte(`null`), false},
		{"too deep", shop, "", []byte(deep), false},
		{"no shop", "", "", readFixture(t, "async_order"), false},
		{"eventName a number", shop, "", []byte(`{"eventName":5,"data":{}}`), false},
		{"order without entity_id", shop, "", order(func(m map[string]any) { delete(m, "entity_id") }), false},
		{"named order without entity_id", shop, "sales.order.created", []byte(`{"data":{"increment_id":"1"}}`), false},
		{"entity_id not a number", shop, "", order(func(m map[string]any) { m["entity_id"] = "3a" }), false},
		{"grand_total in exponent form", shop, "", order(func(m map[string]any) { m["grand_total"] = json.Number("1.65e2") }), false},
		{"grand_total with too many decimals", shop, "", order(func(m map[string]any) { m["grand_total"] = "165.0050" }), false},
		{"grand_total an object", shop, "", order(func(m map[string]any) { m["grand_total"] = map[string]any{} }), false},
		{"unknown currency", shop, "", order(func(m map[string]any) { m["order_currency_code"] = "ABC" }), true},
		{"item price unparsable", shop, "", order(func(m map[string]any) { m["items"].([]any)[0].(map[string]any)["price"] = "22,00" }), false},
		{"negative quantity", shop, "", order(func(m map[string]any) { m["items"].([]any)[0].(map[string]any)["qty_ordered"] = -1 }), false},
		{"created_at unreadable", shop, "", order(func(m map[string]any) { m["created_at"] = "21/08/2024" }), false},
		{"credit memo without order_id", shop, "observer.sales_order_creditmemo_save_after", []byte(`{"data":{"creditmemo":{"entity_id":"8","grand_total":"1","order_currency_code":"EUR"}}}`), false},
		{"credit memo without currency", shop, "observer.sales_order_creditmemo_save_after", []byte(`{"data":{"creditmemo":{"entity_id":"8","order_id":"1","grand_total":"1"}}}`), true},
		{"customer without id", shop, "observer.customer_save_after", []byte(`{"data":{"customer":{"email":"a@b.co"}}}`), false},
	} {
		t.Run(c.name, func(t *testing.T) {
			ev, _, err := magento.ParseNamed(c.shop, c.event, c.body)
			if !errors.Is(err, commerce.ErrMalformed) {
				t.Fatalf("ParseNamed = %+v, %v; want commerce.ErrMalformed", ev, err)
			}
			if c.currency && !errors.Is(err, commerce.ErrCurrency) {
				t.Fatalf("error %v does not wrap commerce.ErrCurrency", err)
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	for _, fx := range fixtures {
		f.Add(fx.name, readFixture(f, fx.file))
	}
	spec := magentotest.OrderSpec{EntityID: 5, GrandTotal: "1.005", Currency: "BHD", Items: []magentotest.ItemSpec{{ItemID: 1, Qty: 3, Price: "0.335"}}}
	f.Add("", magentotest.WebhookBody(magentotest.EventOrderSaveAfter, "order", magentotest.OrderModelData(spec)))
	f.Add("sales.creditmemo.created", magentotest.AsyncEventBody(magentotest.CreditMemoJSON(magentotest.CreditMemoSpec{EntityID: 1, OrderID: 2, GrandTotal: "3", Currency: "JPY"})))
	f.Add("", []byte(`{"data":{"items":{"2":{"item_id":"2"}},"increment_id":"1","order_currency_code":"usd","entity_id":"1","grand_total":"1"}}`))
	f.Fuzz(func(t *testing.T, name string, body []byte) {
		ev, _, err := magento.ParseNamed(shop, name, body)
		if err != nil {
			if !errors.Is(err, commerce.ErrMalformed) {
				t.Fatalf("error %v does not wrap commerce.ErrMalformed", err)
			}
			return
		}
		switch ev.Kind {
		case commerce.KindOrder:
			o := ev.Order
			if o == nil || o.Source != commerce.SourceMagento || o.Shop != shop || o.ExternalID == "" || o.Number == "" {
				t.Fatalf("order %+v", o)
			}
			validCurrency(t, o.Currency)
			if o.Customer != nil && (o.Customer.ExternalID == "" || o.Customer.Shop != shop) {
				t.Fatalf("order customer %+v", o.Customer)
			}
		case commerce.KindRefund:
			r := ev.Refund
			if r == nil || r.Source != commerce.SourceMagento || r.Shop != shop || r.ExternalID == "" || r.OrderExternalID == "" {
				t.Fatalf("refund %+v", r)
			}
			validCurrency(t, r.Currency)
		case commerce.KindCustomer:
			c := ev.Customer
			if c == nil || c.Source != commerce.SourceMagento || c.Shop != shop || c.ExternalID == "" {
				t.Fatalf("customer %+v", c)
			}
		case commerce.KindUnknown:
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
