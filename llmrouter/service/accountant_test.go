package service_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/frontdesk-ai/frontdesk/clock/clocktest"
	"github.com/frontdesk-ai/frontdesk/llmrouter"
	"github.com/frontdesk-ai/frontdesk/llmrouter/service"
	"github.com/frontdesk-ai/frontdesk/persistence"
	"github.com/frontdesk-ai/frontdesk/persistence/sqlstore/sqlstoretest"
)

// dropped returns frontdesk_llm_calls_dropped_total{reason} in reg.
func dropped(t *testing.T, reg *prometheus.Registry, reason string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "frontdesk_llm_calls_dropped_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "reason" && l.GetValue() == reason {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	t.Fatalf("no frontdesk_llm_calls_dropped_total{reason=%q}", reason)
	return 0
}

// eventually polls cond until it holds, failing the test after 10s.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(2 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("not within 10s: %s", what)
		}
	}
}

// countingStore passes batches to a CallStore and remembers their sizes:
// one CreateLLMCalls is one transaction.
type countingStore struct {
	service.CallStore
	mu      sync.Mutex
	batches []int
}

func (s *countingStore) CreateLLMCalls(ctx context.Context, calls []persistence.LLMCall) error {
	s.mu.Lock()
	s.batches = append(s.batches, len(calls))
	s.mu.Unlock()
	return s.CallStore.CreateLLMCalls(ctx, calls)
}

func (s *countingStore) sizes() []int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]int(nil), s.batches...)
}

// scriptedStore fails (or blocks) as told, batch by batch.
type scriptedStore struct {
	// next, when set, writes the batches that the script lets through.
	next service.CallStore
	// entered receives each attempt's size before it runs.
	entered chan int
	// fail answers the attempt numbered n (from 0): nil passes it to next.
	fail func(ctx context.Context, n int, calls []persistence.LLMCall) error
	mu   sync.Mutex
	n    int
}

func (s *scriptedStore) CreateLLMCalls(ctx context.Context, calls []persistence.LLMCall) error {
	s.mu.Lock()
	n := s.n
	s.n++
	s.mu.Unlock()
	if s.entered != nil {
		s.entered <- len(calls)
	}
	if err := s.fail(ctx, n, calls); err != nil {
		return err
	}
	if s.next == nil {
		return nil
	}
	return s.next.CreateLLMCalls(ctx, calls)
}

func (s *scriptedStore) attempts() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.n
}

// syncBuf is a log sink safe for the writer goroutine.
type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuf) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuf) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

func (b *syncBuf) count(s string) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return strings.Count(b.b.String(), s)
}

var callReq = llmrouter.Request{TenantID: tenant, AgentProfileID: "agent-1", ConversationID: "conv-1",
	Messages: []llmrouter.Message{{Role: "user", Content: "hi"}}}

// complete calls acct n times with callReq, failing on an error.
func complete(t *testing.T, acct *service.Accountant, n int) {
	t.Helper()
	for range n {
		if resp, err := acct.Complete(context.Background(), callReq); err != nil || resp.Message.Content != "hello" {
			t.Fatalf("complete = %+v, %v", resp, err)
		}
	}
}

// TestAccountantWritesInBatches: calls are written BatchSize at a time,
// one transaction each, and a partial batch when FlushInterval has passed
// on the clock since its first call, and not before.
func TestAccountantWritesInBatches(t *testing.T) {
	for _, d := range sqlstoretest.Dialects {
		t.Run(d, func(t *testing.T) {
			store := sqlstoretest.Open(t, d)
			counting := &countingStore{CallStore: store}
			t0 := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
			clk := clocktest.New(t0)
			acct := newAccountant(t, service.AccountantConfig{BatchSize: 100, FlushInterval: time.Second, Clock: clk},
				keylessCompleter{}, counting, nil)
			count := func() int {
				cs, _, err := store.ListLLMCalls(context.Background(), tenant, persistence.Page{Limit: 500})
				if err != nil {
					t.Fatal(err)
				}
				return len(cs)
			}

			complete(t, acct, 250)
			eventually(t, "two full batches written", func() bool { return len(counting.sizes()) >= 2 })
			// The last 50 wait for their batch's timer: the clock moves until
			// all are written.
			eventually(t, "all 250 written", func() bool {
				clk.Advance(time.Second)
				return count() == 250
			})
			sizes := counting.sizes()
			sum := 0
			for _, n := range sizes {
				sum += n
				if n > 100 {
					sum = -1
					break
				}
			}
			if sizes[0] != 100 || sizes[1] != 100 || sum != 250 {
				t.Fatalf("batches %v, want 100, 100 and the last 50", sizes)
			}

			// One call alone: written once its batch is FlushInterval old.
			complete(t, acct, 1)
			eventually(t, "the batch timer is set", func() bool { return clk.Pending() == 1 })
			clk.Advance(time.Second - time.Nanosecond)
			if n := len(counting.sizes()); n != len(sizes) || clk.Pending() != 1 {
				t.Fatalf("a batch was written %d times before its interval", n-len(sizes))
			}
			clk.Advance(time.Nanosecond)
			eventually(t, "the lone call written", func() bool { return count() == 251 })
			if got := counting.sizes(); len(got) != len(sizes)+1 || got[len(got)-1] != 1 {
				t.Fatalf("batches %v", got)
			}
			// Records carry the time of the call, not of the write.
			cs, _, err := store.ListLLMCalls(context.Background(), tenant, persistence.Page{Limit: 1})
			if err != nil || cs[0].Outcome != persistence.LLMOutcomeOK || cs[0].Backend != "test" || cs[0].Model != "m" ||
				cs[0].ConversationID != "conv-1" || cs[0].AgentProfileID != "agent-1" || !cs[0].CreatedAt.Equal(t0) || cs[0].LatencyMS != 0 {
				t.Fatalf("recorded %+v, %v", cs, err)
			}
		})
	}
}

// TestAccountantFullBufferDrops: while the store blocks forever, calls
// still return at once; what the buffer cannot hold is dropped, counted
// and logged once per LogEvery; Close gives up at its deadline.
func TestAccountantFullBufferDrops(t *testing.T) {
	release := make(chan struct{})
	store := &scriptedStore{entered: make(chan int, 100), fail: func(ctx context.Context, n int, _ []persistence.LLMCall) error {
		if n == 0 {
			<-release // blocks, deaf to its context
			return nil
		}
		return ctx.Err()
	}}
	clk := clocktest.New(time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC))
	reg := prometheus.NewRegistry()
	var logs syncBuf
	acct, err := service.NewAccountant(service.AccountantConfig{Buffer: 4, BatchSize: 1, LogEvery: time.Minute, Clock: clk},
		keylessCompleter{}, store, zerolog.New(&logs), reg)
	if err != nil {
		t.Fatal(err)
	}
	defer close(release)

	complete(t, acct, 1)
	<-store.entered // the writer is stuck in the store
	returned := make(chan struct{})
	go func() {
		defer close(returned)
		for range 9 {
			if _, err := acct.Complete(context.Background(), callReq); err != nil {
				t.Error(err)
			}
		}
	}()
	select {
	case <-returned:
	case <-time.After(10 * time.Second):
		t.Fatal("calls blocked on a store that blocks")
	}
	if n := dropped(t, reg, "buffer_full"); n != 5 {
		t.Fatalf("dropped{buffer_full} = %v, want 5 (9 calls, 4 buffered)", n)
	}
	if n := logs.count("llm calls not recorded"); n != 1 {
		t.Fatalf("%d log lines about drops, want 1:\n%s", n, logs.String())
	}

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := acct.Close(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("close with the store stuck = %v", err)
	}
	complete(t, acct, 1) // after Close: answered, not recorded
	if n := dropped(t, reg, "closed"); n != 1 {
		t.Fatalf("dropped{closed} = %v after Close, want 1", n)
	}
	release <- struct{}{}
	// The stuck batch is written; the 4 buffered ones meet the cancelled
	// context, one batch each.
	eventually(t, "the buffered calls dropped", func() bool { return dropped(t, reg, "closed") == 5 })
	if n := logs.count("llm calls not recorded"); n != 1 {
		t.Fatalf("%d log lines about drops within LogEvery, want 1", n)
	}
	clk.Advance(time.Minute)
	complete(t, acct, 1)
	// The second line counts the drops since the first: 4 more for the
	// full buffer, 1 + 4 + 1 at and after Close.
	if n := logs.count("llm calls not recorded"); n != 2 || logs.count(`"dropped_buffer_full":4,"dropped_store_error":0,"dropped_closed":6`) != 1 {
		t.Fatalf("after LogEvery: %d log lines, want 2 with the drops since the first:\n%s", n, logs.String())
	}
}

// TestAccountantRetries: a failed batch is tried again after a doubling
// backoff on the clock; one that fails every try is dropped and counted;
// one whose first try did commit is not written twice.
func TestAccountantRetries(t *testing.T) {
	down := errors.New("connection refused")
	for _, tc := range []struct {
		name     string
		fail     func(ctx context.Context, n int, calls []persistence.LLMCall, db service.CallStore) error
		attempts int
		rows     int
		dropped  float64
	}{
		{"store down", func(context.Context, int, []persistence.LLMCall, service.CallStore) error { return down }, 3, 0, 1},
		{"store back after two failures", func(_ context.Context, n int, _ []persistence.LLMCall, _ service.CallStore) error {
			if n < 2 {
				return down
			}
			return nil
		}, 3, 1, 0},
		{"first try committed, answer lost", func(ctx context.Context, n int, calls []persistence.LLMCall, db service.CallStore) error {
			if n == 0 {
				if err := db.CreateLLMCalls(ctx, calls); err != nil {
					return err
				}
				return down
			}
			return nil
		}, 2, 1, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db := sqlstoretest.Open(t, "sqlite")
			store := &scriptedStore{next: db}
			store.fail = func(ctx context.Context, n int, calls []persistence.LLMCall) error {
				return tc.fail(ctx, n, calls, db)
			}
			clk := clocktest.New(time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC))
			reg := prometheus.NewRegistry()
			acct := newAccountant(t, service.AccountantConfig{BatchSize: 1, Retries: 2, RetryBackoff: time.Second, Clock: clk},
				keylessCompleter{}, store, reg)
			complete(t, acct, 1)
			for try, backoff := 1, time.Second; try < tc.attempts; try, backoff = try+1, backoff*2 {
				eventually(t, "the backoff timer is set", func() bool { return store.attempts() == try && clk.Pending() == 1 })
				clk.Advance(backoff - time.Nanosecond)
				if store.attempts() != try {
					t.Fatalf("tried again before the backoff of %s", backoff)
				}
				clk.Advance(time.Nanosecond)
			}
			flush(t, acct)
			if n := store.attempts(); n != tc.attempts {
				t.Fatalf("%d attempts, want %d", n, tc.attempts)
			}
			if cs, _, _ := db.ListLLMCalls(context.Background(), tenant, persistence.Page{}); len(cs) != tc.rows {
				t.Fatalf("%d rows, want %d", len(cs), tc.rows)
			}
			if n := dropped(t, reg, "store_error"); n != tc.dropped {
				t.Fatalf("dropped{store_error} = %v, want %v", n, tc.dropped)
			}
		})
	}
}

func flush(t *testing.T, acct *service.Accountant) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := acct.Flush(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestAccountantCloseWritesBuffered: Close writes every call still waiting
// for its batch; calls after Close are answered and dropped.
func TestAccountantCloseWritesBuffered(t *testing.T) {
	for _, d := range sqlstoretest.Dialects {
		t.Run(d, func(t *testing.T) {
			store := sqlstoretest.Open(t, d)
			counting := &countingStore{CallStore: store}
			clk := clocktest.New(time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)) // never moves: no batch is due by time
			reg := prometheus.NewRegistry()
			acct, err := service.NewAccountant(service.AccountantConfig{BatchSize: 1000, Clock: clk}, keylessCompleter{}, counting,
				zerolog.Nop(), reg)
			if err != nil {
				t.Fatal(err)
			}
			complete(t, acct, 300)
			if n := len(counting.sizes()); n != 0 {
				t.Fatalf("%d batches written before Close", n)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := acct.Close(ctx); err != nil {
				t.Fatal(err)
			}
			if cs, _, _ := store.ListLLMCalls(ctx, tenant, persistence.Page{Limit: 500}); len(cs) != 300 {
				t.Fatalf("%d rows after Close, want 300", len(cs))
			}
			if got := counting.sizes(); len(got) != 1 || got[0] != 300 {
				t.Fatalf("batches %v, want one of 300", got)
			}
			complete(t, acct, 2)
			if err := acct.Close(ctx); err != nil {
				t.Fatalf("second Close: %v", err)
			}
			if err := acct.Flush(ctx); err != nil {
				t.Fatalf("Flush after Close: %v", err)
			}
			if n, m := dropped(t, reg, "closed"), dropped(t, reg, "buffer_full")+dropped(t, reg, "store_error"); n != 2 || m != 0 {
				t.Fatalf("dropped closed %v, others %v", n, m)
			}
		})
	}
}
