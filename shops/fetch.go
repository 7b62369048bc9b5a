package shops

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/frontdesk-ai/frontdesk/commerce"
	"github.com/frontdesk-ai/frontdesk/persistence"
)

// ConnectStore creates the shops a tenant connects.
type ConnectStore interface {
	GetShopByDomain(ctx context.Context, source, domain string) (persistence.Shop, error)
	CreateShop(ctx context.Context, m *persistence.Shop) error
}

// Connect makes sure the shop domain of source is connected to tenantID,
// so that its webhooks are routed there. A shop another tenant connected is
// an error: a shop belongs to one tenant.
func Connect(ctx context.Context, store ConnectStore, tenantID, source, domain string) error {
	domain = strings.ToLower(strings.TrimSpace(domain))
	s, err := store.GetShopByDomain(ctx, source, domain)
	switch {
	case err == nil && s.TenantID != tenantID:
		return fmt.Errorf("shop %s %s is connected to another tenant", source, domain)
	case err == nil:
		return nil
	case !errors.Is(err, persistence.ErrNotFound):
		return err
	}
	err = store.CreateShop(ctx, &persistence.Shop{Base: persistence.Base{TenantID: tenantID}, Source: source, Domain: domain})
	if errors.Is(err, persistence.ErrDuplicate) {
		return Connect(ctx, store, tenantID, source, domain)
	}
	return err
}

// Fetcher imports an order a customer names that the store does not have
// yet, from the tenant's shops' APIs (tools.OrderFetcher).
type Fetcher struct {
	applier *Applier
	shops   map[string][]commerce.Shop
	timeout time.Duration
}

// NewFetcher returns a fetcher over each tenant's shop clients.
func NewFetcher(applier *Applier, shops map[string][]commerce.Shop) *Fetcher {
	return &Fetcher{applier: applier, shops: shops, timeout: 5 * time.Second}
}

// FetchOrder asks each of the tenant's shops for the order number and
// applies what it finds (linked to whichever customer it belongs to). Not
// found anywhere is not an error; a shop that fails is.
func (f *Fetcher) FetchOrder(ctx context.Context, tenantID, number string) error {
	var errs []error
	for _, s := range f.shops[tenantID] {
		sctx, cancel := context.WithTimeout(ctx, f.timeout)
		o, err := s.OrderByNumber(sctx, number)
		cancel()
		if errors.Is(err, commerce.ErrNotFound) {
			continue
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("%s %s: order %s: %w", s.Source(), s.Domain(), number, err))
			continue
		}
		_, err = f.applier.Apply(ctx, tenantID, Meta{Source: s.Source(), Shop: s.Domain()}, commerce.Event{Kind: commerce.KindOrder, Order: &o})
		return err
	}
	return errors.Join(errs...)
}

// Progress is how far a backfill got.
type Progress struct {
	Pages, Orders, Customers, Products, Stale int
}

// Backfill imports the orders and customers the shop changed since since
// into tenantID, through the same rules as its webhooks (links, merges,
// staleness), reporting after each page.
func Backfill(ctx context.Context, a *Applier, tenantID string, shop commerce.Shop, since time.Time, report func(Progress)) (Progress, error) {
	var p Progress
	meta := Meta{Source: shop.Source(), Shop: shop.Domain()}
	err := shop.Backfill(ctx, since, func(page commerce.Page) error {
		for i := range page.Customers {
			if _, err := a.Apply(ctx, tenantID, meta, commerce.Event{Kind: commerce.KindCustomer, Customer: &page.Customers[i]}); err != nil {
				return err
			}
			p.Customers++
		}
		for i := range page.Orders {
			out, err := a.Apply(ctx, tenantID, meta, commerce.Event{Kind: commerce.KindOrder, Order: &page.Orders[i]})
			if err != nil {
				return err
			}
			if out == Stale {
				p.Stale++
			}
			p.Orders++
		}
		p.Pages++
		if report != nil {
			report(p)
		}
		return nil
	})
	return p, err
}
