package magento

import (
	"fmt"
	"strings"

	"github.com/frontdesk-ai/frontdesk/commerce"
)

// salesOrder is the fields frontdesk reads of a sales order: the REST
// resource (GET /V1/orders/{id}), the async-events output of
// OrderRepositoryInterface::get, and the order model data of Adobe
// Commerce webhooks.
type salesOrder struct {
	EntityID          scalar                 `json:"entity_id"`
	IncrementID       scalar                 `json:"increment_id"`
	State             string                 `json:"state"`
	Status            string                 `json:"status"`
	CustomerEmail     string                 `json:"customer_email"`
	CustomerFirstname string                 `json:"customer_firstname"`
	CustomerLastname  string                 `json:"customer_lastname"`
	CustomerID        scalar                 `json:"customer_id"`
	CustomerIsGuest   scalar                 `json:"customer_is_guest"`
	GrandTotal        scalar                 `json:"grand_total"`
	TotalRefunded     scalar                 `json:"total_refunded"`
	OrderCurrencyCode string                 `json:"order_currency_code"`
	CreatedAt         string                 `json:"created_at"`
	UpdatedAt         string                 `json:"updated_at"`
	Items             list[orderItem]        `json:"items"`
	BillingAddress    object[address]        `json:"billing_address"`
	Addresses         list[address]          `json:"addresses"`
	Extension         object[orderExtension] `json:"extension_attributes"`
	Tracks            list[track]            `json:"tracks"`
}

type orderExtension struct {
	ShippingAssignments list[struct {
		Shipping object[struct {
			Address object[address] `json:"address"`
		}] `json:"shipping"`
	}] `json:"shipping_assignments"`
	Tracks list[track] `json:"tracks"`
}

type orderItem struct {
	ItemID       scalar `json:"item_id"`
	ParentItemID scalar `json:"parent_item_id"`
	Name         string `json:"name"`
	SKU          string `json:"sku"`
	QtyOrdered   scalar `json:"qty_ordered"`
	QtyShipped   scalar `json:"qty_shipped"`
	QtyCanceled  scalar `json:"qty_canceled"`
	Price        scalar `json:"price"`
	ProductID    scalar `json:"product_id"`
	IsVirtual    scalar `json:"is_virtual"`
}

// track is a shipment's tracking number, as Magento's sales_shipment_track
// has it. Stock order payloads carry none (tracks belong to shipments);
// modules that add them to an order use these fields.
type track struct {
	TrackNumber scalar `json:"track_number"`
	Title       string `json:"title"`
	CarrierCode string `json:"carrier_code"`
}

// normalize maps the order. Money is in order_currency_code (grand_total,
// total_refunded and the items' price are the order currency's; the base_
// fields are the base currency's).
func (o salesOrder) normalize(shop string) (commerce.Order, error) {
	id, err := o.EntityID.id("entity_id")
	if err != nil {
		return commerce.Order{}, err
	}
	if id == "" || o.IncrementID == "" {
		return commerce.Order{}, commerce.Malformed("order has no entity_id or increment_id")
	}
	currency := strings.ToUpper(strings.TrimSpace(o.OrderCurrencyCode))
	out := commerce.Order{
		Source:     commerce.SourceMagento,
		Shop:       shop,
		ExternalID: id,
		Number:     strings.TrimPrefix(string(o.IncrementID), "#"),
		Email:      commerce.NormalizeEmail(o.CustomerEmail),
		Phone:      o.phone(),
		Currency:   currency,
		Tracking:   o.tracking(),
	}
	if out.TotalMinor, err = minor("grand_total", o.GrandTotal, currency); err != nil {
		return commerce.Order{}, err
	}
	if out.RefundedMinor, err = optionalMinor("total_refunded", o.TotalRefunded, currency); err != nil {
		return commerce.Order{}, err
	}
	if out.LineItems, err = o.lineItems(currency); err != nil {
		return commerce.Order{}, err
	}
	out.FinancialStatus = financialStatus(o.State, out.TotalMinor, out.RefundedMinor)
	if out.FulfillmentStatus, err = o.fulfillmentStatus(len(out.Tracking) > 0); err != nil {
		return commerce.Order{}, err
	}
	if out.Customer, err = o.customer(shop, out.Phone); err != nil {
		return commerce.Order{}, err
	}
	if out.CreatedAt, err = parseTime("created_at", o.CreatedAt); err != nil {
		return commerce.Order{}, err
	}
	if out.UpdatedAt, err = parseTime("updated_at", o.UpdatedAt); err != nil {
		return commerce.Order{}, err
	}
	if strings.EqualFold(o.State, "canceled") && !out.UpdatedAt.IsZero() {
		// Magento keeps no cancellation time: its last change is the best
		// there is.
		at := out.UpdatedAt
		out.CancelledAt = &at
	}
	return out, nil
}

// financialStatus maps an order state to Shopify's financial-status words:
// new and pending_payment are "pending", processing and complete "paid"
// (or "partially_refunded" once money went back), closed "refunded",
// canceled "voided"; any other state (holded, payment_review, custom ones)
// is kept as it is.
func financialStatus(state string, total, refunded int64) string {
	switch s := strings.ToLower(strings.TrimSpace(state)); s {
	case "new", "pending_payment":
		return "pending"
	case "processing", "complete":
		if refunded > 0 && refunded < total {
			return "partially_refunded"
		}
		return "paid"
	case "closed":
		return "refunded"
	case "canceled":
		return "voided"
	default:
		return s
	}
}

// fulfillmentStatus is "fulfilled" for a complete order or one whose
// shippable lines all shipped, "partial" when something shipped (or has a
// tracking number), else "unfulfilled".
func (o salesOrder) fulfillmentStatus(tracked bool) (string, error) {
	if strings.EqualFold(o.State, "complete") {
		return "fulfilled", nil
	}
	shippable, shippedAll, shippedAny := 0, true, tracked
	for i, it := range o.Items {
		if it.ParentItemID != "" || it.IsVirtual.truthy() {
			continue
		}
		ordered, err := it.QtyOrdered.quantity(fmt.Sprintf("items[%d].qty_ordered", i))
		if err != nil {
			return "", err
		}
		shipped, err := it.QtyShipped.quantity(fmt.Sprintf("items[%d].qty_shipped", i))
		if err != nil {
			return "", err
		}
		canceled, err := it.QtyCanceled.quantity(fmt.Sprintf("items[%d].qty_canceled", i))
		if err != nil {
			return "", err
		}
		shippable++
		shippedAny = shippedAny || shipped > 0
		shippedAll = shippedAll && shipped >= ordered-canceled
	}
	switch {
	case shippable > 0 && shippedAll && shippedAny:
		return "fulfilled", nil
	case shippedAny:
		return "partial", nil
	}
	return "unfulfilled", nil
}

// lineItems maps the items that are not children of a configurable or
// bundle line (those with a parent_item_id repeat their parent).
func (o salesOrder) lineItems(currency string) ([]commerce.LineItem, error) {
	out := make([]commerce.LineItem, 0, len(o.Items))
	for i, it := range o.Items {
		if it.ParentItemID != "" {
			continue
		}
		field := fmt.Sprintf("items[%d]", i)
		id, err := it.ItemID.id(field + ".item_id")
		if err != nil {
			return nil, err
		}
		product, err := it.ProductID.id(field + ".product_id")
		if err != nil {
			return nil, err
		}
		qty, err := it.QtyOrdered.quantity(field + ".qty_ordered")
		if err != nil {
			return nil, err
		}
		price, err := optionalMinor(field+".price", it.Price, currency)
		if err != nil {
			return nil, err
		}
		out = append(out, commerce.LineItem{ExternalID: id, Title: it.Name, SKU: it.SKU, Quantity: qty, PriceMinor: price, ProductID: product})
	}
	return out, nil
}

// phone is the order's phone: the billing address's, else the shipping
// address's, each read in its country.
func (o salesOrder) phone() string {
	var candidates []address
	if o.BillingAddress.Set {
		candidates = append(candidates, o.BillingAddress.V)
	}
	for _, kind := range []string{"billing", "shipping"} {
		for _, a := range o.Addresses {
			if a.AddressType == kind {
				candidates = append(candidates, a)
			}
		}
	}
	for _, sa := range o.Extension.V.ShippingAssignments {
		if a := sa.Shipping.V.Address; a.Set {
			candidates = append(candidates, a.V)
		}
	}
	for _, a := range candidates {
		if p := a.phone(); p != "" {
			return p
		}
	}
	return ""
}

func (o salesOrder) tracking() []commerce.Tracking {
	var out []commerce.Tracking
	for _, t := range append(append(list[track]{}, o.Tracks...), o.Extension.V.Tracks...) {
		company := t.Title
		if company == "" {
			company = t.CarrierCode
		}
		if t.TrackNumber != "" || company != "" {
			out = append(out, commerce.Tracking{Company: company, Number: string(t.TrackNumber)})
		}
	}
	return out
}

// customer is the order's registered customer as the order knows them;
// a guest order has none. The order does not say when the customer last
// changed: UpdatedAt stays zero, so a stored customer is not overwritten.
func (o salesOrder) customer(shop, phone string) (*commerce.Customer, error) {
	id, err := o.CustomerID.id("customer_id")
	if err != nil {
		return nil, err
	}
	if id == "" || id == "0" || o.CustomerIsGuest.truthy() {
		return nil, nil
	}
	return &commerce.Customer{
		Source: commerce.SourceMagento, Shop: shop, ExternalID: id,
		Email: commerce.NormalizeEmail(o.CustomerEmail), Phone: phone,
		FirstName: o.CustomerFirstname, LastName: o.CustomerLastname,
	}, nil
}

// customerData is a customer: the REST resource (id) or model data
// (entity_id).
type customerData struct {
	ID        scalar        `json:"id"`
	EntityID  scalar        `json:"entity_id"`
	Email     string        `json:"email"`
	Firstname string        `json:"firstname"`
	Lastname  string        `json:"lastname"`
	UpdatedAt string        `json:"updated_at"`
	Addresses list[address] `json:"addresses"`
}

func (c customerData) normalize(shop string) (commerce.Customer, error) {
	raw := c.ID
	if raw == "" {
		raw = c.EntityID
	}
	id, err := raw.id("id")
	if err != nil {
		return commerce.Customer{}, err
	}
	if id == "" {
		return commerce.Customer{}, commerce.Malformed("customer has no id")
	}
	updated, err := parseTime("updated_at", c.UpdatedAt)
	if err != nil {
		return commerce.Customer{}, err
	}
	return commerce.Customer{
		Source: commerce.SourceMagento, Shop: shop, ExternalID: id,
		Email: commerce.NormalizeEmail(c.Email), Phone: c.phone(),
		FirstName: c.Firstname, LastName: c.Lastname, UpdatedAt: updated,
	}, nil
}

// phone is the default billing address's, else the first address's that
// reads as a phone.
func (c customerData) phone() string {
	for _, a := range c.Addresses {
		if a.DefaultBilling.truthy() {
			if p := a.phone(); p != "" {
				return p
			}
		}
	}
	for _, a := range c.Addresses {
		if p := a.phone(); p != "" {
			return p
		}
	}
	return ""
}

// creditMemo is a credit memo (a refund): the REST resource or model
// data.
type creditMemo struct {
	EntityID          scalar `json:"entity_id"`
	OrderID           scalar `json:"order_id"`
	GrandTotal        scalar `json:"grand_total"`
	OrderCurrencyCode string `json:"order_currency_code"`
	CreatedAt         string `json:"created_at"`
}

func (m creditMemo) normalize(shop string) (commerce.Refund, error) {
	id, err := m.EntityID.id("entity_id")
	if err != nil {
		return commerce.Refund{}, err
	}
	order, err := m.OrderID.id("order_id")
	if err != nil {
		return commerce.Refund{}, err
	}
	if id == "" || order == "" {
		return commerce.Refund{}, commerce.Malformed("credit memo has no entity_id or order_id")
	}
	currency := strings.ToUpper(strings.TrimSpace(m.OrderCurrencyCode))
	amount, err := minor("grand_total", m.GrandTotal, currency)
	if err != nil {
		return commerce.Refund{}, err
	}
	created, err := parseTime("created_at", m.CreatedAt)
	if err != nil {
		return commerce.Refund{}, err
	}
	return commerce.Refund{Source: commerce.SourceMagento, Shop: shop, ExternalID: id, OrderExternalID: order,
		AmountMinor: amount, Currency: currency, CreatedAt: created}, nil
}
