package sqlstore_test

import (
	"context"
	"sync"
	"testing"

	"github.com/frontdesk-ai/frontdesk/persistence/sqlstore"
	"github.com/frontdesk-ai/frontdesk/persistence/sqlstore/sqlstoretest"
)

func TestMigrate(t *testing.T) {
	for _, d := range sqlstoretest.Dialects {
		t.Run(d, func(t *testing.T) {
			ctx := context.Background()
			cfg := sqlstoretest.Config(t, d)
			// Members started at the same moment migrate the same database.
			var wg sync.WaitGroup
			applied := make([][]string, 3)
			errs := make([]error, 3)
			for i := range 3 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					s, err := sqlstore.Open(ctx, cfg)
					if err != nil {
						errs[i] = err
						return
					}
					defer s.Close()
					applied[i], errs[i] = s.Migrate(ctx)
				}()
			}
			wg.Wait()
			total := 0
			for i := range 3 {
				if errs[i] != nil {
					t.Fatalf("member %d: %v", i, errs[i])
				}
				total += len(applied[i])
			}
			s := sqlstoretest.OpenConfig(t, cfg)
			var n int
			if err := s.DB().QueryRowContext(ctx, "SELECT COUNT(*) FROM schema_migrations").Scan(&n); err != nil {
				t.Fatal(err)
			}
			if n == 0 || total != n {
				t.Fatalf("migrations recorded %d, applied in total %d: want equal and > 0", n, total)
			}
			again, err := s.Migrate(ctx)
			if err != nil || len(again) != 0 {
				t.Fatalf("second migrate applied %v, err %v; want nothing", again, err)
			}
		})
	}
}
