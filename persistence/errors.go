package persistence

import "errors"

// Sentinel errors returned by every store and log implementation. Callers test
// them with errors.Is; implementations wrap them with context.
var (
	// ErrNotFound means no row matched the id within the caller's tenant.
	ErrNotFound = errors.New("not found")
	// ErrVersionConflict means a write carried a version that is no longer the
	// stored one: another writer (or a stale actor activation) got there first.
	ErrVersionConflict = errors.New("version conflict")
	// ErrDuplicate means a unique key (identity, channel message id,
	// idempotency key, email) already exists.
	ErrDuplicate = errors.New("duplicate")
	// ErrUnknownEventVersion means an envelope's type/version pair is not one
	// this build can decode.
	ErrUnknownEventVersion = errors.New("unknown event version")
	// ErrClosed means the subscription (or log) was closed.
	ErrClosed = errors.New("closed")
)
