package shopifytest

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Products in the fake Admin and in webhook bodies. Admin answers
// products(first:, after:, query:, sortKey: UPDATED_AT) (search
// updated_at:>=), a product's variants after a cursor (product(id:) {
// variants }) and shop { currencyCode }; ProductPayload and
// ProductDeletePayload write the bodies of products/create,
// products/update and products/delete in the shape of APIVersion, whose
// variants have no inventory_management (removed in 2024-07).

// DefaultCurrency is the shop currency of a new Admin.
const DefaultCurrency = "USD"

// ProductSpec describes a product.
type ProductSpec struct {
	ID                  int64
	Title, Handle       string
	BodyHTML            string
	Vendor, ProductType string
	Tags                []string
	// Status is REST's: "active", "draft" or "archived"; empty means
	// "active".
	Status string
	// Options name the ways the product varies; none is Shopify's
	// "Title" option with the one value "Default Title".
	Options  []OptionSpec
	Variants []VariantSpec
	// PublishedAt is when the product was published to the online store;
	// nil means it is not (REST published_at null, GraphQL onlineStoreUrl
	// null).
	PublishedAt *time.Time
	// Times are written in their own location, as Shopify writes the
	// shop's offset.
	CreatedAt, UpdatedAt time.Time
}

// OptionSpec is a product option and its values.
type OptionSpec struct {
	Name   string
	Values []string
}

// VariantSpec describes a variant of a product.
type VariantSpec struct {
	ID int64
	// OptionValues are the variant's value of each of the product's
	// options, in order; its title is them joined by " / ", or
	// "Default Title" for none.
	OptionValues []string
	SKU          string
	// Price and CompareAtPrice are decimals in the shop currency;
	// CompareAtPrice may be empty (null).
	Price, CompareAtPrice string
	// Tracked means Shopify counts the variant's stock.
	Tracked bool
	// InventoryPolicy is "deny" (the default) or "continue" (sell when out
	// of stock).
	InventoryPolicy   string
	InventoryQuantity int
}

func (v VariantSpec) title() string {
	if len(v.OptionValues) == 0 {
		return "Default Title"
	}
	return strings.Join(v.OptionValues, " / ")
}

func (v VariantSpec) policy() string { return orDefault(v.InventoryPolicy, "deny") }

// availableForSale is whether the variant can be bought: not tracked, sold
// when out of stock, or in stock.
func (v VariantSpec) availableForSale() bool {
	return !v.Tracked || v.policy() == "continue" || v.InventoryQuantity > 0
}

func (p ProductSpec) status() string { return orDefault(p.Status, "active") }

// options is the product's options as Shopify writes them.
func (p ProductSpec) options() []OptionSpec {
	if len(p.Options) == 0 {
		return []OptionSpec{{Name: "Title", Values: []string{"Default Title"}}}
	}
	return p.Options
}

// ProductPayload returns the REST product resource, the body of
// products/create and products/update.
func ProductPayload(p ProductSpec) []byte { return mustJSON(restProduct(p)) }

// ProductDeletePayload returns the body of products/delete: the id alone.
func ProductDeletePayload(id int64) []byte { return mustJSON(map[string]any{"id": id}) }

func restProduct(p ProductSpec) map[string]any {
	variants := make([]any, 0, len(p.Variants))
	gids := make([]any, 0, len(p.Variants))
	for i, v := range p.Variants {
		m := map[string]any{
			"id":                     v.ID,
			"admin_graphql_api_id":   gid("ProductVariant", v.ID),
			"product_id":             p.ID,
			"title":                  v.title(),
			"price":                  v.Price,
			"compare_at_price":       nullable(v.CompareAtPrice),
			"sku":                    nullable(v.SKU),
			"barcode":                nil,
			"position":               i + 1,
			"inventory_policy":       v.policy(),
			"inventory_item_id":      v.ID + 1,
			"inventory_quantity":     v.InventoryQuantity,
			"old_inventory_quantity": v.InventoryQuantity,
			"taxable":                true,
			"image_id":               nil,
			"created_at":             restTime(p.CreatedAt),
			"updated_at":             restTime(p.UpdatedAt),
		}
		for j := range 3 {
			m[fmt.Sprintf("option%d", j+1)] = nil
			if j < len(v.OptionValues) {
				m[fmt.Sprintf("option%d", j+1)] = v.OptionValues[j]
			} else if j == 0 && len(v.OptionValues) == 0 {
				m["option1"] = "Default Title"
			}
		}
		variants = append(variants, m)
		gids = append(gids, map[string]any{"admin_graphql_api_id": gid("ProductVariant", v.ID), "updated_at": gqlTime(p.UpdatedAt)})
	}
	options := make([]any, 0, len(p.options()))
	for i, o := range p.options() {
		options = append(options, map[string]any{
			"id": p.ID*10 + int64(i) + 1, "product_id": p.ID, "name": o.Name, "position": i + 1, "values": o.Values,
		})
	}
	var published any
	if p.PublishedAt != nil {
		published = restTime(*p.PublishedAt)
	}
	return map[string]any{
		"id":                                    p.ID,
		"admin_graphql_api_id":                  gid("Product", p.ID),
		"title":                                 p.Title,
		"body_html":                             nullable(p.BodyHTML),
		"vendor":                                p.Vendor,
		"product_type":                          p.ProductType,
		"handle":                                p.Handle,
		"status":                                p.status(),
		"tags":                                  strings.Join(p.Tags, ", "),
		"published_at":                          published,
		"published_scope":                       "global",
		"template_suffix":                       nil,
		"created_at":                            restTime(p.CreatedAt),
		"updated_at":                            restTime(p.UpdatedAt),
		"variants":                              variants,
		"options":                               options,
		"images":                                []any{},
		"image":                                 nil,
		"media":                                 []any{},
		"variant_gids":                          gids,
		"has_variants_that_requires_components": false,
		"category":                              nil,
	}
}

// AddProduct stores a product (replacing one with the same ID).
func (a *Admin) AddProduct(p ProductSpec) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.products = slices.DeleteFunc(a.products, func(x ProductSpec) bool { return x.ID == p.ID })
	a.products = append(a.products, p)
}

// SetCurrency sets the shop currency (shop { currencyCode }), the
// currency of product prices.
func (a *Admin) SetCurrency(code string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.currency = code
}

var variantsFirst = regexp.MustCompile(`variants\(first: (\d+)`)

// Costs of the product nodes the client selects: a product with its
// options is 2 plus its variants connection (2 + variants × 1).
const productCost = 2

func (a *Admin) productsPage(q Query) (any, error) {
	since, name, err := filter(q.Variables)
	if err != nil || name != "" {
		return nil, fmt.Errorf("products search: %v %s", err, name)
	}
	var match []ProductSpec
	for _, p := range a.products {
		if !p.UpdatedAt.Before(since) {
			match = append(match, p)
		}
	}
	slices.SortStableFunc(match, func(x, y ProductSpec) int {
		if c := x.UpdatedAt.Compare(y.UpdatedAt); c != 0 {
			return c
		}
		return int(x.ID - y.ID)
	})
	from, to, err := window(q.Variables, len(match))
	if err != nil {
		return nil, err
	}
	first := maxFirst
	if m := variantsFirst.FindStringSubmatch(q.Query); m != nil {
		first, _ = strconv.Atoi(m[1])
	}
	nodes := make([]any, 0, to-from)
	for _, p := range match[from:to] {
		nodes = append(nodes, gqlProduct(p, first))
	}
	return map[string]any{"products": page(nodes, from, to, len(match))}, nil
}

// productVariants answers product(id:) { variants(first:, after:) }.
func (a *Admin) productVariants(vars map[string]any) (any, error) {
	s, _ := vars["id"].(string)
	id, ok := gidID("Product", s)
	i := slices.IndexFunc(a.products, func(p ProductSpec) bool { return p.ID == id })
	if !ok || i < 0 {
		return map[string]any{"product": nil}, nil
	}
	p := a.products[i]
	from, to, err := window(vars, len(p.Variants))
	if err != nil {
		return nil, err
	}
	return map[string]any{"product": map[string]any{"variants": page(variantNodes(p, from, to), from, to, len(p.Variants))}}, nil
}

func (a *Admin) shop() map[string]any {
	return map[string]any{"shop": map[string]any{"currencyCode": orDefault(a.currency, DefaultCurrency)}}
}

// gqlProduct writes p as the Product fields the client selects, with its
// first variants.
func gqlProduct(p ProductSpec, first int) map[string]any {
	to := min(first, len(p.Variants))
	options := make([]any, 0, len(p.options()))
	for _, o := range p.options() {
		options = append(options, map[string]any{"name": o.Name, "values": o.Values})
	}
	var url any
	if p.PublishedAt != nil {
		url = "https://shop.example/products/" + p.Handle // the shop's primary domain
	}
	tags := p.Tags
	if tags == nil {
		tags = []string{}
	}
	return map[string]any{
		"id":              gid("Product", p.ID),
		"handle":          p.Handle,
		"title":           p.Title,
		"descriptionHtml": p.BodyHTML,
		"vendor":          p.Vendor,
		"productType":     p.ProductType,
		"tags":            tags,
		"status":          strings.ToUpper(p.status()),
		"onlineStoreUrl":  url,
		"updatedAt":       gqlTime(p.UpdatedAt),
		"options":         options,
		"variants":        page(variantNodes(p, 0, to), 0, to, len(p.Variants)),
	}
}

// variantNodes writes p's variants from to to as ProductVariant nodes;
// prices are Money, which drops trailing zeros but one ("24.00" is
// "24.0").
func variantNodes(p ProductSpec, from, to int) []any {
	nodes := make([]any, 0, to-from)
	for _, v := range p.Variants[from:to] {
		var compareAt any
		if v.CompareAtPrice != "" {
			compareAt = money(v.CompareAtPrice)
		}
		nodes = append(nodes, map[string]any{
			"id":                gid("ProductVariant", v.ID),
			"title":             v.title(),
			"sku":               nullable(v.SKU),
			"price":             money(v.Price),
			"compareAtPrice":    compareAt,
			"availableForSale":  v.availableForSale(),
			"inventoryQuantity": v.InventoryQuantity,
		})
	}
	return nodes
}

// money is a Money scalar.
func money(amount string) string {
	return gqlMoney(amount, "")["shopMoney"].(map[string]any)["amount"].(string)
}
