package sqlstore

import (
	"context"
	"fmt"
	"time"

	"github.com/frontdesk-ai/frontdesk/persistence"
)

// GetCheckpoint returns the checkpoint of grain kind/identity, or
// persistence.ErrNotFound when the grain never saved one.
func (q *q) GetCheckpoint(ctx context.Context, kind, identity string) (persistence.Checkpoint, error) {
	c := persistence.Checkpoint{Kind: kind, Identity: identity}
	var state []byte
	err := q.ex.QueryRowContext(ctx, q.d.rebind(`SELECT tenant_id, version, log_topic, log_partition, log_offset, state, created_at, updated_at
		FROM actor_checkpoints WHERE kind = ? AND identity = ?`), kind, identity).
		Scan(&c.TenantID, &c.Version, &c.Topic, &c.Partition, &c.Offset, &state, &c.CreatedAt, &c.UpdatedAt)
	if err != nil {
		return c, fmt.Errorf("get checkpoint %s/%s: %w", kind, identity, mapErr(err))
	}
	c.State = state
	c.CreatedAt, c.UpdatedAt = c.CreatedAt.UTC(), c.UpdatedAt.UTC()
	return c, nil
}

// SaveCheckpoint writes c if the stored version is still c.Version (0 means
// the grain has none yet) and then increments c.Version. A stale version
// yields persistence.ErrVersionConflict and changes nothing.
func (q *q) SaveCheckpoint(ctx context.Context, c *persistence.Checkpoint) error {
	now := time.Now().UTC().Truncate(time.Microsecond)
	state := string(c.State)
	if state == "" {
		state = "{}"
	}
	if c.Version == 0 {
		_, err := q.ex.ExecContext(ctx, q.d.rebind(`INSERT INTO actor_checkpoints
			(tenant_id, kind, identity, version, log_topic, log_partition, log_offset, state, created_at, updated_at)
			VALUES (?, ?, ?, 1, ?, ?, ?, ?, ?, ?)`),
			c.TenantID, c.Kind, c.Identity, c.Topic, c.Partition, c.Offset, state, now, now)
		if err = mapErr(err); err != nil {
			if isDuplicate(err) {
				return fmt.Errorf("save checkpoint %s/%s: created by another activation: %w", c.Kind, c.Identity, persistence.ErrVersionConflict)
			}
			return fmt.Errorf("save checkpoint %s/%s: %w", c.Kind, c.Identity, err)
		}
		c.Version, c.CreatedAt, c.UpdatedAt = 1, now, now
		return nil
	}
	res, err := q.ex.ExecContext(ctx, q.d.rebind(`UPDATE actor_checkpoints
		SET version = version + 1, log_topic = ?, log_partition = ?, log_offset = ?, state = ?, updated_at = ?
		WHERE kind = ? AND identity = ? AND version = ?`),
		c.Topic, c.Partition, c.Offset, state, now, c.Kind, c.Identity, c.Version)
	if err != nil {
		return fmt.Errorf("save checkpoint %s/%s: %w", c.Kind, c.Identity, mapErr(err))
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return fmt.Errorf("save checkpoint %s/%s at version %d: %w", c.Kind, c.Identity, c.Version, persistence.ErrVersionConflict)
	}
	c.Version++
	c.UpdatedAt = now
	return nil
}
