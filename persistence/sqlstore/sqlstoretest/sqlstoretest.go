// Package sqlstoretest opens migrated, isolated stores for tests: a SQLite
// file in a temporary dir, or a fresh PostgreSQL schema when
// FRONTDESK_TEST_DATABASE_URL is set (dropped when the test ends).
package sqlstoretest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/frontdesk-ai/frontdesk/persistence/sqlstore"
)

// EnvDatabaseURL names the variable that enables PostgreSQL tests.
const EnvDatabaseURL = "FRONTDESK_TEST_DATABASE_URL"

// SkipMessage tells how to run the PostgreSQL tests.
const SkipMessage = "PostgreSQL tests skipped: set " + EnvDatabaseURL + "=postgres://postgres@127.0.0.1:5432/test?sslmode=disable to run them"

// Dialects lists the dialects every conformance suite runs on.
var Dialects = []string{"sqlite", "postgres"}

// Open returns a migrated store of the given dialect ("sqlite" or
// "postgres"), closed when the test ends. PostgreSQL tests skip when
// FRONTDESK_TEST_DATABASE_URL is unset.
func Open(t testing.TB, dialect string) *sqlstore.Store {
	t.Helper()
	cfg := Config(t, dialect)
	return OpenConfig(t, cfg)
}

// Config returns a store configuration for a fresh, isolated database of the
// dialect: a temp dir for SQLite, a new schema for PostgreSQL.
func Config(t testing.TB, dialect string) sqlstore.Config {
	t.Helper()
	switch dialect {
	case "sqlite":
		return sqlstore.Config{DataDir: t.TempDir()}
	case "postgres":
		return sqlstore.Config{DatabaseURL: Schema(t)}
	}
	t.Fatalf("unknown dialect %q", dialect)
	return sqlstore.Config{}
}

// OpenConfig opens and migrates the store at cfg, closed when the test ends.
func OpenConfig(t testing.TB, cfg sqlstore.Config) *sqlstore.Store {
	t.Helper()
	ctx := context.Background()
	s, err := sqlstore.Open(ctx, cfg)
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	if _, err := s.Migrate(ctx); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	return s
}

// Schema creates a fresh PostgreSQL schema and returns a database URL whose
// connections use it; it skips the test when FRONTDESK_TEST_DATABASE_URL is
// unset and drops the schema when the test ends.
func Schema(t testing.TB) string {
	t.Helper()
	base := os.Getenv(EnvDatabaseURL)
	if base == "" {
		t.Skip(SkipMessage)
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatalf("connect %s: %v", EnvDatabaseURL, err)
	}
	defer conn.Close(ctx)
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema := "t_" + hex.EncodeToString(b[:])
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		c, err := pgx.Connect(context.Background(), base)
		if err != nil {
			return
		}
		defer c.Close(context.Background())
		_, _ = c.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("parse %s: %v", EnvDatabaseURL, err)
	}
	qv := u.Query()
	qv.Set("search_path", schema)
	u.RawQuery = qv.Encode()
	return u.String()
}
