package shopify

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/frontdesk-ai/frontdesk/commerce"
)

// Products: the REST product resource of products/create and
// products/update, products/delete's {"id"}, and the Admin GraphQL
// Product, normalized alike.
//
// Shopify's product webhooks carry prices without their currency (the
// shop's), so a parsed product has Currency "" and its variants' decimals
// in Price and CompareAtPrice only: the caller passes the shop currency
// (Client.ShopCurrency, cached) to commerce.Product.SetCurrency. The
// backfill (Client.Products) reads the currency itself and returns
// products with it set.
//
// Both paths agree on everything but availability: since API version
// 2024-07 the webhook's variants no longer say whether inventory is
// tracked (inventory_management is gone), so a variant of such a payload
// has Available nil, while the backfill reads availableForSale.

// defaultTitle is the title and option value of the only variant of a
// product without options.
const defaultTitle = "Default Title"

// restProduct is the fields frontdesk reads of the REST product resource.
type restProduct struct {
	ID          id              `json:"id"`
	Title       string          `json:"title"`
	BodyHTML    string          `json:"body_html"`
	Vendor      string          `json:"vendor"`
	ProductType string          `json:"product_type"`
	Handle      string          `json:"handle"`
	Status      string          `json:"status"`
	Tags        string          `json:"tags"`
	PublishedAt string          `json:"published_at"`
	UpdatedAt   string          `json:"updated_at"`
	Options     []productOption `json:"options"`
	Variants    []restVariant   `json:"variants"`
}

// productOption is an option as both REST and GraphQL write it.
type productOption struct {
	Name   string   `json:"name"`
	Values []string `json:"values"`
}

type restVariant struct {
	ID              id     `json:"id"`
	Title           string `json:"title"`
	SKU             string `json:"sku"`
	Price           amount `json:"price"`
	CompareAtPrice  amount `json:"compare_at_price"`
	InventoryPolicy string `json:"inventory_policy"`
	// InventoryQuantity is nil when absent or null.
	InventoryQuantity *int `json:"inventory_quantity"`
	// InventoryManagement is "shopify" (tracked), a fulfillment service's
	// handle, null (not tracked) or absent (API versions from 2024-07).
	InventoryManagement optionalString `json:"inventory_management"`
}

// optionalString tells an absent JSON string (Set false) from null (Set,
// Null) and a value.
type optionalString struct {
	Set, Null bool
	Value     string
}

// UnmarshalJSON records that the field was present.
func (s *optionalString) UnmarshalJSON(b []byte) error {
	s.Set = true
	if bytes.Equal(bytes.TrimSpace(b), []byte("null")) {
		s.Null = true
		return nil
	}
	return json.Unmarshal(b, &s.Value)
}

// parseProduct normalizes products/create and products/update.
func parseProduct(shop string, body []byte) (commerce.Event, error) {
	var p restProduct
	if err := decode(body, &p); err != nil {
		return commerce.Event{}, err
	}
	product, err := p.normalize(shop)
	if err != nil {
		return commerce.Event{}, err
	}
	return commerce.Event{Kind: commerce.KindProduct, Product: &product}, nil
}

// parseProductDelete normalizes products/delete, whose body is {"id": …}.
func parseProductDelete(shop string, body []byte) (commerce.Event, error) {
	var p struct {
		ID id `json:"id"`
	}
	if err := decode(body, &p); err != nil {
		return commerce.Event{}, err
	}
	if p.ID == "" {
		return commerce.Event{}, commerce.Malformed("product has no id")
	}
	return commerce.Event{Kind: commerce.KindProduct, Product: &commerce.Product{
		Source: commerce.SourceShopify, Shop: shop, ExternalID: string(p.ID), Deleted: true,
	}}, nil
}

// normalize maps the REST product. Prices stay decimals (checked, not
// converted): the payload has no currency.
func (p restProduct) normalize(shop string) (commerce.Product, error) {
	if p.ID == "" {
		return commerce.Product{}, commerce.Malformed("product has no id")
	}
	out := commerce.Product{
		Source:      commerce.SourceShopify,
		Shop:        shop,
		ExternalID:  string(p.ID),
		Handle:      p.Handle,
		Title:       p.Title,
		Description: p.BodyHTML,
		Vendor:      p.Vendor,
		ProductType: p.ProductType,
		Tags:        splitTags(p.Tags),
		Status:      strings.ToLower(strings.TrimSpace(p.Status)),
		Options:     options(p.Options),
	}
	out.URL = storefrontURL(shop, out.Status, p.Handle, p.PublishedAt != "")
	var err error
	if out.UpdatedAt, err = parseTime("updated_at", p.UpdatedAt); err != nil {
		return commerce.Product{}, err
	}
	for i, v := range p.Variants {
		variant, err := v.normalize()
		if err != nil {
			return commerce.Product{}, fmt.Errorf("variants[%d]: %w", i, err)
		}
		out.Variants = append(out.Variants, variant)
	}
	return out, nil
}

// normalize maps a REST variant. Its stock counts only where Shopify
// tracks it (inventory_management "shopify"): then it is available when it
// may be sold out of stock (inventory_policy "continue") or has some. A
// variant Shopify does not track (null) has no Inventory and is always
// available (Shopify sells untracked stock without limit); one of a payload
// that does not say (API versions from 2024-07) keeps its count and does
// not say whether it is available.
func (v restVariant) normalize() (commerce.Variant, error) {
	if v.ID == "" {
		return commerce.Variant{}, commerce.Malformed("variant has no id")
	}
	out := commerce.Variant{ExternalID: string(v.ID), Title: variantTitle(v.Title), SKU: v.SKU}
	var err error
	if out.Price, err = checkDecimal("price", v.Price, true); err != nil {
		return commerce.Variant{}, err
	}
	if out.CompareAtPrice, err = checkDecimal("compare_at_price", v.CompareAtPrice, false); err != nil {
		return commerce.Variant{}, err
	}
	m := v.InventoryManagement
	switch {
	case !m.Set:
		out.Inventory = v.InventoryQuantity
	case strings.EqualFold(m.Value, "shopify"):
		out.Inventory = v.InventoryQuantity
		available := strings.EqualFold(v.InventoryPolicy, "continue") || (v.InventoryQuantity != nil && *v.InventoryQuantity > 0)
		if available || v.InventoryQuantity != nil {
			out.Available = &available
		}
	case m.Null:
		available := true
		out.Available = &available
	default:
		out.Inventory = v.InventoryQuantity // stocked by a fulfillment service
	}
	return out, nil
}

// checkDecimal checks that a is a non-negative decimal ("19.99", "1200") and
// returns it trimmed; "" is an error when required.
func checkDecimal(field string, a amount, required bool) (string, error) {
	s := strings.TrimSpace(string(a))
	if s == "" {
		if required {
			return "", commerce.Malformed("%s missing", field)
		}
		return "", nil
	}
	whole, frac, dot := strings.Cut(s, ".")
	if whole == "" || (dot && frac == "") || len(whole) > 18 || strings.Trim(whole+frac, "0123456789") != "" {
		return "", commerce.Malformed("%s %q is not a decimal amount", field, s)
	}
	return s, nil
}

// variantTitle is a variant's title; the default variant's is "".
func variantTitle(t string) string {
	if t == defaultTitle {
		return ""
	}
	return t
}

// options maps a product's options, leaving out the "Title" option of a
// product without options (its only value is "Default Title").
func options(in []productOption) []commerce.ProductOption {
	var out []commerce.ProductOption
	for _, o := range in {
		if len(o.Values) == 1 && o.Values[0] == defaultTitle {
			continue
		}
		values := o.Values
		if values == nil {
			values = []string{}
		}
		out = append(out, commerce.ProductOption{Name: o.Name, Values: values})
	}
	return out
}

// splitTags reads REST's comma-separated tags ("cotton, summer").
func splitTags(s string) []string {
	var tags []string
	for t := range strings.SplitSeq(s, ",") {
		if t = strings.TrimSpace(t); t != "" {
			tags = append(tags, t)
		}
	}
	return tags
}

// storefrontURL is a product's page on shop's online store when it is
// active and published there: https://{shop}/products/{handle}, which
// redirects to the shop's primary domain. Both paths build it from the
// myshopify.com domain so that they agree; GraphQL's onlineStoreUrl (on
// the primary domain) tells only whether it is published.
func storefrontURL(shop, status, handle string, published bool) string {
	if status != "active" || handle == "" || !published {
		return ""
	}
	return "https://" + shop + "/products/" + handle
}

// gqlProduct is what Client.Products reads of a Product.
type gqlProduct struct {
	ID              string                 `json:"id"`
	Handle          string                 `json:"handle"`
	Title           string                 `json:"title"`
	DescriptionHTML string                 `json:"descriptionHtml"`
	Vendor          string                 `json:"vendor"`
	ProductType     string                 `json:"productType"`
	Tags            []string               `json:"tags"`
	Status          string                 `json:"status"`
	OnlineStoreURL  string                 `json:"onlineStoreUrl"`
	UpdatedAt       string                 `json:"updatedAt"`
	Options         []productOption        `json:"options"`
	Variants        connection[gqlVariant] `json:"variants"`
}

type gqlVariant struct {
	ID                string `json:"id"`
	Title             string `json:"title"`
	SKU               string `json:"sku"`
	Price             amount `json:"price"`
	CompareAtPrice    amount `json:"compareAtPrice"`
	AvailableForSale  *bool  `json:"availableForSale"`
	InventoryQuantity *int   `json:"inventoryQuantity"`
}

// normalize maps a GraphQL product as the webhook's REST product maps and
// sets its currency, the shop's.
func (p gqlProduct) normalize(shop, currency string) (commerce.Product, error) {
	pid := gidTail(p.ID)
	if pid == "" || strings.Trim(pid, "0123456789") != "" {
		return commerce.Product{}, commerce.Malformed("product id %q is not a Product gid", p.ID)
	}
	out := commerce.Product{
		Source:      commerce.SourceShopify,
		Shop:        shop,
		ExternalID:  pid,
		Handle:      p.Handle,
		Title:       p.Title,
		Description: p.DescriptionHTML,
		Vendor:      p.Vendor,
		ProductType: p.ProductType,
		Tags:        nonEmpty(p.Tags),
		Status:      strings.ToLower(p.Status),
		Options:     options(p.Options),
	}
	out.URL = storefrontURL(shop, out.Status, p.Handle, p.OnlineStoreURL != "")
	var err error
	if out.UpdatedAt, err = parseTime("updatedAt", p.UpdatedAt); err != nil {
		return commerce.Product{}, err
	}
	for i, v := range p.Variants.Nodes {
		vid := gidTail(v.ID)
		if vid == "" {
			return commerce.Product{}, commerce.Malformed("variants[%d] has no id", i)
		}
		variant := commerce.Variant{ExternalID: vid, Title: variantTitle(v.Title), SKU: v.SKU,
			Available: v.AvailableForSale, Inventory: v.InventoryQuantity}
		if variant.Price, err = checkDecimal(fmt.Sprintf("variants[%d].price", i), v.Price, true); err != nil {
			return commerce.Product{}, err
		}
		if variant.CompareAtPrice, err = checkDecimal(fmt.Sprintf("variants[%d].compareAtPrice", i), v.CompareAtPrice, false); err != nil {
			return commerce.Product{}, err
		}
		out.Variants = append(out.Variants, variant)
	}
	if err := out.SetCurrency(currency); err != nil {
		return commerce.Product{}, err
	}
	return out, nil
}

// nonEmpty is tags without blanks; none is nil.
func nonEmpty(tags []string) []string {
	var out []string
	for _, t := range tags {
		if t = strings.TrimSpace(t); t != "" {
			out = append(out, t)
		}
	}
	return out
}

// Product page sizes: a page of products with their first 100 variants
// (productsQuery) costs 2 + productsPageSize × (2 + 2 + 100), 834 points,
// under Shopify's 1000 a query; a product with more variants has the rest
// read moreVariants at a time (Shopify allows 2048 a product).
const (
	productsPageSize = 8
	moreVariants     = 250
)

// variantFields is what frontdesk reads of a ProductVariant.
const variantFields = `
          id
          title
          sku
          price
          compareAtPrice
          availableForSale
          inventoryQuantity`

// productsQuery pages through products matching a search query, oldest
// update first, with their first 100 variants.
const productsQuery = `query Products($first: Int!, $after: String, $query: String) {
  products(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) {
    pageInfo { hasNextPage endCursor }
    nodes {
      id
      handle
      title
      descriptionHtml
      vendor
      productType
      tags
      status
      onlineStoreUrl
      updatedAt
      options { name values }
      variants(first: 100) {
        pageInfo { hasNextPage endCursor }
        nodes {` + variantFields + `
        }
      }
    }
  }
}`

// productVariantsQuery reads a product's variants after a cursor.
const productVariantsQuery = `query ProductVariants($id: ID!, $first: Int!, $after: String) {
  product(id: $id) {
    variants(first: $first, after: $after) {
      pageInfo { hasNextPage endCursor }
      nodes {` + variantFields + `
      }
    }
  }
}`

// shopCurrencyQuery reads the shop's currency, the currency of its
// product prices.
const shopCurrencyQuery = `query ShopCurrency { shop { currencyCode } }`

// ShopCurrency returns the shop's currency (ISO 4217), in which its
// product webhooks' prices are: pass it to commerce.Product.SetCurrency.
// It changes rarely; callers cache it.
func (c *Client) ShopCurrency(ctx context.Context) (string, error) {
	var data struct {
		Shop *struct {
			CurrencyCode string `json:"currencyCode"`
		} `json:"shop"`
	}
	if err := c.do(ctx, "shop currency", shopCurrencyQuery, map[string]any{}, &data); err != nil {
		return "", err
	}
	if data.Shop == nil {
		return "", fmt.Errorf("shopify shop currency: %w", commerce.Malformed("answer has no shop"))
	}
	code := strings.ToUpper(data.Shop.CurrencyCode)
	if _, err := commerce.MinorUnits(code); err != nil {
		return "", fmt.Errorf("shopify shop currency: %w", err)
	}
	return code, nil
}

// Products calls fn with each page of products updated since since,
// oldest first, with Currency set to the shop's (read once) and their
// prices in minor units; a zero since reads everything. It stops at fn's
// first error and returns it unwrapped.
func (c *Client) Products(ctx context.Context, since time.Time, fn func([]commerce.Product) error) error {
	currency, err := c.ShopCurrency(ctx)
	if err != nil {
		return err
	}
	return paginate(ctx, c, "backfill products", productsQuery, "products", sinceFilter(since), productsPageSize, func(nodes []gqlProduct) error {
		page := make([]commerce.Product, 0, len(nodes))
		for _, n := range nodes {
			p, err := c.product(ctx, n, currency)
			if err != nil {
				return err
			}
			page = append(page, p)
		}
		return fn(page)
	})
}

// product reads the rest of n's variants when it has more than its
// query asked for, and normalizes it.
func (c *Client) product(ctx context.Context, n gqlProduct, currency string) (commerce.Product, error) {
	const op = "backfill products"
	for page := n.Variants; page.PageInfo.HasNextPage; {
		if page.PageInfo.EndCursor == "" || n.ID == "" {
			return commerce.Product{}, fmt.Errorf("shopify %s: product %s: %w", op, n.ID, commerce.Malformed("more variants without a cursor or product id"))
		}
		var data struct {
			Product *struct {
				Variants connection[gqlVariant] `json:"variants"`
			} `json:"product"`
		}
		vars := map[string]any{"id": n.ID, "first": moreVariants, "after": page.PageInfo.EndCursor}
		if err := c.do(ctx, op+" variants", productVariantsQuery, vars, &data); err != nil {
			return commerce.Product{}, err
		}
		if data.Product == nil || data.Product.Variants.PageInfo.EndCursor == page.PageInfo.EndCursor {
			return commerce.Product{}, fmt.Errorf("shopify %s: product %s: %w", op, n.ID, commerce.Malformed("no further variants"))
		}
		page = data.Product.Variants
		n.Variants.Nodes = append(n.Variants.Nodes, page.Nodes...)
	}
	p, err := n.normalize(c.shop, currency)
	if err != nil {
		return commerce.Product{}, fmt.Errorf("shopify %s: product %s: %w", op, n.ID, err)
	}
	return p, nil
}
