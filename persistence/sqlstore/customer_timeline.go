package sqlstore

import (
	"context"

	"github.com/frontdesk-ai/frontdesk/persistence"
)

// This file holds the per-customer reads behind the dashboard's customer
// view (Customer 360): a customer's conversations, tickets and payment
// intents, newest first. Each list is bounded like Page.Limit and scoped by
// tenant; the indexes they use are in migrations 0001 and 0009.

// recentConversationOrder orders conversations by last activity: the last
// message, or creation for one without messages.
const recentConversationOrder = "ORDER BY COALESCE(last_message_at, created_at) DESC, id DESC"

// ListConversationsByCustomer returns up to limit (bounded like Page.Limit)
// conversations of the tenant's customer customerID, of any status, most
// recently active first (last message, else creation).
func (q q) ListConversationsByCustomer(ctx context.Context, tenantID, customerID string, limit int) ([]persistence.Conversation, error) {
	return all(ctx, q, conversations, "WHERE tenant_id = ? AND customer_id = ? "+recentConversationOrder+" LIMIT ?",
		tenantID, customerID, persistence.Page{Limit: limit}.Size())
}

// GetLatestConversationOfCustomer returns the most recently active
// conversation (any status) of the tenant's customer customerID, on channel
// unless it is empty, or persistence.ErrNotFound when the customer has none
// there.
func (q q) GetLatestConversationOfCustomer(ctx context.Context, tenantID, customerID, channel string) (persistence.Conversation, error) {
	where, args := "tenant_id = ? AND customer_id = ?", []any{tenantID, customerID}
	if channel != "" {
		where, args = where+" AND channel = ?", append(args, channel)
	}
	return first(ctx, q, conversations, where+" "+recentConversationOrder, args...)
}

// GetOpenConversationOfCustomer returns the most recently active
// conversation of the tenant's customer customerID that is not closed, on
// channel unless it is empty, or persistence.ErrNotFound.
func (q q) GetOpenConversationOfCustomer(ctx context.Context, tenantID, customerID, channel string) (persistence.Conversation, error) {
	where, args := "tenant_id = ? AND customer_id = ? AND status <> ?", []any{tenantID, customerID, string(persistence.ConversationClosed)}
	if channel != "" {
		where, args = where+" AND channel = ?", append(args, channel)
	}
	return first(ctx, q, conversations, where+" "+recentConversationOrder, args...)
}

// ListTicketsByCustomer returns up to limit (bounded like Page.Limit)
// tickets of the tenant's customer customerID, of any status, newest first.
func (q q) ListTicketsByCustomer(ctx context.Context, tenantID, customerID string, limit int) ([]persistence.Ticket, error) {
	return all(ctx, q, tickets, "WHERE tenant_id = ? AND customer_id = ? ORDER BY created_at DESC, id DESC LIMIT ?",
		tenantID, customerID, persistence.Page{Limit: limit}.Size())
}

// ListPaymentIntentsByCustomer returns up to limit (bounded like
// Page.Limit) payment intents of the tenant's customer customerID, newest
// first.
func (q q) ListPaymentIntentsByCustomer(ctx context.Context, tenantID, customerID string, limit int) ([]persistence.PaymentIntent, error) {
	return all(ctx, q, paymentIntents, "WHERE tenant_id = ? AND customer_id = ? ORDER BY created_at DESC, id DESC LIMIT ?",
		tenantID, customerID, persistence.Page{Limit: limit}.Size())
}
