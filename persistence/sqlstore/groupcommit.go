package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/frontdesk-ai/frontdesk/persistence"
)

// groupCommit runs SQLite transactions group-committed: callers of InTx queue
// their functions, and one writer goroutine runs every function that queued
// meanwhile inside one database transaction, each in a savepoint of its own,
// and commits them together. A function that fails rolls back to its
// savepoint only; the others commit. Each caller returns once the commit
// that holds its changes returned (or with its own error), so what it wrote
// is as durable as with a transaction of its own, while the commit's work
// (the WAL frames of pages many callers touch, such as the log's partition
// rows and the live streams) is paid once per group instead of once per
// caller. Functions run in queue order, each seeing the changes of the ones
// before it, as if they ran one after another.
type groupCommit struct {
	s    *Store
	reqs chan *groupReq
	// urgent holds transactions of contexts marked persistence.Urgent: each
	// group takes them before the others.
	urgent chan *groupReq
	stop   chan struct{}
	done   chan struct{}

	mu     sync.Mutex
	closed bool

	// commits and txs count group commits and the transactions they held.
	commits, txs atomic.Int64
}

type groupReq struct {
	ctx context.Context
	fn  func(tx *Tx) error
	tx  *Tx
	err error
	// panicked is what fn panicked with: the caller panics with it.
	panicked any
	done     chan struct{}
}

// groupMax bounds the functions of one group, so a long queue cannot hold
// the write lock for long.
const groupMax = 128

// errStoreClosed answers InTx after Close.
var errStoreClosed = errors.New("store closed")

func newGroupCommit(s *Store) *groupCommit {
	g := &groupCommit{s: s, reqs: make(chan *groupReq, 8*groupMax), urgent: make(chan *groupReq, groupMax),
		stop: make(chan struct{}), done: make(chan struct{})}
	go g.loop()
	return g
}

// do runs fn in the next group and returns its outcome.
func (g *groupCommit) do(ctx context.Context, fn func(tx *Tx) error) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	r := &groupReq{ctx: ctx, fn: fn, done: make(chan struct{})}
	g.mu.Lock()
	if g.closed {
		g.mu.Unlock()
		return fmt.Errorf("begin: %w", errStoreClosed)
	}
	// Sending under mu keeps close from racing with a send; the writer
	// drains the channels without taking mu, so this never deadlocks.
	if persistence.IsUrgent(ctx) {
		g.urgent <- r
	} else {
		g.reqs <- r
	}
	g.mu.Unlock()
	// The caller waits even when its context ends: once queued, fn may run
	// and commit, and the caller must learn the outcome.
	<-r.done
	if r.panicked != nil {
		panic(r.panicked)
	}
	if r.err != nil {
		return r.err
	}
	for _, f := range r.tx.afterCommit {
		f()
	}
	return nil
}

// close stops the writer after the queued functions have run.
func (g *groupCommit) close() {
	g.mu.Lock()
	if !g.closed {
		g.closed = true
		close(g.stop)
	}
	g.mu.Unlock()
	<-g.done
}

func (g *groupCommit) loop() {
	defer close(g.done)
	batch := make([]*groupReq, 0, groupMax)
	for {
		batch = batch[:0]
		// Wait for the first transaction; then take what is queued, urgent
		// first (a select between ready channels picks at random).
		var first *groupReq // the first of the others, which keep their order
		select {
		case r := <-g.urgent:
			batch = append(batch, r)
		case first = <-g.reqs:
		case <-g.stop:
			// Run what is still queued, then stop.
			for {
				select {
				case r := <-g.urgent:
					g.run([]*groupReq{r})
				case r := <-g.reqs:
					g.run([]*groupReq{r})
				default:
					return
				}
			}
		}
		batch = take(g.urgent, batch)
		if first != nil {
			batch = append(batch, first)
		}
		batch = take(g.reqs, batch)
		g.run(batch)
	}
}

// take adds to batch what is queued on ch, up to groupMax.
func take(ch chan *groupReq, batch []*groupReq) []*groupReq {
	for len(batch) < groupMax {
		select {
		case r := <-ch:
			batch = append(batch, r)
		default:
			return batch
		}
	}
	return batch
}

// run executes one group and answers its callers.
func (g *groupCommit) run(batch []*groupReq) {
	defer func() {
		for _, r := range batch {
			close(r.done)
		}
	}()
	fail := func(err error) {
		for _, r := range batch {
			if r.err == nil {
				r.err = err
			}
		}
	}
	// The transaction outlives any one caller's context: a caller whose
	// context ends rolls back its own savepoint, not the group.
	stx, err := g.s.db.BeginTx(context.Background(), nil)
	if err != nil {
		fail(fmt.Errorf("begin: %w", err))
		return
	}
	st := &sqliteTx{tx: stx, c: g.s.wstmts}
	defer func() {
		for _, query := range st.missed {
			g.s.wstmts.prepare(context.Background(), query)
		}
	}()
	ok := 0
	for _, r := range batch {
		r.tx = &Tx{q: q{ex: st, d: g.s.d}, tx: stx, log: g.s.txLog}
		if err := r.ctx.Err(); err != nil {
			r.err = fmt.Errorf("begin: %w", err)
			continue
		}
		if _, err := stx.Exec("SAVEPOINT fd_group"); err != nil {
			_ = stx.Rollback()
			fail(fmt.Errorf("begin: %w", err))
			return
		}
		r.err = r.run()
		if r.err != nil {
			// SQLite may have rolled back the whole transaction (a full disk,
			// an I/O error); then the savepoint is gone and so is the group.
			if _, err := stx.Exec("ROLLBACK TO SAVEPOINT fd_group"); err != nil {
				_ = stx.Rollback()
				fail(fmt.Errorf("transaction rolled back by the database after %v: %w", r.err, err))
				return
			}
		} else {
			ok++
		}
		if _, err := stx.Exec("RELEASE SAVEPOINT fd_group"); err != nil {
			_ = stx.Rollback()
			fail(fmt.Errorf("release savepoint: %w", err))
			return
		}
	}
	if ok == 0 {
		_ = stx.Rollback()
		return
	}
	if err := stx.Commit(); err != nil {
		fail(fmt.Errorf("commit: %w", mapErr(err)))
		return
	}
	g.commits.Add(1)
	g.txs.Add(int64(ok))
}

// run runs the caller's function; a panic rolls back its savepoint and is
// raised again in the caller's goroutine, so one caller's bug does not stop
// the writer of every other.
func (r *groupReq) run() (err error) {
	defer func() {
		if p := recover(); p != nil {
			r.panicked = p
			err = fmt.Errorf("transaction function panicked: %v", p)
		}
	}()
	return r.fn(r.tx)
}
