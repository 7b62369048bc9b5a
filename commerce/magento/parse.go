package magento

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/frontdesk-ai/frontdesk/commerce"
)

// Parse normalizes a webhook body from shop (the shop's domain, as
// Client.Domain gives it); see ParseNamed. The event name is the body's
// eventName, else the kind is read from the data's shape.
func Parse(shop string, body []byte) (commerce.Event, string, error) {
	return ParseNamed(shop, "", body)
}

// ParseNamed normalizes a webhook body from shop and returns it with its
// event name: the body's eventName when it has one, else eventName (the
// name the caller knows from elsewhere, such as the subscription's URL),
// else "".
//
// Two bodies arrive:
//   - the async-events module (aligent/magento-async-events) POSTs
//     {"data": <the event's service output>}, the entity in its REST shape
//     and no event name (an order for sales.order.created, from
//     OrderRepositoryInterface::get);
//   - Adobe Commerce webhooks POST {"eventName": "observer.…", "data":
//     {"order": {…}}} for observer events, and {"data": {<the method's
//     arguments>}} for plugin events, the entity as model data.
//
// Orders (sales order save, place, cancel, …) are commerce.KindOrder,
// customers (save, register) commerce.KindCustomer, credit memos
// commerce.KindRefund; shipments, invoices, addresses, deletions, "before"
// observers and anything else are commerce.KindUnknown. Without a name the
// kind is read from the shape: a data object under order, customer or
// creditmemo, or an entity with an order's, a customer's or a credit
// memo's fields.
//
// A body that is not a JSON object (or nests deeper than 64 levels), an
// entity without its id, an amount that does not parse or a time that
// does not read is an error wrapping commerce.ErrMalformed; a currency
// without minor-unit rules wraps commerce.ErrCurrency as well.
func ParseNamed(shop, eventName string, body []byte) (commerce.Event, string, error) {
	ev, name, err := parse(strings.ToLower(strings.TrimSpace(shop)), eventName, body)
	if err != nil {
		return commerce.Event{}, name, fmt.Errorf("magento %s: %w", orUnnamed(name), err)
	}
	return ev, name, nil
}

func orUnnamed(name string) string {
	if name == "" {
		return "webhook"
	}
	return name
}

func parse(shop, name string, body []byte) (commerce.Event, string, error) {
	if shop == "" {
		return commerce.Event{}, name, commerce.Malformed("no shop domain")
	}
	if err := commerce.CheckObject(body); err != nil {
		return commerce.Event{}, name, err
	}
	var envelope struct {
		EventName *string         `json:"eventName"`
		Data      json.RawMessage `json:"data"`
	}
	if err := decode(body, &envelope); err != nil {
		return commerce.Event{}, name, err
	}
	if envelope.EventName != nil && *envelope.EventName != "" {
		name = *envelope.EventName
	}
	data := json.RawMessage(body)
	if isObject(envelope.Data) {
		data = envelope.Data
	}
	var fields map[string]json.RawMessage
	if err := decode(data, &fields); err != nil {
		return commerce.Event{}, name, err
	}
	kind := kindOf(name)
	if name == "" {
		kind = inferKind(fields)
	}
	entity := locate(kind, fields, data)
	switch kind {
	case commerce.KindOrder:
		var o salesOrder
		if err := decode(entity, &o); err != nil {
			return commerce.Event{}, name, err
		}
		order, err := o.normalize(shop)
		return commerce.Event{Kind: kind, Order: &order}, name, err
	case commerce.KindCustomer:
		var c customerData
		if err := decode(entity, &c); err != nil {
			return commerce.Event{}, name, err
		}
		customer, err := c.normalize(shop)
		return commerce.Event{Kind: kind, Customer: &customer}, name, err
	case commerce.KindRefund:
		var m creditMemo
		if err := decode(entity, &m); err != nil {
			return commerce.Event{}, name, err
		}
		refund, err := m.normalize(shop)
		return commerce.Event{Kind: kind, Refund: &refund}, name, err
	}
	return commerce.Event{Kind: commerce.KindUnknown}, name, nil
}

// kindOf classifies an event name: observer.sales_order_save_after,
// sales.order.created, plugin.magento.sales.api.order_management.place,
// observer.customer_register_success, …; "" for no name.
func kindOf(name string) commerce.Kind {
	n := strings.ToLower(name)
	has := func(words ...string) bool {
		for _, w := range words {
			if strings.Contains(n, w) {
				return true
			}
		}
		return false
	}
	switch {
	case n == "":
		return ""
	case strings.HasSuffix(n, "_before") || has("delete"):
		return commerce.KindUnknown // not committed yet, or gone
	case has("creditmemo", "credit_memo"):
		return commerce.KindRefund
	case has("shipment", "invoice", "address", "quote", "track", "payment", "_item", ".item"):
		return commerce.KindUnknown
	case has("order"):
		return commerce.KindOrder
	case has("customer"):
		return commerce.KindCustomer
	}
	return commerce.KindUnknown
}

// inferKind reads the kind of unnamed data from its shape.
func inferKind(f map[string]json.RawMessage) commerce.Kind {
	has := func(keys ...string) bool {
		for _, k := range keys {
			if _, ok := f[k]; ok {
				return true
			}
		}
		return false
	}
	switch {
	case isObject(f["order"]):
		return commerce.KindOrder
	case isObject(f["creditmemo"]) || isObject(f["credit_memo"]):
		return commerce.KindRefund
	case isObject(f["customer"]):
		return commerce.KindCustomer
	case has("increment_id") && has("order_currency_code") && !has("order_id"):
		return commerce.KindOrder
	case has("order_id") && has("adjustment_positive", "adjustment_negative", "creditmemo_status"):
		return commerce.KindRefund
	case has("email") && has("firstname") && has("group_id", "website_id") && !has("increment_id"):
		return commerce.KindCustomer
	}
	return commerce.KindUnknown
}

// entityKeys are where the data of an event of each kind keeps its entity:
// the observer's event object, the model's data_object, a plugin's
// argument or result.
var entityKeys = map[commerce.Kind][]string{
	commerce.KindOrder:    {"order", "data_object", "entity", "result"},
	commerce.KindCustomer: {"customer", "data_object", "entity", "result"},
	commerce.KindRefund:   {"creditmemo", "credit_memo", "data_object", "entity", "result"},
}

// locate returns the entity of an event of kind: the first object under
// one of its keys, else the data itself (the async-events shape).
func locate(kind commerce.Kind, fields map[string]json.RawMessage, data json.RawMessage) json.RawMessage {
	for _, k := range entityKeys[kind] {
		if isObject(fields[k]) {
			return fields[k]
		}
	}
	return data
}

// isObject reports whether raw is a JSON object.
func isObject(raw json.RawMessage) bool {
	t := bytes.TrimLeft(raw, " \t\r\n")
	return len(t) > 0 && t[0] == '{'
}
