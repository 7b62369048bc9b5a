package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// The SQLite store runs on three handles to one file:
//
//   - the writer: one connection, so our own writers never meet SQLITE_BUSY;
//     every transaction and every write outside one runs on it;
//   - the read pool: a few query_only connections for reads outside a
//     transaction (log polls, grain activations, API reads). WAL lets them
//     read while the writer writes, and a read that starts after a commit
//     returned sees it, so reads of one's own writes stay consistent;
//   - the checkpointer: one connection that copies the WAL back into the
//     database in the background, so no commit pays for a checkpoint.
//
// Statements are prepared once per connection and kept (stmtCache):
// preparing costs more than running most of our statements.

const (
	// sqliteReadConns is the size of the read pool.
	sqliteReadConns = 4
	// sqliteCheckpointEvery is how often the background checkpoint runs.
	sqliteCheckpointEvery = 250 * time.Millisecond
	// sqliteAutoCheckpointPages is the WAL size (pages of 4 KiB) at which a
	// commit checkpoints by itself: a safety net far above what the
	// background checkpoint lets the WAL reach.
	sqliteAutoCheckpointPages = 16384
	// sqliteWriterCacheKiB and sqliteReaderCacheKiB size the page caches of
	// the writer and of each reader: the writer touches the hot pages of
	// every table (log, messages, checkpoints) on each group commit.
	sqliteWriterCacheKiB = 64 << 10
	sqliteReaderCacheKiB = 16 << 10
	// stmtCacheMax bounds the prepared statements kept per handle; queries
	// built with a variable number of rows can have many shapes.
	stmtCacheMax = 512
)

// prepareSQLiteFiles makes the data dir (0700 when it creates it) and the
// database file, created 0600 before SQLite opens it: SQLite gives its WAL
// and shared-memory files the database file's mode, so none of them is
// readable by other users whatever the umask. Files of an existing store
// with wider modes are narrowed to 0600 where this user may (a failure
// there is not fatal: the store still opens as before). It returns the
// database file's path.
func prepareSQLiteFiles(dir string) (string, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("data dir %s: %w", dir, err)
	}
	path := filepath.Join(dir, "frontdesk.db")
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return "", fmt.Errorf("create sqlite %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return "", fmt.Errorf("create sqlite %s: %w", path, err)
	}
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		if fi, err := os.Stat(p); err == nil && fi.Mode().Perm()&0o077 != 0 {
			_ = os.Chmod(p, 0o600)
		}
	}
	return path, nil
}

// sqliteDSN is the connection string of the file at path with the pragmas
// every connection runs.
func sqliteDSN(path string, extra ...string) string {
	p := []string{
		"_pragma=busy_timeout(10000)", "_pragma=journal_mode(WAL)", "_pragma=foreign_keys(1)",
		"_pragma=synchronous(NORMAL)", "_pragma=temp_store(MEMORY)",
		// Pages are read through a memory map rather than a read() each.
		"_pragma=mmap_size(268435456)",
	}
	return "file:" + uriPath.Replace(path) + "?" + strings.Join(append(p, extra...), "&")
}

// uriPath escapes what would end or change the path in a URI filename: a
// data dir may hold "#", "?" or "%".
var uriPath = strings.NewReplacer("%", "%25", "#", "%23", "?", "%3f")

// stmtCache keeps one prepared statement per query text on a handle. A
// statement prepared on the handle is prepared again by database/sql on each
// connection that first runs it, and then reused on that connection.
type stmtCache struct {
	db *sql.DB
	mu sync.RWMutex
	m  map[string]*sql.Stmt
}

func newStmtCache(db *sql.DB) *stmtCache { return &stmtCache{db: db, m: map[string]*sql.Stmt{}} }

func (c *stmtCache) get(query string) *sql.Stmt {
	c.mu.RLock()
	st := c.m[query]
	c.mu.RUnlock()
	return st
}

// prepare returns the cached statement of query, preparing it when it is
// missing and the cache has room; nil means "run it unprepared". It takes a
// connection of the handle: never call it while holding the writer's
// only connection in a transaction.
func (c *stmtCache) prepare(ctx context.Context, query string) *sql.Stmt {
	if st := c.get(query); st != nil {
		return st
	}
	c.mu.RLock()
	full := len(c.m) >= stmtCacheMax
	c.mu.RUnlock()
	if full {
		return nil
	}
	st, err := c.db.PrepareContext(ctx, query)
	if err != nil {
		return nil // the query itself reports the error when run
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if prev := c.m[query]; prev != nil {
		_ = st.Close()
		return prev
	}
	c.m[query] = st
	return st
}

func (c *stmtCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for q, st := range c.m {
		_ = st.Close()
		delete(c.m, q)
	}
}

// isRead reports whether query only reads, so that outside a transaction it
// may run on the read pool.
func isRead(query string) bool {
	q := strings.TrimLeft(query, " \t\r\n(")
	if len(q) < 6 {
		return false
	}
	head := strings.ToUpper(q[:6])
	if head != "SELECT" && !strings.HasPrefix(head, "WITH") {
		return false
	}
	u := strings.ToUpper(q)
	return !strings.Contains(u, "RETURNING") && !strings.Contains(u, "INSERT ") &&
		!strings.Contains(u, "UPDATE ") && !strings.Contains(u, "DELETE ")
}

// sqliteDB runs statements outside a transaction, with cached statements:
// reads on the read pool; writes in the next group commit (ExecContext, and
// writeRow for a write that returns its row) rather than alone on the
// writer's connection.
type sqliteDB struct {
	w, r   *sql.DB
	wc, rc *stmtCache
	group  *groupCommit
}

func (d *sqliteDB) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	var res sql.Result
	err := d.group.do(ctx, func(tx *Tx) error {
		var err error
		res, err = tx.q.ex.ExecContext(ctx, query, args...)
		return err
	})
	return res, err
}

func (d *sqliteDB) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	db, c := d.handle(query)
	if st := c.prepare(ctx, query); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return db.QueryContext(ctx, query, args...)
}

func (d *sqliteDB) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	db, c := d.handle(query)
	if st := c.prepare(ctx, query); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return db.QueryRowContext(ctx, query, args...)
}

// writeRow runs a write that returns one row (UPDATE ... RETURNING) and
// hands the row to scan. Outside a transaction on SQLite it joins the group
// commit: run alone on the writer's connection it would queue there ahead of
// the group writer, which then waits behind every such write.
func (q q) writeRow(ctx context.Context, query string, args []any, scan func(*sql.Row) error) error {
	if db, ok := q.ex.(*sqliteDB); ok {
		return db.group.do(ctx, func(tx *Tx) error { return scan(tx.q.ex.QueryRowContext(ctx, query, args...)) })
	}
	return scan(q.ex.QueryRowContext(ctx, query, args...))
}

func (d *sqliteDB) handle(query string) (*sql.DB, *stmtCache) {
	if isRead(query) {
		return d.r, d.rc
	}
	return d.w, d.wc
}

// sqliteTx runs a transaction's statements with the writer's cached
// statements. A statement not cached yet runs unprepared and is noted, and
// InTx prepares it once the transaction has released the connection.
type sqliteTx struct {
	tx     *sql.Tx
	c      *stmtCache
	missed []string
}

func (t *sqliteTx) stmt(ctx context.Context, query string) *sql.Stmt {
	if st := t.c.get(query); st != nil {
		return t.tx.StmtContext(ctx, st)
	}
	if len(t.missed) < 64 {
		t.missed = append(t.missed, query)
	}
	return nil
}

func (t *sqliteTx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if st := t.stmt(ctx, query); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return t.tx.ExecContext(ctx, query, args...)
}

func (t *sqliteTx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if st := t.stmt(ctx, query); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return t.tx.QueryContext(ctx, query, args...)
}

func (t *sqliteTx) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if st := t.stmt(ctx, query); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return t.tx.QueryRowContext(ctx, query, args...)
}

// checkpointLoop copies the WAL into the database every
// sqliteCheckpointEvery until stop is closed. PASSIVE never waits for
// readers or the writer: what it cannot copy now, it copies next time.
func checkpointLoop(db *sql.DB, stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	t := time.NewTicker(sqliteCheckpointEvery)
	defer t.Stop()
	failures := 0
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		_, err := db.ExecContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)")
		cancel()
		if err != nil {
			failures++
			if failures == 1 || failures%100 == 0 {
				slog.Warn("sqlite background checkpoint failed; commits checkpoint by themselves past the WAL limit",
					"err", err, "failures", failures)
			}
			continue
		}
		failures = 0
	}
}
