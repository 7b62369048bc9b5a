// Package sqlstore implements frontdesk's store on SQL databases: SQLite
// (pure-Go modernc.org/sqlite, WAL, one file in the data dir) by default and
// PostgreSQL (pgx/v5 connection pool) when a database URL is given. Both share
// the query code; a dialect supplies placeholders, JSON column types and the
// embedded migrations of each database. The package also holds the embedded
// event log (log.go) in the same database, so an append and the state change
// that causes it can commit in one transaction.
//
// Concurrency: Store is safe for concurrent use. SQLite allows one writer at
// a time; writes wait on the busy timeout rather than failing.
package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/frontdesk-ai/frontdesk/persistence"
)

// Config selects and tunes the database.
type Config struct {
	// DatabaseURL selects PostgreSQL when set (postgres:// or postgresql://).
	DatabaseURL string
	// DataDir holds the SQLite file (frontdesk.db) when DatabaseURL is empty.
	DataDir string
	// MaxConns bounds the PostgreSQL pool (default 16).
	MaxConns int32
}

// Validate reports a configuration that cannot work, naming the problem.
func (c Config) Validate() error {
	if c.DatabaseURL != "" {
		return ValidateDatabaseURL(c.DatabaseURL)
	}
	if c.DataDir == "" {
		return errors.New("data dir: empty (set FRONTDESK_DATA_DIR)")
	}
	return nil
}

// ValidateDatabaseURL checks that u is a usable PostgreSQL URL.
func ValidateDatabaseURL(u string) error {
	p, err := url.Parse(u)
	if err != nil {
		return fmt.Errorf("FRONTDESK_DATABASE_URL: not a URL: %w", err)
	}
	if p.Scheme != "postgres" && p.Scheme != "postgresql" {
		return fmt.Errorf("FRONTDESK_DATABASE_URL: scheme %q is not supported (want postgres://user@host:port/db)", p.Scheme)
	}
	if p.Host == "" {
		return errors.New("FRONTDESK_DATABASE_URL: missing host (want postgres://user@host:port/db)")
	}
	if _, err := pgxpool.ParseConfig(u); err != nil {
		return fmt.Errorf("FRONTDESK_DATABASE_URL: %w", err)
	}
	return nil
}

// Store is the SQL-backed store. Model methods are defined on q and so are
// available on both Store and Tx.
type Store struct {
	q
	db   *sql.DB
	pool *pgxpool.Pool
	log  *Log
	// txLog receives Tx.AppendLog (SetTxLog).
	txLog TxLog
	// SQLite only (sqlite.go): the read pool, the cached statements of the
	// writer and the pool, and the background checkpointer.
	read           *sql.DB
	wstmts, rstmts *stmtCache
	ckpt           *sql.DB
	ckptStop       chan struct{}
	ckptDone       chan struct{}
	closeOnce      sync.Once
	// group runs SQLite transactions group-committed (groupcommit.go).
	group *groupCommit
}

// Tx is a store transaction; the model methods and Log.AppendTx run in it.
type Tx struct {
	q
	tx          *sql.Tx
	log         TxLog
	afterCommit []func()
}

// Savepoint runs fn inside a savepoint: when fn fails, only its statements
// are rolled back and the transaction stays usable. PostgreSQL otherwise
// aborts the whole transaction on any failed statement, such as an insert
// that hits a unique key the caller means to treat as "already there".
func (tx *Tx) Savepoint(ctx context.Context, fn func() error) error {
	if _, err := tx.tx.ExecContext(ctx, "SAVEPOINT fd_sp"); err != nil {
		return fmt.Errorf("savepoint: %w", err)
	}
	if err := fn(); err != nil {
		if _, rerr := tx.tx.ExecContext(ctx, "ROLLBACK TO SAVEPOINT fd_sp"); rerr != nil {
			return errors.Join(err, fmt.Errorf("rollback to savepoint: %w", rerr))
		}
		return err
	}
	if _, err := tx.tx.ExecContext(ctx, "RELEASE SAVEPOINT fd_sp"); err != nil {
		return fmt.Errorf("release savepoint: %w", err)
	}
	return nil
}

// AfterCommit registers fn to run once the transaction has committed (not
// on rollback); the log uses it to wake its consumers.
func (tx *Tx) AfterCommit(fn func()) { tx.afterCommit = append(tx.afterCommit, fn) }

// execer is what queries need from *sql.DB and *sql.Tx alike.
type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// q runs the model queries against one execer in one dialect.
type q struct {
	ex execer
	d  *dialect
}

// Open connects to the configured database, checks it is usable and returns
// the store. It does not migrate; call Migrate.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.DatabaseURL != "" {
		return openPostgres(ctx, cfg)
	}
	return openSQLite(ctx, cfg)
}

func openPostgres(ctx context.Context, cfg Config) (*Store, error) {
	pc, err := pgxpool.ParseConfig(cfg.DatabaseURL)
	if err != nil {
		return nil, fmt.Errorf("FRONTDESK_DATABASE_URL: %w", err)
	}
	pc.MaxConns = 16
	if cfg.MaxConns > 0 {
		pc.MaxConns = cfg.MaxConns
	}
	pool, err := pgxpool.NewWithConfig(ctx, pc)
	if err != nil {
		return nil, fmt.Errorf("connect postgres: %w", err)
	}
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := pool.Ping(pctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("connect postgres at %s: %w", redact(cfg.DatabaseURL), err)
	}
	db := stdlib.OpenDBFromPool(pool)
	s := &Store{q: q{ex: db, d: postgresDialect}, db: db, pool: pool}
	s.log = newLog(s)
	return s, nil
}

func openSQLite(ctx context.Context, cfg Config) (*Store, error) {
	path, err := prepareSQLiteFiles(cfg.DataDir)
	if err != nil {
		return nil, err
	}
	db, err := sql.Open("sqlite", sqliteDSN(path, "_txlock=immediate", fmt.Sprintf("_pragma=wal_autocheckpoint(%d)", sqliteAutoCheckpointPages),
		fmt.Sprintf("_pragma=cache_size(-%d)", sqliteWriterCacheKiB)))
	if err != nil {
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	// One writing connection avoids SQLITE_BUSY between our own writers; the
	// read pool and other processes (replay) read through WAL.
	db.SetMaxOpenConns(1)
	// Processes opening a fresh file at the same moment (one of them turning
	// on WAL) may be answered SQLITE_BUSY at once, without the busy timeout:
	// try again for as long as that timeout.
	err = checkSQLite(ctx, db)
	for deadline := time.Now().Add(10 * time.Second); err != nil && strings.Contains(err.Error(), "SQLITE_BUSY") && time.Now().Before(deadline); {
		select {
		case <-ctx.Done():
		case <-time.After(20 * time.Millisecond):
		}
		err = checkSQLite(ctx, db)
	}
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlite %s: %w", path, err)
	}
	read, err := sql.Open("sqlite", sqliteDSN(path, "_pragma=query_only(1)", fmt.Sprintf("_pragma=cache_size(-%d)", sqliteReaderCacheKiB)))
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("open sqlite %s for reading: %w", path, err)
	}
	read.SetMaxOpenConns(sqliteReadConns)
	read.SetMaxIdleConns(sqliteReadConns) // idle connections keep their prepared statements
	ckpt, err := sql.Open("sqlite", sqliteDSN(path))
	if err != nil {
		db.Close()
		read.Close()
		return nil, fmt.Errorf("open sqlite %s for checkpoints: %w", path, err)
	}
	ckpt.SetMaxOpenConns(1)
	s := &Store{db: db, read: read, ckpt: ckpt, wstmts: newStmtCache(db), rstmts: newStmtCache(read),
		ckptStop: make(chan struct{}), ckptDone: make(chan struct{})}
	s.group = newGroupCommit(s)
	s.q = q{ex: &sqliteDB{w: db, r: read, wc: s.wstmts, rc: s.rstmts, group: s.group}, d: sqliteDialect}
	s.log = newLog(s)
	go checkpointLoop(ckpt, s.ckptStop, s.ckptDone)
	return s, nil
}

// checkSQLite fails on a file that is not a SQLite database or is damaged,
// before anything writes to it.
func checkSQLite(ctx context.Context, db *sql.DB) error {
	var res string
	if err := db.QueryRowContext(ctx, "PRAGMA quick_check").Scan(&res); err != nil {
		return fmt.Errorf("not a usable database (corrupt data dir?): %w", err)
	}
	if res != "ok" {
		return fmt.Errorf("integrity check failed (corrupt data dir?): %s", res)
	}
	return nil
}

// Dialect names the database: "sqlite" or "postgres".
func (s *Store) Dialect() string { return s.d.name }

// Log returns the event log kept in this store's database.
func (s *Store) Log() *Log { return s.log }

// Ping checks the database answers.
func (s *Store) Ping(ctx context.Context) error { return s.db.PingContext(ctx) }

// Close releases the connections.
func (s *Store) Close() error {
	if s.ckptStop != nil {
		s.closeOnce.Do(func() {
			s.group.close()
			close(s.ckptStop)
			<-s.ckptDone
			s.wstmts.close()
			s.rstmts.close()
			_, _ = s.ckpt.Exec("PRAGMA wal_checkpoint(TRUNCATE)")
			_ = s.ckpt.Close()
			_ = s.read.Close()
		})
	}
	err := s.db.Close()
	if s.pool != nil {
		s.pool.Close()
	}
	return err
}

// InTx runs fn in a transaction and commits it when fn returns nil. On
// SQLite the transaction is group-committed with others queued meanwhile
// (groupcommit.go); fn's changes commit or roll back as its own.
func (s *Store) InTx(ctx context.Context, fn func(tx *Tx) error) error {
	if s.group != nil {
		return s.group.do(ctx, fn)
	}
	stx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	tx := &Tx{q: q{ex: stx, d: s.d}, tx: stx, log: s.txLog}
	if err := fn(tx); err != nil {
		_ = stx.Rollback()
		return err
	}
	if err := stx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", mapErr(err))
	}
	for _, f := range tx.afterCommit {
		f()
	}
	return nil
}

func redact(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return "(unparsable url)"
	}
	return p.Redacted()
}

func isDuplicate(err error) bool { return errors.Is(err, persistence.ErrDuplicate) }

// mapErr turns driver errors into the persistence sentinels.
func mapErr(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, sql.ErrNoRows) {
		return persistence.ErrNotFound
	}
	msg := err.Error()
	// SQLite: "constraint failed: UNIQUE constraint failed: ..." (2067);
	// PostgreSQL: SQLSTATE 23505.
	if strings.Contains(msg, "UNIQUE constraint failed") || strings.Contains(msg, "SQLSTATE 23505") {
		return fmt.Errorf("%w: %s", persistence.ErrDuplicate, msg)
	}
	return err
}

// DB returns the underlying database handle (tests and the log use it).
func (s *Store) DB() *sql.DB { return s.db }
