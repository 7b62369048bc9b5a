package sqlstore

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/frontdesk-ai/frontdesk/persistence"
)

var tickets = table[persistence.Ticket]{
	name: "tickets",
	cols: []string{"customer_id", "conversation_id", "subject", "description", "priority", "status", "idempotency_key"},
	fields: func(m *persistence.Ticket) []any {
		return []any{&m.CustomerID, &m.ConversationID, &m.Subject, &m.Description, &m.Priority, &m.Status, &m.IdempotencyKey}
	},
	check: func(m *persistence.Ticket) error {
		orDefault(&m.Priority, persistence.PriorityNormal)
		orDefault(&m.Status, persistence.TicketOpen)
		return errors.Join(need(m.Priority.Valid(), "priority", m.Priority), need(m.Status.Valid(), "status", m.Status))
	},
}

// CreateTicket stores a new ticket; an empty Priority becomes normal and an
// empty Status open. An IdempotencyKey the tenant already used fails with
// persistence.ErrDuplicate.
func (q q) CreateTicket(ctx context.Context, m *persistence.Ticket) error {
	return create(ctx, q, tickets, m)
}

// GetTicket returns the tenant's ticket id, or persistence.ErrNotFound.
func (q q) GetTicket(ctx context.Context, tenantID, id string) (persistence.Ticket, error) {
	return get(ctx, q, tickets, tenantID, id)
}

// GetTicketByIdempotencyKey returns the tenant's ticket created with key, or
// persistence.ErrNotFound.
func (q q) GetTicketByIdempotencyKey(ctx context.Context, tenantID, key string) (persistence.Ticket, error) {
	return byKey(ctx, q, tickets, tenantID, "idempotency_key", key)
}

// UpdateTicket writes m if m.Version is still the stored version (else
// persistence.ErrVersionConflict) and bumps m's Version and UpdatedAt.
func (q q) UpdateTicket(ctx context.Context, m *persistence.Ticket) error {
	return update(ctx, q, tickets, m)
}

// ListTickets returns one page of the tenant's tickets, oldest first, and
// the next cursor ("" on the last page).
func (q q) ListTickets(ctx context.Context, tenantID string, p persistence.Page) ([]persistence.Ticket, string, error) {
	return list(ctx, q, tickets, p, "tenant_id = ?", tenantID)
}

// ListOpenTickets returns up to limit (bounded like Page.Limit) open or
// pending tickets of the tenant's customer customerID, oldest first.
func (q q) ListOpenTickets(ctx context.Context, tenantID, customerID string, limit int) ([]persistence.Ticket, error) {
	return all(ctx, q, tickets, "WHERE tenant_id = ? AND customer_id = ? AND status IN (?, ?) ORDER BY created_at, id LIMIT ?",
		tenantID, customerID, string(persistence.TicketOpen), string(persistence.TicketPending), persistence.Page{Limit: limit}.Size())
}

var followUpTasks = table[persistence.FollowUpTask]{
	name: "follow_up_tasks",
	cols: []string{"customer_id", "conversation_id", "due_at", "note", "status", "idempotency_key"},
	fields: func(m *persistence.FollowUpTask) []any {
		return []any{&m.CustomerID, &m.ConversationID, &m.DueAt, &m.Note, &m.Status, &m.IdempotencyKey}
	},
	check: func(m *persistence.FollowUpTask) error {
		orDefault(&m.Status, persistence.FollowUpScheduled)
		return errors.Join(need(!m.DueAt.IsZero(), "due at", m.DueAt), need(m.Status.Valid(), "status", m.Status))
	},
}

// CreateFollowUpTask stores a new follow-up task; an empty Status becomes
// scheduled. An IdempotencyKey the tenant already used fails with
// persistence.ErrDuplicate.
func (q q) CreateFollowUpTask(ctx context.Context, m *persistence.FollowUpTask) error {
	return create(ctx, q, followUpTasks, m)
}

// GetFollowUpTask returns the tenant's follow-up task id, or
// persistence.ErrNotFound.
func (q q) GetFollowUpTask(ctx context.Context, tenantID, id string) (persistence.FollowUpTask, error) {
	return get(ctx, q, followUpTasks, tenantID, id)
}

// GetFollowUpTaskByIdempotencyKey returns the tenant's follow-up task
// created with key, or persistence.ErrNotFound.
func (q q) GetFollowUpTaskByIdempotencyKey(ctx context.Context, tenantID, key string) (persistence.FollowUpTask, error) {
	return byKey(ctx, q, followUpTasks, tenantID, "idempotency_key", key)
}

// UpdateFollowUpTask writes m if m.Version is still the stored version (else
// persistence.ErrVersionConflict) and bumps m's Version and UpdatedAt.
func (q q) UpdateFollowUpTask(ctx context.Context, m *persistence.FollowUpTask) error {
	return update(ctx, q, followUpTasks, m)
}

// ListFollowUpTasks returns one page of the tenant's follow-up tasks, oldest
// first, and the next cursor ("" on the last page).
func (q q) ListFollowUpTasks(ctx context.Context, tenantID string, p persistence.Page) ([]persistence.FollowUpTask, string, error) {
	return list(ctx, q, followUpTasks, p, "tenant_id = ?", tenantID)
}

// ListDueFollowUpTasks returns up to limit (bounded like Page.Limit)
// scheduled follow-up tasks of every tenant that are due at now, earliest
// first.
func (q q) ListDueFollowUpTasks(ctx context.Context, now time.Time, limit int) ([]persistence.FollowUpTask, error) {
	return all(ctx, q, followUpTasks, "WHERE status = ? AND due_at <= ? ORDER BY due_at, id LIMIT ?",
		string(persistence.FollowUpScheduled), normTime(now), persistence.Page{Limit: limit}.Size())
}

var auditEvents = table[persistence.AuditEvent]{
	name: "audit_events",
	cols: []string{"actor_kind", "actor_id", "action", "target_kind", "target_id", "data"},
	fields: func(m *persistence.AuditEvent) []any {
		return []any{&m.ActorKind, &m.ActorID, &m.Action, &m.TargetKind, &m.TargetID, &m.Data}
	},
}

// CreateAuditEvent appends an audit event. Audit events have no update; the
// database refuses one.
func (q q) CreateAuditEvent(ctx context.Context, m *persistence.AuditEvent) error {
	return create(ctx, q, auditEvents, m)
}

// GetAuditEvent returns the tenant's audit event id, or
// persistence.ErrNotFound.
func (q q) GetAuditEvent(ctx context.Context, tenantID, id string) (persistence.AuditEvent, error) {
	return get(ctx, q, auditEvents, tenantID, id)
}

// ListAuditEvents returns one page of the tenant's audit events, oldest
// first, and the next cursor ("" on the last page).
func (q q) ListAuditEvents(ctx context.Context, tenantID string, p persistence.Page) ([]persistence.AuditEvent, string, error) {
	return list(ctx, q, auditEvents, p, "tenant_id = ?", tenantID)
}

// ListAuditEventsForTargets returns the tenant's audit events about the
// records targetKind/each of targetIDs, oldest first, at most 100 per
// record: the steps of a list of records in one query.
func (q q) ListAuditEventsForTargets(ctx context.Context, tenantID, targetKind string, targetIDs []string) ([]persistence.AuditEvent, error) {
	if len(targetIDs) == 0 {
		return nil, nil
	}
	args := []any{tenantID, targetKind}
	for _, id := range targetIDs {
		args = append(args, id)
	}
	return all(ctx, q, auditEvents, "WHERE tenant_id = ? AND target_kind = ? AND target_id IN (?"+strings.Repeat(", ?", len(targetIDs)-1)+
		") ORDER BY created_at, id LIMIT ?", append(args, 100*len(targetIDs))...)
}

// ListAuditEventsForTarget returns one page of the tenant's audit events
// about the record targetKind/targetID, oldest first, and the next cursor
// ("" on the last page).
func (q q) ListAuditEventsForTarget(ctx context.Context, tenantID, targetKind, targetID string, p persistence.Page) ([]persistence.AuditEvent, string, error) {
	return list(ctx, q, auditEvents, p, "tenant_id = ? AND target_kind = ? AND target_id = ?", tenantID, targetKind, targetID)
}
