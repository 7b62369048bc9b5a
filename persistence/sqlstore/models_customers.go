package sqlstore

import (
	"context"
	"errors"
	"strings"

	"github.com/frontdesk-ai/frontdesk/persistence"
)

var customers = table[persistence.Customer]{
	name: "customers",
	cols: []string{"name", "email", "phone", "language", "last_seen_at"},
	fields: func(m *persistence.Customer) []any {
		return []any{&m.Name, &m.Email, &m.Phone, &m.Language, &m.LastSeenAt}
	},
}

// CreateCustomer stores a new customer.
func (q q) CreateCustomer(ctx context.Context, m *persistence.Customer) error {
	return create(ctx, q, customers, m)
}

// GetCustomer returns the tenant's customer id, or persistence.ErrNotFound.
func (q q) GetCustomer(ctx context.Context, tenantID, id string) (persistence.Customer, error) {
	return get(ctx, q, customers, tenantID, id)
}

// UpdateCustomer writes m if m.Version is still the stored version (else
// persistence.ErrVersionConflict) and bumps m's Version and UpdatedAt.
func (q q) UpdateCustomer(ctx context.Context, m *persistence.Customer) error {
	return update(ctx, q, customers, m)
}

// ListCustomers returns one page of the tenant's customers, oldest first,
// and the next cursor ("" on the last page).
func (q q) ListCustomers(ctx context.Context, tenantID string, p persistence.Page) ([]persistence.Customer, string, error) {
	return list(ctx, q, customers, p, "tenant_id = ?", tenantID)
}

// SearchCustomers returns up to limit of the tenant's customers, oldest
// first, whose name, email, phone, or identity external id or display name
// contains query, ignoring case (ASCII case only on SQLite).
func (q q) SearchCustomers(ctx context.Context, tenantID, query string, limit int) ([]persistence.Customer, error) {
	like := "%" + strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(strings.ToLower(query)) + "%"
	return all(ctx, q, customers, `WHERE tenant_id = ? AND (
		LOWER(name) LIKE ? ESCAPE '\' OR LOWER(email) LIKE ? ESCAPE '\' OR LOWER(phone) LIKE ? ESCAPE '\'
		OR EXISTS (SELECT 1 FROM customer_identities i
			WHERE i.tenant_id = customers.tenant_id AND i.customer_id = customers.id
			AND (LOWER(i.external_id) LIKE ? ESCAPE '\' OR LOWER(i.display_name) LIKE ? ESCAPE '\')))
		ORDER BY created_at, id LIMIT ?`,
		tenantID, like, like, like, like, like, persistence.Page{Limit: limit}.Size())
}

var customerIdentities = table[persistence.CustomerIdentity]{
	name: "customer_identities",
	cols: []string{"customer_id", "channel", "external_id", "display_name"},
	fields: func(m *persistence.CustomerIdentity) []any {
		return []any{&m.CustomerID, &m.Channel, &m.ExternalID, &m.DisplayName}
	},
	check: func(m *persistence.CustomerIdentity) error {
		return errors.Join(need(m.Channel != "", "channel", m.Channel), need(m.ExternalID != "", "external id", m.ExternalID))
	},
}

// CreateCustomerIdentity stores a new identity of a customer. An identity
// the tenant already has on the channel fails with persistence.ErrDuplicate.
func (q q) CreateCustomerIdentity(ctx context.Context, m *persistence.CustomerIdentity) error {
	return create(ctx, q, customerIdentities, m)
}

// GetCustomerIdentity returns the tenant's identity externalID on channel,
// or persistence.ErrNotFound.
func (q q) GetCustomerIdentity(ctx context.Context, tenantID, channel, externalID string) (persistence.CustomerIdentity, error) {
	return first(ctx, q, customerIdentities, "tenant_id = ? AND channel = ? AND external_id = ?", tenantID, channel, externalID)
}

// GetCustomerIdentityByID returns the tenant's identity id, or
// persistence.ErrNotFound.
func (q q) GetCustomerIdentityByID(ctx context.Context, tenantID, id string) (persistence.CustomerIdentity, error) {
	return get(ctx, q, customerIdentities, tenantID, id)
}

// UpdateCustomerIdentity writes m if m.Version is still the stored version
// (else persistence.ErrVersionConflict) and bumps m's Version and UpdatedAt.
func (q q) UpdateCustomerIdentity(ctx context.Context, m *persistence.CustomerIdentity) error {
	return update(ctx, q, customerIdentities, m)
}

// ListCustomerIdentities returns one page of the tenant's identities, oldest
// first, and the next cursor ("" on the last page).
func (q q) ListCustomerIdentities(ctx context.Context, tenantID string, p persistence.Page) ([]persistence.CustomerIdentity, string, error) {
	return list(ctx, q, customerIdentities, p, "tenant_id = ?", tenantID)
}

var memorySummaries = table[persistence.UserMemorySummary]{
	name: "user_memory_summaries",
	cols: []string{"customer_id", "summary", "messages_covered"},
	fields: func(m *persistence.UserMemorySummary) []any {
		return []any{&m.CustomerID, &m.Summary, &m.MessagesCovered}
	},
}

// CreateUserMemorySummary stores the memory summary of a customer; a second
// one for the same customer fails with persistence.ErrDuplicate.
func (q q) CreateUserMemorySummary(ctx context.Context, m *persistence.UserMemorySummary) error {
	return create(ctx, q, memorySummaries, m)
}

// GetUserMemorySummary returns the memory summary of the tenant's customer
// customerID, or persistence.ErrNotFound.
func (q q) GetUserMemorySummary(ctx context.Context, tenantID, customerID string) (persistence.UserMemorySummary, error) {
	return first(ctx, q, memorySummaries, "tenant_id = ? AND customer_id = ?", tenantID, customerID)
}

// GetUserMemorySummaryByID returns the tenant's memory summary id, or
// persistence.ErrNotFound.
func (q q) GetUserMemorySummaryByID(ctx context.Context, tenantID, id string) (persistence.UserMemorySummary, error) {
	return get(ctx, q, memorySummaries, tenantID, id)
}

// UpdateUserMemorySummary writes m if m.Version is still the stored version
// (else persistence.ErrVersionConflict) and bumps m's Version and UpdatedAt.
func (q q) UpdateUserMemorySummary(ctx context.Context, m *persistence.UserMemorySummary) error {
	return update(ctx, q, memorySummaries, m)
}

// ListUserMemorySummaries returns one page of the tenant's memory summaries,
// oldest first, and the next cursor ("" on the last page).
func (q q) ListUserMemorySummaries(ctx context.Context, tenantID string, p persistence.Page) ([]persistence.UserMemorySummary, string, error) {
	return list(ctx, q, memorySummaries, p, "tenant_id = ?", tenantID)
}
