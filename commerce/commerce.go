// Package commerce owns what frontdesk knows of the brand's shops: shop
// events normalized from every shop system (Shopify, Magento / Adobe
// Commerce), money in minor units, contact keys that link a shop customer to
// a chat customer, and the consumer that applies shop events to the store.
// The shop systems' wire formats live in its subpackages.
package commerce

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Sources of shop events.
const (
	SourceShopify = "shopify"
	SourceMagento = "magento"
)

// Kind is what a shop event is about.
type Kind string

// Kinds of shop events.
const (
	KindOrder       Kind = "order"
	KindCustomer    Kind = "customer"
	KindRefund      Kind = "refund"
	KindUninstalled Kind = "uninstalled"
	// KindProduct is a product created, updated or deleted in the shop's
	// catalogue.
	KindProduct Kind = "product"
	// KindUnknown is a topic frontdesk does not use: stored, counted,
	// ignored.
	KindUnknown Kind = "unknown"
)

// ErrSignature means a delivery's signature is missing or wrong.
var ErrSignature = errors.New("commerce: invalid signature")

// ErrMalformed means a delivery's body cannot be parsed.
var ErrMalformed = errors.New("commerce: malformed payload")

// ErrNotFound means the shop has no such order.
var ErrNotFound = errors.New("commerce: not found")

// Event is one shop event, normalized.
type Event struct {
	Kind     Kind      `json:"kind"`
	Order    *Order    `json:"order,omitempty"`
	Customer *Customer `json:"customer,omitempty"`
	Refund   *Refund   `json:"refund,omitempty"`
	Product  *Product  `json:"product,omitempty"`
}

// LineItem is one line of an order. Prices are minor units of the order's
// currency.
type LineItem struct {
	ExternalID string `json:"external_id,omitempty"`
	Title      string `json:"title"`
	SKU        string `json:"sku,omitempty"`
	Quantity   int    `json:"quantity"`
	PriceMinor int64  `json:"price_minor"`
	ProductID  string `json:"product_id,omitempty"`
	VariantID  string `json:"variant_id,omitempty"`
}

// Tracking is one shipment's tracking, as the shop sends it.
type Tracking struct {
	Company string `json:"company,omitempty"`
	Number  string `json:"number,omitempty"`
	URL     string `json:"url,omitempty"`
	Status  string `json:"status,omitempty"`
}

// Order is a shop's order.
type Order struct {
	// Source and Shop name the shop system and the shop (its domain).
	Source string `json:"source"`
	Shop   string `json:"shop"`
	// ExternalID is the shop's id of the order.
	ExternalID string `json:"external_id"`
	// Number is what the customer sees, without "#": "1001".
	Number string `json:"number"`
	// Email and Phone are the order's contact; Phone is E.164 or empty.
	Email string `json:"email,omitempty"`
	Phone string `json:"phone,omitempty"`
	// Customer is the shop's customer of the order, when it has one.
	Customer *Customer `json:"customer,omitempty"`
	// FinancialStatus is the shop's (Shopify: pending, authorized, paid,
	// partially_refunded, refunded, voided, …; Magento: its order state).
	FinancialStatus   string     `json:"financial_status"`
	FulfillmentStatus string     `json:"fulfillment_status"`
	TotalMinor        int64      `json:"total_minor"`
	RefundedMinor     int64      `json:"refunded_minor,omitempty"`
	Currency          string     `json:"currency"`
	LineItems         []LineItem `json:"line_items"`
	Tracking          []Tracking `json:"tracking,omitempty"`
	CreatedAt         time.Time  `json:"created_at"`
	// UpdatedAt is the shop's last change; an older one than stored changes
	// nothing.
	UpdatedAt   time.Time  `json:"updated_at"`
	CancelledAt *time.Time `json:"cancelled_at,omitempty"`
	// AdminURL is the order's page in the shop's admin, when known.
	AdminURL string `json:"admin_url,omitempty"`
}

// Customer is a shop's customer.
type Customer struct {
	Source     string `json:"source"`
	Shop       string `json:"shop"`
	ExternalID string `json:"external_id"`
	// Email is lower-cased; Phone is E.164 or empty.
	Email     string    `json:"email,omitempty"`
	Phone     string    `json:"phone,omitempty"`
	FirstName string    `json:"first_name,omitempty"`
	LastName  string    `json:"last_name,omitempty"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Name is the customer's full name.
func (c *Customer) Name() string {
	switch {
	case c.FirstName == "":
		return c.LastName
	case c.LastName == "":
		return c.FirstName
	}
	return c.FirstName + " " + c.LastName
}

// Refund is money a shop gave back on an order.
type Refund struct {
	Source          string    `json:"source"`
	Shop            string    `json:"shop"`
	ExternalID      string    `json:"external_id"`
	OrderExternalID string    `json:"order_external_id"`
	AmountMinor     int64     `json:"amount_minor"`
	Currency        string    `json:"currency"`
	CreatedAt       time.Time `json:"created_at"`
}

// Variant is one purchasable variant of a product.
type Variant struct {
	ExternalID string `json:"external_id"`
	// Title names the variant by its option values ("M / Blue"); the only
	// variant of a product without options (Shopify's "Default Title") has
	// none.
	Title string `json:"title"`
	SKU   string `json:"sku,omitempty"`
	// Price and CompareAtPrice are decimals in Product.Currency ("19.99");
	// CompareAtPrice is empty when the variant has none. They are as the
	// shop wrote them until Product.SetCurrency rewrites them in the
	// currency's digits.
	Price          string `json:"price"`
	CompareAtPrice string `json:"compare_at_price,omitempty"`
	// PriceMinor and CompareAtMinor are Price and CompareAtPrice in minor
	// units of Product.Currency, filled by Product.SetCurrency.
	PriceMinor     int64 `json:"price_minor"`
	CompareAtMinor int64 `json:"compare_at_minor,omitempty"`
	// Available is whether the variant can be bought now; nil when the
	// shop did not say.
	Available *bool `json:"available,omitempty"`
	// Inventory is the quantity in stock, as the shop counts it (it may be
	// negative: oversold); nil when not tracked or unknown.
	Inventory *int `json:"inventory,omitempty"`
}

// ProductOption is one way a product varies and the values it takes:
// "Size": S, M, L.
type ProductOption struct {
	Name   string   `json:"name"`
	Values []string `json:"values"`
}

// Product is a shop's product as the knowledge base keeps it.
type Product struct {
	// Source and Shop name the shop system and the shop (its domain).
	Source string `json:"source"`
	Shop   string `json:"shop"`
	// ExternalID is the shop's id of the product.
	ExternalID string `json:"external_id"`
	// Handle is the product's name in its storefront URL.
	Handle string `json:"handle,omitempty"`
	Title  string `json:"title"`
	// Description is the product's description as HTML, as the shop sent
	// it.
	Description string   `json:"description,omitempty"`
	Vendor      string   `json:"vendor,omitempty"`
	ProductType string   `json:"product_type,omitempty"`
	Tags        []string `json:"tags,omitempty"`
	// Status is active, draft or archived (lower case).
	Status string `json:"status"`
	// Currency is the ISO 4217 code of the variants' prices; empty until
	// SetCurrency, where the shop's payload does not carry it (Shopify's
	// product webhooks).
	Currency string          `json:"currency"`
	Options  []ProductOption `json:"options,omitempty"`
	Variants []Variant       `json:"variants,omitempty"`
	// URL is the product's storefront page, when it is active and
	// published there.
	URL       string    `json:"url,omitempty"`
	UpdatedAt time.Time `json:"updated_at"`
	// Deleted means the shop deleted the product; only Source, Shop and
	// ExternalID are set.
	Deleted bool `json:"deleted,omitempty"`
}

// SetCurrency sets the currency of p's prices to code (ISO 4217) and
// converts every variant's Price and CompareAtPrice to minor units of it
// with ToMinor, rewriting both decimals in the currency's digits ("24.0"
// EUR becomes "24.00") and dropping a zero CompareAtPrice (none). A code
// without minor-unit rules wraps ErrCurrency; an amount the currency
// cannot represent ("0.5" JPY, "19.995" EUR) or that is not a decimal
// wraps ErrMalformed. On error p is unchanged.
func (p *Product) SetCurrency(code string) error {
	code = strings.ToUpper(strings.TrimSpace(code))
	if _, err := MinorUnits(code); err != nil {
		return err
	}
	decimal := func(minor int64) string {
		s := FormatMinor(minor, code)
		return s[:strings.LastIndexByte(s, ' ')]
	}
	variants := slices.Clone(p.Variants)
	for i := range variants {
		v := &variants[i]
		price, err := ToMinor(v.Price, code)
		if err != nil {
			return fmt.Errorf("product %s variant %s price: %w", p.ExternalID, v.ExternalID, err)
		}
		v.Price, v.PriceMinor = decimal(price), price
		v.CompareAtMinor = 0
		if v.CompareAtPrice == "" {
			continue
		}
		compareAt, err := ToMinor(v.CompareAtPrice, code)
		if err != nil {
			return fmt.Errorf("product %s variant %s compare-at price: %w", p.ExternalID, v.ExternalID, err)
		}
		v.CompareAtPrice, v.CompareAtMinor = "", compareAt
		if compareAt != 0 {
			v.CompareAtPrice = decimal(compareAt)
		}
	}
	p.Currency, p.Variants = code, variants
	return nil
}

// Page is one page of a backfill: the orders and customers it brought.
type Page struct {
	Orders    []Order
	Customers []Customer
}

// Shop is a shop's API, as backfill and order lookup use it.
type Shop interface {
	// Source is the shop system; Domain the shop.
	Source() string
	Domain() string
	// Backfill calls fn with each page of orders and customers updated
	// since since, oldest first where the API allows it; it stops at fn's
	// first error.
	Backfill(ctx context.Context, since time.Time, fn func(Page) error) error
	// OrderByNumber returns the order the customer knows as number ("1001"
	// or "#1001"), or ErrNotFound.
	OrderByNumber(ctx context.Context, number string) (Order, error)
}
