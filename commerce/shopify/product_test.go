package shopify_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/frontdesk-ai/frontdesk/commerce"
	"github.com/frontdesk-ai/frontdesk/commerce/shopify"
	"github.com/frontdesk-ai/frontdesk/commerce/shopify/shopifytest"
)

func ptr[T any](v T) *T { return &v }

// hoodieSpec is a published product with two options and four variants.
func hoodieSpec() shopifytest.ProductSpec {
	cet := time.FixedZone("CET", 3600)
	published := time.Date(2024, 3, 4, 10, 20, 0, 0, cet)
	return shopifytest.ProductSpec{
		ID: 8204521734327, Title: "Organic Cotton Hoodie", Handle: "organic-cotton-hoodie",
		BodyHTML: "<p>100% organic cotton</p>", Vendor: "Nordlicht Apparel", ProductType: "Hoodies",
		Tags:    []string{"cotton", "hoodie"},
		Options: []shopifytest.OptionSpec{{Name: "Size", Values: []string{"S", "M"}}, {Name: "Color", Values: []string{"Blue", "Black"}}},
		Variants: []shopifytest.VariantSpec{
			{ID: 44790012870839, OptionValues: []string{"S", "Blue"}, SKU: "HOOD-S-BLU", Price: "59.90", CompareAtPrice: "79.00", Tracked: true, InventoryQuantity: 12},
			{ID: 44790012903607, OptionValues: []string{"S", "Black"}, SKU: "HOOD-S-BLK", Price: "59.90", Tracked: true},
			{ID: 44790012936375, OptionValues: []string{"M", "Blue"}, Price: "64.90", Tracked: true, InventoryPolicy: "continue", InventoryQuantity: -2},
			{ID: 44790012969143, OptionValues: []string{"M", "Black"}, Price: "64.00", InventoryQuantity: 0},
		},
		PublishedAt: &published,
		CreatedAt:   time.Date(2024, 3, 4, 10, 15, 22, 0, cet), UpdatedAt: time.Date(2024, 3, 4, 10, 21, 7, 0, cet),
	}
}

// TestParseProducts states what each product fixture becomes, before and
// after the shop currency is set.
func TestParseProducts(t *testing.T) {
	t.Run("products/create with two options and tracked stock", func(t *testing.T) {
		ev, err := shopify.Parse(shopify.TopicProductsCreate, shop, readFixture(t, "products_create"))
		if err != nil {
			t.Fatal(err)
		}
		if ev.Kind != commerce.KindProduct || ev.Product == nil || ev.Order != nil {
			t.Fatalf("event = %+v", ev)
		}
		p := *ev.Product
		want := commerce.Product{
			Source: commerce.SourceShopify, Shop: shop, ExternalID: "8204521734327", Handle: "organic-cotton-hoodie",
			Title:       "Organic Cotton Hoodie",
			Description: "<p>Our heavyweight hoodie in <strong>100% organic cotton</strong> (420 g/m²), brushed inside.</p>\n<ul>\n<li>Relaxed fit</li>\n<li>Machine wash at 30 °C</li>\n</ul>",
			Vendor:      "Nordlicht Apparel", ProductType: "Hoodies", Tags: []string{"cotton", "hoodie", "organic", "winter"},
			Status:  "active",
			Options: []commerce.ProductOption{{Name: "Size", Values: []string{"S", "M"}}, {Name: "Color", Values: []string{"Blue", "Black"}}},
			Variants: []commerce.Variant{
				{ExternalID: "44790012870839", Title: "S / Blue", SKU: "HOOD-S-BLU", Price: "59.90", CompareAtPrice: "79.00", Available: ptr(true), Inventory: ptr(12)},
				{ExternalID: "44790012903607", Title: "S / Black", SKU: "HOOD-S-BLK", Price: "59.90", CompareAtPrice: "79.00", Available: ptr(false), Inventory: ptr(0)},
				// Oversold, but sold when out of stock.
				{ExternalID: "44790012936375", Title: "M / Blue", SKU: "HOOD-M-BLU", Price: "64.90", Available: ptr(true), Inventory: ptr(-2)},
				{ExternalID: "44790012969143", Title: "M / Black", Price: "64.90", CompareAtPrice: "0.00", Available: ptr(true), Inventory: ptr(3)},
			},
			URL:       "https://acme.myshopify.com/products/organic-cotton-hoodie",
			UpdatedAt: utc("2024-03-04T09:21:07Z"),
		}
		if !reflect.DeepEqual(p, want) {
			t.Fatalf("product =\n%+v\nwant\n%+v", p, want)
		}

		if err := p.SetCurrency("eur"); err != nil {
			t.Fatal(err)
		}
		var minors []string
		for _, v := range p.Variants {
			minors = append(minors, fmt.Sprintf("%d/%d %s/%s", v.PriceMinor, v.CompareAtMinor, v.Price, v.CompareAtPrice))
		}
		if got := strings.Join(minors, " "); p.Currency != "EUR" || got != "5990/7900 59.90/79.00 5990/7900 59.90/79.00 6490/0 64.90/ 6490/0 64.90/" {
			t.Errorf("in %s: %s (a zero compare-at price is none)", p.Currency, got)
		}
		if ev.Product.Currency != "" || ev.Product.Variants[0].PriceMinor != 0 {
			t.Errorf("SetCurrency changed the parsed event's variants through a shared slice")
		}
	})
	t.Run("products/update of an untracked product", func(t *testing.T) {
		ev, err := shopify.Parse(shopify.TopicProductsUpdate, shop, readFixture(t, "products_update_untracked"))
		if err != nil {
			t.Fatal(err)
		}
		p := ev.Product
		if len(p.Options) != 0 || p.Tags != nil || len(p.Variants) != 1 {
			t.Fatalf("options %+v, tags %q, variants %+v: the default option and empty tags are none", p.Options, p.Tags, p.Variants)
		}
		want := commerce.Variant{ExternalID: "44790017622199", Price: "25.00", Available: ptr(true)}
		if v := p.Variants[0]; !reflect.DeepEqual(v, want) {
			t.Errorf("untracked variant = %+v, want %+v: no title, no stock count, always available", v, want)
		}
		if p.URL != "https://acme.myshopify.com/products/gift-card" || p.Status != "active" {
			t.Errorf("url %q, status %q", p.URL, p.Status)
		}
	})
	t.Run("products/update of a draft, in the shape of 2024-07 and later", func(t *testing.T) {
		ev, err := shopify.Parse(shopify.TopicProductsUpdate, shop, readFixture(t, "products_update"))
		if err != nil {
			t.Fatal(err)
		}
		p := ev.Product
		if p.Status != "draft" || p.URL != "" || p.Handle != "merino-beanie" || !p.UpdatedAt.Equal(utc("2024-11-16T07:00:00Z")) {
			t.Errorf("status %q, url %q (a draft has none), handle %q, updated %v", p.Status, p.URL, p.Handle, p.UpdatedAt)
		}
		// No inventory_management: the count is kept, availability unsaid.
		for i, inv := range []int{0, 40} {
			if v := p.Variants[i]; v.Available != nil || v.Inventory == nil || *v.Inventory != inv {
				t.Errorf("variant %d: available %v, inventory %v; want nil, %d", i, v.Available, v.Inventory, inv)
			}
		}
	})
	t.Run("products/delete", func(t *testing.T) {
		ev, err := shopify.Parse(shopify.TopicProductsDelete, shop, readFixture(t, "products_delete"))
		if err != nil {
			t.Fatal(err)
		}
		want := commerce.Product{Source: commerce.SourceShopify, Shop: shop, ExternalID: "8204521734327", Deleted: true}
		if ev.Kind != commerce.KindProduct || ev.Product == nil || !reflect.DeepEqual(*ev.Product, want) {
			t.Fatalf("event = %+v, product %+v", ev, ev.Product)
		}
	})
	t.Run("a body trimmed by include_fields", func(t *testing.T) {
		ev, err := shopify.Parse(shopify.TopicProductsUpdate, shop, []byte(`{"id":7}`))
		if err != nil || ev.Product == nil || ev.Product.ExternalID != "7" || ev.Product.Variants != nil {
			t.Fatalf("Parse = %+v, %v", ev, err)
		}
	})
}

func TestSetCurrency(t *testing.T) {
	product := func(prices ...string) commerce.Product {
		p := commerce.Product{ExternalID: "1"}
		for i := 0; i < len(prices); i += 2 {
			p.Variants = append(p.Variants, commerce.Variant{ExternalID: fmt.Sprint(i), Price: prices[i], CompareAtPrice: prices[i+1]})
		}
		return p
	}
	for _, c := range []struct {
		name, code     string
		prices         []string
		want           string // price_minor/compare_at_minor price/compare_at … or the error
		currencyErr    bool
		malformedError bool
	}{
		{"EUR", "EUR", []string{"19.99", "24.9", "5", ""}, "1999/2490 19.99/24.90 500/0 5.00/", false, false},
		{"JPY has no decimals", " jpy ", []string{"1200", "1500.00", "980.0", "0"}, "1200/1500 1200/1500 980/0 980/", false, false},
		{"KWD has three", "KWD", []string{"1.5", ""}, "1500/0 1.500/", false, false},
		{"JPY cannot hold sen", "JPY", []string{"1200.50", ""}, "", false, true},
		{"EUR cannot hold a tenth of a cent", "EUR", []string{"19.995", ""}, "", false, true},
		{"a bad amount", "EUR", []string{"19,99", ""}, "", false, true},
		{"a bad compare-at amount", "EUR", []string{"19.99", "n/a"}, "", false, true},
		{"an unknown currency", "XYZ", []string{"1.00", ""}, "", true, true},
		{"no currency", "", []string{"1.00", ""}, "", true, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := product(c.prices...)
			before := product(c.prices...)
			err := p.SetCurrency(c.code)
			if c.malformedError {
				if !errors.Is(err, commerce.ErrMalformed) || (c.currencyErr && !errors.Is(err, commerce.ErrCurrency)) {
					t.Fatalf("SetCurrency = %v", err)
				}
				if !reflect.DeepEqual(p, before) {
					t.Fatalf("a refused currency changed the product: %+v", p)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, v := range p.Variants {
				got = append(got, fmt.Sprintf("%d/%d %s/%s", v.PriceMinor, v.CompareAtMinor, v.Price, v.CompareAtPrice))
			}
			if strings.Join(got, " ") != c.want || p.Currency != strings.ToUpper(strings.TrimSpace(c.code)) {
				t.Fatalf("%s: %s, want %s", p.Currency, strings.Join(got, " "), c.want)
			}
		})
	}
}

func TestParseProductRefuses(t *testing.T) {
	edit := func(f func(m map[string]any)) []byte {
		var m map[string]any
		if err := json.Unmarshal(readFixture(t, "products_create"), &m); err != nil {
			t.Fatal(err)
		}
		f(m)
		b, _ := json.Marshal(m)
		return b
	}
	variant := func(m map[string]any) map[string]any { return m["variants"].([]any)[1].(map[string]any) }
	for _, c := range []struct {
		name, topic string
		body        []byte
	}{
		{"product without id", shopify.TopicProductsCreate, edit(func(m map[string]any) { delete(m, "id") })},
		{"product id a word", shopify.TopicProductsUpdate, edit(func(m map[string]any) { m["id"] = "hoodie" })},
		{"variant without id", shopify.TopicProductsUpdate, edit(func(m map[string]any) { delete(variant(m), "id") })},
		{"variant without price", shopify.TopicProductsUpdate, edit(func(m map[string]any) { variant(m)["price"] = nil })},
		{"price with a comma", shopify.TopicProductsUpdate, edit(func(m map[string]any) { variant(m)["price"] = "59,90" })},
		{"price in exponent form", shopify.TopicProductsUpdate, edit(func(m map[string]any) { variant(m)["price"] = "5.99e1" })},
		{"negative price", shopify.TopicProductsUpdate, edit(func(m map[string]any) { variant(m)["price"] = "-1.00" })},
		{"price ending in a dot", shopify.TopicProductsUpdate, edit(func(m map[string]any) { variant(m)["price"] = "59." })},
		{"price too large", shopify.TopicProductsUpdate, edit(func(m map[string]any) { variant(m)["price"] = strings.Repeat("9", 19) })},
		{"compare-at price a word", shopify.TopicProductsUpdate, edit(func(m map[string]any) { variant(m)["compare_at_price"] = "none" })},
		{"inventory quantity a string", shopify.TopicProductsUpdate, edit(func(m map[string]any) { variant(m)["inventory_quantity"] = "3" })},
		{"inventory management a number", shopify.TopicProductsUpdate, edit(func(m map[string]any) { variant(m)["inventory_management"] = 1 })},
		{"variants an object", shopify.TopicProductsUpdate, edit(func(m map[string]any) { m["variants"] = map[string]any{} })},
		{"updated_at without offset", shopify.TopicProductsUpdate, edit(func(m map[string]any) { m["updated_at"] = "2024-03-04 10:21:07" })},
		{"tags a list", shopify.TopicProductsUpdate, edit(func(m map[string]any) { m["tags"] = []string{"a"} })},
		{"delete without id", shopify.TopicProductsDelete, []byte(`{}`)},
		{"delete with a null id", shopify.TopicProductsDelete, []byte(`{"id":null}`)},
		{"delete an array", shopify.TopicProductsDelete, []byte(`[{"id":1}]`)},
	} {
		t.Run(c.name, func(t *testing.T) {
			ev, err := shopify.Parse(c.topic, shop, c.body)
			if !errors.Is(err, commerce.ErrMalformed) || ev.Product != nil {
				t.Fatalf("Parse = %+v, %v; want an error wrapping commerce.ErrMalformed", ev, err)
			}
		})
	}
}

// productSpec is a product updated at minute i after base.
func productSpec(i int, base time.Time) shopifytest.ProductSpec {
	return shopifytest.ProductSpec{
		ID: int64(7000 + i), Title: fmt.Sprintf("Mug %d", i), Handle: fmt.Sprintf("mug-%d", i),
		Variants:  []shopifytest.VariantSpec{{ID: int64(90000 + i), Price: "12.50"}},
		CreatedAt: base, UpdatedAt: base.Add(time.Duration(i) * time.Minute),
	}
}

func TestProductsBackfillPages(t *testing.T) {
	admin := shopifytest.NewAdmin(t, token)
	admin.SetCurrency("EUR")
	base := time.Date(2024, 6, 1, 12, 0, 0, 0, time.UTC)
	for i := 30; i >= 0; i-- { // stored newest first: the fake must sort
		admin.AddProduct(productSpec(i, base))
	}
	c, _ := newClient(t, admin)
	var pages [][]commerce.Product
	err := c.Products(context.Background(), base.Add(5*time.Minute), func(p []commerce.Product) error { pages = append(pages, p); return nil })
	if err != nil {
		t.Fatal(err)
	}
	var sizes []string
	var all []commerce.Product
	for _, p := range pages {
		sizes = append(sizes, fmt.Sprint(len(p)))
		all = append(all, p...)
	}
	if got := strings.Join(sizes, " "); got != "8 8 8 2" {
		t.Errorf("pages %s, want 8 8 8 2 (products 5…30)", got)
	}
	if len(all) != 26 || all[0].ExternalID != "7005" || all[25].ExternalID != "7030" {
		t.Fatalf("%d products, first %+v", len(all), all[0])
	}
	for i, p := range all {
		if p.Currency != "EUR" || p.Variants[0].PriceMinor != 1250 || p.Variants[0].Price != "12.50" || p.URL != "" {
			t.Fatalf("product %d: %+v", i, p)
		}
		if i > 0 && p.UpdatedAt.Before(all[i-1].UpdatedAt) {
			t.Fatalf("products not oldest first at %d", i)
		}
	}
	qs := admin.Queries()
	if len(qs) != 5 || qs[0].Operation != "shop" {
		t.Fatalf("%d requests, first %q; want the currency once, then 4 pages", len(qs), qs[0].Operation)
	}
	for i, q := range qs[1:] {
		if q.Operation != "products" || q.Variables["first"] != float64(8) || q.Variables["query"] != "updated_at:>='2024-06-01T12:05:00Z'" ||
			!strings.Contains(q.Query, "sortKey: UPDATED_AT") || (i == 0) != (q.Variables["after"] == nil) {
			t.Errorf("page request %d: %s %v", i, q.Operation, q.Variables)
		}
	}
}

func TestProductsBackfillStops(t *testing.T) {
	t.Run("at fn's error", func(t *testing.T) {
		admin := shopifytest.NewAdmin(t, token)
		base := time.Date(2024, 6, 1, 12, 0, 0, 0, time.UTC)
		for i := range 20 {
			admin.AddProduct(productSpec(i, base))
		}
		c, _ := newClient(t, admin)
		stop := errors.New("index is full")
		calls := 0
		err := c.Products(context.Background(), time.Time{}, func([]commerce.Product) error { calls++; return stop })
		if !errors.Is(err, stop) || calls != 1 || admin.Calls("products") != 1 {
			t.Fatalf("Products = %v after %d calls and %d pages", err, calls, admin.Calls("products"))
		}
		if q := admin.Queries()[1]; q.Variables["query"] != nil {
			t.Errorf("a zero since searched %v", q.Variables["query"])
		}
	})
	t.Run("at a price the shop currency cannot hold", func(t *testing.T) {
		admin := shopifytest.NewAdmin(t, token)
		admin.SetCurrency("JPY")
		p := productSpec(1, time.Date(2024, 6, 1, 12, 0, 0, 0, time.UTC)) // 12.50
		admin.AddProduct(p)
		c, _ := newClient(t, admin)
		called := false
		err := c.Products(context.Background(), time.Time{}, func([]commerce.Product) error { called = true; return nil })
		if !errors.Is(err, commerce.ErrMalformed) || called {
			t.Fatalf("Products = %v (fn called: %v); want ErrMalformed before fn", err, called)
		}
	})
	t.Run("at an unknown shop currency", func(t *testing.T) {
		admin := shopifytest.NewAdmin(t, token)
		admin.SetCurrency("XXY")
		c, _ := newClient(t, admin)
		if _, err := c.ShopCurrency(context.Background()); !errors.Is(err, commerce.ErrCurrency) {
			t.Fatalf("ShopCurrency = %v", err)
		}
		err := c.Products(context.Background(), time.Time{}, func([]commerce.Product) error { return nil })
		if !errors.Is(err, commerce.ErrCurrency) || admin.Calls("products") != 0 {
			t.Fatalf("Products = %v after %d pages", err, admin.Calls("products"))
		}
	})
}

func TestShopCurrency(t *testing.T) {
	admin := shopifytest.NewAdmin(t, token)
	admin.ThrottleNext(1)
	c, s := newClient(t, admin)
	if code, err := c.ShopCurrency(context.Background()); err != nil || code != shopifytest.DefaultCurrency {
		t.Fatalf("ShopCurrency = %q, %v", code, err)
	}
	admin.SetCurrency("chf")
	if code, err := c.ShopCurrency(context.Background()); err != nil || code != "CHF" {
		t.Fatalf("ShopCurrency = %q, %v", code, err)
	}
	if len(s.recorded()) != 1 || admin.Calls("shop") != 3 {
		t.Errorf("waits %v, %d requests; want the throttled one retried", s.recorded(), admin.Calls("shop"))
	}
}

// TestProductsBackfillMatchesWebhook holds the GraphQL mapping to the
// webhook's: one product read both ways, the webhook's given the shop
// currency, is one commerce.Product but for availability, which a webhook
// of API version 2024-07 or later does not carry.
func TestProductsBackfillMatchesWebhook(t *testing.T) {
	hoodie := hoodieSpec()
	draft := hoodieSpec()
	draft.ID, draft.Status, draft.Handle, draft.PublishedAt, draft.Options, draft.Tags = 8204523962551, "draft", "beanie", nil, nil, nil
	draft.UpdatedAt = draft.UpdatedAt.Add(time.Hour)
	draft.Variants = []shopifytest.VariantSpec{{ID: 1, Price: "29", Tracked: true}}
	for i := range 130 { // more variants than one query reads: 100, then 30
		draft.Variants = append(draft.Variants, shopifytest.VariantSpec{ID: int64(100 + i), OptionValues: []string{fmt.Sprint(i)}, Price: "1.5"})
	}
	draft.Options = []shopifytest.OptionSpec{{Name: "Number"}}

	admin := shopifytest.NewAdmin(t, token)
	admin.SetCurrency("EUR")
	admin.AddProduct(hoodie)
	admin.AddProduct(draft)
	c, _ := newClient(t, admin)
	var got []commerce.Product
	if err := c.Products(context.Background(), time.Time{}, func(p []commerce.Product) error { got = append(got, p...); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("%d products", len(got))
	}
	for i, spec := range []shopifytest.ProductSpec{hoodie, draft} {
		ev, err := shopify.Parse(shopify.TopicProductsUpdate, shop, shopifytest.ProductPayload(spec))
		if err != nil {
			t.Fatal(err)
		}
		webhook := *ev.Product
		if err := webhook.SetCurrency("EUR"); err != nil {
			t.Fatal(err)
		}
		backfill := got[i]
		for j, v := range backfill.Variants {
			if want := spec.Variants[j]; v.Available == nil || *v.Available != (!want.Tracked || want.InventoryPolicy == "continue" || want.InventoryQuantity > 0) {
				t.Errorf("product %d variant %d available %v", i, j, v.Available)
			}
			if webhook.Variants[j].Available != nil {
				t.Errorf("webhook variant %d says it is available: %v", j, *webhook.Variants[j].Available)
			}
			backfill.Variants[j].Available = nil
		}
		if !reflect.DeepEqual(backfill, webhook) {
			t.Fatalf("backfill\n%+v\nwebhook\n%+v", backfill, webhook)
		}
	}
	h := got[0]
	if h.URL != "https://acme.myshopify.com/products/organic-cotton-hoodie" || len(h.Options) != 2 || h.Variants[3].Price != "64.00" || h.Variants[3].PriceMinor != 6400 ||
		h.Variants[0].CompareAtMinor != 7900 || *h.Variants[2].Inventory != -2 || h.Variants[0].Title != "S / Blue" {
		t.Errorf("hoodie %+v", h)
	}
	if d := got[1]; d.Status != "draft" || d.URL != "" || len(d.Variants) != 131 || d.Variants[0].Title != "" || d.Variants[130].PriceMinor != 150 ||
		!reflect.DeepEqual(d.Options, []commerce.ProductOption{{Name: "Number", Values: []string{}}}) {
		t.Errorf("draft: status %q, url %q, %d variants, options %+v", d.Status, d.URL, len(d.Variants), d.Options)
	}
	var ops []string
	for _, q := range admin.Queries() {
		ops = append(ops, fmt.Sprintf("%s:%v", q.Operation, q.Variables["first"]))
	}
	if got := strings.Join(ops, " "); got != "shop:<nil> products:8 product:250" {
		t.Errorf("requests %s", got)
	}
}
