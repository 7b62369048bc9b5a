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
	in, args := tenantIDsIn(tenantID, ids)
	if in == "" {
		return nil, nil
	}
	return all(ctx, q, customers, "WHERE tenant_id = ? AND id "+in+" ORDER BY created_at, id", args...)
}

// tenantIDsIn returns "IN (?, …)" for the distinct ids (at most
// persistence.MaxPageLimit of them) and the arguments tenantID, ids…; ""
// when there are none.
func tenantIDsIn(tenantID string, ids []string) (string, []any) {
	ids = slices.Compact(slices.Sorted(slices.Values(ids)))
	if len(ids) == 0 {
		return "", nil
	}
	if len(ids) > persistence.MaxPageLimit {
		ids = ids[:persistence.MaxPageLimit]
	}
	args := make([]any, 0, len(ids)+1)
	args = append(args, tenantID)
	for _, id := range ids {
		args = append(args, id)
	}
	return "IN (?" + strings.Repeat(", ?", len(ids)-1) + ")", args
}

// ListIdentitiesOfCustomer returns every identity of the tenant's customer
// customerID, oldest first (a customer has a handful: one per channel).
func (q q) ListIdentitiesOfCustomer(ctx context.Context, tenantID, customerID string) ([]persistence.CustomerIdentity, error) {
	return all(ctx, q, customerIdentities, "WHERE tenant_id = ? AND customer_id = ? ORDER BY created_at, id", tenantID, customerID)
}

// ListIdentitiesOfCustomers returns the identities of the tenant's customers
// whose ids are in customerIDs, ordered by customer id, then oldest first;
// ids of other tenants or of no customer match nothing. At most
// persistence.MaxPageLimit distinct ids are looked up.
func (q q) ListIdentitiesOfCustomers(ctx context.Context, tenantID string, customerIDs []string) ([]persistence.CustomerIdentity, error) {
	in, args := tenantIDsIn(tenantID, customerIDs)
	if in == "" {
		return nil, nil
	}
	return all(ctx, q, customerIdentities, "WHERE tenant_id = ? AND customer_id "+in+" ORDER BY customer_id, created_at, id", args...)
}
