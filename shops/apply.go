package shops

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/frontdesk-ai/frontdesk/commerce"
	"github.com/frontdesk-ai/frontdesk/persistence"
)

// Tx is what applying one shop event reads and writes, in one transaction.
type Tx interface {
	RecordShopEvent(ctx context.Context, tenantID, source, domain, topic string, at time.Time, status persistence.ShopStatus) error
	GetCustomer(ctx context.Context, tenantID, id string) (persistence.Customer, error)
	CreateCustomer(ctx context.Context, m *persistence.Customer) error
	UpdateCustomer(ctx context.Context, m *persistence.Customer) error
	GetCustomerIdentity(ctx context.Context, tenantID, channel, externalID string) (persistence.CustomerIdentity, error)
	CreateCustomerIdentity(ctx context.Context, m *persistence.CustomerIdentity) error
	FindCustomersByContact(ctx context.Context, tenantID, phone, email string) ([]persistence.Customer, error)
	GetOrderByExternalID(ctx context.Context, tenantID, source, externalID string) (persistence.Order, error)
	CreateOrder(ctx context.Context, m *persistence.Order) error
	UpdateOrder(ctx context.Context, m *persistence.Order) error
	MoveCustomerRecords(ctx context.Context, tenantID, from, to string) (persistence.MovedRecords, error)
	RestoreCustomerRecords(ctx context.Context, tenantID string, moved persistence.MovedRecords, to string) error
	CreateCustomerMerge(ctx context.Context, m *persistence.CustomerMerge) error
	GetCustomerMerge(ctx context.Context, tenantID, id string) (persistence.CustomerMerge, error)
	UpdateCustomerMerge(ctx context.Context, m *persistence.CustomerMerge) error
	ListCustomerMerges(ctx context.Context, tenantID, customerID string) ([]persistence.CustomerMerge, error)
	CreateAuditEvent(ctx context.Context, m *persistence.AuditEvent) error
}

// Store runs a transaction.
type Store interface {
	InTx(ctx context.Context, fn func(tx Tx) error) error
}

// Notifier tells the runtime what changed for a customer (the customer
// grain reloads that part) and which conversations a merge moved (their
// grains learn their customer).
type Notifier interface {
	CustomerChanged(ctx context.Context, tenantID, customerID, part string) error
	Relink(ctx context.Context, tenantID, conversationID string) error
}

// Audit actions of customer links and merges.
const (
	ActionLinked   = "customer.linked"
	ActionMerged   = "customer.merged"
	ActionUnmerged = "customer.unmerged"
)

// Outcome says what applying one event did.
type Outcome string

// Outcomes of Apply.
const (
	Applied Outcome = "applied"
	// Stale: the store has the same or a newer version from the shop.
	Stale Outcome = "stale"
	// Ignored: a topic frontdesk does not use, or a refund of an order it
	// does not have.
	Ignored Outcome = "ignored"
)

// Applier applies normalized shop events to the store.
type Applier struct {
	store  Store
	notify Notifier
	now    func() time.Time
	// catalogue keeps products (nil: products are ignored).
	catalogue *catalogue
}

// NewApplier returns an applier; notify may be nil.
func NewApplier(store Store, notify Notifier) *Applier {
	return &Applier{store: store, notify: notify, now: time.Now}
}

// SetNotifier sets whom the applier tells (the runtime, which is built
// after it: its refund action needs the applier).
func (a *Applier) SetNotifier(n Notifier) { a.notify = n }

// change is what one application changed, told to the runtime after the
// commit.
type change struct {
	outcome Outcome
	// parts by customer id: "orders", "profile".
	parts map[string][]string
	// moved are conversations a merge gave another customer.
	moved []string
}

func (c *change) touch(customerID string, parts ...string) {
	if c.parts == nil {
		c.parts = map[string][]string{}
	}
	for _, p := range parts {
		if !slices.Contains(c.parts[customerID], p) {
			c.parts[customerID] = append(c.parts[customerID], p)
		}
	}
}

// Meta is what a delivery says beside its body.
type Meta struct {
	Source, Shop, Topic string
	// TriggeredAt is when the shop fired the event; it orders deliveries
	// whose body has no update time.
	TriggeredAt time.Time
}

// Apply applies ev, delivered as meta, to tenantID's data in one
// transaction, and then tells the runtime what changed.
func (a *Applier) Apply(ctx context.Context, tenantID string, meta Meta, ev commerce.Event) (Outcome, error) {
	if ev.Kind == commerce.KindProduct && ev.Product != nil {
		return a.applyProduct(ctx, tenantID, meta, *ev.Product)
	}
	var ch change
	err := a.store.InTx(ctx, func(tx Tx) error {
		ch = change{}
		status := persistence.ShopConnected
		if ev.Kind == commerce.KindUninstalled {
			status = persistence.ShopUninstalled
		}
		if meta.Topic != "" {
			at := meta.TriggeredAt
			if at.IsZero() {
				at = a.now()
			}
			if err := tx.RecordShopEvent(ctx, tenantID, meta.Source, meta.Shop, meta.Topic, at, status); err != nil {
				return err
			}
		}
		var err error
		switch ev.Kind {
		case commerce.KindOrder:
			err = a.applyOrder(ctx, tx, tenantID, meta, ev.Order, &ch)
		case commerce.KindCustomer:
			_, err = a.link(ctx, tx, tenantID, ev.Customer, "", "", &ch)
			ch.outcome = Applied
		case commerce.KindRefund:
			err = a.applyRefund(ctx, tx, tenantID, ev.Refund, &ch)
		case commerce.KindUninstalled:
			ch.outcome = Applied
		default:
			ch.outcome = Ignored
		}
		return err
	})
	if err != nil {
		return "", err
	}
	a.tell(ctx, tenantID, ch)
	return ch.outcome, nil
}

func (a *Applier) tell(ctx context.Context, tenantID string, ch change) {
	if a.notify == nil {
		return
	}
	for id, parts := range ch.parts {
		for _, p := range parts {
			// The grain reloads on its next activation anyway; a failed
			// notice leaves its hot copy stale until then.
			_ = a.notify.CustomerChanged(ctx, tenantID, id, p)
		}
	}
	for _, conv := range ch.moved {
		_ = a.notify.Relink(ctx, tenantID, conv)
	}
}

func (a *Applier) applyOrder(ctx context.Context, tx Tx, tenantID string, meta Meta, o *commerce.Order, ch *change) error {
	if o == nil || o.ExternalID == "" {
		return fmt.Errorf("%w: order without id", errPermanent)
	}
	updated := o.UpdatedAt
	if updated.IsZero() {
		updated = meta.TriggeredAt
	}
	existing, err := tx.GetOrderByExternalID(ctx, tenantID, o.Source, o.ExternalID)
	found := err == nil
	if err != nil && !errors.Is(err, persistence.ErrNotFound) {
		return err
	}
	if found && existing.SourceUpdatedAt != nil && !updated.IsZero() && !updated.After(*existing.SourceUpdatedAt) {
		ch.outcome = Stale
		return nil
	}
	phone, email := o.Phone, o.Email
	if c := o.Customer; c != nil {
		phone, email = cmp.Or(c.Phone, phone), cmp.Or(c.Email, email)
	}
	customerID := existing.CustomerID
	if !found || o.Customer != nil {
		if customerID, err = a.link(ctx, tx, tenantID, o.Customer, phone, email, ch); err != nil {
			return err
		}
	}
	m := existing
	if !found {
		m = persistence.Order{Base: persistence.Base{TenantID: tenantID, CreatedAt: o.CreatedAt}}
	}
	if found && m.CustomerID != customerID {
		ch.touch(m.CustomerID, "orders")
	}
	m.CustomerID, m.Source, m.Shop, m.ExternalID, m.Number = customerID, o.Source, o.Shop, o.ExternalID, o.Number
	m.Email, m.Phone = o.Email, o.Phone
	m.Status = "open"
	if o.CancelledAt != nil {
		m.Status = "cancelled"
	}
	m.FinancialStatus, m.FulfillmentStatus = o.FinancialStatus, o.FulfillmentStatus
	m.TotalMinor, m.Currency = o.TotalMinor, o.Currency
	// The shop's order carries every refund so far.
	m.RefundedMinor = max(o.RefundedMinor, 0)
	if !o.CreatedAt.IsZero() {
		placed := o.CreatedAt.UTC()
		m.PlacedAt = &placed
	}
	m.CancelledAt = o.CancelledAt
	if !updated.IsZero() {
		u := updated.UTC()
		m.SourceUpdatedAt = &u
	}
	items := o.LineItems
	if items == nil {
		items = []commerce.LineItem{}
	}
	tracking := o.Tracking
	if tracking == nil {
		tracking = []commerce.Tracking{}
	}
	if m.Items, err = json.Marshal(items); err != nil {
		return err
	}
	if m.Tracking, err = json.Marshal(tracking); err != nil {
		return err
	}
	m.AdminURL = o.AdminURL
	if found {
		err = tx.UpdateOrder(ctx, &m)
	} else {
		err = tx.CreateOrder(ctx, &m)
	}
	if err != nil {
		return err
	}
	ch.outcome = Applied
	ch.touch(customerID, "orders")
	return nil
}

// refundsKey is the order metadata key listing the refunds applied.
const refundsKey = "refunds"

func (a *Applier) applyRefund(ctx context.Context, tx Tx, tenantID string, r *commerce.Refund, ch *change) error {
	if r == nil || r.OrderExternalID == "" {
		return fmt.Errorf("%w: refund without order", errPermanent)
	}
	o, err := tx.GetOrderByExternalID(ctx, tenantID, r.Source, r.OrderExternalID)
	if errors.Is(err, persistence.ErrNotFound) {
		// The order's own update carries its refunds when it arrives.
		ch.outcome = Ignored
		return nil
	}
	if err != nil {
		return err
	}
	meta := map[string]json.RawMessage{}
	_ = json.Unmarshal(o.Metadata, &meta)
	var seen []string
	_ = json.Unmarshal(meta[refundsKey], &seen)
	if r.ExternalID != "" && slices.Contains(seen, r.ExternalID) {
		ch.outcome = Stale
		return nil
	}
	seen = append(seen, r.ExternalID)
	if meta[refundsKey], err = json.Marshal(seen); err != nil {
		return err
	}
	if o.Metadata, err = json.Marshal(meta); err != nil {
		return err
	}
	o.RefundedMinor += r.AmountMinor
	if err := tx.UpdateOrder(ctx, &o); err != nil {
		return err
	}
	ch.outcome = Applied
	ch.touch(o.CustomerID, "orders")
	return nil
}
