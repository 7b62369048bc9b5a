// Package commerce owns what frontdesk knows of the brand's shops: shop
// events normalized from every shop system (Shopify, Magento / Adobe
// Commerce), money in minor units, contact keys that link a shop customer to
// a chat customer, and the consumer that applies shop events to the store.
// The shop systems' wire formats live in its subpackages.
package commerce

import (
	"context"
	"errors"
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
