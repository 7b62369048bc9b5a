package persistence

import "time"

// Session is a dashboard user's sign-in: the bearer token handed to the
// client once, known to the store only by TokenHash (the SHA-256 of the
// token, lower-case hex), so a leaked table yields no usable token.
type Session struct {
	// TokenHash is the primary key: hex SHA-256 of the token.
	TokenHash string
	TenantID  string
	UserID    string
	// CreatedAt, ExpiresAt and LastUsedAt are UTC, truncated to
	// microseconds by the store. The caller sets them from its clock; a
	// session is valid while now is before ExpiresAt.
	CreatedAt  time.Time
	ExpiresAt  time.Time
	LastUsedAt time.Time
}
