package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/frontdesk-ai/frontdesk/persistence"
)

// maxCustomerConfirmations bounds ListConfirmationsByCustomer: a customer
// never has more confirmations that still matter to the grain.
const maxCustomerConfirmations = 200

var confirmations = table[persistence.Confirmation]{
	name: "confirmations",
	cols: []string{"customer_id", "conversation_id", "action", "arguments", "amount_minor", "currency", "state",
		"expires_at", "resolved_at", "idempotency_key"},
	fields: func(m *persistence.Confirmation) []any {
		return []any{&m.CustomerID, &m.ConversationID, &m.Action, &m.Arguments, &m.AmountMinor, &m.Currency, &m.State,
			&m.ExpiresAt, &m.ResolvedAt, &m.IdempotencyKey}
	},
	check: func(m *persistence.Confirmation) error {
		orDefault(&m.State, persistence.ConfirmationPending)
		return errors.Join(
			need(m.CustomerID != "", "customer id", m.CustomerID),
			need(m.Action != "", "action", m.Action),
			need(m.State.Valid(), "state", m.State),
			need(!m.ExpiresAt.IsZero(), "expires at", m.ExpiresAt),
			need(m.AmountMinor >= 0, "amount", m.AmountMinor),
			need((m.Currency == "" && m.AmountMinor == 0) || isCurrencyCode(m.Currency), "currency", m.Currency),
		)
	},
}

// isCurrencyCode reports whether c has the form of an ISO 4217 code: three
// upper-case ASCII letters.
func isCurrencyCode(c string) bool {
	return len(c) == 3 && strings.Trim(c, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") == ""
}

// CreateConfirmation stores a new confirmation; an empty State becomes
// pending. A record that breaks the rules of persistence.Confirmation fails
// with persistence.ErrInvalid, and an IdempotencyKey the tenant already used
// with persistence.ErrDuplicate.
func (q q) CreateConfirmation(ctx context.Context, m *persistence.Confirmation) error {
	return create(ctx, q, confirmations, m)
}

// UpdateConfirmation writes m if m.Version is still the stored version (else
// persistence.ErrVersionConflict) and bumps m's Version and UpdatedAt.
func (q q) UpdateConfirmation(ctx context.Context, m *persistence.Confirmation) error {
	return update(ctx, q, confirmations, m)
}

// GetConfirmation returns the tenant's confirmation id, or
// persistence.ErrNotFound.
func (q q) GetConfirmation(ctx context.Context, tenantID, id string) (persistence.Confirmation, error) {
	return get(ctx, q, confirmations, tenantID, id)
}

// GetConfirmationByIdempotencyKey returns the tenant's confirmation created
// with key, or persistence.ErrNotFound (always for an empty key).
func (q q) GetConfirmationByIdempotencyKey(ctx context.Context, tenantID, key string) (persistence.Confirmation, error) {
	return byKey(ctx, q, confirmations, tenantID, "idempotency_key", key)
}

// ListConfirmationsByCustomer returns the tenant's confirmations of
// customerID in one of states (any state when none is given), oldest first:
// the newest 200 of them when there are more. An unknown state fails with
// persistence.ErrInvalid.
func (q q) ListConfirmationsByCustomer(ctx context.Context, tenantID, customerID string, states ...persistence.ConfirmationState) ([]persistence.Confirmation, error) {
	where := "WHERE tenant_id = ? AND customer_id = ?"
	args := []any{tenantID, customerID}
	if len(states) > 0 {
		where += " AND state IN (?" + strings.Repeat(", ?", len(states)-1) + ")"
		for _, st := range states {
			if !st.Valid() {
				return nil, fmt.Errorf("list confirmations: %w", need(false, "state", st))
			}
			args = append(args, string(st))
		}
	}
	out, err := all(ctx, q, confirmations, where+" ORDER BY created_at DESC, id DESC LIMIT ?", append(args, maxCustomerConfirmations)...)
	slices.Reverse(out)
	return out, err
}

// ListConfirmationsByConversation returns the confirmations asked in the
// tenant's conversation, newest first, at most 100.
func (q q) ListConfirmationsByConversation(ctx context.Context, tenantID, conversationID string) ([]persistence.Confirmation, error) {
	return all(ctx, q, confirmations, "WHERE tenant_id = ? AND conversation_id = ? ORDER BY created_at DESC, id DESC LIMIT 100", tenantID, conversationID)
}

// ListConfirmationsByState returns one page of the tenant's confirmations in
// state, oldest first (the approval queue).
func (q q) ListConfirmationsByState(ctx context.Context, tenantID string, state persistence.ConfirmationState, p persistence.Page) ([]persistence.Confirmation, string, error) {
	if !state.Valid() {
		return nil, "", fmt.Errorf("list confirmations: %w", need(false, "state", state))
	}
	return list(ctx, q, confirmations, p, "tenant_id = ? AND state = ?", tenantID, string(state))
}

// reminderColumns are the columns of grain_reminders that a Reminder holds,
// in the order scanReminder reads them.
const reminderColumns = "tenant_id, kind, identity, name, due_at, payload"

// SaveReminder stores r, or moves the reminder of the same (Kind, Identity,
// Name) to r's DueAt, Payload and TenantID. Empty ids or names, a zero DueAt
// and a malformed Payload fail with persistence.ErrInvalid.
func (q q) SaveReminder(ctx context.Context, r persistence.Reminder) error {
	err := errors.Join(
		need(r.TenantID != "", "tenant id", r.TenantID),
		need(r.Kind != "", "kind", r.Kind),
		need(r.Identity != "", "identity", r.Identity),
		need(r.Name != "", "name", r.Name),
		need(!r.DueAt.IsZero(), "due at", r.DueAt),
	)
	var payload any
	if err == nil {
		payload, err = arg(&r.Payload)
	}
	if err != nil {
		return fmt.Errorf("save reminder %s/%s %s: %w", r.Kind, r.Identity, r.Name, err)
	}
	now := normTime(time.Now())
	_, err = q.ex.ExecContext(ctx, q.d.rebind(`INSERT INTO grain_reminders
		(`+reminderColumns+`, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (kind, identity, name) DO UPDATE SET tenant_id = excluded.tenant_id,
		due_at = excluded.due_at, payload = excluded.payload, updated_at = excluded.updated_at`),
		r.TenantID, r.Kind, r.Identity, r.Name, normTime(r.DueAt), payload, now, now)
	if err != nil {
		return fmt.Errorf("save reminder %s/%s %s: %w", r.Kind, r.Identity, r.Name, mapErr(err))
	}
	return nil
}

// DeleteReminder removes the reminder kind/identity name; deleting one that
// does not exist (any more) is not an error.
func (q q) DeleteReminder(ctx context.Context, kind, identity, name string) error {
	_, err := q.ex.ExecContext(ctx, q.d.rebind("DELETE FROM grain_reminders WHERE kind = ? AND identity = ? AND name = ?"), kind, identity, name)
	if err != nil {
		return fmt.Errorf("delete reminder %s/%s %s: %w", kind, identity, name, mapErr(err))
	}
	return nil
}

// ListDueReminders returns up to limit (bounded like Page.Limit) reminders of
// every tenant and grain that are due at now (DueAt <= now), soonest first.
func (q q) ListDueReminders(ctx context.Context, now time.Time, limit int) ([]persistence.Reminder, error) {
	return q.reminders(ctx, "WHERE due_at <= ? ORDER BY due_at, kind, identity, name LIMIT ?",
		normTime(now), persistence.Page{Limit: limit}.Size())
}

// ListRemindersOf returns the reminders of grain kind/identity, soonest
// first.
func (q q) ListRemindersOf(ctx context.Context, kind, identity string) ([]persistence.Reminder, error) {
	return q.reminders(ctx, "WHERE kind = ? AND identity = ? ORDER BY due_at, name", kind, identity)
}

// reminders returns the reminders that the query's rest selects.
func (q q) reminders(ctx context.Context, rest string, args ...any) ([]persistence.Reminder, error) {
	rows, err := q.ex.QueryContext(ctx, q.d.rebind("SELECT "+reminderColumns+" FROM grain_reminders "+rest), args...)
	if err != nil {
		return nil, fmt.Errorf("list reminders: %w", mapErr(err))
	}
	defer rows.Close()
	var out []persistence.Reminder
	for rows.Next() {
		var r persistence.Reminder
		if err := rows.Scan(&r.TenantID, &r.Kind, &r.Identity, &r.Name, field{&r.DueAt}, field{&r.Payload}); err != nil {
			return nil, fmt.Errorf("list reminders: %w", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list reminders: %w", err)
	}
	return out, nil
}
