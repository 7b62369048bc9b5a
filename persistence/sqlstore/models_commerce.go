package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/frontdesk-ai/frontdesk/persistence"
)

var orders = table[persistence.Order]{
	name: "orders",
	cols: []string{"customer_id", "source", "shop", "external_id", "number", "email", "phone", "status",
		"financial_status", "fulfillment_status", "total_minor", "refunded_minor", "currency",
		"placed_at", "cancelled_at", "source_updated_at", "items", "tracking", "admin_url"},
	fields: func(m *persistence.Order) []any {
		return []any{&m.CustomerID, &m.Source, &m.Shop, &m.ExternalID, &m.Number, &m.Email, &m.Phone, &m.Status,
			&m.FinancialStatus, &m.FulfillmentStatus, &m.TotalMinor, &m.RefundedMinor, &m.Currency,
			&m.PlacedAt, &m.CancelledAt, &m.SourceUpdatedAt, &m.Items, &m.Tracking, &m.AdminURL}
	},
	check: func(m *persistence.Order) error {
		if len(m.Items) == 0 {
			m.Items = json.RawMessage("[]")
		}
		if len(m.Tracking) == 0 {
			m.Tracking = json.RawMessage("[]")
		}
		return nil
	},
}

// CreateOrder stores a new order. An ExternalID the tenant already has from
// the same Source fails with persistence.ErrDuplicate.
func (q q) CreateOrder(ctx context.Context, m *persistence.Order) error {
	return create(ctx, q, orders, m)
}

// GetOrder returns the tenant's order id, or persistence.ErrNotFound.
func (q q) GetOrder(ctx context.Context, tenantID, id string) (persistence.Order, error) {
	return get(ctx, q, orders, tenantID, id)
}

// GetOrderByExternalID returns the tenant's order externalID from source,
// or persistence.ErrNotFound.
func (q q) GetOrderByExternalID(ctx context.Context, tenantID, source, externalID string) (persistence.Order, error) {
	if externalID == "" {
		return persistence.Order{}, fmt.Errorf("get orders: empty external id: %w", persistence.ErrNotFound)
	}
	return first(ctx, q, orders, "tenant_id = ? AND source = ? AND external_id = ?", tenantID, source, externalID)
}

// GetCustomerOrderByNumber returns the order the tenant's customer knows as
// number (without "#"), the newest if shops share numbers, or
// persistence.ErrNotFound: another customer's order is not found.
func (q q) GetCustomerOrderByNumber(ctx context.Context, tenantID, customerID, number string) (persistence.Order, error) {
	if number == "" {
		return persistence.Order{}, fmt.Errorf("get orders: empty number: %w", persistence.ErrNotFound)
	}
	return first(ctx, q, orders, "tenant_id = ? AND customer_id = ? AND number = ? ORDER BY created_at DESC, id DESC",
		tenantID, customerID, number)
}

// UpdateOrder writes m if m.Version is still the stored version (else
// persistence.ErrVersionConflict) and bumps m's Version and UpdatedAt.
func (q q) UpdateOrder(ctx context.Context, m *persistence.Order) error {
	return update(ctx, q, orders, m)
}

// ListOrders returns one page of the tenant's orders, oldest first, and the
// next cursor ("" on the last page).
func (q q) ListOrders(ctx context.Context, tenantID string, p persistence.Page) ([]persistence.Order, string, error) {
	return list(ctx, q, orders, p, "tenant_id = ?", tenantID)
}

// ListCustomerOrders returns one page of the tenant's customer's orders,
// newest placed first (an imported order's CreatedAt is when it was
// placed), and the next cursor ("" on the last page).
func (q q) ListCustomerOrders(ctx context.Context, tenantID, customerID string, p persistence.Page) ([]persistence.Order, string, error) {
	return listNewest(ctx, q, orders, p, "tenant_id = ? AND customer_id = ?", tenantID, customerID)
}

// ListOrdersByCustomer returns up to limit (bounded like Page.Limit) orders
// of the tenant's customer customerID, most recently placed first; orders
// without PlacedAt come last.
func (q q) ListOrdersByCustomer(ctx context.Context, tenantID, customerID string, limit int) ([]persistence.Order, error) {
	return all(ctx, q, orders, "WHERE tenant_id = ? AND customer_id = ? ORDER BY placed_at DESC NULLS LAST, created_at DESC, id DESC LIMIT ?",
		tenantID, customerID, persistence.Page{Limit: limit}.Size())
}

var paymentIntents = table[persistence.PaymentIntent]{
	name: "payment_intents",
	cols: []string{"customer_id", "conversation_id", "order_id", "amount_cents", "currency", "status",
		"provider", "provider_ref", "idempotency_key"},
	fields: func(m *persistence.PaymentIntent) []any {
		return []any{&m.CustomerID, &m.ConversationID, &m.OrderID, &m.AmountCents, &m.Currency, &m.Status,
			&m.Provider, &m.ProviderRef, &m.IdempotencyKey}
	},
}

// CreatePaymentIntent stores a new payment intent. An IdempotencyKey the
// tenant already used fails with persistence.ErrDuplicate.
func (q q) CreatePaymentIntent(ctx context.Context, m *persistence.PaymentIntent) error {
	return create(ctx, q, paymentIntents, m)
}

// GetPaymentIntent returns the tenant's payment intent id, or
// persistence.ErrNotFound.
func (q q) GetPaymentIntent(ctx context.Context, tenantID, id string) (persistence.PaymentIntent, error) {
	return get(ctx, q, paymentIntents, tenantID, id)
}

// GetPaymentIntentByIdempotencyKey returns the tenant's payment intent
// created with key, or persistence.ErrNotFound.
func (q q) GetPaymentIntentByIdempotencyKey(ctx context.Context, tenantID, key string) (persistence.PaymentIntent, error) {
	return byKey(ctx, q, paymentIntents, tenantID, "idempotency_key", key)
}

// GetPaymentIntentByProviderRef returns the tenant's payment intent whose
// provider's reference is ref, or persistence.ErrNotFound.
func (q q) GetPaymentIntentByProviderRef(ctx context.Context, tenantID, provider, ref string) (persistence.PaymentIntent, error) {
	if ref == "" {
		return persistence.PaymentIntent{}, fmt.Errorf("get payment_intents: empty provider ref: %w", persistence.ErrNotFound)
	}
	return first(ctx, q, paymentIntents, "tenant_id = ? AND provider = ? AND provider_ref = ?", tenantID, provider, ref)
}

// UpdatePaymentIntent writes m if m.Version is still the stored version
// (else persistence.ErrVersionConflict) and bumps m's Version and UpdatedAt.
func (q q) UpdatePaymentIntent(ctx context.Context, m *persistence.PaymentIntent) error {
	return update(ctx, q, paymentIntents, m)
}

// ListPaymentIntents returns one page of the tenant's payment intents,
// oldest first, and the next cursor ("" on the last page).
func (q q) ListPaymentIntents(ctx context.Context, tenantID string, p persistence.Page) ([]persistence.PaymentIntent, string, error) {
	return list(ctx, q, paymentIntents, p, "tenant_id = ?", tenantID)
}

var transactions = table[persistence.Transaction]{
	name: "transactions",
	cols: []string{"payment_intent_id", "kind", "amount_cents", "currency", "status", "provider_ref", "idempotency_key"},
	fields: func(m *persistence.Transaction) []any {
		return []any{&m.PaymentIntentID, &m.Kind, &m.AmountCents, &m.Currency, &m.Status, &m.ProviderRef, &m.IdempotencyKey}
	},
	check: func(m *persistence.Transaction) error { return need(m.Kind.Valid(), "kind", m.Kind) },
}

// CreateTransaction stores a new transaction. An IdempotencyKey the tenant
// already used fails with persistence.ErrDuplicate; an unknown Kind with
// persistence.ErrInvalid.
func (q q) CreateTransaction(ctx context.Context, m *persistence.Transaction) error {
	return create(ctx, q, transactions, m)
}

// GetTransaction returns the tenant's transaction id, or
// persistence.ErrNotFound.
func (q q) GetTransaction(ctx context.Context, tenantID, id string) (persistence.Transaction, error) {
	return get(ctx, q, transactions, tenantID, id)
}

// GetTransactionByIdempotencyKey returns the tenant's transaction created
// with key, or persistence.ErrNotFound.
func (q q) GetTransactionByIdempotencyKey(ctx context.Context, tenantID, key string) (persistence.Transaction, error) {
	return byKey(ctx, q, transactions, tenantID, "idempotency_key", key)
}

// UpdateTransaction writes m if m.Version is still the stored version (else
// persistence.ErrVersionConflict) and bumps m's Version and UpdatedAt.
func (q q) UpdateTransaction(ctx context.Context, m *persistence.Transaction) error {
	return update(ctx, q, transactions, m)
}

// ListTransactions returns one page of the tenant's transactions, oldest
// first, and the next cursor ("" on the last page).
func (q q) ListTransactions(ctx context.Context, tenantID string, p persistence.Page) ([]persistence.Transaction, string, error) {
	return list(ctx, q, transactions, p, "tenant_id = ?", tenantID)
}
