package sqlstore_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/frontdesk-ai/frontdesk/persistence/sqlstore"
)

func TestDataDirWithURICharacters(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a#b?c%20d")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	s, err := sqlstore.Open(context.Background(), sqlstore.Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "frontdesk.db")); err != nil {
		t.Fatalf("the database is not in the data dir: %v", err)
	}
}
