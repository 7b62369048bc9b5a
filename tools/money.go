package tools

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/frontdesk-ai/frontdesk/commerce"
	"github.com/frontdesk-ai/frontdesk/persistence"
)

// Money never moves on the model's word. A financial tool call does not
// execute: it proposes the action to the customer's grain, which holds it
// pending, and the runtime (not the model) asks the customer with Yes / No
// buttons naming the action, the order and the amount. Only that
// customer's own Yes, in this conversation, before expiry, executes it,
// once.

// Names of the financial tools; each is also the action name of its
// confirmations.
const (
	RefundOrder         = "refund_order"
	CreatePaymentIntent = "create_payment_intent"
)

// Proposal is an action the customer must confirm.
type Proposal struct {
	TenantID, CustomerID, ConversationID string
	Action                               string
	Arguments                            json.RawMessage
	AmountMinor                          int64
	Currency                             string
	// IdempotencyKey makes a repeated proposal return the first.
	IdempotencyKey string
	// ApprovalReason, when set, is why the customer's yes must be approved
	// by a supervisor before the action runs.
	ApprovalReason string
}

// Ask is a pending confirmation the runtime puts to the customer.
type Ask struct {
	ConfirmationID string
	Action         string
	// Subject names what the action is about: "#1001" for an order.
	Subject     string
	AmountMinor int64
	Currency    string
	ExpiresAt   time.Time
}

// Proposer holds a proposal pending in the customer's grain.
type Proposer interface {
	Propose(ctx context.Context, p Proposal) (Ask, error)
}

// SetProposer enables the financial tools whose actions are given (those
// the runtime can execute: a shop API refunds, a payment provider takes
// payments); the others answer that they are not available.
func (r *Registry) SetProposer(p Proposer, actions ...string) {
	r.proposer, r.actions = p, map[string]bool{}
	for _, a := range actions {
		r.actions[a] = true
	}
}

// refundableStatuses are the payment statuses an order may be refunded in.
var refundableStatuses = []string{"paid", "partially_refunded"}

func moneyTools() []*tool {
	return []*tool{{
		def: Definition{
			Name: RefundOrder,
			Description: "Propose refunding an order of the customer in this conversation. Nothing is refunded by this call: the customer is asked to confirm with buttons, " +
				"and only their confirmation refunds. Tell them to use the buttons; never say the refund is done.",
			Parameters: json.RawMessage(`{"type":"object","properties":{
				"order_number":{"type":"string","minLength":1,"maxLength":40,"pattern":"^\\s*#?\\s*[A-Za-z0-9-]+\\s*$","description":"The order number, with or without #."},
				"amount_minor":{"type":"integer","minimum":1,"description":"Amount in minor units of the order's currency (cents). Default: all that is still refundable."},
				"reason":{"type":"string","maxLength":500,"description":"Why the customer is refunded."}
			},"required":["order_number"],"additionalProperties":false}`),
		},
		outside: proposeRefund,
	}, {
		def: Definition{
			Name: CreatePaymentIntent,
			Description: "Propose asking the customer in this conversation to pay an amount (an order's balance, a fee) through a secure payment link. " +
				"Nothing is charged by this call: the customer is asked to confirm with buttons, and only then receives the link.",
			Parameters: json.RawMessage(`{"type":"object","properties":{
				"amount_minor":{"type":"integer","minimum":1,"description":"Amount in minor units of currency (cents)."},
				"currency":{"type":"string","pattern":"^[A-Za-z]{3}$","description":"ISO 4217 currency code, e.g. EUR."},
				"description":{"type":"string","minLength":1,"maxLength":200,"description":"What the payment is for, shown to the customer."}
			},"required":["amount_minor","currency"],"additionalProperties":false}`),
		},
		outside: proposePayment,
	}}
}

// PaymentArgs are what a create_payment_intent confirmation carries: what
// its execution (payments) needs.
type PaymentArgs struct {
	AmountMinor int64  `json:"amount_minor"`
	Currency    string `json:"currency"`
	Description string `json:"description,omitempty"`
}

func proposePayment(ctx context.Context, r *Registry, s Scope, args map[string]any, key string) (any, *Ask, error) {
	if r.proposer == nil || !r.actions[CreatePaymentIntent] {
		return map[string]any{"proposed": false, "note": "Payments are not enabled for this brand: offer a human instead."}, nil, nil
	}
	amount, err := args["amount_minor"].(json.Number).Int64()
	if err != nil {
		return nil, nil, fmt.Errorf("amount_minor: %w", err)
	}
	currency := strings.ToUpper(str(args, "currency"))
	refuse := func(why string) (any, *Ask, error) { return map[string]any{"proposed": false, "note": why}, nil, nil }
	if _, err := commerce.MinorUnits(currency); err != nil {
		return refuse(fmt.Sprintf("%s is not a currency payments can be taken in.", currency))
	}
	var policy Policy
	err = r.store.InTx(ctx, func(tx Tx) error {
		if s.ActorKind != persistence.ActorAI || s.ActorID == "" {
			return nil
		}
		ap, err := tx.GetAgentProfile(ctx, s.TenantID, s.ActorID)
		if errors.Is(err, persistence.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		policy, err = ParsePolicy(ap.Policy)
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	if len(policy.Currencies) > 0 && !slices.Contains(policy.Currencies, currency) {
		return refuse(fmt.Sprintf("Payments in %s are not allowed by this agent's policy.", currency))
	}
	raw, err := json.Marshal(PaymentArgs{AmountMinor: amount, Currency: currency, Description: str(args, "description")})
	if err != nil {
		return nil, nil, err
	}
	approval := policy.approvalReason(amount, currency, 0)
	ask, err := r.proposer.Propose(ctx, Proposal{TenantID: s.TenantID, CustomerID: s.CustomerID, ConversationID: s.ConversationID,
		Action: CreatePaymentIntent, Arguments: raw, AmountMinor: amount, Currency: currency, IdempotencyKey: key, ApprovalReason: approval})
	if err != nil {
		return nil, nil, fmt.Errorf("propose: %w", err)
	}
	ask.Subject = str(args, "description")
	out := map[string]any{"proposed": true, "status": "awaiting_customer_confirmation", "confirmation_id": ask.ConfirmationID,
		"amount": commerce.FormatMinor(amount, currency), "expires_at": ask.ExpiresAt.Format(time.RFC3339),
		"note": "The customer has been asked with Yes / No buttons; on Yes they receive a secure link to pay. Nothing is charged yet."}
	if approval != "" {
		out["needs_approval"] = approval
	}
	return out, &ask, nil
}

// RefundArgs are what a refund_order confirmation carries: what its
// execution (shops) needs.
type RefundArgs struct {
	OrderID     string `json:"order_id"`
	OrderNumber string `json:"order_number"`
	Source      string `json:"source"`
	Shop        string `json:"shop"`
	ExternalID  string `json:"external_id"`
	AmountMinor int64  `json:"amount_minor"`
	Currency    string `json:"currency"`
	Reason      string `json:"reason,omitempty"`
}

func proposeRefund(ctx context.Context, r *Registry, s Scope, args map[string]any, key string) (any, *Ask, error) {
	if r.proposer == nil || !r.actions[RefundOrder] {
		return map[string]any{"proposed": false, "note": "Refunds are not enabled for this shop: offer a human instead."}, nil, nil
	}
	number := orderNumber(args)
	var o persistence.Order
	var policy Policy
	refundsToday := 0
	err := r.store.InTx(ctx, func(tx Tx) error {
		var err error
		if o, err = tx.GetCustomerOrderByNumber(ctx, s.TenantID, s.CustomerID, number); err != nil {
			return err
		}
		if s.ActorKind == persistence.ActorAI && s.ActorID != "" {
			ap, err := tx.GetAgentProfile(ctx, s.TenantID, s.ActorID)
			switch {
			case err == nil:
				if policy, err = ParsePolicy(ap.Policy); err != nil {
					return err
				}
			case !errors.Is(err, persistence.ErrNotFound):
				return err
			}
		}
		past, err := tx.ListConfirmationsByCustomer(ctx, s.TenantID, s.CustomerID)
		if err != nil {
			return err
		}
		since := r.now().Add(-24 * time.Hour)
		for _, c := range past {
			if c.Action == RefundOrder && c.CreatedAt.After(since) && c.State != persistence.ConfirmationDeclined && c.State != persistence.ConfirmationExpired {
				refundsToday++
			}
		}
		return nil
	})
	if errors.Is(err, persistence.ErrNotFound) {
		return map[string]any{"proposed": false, "order_number": "#" + number,
			"note": "No order with this number belongs to this customer; nothing was proposed."}, nil, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("load order: %w", err)
	}
	refundable := o.TotalMinor - o.RefundedMinor
	amount := refundable
	if n, ok := args["amount_minor"].(json.Number); ok {
		if amount, err = n.Int64(); err != nil {
			return nil, nil, fmt.Errorf("amount_minor: %w", err)
		}
	}
	refuse := func(why string) (any, *Ask, error) {
		return map[string]any{"proposed": false, "order_number": "#" + o.Number, "note": why}, nil, nil
	}
	if why := policy.refusal(o.Currency, o.FinancialStatus, o.PlacedAt, r.now()); o.Status != "cancelled" && why != "" {
		return refuse(fmt.Sprintf("Order #%s cannot be refunded: %s. Offer a human.", o.Number, why))
	}
	switch {
	case o.Status == "cancelled":
		return refuse(fmt.Sprintf("Order #%s is cancelled: it cannot be refunded here; offer a human.", o.Number))
	case refundable <= 0:
		return refuse(fmt.Sprintf("Order #%s has nothing left to refund.", o.Number))
	case amount <= 0 || amount > refundable:
		return refuse(fmt.Sprintf("At most %s can be refunded on order #%s.", commerce.FormatMinor(refundable, o.Currency), o.Number))
	}
	raw, err := json.Marshal(RefundArgs{OrderID: o.ID, OrderNumber: o.Number, Source: o.Source, Shop: o.Shop, ExternalID: o.ExternalID,
		AmountMinor: amount, Currency: o.Currency, Reason: str(args, "reason")})
	if err != nil {
		return nil, nil, err
	}
	approval := policy.approvalReason(amount, o.Currency, refundsToday)
	// One pending refund per order and turn, however often the model calls.
	ask, err := r.proposer.Propose(ctx, Proposal{TenantID: s.TenantID, CustomerID: s.CustomerID, ConversationID: s.ConversationID,
		Action: RefundOrder, Arguments: raw, AmountMinor: amount, Currency: o.Currency,
		IdempotencyKey: "refund:" + s.ConversationID + ":" + s.TurnID + ":" + o.ID, ApprovalReason: approval})
	if err != nil {
		return nil, nil, fmt.Errorf("propose: %w", err)
	}
	ask.Subject = "#" + o.Number
	out := map[string]any{"proposed": true, "status": "awaiting_customer_confirmation", "confirmation_id": ask.ConfirmationID,
		"order_number": "#" + o.Number, "amount": commerce.FormatMinor(amount, o.Currency), "expires_at": ask.ExpiresAt.Format(time.RFC3339),
		"note": "The customer has been sent a question with Yes / No buttons. Nothing is refunded until they tap Yes; do not say it is done."}
	if approval != "" {
		out["needs_approval"] = approval
		out["note"] = out["note"].(string) + " After their Yes a supervisor must approve it (" + approval + ")."
	}
	return out, &ask, nil
}
