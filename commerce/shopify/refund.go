package shopify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/frontdesk-ai/frontdesk/commerce"
)

// Refunds through refundCreate, exactly once. refundCreate takes no
// idempotency key before API version 2026-01, so the refund's note carries
// the request's marker ("[frontdesk confirmation <key>]") and every try
// first reads the order's refunds for it: a refund found is returned
// (Replayed), never made again. From 2026-01 the mutation also carries
// @idempotent(key:) (mandatory from 2026-04). The mutation itself is sent
// once per try: a failure whose outcome is unknown (transport, timeout,
// 5xx, 429, THROTTLED) is retried only by reading the order again first.

// Page sizes of an order's refunds and transactions. Order.refunds and
// Order.transactions are lists truncated to first: a full page means the
// order may have more than were read, and a refund is then refused rather
// than risk missing the marker or a payment.
const (
	refundsPage      = 50
	transactionsPage = 50
)

// refundOrderQuery reads what a refund needs of an order: its refunds (to
// find the marker), its transactions (the payments a refund goes back to)
// and Shopify's suggestion (the most still refundable; with lines, what
// they are worth and which payments take it). Amounts are the presentment
// currency's, the currency refunds are made in.
var refundOrderQuery = `query RefundOrder($id: ID!, $refundLineItems: [RefundLineItemInput!]) {
  order(id: $id) {
    id
    legacyResourceId
    currencyCode
    presentmentCurrencyCode
    refunds(first: ` + strconv.Itoa(refundsPage) + `) {
      id
      legacyResourceId
      note
      totalRefundedSet { presentmentMoney { amount currencyCode } }
    }
    transactions(first: ` + strconv.Itoa(transactionsPage) + `) {
      id
      kind
      status
      gateway
      amountSet { presentmentMoney { amount currencyCode } }
      parentTransaction { id }
    }
    suggestedRefund(refundLineItems: $refundLineItems) {
      amountSet { presentmentMoney { amount currencyCode } }
      maximumRefundableSet { presentmentMoney { amount currencyCode } }
      suggestedTransactions {
        gateway
        amountSet { presentmentMoney { amount currencyCode } }
        parentTransaction { id }
      }
    }
  }
}`

// refundSelection is what refundCreate answers with.
const refundSelection = ` {
    refund {
      id
      legacyResourceId
      note
      totalRefundedSet { presentmentMoney { amount currencyCode } }
    }
    userErrors { field message }
  }
}`

// refundCreateMutation creates a refund; refundCreateIdempotent also names
// it with an idempotency key (API 2026-01 and later).
const (
	refundCreateMutation = `mutation RefundCreate($input: RefundInput!) {
  refundCreate(input: $input)` + refundSelection
	refundCreateIdempotent = `mutation RefundCreate($input: RefundInput!, $idempotencyKey: String!) {
  refundCreate(input: $input) @idempotent(key: $idempotencyKey)` + refundSelection
)

// firstIdempotentVersion is the first API version whose refundCreate takes
// @idempotent.
const firstIdempotentVersion = "2026-01"

var endpointVersion = regexp.MustCompile(`/admin/api/(\d{4}-\d{2}|unstable)/graphql\.json$`)

// takesIdempotencyKey reports whether the endpoint's API version has
// refundCreate's @idempotent directive.
func takesIdempotencyKey(endpoint string) bool {
	m := endpointVersion.FindStringSubmatch(endpoint)
	return m != nil && (m[1] == "unstable" || m[1] >= firstIdempotentVersion)
}

type presentmentBag struct {
	PresentmentMoney struct {
		Amount       amount `json:"amount"`
		CurrencyCode string `json:"currencyCode"`
	} `json:"presentmentMoney"`
}

type gqlRefund struct {
	ID               string          `json:"id"`
	LegacyResourceID id              `json:"legacyResourceId"`
	Note             string          `json:"note"`
	TotalRefundedSet *presentmentBag `json:"totalRefundedSet"`
}

type gqlTransaction struct {
	ID                string         `json:"id"`
	Kind              string         `json:"kind"`
	Status            string         `json:"status"`
	Gateway           string         `json:"gateway"`
	AmountSet         presentmentBag `json:"amountSet"`
	ParentTransaction *struct {
		ID string `json:"id"`
	} `json:"parentTransaction"`
}

type refundOrder struct {
	ID                      string           `json:"id"`
	LegacyResourceID        id               `json:"legacyResourceId"`
	CurrencyCode            string           `json:"currencyCode"`
	PresentmentCurrencyCode string           `json:"presentmentCurrencyCode"`
	Refunds                 []gqlRefund      `json:"refunds"`
	Transactions            []gqlTransaction `json:"transactions"`
	SuggestedRefund         *struct {
		AmountSet             presentmentBag   `json:"amountSet"`
		MaximumRefundableSet  presentmentBag   `json:"maximumRefundableSet"`
		SuggestedTransactions []gqlTransaction `json:"suggestedTransactions"`
	} `json:"suggestedRefund"`
}

// refundTransaction is an OrderTransactionInput of kind REFUND.
type refundTransaction struct {
	OrderID  string `json:"orderId"`
	ParentID string `json:"parentId"`
	Amount   string `json:"amount"`
	Gateway  string `json:"gateway"`
	Kind     string `json:"kind"`
}

type refundLineItem struct {
	LineItemID  string `json:"lineItemId"`
	Quantity    int    `json:"quantity"`
	RestockType string `json:"restockType"`
}

// refundInput is a RefundInput.
type refundInput struct {
	OrderID         string              `json:"orderId"`
	Note            string              `json:"note"`
	Notify          bool                `json:"notify"`
	Currency        string              `json:"currency,omitempty"`
	RefundLineItems []refundLineItem    `json:"refundLineItems,omitempty"`
	Transactions    []refundTransaction `json:"transactions"`
}

var _ commerce.Refunder = (*Client)(nil)

// Refund gives money back on the order r.OrderExternalID (its numeric id)
// through refundCreate, at most once per r.Key: the order's refunds are
// read first and one whose note carries r's marker is returned with
// Replayed set. Otherwise the amount (default: the most still refundable;
// with lines and no amount, what Shopify says the lines are worth) goes
// back to the order's successful sale and capture transactions, each
// through its own gateway, with the lines (not restocked), the reason and
// the marker as the note, and a notification to the customer.
//
// An amount above what is refundable, nothing left to refund and
// refundCreate's userErrors wrap commerce.ErrRefused; a missing order
// commerce.ErrNotFound; an invalid request commerce.ErrMalformed.
func (c *Client) Refund(ctx context.Context, r commerce.RefundRequest) (commerce.RefundResult, error) {
	if err := r.Validate(); err != nil {
		return commerce.RefundResult{}, err
	}
	if !isDigits(r.OrderExternalID) {
		return commerce.RefundResult{}, fmt.Errorf("shopify refund: order %q: %w", r.OrderExternalID, commerce.ErrNotFound)
	}
	lines := make([]refundLineItem, 0, len(r.LineItems))
	for _, l := range r.LineItems {
		if !isDigits(l.LineItemExternalID) {
			return commerce.RefundResult{}, commerce.Malformed("shopify refund: line item id %q is not numeric", l.LineItemExternalID)
		}
		lines = append(lines, refundLineItem{LineItemID: "gid://shopify/LineItem/" + l.LineItemExternalID, Quantity: l.Quantity, RestockType: "NO_RESTOCK"})
	}
	var res commerce.RefundResult
	err := commerce.RetryUnsure(ctx, c.maxRetries, c.sleep, func() error {
		var err error
		res, err = c.refundOnce(ctx, r, lines)
		return err
	})
	if err != nil {
		return commerce.RefundResult{}, fmt.Errorf("shopify refund of order %s (key %s): %w", r.OrderExternalID, r.Key, err)
	}
	return res, nil
}

// refundOnce reads the order, returns the refund r made earlier if there is
// one, else creates it with one refundCreate request. A failure of that
// request whose outcome is unknown is a *commerce.UnsureError.
func (c *Client) refundOnce(ctx context.Context, r commerce.RefundRequest, lines []refundLineItem) (commerce.RefundResult, error) {
	gid := "gid://shopify/Order/" + r.OrderExternalID
	vars := map[string]any{"id": gid}
	if len(lines) > 0 {
		vars["refundLineItems"] = lines
	}
	var data struct {
		Order *refundOrder `json:"order"`
	}
	if err := c.do(ctx, "refund: read order", refundOrderQuery, vars, &data); err != nil {
		return commerce.RefundResult{}, err
	}
	o := data.Order
	if o == nil {
		return commerce.RefundResult{}, commerce.ErrNotFound
	}
	currency := strings.ToUpper(o.PresentmentCurrencyCode)
	if currency == "" {
		currency = strings.ToUpper(o.CurrencyCode)
	}
	if found, ok, err := o.refundMarked(r, currency); ok || err != nil {
		return found, err
	}
	if len(o.Refunds) >= refundsPage {
		return commerce.RefundResult{}, fmt.Errorf("the order has %d or more refunds, more than one read shows: refund it in the Shopify admin", refundsPage)
	}
	if len(o.Transactions) >= transactionsPage {
		return commerce.RefundResult{}, fmt.Errorf("the order has %d or more transactions, more than one read shows: refund it in the Shopify admin", transactionsPage)
	}
	if err := r.CheckCurrency(currency); err != nil {
		return commerce.RefundResult{}, err
	}
	in, amount, err := o.plan(r, lines, currency)
	if err != nil {
		return commerce.RefundResult{}, err
	}
	return c.createRefund(ctx, r, in, amount, currency)
}

// refundMarked returns the refund of o whose note carries r's marker.
func (o *refundOrder) refundMarked(r commerce.RefundRequest, currency string) (commerce.RefundResult, bool, error) {
	for _, f := range o.Refunds {
		if !r.Marks(f.Note) {
			continue
		}
		res, err := refundResult(f, currency)
		res.Replayed = true
		return res, true, err
	}
	return commerce.RefundResult{}, false, nil
}

// refundResult reads a Refund's id and total.
func refundResult(f gqlRefund, currency string) (commerce.RefundResult, error) {
	res := commerce.RefundResult{ExternalID: string(f.LegacyResourceID), Currency: currency}
	if res.ExternalID == "" {
		res.ExternalID = gidTail(f.ID)
	}
	if res.ExternalID == "" {
		return commerce.RefundResult{}, commerce.Malformed("refund without an id")
	}
	if t := f.TotalRefundedSet; t != nil && t.PresentmentMoney.Amount != "" {
		if t.PresentmentMoney.CurrencyCode != "" {
			res.Currency = strings.ToUpper(t.PresentmentMoney.CurrencyCode)
		}
		var err error
		if res.AmountMinor, err = minor("refund.totalRefundedSet", t.PresentmentMoney.Amount, res.Currency); err != nil {
			return commerce.RefundResult{}, err
		}
	}
	return res, nil
}

// plan decides the refund: its amount, at most what is refundable, and
// the transactions that take it.
func (o *refundOrder) plan(r commerce.RefundRequest, lines []refundLineItem, currency string) (refundInput, int64, error) {
	s := o.SuggestedRefund
	if s == nil {
		return refundInput{}, 0, commerce.Malformed("order without a suggestedRefund")
	}
	maximum, err := minor("suggestedRefund.maximumRefundableSet", s.MaximumRefundableSet.PresentmentMoney.Amount, currency)
	if err != nil {
		return refundInput{}, 0, err
	}
	suggested, err := minor("suggestedRefund.amountSet", s.AmountSet.PresentmentMoney.Amount, currency)
	if err != nil {
		return refundInput{}, 0, err
	}
	amount := r.AmountMinor
	switch {
	case amount == 0 && len(lines) > 0:
		amount = suggested
	case amount == 0:
		amount = maximum
	}
	switch {
	case maximum <= 0:
		return refundInput{}, 0, commerce.Refused("nothing left to refund on the order")
	case amount <= 0:
		return refundInput{}, 0, commerce.Refused("the lines are worth nothing to refund")
	case amount > maximum:
		return refundInput{}, 0, commerce.Refused("%s is more than the %s still refundable", commerce.FormatMinor(amount, currency), commerce.FormatMinor(maximum, currency))
	}
	var txs []refundTransaction
	if len(lines) > 0 && r.AmountMinor == 0 {
		txs, err = o.suggestedTransactions(amount, currency)
		if err != nil {
			return refundInput{}, 0, err
		}
	}
	if txs == nil {
		if txs, err = o.allocate(amount, currency); err != nil {
			return refundInput{}, 0, err
		}
	}
	in := refundInput{OrderID: o.ID, Note: r.Note(), Notify: true, RefundLineItems: lines, Transactions: txs}
	if in.OrderID == "" {
		in.OrderID = "gid://shopify/Order/" + r.OrderExternalID
	}
	if shop := strings.ToUpper(o.CurrencyCode); shop != "" && shop != currency {
		in.Currency = currency // required where the presentment currency differs
	}
	return in, amount, nil
}

// suggestedTransactions are Shopify's suggested transactions as refund
// transactions, or nil when they do not add up to amount.
func (o *refundOrder) suggestedTransactions(amount int64, currency string) ([]refundTransaction, error) {
	var txs []refundTransaction
	var sum int64
	for i, t := range o.SuggestedRefund.SuggestedTransactions {
		v, err := minor(fmt.Sprintf("suggestedTransactions[%d].amountSet", i), t.AmountSet.PresentmentMoney.Amount, currency)
		if err != nil {
			return nil, err
		}
		if v <= 0 {
			continue
		}
		if t.ParentTransaction == nil || t.ParentTransaction.ID == "" {
			return nil, nil // not one we can name as the parent: allocate ourselves
		}
		sum += v
		txs = append(txs, refundTransaction{OrderID: o.ID, ParentID: t.ParentTransaction.ID, Amount: decimal(v, currency), Gateway: t.Gateway, Kind: "REFUND"})
	}
	if sum != amount {
		return nil, nil
	}
	return txs, nil
}

// allocate spreads amount over the order's successful sales and captures,
// in order, each taking at most what is left of it after its refunds.
func (o *refundOrder) allocate(amount int64, currency string) ([]refundTransaction, error) {
	refunded := map[string]int64{}
	for i, t := range o.Transactions {
		if !strings.EqualFold(t.Kind, "REFUND") || t.ParentTransaction == nil || failed(t.Status) {
			continue
		}
		v, err := minor(fmt.Sprintf("transactions[%d].amountSet", i), t.AmountSet.PresentmentMoney.Amount, currency)
		if err != nil {
			return nil, err
		}
		refunded[t.ParentTransaction.ID] += v
	}
	var txs []refundTransaction
	left := amount
	for i, t := range o.Transactions {
		kind := strings.ToUpper(t.Kind)
		if (kind != "SALE" && kind != "CAPTURE") || !strings.EqualFold(t.Status, "SUCCESS") || left == 0 {
			continue
		}
		v, err := minor(fmt.Sprintf("transactions[%d].amountSet", i), t.AmountSet.PresentmentMoney.Amount, currency)
		if err != nil {
			return nil, err
		}
		take := min(v-refunded[t.ID], left)
		if take <= 0 {
			continue
		}
		txs = append(txs, refundTransaction{OrderID: o.ID, ParentID: t.ID, Amount: decimal(take, currency), Gateway: t.Gateway, Kind: "REFUND"})
		left -= take
	}
	if left > 0 {
		return nil, commerce.Refused("the order's payments can take back only %s of %s", commerce.FormatMinor(amount-left, currency), commerce.FormatMinor(amount, currency))
	}
	return txs, nil
}

// failed reports whether a transaction status is a failure.
func failed(status string) bool {
	s := strings.ToUpper(status)
	return s == "FAILURE" || s == "ERROR"
}

// createRefund sends refundCreate once.
func (c *Client) createRefund(ctx context.Context, r commerce.RefundRequest, in refundInput, amount int64, currency string) (commerce.RefundResult, error) {
	query, vars := refundCreateMutation, map[string]any{"input": in}
	if c.idempotent {
		query, vars["idempotencyKey"] = refundCreateIdempotent, r.Key
	}
	body, err := json.Marshal(gqlRequest{Query: query, Variables: vars})
	if err != nil {
		return commerce.RefundResult{}, fmt.Errorf("encode refundCreate: %w", err)
	}
	raw, err := c.attempt(ctx, body)
	var again *commerce.RetryError
	switch {
	case err == nil:
	case ctx.Err() != nil:
		return commerce.RefundResult{}, err
	case errors.As(err, &again):
		return commerce.RefundResult{}, &commerce.UnsureError{Err: fmt.Errorf("refundCreate: %w", err), Wait: again.Wait}
	case errors.Is(err, commerce.ErrMalformed):
		// An answer not read (garbled, too large): the refund may exist.
		return commerce.RefundResult{}, &commerce.UnsureError{Err: fmt.Errorf("refundCreate: %w", err)}
	default:
		return commerce.RefundResult{}, fmt.Errorf("refundCreate: %w", err)
	}
	var data struct {
		RefundCreate *struct {
			Refund     *gqlRefund `json:"refund"`
			UserErrors []struct {
				Field   []string `json:"field"`
				Message string   `json:"message"`
			} `json:"userErrors"`
		} `json:"refundCreate"`
	}
	if err := json.Unmarshal(raw, &data); err != nil || data.RefundCreate == nil {
		// Unread: the refund may exist.
		return commerce.RefundResult{}, &commerce.UnsureError{Err: commerce.Malformed("refundCreate: no payload to read: %v", err)}
	}
	rc := data.RefundCreate
	if len(rc.UserErrors) > 0 {
		msgs := make([]string, 0, len(rc.UserErrors))
		for _, e := range rc.UserErrors {
			if len(e.Field) > 0 {
				msgs = append(msgs, strings.Join(e.Field, ".")+": "+e.Message)
			} else {
				msgs = append(msgs, e.Message)
			}
		}
		return commerce.RefundResult{}, commerce.Refused("refundCreate: %s", strings.Join(msgs, "; "))
	}
	if rc.Refund == nil {
		return commerce.RefundResult{}, &commerce.UnsureError{Err: commerce.Malformed("refundCreate: no refund and no userErrors")}
	}
	res, err := refundResult(*rc.Refund, currency)
	if err != nil {
		return commerce.RefundResult{}, fmt.Errorf("refundCreate: %w", err)
	}
	// What was sent: a refund to a gateway that settles later totals 0
	// until it does.
	res.AmountMinor, res.Currency = amount, currency
	return res, nil
}

// decimal writes minor units of currency as Shopify's Money: "19.99".
func decimal(v int64, currency string) string {
	s := commerce.FormatMinor(v, currency)
	return s[:strings.LastIndexByte(s, ' ')]
}

// isDigits reports whether s is a decimal id.
func isDigits(s string) bool {
	return s != "" && strings.Trim(s, "0123456789") == ""
}
