package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/frontdesk-ai/frontdesk/persistence"
)

func openSQLiteForTest(t *testing.T) (*Store, string) {
	t.Helper()
	dir := t.TempDir()
	s, err := Open(context.Background(), Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if _, err := s.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return s, filepath.Join(dir, "frontdesk.db")
}

// A read outside a transaction runs on the read pool: it completes while a
// transaction holds the writer's only connection.
func TestSQLiteReadsDoNotWaitForTheWriter(t *testing.T) {
	s, _ := openSQLiteForTest(t)
	ctx := context.Background()
	if _, err := s.Log().Append(ctx, persistence.Record{Topic: "t", Key: "k", Value: []byte("v")}); err != nil {
		t.Fatal(err)
	}
	p := int32(0)
	n, _ := s.Log().Partitions(ctx, "t")
	for i := int32(0); i < n; i++ {
		if end, _ := s.Log().EndOffset(ctx, "t", i); end > 0 {
			p = i
		}
	}
	held, release := make(chan struct{}), make(chan struct{})
	txDone := make(chan error, 1)
	go func() {
		txDone <- s.InTx(ctx, func(tx *Tx) error {
			if _, err := s.Log().AppendTx(ctx, tx, persistence.Record{Topic: "t", Key: "k", Value: []byte("w")}); err != nil {
				close(held)
				return err
			}
			close(held)
			<-release
			return nil
		})
	}()
	<-held
	read := make(chan []persistence.Record, 1)
	go func() {
		recs, err := s.Log().Read(ctx, "t", p, 0, 10)
		if err != nil {
			t.Error(err)
		}
		read <- recs
	}()
	select {
	case recs := <-read:
		if len(recs) != 1 || string(recs[0].Value) != "v" {
			t.Errorf("read while the writer is held: %d records, want the 1 committed one", len(recs))
		}
	case <-time.After(10 * time.Second):
		t.Error("a read waited for the transaction holding the writer")
	}
	close(release)
	if err := <-txDone; err != nil {
		t.Fatal(err)
	}
	// Read-your-writes: the commit that returned is visible to the pool.
	if recs, err := s.Log().Read(ctx, "t", p, 0, 10); err != nil || len(recs) != 2 {
		t.Fatalf("after the commit: %d records (%v), want 2", len(recs), err)
	}
}

// A statement is prepared once, after the transaction that first ran it,
// and later transactions run the cached one.
func TestSQLiteStatementsArePreparedOnce(t *testing.T) {
	s, _ := openSQLiteForTest(t)
	ctx := context.Background()
	const query = "INSERT INTO inbound_dedupe (channel, dedupe_key, tenant_id, created_at) VALUES (?, ?, ?, ?)"
	run := func(key string) *sqliteTx {
		var st *sqliteTx
		if err := s.InTx(ctx, func(tx *Tx) error {
			st = tx.q.ex.(*sqliteTx)
			_, err := tx.q.ex.ExecContext(ctx, query, "whatsapp", key, "t1", time.Now().UTC().Format(time.RFC3339Nano))
			return err
		}); err != nil {
			t.Fatal(err)
		}
		return st
	}
	if first := run("a"); len(first.missed) != 1 {
		t.Fatalf("first transaction missed %v, want the one query", first.missed)
	}
	if s.wstmts.get(query) == nil {
		t.Fatal("the statement was not cached after the transaction")
	}
	if second := run("b"); len(second.missed) != 0 {
		t.Fatalf("second transaction prepared %v again", second.missed)
	}
	var n int
	if err := s.q.ex.QueryRowContext(ctx, "SELECT COUNT(*) FROM inbound_dedupe").Scan(&n); err != nil || n != 2 {
		t.Fatalf("rows: %d (%v), want 2", n, err)
	}
}

// Commits leave the WAL to the background checkpointer, which copies it into
// the database file without a commit paying for it.
func TestSQLiteCheckpointsInTheBackground(t *testing.T) {
	s, path := openSQLiteForTest(t)
	ctx := context.Background()
	// Let the checkpointer copy the migrations first.
	time.Sleep(2 * sqliteCheckpointEvery)
	before := fileSize(t, path)
	recs := make([]persistence.Record, 200)
	for i := range recs {
		recs[i] = persistence.Record{Topic: "t", Key: fmt.Sprint(i), Value: make([]byte, 2000)}
	}
	if _, err := s.Log().Append(ctx, recs...); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(30 * time.Second); fileSize(t, path) < before+200*2000; {
		if time.Now().After(deadline) {
			t.Fatalf("database file stayed at %d bytes (was %d): the WAL was not checkpointed", fileSize(t, path), before)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func fileSize(t *testing.T, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

func TestIsRead(t *testing.T) {
	for q, want := range map[string]bool{
		"SELECT 1":                                       true,
		"  select id FROM t WHERE x = ?":                 true,
		"WITH a AS (SELECT 1) SELECT * FROM a":           true,
		"INSERT INTO t VALUES (1)":                       false,
		"INSERT INTO t VALUES (1) RETURNING id":          false,
		"UPDATE t SET a = 1 RETURNING a":                 false,
		"WITH a AS (DELETE FROM t RETURNING *) SELECT 1": false,
		"PRAGMA quick_check":                             false,
	} {
		if got := isRead(q); got != want {
			t.Errorf("isRead(%q) = %v, want %v", q, got, want)
		}
	}
}

func dedupeRows(t *testing.T, s *Store) map[string]bool {
	t.Helper()
	rows, err := s.q.ex.QueryContext(context.Background(), "SELECT dedupe_key FROM inbound_dedupe")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	got := map[string]bool{}
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			t.Fatal(err)
		}
		got[k] = true
	}
	return got
}

func insertDedupe(ctx context.Context, tx *Tx, key string) error {
	_, err := tx.q.ex.ExecContext(ctx, "INSERT INTO inbound_dedupe (channel, dedupe_key, tenant_id, created_at) VALUES (?, ?, ?, ?)",
		"whatsapp", key, "t1", time.Now().UTC().Format(time.RFC3339Nano))
	return err
}

// Transactions queued while the writer is busy commit together in one
// group; one that fails rolls back alone, one whose caller gave up never
// runs, and only the committed ones run their after-commit hooks.
func TestSQLiteGroupCommit(t *testing.T) {
	s, _ := openSQLiteForTest(t)
	ctx := context.Background()
	held, release := make(chan struct{}), make(chan struct{})
	first := make(chan error, 1)
	go func() {
		first <- s.InTx(ctx, func(tx *Tx) error {
			close(held)
			<-release
			return insertDedupe(ctx, tx, "first")
		})
	}()
	<-held
	commits0, txs0 := s.group.stats()

	type outcome struct {
		key       string
		err       error
		committed bool
	}
	results := make(chan outcome, 20)
	queued := func() int { return len(s.group.reqs) }
	want := 0
	start := func(key string, ctx context.Context, fail bool) {
		want++
		n := queued()
		go func() {
			hooked := false
			err := s.InTx(ctx, func(tx *Tx) error {
				if err := insertDedupe(ctx, tx, key); err != nil {
					return err
				}
				tx.AfterCommit(func() { hooked = true })
				if fail {
					return errors.New("refused")
				}
				return nil
			})
			results <- outcome{key, err, hooked}
		}()
		for queued() == n { // keep the queue order the test relies on
			time.Sleep(time.Millisecond)
		}
	}
	gone, cancel := context.WithCancel(ctx)
	for i := 0; i < 10; i++ {
		start(fmt.Sprint("ok", i), ctx, false)
	}
	start("fails", ctx, true)
	start("gave-up", gone, false)
	start("after", ctx, false)
	cancel()
	close(release)
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	for i := 0; i < want; i++ {
		o := <-results
		switch o.key {
		case "fails":
			if o.err == nil || o.committed {
				t.Errorf("failing transaction: err %v, hook ran %v", o.err, o.committed)
			}
		case "gave-up":
			if !errors.Is(o.err, context.Canceled) || o.committed {
				t.Errorf("cancelled caller: err %v, hook ran %v", o.err, o.committed)
			}
		default:
			if o.err != nil || !o.committed {
				t.Errorf("%s: err %v, hook ran %v", o.key, o.err, o.committed)
			}
		}
	}
	rows := dedupeRows(t, s)
	if len(rows) != 12 || rows["fails"] || rows["gave-up"] || !rows["after"] || !rows["ok9"] || !rows["first"] {
		t.Fatalf("rows %v: want first, ok0-9 and after only", rows)
	}
	commits, txs := s.group.stats()
	// The first transaction's commit, then one for the 11 queued behind it.
	if commits-commits0 != 2 || txs-txs0 != 12 {
		t.Fatalf("the first and the 11 queued transactions took %d commits (%d transactions), want 2", commits-commits0, txs-txs0)
	}
}

// A panic in a transaction function reaches its caller, and the writer goes
// on serving the others.
func TestSQLiteGroupCommitPanic(t *testing.T) {
	s, _ := openSQLiteForTest(t)
	ctx := context.Background()
	func() {
		defer func() {
			if recover() == nil {
				t.Error("the panic did not reach the caller")
			}
		}()
		_ = s.InTx(ctx, func(tx *Tx) error {
			if err := insertDedupe(ctx, tx, "panicked"); err != nil {
				return err
			}
			panic("boom")
		})
	}()
	if err := s.InTx(ctx, func(tx *Tx) error { return insertDedupe(ctx, tx, "next") }); err != nil {
		t.Fatal(err)
	}
	if rows := dedupeRows(t, s); len(rows) != 1 || !rows["next"] {
		t.Fatalf("rows %v: want only the one after the panic", rows)
	}
}

// A transaction of an Urgent context queued behind others runs first in the
// next group.
func TestSQLiteGroupCommitRunsUrgentFirst(t *testing.T) {
	s, _ := openSQLiteForTest(t)
	ctx := context.Background()
	held, release := make(chan struct{}), make(chan struct{})
	go func() {
		_ = s.InTx(ctx, func(tx *Tx) error { close(held); <-release; return nil })
	}()
	<-held
	var mu sync.Mutex
	var order []string
	var wg sync.WaitGroup
	queue := func(name string, ctx context.Context) {
		n := len(s.group.reqs) + len(s.group.urgent)
		wg.Go(func() {
			_ = s.InTx(ctx, func(tx *Tx) error {
				mu.Lock()
				order = append(order, name)
				mu.Unlock()
				return nil
			})
		})
		for len(s.group.reqs)+len(s.group.urgent) == n {
			time.Sleep(time.Millisecond)
		}
	}
	for i := range 5 {
		queue(fmt.Sprint("normal", i), ctx)
	}
	queue("urgent", persistence.Urgent(ctx))
	close(release)
	wg.Wait()
	if len(order) != 6 || order[0] != "urgent" || order[1] != "normal0" {
		t.Fatalf("ran in order %v, want the urgent one first, then the others in queue order", order)
	}
}

// stats reports the group commits so far and the transactions they held.
func (g *groupCommit) stats() (commits, txs int64) { return g.commits.Load(), g.txs.Load() }
