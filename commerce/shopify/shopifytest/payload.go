package shopifytest

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// OrderSpec describes an order; OrderPayload writes it as the REST order
// resource of orders/* webhooks and Admin serves it as a GraphQL Order.
type OrderSpec struct {
	ID int64
	// Name is what the customer sees; empty means "#" and ID.
	Name         string
	Email, Phone string
	Customer     *CustomerSpec
	// ShippingAddress and BillingAddress are optional.
	ShippingAddress, BillingAddress *AddressSpec
	// FinancialStatus is REST's ("paid", "partially_refunded", …); empty
	// means "pending".
	FinancialStatus string
	// FulfillmentStatus is REST's ("fulfilled", "partial"); empty is null.
	FulfillmentStatus string
	// TotalPrice is a decimal in Currency, the shop currency: "403.00".
	TotalPrice string
	Currency   string
	LineItems  []LineItemSpec
	// Tracking has one entry per fulfillment.
	Tracking []TrackingSpec
	// Payments are the order's sale, capture and authorization
	// transactions, the parents of refund transactions. Admin.AddOrder
	// gives an order without any that is paid, partially_refunded or
	// refunded one sale of TotalPrice through "bogus".
	Payments []PaymentSpec
	Refunds  []RefundSpec
	// Times are written in their own location, as Shopify writes the
	// shop's offset ("2024-11-10T10:30:00-05:00").
	CreatedAt, UpdatedAt time.Time
	CancelledAt          *time.Time
}

// name is the order's name.
func (o OrderSpec) name() string {
	if o.Name != "" {
		return o.Name
	}
	return "#" + strconv.FormatInt(o.ID, 10)
}

// CustomerSpec describes a customer.
type CustomerSpec struct {
	ID                   int64
	Email, Phone         string
	FirstName, LastName  string
	DefaultAddress       *AddressSpec
	CreatedAt, UpdatedAt time.Time
}

// AddressSpec is the part of an address frontdesk reads.
type AddressSpec struct {
	// Phone as the customer typed it: "555-625-1199".
	Phone string
	// CountryCode is ISO 3166 alpha-2: "US".
	CountryCode string
}

// LineItemSpec describes a line of an order.
type LineItemSpec struct {
	ID                   int64
	Title, SKU           string
	Quantity             int
	Price                string
	VariantID, ProductID int64
}

// TrackingSpec is one fulfillment's tracking.
type TrackingSpec struct {
	Company       string
	Numbers, URLs []string
	// ShipmentStatus is the carrier's ("in_transit", "delivered"); empty
	// is null.
	ShipmentStatus string
	// Status is the fulfillment's ("success", "cancelled"); empty means
	// "success".
	Status string
}

// RefundSpec describes a refund.
type RefundSpec struct {
	ID, OrderID  int64
	Note         string
	CreatedAt    time.Time
	Transactions []TransactionSpec
	LineItems    []RefundLineItemSpec
}

// PaymentSpec is an order's sale, capture or authorization transaction.
type PaymentSpec struct {
	// ID zero is given one by Admin.AddOrder.
	ID int64
	// Kind defaults to "sale", Status to "success", Gateway to "bogus".
	Kind, Status, Gateway string
	// Amount is a decimal in the order's currency.
	Amount string
}

// TransactionSpec is a refund's transaction.
type TransactionSpec struct {
	ID int64
	// Kind defaults to "refund", Status to "success".
	Kind, Status string
	Amount       string
	// Currency may be empty: Shopify's own sample refund has null.
	Currency string
	// ParentID is the payment refunded; zero means the order's first.
	ParentID int64
	// Gateway defaults to "bogus".
	Gateway string
}

// RefundLineItemSpec is a refunded line.
type RefundLineItemSpec struct {
	LineItemID int64
	Quantity   int
	// Subtotal is in Currency, the presentment currency.
	Subtotal, Currency string
}

// OrderPayload returns the REST order resource, the body of orders/create,
// orders/updated, orders/paid and orders/cancelled.
func OrderPayload(o OrderSpec) []byte { return mustJSON(restOrder(o)) }

// CustomerPayload returns the REST customer resource, the body of
// customers/create and customers/update.
func CustomerPayload(c CustomerSpec) []byte { return mustJSON(restCustomer(c, "")) }

// RefundPayload returns the REST refund resource, the body of
// refunds/create.
func RefundPayload(r RefundSpec) []byte { return mustJSON(restRefund(r)) }

// UninstalledPayload returns the body of app/uninstalled: the shop
// resource.
func UninstalledPayload(shopID int64, domain string) []byte {
	return mustJSON(map[string]any{
		"id": shopID, "name": strings.SplitN(domain, ".", 2)[0], "domain": domain, "myshopify_domain": domain,
		"email": "owner@" + domain, "plan_name": "basic", "currency": "USD",
	})
}

func restOrder(o OrderSpec) map[string]any {
	m := map[string]any{
		"id":                   o.ID,
		"admin_graphql_api_id": gid("Order", o.ID),
		"name":                 o.name(),
		"order_number":         nameNumber(o.name()),
		"number":               nameNumber(o.name()) - 1000,
		"email":                nullable(o.Email),
		"contact_email":        nullable(o.Email),
		"phone":                nullable(o.Phone),
		"created_at":           restTime(o.CreatedAt),
		"updated_at":           restTime(o.UpdatedAt),
		"processed_at":         restTime(o.CreatedAt),
		"cancelled_at":         nil,
		"cancel_reason":        nil,
		"closed_at":            nil,
		"currency":             o.Currency,
		"presentment_currency": o.Currency,
		"financial_status":     financialStatus(o.FinancialStatus),
		"fulfillment_status":   nullable(o.FulfillmentStatus),
		"total_price":          o.TotalPrice,
		"total_price_set":      moneySet(o.TotalPrice, o.Currency),
		"current_total_price":  o.TotalPrice,
		"subtotal_price":       o.TotalPrice,
		"total_tax":            "0.00",
		"taxes_included":       false,
		"test":                 false,
		"confirmed":            true,
		"tags":                 "",
		"note":                 nil,
		"note_attributes":      []any{},
		"customer":             nil,
		"shipping_address":     restAddress(o.ShippingAddress),
		"billing_address":      restAddress(o.BillingAddress),
		"shipping_lines":       []any{},
		"tax_lines":            []any{},
		"discount_codes":       []any{},
	}
	if o.CancelledAt != nil {
		m["cancelled_at"], m["cancel_reason"] = restTime(*o.CancelledAt), "customer"
	}
	if o.Customer != nil {
		m["customer"] = restCustomer(*o.Customer, o.Currency)
	}
	items := make([]any, 0, len(o.LineItems))
	for _, li := range o.LineItems {
		items = append(items, restLineItem(li, o.Currency))
	}
	m["line_items"] = items
	fulfillments := make([]any, 0, len(o.Tracking))
	for i, t := range o.Tracking {
		fulfillments = append(fulfillments, restFulfillment(o, i, t))
	}
	m["fulfillments"] = fulfillments
	refunds := make([]any, 0, len(o.Refunds))
	for _, r := range o.Refunds {
		if r.OrderID == 0 {
			r.OrderID = o.ID
		}
		refunds = append(refunds, restRefund(r))
	}
	m["refunds"] = refunds
	return m
}

func restLineItem(li LineItemSpec, currency string) map[string]any {
	return map[string]any{
		"id":                   li.ID,
		"admin_graphql_api_id": gid("LineItem", li.ID),
		"title":                li.Title,
		"name":                 li.Title,
		"quantity":             li.Quantity,
		"fulfillable_quantity": li.Quantity,
		"price":                li.Price,
		"price_set":            moneySet(li.Price, currency),
		"sku":                  li.SKU,
		"variant_id":           nullableID(li.VariantID),
		"product_id":           nullableID(li.ProductID),
		"variant_title":        nil,
		"vendor":               nil,
		"fulfillment_service":  "manual",
		"fulfillment_status":   nil,
		"requires_shipping":    true,
		"taxable":              true,
		"gift_card":            false,
		"grams":                0,
		"properties":           []any{},
		"total_discount":       "0.00",
		"tax_lines":            []any{},
	}
}

func restFulfillment(o OrderSpec, i int, t TrackingSpec) map[string]any {
	status := t.Status
	if status == "" {
		status = "success"
	}
	var number, url any
	if len(t.Numbers) > 0 {
		number = t.Numbers[0]
	}
	if len(t.URLs) > 0 {
		url = t.URLs[0]
	}
	return map[string]any{
		"id":                   o.ID*10 + int64(i) + 1,
		"admin_graphql_api_id": gid("Fulfillment", o.ID*10+int64(i)+1),
		"order_id":             o.ID,
		"name":                 fmt.Sprintf("%s.%d", o.name(), i+1),
		"status":               status,
		"service":              "manual",
		"created_at":           restTime(o.UpdatedAt),
		"updated_at":           restTime(o.UpdatedAt),
		"tracking_company":     nullable(t.Company),
		"tracking_number":      number,
		"tracking_numbers":     orEmpty(t.Numbers),
		"tracking_url":         url,
		"tracking_urls":        orEmpty(t.URLs),
		"shipment_status":      nullable(t.ShipmentStatus),
		"line_items":           []any{},
	}
}

func restCustomer(c CustomerSpec, currency string) map[string]any {
	if currency == "" {
		currency = "USD"
	}
	return map[string]any{
		"id":                   c.ID,
		"admin_graphql_api_id": gid("Customer", c.ID),
		"email":                nullable(c.Email),
		"phone":                nullable(c.Phone),
		"first_name":           nullable(c.FirstName),
		"last_name":            nullable(c.LastName),
		"created_at":           restTime(c.CreatedAt),
		"updated_at":           restTime(c.UpdatedAt),
		"state":                "enabled",
		"verified_email":       true,
		"tax_exempt":           false,
		"tags":                 "",
		"note":                 nil,
		"currency":             currency,
		"default_address":      restAddress(c.DefaultAddress),
		"email_marketing_consent": map[string]any{
			"state": "not_subscribed", "opt_in_level": "single_opt_in", "consent_updated_at": nil,
		},
	}
}

func restAddress(a *AddressSpec) any {
	if a == nil {
		return nil
	}
	return map[string]any{
		"first_name": "Jane", "last_name": "Doe", "name": "Jane Doe", "company": nil,
		"address1": "123 Main Street", "address2": nil, "city": "Springfield", "zip": "40003",
		"province": nil, "province_code": nil, "country": a.CountryCode, "country_code": a.CountryCode,
		"phone": nullable(a.Phone), "latitude": nil, "longitude": nil,
	}
}

func restRefund(r RefundSpec) map[string]any {
	currency := ""
	transactions := make([]any, 0, len(r.Transactions))
	for i, t := range r.Transactions {
		kind, status := t.Kind, t.Status
		if kind == "" {
			kind = "refund"
		}
		if status == "" {
			status = "success"
		}
		if currency == "" {
			currency = t.Currency
		}
		id := t.ID
		if id == 0 {
			id = r.ID*10 + int64(i) + 1
		}
		transactions = append(transactions, map[string]any{
			"id": id, "admin_graphql_api_id": gid("OrderTransaction", id), "order_id": r.OrderID,
			"kind": kind, "status": status, "gateway": orDefault(t.Gateway, "bogus"), "message": "Bogus Gateway: Forced success",
			"amount": t.Amount, "currency": nullable(t.Currency), "created_at": restTime(r.CreatedAt),
			"processed_at": restTime(r.CreatedAt), "parent_id": nullableID(t.ParentID), "test": true, "error_code": nil,
			"source_name": "web", "receipt": map[string]any{},
		})
	}
	lines := make([]any, 0, len(r.LineItems))
	for i, li := range r.LineItems {
		lines = append(lines, map[string]any{
			"id": r.ID*100 + int64(i) + 1, "line_item_id": li.LineItemID, "quantity": li.Quantity,
			"restock_type": "no_restock", "location_id": nil, "subtotal": li.Subtotal, "total_tax": 0.0,
			"subtotal_set": moneySet(li.Subtotal, li.Currency),
		})
		if currency == "" {
			currency = li.Currency
		}
	}
	return map[string]any{
		"id":                   r.ID,
		"admin_graphql_api_id": gid("Refund", r.ID),
		"order_id":             r.OrderID,
		"created_at":           restTime(r.CreatedAt),
		"processed_at":         restTime(r.CreatedAt),
		"note":                 nullable(r.Note),
		"restock":              false,
		"user_id":              nil,
		"duties":               []any{},
		"order_adjustments":    []any{},
		"refund_line_items":    lines,
		"transactions":         transactions,
		"total_duties_set":     moneySet("0.00", currency),
	}
}

// moneySet is a REST amount in the shop and presentment currency (the
// same here).
func moneySet(amount, currency string) map[string]any {
	m := map[string]any{"amount": amount, "currency_code": currency}
	return map[string]any{"shop_money": m, "presentment_money": m}
}

func financialStatus(s string) string {
	if s == "" {
		return "pending"
	}
	return s
}

// nameNumber is the number in a name like "#1001", or 0.
func nameNumber(name string) int64 {
	n, _ := strconv.ParseInt(strings.TrimLeft(name, "#"), 10, 64)
	return n
}

// restTime writes t as Shopify's REST API does: RFC 3339 with t's offset;
// the zero time is null.
func restTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.Format(time.RFC3339)
}

func gid(kind string, id int64) string { return fmt.Sprintf("gid://shopify/%s/%d", kind, id) }

// orDefault is s, or def for "".
func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// nullable is s, or JSON null for "".
func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func nullableID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

func orEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("shopifytest: encode payload: %v", err))
	}
	return b
}
