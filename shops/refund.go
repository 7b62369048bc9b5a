package shops

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/frontdesk-ai/frontdesk/commerce"
	"github.com/frontdesk-ai/frontdesk/persistence"
	"github.com/frontdesk-ai/frontdesk/tools"
)

// Refunds executes confirmed refund_order confirmations through the shop
// that has the order: the refund is keyed by the confirmation id, so a
// re-execution (after a crash, or a retry) finds the first refund instead
// of refunding again; what the shop did is applied to the order at once.
type Refunds struct {
	applier *Applier
	// shops by tenant, source and domain.
	shops map[[3]string]commerce.Refunder
}

// NewRefunds returns the executor over each tenant's shops that refund.
func NewRefunds(applier *Applier, byTenant map[string][]commerce.Shop) *Refunds {
	r := &Refunds{applier: applier, shops: map[[3]string]commerce.Refunder{}}
	for tenant, shops := range byTenant {
		for _, s := range shops {
			if ref, ok := s.(commerce.Refunder); ok {
				r.shops[[3]string{tenant, s.Source(), s.Domain()}] = ref
			}
		}
	}
	return r
}

// Execute refunds c's order through its shop (an actors.ActionFunc).
func (r *Refunds) Execute(ctx context.Context, c persistence.Confirmation) (json.RawMessage, error) {
	var a tools.RefundArgs
	if err := json.Unmarshal(c.Arguments, &a); err != nil || a.ExternalID == "" {
		return nil, fmt.Errorf("refund %s: arguments without an order: %v", c.ID, err)
	}
	shop, ok := r.shops[[3]string{c.TenantID, a.Source, a.Shop}]
	if !ok {
		return nil, fmt.Errorf("refund %s: no API configured for %s %s", c.ID, a.Source, a.Shop)
	}
	res, err := shop.Refund(ctx, commerce.RefundRequest{OrderExternalID: a.ExternalID, AmountMinor: a.AmountMinor, Currency: a.Currency,
		Reason: a.Reason, Key: c.ID})
	if err != nil {
		return nil, fmt.Errorf("refund order #%s: %w", a.OrderNumber, err)
	}
	ev := commerce.Event{Kind: commerce.KindRefund, Refund: &commerce.Refund{Source: a.Source, Shop: a.Shop, ExternalID: res.ExternalID,
		OrderExternalID: a.ExternalID, AmountMinor: res.AmountMinor, Currency: res.Currency}}
	// The shop refunded: that is the outcome, even if recording it here
	// fails (the shop's own order update brings the amount too).
	_, _ = r.applier.Apply(ctx, c.TenantID, Meta{Source: a.Source, Shop: a.Shop}, ev)
	return refundResult(res)
}

func refundResult(res commerce.RefundResult) (json.RawMessage, error) {
	return json.Marshal(map[string]any{"refund_id": res.ExternalID, "amount_minor": res.AmountMinor, "currency": res.Currency,
		"replayed": res.Replayed})
}
