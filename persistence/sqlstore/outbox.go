package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"hash/fnv"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/frontdesk-ai/frontdesk/consume"
	"github.com/frontdesk-ai/frontdesk/persistence"
)

// Outbox makes an external event log (Kafka) transactional with the store:
// AppendTx writes records into the log_outbox table inside the caller's
// transaction, and Relay produces them to the log in id order, then deletes
// them. A record is thus in the log if and only if its transaction
// committed (at least once: a crash between produce and delete produces it
// again, and consumers deduplicate).
//
// Exactly one relay runs at a time across members (a PostgreSQL advisory
// lock, one per schema: the lock guards that schema's log_outbox), which
// keeps the records of one key in their commit order.
type Outbox struct {
	s    *Store
	wake chan struct{}
}

// NewOutbox returns the store's outbox.
func NewOutbox(s *Store) *Outbox {
	return &Outbox{s: s, wake: make(chan struct{}, 1)}
}

// AppendTx queues recs in tx; they reach the log after tx commits. The
// returned records carry no partition or offset (the log assigns them).
func (o *Outbox) AppendTx(ctx context.Context, tx *Tx, recs ...persistence.Record) ([]persistence.Record, error) {
	now := time.Now().UTC().Truncate(time.Microsecond)
	for _, r := range recs {
		if _, err := tx.ex.ExecContext(ctx, tx.d.rebind(`INSERT INTO log_outbox (topic, record_key, value, created_at) VALUES (?, ?, ?, ?)`),
			r.Topic, r.Key, r.Value, now); err != nil {
			return nil, fmt.Errorf("queue %s record: %w", r.Topic, mapErr(err))
		}
	}
	tx.AfterCommit(func() {
		select {
		case o.wake <- struct{}{}:
		default:
		}
	})
	return recs, nil
}

// outboxLockKey is the advisory lock held by the one active relay of the
// public schema; other schemas derive theirs from it (outboxLock).
const outboxLockKey = 0x6f7574626f78 // "outbox"

// outboxLock returns the advisory lock key of the outbox in schema. Advisory
// locks are database-wide, so deployments (or test runs) in two schemas of
// one database would otherwise hold up each other's relay. The public
// schema keeps outboxLockKey, so members of older versions still agree.
func outboxLock(schema string) int64 {
	if schema == "public" {
		return outboxLockKey
	}
	h := fnv.New64a()
	h.Write([]byte(schema))
	return int64((h.Sum64() ^ outboxLockKey) &^ (1 << 63))
}

// Relay produces queued records to log until ctx ends. poll bounds how long
// records committed by other members wait (default 100 ms).
func (o *Outbox) Relay(ctx context.Context, log persistence.Appender, poll time.Duration, logger zerolog.Logger) error {
	if poll <= 0 {
		poll = 100 * time.Millisecond
	}
	for ctx.Err() == nil {
		err := o.relayHoldingLock(ctx, log, poll)
		if ctx.Err() != nil {
			return nil
		}
		logger.Error().Err(err).Msg("outbox relay; retrying")
		if !consume.Sleep(ctx, time.Second) {
			return nil
		}
	}
	return nil
}

func (o *Outbox) relayHoldingLock(ctx context.Context, log persistence.Appender, poll time.Duration) error {
	var conn *sql.Conn
	if o.s.d == postgresDialect {
		// One relay across members: wait for the lock on a connection of
		// its own, then keep it for as long as this member relays.
		c, err := o.s.db.Conn(ctx)
		if err != nil {
			return err
		}
		defer c.Close()
		// A member whose host dies holds the lock until the server notices
		// its connection is gone: with the server's default keepalive (2 h
		// idle) no record would reach Kafka for that long. Probe this
		// session's connection after 5 s idle, every 2 s, 3 times, and give
		// up unacknowledged writes after 10 s (ignored on Unix sockets).
		for _, set := range []string{"SET tcp_keepalives_idle = 5", "SET tcp_keepalives_interval = 2",
			"SET tcp_keepalives_count = 3", "SET tcp_user_timeout = 10000"} {
			if _, err := c.ExecContext(ctx, set); err != nil {
				return fmt.Errorf("outbox lock: %s: %w", set, err)
			}
		}
		var schema string
		if err := c.QueryRowContext(ctx, "SELECT COALESCE(current_schema(), 'public')").Scan(&schema); err != nil {
			return fmt.Errorf("outbox lock: schema: %w", err)
		}
		key := outboxLock(schema)
		for {
			var ok bool
			if err := c.QueryRowContext(ctx, "SELECT pg_try_advisory_lock($1)", key).Scan(&ok); err != nil {
				return fmt.Errorf("outbox lock: %w", err)
			}
			if ok {
				break
			}
			if !consume.Sleep(ctx, time.Second) {
				return nil
			}
		}
		defer c.ExecContext(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", key) //nolint:errcheck
		conn = c
	}
	t := time.NewTimer(poll)
	defer t.Stop()
	for {
		n, err := o.relayBatch(ctx, conn, log)
		if err != nil {
			return err
		}
		if n > 0 {
			continue
		}
		t.Reset(poll)
		select {
		case <-ctx.Done():
			return nil
		case <-o.wake:
		case <-t.C:
		}
	}
}

// relayBatch produces up to 500 queued records in id order and deletes
// them; it returns how many it moved.
func (o *Outbox) relayBatch(ctx context.Context, conn *sql.Conn, log persistence.Appender) (int, error) {
	var ex execer = o.s.db
	if conn != nil {
		ex = conn
	}
	rows, err := ex.QueryContext(ctx, `SELECT id, topic, record_key, value FROM log_outbox ORDER BY id LIMIT 500`)
	if err != nil {
		return 0, fmt.Errorf("read outbox: %w", err)
	}
	var ids []int64
	var recs []persistence.Record
	for rows.Next() {
		var id int64
		var r persistence.Record
		if err := rows.Scan(&id, &r.Topic, &r.Key, &r.Value); err != nil {
			rows.Close()
			return 0, fmt.Errorf("read outbox: %w", err)
		}
		ids = append(ids, id)
		recs = append(recs, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("read outbox: %w", err)
	}
	if len(recs) == 0 {
		return 0, nil
	}
	if _, err := log.Append(ctx, recs...); err != nil {
		return 0, fmt.Errorf("produce %d outbox records: %w", len(recs), err)
	}
	// Delete exactly what was produced: a lower id whose transaction
	// commits late was not read and must stay for the next batch.
	ph := strings.Repeat("?, ", len(ids))
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	// Finish the batch even when ctx ends now: undeleted rows would be
	// produced a second time.
	if _, err := ex.ExecContext(context.WithoutCancel(ctx), o.s.d.rebind(`DELETE FROM log_outbox WHERE id IN (`+ph[:len(ph)-2]+`)`), args...); err != nil {
		return 0, fmt.Errorf("delete relayed outbox records: %w", err)
	}
	return len(recs), nil
}

// Pending returns how many records wait in the outbox.
func (o *Outbox) Pending(ctx context.Context) (int64, error) {
	var n int64
	err := o.s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM log_outbox`).Scan(&n)
	return n, err
}
