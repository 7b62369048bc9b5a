package shopify

import (
	"fmt"
	"strings"

	"github.com/frontdesk-ai/frontdesk/commerce"
)

// Parse normalizes the body of a webhook delivery of topic from shop (the
// X-Shopify-Shop-Domain). The body is the REST resource of the topic:
// orders/* carry the order, refunds/create the refund, customers/* the
// customer, products/create and products/update the product (its prices
// without their currency: see commerce.Product.SetCurrency),
// products/delete the product's id, app/uninstalled the shop. A topic
// frontdesk does not read is commerce.KindUnknown, once its body is known
// to be a JSON object.
//
// A body that is not a JSON object (or nests deeper than 64 levels), lacks
// its resource's id (or a variant's), has an amount that does not parse or
// a time that is not RFC 3339 is an error wrapping commerce.ErrMalformed; a
// currency without minor-unit rules wraps commerce.ErrCurrency as well.
func Parse(topic, shop string, body []byte) (commerce.Event, error) {
	ev, err := parse(topic, strings.ToLower(strings.TrimSpace(shop)), body)
	if err != nil {
		return commerce.Event{}, fmt.Errorf("shopify %s: %w", topic, err)
	}
	return ev, nil
}

func parse(topic, shop string, body []byte) (commerce.Event, error) {
	if shop == "" {
		return commerce.Event{}, commerce.Malformed("no shop domain")
	}
	if err := commerce.CheckObject(body); err != nil {
		return commerce.Event{}, err
	}
	switch topic {
	case TopicOrdersCreate, TopicOrdersUpdated, TopicOrdersPaid, TopicOrdersCancelled,
		TopicOrdersFulfilled, TopicOrdersPartiallyFulfilled:
		var o restOrder
		if err := decode(body, &o); err != nil {
			return commerce.Event{}, err
		}
		order, err := o.normalize(shop)
		return commerce.Event{Kind: commerce.KindOrder, Order: &order}, err
	case TopicRefundsCreate:
		var r restRefund
		if err := decode(body, &r); err != nil {
			return commerce.Event{}, err
		}
		refund, err := r.normalize(shop)
		return commerce.Event{Kind: commerce.KindRefund, Refund: &refund}, err
	case TopicCustomersCreate, TopicCustomersUpdate:
		var c restCustomer
		if err := decode(body, &c); err != nil {
			return commerce.Event{}, err
		}
		if c.ID == "" {
			return commerce.Event{}, commerce.Malformed("customer has no id")
		}
		customer, err := c.normalize(shop)
		return commerce.Event{Kind: commerce.KindCustomer, Customer: customer}, err
	case TopicProductsCreate, TopicProductsUpdate:
		return parseProduct(shop, body)
	case TopicProductsDelete:
		return parseProductDelete(shop, body)
	case TopicAppUninstalled:
		return commerce.Event{Kind: commerce.KindUninstalled}, nil
	}
	return commerce.Event{Kind: commerce.KindUnknown}, nil
}

// restOrder is the fields frontdesk reads of the REST order resource.
type restOrder struct {
	ID                id                `json:"id"`
	Name              string            `json:"name"`
	OrderNumber       id                `json:"order_number"`
	Email             string            `json:"email"`
	ContactEmail      string            `json:"contact_email"`
	Phone             string            `json:"phone"`
	Customer          *restCustomer     `json:"customer"`
	ShippingAddress   *restAddress      `json:"shipping_address"`
	BillingAddress    *restAddress      `json:"billing_address"`
	FinancialStatus   string            `json:"financial_status"`
	FulfillmentStatus string            `json:"fulfillment_status"`
	TotalPrice        amount            `json:"total_price"`
	Currency          string            `json:"currency"`
	LineItems         []restLineItem    `json:"line_items"`
	Fulfillments      []restFulfillment `json:"fulfillments"`
	Refunds           []restRefund      `json:"refunds"`
	CreatedAt         string            `json:"created_at"`
	UpdatedAt         string            `json:"updated_at"`
	CancelledAt       string            `json:"cancelled_at"`
}

type restAddress struct {
	Phone       string `json:"phone"`
	CountryCode string `json:"country_code"`
}

// phone is the address's phone, read in the address's country.
func (a *restAddress) phone() phoneCandidate {
	if a == nil {
		return phoneCandidate{}
	}
	return phoneCandidate{a.Phone, a.CountryCode}
}

type restLineItem struct {
	ID        id     `json:"id"`
	Title     string `json:"title"`
	Quantity  int    `json:"quantity"`
	Price     amount `json:"price"`
	SKU       string `json:"sku"`
	VariantID id     `json:"variant_id"`
	ProductID id     `json:"product_id"`
}

type restFulfillment struct {
	Status          string   `json:"status"`
	TrackingCompany string   `json:"tracking_company"`
	TrackingNumber  string   `json:"tracking_number"`
	TrackingNumbers []string `json:"tracking_numbers"`
	TrackingURL     string   `json:"tracking_url"`
	TrackingURLs    []string `json:"tracking_urls"`
	ShipmentStatus  string   `json:"shipment_status"`
}

type restRefund struct {
	ID              id                `json:"id"`
	OrderID         id                `json:"order_id"`
	CreatedAt       string            `json:"created_at"`
	ProcessedAt     string            `json:"processed_at"`
	Transactions    []restTransaction `json:"transactions"`
	RefundLineItems []struct {
		SubtotalSet *moneySet `json:"subtotal_set"`
	} `json:"refund_line_items"`
}

type restTransaction struct {
	Amount   amount `json:"amount"`
	Currency string `json:"currency"`
	Kind     string `json:"kind"`
	Status   string `json:"status"`
}

// succeededRefund reports whether t gave money back.
func (t restTransaction) succeededRefund() bool {
	return strings.EqualFold(t.Kind, "refund") && strings.EqualFold(t.Status, "success")
}

// moneySet is a REST amount in the shop's and the presentment currency.
type moneySet struct {
	ShopMoney        restMoney `json:"shop_money"`
	PresentmentMoney restMoney `json:"presentment_money"`
}

type restMoney struct {
	Amount       amount `json:"amount"`
	CurrencyCode string `json:"currency_code"`
}

type restCustomer struct {
	ID             id           `json:"id"`
	Email          string       `json:"email"`
	Phone          string       `json:"phone"`
	FirstName      string       `json:"first_name"`
	LastName       string       `json:"last_name"`
	UpdatedAt      string       `json:"updated_at"`
	DefaultAddress *restAddress `json:"default_address"`
}

// normalize maps the REST order; the money is in the shop currency
// (currency, total_price).
func (o restOrder) normalize(shop string) (commerce.Order, error) {
	if o.ID == "" {
		return commerce.Order{}, commerce.Malformed("order has no id")
	}
	currency := strings.ToUpper(strings.TrimSpace(o.Currency))
	out := commerce.Order{
		Source:            commerce.SourceShopify,
		Shop:              shop,
		ExternalID:        string(o.ID),
		Number:            orderNumber(o.Name),
		Email:             commerce.NormalizeEmail(o.Email),
		FinancialStatus:   strings.ToLower(o.FinancialStatus),
		FulfillmentStatus: fulfillmentStatus(o.FulfillmentStatus),
		Currency:          currency,
		AdminURL:          adminURL(shop, o.ID),
	}
	if out.Number == "" {
		out.Number = string(o.OrderNumber)
	}
	if out.Email == "" {
		out.Email = commerce.NormalizeEmail(o.ContactEmail)
	}
	var err error
	if out.Customer, err = o.Customer.normalize(shop); err != nil {
		return commerce.Order{}, err
	}
	out.Phone = firstPhone(phoneCandidate{o.Phone, ""}, o.Customer.phone(), o.ShippingAddress.phone(), o.BillingAddress.phone())
	if out.TotalMinor, err = minor("total_price", o.TotalPrice, currency); err != nil {
		return commerce.Order{}, err
	}
	if out.RefundedMinor, err = refundedMinor(o.Refunds, currency); err != nil {
		return commerce.Order{}, err
	}
	if out.LineItems, err = lineItems(o.LineItems, currency); err != nil {
		return commerce.Order{}, err
	}
	out.Tracking = tracking(o.Fulfillments)
	if out.CreatedAt, err = parseTime("created_at", o.CreatedAt); err != nil {
		return commerce.Order{}, err
	}
	if out.UpdatedAt, err = parseTime("updated_at", o.UpdatedAt); err != nil {
		return commerce.Order{}, err
	}
	if out.CancelledAt, err = parseOptionalTime("cancelled_at", o.CancelledAt); err != nil {
		return commerce.Order{}, err
	}
	return out, nil
}

// fulfillmentStatus is REST's fulfillment_status; null means nothing is
// fulfilled yet.
func fulfillmentStatus(s string) string {
	if s = strings.ToLower(strings.TrimSpace(s)); s == "" {
		return "unfulfilled"
	}
	return s
}

// refundedMinor sums the successful refund transactions of refunds that
// are in the order's currency. A transaction in another currency (a
// presentment currency that differs from the shop's) is left out: its
// amount cannot be added to shop money.
func refundedMinor(refunds []restRefund, currency string) (int64, error) {
	var sum int64
	for _, r := range refunds {
		for _, t := range r.Transactions {
			if !t.succeededRefund() || (t.Currency != "" && !strings.EqualFold(t.Currency, currency)) {
				continue
			}
			v, err := minor("refunds.transactions.amount", t.Amount, currency)
			if err != nil {
				return 0, err
			}
			sum += v
		}
	}
	return sum, nil
}

func lineItems(items []restLineItem, currency string) ([]commerce.LineItem, error) {
	out := make([]commerce.LineItem, 0, len(items))
	for i, li := range items {
		price, err := minor(fmt.Sprintf("line_items[%d].price", i), li.Price, currency)
		if err != nil {
			return nil, err
		}
		out = append(out, commerce.LineItem{
			ExternalID: string(li.ID),
			Title:      li.Title,
			SKU:        li.SKU,
			Quantity:   li.Quantity,
			PriceMinor: price,
			ProductID:  string(li.ProductID),
			VariantID:  string(li.VariantID),
		})
	}
	return out, nil
}

// tracking returns one Tracking per tracking number of the fulfillments
// that were not cancelled or failed.
func tracking(fulfillments []restFulfillment) []commerce.Tracking {
	var out []commerce.Tracking
	for _, f := range fulfillments {
		switch strings.ToLower(f.Status) {
		case "cancelled", "error", "failure":
			continue
		}
		numbers, urls := f.TrackingNumbers, f.TrackingURLs
		if len(numbers) == 0 && f.TrackingNumber != "" {
			numbers = []string{f.TrackingNumber}
		}
		if len(urls) == 0 && f.TrackingURL != "" {
			urls = []string{f.TrackingURL}
		}
		if len(numbers) == 0 && (f.TrackingCompany != "" || len(urls) > 0) {
			numbers = []string{""} // a shipment with a carrier or link but no number
		}
		for i, n := range numbers {
			t := commerce.Tracking{Company: f.TrackingCompany, Number: n, Status: strings.ToLower(f.ShipmentStatus)}
			if i < len(urls) {
				t.URL = urls[i]
			}
			out = append(out, t)
		}
	}
	return out
}

// normalize maps the refund resource of refunds/create. Its amount is the
// sum of its successful refund transactions, in their currency; a refund
// without one (a restock only) takes the currency of its line items'
// presentment money and amounts to zero.
func (r restRefund) normalize(shop string) (commerce.Refund, error) {
	if r.ID == "" || r.OrderID == "" {
		return commerce.Refund{}, commerce.Malformed("refund has no id or order_id")
	}
	out := commerce.Refund{Source: commerce.SourceShopify, Shop: shop, ExternalID: string(r.ID), OrderExternalID: string(r.OrderID)}
	out.Currency = r.currency()
	for i, t := range r.Transactions {
		if !t.succeededRefund() {
			continue
		}
		if t.Currency != "" && !strings.EqualFold(t.Currency, out.Currency) {
			return commerce.Refund{}, commerce.Malformed("refund transactions in %s and %s", out.Currency, t.Currency)
		}
		v, err := minor(fmt.Sprintf("transactions[%d].amount", i), t.Amount, out.Currency)
		if err != nil {
			return commerce.Refund{}, err
		}
		out.AmountMinor += v
	}
	if _, err := minor("currency", "0", out.Currency); err != nil {
		return commerce.Refund{}, err
	}
	created := r.CreatedAt
	if created == "" {
		created = r.ProcessedAt
	}
	var err error
	if out.CreatedAt, err = parseTime("created_at", created); err != nil {
		return commerce.Refund{}, err
	}
	return out, nil
}

// currency is the refund's: its first successful transaction's, else the
// presentment currency of its line items.
func (r restRefund) currency() string {
	for _, t := range r.Transactions {
		if t.succeededRefund() && t.Currency != "" {
			return strings.ToUpper(t.Currency)
		}
	}
	for _, li := range r.RefundLineItems {
		if li.SubtotalSet != nil && li.SubtotalSet.PresentmentMoney.CurrencyCode != "" {
			return strings.ToUpper(li.SubtotalSet.PresentmentMoney.CurrencyCode)
		}
	}
	return ""
}

// normalize maps a REST customer; nil stays nil, and so does a customer
// without an id (an order's redacted customer).
func (c *restCustomer) normalize(shop string) (*commerce.Customer, error) {
	if c == nil || c.ID == "" {
		return nil, nil
	}
	updated, err := parseTime("customer.updated_at", c.UpdatedAt)
	if err != nil {
		return nil, err
	}
	return &commerce.Customer{
		Source:     commerce.SourceShopify,
		Shop:       shop,
		ExternalID: string(c.ID),
		Email:      commerce.NormalizeEmail(c.Email),
		Phone:      firstPhone(phoneCandidate{c.Phone, ""}, c.DefaultAddress.phone()),
		FirstName:  c.FirstName,
		LastName:   c.LastName,
		UpdatedAt:  updated,
	}, nil
}

// phone is the customer's own phone, for an order without one.
func (c *restCustomer) phone() phoneCandidate {
	if c == nil {
		return phoneCandidate{}
	}
	return phoneCandidate{c.Phone, ""}
}
