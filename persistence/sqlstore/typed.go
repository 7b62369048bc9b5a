package sqlstore

import (
	"context"
	"errors"
	"fmt"

	"github.com/frontdesk-ai/frontdesk/persistence"
)

// The store boundary. Packages that use the store (actors, gateway, tools,
// channels) never import this package: each declares the small transaction
// interface it needs (its unit of work) and a store interface whose InTx
// hands it that interface. cmd/frontdesk, the only package that wires the
// concrete store, adapts it with For:
//
//	store := sqlstore.For[actors.Tx](s) // s.InTx typed as func(actors.Tx) error
//
// *Tx implements every such interface (For checks it when called, so a
// mismatch fails at start-up, and a compile-time guard in cmd/frontdesk
// fails the build). A transaction's log appends go through Tx.AppendLog to
// the appender set with SetTxLog (the embedded log, or the outbox in front
// of Kafka), so a consumer needs no log type either.

// TxLog appends event log records inside a store transaction: the embedded
// Log, or the Outbox that relays to Kafka.
type TxLog interface {
	AppendTx(ctx context.Context, tx *Tx, recs ...persistence.Record) ([]persistence.Record, error)
}

// SetTxLog sets where Tx.AppendLog appends (call before any transaction).
func (s *Store) SetTxLog(l TxLog) { s.txLog = l }

// errNoTxLog answers Tx.AppendLog on a store wired without a log.
var errNoTxLog = errors.New("sqlstore: no log set for transactional appends (SetTxLog)")

// AppendLog appends recs to the event log as part of tx: they are in the log
// if and only if tx commits.
func (tx *Tx) AppendLog(ctx context.Context, recs ...persistence.Record) ([]persistence.Record, error) {
	if tx.log == nil {
		return nil, errNoTxLog
	}
	return tx.log.AppendTx(ctx, tx, recs...)
}

// Typed is a Store whose InTx hands fn the transaction as T, the consumer's
// own transaction interface. Every other Store method is promoted.
type Typed[T any] struct {
	*Store
}

// For adapts s to a consumer whose transaction interface is T. It panics
// when *Tx does not implement T (a wiring bug, caught at start-up).
func For[T any](s *Store) Typed[T] {
	if _, ok := any((*Tx)(nil)).(T); !ok {
		var zero *T
		panic(fmt.Sprintf("sqlstore: *Tx does not implement %T", zero))
	}
	return Typed[T]{Store: s}
}

// InTx runs fn in a transaction (see Store.InTx), typed for the consumer.
func (t Typed[T]) InTx(ctx context.Context, fn func(tx T) error) error {
	return t.Store.InTx(ctx, func(tx *Tx) error { return fn(any(tx).(T)) })
}
