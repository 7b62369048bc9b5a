package sqlstore

// The outbound sender's writes on a message (channels.Sender). Each is one
// conditional UPDATE ... RETURNING: the sender neither reads a message before
// it writes it nor meets a version conflict with the conversation grain,
// which records status reports on the same row with version-checked updates.
// Every write here still bumps the version, so a grain holding a stale copy
// conflicts, reloads and sees what the sender wrote.

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/frontdesk-ai/frontdesk/persistence"
)

// metaKey is what a metadata key written by SQL may look like: it becomes a
// JSON path on SQLite.
var metaKey = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)

// returningMessage ends a statement that returns the written message row.
var returningMessage = " RETURNING " + baseColumns + ", " + strings.Join(messages.cols, ", ")

// writeMessage runs query, a write on messages that returns the row.
func (q q) writeMessage(ctx context.Context, query string, args []any) (m persistence.Message, err error) {
	err = q.writeRow(ctx, q.d.rebind(query), args, func(row *sql.Row) (err error) {
		m, err = scanRow[persistence.Message, *persistence.Message](messages, row)
		return err
	})
	return m, err
}

// ClaimMessageSend records the first send attempt of the tenant's message id
// before the channel is called, in one statement: only when the message is
// still pending, has no provider id, has metadata that is a JSON object and
// no key attemptKey in it, it sets metadata[attemptKey] to at (RFC 3339) and
// returns the message as stored with claimed true. Otherwise nothing is
// written and claimed is false: the message is absent, settled, attempted
// before, or has metadata this statement cannot extend; the caller reads it
// to learn which. attemptKey must be lower-case letters, digits and
// underscores.
func (q q) ClaimMessageSend(ctx context.Context, tenantID, id, attemptKey string, at time.Time) (persistence.Message, bool, error) {
	if !metaKey.MatchString(attemptKey) {
		return persistence.Message{}, false, fmt.Errorf("claim send of message %s: metadata key %q: %w", id, attemptKey, persistence.ErrInvalid)
	}
	var set, guard string
	var keyArg string
	if q.d == postgresDialect {
		set = "metadata = metadata || jsonb_build_object(?::text, ?::text)"
		guard = "jsonb_typeof(metadata) = 'object' AND metadata -> ?::text IS NULL"
		keyArg = attemptKey
	} else {
		set = "metadata = json_set(metadata, ?, ?)"
		guard = "json_type(metadata) = 'object' AND json_extract(metadata, ?) IS NULL"
		keyArg = "$." + attemptKey
	}
	query := "UPDATE messages SET updated_at = ?, version = version + 1, " + set +
		" WHERE tenant_id = ? AND id = ? AND delivery_status = ? AND channel_message_id = '' AND " + guard + returningMessage
	m, err := q.writeMessage(ctx, query, []any{normTime(time.Now()), keyArg, at.UTC().Format(time.RFC3339Nano),
		tenantID, id, string(persistence.DeliveryPending), keyArg})
	if err = mapErr(err); errors.Is(err, persistence.ErrNotFound) {
		return persistence.Message{}, false, nil
	}
	if err != nil {
		return persistence.Message{}, false, fmt.Errorf("claim send of message %s: %w", id, err)
	}
	return m, true, nil
}

// RecordMessageSent records the provider's id of the tenant's message id
// once the channel took it: a pending message becomes sent, a later status
// (delivered, read, failed) recorded meanwhile from a status report is kept.
// It returns the message as stored, persistence.ErrNotFound when there is
// none, and persistence.ErrDuplicate when another message of the channel
// has that provider id.
func (q q) RecordMessageSent(ctx context.Context, tenantID, id, providerID string) (persistence.Message, error) {
	if providerID == "" {
		return persistence.Message{}, fmt.Errorf("record send of message %s: empty provider id: %w", id, persistence.ErrInvalid)
	}
	query := "UPDATE messages SET updated_at = ?, version = version + 1, channel_message_id = ?," +
		" delivery_status = CASE WHEN delivery_status = ? THEN ? ELSE delivery_status END" +
		" WHERE tenant_id = ? AND id = ?" + returningMessage
	m, err := q.writeMessage(ctx, query, []any{normTime(time.Now()), providerID, string(persistence.DeliveryPending), string(persistence.DeliverySent), tenantID, id})
	if err != nil {
		return persistence.Message{}, fmt.Errorf("record send of message %s: %w", id, mapErr(err))
	}
	return m, nil
}

// FailMessageSend marks the tenant's message id failed with reason when it
// is still pending with no provider id, and returns it as stored with
// changed true; otherwise (absent or settled) nothing is written and changed
// is false.
func (q q) FailMessageSend(ctx context.Context, tenantID, id, reason string) (persistence.Message, bool, error) {
	query := "UPDATE messages SET updated_at = ?, version = version + 1, delivery_status = ?, error = ?" +
		" WHERE tenant_id = ? AND id = ? AND delivery_status = ? AND channel_message_id = ''" + returningMessage
	m, err := q.writeMessage(ctx, query, []any{normTime(time.Now()), string(persistence.DeliveryFailed), reason, tenantID, id, string(persistence.DeliveryPending)})
	if err = mapErr(err); errors.Is(err, persistence.ErrNotFound) {
		return persistence.Message{}, false, nil
	}
	if err != nil {
		return persistence.Message{}, false, fmt.Errorf("fail send of message %s: %w", id, err)
	}
	return m, true, nil
}
