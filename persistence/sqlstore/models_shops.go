package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/frontdesk-ai/frontdesk/persistence"
)

var shops = table[persistence.Shop]{
	name: "commerce_shops",
	cols: []string{"source", "domain", "status", "last_event_at", "last_event_topic", "events_total",
		"failures_total", "last_failure", "last_failure_at"},
	fields: func(m *persistence.Shop) []any {
		return []any{&m.Source, &m.Domain, &m.Status, &m.LastEventAt, &m.LastEventTopic, &m.EventsTotal,
			&m.FailuresTotal, &m.LastFailure, &m.LastFailureAt}
	},
	check: func(m *persistence.Shop) error {
		orDefault(&m.Status, persistence.ShopConnected)
		return errors.Join(need(m.Source != "", "source", m.Source), need(m.Domain != "", "domain", m.Domain),
			need(m.Status.Valid(), "status", m.Status))
	},
}

// CreateShop stores a new shop. A Source and Domain any tenant already has
// fails with persistence.ErrDuplicate: a shop belongs to one tenant.
func (q q) CreateShop(ctx context.Context, m *persistence.Shop) error {
	return create(ctx, q, shops, m)
}

// GetShopByDomain returns the shop domain of source, whichever tenant has
// it, or persistence.ErrNotFound. It routes a shop's webhook to its tenant.
func (q q) GetShopByDomain(ctx context.Context, source, domain string) (persistence.Shop, error) {
	return first(ctx, q, shops, "source = ? AND domain = ?", source, strings.ToLower(domain))
}

// UpdateShop writes m if m.Version is still the stored version (else
// persistence.ErrVersionConflict) and bumps m's Version and UpdatedAt.
func (q q) UpdateShop(ctx context.Context, m *persistence.Shop) error {
	return update(ctx, q, shops, m)
}

// ListShops returns the tenant's shops, oldest first.
func (q q) ListShops(ctx context.Context, tenantID string) ([]persistence.Shop, error) {
	return all(ctx, q, shops, "WHERE tenant_id = ? ORDER BY created_at, id", tenantID)
}

// RecordShopEvent counts an event the shop sent (its topic, at) and, for
// app/uninstalled, sets its status; other events mark it connected again.
func (q q) RecordShopEvent(ctx context.Context, tenantID, source, domain, topic string, at time.Time, status persistence.ShopStatus) error {
	_, err := q.ex.ExecContext(ctx, q.d.rebind(`UPDATE commerce_shops SET events_total = events_total + 1,
		last_event_at = ?, last_event_topic = ?, status = ?, updated_at = ?
		WHERE tenant_id = ? AND source = ? AND domain = ?`),
		normTime(at), topic, string(status), normTime(time.Now()), tenantID, source, strings.ToLower(domain))
	if err != nil {
		return fmt.Errorf("record shop event: %w", mapErr(err))
	}
	return nil
}

// RecordShopFailure counts a delivery from the shop that was refused or
// could not be applied, with its reason.
func (q q) RecordShopFailure(ctx context.Context, source, domain, reason string, at time.Time) error {
	_, err := q.ex.ExecContext(ctx, q.d.rebind(`UPDATE commerce_shops SET failures_total = failures_total + 1,
		last_failure = ?, last_failure_at = ?, updated_at = ? WHERE source = ? AND domain = ?`),
		reason, normTime(at), normTime(time.Now()), source, strings.ToLower(domain))
	if err != nil {
		return fmt.Errorf("record shop failure: %w", mapErr(err))
	}
	return nil
}

// FindCustomersByContact returns the tenant's customers whose phone equals
// phone or whose email equals email (either may be empty: it matches
// nothing), oldest first, at most 10.
func (q q) FindCustomersByContact(ctx context.Context, tenantID, phone, email string) ([]persistence.Customer, error) {
	if phone == "" && email == "" {
		return nil, nil
	}
	return all(ctx, q, customers, `WHERE tenant_id = ? AND ((phone <> '' AND phone = ?) OR (email <> '' AND LOWER(email) = ?))
		ORDER BY created_at, id LIMIT 10`, tenantID, phone, strings.ToLower(email))
}

var customerMerges = table[persistence.CustomerMerge]{
	name: "customer_merges",
	cols: []string{"kept_customer_id", "merged_customer_id", "reason", "moved", "undone_at", "undone_by"},
	fields: func(m *persistence.CustomerMerge) []any {
		return []any{&m.KeptCustomerID, &m.MergedCustomerID, &m.Reason, &m.Moved, &m.UndoneAt, &m.UndoneBy}
	},
	check: func(m *persistence.CustomerMerge) error {
		return errors.Join(need(m.KeptCustomerID != "" && m.MergedCustomerID != "" && m.KeptCustomerID != m.MergedCustomerID,
			"customers", m.KeptCustomerID+"/"+m.MergedCustomerID))
	},
}

// CreateCustomerMerge stores a new merge record.
func (q q) CreateCustomerMerge(ctx context.Context, m *persistence.CustomerMerge) error {
	return create(ctx, q, customerMerges, m)
}

// GetCustomerMerge returns the tenant's merge id, or persistence.ErrNotFound.
func (q q) GetCustomerMerge(ctx context.Context, tenantID, id string) (persistence.CustomerMerge, error) {
	return get(ctx, q, customerMerges, tenantID, id)
}

// UpdateCustomerMerge writes m if m.Version is still the stored version
// (else persistence.ErrVersionConflict).
func (q q) UpdateCustomerMerge(ctx context.Context, m *persistence.CustomerMerge) error {
	return update(ctx, q, customerMerges, m)
}

// ListCustomerMerges returns the tenant's merges that kept or merged the
// customer, newest first, at most 100.
func (q q) ListCustomerMerges(ctx context.Context, tenantID, customerID string) ([]persistence.CustomerMerge, error) {
	return all(ctx, q, customerMerges, `WHERE tenant_id = ? AND (kept_customer_id = ? OR merged_customer_id = ?)
		ORDER BY created_at DESC, id DESC LIMIT 100`, tenantID, customerID, customerID)
}

// movable are the tables whose rows belong to a customer and move with a
// merge, by the MovedRecords field that lists them.
var movable = []struct {
	table string
	ids   func(*persistence.MovedRecords) *[]string
}{
	{"customer_identities", func(m *persistence.MovedRecords) *[]string { return &m.Identities }},
	{"orders", func(m *persistence.MovedRecords) *[]string { return &m.Orders }},
	{"conversations", func(m *persistence.MovedRecords) *[]string { return &m.Conversations }},
	{"tickets", func(m *persistence.MovedRecords) *[]string { return &m.Tickets }},
}

// MoveCustomerRecords gives every identity, order, conversation and ticket
// of the tenant's customer from to the customer to, bumping each row's
// version (so a writer holding the old row fails its version check and
// reloads), and returns what moved.
func (q q) MoveCustomerRecords(ctx context.Context, tenantID, from, to string) (persistence.MovedRecords, error) {
	var moved persistence.MovedRecords
	for _, m := range movable {
		rows, err := q.ex.QueryContext(ctx, q.d.rebind("SELECT id FROM "+m.table+" WHERE tenant_id = ? AND customer_id = ? ORDER BY id"), tenantID, from)
		if err != nil {
			return moved, fmt.Errorf("move %s: %w", m.table, mapErr(err))
		}
		ids := m.ids(&moved)
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return moved, fmt.Errorf("move %s: %w", m.table, err)
			}
			*ids = append(*ids, id)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return moved, fmt.Errorf("move %s: %w", m.table, err)
		}
		if err := q.reassign(ctx, m.table, tenantID, *ids, to); err != nil {
			return moved, err
		}
	}
	return moved, nil
}

// RestoreCustomerRecords gives the records listed in moved back to the
// tenant's customer to (undoing a merge).
func (q q) RestoreCustomerRecords(ctx context.Context, tenantID string, moved persistence.MovedRecords, to string) error {
	for _, m := range movable {
		if err := q.reassign(ctx, m.table, tenantID, *m.ids(&moved), to); err != nil {
			return err
		}
	}
	return nil
}

func (q q) reassign(ctx context.Context, table, tenantID string, ids []string, to string) error {
	if len(ids) == 0 {
		return nil
	}
	args := []any{to, normTime(time.Now()), tenantID}
	for _, id := range ids {
		args = append(args, id)
	}
	_, err := q.ex.ExecContext(ctx, q.d.rebind("UPDATE "+table+" SET customer_id = ?, version = version + 1, updated_at = ? WHERE tenant_id = ? AND id IN (?"+
		strings.Repeat(", ?", len(ids)-1)+")"), args...)
	if err != nil {
		return fmt.Errorf("move %s: %w", table, mapErr(err))
	}
	return nil
}
