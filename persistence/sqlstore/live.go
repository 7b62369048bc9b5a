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
	"strings"
	"time"

	"github.com/frontdesk-ai/frontdesk/persistence"
)

// AppendLiveEvent appends e to its tenant's live stream and sets e.ID (the
// tenant's next id, starting at 1) and e.CreatedAt (now, unless set). Called
// on a Tx it commits or rolls back with the change the event describes;
// called on the Store it runs in a transaction of its own. e.Data must be
// valid JSON or nil (stored as null); PostgreSQL returns it normalized.
func (qq *q) AppendLiveEvent(ctx context.Context, e *persistence.LiveEvent) error {
	return qq.AppendLiveEvents(ctx, []*persistence.LiveEvent{e})
}

// AppendLiveEvents appends es, all of one tenant, to the tenant's live
// stream in order, as AppendLiveEvent does for one: in two statements
// whatever their number (the stream's counter moves once), so on PostgreSQL
// the tenant's counter row stays locked for fewer round trips. Call it last
// in a transaction: the lock is held until the commit.
func (qq *q) AppendLiveEvents(ctx context.Context, es []*persistence.LiveEvent) error {
	if len(es) == 0 {
		return nil
	}
	saved := make([]persistence.LiveEvent, len(es))
	for i, e := range es {
		saved[i] = *e
	}
	var err error
	switch ex := qq.ex.(type) {
	case *sqliteDB:
		err = ex.group.do(ctx, func(tx *Tx) error { return tx.q.appendLiveEvents(ctx, es) })
	case txBeginner:
		// Outside a transaction the counter's lock would be released before
		// the insert, and a reader could skip an id that commits late.
		err = func() error {
			tx, err := ex.BeginTx(ctx, nil)
			if err != nil {
				return fmt.Errorf("append live events for tenant %s: begin: %w", es[0].TenantID, err)
			}
			in := &q{ex: tx, d: qq.d}
			if err := in.appendLiveEvents(ctx, es); err != nil {
				_ = tx.Rollback()
				return err
			}
			if err := tx.Commit(); err != nil {
				return fmt.Errorf("append live events for tenant %s: commit: %w", es[0].TenantID, mapErr(err))
			}
			return nil
		}()
	default:
		err = qq.appendLiveEvents(ctx, es)
	}
	if err != nil {
		for i, e := range es {
			*e = saved[i]
		}
	}
	return err
}

// txBeginner is a handle outside a transaction.
type txBeginner interface {
	BeginTx(ctx context.Context, opts *sql.TxOptions) (*sql.Tx, error)
}

func (q *q) appendLiveEvents(ctx context.Context, es []*persistence.LiveEvent) error {
	tenant := es[0].TenantID
	data := make([]string, len(es))
	for i, e := range es {
		if e.TenantID == "" || e.Type == "" {
			return fmt.Errorf("append live event: tenant %q and type %q must not be empty", e.TenantID, e.Type)
		}
		if e.TenantID != tenant {
			return fmt.Errorf("append live events: tenants %s and %s in one call", tenant, e.TenantID)
		}
		data[i] = "null"
		if len(e.Data) > 0 {
			if !json.Valid(e.Data) {
				return fmt.Errorf("append live event %s for tenant %s: data is not valid JSON", e.Type, e.TenantID)
			}
			data[i] = string(e.Data)
		}
	}
	n := int64(len(es))
	var first int64
	err := q.ex.QueryRowContext(ctx, q.d.rebind(`INSERT INTO live_streams (tenant_id, next_id) VALUES (?, ?)
		ON CONFLICT (tenant_id) DO UPDATE SET next_id = live_streams.next_id + ?
		RETURNING next_id - ?`), tenant, n+1, n, n).Scan(&first)
	if err != nil {
		return fmt.Errorf("append live events for tenant %s: allocate ids: %w", tenant, mapErr(err))
	}
	var b strings.Builder
	b.WriteString("INSERT INTO live_events (tenant_id, id, type, conversation_id, data, created_at) VALUES ")
	args := make([]any, 0, 6*len(es))
	created := make([]time.Time, len(es))
	now := time.Now()
	for i, e := range es {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("(?, ?, ?, ?, ?, ?)")
		created[i] = e.CreatedAt
		if created[i].IsZero() {
			created[i] = now
		}
		created[i] = created[i].UTC().Truncate(time.Microsecond)
		args = append(args, tenant, first+int64(i), e.Type, e.ConversationID, data[i], created[i])
	}
	if _, err := q.ex.ExecContext(ctx, q.d.rebind(b.String()), args...); err != nil {
		return fmt.Errorf("append live events %d-%d for tenant %s: %w", first, first+n-1, tenant, mapErr(err))
	}
	for i, e := range es {
		e.ID, e.CreatedAt = first+int64(i), created[i]
	}
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
