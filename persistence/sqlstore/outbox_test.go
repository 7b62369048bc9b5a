package sqlstore_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/frontdesk-ai/frontdesk/persistence"
	"github.com/frontdesk-ai/frontdesk/persistence/sqlstore"
	"github.com/frontdesk-ai/frontdesk/persistence/sqlstore/sqlstoretest"
)

// memLog records what the relay produced.
type memLog struct {
	mu   sync.Mutex
	recs []persistence.Record
	fail int
}

func (m *memLog) Append(_ context.Context, recs ...persistence.Record) ([]persistence.Record, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail > 0 {
		m.fail--
		return nil, fmt.Errorf("broker down")
	}
	m.recs = append(m.recs, recs...)
	return recs, nil
}

func (m *memLog) got() []persistence.Record {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]persistence.Record(nil), m.recs...)
}

func TestOutbox(t *testing.T) {
	for _, d := range sqlstoretest.Dialects {
		t.Run(d, func(t *testing.T) {
			ctx := context.Background()
			s := sqlstoretest.Open(t, d)
			ob := sqlstore.NewOutbox(s)
			// A rolled-back transaction queues nothing.
			_ = s.InTx(ctx, func(tx *sqlstore.Tx) error {
				if _, err := ob.AppendTx(ctx, tx, persistence.Record{Topic: "inbound", Key: "k", Value: []byte("rolled back")}); err != nil {
					t.Fatal(err)
				}
				return fmt.Errorf("abort")
			})
			log := &memLog{fail: 2}
			rctx, cancel := context.WithCancel(ctx)
			done := make(chan error, 1)
			go func() { done <- ob.Relay(rctx, log, 20*time.Millisecond, zerolog.Nop()) }()
			const n = 120
			var wg sync.WaitGroup
			for w := range 4 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := range n / 4 {
						err := s.InTx(ctx, func(tx *sqlstore.Tx) error {
							_, err := ob.AppendTx(ctx, tx, persistence.Record{Topic: "inbound", Key: fmt.Sprintf("key-%d", w), Value: []byte(fmt.Sprint(i))})
							return err
						})
						if err != nil {
							t.Error(err)
						}
					}
				}()
			}
			wg.Wait()
			deadline := time.Now().Add(20 * time.Second)
			for len(log.got()) < n && time.Now().Before(deadline) {
				time.Sleep(20 * time.Millisecond)
			}
			cancel()
			<-done
			got := log.got()
			if len(got) != n {
				t.Fatalf("relayed %d records, want %d (the broker failed twice: retried, nothing lost)", len(got), n)
			}
			next := map[string]int{}
			for _, r := range got {
				if string(r.Value) == "rolled back" {
					t.Fatal("a rolled-back record was relayed")
				}
				if want := fmt.Sprint(next[r.Key]); string(r.Value) != want {
					t.Fatalf("key %s: got %s, want %s (per-key order)", r.Key, r.Value, want)
				}
				next[r.Key]++
			}
			if p, err := ob.Pending(ctx); err != nil || p != 0 {
				t.Fatalf("pending = %d, %v; want 0", p, err)
			}
		})
	}
}
