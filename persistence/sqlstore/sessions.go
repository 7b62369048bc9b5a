package sqlstore

// Sign-in sessions of dashboard users. The table holds only the hash of each
// bearer token (persistence.Session.TokenHash); times come from the caller's
// clock, so expiry is decided by the caller and the sweep takes "now".

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/frontdesk-ai/frontdesk/persistence"
)

const sessionColumns = "token_hash, tenant_id, user_id, created_at, expires_at, last_used_at"

// CreateSession stores s. TokenHash must be a hex SHA-256 (64 characters),
// TenantID and UserID set and ExpiresAt after CreatedAt, else
// persistence.ErrInvalid; a zero LastUsedAt becomes CreatedAt. A TokenHash
// already stored fails with persistence.ErrDuplicate.
func (q q) CreateSession(ctx context.Context, s persistence.Session) error {
	if s.LastUsedAt.IsZero() {
		s.LastUsedAt = s.CreatedAt
	}
	_, hexErr := hex.DecodeString(s.TokenHash)
	if err := errors.Join(
		need(len(s.TokenHash) == 64 && hexErr == nil, "token hash", "(redacted)"),
		need(s.TenantID != "", "tenant id", s.TenantID),
		need(s.UserID != "", "user id", s.UserID),
		need(!s.CreatedAt.IsZero() && s.ExpiresAt.After(s.CreatedAt), "expires at", s.ExpiresAt),
	); err != nil {
		return fmt.Errorf("create session for user %s: %w", s.UserID, err)
	}
	_, err := q.ex.ExecContext(ctx, q.d.rebind("INSERT INTO sessions ("+sessionColumns+") VALUES (?, ?, ?, ?, ?, ?)"),
		s.TokenHash, s.TenantID, s.UserID, normTime(s.CreatedAt), normTime(s.ExpiresAt), normTime(s.LastUsedAt))
	if err != nil {
		return fmt.Errorf("create session for user %s: %w", s.UserID, mapErr(err))
	}
	return nil
}

// GetSessionByTokenHash returns the session whose token hashes to tokenHash,
// expired or not, or persistence.ErrNotFound.
func (q q) GetSessionByTokenHash(ctx context.Context, tokenHash string) (persistence.Session, error) {
	var s persistence.Session
	err := q.ex.QueryRowContext(ctx, q.d.rebind("SELECT "+sessionColumns+" FROM sessions WHERE token_hash = ?"), tokenHash).
		Scan(&s.TokenHash, &s.TenantID, &s.UserID, field{&s.CreatedAt}, field{&s.ExpiresAt}, field{&s.LastUsedAt})
	if err != nil {
		// The hash is a credential in all but name: it is not put in errors.
		return persistence.Session{}, fmt.Errorf("get session: %w", mapErr(err))
	}
	return s, nil
}

// TouchSession sets the LastUsedAt of the session tokenHash to at, or fails
// with persistence.ErrNotFound.
func (q q) TouchSession(ctx context.Context, tokenHash string, at time.Time) error {
	res, err := q.ex.ExecContext(ctx, q.d.rebind("UPDATE sessions SET last_used_at = ? WHERE token_hash = ?"), normTime(at), tokenHash)
	return sessionChanged("touch session", res, err)
}

// DeleteSession removes the session tokenHash (sign-out), or fails with
// persistence.ErrNotFound when there is none.
func (q q) DeleteSession(ctx context.Context, tokenHash string) error {
	res, err := q.ex.ExecContext(ctx, q.d.rebind("DELETE FROM sessions WHERE token_hash = ?"), tokenHash)
	return sessionChanged("delete session", res, err)
}

// DeleteExpiredSessions removes every session whose ExpiresAt is not after
// now and returns how many it removed.
func (q q) DeleteExpiredSessions(ctx context.Context, now time.Time) (int64, error) {
	res, err := q.ex.ExecContext(ctx, q.d.rebind("DELETE FROM sessions WHERE expires_at <= ?"), normTime(now))
	if err != nil {
		return 0, fmt.Errorf("delete expired sessions: %w", mapErr(err))
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("delete expired sessions: %w", err)
	}
	return n, nil
}

// DeleteDemoSessions removes every session of a demo user (persistence.User
// Demo) and returns how many it removed: a start outside demo mode ends
// them.
func (q q) DeleteDemoSessions(ctx context.Context) (int64, error) {
	res, err := q.ex.ExecContext(ctx, q.d.rebind("DELETE FROM sessions WHERE user_id IN (SELECT id FROM users WHERE demo = ?)"), true)
	if err != nil {
		return 0, fmt.Errorf("delete demo sessions: %w", mapErr(err))
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("delete demo sessions: %w", err)
	}
	return n, nil
}

// sessionChanged turns the result of a one-row write into nil, or an error
// naming what (ErrNotFound when no row matched).
func sessionChanged(what string, res interface{ RowsAffected() (int64, error) }, err error) error {
	if err != nil {
		return fmt.Errorf("%s: %w", what, mapErr(err))
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if n == 0 {
		return fmt.Errorf("%s: %w", what, persistence.ErrNotFound)
	}
	return nil
}
