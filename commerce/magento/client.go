package magento

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/frontdesk-ai/frontdesk/commerce"
)

// Defaults of Config.
const (
	DefaultTimeout    = 10 * time.Second
	DefaultMaxRetries = 5
)

// pageSize is how many orders or customers one backfill request asks for.
const pageSize = 50

// incrementIDWidth is the width Magento pads a default increment id to
// ("000000123").
const incrementIDWidth = 9

// ErrUnauthorized means the shop refused the bearer token (HTTP 401 or
// 403): retrying will not help.
var ErrUnauthorized = errors.New("magento: bearer token refused")

// Config configures a Client.
type Config struct {
	// BaseURL is the REST base with the store code:
	// "https://shop.example.com/rest/default".
	BaseURL string
	// Token is the bearer token (an admin or integration access token).
	Token string
	// HTTP sends the requests; nil means a new http.Client.
	HTTP *http.Client
	// Timeout bounds each request; zero means DefaultTimeout.
	Timeout time.Duration
	// MaxRetries is how often a rate-limited (429), failed (5xx) or
	// unreachable request is tried again; zero means DefaultMaxRetries, a
	// negative value none.
	MaxRetries int
	// Sleep waits d or until ctx ends (returning its error); nil means a
	// timer. Tests inject one that records the waits.
	Sleep func(ctx context.Context, d time.Duration) error
}

// Validate reports whether the config is usable once defaults are applied.
func (c Config) Validate() error {
	u, err := url.Parse(c.BaseURL)
	if err != nil {
		return fmt.Errorf("magento client: base url: %w", err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" {
		return fmt.Errorf("magento client: base url %q is not an absolute http(s) url", c.BaseURL)
	}
	if c.Token == "" {
		return errors.New("magento client: no bearer token")
	}
	if c.Timeout < 0 {
		return fmt.Errorf("magento client: negative timeout %s", c.Timeout)
	}
	return nil
}

// Client reads one shop's orders and customers through the REST API and
// refunds its orders. It is a commerce.Shop and a commerce.Refunder.
type Client struct {
	base       string
	domain     string
	token      string
	http       *http.Client
	timeout    time.Duration
	maxRetries int
	sleep      func(context.Context, time.Duration) error
}

var _ commerce.Shop = (*Client)(nil)

// New returns a Client for cfg.
func New(cfg Config) (*Client, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	u, _ := url.Parse(cfg.BaseURL)
	c := &Client{
		base:       strings.TrimRight(cfg.BaseURL, "/"),
		domain:     strings.ToLower(u.Hostname()),
		token:      cfg.Token,
		http:       cfg.HTTP,
		timeout:    cfg.Timeout,
		maxRetries: cfg.MaxRetries,
		sleep:      cfg.Sleep,
	}
	tr := commerce.Transport{HTTP: c.http, Timeout: c.timeout, MaxRetries: c.maxRetries, Sleep: c.sleep}.WithDefaults(DefaultTimeout, DefaultMaxRetries)
	c.http, c.timeout, c.maxRetries, c.sleep = tr.HTTP, tr.Timeout, tr.MaxRetries, tr.Sleep
	return c, nil
}

// Source is commerce.SourceMagento.
func (c *Client) Source() string { return commerce.SourceMagento }

// Domain is the host of the REST base URL, lower-cased, without a port.
func (c *Client) Domain() string { return c.domain }

// searchResult is a searchCriteria answer.
type searchResult[T any] struct {
	Items      []T `json:"items"`
	TotalCount int `json:"total_count"`
}

// Backfill calls fn with each page of orders updated since since, oldest
// first, then with each page of customers likewise; a zero since reads
// everything. It stops at fn's first error and returns it unwrapped.
func (c *Client) Backfill(ctx context.Context, since time.Time, fn func(commerce.Page) error) error {
	crit := criteria{pageSize: pageSize, sortField: "updated_at", sortDir: "ASC"}
	if !since.IsZero() {
		crit.filters = []filter{{"updated_at", since.UTC().Format(timeLayout), "gteq"}}
	}
	err := pages(ctx, c, "backfill orders", "/V1/orders", crit, func(items []salesOrder) error {
		page := commerce.Page{Orders: make([]commerce.Order, 0, len(items))}
		for _, it := range items {
			o, err := it.normalize(c.domain)
			if err != nil {
				return fmt.Errorf("magento backfill orders: order %s: %w", it.EntityID, err)
			}
			page.Orders = append(page.Orders, o)
		}
		return fn(page)
	})
	if err != nil {
		return err
	}
	return pages(ctx, c, "backfill customers", "/V1/customers/search", crit, func(items []customerData) error {
		page := commerce.Page{Customers: make([]commerce.Customer, 0, len(items))}
		for _, it := range items {
			cu, err := it.normalize(c.domain)
			if err != nil {
				return fmt.Errorf("magento backfill customers: customer %s: %w", it.ID, err)
			}
			page.Customers = append(page.Customers, cu)
		}
		return fn(page)
	})
}

// pages asks for crit's pages of path until page × size reaches
// total_count (Magento answers a page past the end with the last page
// again), calling page with each page's items.
func pages[T any](ctx context.Context, c *Client, op, path string, crit criteria, page func([]T) error) error {
	for crit.page = 1; ; crit.page++ {
		var res searchResult[json.RawMessage]
		if err := c.get(ctx, op, path, crit.values(), &res); err != nil {
			return err
		}
		items := make([]T, 0, len(res.Items))
		for _, raw := range res.Items {
			var it T
			if err := decode(raw, &it); err != nil {
				return fmt.Errorf("magento %s: %w", op, err)
			}
			items = append(items, it)
		}
		if len(items) > 0 {
			if err := page(items); err != nil {
				return err
			}
		}
		if len(items) == 0 || crit.page*crit.pageSize >= res.TotalCount {
			return nil
		}
	}
}

// OrderByNumber returns the order the customer knows as number (its
// increment id, "000000123"; "#" is ignored), or an error wrapping
// commerce.ErrNotFound. A short all-digit number that matches nothing is
// tried again padded to Magento's default width ("123" as "000000123").
func (c *Client) OrderByNumber(ctx context.Context, number string) (commerce.Order, error) {
	n := strings.TrimPrefix(strings.TrimSpace(number), "#")
	if n == "" {
		return commerce.Order{}, fmt.Errorf("magento order %q: %w", number, commerce.ErrNotFound)
	}
	candidates := []string{n}
	if len(n) < incrementIDWidth && strings.Trim(n, "0123456789") == "" {
		candidates = append(candidates, strings.Repeat("0", incrementIDWidth-len(n))+n)
	}
	for _, id := range candidates {
		crit := criteria{pageSize: 1, page: 1, filters: []filter{{"increment_id", id, "eq"}}}
		var res searchResult[salesOrder]
		if err := c.get(ctx, "order by number", "/V1/orders", crit.values(), &res); err != nil {
			return commerce.Order{}, err
		}
		for _, o := range res.Items {
			if string(o.IncrementID) != id {
				continue
			}
			order, err := o.normalize(c.domain)
			if err != nil {
				return commerce.Order{}, fmt.Errorf("magento order %s: %w", id, err)
			}
			return order, nil
		}
	}
	return commerce.Order{}, fmt.Errorf("magento order %s: %w", n, commerce.ErrNotFound)
}
