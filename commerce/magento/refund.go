package magento

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strings"

	"github.com/frontdesk-ai/frontdesk/commerce"
)

// Refunds are credit memos, made exactly once. Magento's refund services
// take no idempotency key, so the credit memo's comment carries the
// request's marker ("[frontdesk confirmation <key>]") and every try first
// reads the order's credit memos (GET /V1/creditmemos by order_id, whose
// items carry their comments) for it: a credit memo found is returned
// (Replayed), never made again. The refund itself is sent once per try: a
// failure whose outcome is unknown (transport, timeout, 5xx, 429) is
// retried only by reading the credit memos again first.
//
// Online or offline: an order whose paid invoice was captured through a
// gateway (it has a transaction_id, and the payment method is not one of
// Magento's offline methods) is refunded online through that invoice, POST
// /V1/invoice/{invoiceId}/refund with isOnline; any other through POST
// /V1/order/{orderId}/refund (offline). Adobe documents that the wrong
// service answers a validation error.
//
// What goes back: with lines, those order items and quantities (not
// returned to stock), no shipping; with an amount too, an adjustment
// (adjustment_positive or adjustment_negative) makes up the difference
// between the amount and what the lines are estimated to be worth (price,
// tax and discount per unit ordered). Without lines: the whole order when
// the amount is all that is still refundable and nothing was refunded
// before (no items: Magento refunds every item and the shipping); else
// every item at quantity 0, no shipping and the amount as
// adjustment_positive. Magento refuses that last form for an order whose
// shipping is already refunded or free ("You can't create a creditmemo
// without products"); the refusal wraps commerce.ErrRefused. Magento
// reads shipping_amount and the adjustments in the base currency: they are
// sent only for orders whose order and base currencies agree.

// offlineMethods are Magento's payment methods that refund offline only.
var offlineMethods = map[string]bool{
	"checkmo": true, "banktransfer": true, "cashondelivery": true, "purchaseorder": true, "free": true, "companycredit": true,
}

// invoiceStatePaid is sales_invoice.state of a paid invoice.
const invoiceStatePaid = "2"

// memoPageSize is how many credit memos or invoices one request asks for.
const memoPageSize = 50

// refundOrder is what a refund reads of an order (GET /V1/orders/{id}).
type refundOrder struct {
	EntityID          scalar `json:"entity_id"`
	State             string `json:"state"`
	OrderCurrencyCode string `json:"order_currency_code"`
	BaseCurrencyCode  string `json:"base_currency_code"`
	TotalPaid         scalar `json:"total_paid"`
	TotalRefunded     scalar `json:"total_refunded"`
	Payment           object[struct {
		Method string `json:"method"`
	}] `json:"payment"`
	Items list[refundItem] `json:"items"`
}

type refundItem struct {
	ItemID         scalar `json:"item_id"`
	ParentItemID   scalar `json:"parent_item_id"`
	SKU            string `json:"sku"`
	QtyOrdered     scalar `json:"qty_ordered"`
	Price          scalar `json:"price"`
	TaxAmount      scalar `json:"tax_amount"`
	DiscountAmount scalar `json:"discount_amount"`
}

// invoice is what a refund reads of an invoice (GET /V1/invoices).
type invoice struct {
	EntityID          scalar `json:"entity_id"`
	State             scalar `json:"state"`
	BaseGrandTotal    scalar `json:"base_grand_total"`
	BaseTotalRefunded scalar `json:"base_total_refunded"`
	TransactionID     scalar `json:"transaction_id"`
}

// refundMemo is what a refund reads of a credit memo (GET /V1/creditmemos,
// GET /V1/creditmemo/{id}).
type refundMemo struct {
	EntityID          scalar `json:"entity_id"`
	GrandTotal        scalar `json:"grand_total"`
	OrderCurrencyCode string `json:"order_currency_code"`
	Comments          list[struct {
		Comment string `json:"comment"`
	}] `json:"comments"`
}

// refundBody is the body of both refund services.
type refundBody struct {
	Items         []refundBodyItem `json:"items"`
	IsOnline      *bool            `json:"isOnline,omitempty"`
	Notify        bool             `json:"notify"`
	AppendComment bool             `json:"appendComment"`
	Comment       struct {
		Comment          string `json:"comment"`
		IsVisibleOnFront int    `json:"is_visible_on_front"`
	} `json:"comment"`
	Arguments *refundArguments `json:"arguments,omitempty"`
}

type refundBodyItem struct {
	OrderItemID json.Number `json:"order_item_id"`
	Qty         int         `json:"qty"`
}

type refundArguments struct {
	ShippingAmount     json.Number `json:"shipping_amount"`
	AdjustmentPositive json.Number `json:"adjustment_positive"`
	AdjustmentNegative json.Number `json:"adjustment_negative"`
	Extension          struct {
		ReturnToStockItems []json.Number `json:"return_to_stock_items"`
	} `json:"extension_attributes"`
}

var _ commerce.Refunder = (*Client)(nil)

// Refund gives money back on the order r.OrderExternalID (its entity id)
// as a credit memo, online through the invoice's gateway or offline (see
// the comment at the top of refund.go), at most once per r.Key: the
// order's credit memos are read first and one whose comment carries r's
// marker is returned with Replayed set. The customer is notified; the
// comment (the reason and the marker) stays off the storefront and out of
// the email.
//
// An amount above what is refundable, nothing left to refund and Magento's
// validation errors (HTTP 400) wrap commerce.ErrRefused; a missing order
// commerce.ErrNotFound; an invalid request commerce.ErrMalformed.
func (c *Client) Refund(ctx context.Context, r commerce.RefundRequest) (commerce.RefundResult, error) {
	if err := r.Validate(); err != nil {
		return commerce.RefundResult{}, err
	}
	if _, err := scalar(r.OrderExternalID).id("order"); err != nil {
		return commerce.RefundResult{}, fmt.Errorf("magento refund: order %q: %w", r.OrderExternalID, commerce.ErrNotFound)
	}
	var res commerce.RefundResult
	err := commerce.RetryUnsure(ctx, c.maxRetries, c.sleep, func() error {
		var err error
		res, err = c.refundOnce(ctx, r)
		return err
	})
	if err != nil {
		return commerce.RefundResult{}, fmt.Errorf("magento refund of order %s (key %s): %w", r.OrderExternalID, r.Key, err)
	}
	return res, nil
}

// refundOnce reads the order and its credit memos, returns the credit memo
// r made earlier if there is one, else makes it with one request. A
// failure of that request whose outcome is unknown is a
// *commerce.UnsureError.
func (c *Client) refundOnce(ctx context.Context, r commerce.RefundRequest) (commerce.RefundResult, error) {
	var o refundOrder
	if err := c.get(ctx, "refund: read order", "/V1/orders/"+r.OrderExternalID, nil, &o); err != nil {
		return commerce.RefundResult{}, err
	}
	currency := strings.ToUpper(strings.TrimSpace(o.OrderCurrencyCode))
	if found, ok, err := c.memoMarked(ctx, r, currency); ok || err != nil {
		return found, err
	}
	if err := r.CheckCurrency(currency); err != nil {
		return commerce.RefundResult{}, err
	}
	body, amount, err := o.plan(r, currency)
	if err != nil {
		return commerce.RefundResult{}, err
	}
	path := "/V1/order/" + r.OrderExternalID + "/refund"
	if inv, err := c.onlineInvoice(ctx, r.OrderExternalID, o); err != nil {
		return commerce.RefundResult{}, err
	} else if inv != "" {
		online := true
		body.IsOnline = &online
		path = "/V1/invoice/" + inv + "/refund"
	}
	id, err := c.postRefund(ctx, path, body)
	if err != nil {
		return commerce.RefundResult{}, err
	}
	res := commerce.RefundResult{ExternalID: id, AmountMinor: amount, Currency: currency}
	// What Magento made of it (the lines' worth is its own reckoning); if
	// that read fails the refund stands, with the amount planned.
	var m refundMemo
	if err := c.get(ctx, "refund: read credit memo", "/V1/creditmemo/"+id, nil, &m); err == nil {
		if v, err := minor("grand_total", m.GrandTotal, currency); err == nil {
			res.AmountMinor = v
		}
	}
	return res, nil
}

// memoMarked returns the order's credit memo whose comment carries r's
// marker.
func (c *Client) memoMarked(ctx context.Context, r commerce.RefundRequest, currency string) (commerce.RefundResult, bool, error) {
	var found *refundMemo
	crit := criteria{pageSize: memoPageSize, filters: []filter{{"order_id", r.OrderExternalID, "eq"}}}
	err := pages(ctx, c, "refund: read credit memos", "/V1/creditmemos", crit, func(items []refundMemo) error {
		for i, m := range items {
			for _, cm := range m.Comments {
				if found == nil && r.Marks(cm.Comment) {
					found = &items[i]
				}
			}
		}
		return nil
	})
	if err != nil || found == nil {
		return commerce.RefundResult{}, false, err
	}
	id, err := found.EntityID.id("credit memo entity_id")
	if err != nil || id == "" {
		return commerce.RefundResult{}, true, commerce.Malformed("credit memo without an entity_id")
	}
	if cur := strings.ToUpper(strings.TrimSpace(found.OrderCurrencyCode)); cur != "" {
		currency = cur
	}
	amount, err := minor("credit memo grand_total", found.GrandTotal, currency)
	if err != nil {
		return commerce.RefundResult{}, true, err
	}
	return commerce.RefundResult{ExternalID: id, AmountMinor: amount, Currency: currency, Replayed: true}, true, nil
}

// plan decides the refund's body and the amount it should come to (an
// estimate when lines are refunded without an amount).
func (o refundOrder) plan(r commerce.RefundRequest, currency string) (refundBody, int64, error) {
	paid, err := optionalMinor("total_paid", o.TotalPaid, currency)
	if err != nil {
		return refundBody{}, 0, err
	}
	refunded, err := optionalMinor("total_refunded", o.TotalRefunded, currency)
	if err != nil {
		return refundBody{}, 0, err
	}
	refundable := paid - refunded
	if refundable <= 0 {
		return refundBody{}, 0, commerce.Refused("nothing left to refund on the order (paid %s, refunded %s)", commerce.FormatMinor(paid, currency), commerce.FormatMinor(refunded, currency))
	}
	body := refundBody{Notify: true}
	body.Comment.Comment = r.Note()
	sameBase := o.BaseCurrencyCode == "" || strings.EqualFold(o.BaseCurrencyCode, currency)
	zero := json.Number("0")
	args := &refundArguments{ShippingAmount: zero, AdjustmentPositive: zero, AdjustmentNegative: zero}
	args.Extension.ReturnToStockItems = []json.Number{}

	items := map[string]refundItem{}
	for _, it := range o.Items {
		if it.ParentItemID == "" {
			items[string(it.ItemID)] = it
		}
	}
	amount := r.AmountMinor
	switch {
	case len(r.LineItems) > 0:
		var worth int64
		for _, l := range r.LineItems {
			it, ok := items[l.LineItemExternalID]
			if !ok {
				return refundBody{}, 0, commerce.Refused("line %s is not an item of the order", l.LineItemExternalID)
			}
			v, err := it.worth(l.Quantity, currency)
			if err != nil {
				return refundBody{}, 0, err
			}
			worth += v
			body.Items = append(body.Items, refundBodyItem{OrderItemID: json.Number(l.LineItemExternalID), Qty: l.Quantity})
		}
		if amount == 0 {
			amount = worth
		} else if diff := amount - worth; diff != 0 {
			if !sameBase {
				return refundBody{}, 0, commerce.Refused("an amount besides lines on an order in %s with base currency %s: refund it in the Magento admin", currency, o.BaseCurrencyCode)
			}
			if diff > 0 {
				args.AdjustmentPositive = json.Number(decimal(diff, currency))
			} else {
				args.AdjustmentNegative = json.Number(decimal(-diff, currency))
			}
		}
		body.Arguments = args
	case (amount == 0 || amount == refundable) && refunded == 0:
		// Everything: no items and no arguments, Magento refunds every item
		// and the shipping.
		amount = refundable
		body.Items = []refundBodyItem{}
	default:
		if amount == 0 {
			amount = refundable
		}
		if !sameBase {
			return refundBody{}, 0, commerce.Refused("an amount on an order in %s with base currency %s: refund it in the Magento admin", currency, o.BaseCurrencyCode)
		}
		body.Items = make([]refundBodyItem, 0, len(o.Items))
		for _, it := range o.Items {
			if it.ParentItemID == "" {
				body.Items = append(body.Items, refundBodyItem{OrderItemID: json.Number(it.ItemID), Qty: 0})
			}
		}
		args.AdjustmentPositive = json.Number(decimal(amount, currency))
		body.Arguments = args
	}
	if amount > refundable {
		return refundBody{}, 0, commerce.Refused("%s is more than the %s still refundable", commerce.FormatMinor(amount, currency), commerce.FormatMinor(refundable, currency))
	}
	if amount <= 0 {
		return refundBody{}, 0, commerce.Refused("the lines are worth nothing to refund")
	}
	return body, amount, nil
}

// worth estimates what qty of the item refunds: its price, and its tax
// less its discount per unit ordered.
func (it refundItem) worth(qty int, currency string) (int64, error) {
	price, err := optionalMinor("price", it.Price, currency)
	if err != nil {
		return 0, err
	}
	tax, err := optionalMinor("tax_amount", it.TaxAmount, currency)
	if err != nil {
		return 0, err
	}
	discount, err := optionalMinor("discount_amount", it.DiscountAmount, currency)
	if err != nil {
		return 0, err
	}
	ordered, err := it.QtyOrdered.quantity("qty_ordered")
	if err != nil {
		return 0, err
	}
	v := price * int64(qty)
	if ordered > 0 {
		v += int64(math.Round(float64((tax-discount)*int64(qty)) / float64(ordered)))
	}
	return v, nil
}

// onlineInvoice returns the id of the order's paid invoice captured online
// with the most left to refund, or "" when the order is refunded offline.
func (c *Client) onlineInvoice(ctx context.Context, orderID string, o refundOrder) (string, error) {
	if !o.Payment.Set || offlineMethods[strings.ToLower(o.Payment.V.Method)] {
		return "", nil
	}
	best, bestLeft := "", int64(0)
	base := strings.ToUpper(o.BaseCurrencyCode)
	if base == "" {
		base = strings.ToUpper(o.OrderCurrencyCode)
	}
	crit := criteria{pageSize: memoPageSize, filters: []filter{{"order_id", orderID, "eq"}}}
	err := pages(ctx, c, "refund: read invoices", "/V1/invoices", crit, func(items []invoice) error {
		for _, inv := range items {
			if inv.State != invoiceStatePaid || inv.TransactionID == "" {
				continue
			}
			total, err := minor("invoice base_grand_total", inv.BaseGrandTotal, base)
			if err != nil {
				return err
			}
			refunded, err := optionalMinor("invoice base_total_refunded", inv.BaseTotalRefunded, base)
			if err != nil {
				return err
			}
			if id, err := inv.EntityID.id("invoice entity_id"); err == nil && id != "" && total-refunded > bestLeft {
				best, bestLeft = id, total-refunded
			}
		}
		return nil
	})
	return best, err
}

// postRefund sends a refund service its body once and returns the credit
// memo's id.
func (c *Client) postRefund(ctx context.Context, path string, body refundBody) (string, error) {
	raw, err := json.Marshal(body)
	if err != nil {
		return "", fmt.Errorf("encode refund: %w", err)
	}
	answer, err := c.attempt(ctx, http.MethodPost, c.base+path, raw)
	var again *commerce.RetryError
	var status *statusError
	switch {
	case err == nil:
	case ctx.Err() != nil:
		return "", err
	case errors.As(err, &again):
		return "", &commerce.UnsureError{Err: fmt.Errorf("POST %s: %w", path, err), Wait: again.Wait}
	case errors.As(err, &status) && status.Code == http.StatusBadRequest:
		return "", commerce.Refused("POST %s: %s", path, status.Message)
	default:
		return "", fmt.Errorf("POST %s: %w", path, err)
	}
	var id scalar
	if err := json.Unmarshal(answer, &id); err == nil {
		if s, err := id.id("credit memo id"); err == nil && s != "" {
			return s, nil
		}
	}
	// A 2xx not read: the credit memo may exist.
	return "", &commerce.UnsureError{Err: commerce.Malformed("POST %s: answer %.40q is not a credit memo id", path, answer)}
}

// decimal writes minor units of currency as a decimal: "19.99".
func decimal(v int64, currency string) string {
	s := commerce.FormatMinor(v, currency)
	return s[:strings.LastIndexByte(s, ' ')]
}
