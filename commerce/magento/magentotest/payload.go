package magentotest

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// TimeLayout is how Magento writes times: UTC without a zone.
const TimeLayout = "2006-01-02 15:04:05"

// OrderSpec describes a sales order; OrderJSON writes it as the REST
// resource, OrderModelData as an observer's model data, and Server serves
// it.
type OrderSpec struct {
	EntityID int64
	// IncrementID is the number the customer sees; empty means EntityID
	// padded to nine digits ("000000123").
	IncrementID string
	// State defaults to "new"; Status to the state's default status.
	State, Status              string
	Email, FirstName, LastName string
	// CustomerID 0 is a guest order.
	CustomerID int64
	// Telephone and CountryID are the billing address's.
	Telephone, CountryID string
	// GrandTotal and TotalRefunded are decimals in Currency, the order
	// currency (and the base currency): "165.00".
	GrandTotal, TotalRefunded string
	Currency                  string
	// ShippingAmount and ShippingRefunded are decimals; empty is 0.
	ShippingAmount, ShippingRefunded string
	Items                            []ItemSpec
	// PaymentMethod is the payment's method code; empty means "checkmo".
	PaymentMethod string
	// Invoices are the order's; the paid ones make its total_paid.
	Invoices             []InvoiceSpec
	CreatedAt, UpdatedAt time.Time
}

// InvoiceSpec describes an invoice of an order.
type InvoiceSpec struct {
	EntityID int64
	// State is "paid" (the default), "open" or "canceled".
	State string
	// GrandTotal and TotalRefunded are decimals in the order currency.
	GrandTotal, TotalRefunded string
	// TransactionID is the gateway's capture; empty for an offline
	// payment.
	TransactionID string
}

// stateCode is sales_invoice.state.
func (i InvoiceSpec) stateCode() int {
	switch i.State {
	case "open":
		return 1
	case "canceled":
		return 3
	}
	return 2
}

// paid is the total of o's paid invoices.
func (o OrderSpec) paid() string {
	var sum float64
	for _, inv := range o.Invoices {
		if inv.stateCode() == 2 {
			v, _ := strconv.ParseFloat(inv.GrandTotal, 64)
			sum += v
		}
	}
	return strconv.FormatFloat(sum, 'f', 2, 64)
}

// ItemSpec describes an order item; a child of a configurable or bundle
// line has ParentItemID.
type ItemSpec struct {
	ItemID, ParentItemID, ProductID int64
	Name, SKU                       string
	// ProductType defaults to "simple".
	ProductType     string
	Qty, QtyShipped int
	// QtyRefunded is how many were refunded.
	QtyRefunded int
	Price       string
	Virtual     bool
}

// CustomerSpec describes a customer; Telephone and CountryID are its
// default billing address's.
type CustomerSpec struct {
	ID                   int64
	Email                string
	FirstName, LastName  string
	Telephone, CountryID string
	CreatedAt, UpdatedAt time.Time
}

// CreditMemoSpec describes a credit memo (a refund of an order).
type CreditMemoSpec struct {
	EntityID, OrderID int64
	// GrandTotal is a decimal in Currency, the order currency.
	GrandTotal, Currency string
	CreatedAt            time.Time
	// InvoiceID is the invoice refunded online, or 0.
	InvoiceID int64
	// Online: refunded through the payment gateway.
	Online bool
	// Items are the order items and quantities refunded.
	Items []CreditMemoItemSpec
	// ShippingAmount and the adjustments are decimals; empty is 0.
	ShippingAmount, AdjustmentPositive, AdjustmentNegative string
	// Comments are the credit memo's comments.
	Comments []string
}

// CreditMemoItemSpec is an order item a credit memo refunds.
type CreditMemoItemSpec struct {
	OrderItemID int64
	Qty         int
}

// Observer event names of Adobe Commerce webhooks, and the async-events
// name of the README's example.
const (
	EventOrderSaveAfter      = "observer.sales_order_save_after"
	EventCustomerSaveAfter   = "observer.customer_save_after"
	EventCreditMemoSaveAfter = "observer.sales_order_creditmemo_save_after"
	AsyncOrderCreated        = "sales.order.created"
)

// AsyncEventBody is the body the async-events module POSTs:
// {"data": entity}, entity being the event's service output (OrderJSON
// for OrderRepositoryInterface::get). It has no event name.
func AsyncEventBody(entity []byte) []byte {
	return mustJSON(map[string]any{"data": json.RawMessage(entity)})
}

// WebhookBody is the body of an Adobe Commerce webhook for an observer
// event: {"eventName": eventName, "data": {key: entity}} (key "order" for
// sales_order_save_after). An empty eventName leaves it out, as a plugin
// webhook's body {"data": {…}} has none.
func WebhookBody(eventName, key string, entity []byte) []byte {
	m := map[string]any{"data": map[string]any{key: json.RawMessage(entity)}}
	if eventName != "" {
		m["eventName"] = eventName
	}
	return mustJSON(m)
}

func (o OrderSpec) incrementID() string {
	if o.IncrementID != "" {
		return o.IncrementID
	}
	return fmt.Sprintf("%09d", o.EntityID)
}

func (o OrderSpec) state() (state, status string) {
	state, status = o.State, o.Status
	if state == "" {
		state = "new"
	}
	if status == "" {
		status = map[string]string{"new": "pending", "pending_payment": "pending_payment", "holded": "holded", "canceled": "canceled",
			"closed": "closed", "complete": "complete", "processing": "processing", "payment_review": "payment_review"}[state]
	}
	return state, status
}

// OrderJSON writes o as the REST order resource (GET /V1/orders/{id}):
// numbers as JSON numbers, the billing address, the shipping assignment.
func OrderJSON(o OrderSpec) []byte { return mustJSON(restOrder(o)) }

func restOrder(o OrderSpec) map[string]any {
	state, status := o.state()
	billing := map[string]any{
		"address_type": "billing", "entity_id": o.EntityID*2 - 1, "parent_id": o.EntityID, "city": "Purchase",
		"country_id": o.CountryID, "email": o.Email, "firstname": o.FirstName, "lastname": o.LastName,
		"postcode": "10577", "street": []string{"123 Oak Ave"}, "telephone": o.Telephone,
	}
	shipping := map[string]any{}
	for k, v := range billing {
		shipping[k] = v
	}
	shipping["address_type"], shipping["entity_id"] = "shipping", o.EntityID*2
	items := make([]any, 0, len(o.Items))
	for _, it := range o.Items {
		items = append(items, restItem(o, it))
	}
	m := map[string]any{
		"entity_id": o.EntityID, "increment_id": o.incrementID(), "state": state, "status": status,
		"customer_email": o.Email, "customer_firstname": o.FirstName, "customer_lastname": o.LastName,
		"customer_is_guest": boolInt(o.CustomerID == 0), "customer_group_id": boolInt(o.CustomerID != 0),
		"grand_total": number(o.GrandTotal), "base_grand_total": number(o.GrandTotal),
		"subtotal": number(o.GrandTotal), "total_due": number(o.GrandTotal),
		"order_currency_code": o.Currency, "base_currency_code": o.Currency, "global_currency_code": o.Currency,
		"store_currency_code": o.Currency, "store_id": 1, "store_name": "Main Website\nMain Website Store\nDefault Store View",
		"created_at": o.CreatedAt.UTC().Format(TimeLayout), "updated_at": o.UpdatedAt.UTC().Format(TimeLayout),
		"protect_code": "61f76d", "quote_id": o.EntityID + 1, "is_virtual": 0, "total_item_count": len(items),
		"items": items, "billing_address": billing, "status_histories": []any{},
		"payment":    map[string]any{"method": o.paymentMethod(), "amount_ordered": number(o.GrandTotal), "amount_paid": number(o.paid()), "parent_id": o.EntityID, "additional_information": []string{o.paymentMethod()}},
		"total_paid": number(o.paid()), "base_total_paid": number(o.paid()), "total_invoiced": number(o.paid()),
		"shipping_amount": number(orZero(o.ShippingAmount)), "base_shipping_amount": number(orZero(o.ShippingAmount)),
		"shipping_refunded": number(orZero(o.ShippingRefunded)), "base_shipping_refunded": number(orZero(o.ShippingRefunded)),
		"extension_attributes": map[string]any{"shipping_assignments": []any{map[string]any{
			"shipping": map[string]any{"address": shipping, "method": "flatrate_flatrate", "total": map[string]any{"shipping_amount": 0}},
			"items":    items,
		}}},
	}
	if o.CustomerID != 0 {
		m["customer_id"] = o.CustomerID
	}
	if o.TotalRefunded != "" {
		m["total_refunded"], m["base_total_refunded"] = number(o.TotalRefunded), number(o.TotalRefunded)
	}
	return m
}

func restItem(o OrderSpec, it ItemSpec) map[string]any {
	kind := it.ProductType
	if kind == "" {
		kind = "simple"
	}
	m := map[string]any{
		"item_id": it.ItemID, "order_id": o.EntityID, "name": it.Name, "sku": it.SKU, "product_id": it.ProductID,
		"product_type": kind, "qty_ordered": it.Qty, "qty_shipped": it.QtyShipped, "qty_invoiced": o.invoicedQty(it), "qty_canceled": 0,
		"qty_refunded": it.QtyRefunded, "price": number(it.Price), "base_price": number(it.Price), "original_price": number(it.Price),
		"tax_amount": 0, "discount_amount": 0,
		"row_total": number(it.Price), "is_virtual": boolInt(it.Virtual), "store_id": 1,
		"created_at": o.CreatedAt.UTC().Format(TimeLayout), "updated_at": o.UpdatedAt.UTC().Format(TimeLayout),
	}
	if it.ParentItemID != 0 {
		m["parent_item_id"] = it.ParentItemID
	}
	return m
}

// OrderModelData writes o as an order model's data, as an Adobe Commerce
// observer webhook carries it: numbers as strings with four decimals
// ("165.0000"), addresses in an addresses list, items keyed by item id
// (PHP writes such an array as an object) and empty extension attributes
// as PHP's [].
func OrderModelData(o OrderSpec) []byte {
	state, status := o.state()
	items := map[string]any{}
	for _, it := range o.Items {
		m := map[string]any{
			"item_id": strconv.FormatInt(it.ItemID, 10), "order_id": strconv.FormatInt(o.EntityID, 10), "name": it.Name, "sku": it.SKU,
			"product_id": strconv.FormatInt(it.ProductID, 10), "qty_ordered": fmt.Sprintf("%d.0000", it.Qty),
			"qty_shipped": fmt.Sprintf("%d.0000", it.QtyShipped), "price": decimal4(it.Price), "is_virtual": strconv.Itoa(boolInt(it.Virtual)),
			"parent_item_id": nil,
		}
		if it.ParentItemID != 0 {
			m["parent_item_id"] = strconv.FormatInt(it.ParentItemID, 10)
		}
		items[strconv.FormatInt(it.ItemID, 10)] = m
	}
	m := map[string]any{
		"entity_id": strconv.FormatInt(o.EntityID, 10), "increment_id": o.incrementID(), "state": state, "status": status,
		"customer_email": o.Email, "customer_firstname": o.FirstName, "customer_lastname": o.LastName,
		"customer_id": nil, "customer_is_guest": strconv.Itoa(boolInt(o.CustomerID == 0)),
		"grand_total": decimal4(o.GrandTotal), "base_grand_total": decimal4(o.GrandTotal), "total_refunded": nil,
		"order_currency_code": o.Currency, "base_currency_code": o.Currency,
		"created_at": o.CreatedAt.UTC().Format(TimeLayout), "updated_at": o.UpdatedAt.UTC().Format(TimeLayout),
		"items": items, "extension_attributes": []any{},
		"addresses": []any{
			map[string]any{"address_type": "shipping", "telephone": o.Telephone, "country_id": o.CountryID},
			map[string]any{"address_type": "billing", "telephone": o.Telephone, "country_id": o.CountryID},
		},
	}
	if o.CustomerID != 0 {
		m["customer_id"] = strconv.FormatInt(o.CustomerID, 10)
	}
	if o.TotalRefunded != "" {
		m["total_refunded"] = decimal4(o.TotalRefunded)
	}
	return mustJSON(m)
}

// CustomerJSON writes c as the REST customer resource (GET
// /V1/customers/{id}).
func CustomerJSON(c CustomerSpec) []byte { return mustJSON(restCustomer(c)) }

func restCustomer(c CustomerSpec) map[string]any {
	m := map[string]any{
		"id": c.ID, "group_id": 1, "email": c.Email, "firstname": c.FirstName, "lastname": c.LastName,
		"created_at": c.CreatedAt.UTC().Format(TimeLayout), "updated_at": c.UpdatedAt.UTC().Format(TimeLayout),
		"created_in": "Default Store View", "store_id": 1, "website_id": 1, "disable_auto_group_change": 0,
		"addresses": []any{}, "extension_attributes": map[string]any{"is_subscribed": false},
	}
	if c.Telephone != "" {
		id := c.ID*10 + 1
		m["default_billing"], m["default_shipping"] = strconv.FormatInt(id, 10), strconv.FormatInt(id, 10)
		m["addresses"] = []any{map[string]any{
			"id": id, "customer_id": c.ID, "country_id": c.CountryID, "street": []string{"123 Oak Ave"}, "telephone": c.Telephone,
			"postcode": "10577", "city": "Purchase", "firstname": c.FirstName, "lastname": c.LastName,
			"default_shipping": true, "default_billing": true,
		}}
	}
	return m
}

// CustomerModelData writes c as a customer model's data (entity_id,
// strings), as the customer_save_after observer carries it.
func CustomerModelData(c CustomerSpec) []byte {
	return mustJSON(map[string]any{
		"entity_id": strconv.FormatInt(c.ID, 10), "website_id": "1", "group_id": "1", "email": c.Email,
		"firstname": c.FirstName, "lastname": c.LastName, "store_id": "1",
		"created_at": c.CreatedAt.UTC().Format(TimeLayout), "updated_at": c.UpdatedAt.UTC().Format(TimeLayout),
	})
}

// CreditMemoJSON writes m as the REST credit memo resource (GET
// /V1/creditmemo/{id}).
func CreditMemoJSON(m CreditMemoSpec) []byte { return mustJSON(restCreditMemo(m)) }

func restCreditMemo(m CreditMemoSpec) map[string]any {
	at := m.CreatedAt.UTC().Format(TimeLayout)
	items := []any{}
	for i, it := range m.Items {
		items = append(items, map[string]any{"entity_id": m.EntityID*100 + int64(i) + 1, "parent_id": m.EntityID, "order_item_id": it.OrderItemID, "qty": it.Qty})
	}
	comments := []any{}
	for i, c := range m.Comments {
		comments = append(comments, map[string]any{
			"entity_id": m.EntityID*100 + int64(i) + 1, "parent_id": m.EntityID, "comment": c,
			"is_customer_notified": 0, "is_visible_on_front": 0, "created_at": at,
		})
	}
	out := map[string]any{
		"entity_id": m.EntityID, "order_id": m.OrderID, "increment_id": fmt.Sprintf("%09d", m.EntityID),
		"grand_total": number(m.GrandTotal), "base_grand_total": number(m.GrandTotal), "subtotal": number(m.GrandTotal),
		"adjustment":          0,
		"adjustment_negative": number(orZero(m.AdjustmentNegative)), "adjustment_positive": number(orZero(m.AdjustmentPositive)),
		"shipping_amount":     number(orZero(m.ShippingAmount)),
		"order_currency_code": m.Currency, "base_currency_code": m.Currency, "state": 2, "email_sent": 1,
		"created_at": at, "updated_at": at, "items": items, "comments": comments,
	}
	if m.InvoiceID != 0 {
		out["invoice_id"] = m.InvoiceID
	}
	if m.Online {
		out["transaction_id"] = fmt.Sprintf("re_%d", m.EntityID)
	}
	return out
}

// restInvoice writes an invoice of o as the REST invoice resource.
func restInvoice(o OrderSpec, inv InvoiceSpec) map[string]any {
	m := map[string]any{
		"entity_id": inv.EntityID, "order_id": o.EntityID, "increment_id": fmt.Sprintf("%09d", inv.EntityID), "state": inv.stateCode(),
		"grand_total": number(inv.GrandTotal), "base_grand_total": number(inv.GrandTotal),
		"base_total_refunded": number(orZero(inv.TotalRefunded)), "order_currency_code": o.Currency, "base_currency_code": o.Currency,
		"created_at": o.CreatedAt.UTC().Format(TimeLayout), "updated_at": o.UpdatedAt.UTC().Format(TimeLayout), "items": []any{}, "comments": []any{},
	}
	if inv.TransactionID != "" {
		m["transaction_id"] = inv.TransactionID
	}
	return m
}

func (o OrderSpec) paymentMethod() string {
	if o.PaymentMethod == "" {
		return "checkmo"
	}
	return o.PaymentMethod
}

// invoicedQty is the item's quantity when the order has a paid invoice.
func (o OrderSpec) invoicedQty(it ItemSpec) int {
	if o.paid() == "0.00" {
		return 0
	}
	return it.Qty
}

func orZero(decimal string) string {
	if decimal == "" {
		return "0"
	}
	return decimal
}

// number writes a decimal as a JSON number, as PHP's json_encode writes a
// float ("165.00" is 165).
func number(decimal string) json.RawMessage {
	if decimal == "" {
		return json.RawMessage("null")
	}
	f, err := strconv.ParseFloat(decimal, 64)
	if err != nil {
		return json.RawMessage(strconv.Quote(decimal)) // as given: a test of a malformed amount
	}
	return json.RawMessage(strconv.FormatFloat(f, 'f', -1, 64))
}

// decimal4 writes a decimal as the database does: "165.0000".
func decimal4(decimal string) any {
	if decimal == "" {
		return nil
	}
	whole, frac, _ := strings.Cut(decimal, ".")
	return whole + "." + (frac + "0000")[:max(4, len(frac))]
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("magentotest: encode payload: %v", err))
	}
	return b
}
