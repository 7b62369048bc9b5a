package sqlstore

import (
	"context"
	"errors"
	"strings"

	"github.com/frontdesk-ai/frontdesk/persistence"
)

var tenants = table[persistence.Tenant]{
	name: "tenants",
	cols: []string{"name", "slug"},
	fields: func(m *persistence.Tenant) []any {
		return []any{&m.Name, &m.Slug}
	},
	check: func(m *persistence.Tenant) error {
		m.TenantID = m.ID
		return need(m.Slug != "", "slug", m.Slug)
	},
}

// CreateTenant stores a new tenant; its TenantID is set to its ID. A taken
// slug fails with persistence.ErrDuplicate.
func (q q) CreateTenant(ctx context.Context, m *persistence.Tenant) error {
	return create(ctx, q, tenants, m)
}

// GetTenant returns the tenant id, or persistence.ErrNotFound.
func (q q) GetTenant(ctx context.Context, id string) (persistence.Tenant, error) {
	return get(ctx, q, tenants, id, id)
}

// GetTenantBySlug returns the tenant with slug, or persistence.ErrNotFound.
func (q q) GetTenantBySlug(ctx context.Context, slug string) (persistence.Tenant, error) {
	return first(ctx, q, tenants, "slug = ?", slug)
}

// UpdateTenant writes m if m.Version is still the stored version (else
// persistence.ErrVersionConflict) and bumps m's Version and UpdatedAt.
func (q q) UpdateTenant(ctx context.Context, m *persistence.Tenant) error {
	return update(ctx, q, tenants, m)
}

// ListTenants returns one page of all tenants, oldest first, and the next
// cursor ("" on the last page).
func (q q) ListTenants(ctx context.Context, p persistence.Page) ([]persistence.Tenant, string, error) {
	return list(ctx, q, tenants, p, "")
}

var users = table[persistence.User]{
	name: "users",
	cols: []string{"email", "name", "role", "password_hash", "disabled", "demo"},
	fields: func(m *persistence.User) []any {
		return []any{&m.Email, &m.Name, &m.Role, &m.PasswordHash, &m.Disabled, &m.Demo}
	},
	check: func(m *persistence.User) error {
		m.Email = strings.ToLower(strings.TrimSpace(m.Email))
		return errors.Join(need(m.Email != "", "email", m.Email), need(m.Role.Valid(), "role", m.Role))
	},
}

// CreateUser stores a new dashboard user with its email lower-cased. An
// email taken in any tenant fails with persistence.ErrDuplicate; an unknown
// role with persistence.ErrInvalid.
func (q q) CreateUser(ctx context.Context, m *persistence.User) error {
	return create(ctx, q, users, m)
}

// GetUser returns the tenant's user id, or persistence.ErrNotFound.
func (q q) GetUser(ctx context.Context, tenantID, id string) (persistence.User, error) {
	return get(ctx, q, users, tenantID, id)
}

// GetUserByEmail returns the user with email (compared case-insensitively)
// in any tenant, for login, or persistence.ErrNotFound.
func (q q) GetUserByEmail(ctx context.Context, email string) (persistence.User, error) {
	return first(ctx, q, users, "email = ?", strings.ToLower(strings.TrimSpace(email)))
}

// UpdateUser writes m if m.Version is still the stored version (else
// persistence.ErrVersionConflict) and bumps m's Version and UpdatedAt.
func (q q) UpdateUser(ctx context.Context, m *persistence.User) error {
	return update(ctx, q, users, m)
}

// ListUsers returns one page of the tenant's users, oldest first, and the
// next cursor ("" on the last page).
func (q q) ListUsers(ctx context.Context, tenantID string, p persistence.Page) ([]persistence.User, string, error) {
	return list(ctx, q, users, p, "tenant_id = ?", tenantID)
}

var channelAccounts = table[persistence.ChannelAccount]{
	name: "channel_accounts",
	cols: []string{"channel", "external_id", "name", "config"},
	fields: func(m *persistence.ChannelAccount) []any {
		return []any{&m.Channel, &m.ExternalID, &m.Name, &m.Config}
	},
	check: func(m *persistence.ChannelAccount) error {
		return errors.Join(need(m.Channel != "", "channel", m.Channel), need(m.ExternalID != "", "external id", m.ExternalID))
	},
}

// CreateChannelAccount stores a new channel account. An external id already
// registered on the channel, by any tenant, fails with
// persistence.ErrDuplicate.
func (q q) CreateChannelAccount(ctx context.Context, m *persistence.ChannelAccount) error {
	return create(ctx, q, channelAccounts, m)
}

// GetChannelAccountByID returns the tenant's channel account id, or
// persistence.ErrNotFound.
func (q q) GetChannelAccountByID(ctx context.Context, tenantID, id string) (persistence.ChannelAccount, error) {
	return get(ctx, q, channelAccounts, tenantID, id)
}

// GetChannelAccount returns the account that externalID names on channel, in
// any tenant (routing a webhook to its tenant), or persistence.ErrNotFound.
func (q q) GetChannelAccount(ctx context.Context, channel, externalID string) (persistence.ChannelAccount, error) {
	return first(ctx, q, channelAccounts, "channel = ? AND external_id = ?", channel, externalID)
}

// UpdateChannelAccount writes m if m.Version is still the stored version
// (else persistence.ErrVersionConflict) and bumps m's Version and UpdatedAt.
func (q q) UpdateChannelAccount(ctx context.Context, m *persistence.ChannelAccount) error {
	return update(ctx, q, channelAccounts, m)
}

// ListChannelAccounts returns one page of the tenant's channel accounts,
// oldest first, and the next cursor ("" on the last page).
func (q q) ListChannelAccounts(ctx context.Context, tenantID string, p persistence.Page) ([]persistence.ChannelAccount, string, error) {
	return list(ctx, q, channelAccounts, p, "tenant_id = ?", tenantID)
}
