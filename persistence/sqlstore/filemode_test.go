package sqlstore_test

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"syscall"
	"testing"

	"github.com/frontdesk-ai/frontdesk/persistence/sqlstore"
)

// TestSQLiteFileModes: a fresh store's data dir is 0700 and its database,
// WAL and shared-memory files are 0600, even under a permissive umask; an
// existing store's wider file modes are narrowed.
func TestSQLiteFileModes(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("POSIX modes")
	}
	old := syscall.Umask(0)
	t.Cleanup(func() { syscall.Umask(old) })
	dir := filepath.Join(t.TempDir(), "data")
	ctx := context.Background()
	s, err := sqlstore.Open(ctx, sqlstore.Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	mode := func(p string) os.FileMode {
		t.Helper()
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		return fi.Mode().Perm()
	}
	if got := mode(dir); got != 0o700 {
		t.Errorf("data dir mode = %o, want 700", got)
	}
	db := filepath.Join(dir, "frontdesk.db")
	for _, p := range []string{db, db + "-wal", db + "-shm"} {
		if got := mode(p); got != 0o600 {
			t.Errorf("%s mode = %o, want 600", filepath.Base(p), got)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	if err := os.Chmod(db, 0o644); err != nil {
		t.Fatal(err)
	}
	s, err = sqlstore.Open(ctx, sqlstore.Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got := mode(db); got != 0o600 {
		t.Errorf("reopened frontdesk.db mode = %o, want 600", got)
	}
}
