package tools

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/frontdesk-ai/frontdesk/commerce"
	"github.com/frontdesk-ai/frontdesk/persistence"
)

// Names of the order tools.
const (
	ListCustomerOrders = "list_customer_orders"
	GetOrder           = "get_order"
)

// maxListedOrders bounds list_customer_orders.
const maxListedOrders = 20

func orderTools() []*tool {
	return []*tool{
		{
			def: Definition{
				Name:        ListCustomerOrders,
				Description: "List the orders of the customer in this conversation, newest first, with their number, date, total, payment and shipping status, items and tracking.",
				Parameters: json.RawMessage(`{"type":"object","properties":{
					"status":{"type":"string","enum":["open","cancelled","paid","pending","refunded","partially_refunded","unfulfilled","fulfilled","partial"],"description":"Only orders with this order, payment or shipping status."},
					"limit":{"type":"integer","minimum":1,"maximum":20,"description":"How many orders at most (default 5)."}
				},"additionalProperties":false}`),
			},
			run: runListCustomerOrders,
		},
		{
			def: Definition{
				Name:        GetOrder,
				Description: "Look up one order of the customer in this conversation by its number, e.g. #1001. Orders of other customers are not found.",
				Parameters: json.RawMessage(`{"type":"object","properties":{
					"order_number":{"type":"string","minLength":1,"maxLength":40,"pattern":"^\\s*#?\\s*[A-Za-z0-9-]+\\s*$","description":"The order number the customer gave, with or without #."}
				},"required":["order_number"],"additionalProperties":false}`),
			},
			before: fetchMissingOrder,
			run:    runGetOrder,
		},
	}
}

// orderNumber is the number without "#" and spaces.
func orderNumber(args map[string]any) string {
	return strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(str(args, "order_number")), "#"))
}

// OrderView is what the model sees of an order: in tools and in the
// context bundle.
type OrderView struct {
	Number            string              `json:"order_number"`
	Source            string              `json:"source"`
	PlacedAt          string              `json:"placed_at,omitempty"`
	Status            string              `json:"status"`
	FinancialStatus   string              `json:"financial_status,omitempty"`
	FulfillmentStatus string              `json:"fulfillment_status,omitempty"`
	Total             string              `json:"total"`
	Refunded          string              `json:"refunded,omitempty"`
	Items             []string            `json:"items,omitempty"`
	Tracking          []commerce.Tracking `json:"tracking,omitempty"`
	CancelledAt       string              `json:"cancelled_at,omitempty"`
}

// ViewOrder is the order as tools and the context bundle show it to the
// model: money formatted in its currency, items as "2 × Blue mug (24.99
// USD)".
func ViewOrder(o persistence.Order) OrderView {
	v := OrderView{Number: "#" + o.Number, Source: o.Source, Status: o.Status, FinancialStatus: o.FinancialStatus,
		FulfillmentStatus: o.FulfillmentStatus, Total: commerce.FormatMinor(o.TotalMinor, o.Currency)}
	if o.Number == "" {
		v.Number = o.ExternalID
	}
	if o.PlacedAt != nil {
		v.PlacedAt = o.PlacedAt.Format(time.RFC3339)
	}
	if o.CancelledAt != nil {
		v.CancelledAt = o.CancelledAt.Format(time.RFC3339)
	}
	if o.RefundedMinor > 0 {
		v.Refunded = commerce.FormatMinor(o.RefundedMinor, o.Currency)
	}
	var items []commerce.LineItem
	if json.Unmarshal(o.Items, &items) == nil {
		for _, it := range items {
			v.Items = append(v.Items, fmt.Sprintf("%d × %s (%s)", it.Quantity, it.Title, commerce.FormatMinor(it.PriceMinor, o.Currency)))
		}
	}
	_ = json.Unmarshal(o.Tracking, &v.Tracking)
	return v
}

func runListCustomerOrders(ctx context.Context, tx Tx, s Scope, args map[string]any, _ string) (any, error) {
	limit := 5
	if n, ok := args["limit"].(json.Number); ok {
		if v, err := n.Int64(); err == nil {
			limit = int(v)
		}
	}
	status := str(args, "status")
	// A status filter looks further back than the limit.
	fetch := limit
	if status != "" {
		fetch = maxListedOrders * 5
	}
	orders, err := tx.ListOrdersByCustomer(ctx, s.TenantID, s.CustomerID, fetch)
	if err != nil {
		return nil, fmt.Errorf("load orders: %w", err)
	}
	out := []OrderView{}
	for _, o := range orders {
		if status != "" && o.Status != status && o.FinancialStatus != status && o.FulfillmentStatus != status {
			continue
		}
		if len(out) == limit {
			break
		}
		out = append(out, ViewOrder(o))
	}
	res := map[string]any{"orders": out, "count": len(out)}
	if len(out) == 0 {
		res["note"] = "This customer has no orders" + map[bool]string{true: " with status " + status, false: ""}[status != ""] + " in the connected shops."
	}
	return res, nil
}

// fetchMissingOrder asks the shops for an order number the store does not
// have (it may have been placed a moment ago); what it imports is linked to
// whichever customer it belongs to, and runGetOrder then finds it only if
// that is this conversation's customer.
func fetchMissingOrder(ctx context.Context, r *Registry, s Scope, args map[string]any) {
	if r.fetcher == nil {
		return
	}
	number := orderNumber(args)
	missing := false
	_ = r.store.InTx(ctx, func(tx Tx) error {
		_, err := tx.GetCustomerOrderByNumber(ctx, s.TenantID, s.CustomerID, number)
		missing = errors.Is(err, persistence.ErrNotFound)
		return nil
	})
	if missing {
		// Not finding it in a shop, or a shop that does not answer, leaves
		// the answer to the store: "not found".
		_ = r.fetcher.FetchOrder(ctx, s.TenantID, number)
	}
}

func runGetOrder(ctx context.Context, tx Tx, s Scope, args map[string]any, _ string) (any, error) {
	number := orderNumber(args)
	o, err := tx.GetCustomerOrderByNumber(ctx, s.TenantID, s.CustomerID, number)
	if errors.Is(err, persistence.ErrNotFound) {
		return map[string]any{"found": false, "order_number": "#" + number,
			"note": "No order with this number belongs to this customer. Ask them to check the number, or for the email or phone they ordered with."}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("load order: %w", err)
	}
	return map[string]any{"found": true, "order": ViewOrder(o)}, nil
}
