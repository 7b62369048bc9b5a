package shopify

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/frontdesk-ai/frontdesk/commerce"
)

// APIVersion is the Admin API version of DefaultAPIURL.
const APIVersion = "2025-01"

// Defaults of Config.
const (
	DefaultTimeout    = 10 * time.Second
	DefaultMaxRetries = 5
)

// Page sizes. Shopify refuses a query whose requested cost (2 + first ×
// the cost of a node, per connection) exceeds 1000 points, before running
// it: ten orders with fifteen line items each cost about 870. An order with
// more lines has the rest read by lineItemsQuery, a hundred at a time.
const (
	ordersPageSize    = 10
	orderLines        = 15
	moreLines         = 100
	customersPageSize = 50
)

// ErrUnauthorized means the shop refused the Admin API access token (HTTP
// 401 or 403): retrying will not help.
var ErrUnauthorized = errors.New("shopify: access token refused")

// Config configures a Client.
type Config struct {
	// Shop is the shop's myshopify.com domain: "acme.myshopify.com".
	Shop string
	// AdminToken is the Admin API access token (X-Shopify-Access-Token).
	AdminToken string
	// APIURL is the Admin API base including the version; empty means
	// "https://{Shop}/admin/api/" + APIVersion.
	APIURL string
	// HTTP sends the requests; nil means a new http.Client.
	HTTP *http.Client
	// Timeout bounds each request; zero means DefaultTimeout.
	Timeout time.Duration
	// MaxRetries is how often a throttled, rate-limited, failed (5xx) or
	// unreachable request is tried again; zero means DefaultMaxRetries, a
	// negative value none.
	MaxRetries int
	// Sleep waits d or until ctx ends (returning its error); nil means a
	// timer. Tests inject one that records the waits.
	Sleep func(ctx context.Context, d time.Duration) error
}

// Validate reports whether the config is usable once defaults are applied.
func (c Config) Validate() error {
	if strings.TrimSpace(c.Shop) == "" || strings.ContainsAny(c.Shop, "/ ") {
		return fmt.Errorf("shopify client: shop %q is not a domain", c.Shop)
	}
	if c.AdminToken == "" {
		return errors.New("shopify client: no admin access token")
	}
	if c.Timeout < 0 {
		return fmt.Errorf("shopify client: negative timeout %s", c.Timeout)
	}
	if c.APIURL == "" {
		return nil
	}
	u, err := url.Parse(c.APIURL)
	if err != nil {
		return fmt.Errorf("shopify client: api url: %w", err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("shopify client: api url %q is not an absolute http(s) url", c.APIURL)
	}
	return nil
}

// Client reads one shop's orders and customers through the Admin GraphQL
// API and refunds its orders. It is a commerce.Shop and a
// commerce.Refunder.
type Client struct {
	shop       string
	token      string
	endpoint   string
	http       *http.Client
	timeout    time.Duration
	maxRetries int
	sleep      func(context.Context, time.Duration) error
	// idempotent: the endpoint's API version takes refundCreate's
	// @idempotent(key:).
	idempotent bool
}

var _ commerce.Shop = (*Client)(nil)

// New returns a Client for cfg.
func New(cfg Config) (*Client, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	c := &Client{
		shop:       strings.ToLower(strings.TrimSpace(cfg.Shop)),
		token:      cfg.AdminToken,
		http:       cfg.HTTP,
		timeout:    cfg.Timeout,
		maxRetries: cfg.MaxRetries,
		sleep:      cfg.Sleep,
	}
	base := strings.TrimRight(cfg.APIURL, "/")
	if base == "" {
		base = "https://" + c.shop + "/admin/api/" + APIVersion
	}
	c.endpoint = base + "/graphql.json"
	c.idempotent = takesIdempotencyKey(c.endpoint)
	tr := commerce.Transport{HTTP: c.http, Timeout: c.timeout, MaxRetries: c.maxRetries, Sleep: c.sleep}.WithDefaults(DefaultTimeout, DefaultMaxRetries)
	c.http, c.timeout, c.maxRetries, c.sleep = tr.HTTP, tr.Timeout, tr.MaxRetries, tr.Sleep
	return c, nil
}

// Source is commerce.SourceShopify.
func (c *Client) Source() string { return commerce.SourceShopify }

// Domain is the shop's myshopify.com domain.
func (c *Client) Domain() string { return c.shop }

// Backfill calls fn with each page of orders updated since since, oldest
// first, then with each page of customers likewise; a zero since reads
// everything. It stops at fn's first error and returns it unwrapped.
func (c *Client) Backfill(ctx context.Context, since time.Time, fn func(commerce.Page) error) error {
	filter := sinceFilter(since)
	err := paginate(ctx, c, "backfill orders", ordersQuery, "orders", filter, ordersPageSize, func(nodes []gqlOrder) error {
		page := commerce.Page{Orders: make([]commerce.Order, 0, len(nodes))}
		for _, n := range nodes {
			o, err := c.order(ctx, "backfill orders", n)
			if err != nil {
				return err
			}
			page.Orders = append(page.Orders, o)
		}
		return fn(page)
	})
	if err != nil {
		return err
	}
	return paginate(ctx, c, "backfill customers", customersQuery, "customers", filter, customersPageSize, func(nodes []gqlCustomer) error {
		page := commerce.Page{Customers: make([]commerce.Customer, 0, len(nodes))}
		for _, n := range nodes {
			if n.LegacyResourceID == "" {
				return fmt.Errorf("shopify backfill customers: %w", commerce.Malformed("customer has no legacyResourceId"))
			}
			cu, err := n.normalize(c.shop)
			if err != nil {
				return fmt.Errorf("shopify backfill customers: customer %s: %w", n.LegacyResourceID, err)
			}
			page.Customers = append(page.Customers, *cu)
		}
		return fn(page)
	})
}

// sinceFilter is the search query for resources updated since since; a
// zero since is "" (everything).
func sinceFilter(since time.Time) string {
	if since.IsZero() {
		return ""
	}
	return "updated_at:>='" + since.UTC().Format(time.RFC3339) + "'"
}

// numberCandidates is how many orders a search by name asks for: Shopify's
// search matches loosely ("name:#100" may find #1001 too), so the exact
// match need not come first.
const numberCandidates = 10

// OrderByNumber returns the order the customer knows as number ("1001" or
// "#1001"), or an error wrapping commerce.ErrNotFound. It searches
// name:#number and keeps the order whose name is exactly the number.
func (c *Client) OrderByNumber(ctx context.Context, number string) (commerce.Order, error) {
	n := orderNumber(number)
	if n == "" || strings.ContainsAny(n, `"'\ `) {
		return commerce.Order{}, fmt.Errorf("shopify order %q: %w", number, commerce.ErrNotFound)
	}
	var data struct {
		Orders connection[gqlOrder] `json:"orders"`
	}
	vars := map[string]any{"first": numberCandidates, "query": "name:#" + n}
	if err := c.do(ctx, "order by number", ordersQuery, vars, &data); err != nil {
		return commerce.Order{}, err
	}
	for _, node := range data.Orders.Nodes {
		if orderNumber(node.Name) == n {
			return c.order(ctx, "order by number", node)
		}
	}
	return commerce.Order{}, fmt.Errorf("shopify order #%s: %w", n, commerce.ErrNotFound)
}

// order reads the rest of n's line items when it has more than the page
// of them its query asked for, and normalizes it.
func (c *Client) order(ctx context.Context, op string, n gqlOrder) (commerce.Order, error) {
	for page := n.LineItems; page.PageInfo.HasNextPage; {
		if page.PageInfo.EndCursor == "" || n.ID == "" {
			return commerce.Order{}, fmt.Errorf("shopify %s: order %s: %w", op, n.LegacyResourceID, commerce.Malformed("more line items without a cursor or order id"))
		}
		var data struct {
			Order *struct {
				LineItems connection[gqlLineItem] `json:"lineItems"`
			} `json:"order"`
		}
		vars := map[string]any{"id": n.ID, "first": moreLines, "after": page.PageInfo.EndCursor}
		if err := c.do(ctx, op+" line items", lineItemsQuery, vars, &data); err != nil {
			return commerce.Order{}, err
		}
		if data.Order == nil || data.Order.LineItems.PageInfo.EndCursor == page.PageInfo.EndCursor {
			return commerce.Order{}, fmt.Errorf("shopify %s: order %s: %w", op, n.LegacyResourceID, commerce.Malformed("no further line items"))
		}
		page = data.Order.LineItems
		n.LineItems.Nodes = append(n.LineItems.Nodes, page.Nodes...)
	}
	o, err := n.normalize(c.shop)
	if err != nil {
		return commerce.Order{}, fmt.Errorf("shopify %s: order %s: %w", op, n.LegacyResourceID, err)
	}
	return o, nil
}
