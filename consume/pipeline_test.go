package consume

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/frontdesk-ai/frontdesk/persistence"
)

// exclusiveSub is an in-memory Exclusive subscription: Poll hands out up to
// max records past its position, Commit records the offsets committed.
type exclusiveSub struct {
	mu        sync.Mutex
	recs      []persistence.Record
	pos, max  int
	committed map[int32]int64
	polls     int
}

func (s *exclusiveSub) Exclusive() bool { return true }

func (s *exclusiveSub) Poll(ctx context.Context) ([]persistence.Record, error) {
	for {
		s.mu.Lock()
		if s.pos < len(s.recs) {
			end := min(s.pos+s.max, len(s.recs))
			out := append([]persistence.Record(nil), s.recs[s.pos:end]...)
			s.pos = end
			s.polls++
			s.mu.Unlock()
			return out, nil
		}
		s.mu.Unlock()
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(time.Millisecond):
		}
	}
}

func (s *exclusiveSub) Commit(_ context.Context, recs []persistence.Record) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range recs {
		s.committed[r.Partition] = max(s.committed[r.Partition], r.Offset+1)
	}
	return nil
}

func (s *exclusiveSub) committedAt(p int32) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.committed[p]
}

func (s *exclusiveSub) Lag(context.Context) (int64, error) { return 0, nil }
func (s *exclusiveSub) Close() error                       { return nil }

type subscriber struct{ s persistence.Subscription }

func (f subscriber) Subscribe(context.Context, string, string) (persistence.Subscription, error) {
	return f.s, nil
}

// records returns n records over parts partitions with keys k0..k(keys-1);
// a key always maps to one partition, as in the log.
func records(n, parts, keys int) []persistence.Record {
	next := make([]int64, parts)
	out := make([]persistence.Record, n)
	for i := range out {
		k := i % keys
		p := int32(k % parts)
		out[i] = persistence.Record{Topic: "t", Partition: p, Offset: next[p], Key: fmt.Sprint("k", k), Value: []byte(fmt.Sprint(i))}
		next[p]++
	}
	return out
}

// On an exclusive subscription Run polls ahead: records of later polls are
// handled while a slow record of an earlier poll is still in hand, its
// partition is committed only up to it, each key's records are handled in
// order, and once the slow one is done everything is committed.
func TestRunPipelinesExclusiveSubscriptions(t *testing.T) {
	recs := records(400, 4, 40)
	sub := &exclusiveSub{recs: recs, max: 20, committed: map[int32]int64{}}
	slow := recs[0] // k0, partition 0, offset 0, in the first poll
	release := make(chan struct{})
	var mu sync.Mutex
	seen := map[string][]string{}
	handled := 0
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, subscriber{sub}, Config{Group: "g", Topic: "t", Parallel: 8, MaxInFlight: 1000},
			func(ctx context.Context, r persistence.Record) bool {
				if r.Partition == slow.Partition && r.Offset == slow.Offset {
					<-release
				}
				mu.Lock()
				seen[r.Key] = append(seen[r.Key], string(r.Value))
				handled++
				mu.Unlock()
				return true
			})
	}()
	count := func() int { mu.Lock(); defer mu.Unlock(); return handled }
	waitFor(t, "records of later polls handled while the first poll's slow record is in hand", func() bool { return count() >= 300 })
	if got := sub.committedAt(slow.Partition); got != 0 {
		t.Fatalf("partition %d committed to %d past the record still in hand", slow.Partition, got)
	}
	waitFor(t, "other partitions committed while it is in hand", func() bool { return sub.committedAt(1) > 0 })
	close(release)
	waitFor(t, "everything committed", func() bool {
		for p := int32(0); p < 4; p++ {
			if sub.committedAt(p) != 100 {
				return false
			}
		}
		return true
	})
	mu.Lock()
	for k, vs := range seen {
		for i := 1; i < len(vs); i++ {
			var a, b int
			fmt.Sscan(vs[i-1], &a)
			fmt.Sscan(vs[i], &b)
			if a >= b {
				t.Errorf("key %s handled out of order: %v", k, vs)
				break
			}
		}
	}
	if handled != len(recs) {
		t.Errorf("handled %d records, want %d", handled, len(recs))
	}
	mu.Unlock()
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// A stop lets the records in hand finish (within DrainTimeout), commits
// them, and leaves nothing running.
func TestRunPipelinedDrainsOnStop(t *testing.T) {
	recs := records(50, 2, 5)
	sub := &exclusiveSub{recs: recs, max: 50, committed: map[int32]int64{}}
	started, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	var mu sync.Mutex
	handled := 0
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, subscriber{sub}, Config{Group: "g", Topic: "t", Parallel: 2, DrainTimeout: 10 * time.Second},
			func(ctx context.Context, r persistence.Record) bool {
				once.Do(func() { close(started); <-release })
				mu.Lock()
				handled++
				mu.Unlock()
				return true
			})
	}()
	<-started
	cancel()
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	n := handled
	mu.Unlock()
	committed := sub.committedAt(0) + sub.committedAt(1)
	if committed != int64(n) || n != len(recs) {
		t.Fatalf("handled %d, committed %d after the stop; want all %d drained and committed", n, committed, len(recs))
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting: %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}
