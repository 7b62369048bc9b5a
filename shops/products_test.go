package shops

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/frontdesk-ai/frontdesk/commerce"
	"github.com/frontdesk-ai/frontdesk/persistence"
)

type fakeCatalog struct {
	mu   sync.Mutex
	kept []commerce.Product
	err  error
}

func (c *fakeCatalog) UpsertProduct(_ context.Context, _ string, p commerce.Product) (bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		return false, c.err
	}
	c.kept = append(c.kept, p)
	return len(c.kept) == 1, nil
}

type fakeCurrency struct {
	code  string
	err   error
	calls int
}

func (f *fakeCurrency) Source() string { return commerce.SourceShopify }
func (f *fakeCurrency) Domain() string { return shop }
func (f *fakeCurrency) ShopCurrency(context.Context) (string, error) {
	f.calls++
	return f.code, f.err
}

// TestProductsGoToTheCatalog: a product without a currency gets the
// shop's (asked once), in minor units; a shop whose currency cannot be
// known, a price the currency cannot hold and a product the catalog
// refuses are permanent (the dead-letter topic, a failure on the shop); a
// currency API that fails is retried; without a catalog products are
// ignored, but still counted for their shop.
func TestProductsGoToTheCatalog(t *testing.T) {
	f := newFixture(t, "sqlite")
	ctx := context.Background()
	meta := Meta{Source: commerce.SourceShopify, Shop: shop, Topic: "products/update"}
	hoodie := commerce.Product{ExternalID: "1", Title: "Hoodie", Status: "active", Variants: []commerce.Variant{{ExternalID: "v1", Price: "24.5"}}}
	event := func(p commerce.Product) commerce.Event {
		return commerce.Event{Kind: commerce.KindProduct, Product: &p}
	}

	if out, err := f.a.Apply(ctx, f.tenant, meta, event(hoodie)); err != nil || out != Ignored {
		t.Fatalf("without a catalog: %v, %v", out, err)
	}
	cat := &fakeCatalog{}
	cur := &fakeCurrency{code: "EUR"}
	f.a.SetCatalog(cat, cur)
	for i, want := range []Outcome{Applied, Stale} {
		out, err := f.a.Apply(ctx, f.tenant, meta, event(hoodie))
		if err != nil || out != want {
			t.Fatalf("apply %d: %v, %v", i, out, err)
		}
	}
	if got := cat.kept[0]; got.Currency != "EUR" || got.Variants[0].PriceMinor != 2450 || got.Variants[0].Price != "24.50" || got.Source != commerce.SourceShopify || got.Shop != shop {
		t.Fatalf("kept %+v", got)
	}
	if cur.calls != 1 {
		t.Fatalf("currency asked %d times", cur.calls)
	}
	shops, _ := f.store.ListShops(ctx, f.tenant)
	if len(shops) != 1 || shops[0].EventsTotal != 3 || shops[0].LastEventTopic != "products/update" {
		t.Fatalf("shop %+v", shops)
	}

	other := Meta{Source: commerce.SourceShopify, Shop: "other.myshopify.com"}
	if _, err := f.a.Apply(ctx, f.tenant, other, event(hoodie)); !errors.Is(err, errPermanent) {
		t.Fatalf("a shop without an API: %v", err)
	}
	f.a.SetCatalog(cat, &fakeCurrency{code: "JPY"})
	if _, err := f.a.Apply(ctx, f.tenant, meta, event(hoodie)); !errors.Is(err, errPermanent) {
		t.Fatalf("24.5 JPY: %v", err)
	}
	down := &fakeCurrency{err: errors.New("connection refused")}
	f.a.SetCatalog(cat, down)
	if _, err := f.a.Apply(ctx, f.tenant, meta, event(hoodie)); err == nil || errors.Is(err, errPermanent) {
		t.Fatalf("currency API down: %v (want a retryable error)", err)
	}
	f.a.SetCatalog(&fakeCatalog{err: fmt.Errorf("no text: %w", persistence.ErrInvalid)}, cur)
	if _, err := f.a.Apply(ctx, f.tenant, meta, event(hoodie)); !errors.Is(err, errPermanent) {
		t.Fatalf("a product the catalog refuses: %v", err)
	}
	deleted := commerce.Product{ExternalID: "1", Deleted: true}
	f.a.SetCatalog(cat, down)
	if out, err := f.a.Apply(ctx, f.tenant, meta, event(deleted)); err != nil || out != Stale {
		t.Fatalf("a delete needs no currency: %v, %v", out, err)
	}
}
