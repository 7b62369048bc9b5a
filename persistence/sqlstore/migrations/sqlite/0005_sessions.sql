-- Dashboard sign-in sessions (see sessions.go). token_hash is the hex
-- SHA-256 of the bearer token; the token itself is never stored. Keep in
-- step with migrations/postgres/0005_sessions.sql.
CREATE TABLE sessions (
    token_hash    TEXT PRIMARY KEY,
    tenant_id     TEXT NOT NULL,
    user_id       TEXT NOT NULL REFERENCES users (id),
    created_at    DATETIME NOT NULL,
    expires_at    DATETIME NOT NULL,
    last_used_at  DATETIME NOT NULL
) WITHOUT ROWID;
CREATE INDEX sessions_expires ON sessions (expires_at);
CREATE INDEX sessions_user ON sessions (tenant_id, user_id);
