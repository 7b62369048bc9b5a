package shops

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/frontdesk-ai/frontdesk/commerce"
	"github.com/frontdesk-ai/frontdesk/persistence"
)

// Catalog keeps the shops' products where the agent reads them: the
// knowledge base (knowledge.Service). UpsertProduct reports whether it
// changed anything; an error wrapping persistence.ErrInvalid is a product
// that can never be kept.
type Catalog interface {
	UpsertProduct(ctx context.Context, tenantID string, p commerce.Product) (bool, error)
}

// CurrencySource tells the currency of a shop's prices (its API: Shopify's
// product webhooks carry prices without one).
type CurrencySource interface {
	Source() string
	Domain() string
	ShopCurrency(ctx context.Context) (string, error)
}

// catalogue is the applier's product side: where products go and the
// shops' currencies, asked once per shop.
type catalogue struct {
	catalog Catalog
	sources map[string]CurrencySource // by source/domain
	mu      sync.Mutex
	known   map[string]string
}

// SetCatalog makes the applier keep products in c, with the currencies of
// the shops given (shops without one cannot have products whose payload
// lacks a currency).
func (a *Applier) SetCatalog(c Catalog, currencies ...CurrencySource) {
	cat := &catalogue{catalog: c, sources: map[string]CurrencySource{}, known: map[string]string{}}
	for _, s := range currencies {
		cat.sources[s.Source()+"/"+s.Domain()] = s
	}
	a.catalogue = cat
}

// errNoCurrency: the shop's currency cannot be known here.
var errNoCurrency = errors.New("no shop API to ask the shop's currency (products need FRONTDESK_SHOPIFY_ADMIN_TOKEN)")

func (c *catalogue) currency(ctx context.Context, source, shop string) (string, error) {
	key := source + "/" + shop
	c.mu.Lock()
	code, ok := c.known[key]
	c.mu.Unlock()
	if ok {
		return code, nil
	}
	src := c.sources[key]
	if src == nil {
		return "", errNoCurrency
	}
	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	code, err := src.ShopCurrency(cctx)
	if err != nil {
		return "", fmt.Errorf("ask %s for its currency: %w", shop, err)
	}
	c.mu.Lock()
	c.known[key] = code
	c.mu.Unlock()
	return code, nil
}

// applyProduct counts the delivery for its shop and keeps the product in
// the catalog: Applied when it changed, Stale when it did not (an older
// update or the same product), Ignored without a catalog.
func (a *Applier) applyProduct(ctx context.Context, tenantID string, meta Meta, p commerce.Product) (Outcome, error) {
	if meta.Topic != "" {
		at := meta.TriggeredAt
		if at.IsZero() {
			at = a.now()
		}
		if err := a.store.InTx(ctx, func(tx Tx) error {
			return tx.RecordShopEvent(ctx, tenantID, meta.Source, meta.Shop, meta.Topic, at, persistence.ShopConnected)
		}); err != nil {
			return "", err
		}
	}
	cat := a.catalogue
	if cat == nil {
		return Ignored, nil
	}
	if p.Source == "" {
		p.Source, p.Shop = meta.Source, meta.Shop
	}
	if !p.Deleted && p.Currency == "" {
		code, err := cat.currency(ctx, p.Source, p.Shop)
		if errors.Is(err, errNoCurrency) {
			return "", fmt.Errorf("%w: product %s: %w", errPermanent, p.ExternalID, err)
		}
		if err != nil {
			return "", err
		}
		if err := p.SetCurrency(code); err != nil {
			return "", fmt.Errorf("%w: product %s: %w", errPermanent, p.ExternalID, err)
		}
	}
	changed, err := cat.catalog.UpsertProduct(ctx, tenantID, p)
	switch {
	case errors.Is(err, persistence.ErrInvalid):
		return "", fmt.Errorf("%w: %w", errPermanent, err)
	case err != nil:
		return "", err
	case !changed:
		return Stale, nil
	}
	return Applied, nil
}

// ProductSource is a shop API that lists its products (Shopify's).
type ProductSource interface {
	Source() string
	Domain() string
	Products(ctx context.Context, since time.Time, fn func([]commerce.Product) error) error
}

// BackfillProducts keeps the products the shop changed since since in the
// applier's catalog, reporting after each page (Orders counts products).
func BackfillProducts(ctx context.Context, a *Applier, tenantID string, shop ProductSource, since time.Time, report func(Progress)) (Progress, error) {
	var p Progress
	meta := Meta{Source: shop.Source(), Shop: shop.Domain()}
	err := shop.Products(ctx, since, func(page []commerce.Product) error {
		for _, prod := range page {
			out, err := a.applyProduct(ctx, tenantID, meta, prod)
			if err != nil {
				return err
			}
			if out == Stale {
				p.Stale++
			}
			p.Products++
		}
		p.Pages++
		if report != nil {
			report(p)
		}
		return nil
	})
	return p, err
}
