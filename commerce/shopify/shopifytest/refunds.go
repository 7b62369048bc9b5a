package shopifytest

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Refunds in the fake Admin. An order's payments (PaymentSpec) are the
// parents of refund transactions; what is left of a payment is its amount
// less the refund transactions against it that did not fail. The fake
// answers:
//
//   - order(id:) { refunds(first:) transactions(first:) suggestedRefund(refundLineItems:) }:
//     the refunds with their notes, the payments and refund transactions
//     (OrderTransaction: kind, status, gateway, amountSet,
//     parentTransaction), and a suggestion: the most still refundable, the
//     lines' worth (price × quantity, at most that) and its allocation over
//     the payments, in order.
//   - refundCreate(input:): validates every transaction (kind REFUND, a
//     successful sale or capture of the order as parent, its gateway, at
//     most what is left of it) and line (a line of the order, at most the
//     quantity not yet refunded) and answers userErrors for what fails,
//     changing nothing; else records the refund, note included, on the
//     order, so the next read finds it. The userError messages are the
//     fake's own wording.
//   - @idempotent(key:) on refundCreate from API version 2026-01 (a
//     GraphQL error before it, mandatory from 2026-04): a key seen before
//     answers the first answer again and refunds nothing.

// Versions of refundCreate's @idempotent directive.
const (
	idempotentFrom     = "2026-01"
	idempotentRequired = "2026-04"
)

var (
	refundsFirst      = regexp.MustCompile(`refunds\(first: (\d+)\)`)
	transactionsFirst = regexp.MustCompile(`transactions\(first: (\d+)\)`)
	idempotentKey     = regexp.MustCompile(`@idempotent\(key:\s*(?:\$(\w+)|"([^"]*)")\s*\)`)
)

// refundOrderCost prices an order's refunds (3 each: refund, bag, money),
// transactions (4 each) and suggestedRefund (45); a list without first is
// priced at 250 entries.
func refundOrderCost(query string) float64 {
	return 1 + 3*float64(firstIn(refundsFirst, query)) + 4*float64(firstIn(transactionsFirst, query)) + 45
}

func firstIn(re *regexp.Regexp, query string) int {
	if m := re.FindStringSubmatch(query); m != nil {
		n, _ := strconv.Atoi(m[1])
		return n
	}
	return maxFirst
}

// newID is a fresh id for a payment, refund or transaction; a.mu is held.
func (a *Admin) newID() int64 {
	a.nextID++
	return a.nextID
}

// orderByGID is the index of the order with global id v, or -1.
func (a *Admin) orderByGID(v any) int {
	s, _ := v.(string)
	id, err := strconv.ParseInt(strings.TrimPrefix(s, "gid://shopify/Order/"), 10, 64)
	if err != nil || !strings.HasPrefix(s, "gid://shopify/Order/") {
		return -1
	}
	return slices.IndexFunc(a.orders, func(o OrderSpec) bool { return o.ID == id })
}

func gidID(kind, s string) (int64, bool) {
	tail, ok := strings.CutPrefix(s, "gid://shopify/"+kind+"/")
	if !ok {
		return 0, false
	}
	id, err := strconv.ParseInt(tail, 10, 64)
	return id, err == nil
}

func (p PaymentSpec) kind() string    { return strings.ToUpper(orDefault(p.Kind, "sale")) }
func (p PaymentSpec) status() string  { return strings.ToUpper(orDefault(p.Status, "success")) }
func (p PaymentSpec) gateway() string { return orDefault(p.Gateway, "bogus") }

// refundable reports whether refunds can go back to the payment.
func (p PaymentSpec) refundable() bool {
	return (p.kind() == "SALE" || p.kind() == "CAPTURE") && p.status() == "SUCCESS"
}

func (t TransactionSpec) kind() string   { return strings.ToUpper(orDefault(t.Kind, "refund")) }
func (t TransactionSpec) status() string { return strings.ToUpper(orDefault(t.Status, "success")) }
func (t TransactionSpec) counts() bool {
	return t.kind() == "REFUND" && t.status() != "FAILURE" && t.status() != "ERROR"
}

// transactionID is t's id, as restRefund writes it when it has none.
func transactionID(r RefundSpec, i int, t TransactionSpec) int64 {
	if t.ID != 0 {
		return t.ID
	}
	return r.ID*10 + int64(i) + 1
}

// parentOf is the payment a refund transaction went back to.
func parentOf(o OrderSpec, t TransactionSpec) int64 {
	if t.ParentID == 0 && len(o.Payments) > 0 {
		return o.Payments[0].ID
	}
	return t.ParentID
}

// left is what is left to refund of each refundable payment of o, in
// minor units.
func left(o OrderSpec) map[int64]int64 {
	out := map[int64]int64{}
	for _, p := range o.Payments {
		if p.refundable() {
			out[p.ID] = minorOf(p.Amount, o.Currency)
		}
	}
	for _, r := range o.Refunds {
		for _, t := range r.Transactions {
			if t.counts() {
				if _, ok := out[parentOf(o, t)]; ok {
					out[parentOf(o, t)] -= minorOf(t.Amount, o.Currency)
				}
			}
		}
	}
	return out
}

// maximumRefundable is what is left of all payments.
func maximumRefundable(o OrderSpec) int64 {
	var sum int64
	for _, v := range left(o) {
		sum += max(v, 0)
	}
	return sum
}

// refundedQuantity is how many of line id the order's refunds took back.
func refundedQuantity(o OrderSpec, id int64) int {
	n := 0
	for _, r := range o.Refunds {
		for _, li := range r.LineItems {
			if li.LineItemID == id {
				n += li.Quantity
			}
		}
	}
	return n
}

// gqlBag is a MoneyBag in the shop and presentment currencies (the same
// here).
func gqlBag(minor int64, currency string) map[string]any {
	m := gqlMoney(formatMinor(minor, currency), currency)["shopMoney"]
	return map[string]any{"shopMoney": m, "presentmentMoney": m}
}

func gqlRefund(o OrderSpec, r RefundSpec) map[string]any {
	var total int64
	for _, t := range r.Transactions {
		if t.counts() && t.status() == "SUCCESS" {
			total += minorOf(t.Amount, o.Currency)
		}
	}
	return map[string]any{
		"id": gid("Refund", r.ID), "legacyResourceId": strconv.FormatInt(r.ID, 10), "note": nullable(r.Note),
		"createdAt": gqlTime(r.CreatedAt), "totalRefundedSet": gqlBag(total, o.Currency),
	}
}

type inputLine struct {
	LineItemID  string `json:"lineItemId"`
	Quantity    int    `json:"quantity"`
	RestockType string `json:"restockType"`
}

// refundOrder answers order(id:) with its refunds, transactions and
// suggestedRefund.
func (a *Admin) refundOrder(q Query) (any, error) {
	i := a.orderByGID(q.Variables["id"])
	if i < 0 {
		return map[string]any{"order": nil}, nil
	}
	o := a.orders[i]
	var lines []inputLine
	if v, ok := q.Variables["refundLineItems"]; ok && v != nil {
		raw, _ := json.Marshal(v)
		if err := json.Unmarshal(raw, &lines); err != nil {
			return nil, fmt.Errorf("Variable $refundLineItems of type [RefundLineItemInput!] was provided invalid value: %v", err)
		}
	}
	var worth int64
	for _, l := range lines {
		id, _ := gidID("LineItem", l.LineItemID)
		j := slices.IndexFunc(o.LineItems, func(li LineItemSpec) bool { return li.ID == id })
		if j < 0 {
			return nil, fmt.Errorf("Invalid id: %s", l.LineItemID)
		}
		worth += minorOf(o.LineItems[j].Price, o.Currency) * int64(l.Quantity)
	}
	maximum := maximumRefundable(o)
	amount := min(worth, maximum)

	suggested := []any{}
	rest, remaining := amount, left(o)
	for _, p := range o.Payments {
		if take := min(max(remaining[p.ID], 0), rest); p.refundable() && take > 0 {
			suggested = append(suggested, map[string]any{
				"kind": "SUGGESTED_REFUND", "gateway": p.gateway(), "amountSet": gqlBag(take, o.Currency),
				"maximumRefundableSet": gqlBag(remaining[p.ID], o.Currency),
				"parentTransaction":    map[string]any{"id": gid("OrderTransaction", p.ID), "kind": p.kind()},
			})
			rest -= take
		}
	}

	refunds := []any{}
	for _, r := range o.Refunds[:min(len(o.Refunds), firstIn(refundsFirst, q.Query))] {
		refunds = append(refunds, gqlRefund(o, r))
	}
	transactions := []any{}
	for _, p := range o.Payments {
		transactions = append(transactions, map[string]any{
			"id": gid("OrderTransaction", p.ID), "kind": p.kind(), "status": p.status(), "gateway": p.gateway(),
			"amountSet": gqlBag(minorOf(p.Amount, o.Currency), o.Currency), "parentTransaction": nil,
		})
	}
	for _, r := range o.Refunds {
		for k, t := range r.Transactions {
			var parent any
			if id := parentOf(o, t); id != 0 {
				parent = map[string]any{"id": gid("OrderTransaction", id)}
			}
			transactions = append(transactions, map[string]any{
				"id": gid("OrderTransaction", transactionID(r, k, t)), "kind": t.kind(), "status": t.status(),
				"gateway": orDefault(t.Gateway, "bogus"), "amountSet": gqlBag(minorOf(t.Amount, o.Currency), o.Currency),
				"parentTransaction": parent,
			})
		}
	}
	transactions = transactions[:min(len(transactions), firstIn(transactionsFirst, q.Query))]

	return map[string]any{"order": map[string]any{
		"id": gid("Order", o.ID), "legacyResourceId": strconv.FormatInt(o.ID, 10),
		"currencyCode": o.Currency, "presentmentCurrencyCode": o.Currency,
		"refunds": refunds, "transactions": transactions,
		"suggestedRefund": map[string]any{
			"amountSet": gqlBag(amount, o.Currency), "maximumRefundableSet": gqlBag(maximum, o.Currency),
			"suggestedTransactions": suggested,
		},
	}}, nil
}

// idempotencyKey reads refundCreate's @idempotent(key:), a literal or a
// variable.
func idempotencyKey(q Query) (string, bool) {
	m := idempotentKey.FindStringSubmatch(q.Query)
	if m == nil {
		return "", false
	}
	if m[1] != "" {
		key, _ := q.Variables[m[1]].(string)
		return key, true
	}
	return m[2], true
}

// versionFrom reports whether API version v is from or after from.
func versionFrom(v, from string) bool { return v == "unstable" || v >= from }

// refundCreate validates the input and records the refund on the order,
// updating its financial status and updatedAt, or answers the scripted or
// found userErrors.
func (a *Admin) refundCreate(q Query) (any, error) {
	key, idempotent := idempotencyKey(q)
	switch {
	case idempotent && !versionFrom(q.Version, idempotentFrom):
		return nil, fmt.Errorf("Directive 'idempotent' is not defined (API version %s)", q.Version)
	case !idempotent && versionFrom(q.Version, idempotentRequired):
		return nil, fmt.Errorf("refundCreate requires the @idempotent directive from API version %s", idempotentRequired)
	case idempotent && key == "":
		return nil, fmt.Errorf("@idempotent needs a key")
	}
	if prev, ok := a.idempotent[key]; idempotent && ok {
		return prev, nil
	}
	raw, _ := json.Marshal(q.Variables["input"])
	var in RefundInput
	if err := json.Unmarshal(raw, &in); err != nil {
		return nil, fmt.Errorf("refundCreate input: %v", err)
	}
	answer := func(refund, order any, errs []UserError) any {
		return map[string]any{"refundCreate": map[string]any{"refund": refund, "order": order, "userErrors": orEmptyErrs(errs)}}
	}
	if errs := a.refundErrs; errs != nil {
		a.refundErrs = nil
		return answer(nil, nil, errs), nil
	}
	i := a.orderByGID(in.OrderID)
	if i < 0 {
		return answer(nil, nil, []UserError{{Field: []string{"orderId"}, Message: "Order does not exist"}}), nil
	}
	o := &a.orders[i]
	refund, errs := a.checkRefund(*o, in)
	if len(errs) > 0 {
		return answer(nil, nil, errs), nil
	}
	o.Refunds = append(o.Refunds, refund)
	o.UpdatedAt = refund.CreatedAt
	o.FinancialStatus = "partially_refunded"
	if refunded(*o) >= minorOf(o.TotalPrice, o.Currency) {
		o.FinancialStatus = "refunded"
	}
	a.refunds = append(a.refunds, in)
	out := answer(gqlRefund(*o, refund), map[string]any{"id": gid("Order", o.ID)}, nil)
	if idempotent {
		a.idempotent[key] = out
	}
	return out, nil
}

// checkRefund validates in against o and returns the refund it makes, or
// the userErrors.
func (a *Admin) checkRefund(o OrderSpec, in RefundInput) (RefundSpec, []UserError) {
	var errs []UserError
	fail := func(msg string, field ...string) { errs = append(errs, UserError{Field: field, Message: msg}) }
	if in.Currency != "" && in.Currency != o.Currency {
		fail(fmt.Sprintf("Currency %s is not the order's presentment currency %s", in.Currency, o.Currency), "currency")
	}
	refund := RefundSpec{OrderID: o.ID, Note: in.Note, CreatedAt: time.Now().UTC().Truncate(time.Second)}
	remaining := left(o)
	for k, t := range in.Transactions {
		n := strconv.Itoa(k)
		parentID, _ := gidID("OrderTransaction", t.ParentID)
		j := slices.IndexFunc(o.Payments, func(p PaymentSpec) bool { return p.ID == parentID })
		amount, err := strconv.ParseFloat(t.Amount, 64)
		switch {
		case t.Kind != "REFUND":
			fail("Kind must be REFUND", "transactions", n, "kind")
		case j < 0 || !o.Payments[j].refundable():
			fail("Parent transaction is not a successful sale or capture of this order", "transactions", n, "parentId")
		case t.Gateway != o.Payments[j].gateway():
			fail(fmt.Sprintf("Gateway %q is not the parent transaction's %q", t.Gateway, o.Payments[j].gateway()), "transactions", n, "gateway")
		case err != nil || amount <= 0:
			fail("Amount must be greater than 0", "transactions", n, "amount")
		default:
			v := minorOf(t.Amount, o.Currency)
			if v > remaining[parentID] {
				fail(fmt.Sprintf("Amount %s is more than the %s refundable on the transaction", t.Amount, formatMinor(max(remaining[parentID], 0), o.Currency)), "transactions", n, "amount")
			}
			remaining[parentID] -= v
			refund.Transactions = append(refund.Transactions, TransactionSpec{Amount: t.Amount, Currency: o.Currency, ParentID: parentID, Gateway: t.Gateway})
		}
	}
	taken := map[int64]int{}
	for k, l := range in.RefundLineItems {
		n := strconv.Itoa(k)
		id, _ := gidID("LineItem", l.LineItemID)
		j := slices.IndexFunc(o.LineItems, func(li LineItemSpec) bool { return li.ID == id })
		switch {
		case j < 0:
			fail("Line item does not exist on the order", "refundLineItems", n, "lineItemId")
		case l.Quantity < 1 || l.Quantity+taken[id] > o.LineItems[j].Quantity-refundedQuantity(o, id):
			fail("Quantity cannot refund more items than were purchased", "refundLineItems", n, "quantity")
		case l.RestockType != "" && !slices.Contains([]string{"NO_RESTOCK", "CANCEL", "RETURN"}, l.RestockType):
			fail("Restock type is invalid", "refundLineItems", n, "restockType")
		default:
			taken[id] += l.Quantity
			price := minorOf(o.LineItems[j].Price, o.Currency)
			refund.LineItems = append(refund.LineItems, RefundLineItemSpec{LineItemID: id, Quantity: l.Quantity,
				Subtotal: formatMinor(price*int64(l.Quantity), o.Currency), Currency: o.Currency})
		}
	}
	if len(errs) > 0 {
		return RefundSpec{}, errs
	}
	refund.ID = a.newID()
	for k := range refund.Transactions {
		refund.Transactions[k].ID = a.newID()
	}
	return refund, nil
}

func orEmptyErrs(errs []UserError) []UserError {
	if errs == nil {
		return []UserError{}
	}
	return errs
}
