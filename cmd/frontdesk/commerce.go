package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/frontdesk-ai/frontdesk/actors"
	"github.com/frontdesk-ai/frontdesk/commerce"
	"github.com/frontdesk-ai/frontdesk/commerce/magento"
	"github.com/frontdesk-ai/frontdesk/commerce/shopify"
	"github.com/frontdesk-ai/frontdesk/gateway"
	"github.com/frontdesk-ai/frontdesk/knowledge"
	"github.com/frontdesk-ai/frontdesk/persistence/sqlstore"
	"github.com/frontdesk-ai/frontdesk/shops"
	"github.com/frontdesk-ai/frontdesk/tools"
)

// commerceSetup is what the configured shops bring: webhook hooks, API
// clients (backfill, order lookups), and the shop domains to connect.
type commerceSetup struct {
	hooks   []gateway.ShopHook
	clients []commerce.Shop
	domains [][2]string // source, domain
}

// newCommerce builds the default tenant's shops from the configuration.
func newCommerce(cfg config) (commerceSetup, error) {
	var s commerceSetup
	if sh := cfg.Shopify; sh.Shop != "" {
		s.domains = append(s.domains, [2]string{commerce.SourceShopify, sh.Shop})
		if sh.WebhookSecret != "" {
			s.hooks = append(s.hooks, shops.Shopify{Secret: sh.WebhookSecret})
		}
		if sh.AdminToken != "" {
			c, err := shopify.New(shopify.Config{Shop: sh.Shop, AdminToken: sh.AdminToken, APIURL: sh.APIURL})
			if err != nil {
				return s, fmt.Errorf("FRONTDESK_SHOPIFY_*: %w", err)
			}
			s.clients = append(s.clients, c)
		}
	}
	if m := cfg.Magento; m.BaseURL != "" {
		domain, err := magentoDomain(m.BaseURL)
		if err != nil {
			return s, err
		}
		s.domains = append(s.domains, [2]string{commerce.SourceMagento, domain})
		if m.WebhookSecret != "" || m.PublicKeyFile != "" {
			hook := shops.Magento{Shop: domain, Secret: m.WebhookSecret}
			if m.PublicKeyFile != "" {
				if hook.PublicKey, err = magento.LoadPublicKey(m.PublicKeyFile); err != nil {
					return s, fmt.Errorf("FRONTDESK_MAGENTO_PUBLIC_KEY_FILE: %w", err)
				}
			}
			s.hooks = append(s.hooks, hook)
		}
		if m.Token != "" {
			c, err := magento.New(magento.Config{BaseURL: m.BaseURL, Token: m.Token})
			if err != nil {
				return s, fmt.Errorf("FRONTDESK_MAGENTO_*: %w", err)
			}
			s.clients = append(s.clients, c)
		}
	}
	return s, nil
}

// magentoDomain is the shop domain of a Magento REST base URL: its host.
func magentoDomain(base string) (string, error) {
	u, err := url.Parse(base)
	if err != nil || u.Host == "" {
		return "", fmt.Errorf("FRONTDESK_MAGENTO_BASE_URL: %q has no host", base)
	}
	return strings.ToLower(u.Hostname()), nil
}

// currencies are the shop APIs that tell their shop's currency (the
// products' prices need it).
func (s commerceSetup) currencies() []shops.CurrencySource {
	var out []shops.CurrencySource
	for _, c := range s.clients {
		if cs, ok := c.(shops.CurrencySource); ok {
			out = append(out, cs)
		}
	}
	return out
}

// connect makes sure the configured shops are the tenant's.
func (s commerceSetup) connect(ctx context.Context, store *sqlstore.Store, tenantID string) error {
	for _, d := range s.domains {
		if err := shops.Connect(ctx, store, tenantID, d[0], d[1]); err != nil {
			return err
		}
	}
	return nil
}

// shopping is what serve runs for the shops.
type shopping struct {
	consumer *shops.Consumer
	applier  *shops.Applier
	// fetcher looks orders up for get_order (nil without a shop API).
	fetcher *shops.Fetcher
	// actions execute confirmed refunds (empty without a shop API).
	actions map[string]actors.ActionFunc
}

// wire connects the shops and builds the commerce consumer, its applier
// (whose notifier, the runtime, is set once built), the order fetcher and
// the refund action.
func (s commerceSetup) wire(ctx context.Context, store *sqlstore.Store, log shops.Log, tenantID string,
	logger zerolog.Logger, reg prometheus.Registerer) (shopping, error) {
	var w shopping
	if err := s.connect(ctx, store, tenantID); err != nil {
		return w, err
	}
	w.applier = shops.NewApplier(sqlstore.For[shops.Tx](store), nil)
	var err error
	if w.consumer, err = shops.NewConsumer(w.applier, log, store, logger, reg); err != nil {
		return w, err
	}
	if len(s.clients) > 0 {
		byTenant := map[string][]commerce.Shop{tenantID: s.clients}
		w.fetcher = shops.NewFetcher(w.applier, byTenant)
		w.actions = map[string]actors.ActionFunc{tools.RefundOrder: shops.NewRefunds(w.applier, byTenant).Execute}
	}
	return w, nil
}

// runCommerce runs `frontdesk commerce backfill -since T`: it imports the
// orders and customers the configured shops changed since T, printing its
// progress.
func runCommerce(ctx context.Context, cfg config, since time.Time, stdout io.Writer, log zerolog.Logger) error {
	setup, err := newCommerce(cfg)
	if err != nil {
		return err
	}
	if len(setup.clients) == 0 {
		return errors.New("no shop API configured: set FRONTDESK_SHOPIFY_SHOP and FRONTDESK_SHOPIFY_ADMIN_TOKEN, or FRONTDESK_MAGENTO_BASE_URL and FRONTDESK_MAGENTO_TOKEN")
	}
	store, err := sqlstore.Open(ctx, cfg.Store)
	if err != nil {
		return err
	}
	defer store.Close()
	if _, err := store.Migrate(ctx); err != nil {
		return err
	}
	tenant, err := ensureDefaultTenant(ctx, store)
	if err != nil {
		return err
	}
	if err := setup.connect(ctx, store, tenant.ID); err != nil {
		return err
	}
	// The runtime is not here: grains reload what changed on activation.
	// Products become knowledge documents: their events reach the running
	// members through the event log, whose processors make them ready.
	lg, _, closeLog, err := openLog(ctx, cfg, store, log)
	if err != nil {
		return err
	}
	defer closeLog()
	applier := shops.NewApplier(sqlstore.For[shops.Tx](store), nil)
	applier.SetCatalog(knowledge.NewWriter(sqlstore.For[knowledge.Tx](store), lg, log), setup.currencies()...)
	for _, shop := range setup.clients {
		fmt.Fprintf(stdout, "%s %s: importing orders and customers changed since %s\n", shop.Source(), shop.Domain(), since.Format(time.RFC3339))
		p, err := shops.Backfill(ctx, applier, tenant.ID, shop, since, func(p shops.Progress) {
			fmt.Fprintf(stdout, "  page %d: %d orders (%d unchanged), %d customers\n", p.Pages, p.Orders, p.Stale, p.Customers)
		})
		if err != nil {
			return fmt.Errorf("%s %s: backfill stopped after %d orders and %d customers: %w", shop.Source(), shop.Domain(), p.Orders, p.Customers, err)
		}
		fmt.Fprintf(stdout, "%s %s: done: %d orders (%d unchanged), %d customers\n", shop.Source(), shop.Domain(), p.Orders, p.Stale, p.Customers)
		log.Info().Str("source", shop.Source()).Str("shop", shop.Domain()).Int("orders", p.Orders).Int("customers", p.Customers).Msg("backfill done")
		ps, ok := shop.(shops.ProductSource)
		if !ok {
			continue
		}
		fmt.Fprintf(stdout, "%s %s: importing products changed since %s into the knowledge base\n", shop.Source(), shop.Domain(), since.Format(time.RFC3339))
		pp, err := shops.BackfillProducts(ctx, applier, tenant.ID, ps, since, func(p shops.Progress) {
			fmt.Fprintf(stdout, "  page %d: %d products (%d unchanged)\n", p.Pages, p.Products, p.Stale)
		})
		if err != nil {
			return fmt.Errorf("%s %s: product backfill stopped after %d products: %w", shop.Source(), shop.Domain(), pp.Products, err)
		}
		fmt.Fprintf(stdout, "%s %s: done: %d products (%d unchanged)\n", shop.Source(), shop.Domain(), pp.Products, pp.Stale)
	}
	return nil
}

// parseCommerceFlags reads `commerce backfill -since T [config flags]`.
func parseCommerceFlags(args []string, stderr io.Writer) (time.Time, []string, error) {
	if len(args) == 0 || args[0] != "backfill" {
		return time.Time{}, nil, errors.New("usage: frontdesk commerce backfill -since 2026-01-01T00:00:00Z (or -since 720h) [config flags]")
	}
	fs := flag.NewFlagSet("commerce backfill", flag.ContinueOnError)
	fs.SetOutput(stderr)
	since := fs.String("since", "720h", "import what changed since this time (RFC 3339) or this long ago (a duration)")
	// Config flags follow; stop at the first one this set does not know.
	rest := args[1:]
	var own []string
	for len(rest) > 0 && (rest[0] == "-since" || rest[0] == "--since" || strings.HasPrefix(rest[0], "-since=") || strings.HasPrefix(rest[0], "--since=")) {
		n := 1
		if !strings.Contains(rest[0], "=") && len(rest) > 1 {
			n = 2
		}
		own, rest = append(own, rest[:n]...), rest[n:]
	}
	if err := fs.Parse(own); err != nil {
		return time.Time{}, nil, err
	}
	if t, err := time.Parse(time.RFC3339, *since); err == nil {
		return t, rest, nil
	}
	d, err := time.ParseDuration(*since)
	if err != nil || d <= 0 {
		return time.Time{}, nil, fmt.Errorf("-since %q: want an RFC 3339 time or a positive duration", *since)
	}
	return time.Now().Add(-d), rest, nil
}
