package channels

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/frontdesk-ai/frontdesk/persistence"
)

// TestRecorderGroupsOutcomes: outcomes that arrive while a write is under
// way are written together in the next one, and no handler returns before
// its own outcome's transaction has ended.
func TestRecorderGroupsOutcomes(t *testing.T) {
	const n = 6
	var r recorder
	var mu sync.Mutex
	var batches [][]string
	started, release := make(chan struct{}), make(chan struct{})
	write := func(_ context.Context, batch []*outcome) {
		mu.Lock()
		first := len(batches) == 0
		var ids []string
		for _, o := range batch {
			ids = append(ids, o.messageID)
			if o.messageID == "m3" {
				o.err = errors.New("m3 cannot be written")
			}
		}
		batches = append(batches, ids)
		mu.Unlock()
		if first {
			close(started)
			<-release
		}
	}
	results := make(chan string, n)
	record := func(id string) {
		err := r.record(context.Background(), write, &outcome{messageID: id, providerID: "p-" + id})
		results <- fmt.Sprintf("%s:%v", id, err)
	}
	go record("m0")
	<-started
	for i := 1; i < n; i++ {
		go record(fmt.Sprintf("m%d", i))
	}
	for r.queued() < n-1 {
		runtime.Gosched() // until all are queued behind the write under way
	}
	select {
	case res := <-results:
		t.Fatalf("%s returned while its outcome was not written", res)
	default:
	}
	close(release)
	var got []string
	for range n {
		got = append(got, <-results)
	}
	slices.Sort(got)
	want := []string{"m0:<nil>", "m1:<nil>", "m2:<nil>", "m3:m3 cannot be written", "m4:<nil>", "m5:<nil>"}
	if !slices.Equal(got, want) {
		t.Errorf("results %q, want %q", got, want)
	}
	if len(batches) != 2 || len(batches[0]) != 1 || len(batches[1]) != n-1 {
		t.Errorf("batches %q, want m0 alone, then the %d queued meanwhile in one", batches, n-1)
	}
	// The lead was handed back: the next outcome is written at once.
	record("m9")
	if res := <-results; res != "m9:<nil>" || len(batches) != 3 {
		t.Errorf("after the batches: %s, %d writes", res, len(batches))
	}
}

// fakeStore runs outcome transactions against a map of messages; a
// provider id "dup" fails its statement, as a unique violation does.
type fakeStore struct {
	mu      sync.Mutex
	msgs    map[string]persistence.Message
	txs     int
	live    int
	dead    int
	tenants []string
}

func (f *fakeStore) InTx(_ context.Context, fn func(tx SenderTx) error) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.txs++
	tx := &fakeTx{f: f, msgs: map[string]persistence.Message{}}
	if err := fn(tx); err != nil {
		return err
	}
	for id, m := range tx.msgs {
		f.msgs[id] = m
	}
	f.live += tx.live
	f.dead += tx.dead
	return nil
}

func (f *fakeStore) GetMessage(context.Context, string, string) (persistence.Message, error) {
	return persistence.Message{}, persistence.ErrNotFound
}

func (f *fakeStore) ClaimMessageSend(context.Context, string, string, string, time.Time) (persistence.Message, bool, error) {
	return persistence.Message{}, false, nil
}

type fakeTx struct {
	f          *fakeStore
	msgs       map[string]persistence.Message
	live, dead int
}

func (t *fakeTx) RecordMessageSent(_ context.Context, tenantID, id, providerID string) (persistence.Message, error) {
	if providerID == "dup" {
		return persistence.Message{}, persistence.ErrDuplicate
	}
	m := persistence.Message{Base: persistence.Base{ID: id, TenantID: tenantID}, ChannelMessageID: providerID, DeliveryStatus: persistence.DeliverySent}
	t.msgs[id] = m
	return m, nil
}

func (t *fakeTx) FailMessageSend(_ context.Context, tenantID, id, reason string) (persistence.Message, bool, error) {
	m := persistence.Message{Base: persistence.Base{ID: id, TenantID: tenantID}, DeliveryStatus: persistence.DeliveryFailed, Error: reason}
	t.msgs[id] = m
	return m, true, nil
}

func (t *fakeTx) UpdateMessage(context.Context, *persistence.Message) error { return nil }

func (t *fakeTx) AppendLiveEvent(context.Context, *persistence.LiveEvent) error {
	t.live++
	return nil
}

func (t *fakeTx) AppendLog(_ context.Context, recs ...persistence.Record) ([]persistence.Record, error) {
	t.dead += len(recs)
	return recs, nil
}

// TestWriteOutcomes: a batch is one transaction with a live event per
// changed message and the dead letters of failed sends; when one outcome
// cannot be written, each is written alone so that only it fails.
func TestWriteOutcomes(t *testing.T) {
	batch := func(ids ...string) []*outcome {
		var out []*outcome
		for _, id := range ids {
			o := &outcome{tenantID: "t1", messageID: id, providerID: "p-" + id}
			switch id {
			case "dup":
				o.providerID = "dup"
			case "failed":
				o.providerID, o.reason = "", "131047 Re-engagement message"
			}
			out = append(out, o)
		}
		return out
	}
	t.Run("one transaction", func(t *testing.T) {
		f := &fakeStore{msgs: map[string]persistence.Message{}}
		s := &Sender{store: f, cfg: SenderConfig{Notify: func(id string) { f.tenants = append(f.tenants, id) }}}
		s.cfg.defaults()
		b := batch("a", "b", "failed")
		s.writeOutcomes(context.Background(), b)
		if f.txs != 1 || f.live != 3 || f.dead != 1 || len(f.msgs) != 3 {
			t.Errorf("txs %d, live events %d, dead letters %d, messages %d; want 1, 3, 1, 3", f.txs, f.live, f.dead, len(f.msgs))
		}
		for _, o := range b {
			if o.err != nil {
				t.Errorf("%s: %v", o.messageID, o.err)
			}
		}
		if !slices.Equal(f.tenants, []string{"t1"}) {
			t.Errorf("notified %q, want t1 once", f.tenants)
		}
	})
	t.Run("one bad outcome fails only itself", func(t *testing.T) {
		f := &fakeStore{msgs: map[string]persistence.Message{}}
		s := &Sender{store: f}
		s.cfg.defaults()
		b := batch("a", "dup", "b")
		s.writeOutcomes(context.Background(), b)
		if f.txs != 4 || f.live != 2 || len(f.msgs) != 2 {
			t.Errorf("txs %d, live events %d, messages %d; want 1 failed + 3 alone, 2, 2", f.txs, f.live, len(f.msgs))
		}
		for _, o := range b {
			if (o.err != nil) != (o.messageID == "dup") {
				t.Errorf("%s: %v", o.messageID, o.err)
			}
		}
	})
}
