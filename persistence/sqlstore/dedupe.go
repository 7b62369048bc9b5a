package sqlstore

import (
	"context"
	"fmt"
	"time"
)

// ClaimDedupeKey records that the tenant's provider event named by channel
// and key has been accepted, and reports whether this call was the first to
// claim it (keys are unique per tenant: another tenant's event with the same
// key is no duplicate). Run it in the transaction that appends the event: a
// second delivery of the same webhook then appends nothing.
func (q q) ClaimDedupeKey(ctx context.Context, tenantID, channel, key string) (bool, error) {
	res, err := q.ex.ExecContext(ctx, q.d.rebind(`INSERT INTO inbound_dedupe (channel, dedupe_key, tenant_id, created_at)
		VALUES (?, ?, ?, ?) ON CONFLICT (tenant_id, channel, dedupe_key) DO NOTHING`),
		channel, key, tenantID, time.Now().UTC().Truncate(time.Microsecond))
	if err != nil {
		return false, fmt.Errorf("claim dedupe key %s/%s/%s: %w", tenantID, channel, key, mapErr(err))
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("claim dedupe key %s/%s/%s: %w", tenantID, channel, key, err)
	}
	return n == 1, nil
}
