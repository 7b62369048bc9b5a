package sqlstore

import (
	"context"
	"slices"
	"strings"

	"github.com/frontdesk-ai/frontdesk/persistence"
)

// GetCustomers returns the tenant's customers whose ids are in ids, oldest
// first; ids of other tenants or of no customer are skipped, so the result
// may be shorter than ids. At most persistence.MaxPageLimit distinct ids
// are looked up.
func (q q) GetCustomers(ctx context.Context, tenantID string, ids []string) ([]persistence.Customer, error) {
	ids = slices.Compact(slices.Sorted(slices.Values(ids)))
	if len(ids) == 0 {
		return nil, nil
	}
	if len(ids) > persistence.MaxPageLimit {
		ids = ids[:persistence.MaxPageLimit]
	}
	args := make([]any, 0, len(ids)+1)
	args = append(args, tenantID)
	for _, id := range ids {
		args = append(args, id)
	}
	return all(ctx, q, customers, "WHERE tenant_id = ? AND id IN (?"+strings.Repeat(", ?", len(ids)-1)+") ORDER BY created_at, id", args...)
}

// ListIdentitiesOfCustomer returns every identity of the tenant's customer
// customerID, oldest first (a customer has a handful: one per channel).
func (q q) ListIdentitiesOfCustomer(ctx context.Context, tenantID, customerID string) ([]persistence.CustomerIdentity, error) {
	return all(ctx, q, customerIdentities, "WHERE tenant_id = ? AND customer_id = ? ORDER BY created_at, id", tenantID, customerID)
}
