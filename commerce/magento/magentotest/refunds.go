package magentotest

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Refunds in the fake: the refund services make credit memos the way
// Magento's RefundOrder and RefundInvoice do, in the currency's cents (two
// decimals). No items refunds every item still refundable (invoiced less
// refunded) and the shipping still refundable; items refund just those
// quantities (0 included); arguments.shipping_amount, when given, replaces
// the shipping, and the adjustments add and subtract. The validation
// messages are Magento's (QuantityValidator, TotalsValidator, the
// invoice's CanRefund), joined under "Creditmemo Document Validation
// Error(s):" in an HTTP 400 {"message": …}, with one of the fake's own:
// Adobe documents that the offline service refuses an order paid online,
// without its wording. A credit memo made updates the order (its
// total_refunded, items' qty_refunded, shipping_refunded, state closed
// once all that was paid is refunded) and the invoice's
// base_total_refunded, keeps the comment, and is listed by GET
// /V1/creditmemos; the answer is its entity id.

// noSuchEntity is Magento's 404 body for a missing entity.
var noSuchEntity = map[string]any{"message": "The entity that was requested doesn't exist. Verify the entity and try again."}

// offlineMethods are Magento's payment methods that cannot refund online.
var offlineMethods = []string{"checkmo", "banktransfer", "cashondelivery", "purchaseorder", "free"}

type errorBody struct {
	Message    string `json:"message"`
	Parameters any    `json:"parameters,omitempty"`
}

// RefundBody is the body of the refund services, as the fake read it.
type RefundBody struct {
	Items []struct {
		OrderItemID int64   `json:"order_item_id"`
		Qty         float64 `json:"qty"`
	} `json:"items"`
	// IsOnline is isOnline (or is_online, which Magento reads as well).
	IsOnline      bool `json:"isOnline"`
	IsOnlineSnake bool `json:"is_online"`
	Notify        bool `json:"notify"`
	AppendComment bool `json:"appendComment"`
	Comment       *struct {
		Comment          string `json:"comment"`
		IsVisibleOnFront int    `json:"is_visible_on_front"`
	} `json:"comment"`
	Arguments *struct {
		ShippingAmount      *float64 `json:"shipping_amount"`
		AdjustmentPositive  float64  `json:"adjustment_positive"`
		AdjustmentNegative  float64  `json:"adjustment_negative"`
		ExtensionAttributes struct {
			ReturnToStockItems []int64 `json:"return_to_stock_items"`
		} `json:"extension_attributes"`
	} `json:"arguments"`
}

// RefundCall is one request a refund service received.
type RefundCall struct {
	// Path is without the store path: "/V1/invoice/12/refund".
	Path string
	Body RefundBody
}

// AddCreditMemo stores a credit memo as it is (no order changes).
func (s *Server) AddCreditMemo(m CreditMemoSpec) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.creditMemos = append(s.creditMemos, m)
}

// CreditMemos returns the credit memos, added and made.
func (s *Server) CreditMemos() []CreditMemoSpec {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.creditMemos)
}

// Order returns the stored order entityID.
func (s *Server) Order(entityID int64) (OrderSpec, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	i := s.orderIndex(strconv.FormatInt(entityID, 10))
	if i < 0 {
		return OrderSpec{}, false
	}
	return s.orders[i], true
}

// RefundCalls returns the requests the refund services received, refused
// ones included.
func (s *Server) RefundCalls() []RefundCall {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.refundCalls)
}

// RefuseNextRefund makes the next refund answer HTTP 400 {"message":
// message, "parameters": parameters} and make nothing.
func (s *Server) RefuseNextRefund(message string, parameters any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refuse = &errorBody{Message: message, Parameters: parameters}
}

// FailNextRefunds makes the next n refund requests answer HTTP status (a
// 5xx or 429) and make nothing.
func (s *Server) FailNextRefunds(n, status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refundFail, s.refundFailStatus = n, status
}

// FailAfterNextRefund makes the next refund make its credit memo and then
// answer HTTP status (a 5xx): the answer is lost on the way.
func (s *Server) FailAfterNextRefund(status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failAfter = status
}

func (s *Server) orderIndex(id string) int {
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil {
		return -1
	}
	return slices.IndexFunc(s.orders, func(o OrderSpec) bool { return o.EntityID == n })
}

func (s *Server) memoIndex(id string) int {
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil {
		return -1
	}
	return slices.IndexFunc(s.creditMemos, func(m CreditMemoSpec) bool { return m.EntityID == n })
}

func cents(decimal string) int64 {
	v, _ := strconv.ParseFloat(orZero(decimal), 64)
	return int64(math.Round(v * 100))
}

func fromFloat(v float64) int64 { return int64(math.Round(v * 100)) }

func centsText(c int64) string { return fmt.Sprintf("%d.%02d", c/100, c%100) }

// phpFloat writes cents as PHP writes the float in a message: "25", "25.5".
func phpFloat(c int64) string {
	return strconv.FormatFloat(float64(c)/100, 'f', -1, 64)
}

// refund answers POST /V1/{kind}/{id}/refund; s.mu is held.
func (s *Server) refund(w http.ResponseWriter, path, kind, id string, raw []byte) {
	var body RefundBody
	err := json.Unmarshal(raw, &body)
	s.refundCalls = append(s.refundCalls, RefundCall{Path: path, Body: body})
	if err != nil {
		writeJSON(w, http.StatusBadRequest, errorBody{Message: "Decoding error: " + err.Error()})
		return
	}
	if s.refundFail > 0 {
		s.refundFail--
		writeJSON(w, s.refundFailStatus, errorBody{Message: http.StatusText(s.refundFailStatus)})
		return
	}
	if s.refuse != nil {
		e := *s.refuse
		s.refuse = nil
		writeJSON(w, http.StatusBadRequest, e)
		return
	}
	oi, inv := -1, -1
	if kind == "order" {
		oi = s.orderIndex(id)
	} else {
		n, _ := strconv.ParseInt(id, 10, 64)
		for i, o := range s.orders {
			if j := slices.IndexFunc(o.Invoices, func(x InvoiceSpec) bool { return x.EntityID == n }); j >= 0 {
				oi, inv = i, j
			}
		}
	}
	if oi < 0 {
		writeJSON(w, http.StatusNotFound, noSuchEntity)
		return
	}
	memo, msgs := s.creditMemo(&s.orders[oi], inv, body)
	if len(msgs) > 0 {
		writeJSON(w, http.StatusBadRequest, errorBody{Message: "Creditmemo Document Validation Error(s):\n" + strings.Join(msgs, "\n")})
		return
	}
	if status := s.failAfter; status != 0 {
		s.failAfter = 0
		writeJSON(w, status, errorBody{Message: "Internal Error. Details are available in Magento log file. Report ID: webapi-66f3a1b2c3d5f"})
		return
	}
	writeJSON(w, http.StatusOK, memo.EntityID)
}

// creditMemo validates a refund of o (through its invoice inv, or -1) and
// makes the credit memo, or returns the validation messages.
func (s *Server) creditMemo(o *OrderSpec, inv int, body RefundBody) (CreditMemoSpec, []string) {
	var msgs []string
	online := body.IsOnline || body.IsOnlineSnake
	paidOnline := !slices.Contains(offlineMethods, o.paymentMethod()) && slices.ContainsFunc(o.Invoices, func(i InvoiceSpec) bool { return i.TransactionID != "" })
	if inv < 0 && paidOnline {
		msgs = append(msgs, "The order was paid online: refund it through its invoice (POST /V1/invoice/{invoiceId}/refund).")
	}
	if inv >= 0 {
		i := o.Invoices[inv]
		if i.stateCode() != 2 || cents(i.GrandTotal)-cents(i.TotalRefunded) <= 0 || (online && (i.TransactionID == "" || !paidOnline)) {
			msgs = append(msgs, "We can't create creditmemo for the invoice.")
		}
	}
	state, status := o.state()
	paid, refunded := cents(o.paid()), cents(o.TotalRefunded)
	switch {
	case state == "canceled" || state == "closed" || state == "holded" || state == "payment_review":
		msgs = append(msgs, fmt.Sprintf("A creditmemo can not be created when an order has a status of %s", status))
	case paid-refunded <= 0:
		msgs = append(msgs, "The order does not allow a creditmemo to be created.")
	}

	qtys := map[int64]int{}
	for _, it := range body.Items {
		qtys[it.OrderItemID] += int(math.Round(it.Qty))
	}
	memo := CreditMemoSpec{OrderID: o.EntityID, Currency: o.Currency, CreatedAt: time.Now().UTC().Truncate(time.Second), Online: online}
	var subtotal int64
	totalQty, all := 0, len(qtys) == 0
	for _, it := range o.Items {
		if it.ParentItemID != 0 {
			continue
		}
		remaining := o.invoicedQty(it) - it.QtyRefunded
		qty, ok := qtys[it.ItemID]
		switch {
		case all:
			qty = remaining
		case !ok:
			continue
		}
		delete(qtys, it.ItemID)
		if qty > remaining {
			msgs = append(msgs, fmt.Sprintf("The quantity to creditmemo must not be greater than the unrefunded quantity for product SKU %q.", it.SKU))
			continue
		}
		totalQty += qty
		subtotal += cents(it.Price) * int64(qty)
		if qty > 0 {
			memo.Items = append(memo.Items, CreditMemoItemSpec{OrderItemID: it.ItemID, Qty: qty})
		}
	}
	for id := range qtys {
		msgs = append(msgs, fmt.Sprintf("The creditmemo contains product SKU %q that is not part of the original order.", strconv.FormatInt(id, 10)))
	}
	shippingLeft := cents(o.ShippingAmount) - cents(o.ShippingRefunded)
	shipping, adjPos, adjNeg := shippingLeft, int64(0), int64(0)
	if a := body.Arguments; a != nil {
		if a.ShippingAmount != nil {
			shipping = fromFloat(*a.ShippingAmount)
		}
		adjPos, adjNeg = fromFloat(a.AdjustmentPositive), fromFloat(a.AdjustmentNegative)
	}
	if shipping > shippingLeft {
		msgs = append(msgs, fmt.Sprintf("Maximum shipping amount allowed to refund is: %s", phpFloat(shippingLeft)))
	}
	grand := subtotal + shipping + adjPos - adjNeg
	switch {
	case grand <= 0:
		msgs = append(msgs, "The credit memo's total must be positive.")
	case totalQty <= 0 && shippingLeft == 0:
		msgs = append(msgs, "You can't create a creditmemo without products.")
	}
	if refunded+grand > paid {
		msgs = append(msgs, fmt.Sprintf("The most money available to refund is %s.", phpFloat(paid-refunded)))
	}
	if len(msgs) > 0 {
		return CreditMemoSpec{}, msgs
	}

	s.nextID++
	memo.EntityID = s.nextID
	memo.GrandTotal = centsText(grand)
	memo.ShippingAmount, memo.AdjustmentPositive, memo.AdjustmentNegative = centsText(shipping), centsText(adjPos), centsText(adjNeg)
	if body.Comment != nil && body.Comment.Comment != "" {
		memo.Comments = []string{body.Comment.Comment}
	}
	for _, mi := range memo.Items {
		j := slices.IndexFunc(o.Items, func(it ItemSpec) bool { return it.ItemID == mi.OrderItemID })
		o.Items[j].QtyRefunded += mi.Qty
	}
	o.TotalRefunded = centsText(refunded + grand)
	o.ShippingRefunded = centsText(cents(o.ShippingRefunded) + shipping)
	if inv >= 0 {
		memo.InvoiceID = o.Invoices[inv].EntityID
		o.Invoices[inv].TotalRefunded = centsText(cents(o.Invoices[inv].TotalRefunded) + grand)
	}
	if refunded+grand >= paid {
		o.State, o.Status = "closed", "closed"
	}
	o.UpdatedAt = memo.CreatedAt
	s.creditMemos = append(s.creditMemos, memo)
	return memo, nil
}
