package sqlstore

// The live event stream: per-tenant events (persistence.LiveEvent) that the
// dashboard hub of every member polls and fans out to WebSockets.
//
// Id allocation and visibility. AppendLiveEvent bumps the tenant's counter in
// live_streams with an upsert ... RETURNING inside the caller's transaction,
// then inserts the event. On PostgreSQL the upsert takes the tenant row's
// lock and holds it until the transaction ends, so a second writer of the
// same tenant waits until the first has committed (and then continues after
// its id) or rolled back (and then reuses the id: a rollback leaves no gap).
// Events of one tenant therefore become visible in id order, and a reader
// that has seen id k never sees an id below k commit later: it cannot skip
// an event that commits late. SQLite has one writer at a time, which gives
// the same order. The lock stalls every writer of the tenant until commit,
// so append live events last in a transaction and keep it short.

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/frontdesk-ai/frontdesk/persistence"
)

// AppendLiveEvent appends e to its tenant's live stream and sets e.ID (the
// tenant's next id, starting at 1) and e.CreatedAt (now, unless set). Called
// on a Tx it commits or rolls back with the change the event describes;
// called on the Store it runs in a transaction of its own. e.Data must be
// valid JSON or nil (stored as null); PostgreSQL returns it normalized.
func (qq *q) AppendLiveEvent(ctx context.Context, e *persistence.LiveEvent) error {
	if db, ok := qq.ex.(txBeginner); ok {
		// Outside a transaction the counter's lock would be released before
		// the insert, and a reader could skip an id that commits late.
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return fmt.Errorf("append live event for tenant %s: begin: %w", e.TenantID, err)
		}
		saved := *e
		in := &q{ex: tx, d: qq.d}
		if err := in.appendLiveEvent(ctx, e); err != nil {
			_ = tx.Rollback()
			*e = saved
			return err
		}
		if err := tx.Commit(); err != nil {
			*e = saved
			return fmt.Errorf("append live event for tenant %s: commit: %w", e.TenantID, mapErr(err))
		}
		return nil
	}
	return qq.appendLiveEvent(ctx, e)
}

// txBeginner is a handle outside a transaction.
type txBeginner interface {
	BeginTx(ctx context.Context, opts *sql.TxOptions) (*sql.Tx, error)
}

func (q *q) appendLiveEvent(ctx context.Context, e *persistence.LiveEvent) error {
	if e.TenantID == "" || e.Type == "" {
		return fmt.Errorf("append live event: tenant %q and type %q must not be empty", e.TenantID, e.Type)
	}
	data := "null"
	if len(e.Data) > 0 {
		if !json.Valid(e.Data) {
			return fmt.Errorf("append live event %s for tenant %s: data is not valid JSON", e.Type, e.TenantID)
		}
		data = string(e.Data)
	}
	created := e.CreatedAt
	if created.IsZero() {
		created = time.Now()
	}
	created = created.UTC().Truncate(time.Microsecond)
	var id int64
	err := q.ex.QueryRowContext(ctx, q.d.rebind(`INSERT INTO live_streams (tenant_id, next_id) VALUES (?, 2)
		ON CONFLICT (tenant_id) DO UPDATE SET next_id = live_streams.next_id + 1
		RETURNING next_id - 1`), e.TenantID).Scan(&id)
	if err != nil {
		return fmt.Errorf("append live event for tenant %s: allocate id: %w", e.TenantID, mapErr(err))
	}
	_, err = q.ex.ExecContext(ctx, q.d.rebind(`INSERT INTO live_events (tenant_id, id, type, conversation_id, data, created_at)
		VALUES (?, ?, ?, ?, ?, ?)`), e.TenantID, id, e.Type, e.ConversationID, data, created)
	if err != nil {
		return fmt.Errorf("append live event %d for tenant %s: %w", id, e.TenantID, mapErr(err))
	}
	e.ID, e.CreatedAt = id, created
	return nil
}

// LiveEventsAfter returns up to limit events of tenantID with an id above
// afterID, oldest first. It reads committed events only.
func (q *q) LiveEventsAfter(ctx context.Context, tenantID string, afterID int64, limit int) ([]persistence.LiveEvent, error) {
	return q.liveEvents(ctx, fmt.Sprintf("live events of tenant %s after %d", tenantID, afterID), afterID, limit,
		"tenant_id = ? AND id > ?", tenantID, afterID)
}

// liveEvents reads up to limit events matching where, oldest first; what
// names the read in errors.
func (q *q) liveEvents(ctx context.Context, what string, afterID int64, limit int, where string, args ...any) ([]persistence.LiveEvent, error) {
	if afterID < 0 || limit <= 0 {
		return nil, fmt.Errorf("%s: after id must not be negative and limit %d must be positive", what, limit)
	}
	rows, err := q.ex.QueryContext(ctx, q.d.rebind(`SELECT tenant_id, id, type, conversation_id, data, created_at FROM live_events
		WHERE `+where+` ORDER BY id LIMIT ?`), append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, mapErr(err))
	}
	defer rows.Close()
	var out []persistence.LiveEvent
	for rows.Next() {
		var e persistence.LiveEvent
		var data []byte
		if err := rows.Scan(&e.TenantID, &e.ID, &e.Type, &e.ConversationID, &data, &e.CreatedAt); err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		e.Data = data
		e.CreatedAt = e.CreatedAt.UTC()
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", what, mapErr(err))
	}
	return out, nil
}

// LiveEventsOfConversation returns up to limit events of type typ about the
// tenant's conversation conversationID with an id above afterID, oldest
// first: the history behind a conversation's live view (e.g. its tool calls).
func (q *q) LiveEventsOfConversation(ctx context.Context, tenantID, conversationID, typ string, afterID int64, limit int) ([]persistence.LiveEvent, error) {
	return q.liveEvents(ctx, fmt.Sprintf("live %s events of conversation %s after %d", typ, conversationID, afterID), afterID, limit,
		"tenant_id = ? AND conversation_id = ? AND type = ? AND id > ?", tenantID, conversationID, typ, afterID)
}

// LatestLiveEventID returns the id of tenantID's newest committed live
// event, or 0 when the tenant has none.
func (q *q) LatestLiveEventID(ctx context.Context, tenantID string) (int64, error) {
	var id int64
	err := q.ex.QueryRowContext(ctx, q.d.rebind(`SELECT next_id - 1 FROM live_streams WHERE tenant_id = ?`), tenantID).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("latest live event of tenant %s: %w", tenantID, mapErr(err))
	}
	return id, nil
}
