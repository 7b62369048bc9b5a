package sqlstore_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/frontdesk-ai/frontdesk/persistence"
	"github.com/frontdesk-ai/frontdesk/persistence/sqlstore"
	"github.com/frontdesk-ai/frontdesk/persistence/sqlstore/sqlstoretest"
)

// appendLive appends one event of tenant in a transaction of its own.
func appendLive(t *testing.T, s *sqlstore.Store, tenant, conv string, data string) persistence.LiveEvent {
	t.Helper()
	e := persistence.LiveEvent{TenantID: tenant, Type: persistence.LiveMessageCreated, ConversationID: conv}
	if data != "" {
		e.Data = json.RawMessage(data)
	}
	if err := s.InTx(context.Background(), func(tx *sqlstore.Tx) error { return tx.AppendLiveEvent(context.Background(), &e) }); err != nil {
		t.Fatalf("append live event: %v", err)
	}
	return e
}

func jsonEqual(t *testing.T, got, want []byte) bool {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("stored data %q: %v", got, err)
	}
	if err := json.Unmarshal(want, &w); err != nil {
		t.Fatalf("want data %q: %v", want, err)
	}
	gb, _ := json.Marshal(g)
	wb, _ := json.Marshal(w)
	return string(gb) == string(wb)
}

// TestLiveEvents holds both dialects to the live stream's contract: dense
// ids per tenant, oldest-first reads, isolation, no gap after a rollback.
func TestLiveEvents(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name string
		run  func(t *testing.T, s *sqlstore.Store)
	}{
		{"several events in one call take consecutive ids", func(t *testing.T, s *sqlstore.Store) {
			first := appendLive(t, s, "t1", "c0", "")
			es := []*persistence.LiveEvent{
				{TenantID: "t1", Type: persistence.LiveMessageCreated, ConversationID: "c1", Data: json.RawMessage(`{"n":1}`)},
				{TenantID: "t1", Type: persistence.LiveConversationUpdated, ConversationID: "c1"},
				{TenantID: "t1", Type: persistence.LiveMessageCreated, ConversationID: "c2", Data: json.RawMessage(`{"n":3}`)},
			}
			if err := s.InTx(ctx, func(tx *sqlstore.Tx) error { return tx.AppendLiveEvents(ctx, es) }); err != nil {
				t.Fatal(err)
			}
			for i, e := range es {
				if e.ID != first.ID+1+int64(i) || e.CreatedAt.IsZero() {
					t.Fatalf("event %d: id %d created %v, want id %d", i, e.ID, e.CreatedAt, first.ID+1+int64(i))
				}
			}
			got, err := s.LiveEventsAfter(ctx, "t1", first.ID, 10)
			if err != nil || len(got) != 3 || got[0].ConversationID != "c1" || got[1].Type != persistence.LiveConversationUpdated || got[2].ConversationID != "c2" {
				t.Fatalf("read back %+v (%v), want the 3 events in order", got, err)
			}
			if next := appendLive(t, s, "t1", "c3", ""); next.ID != first.ID+4 {
				t.Fatalf("next event id %d, want %d", next.ID, first.ID+4)
			}
			// Outside a transaction, and refused as a whole for a mix of tenants.
			mixed := []*persistence.LiveEvent{{TenantID: "t1", Type: "x"}, {TenantID: "t2", Type: "x"}}
			if err := s.AppendLiveEvents(ctx, mixed); err == nil || mixed[0].ID != 0 {
				t.Fatalf("mixed tenants: err %v, first id %d; want an error and no id", err, mixed[0].ID)
			}
			alone := []*persistence.LiveEvent{{TenantID: "t1", Type: "x"}, {TenantID: "t1", Type: "y"}}
			if err := s.AppendLiveEvents(ctx, alone); err != nil || alone[1].ID != first.ID+6 {
				t.Fatalf("outside a transaction: err %v, ids %d %d", err, alone[0].ID, alone[1].ID)
			}
		}},
		{"dense ids and round trip", func(t *testing.T, s *sqlstore.Store) {
			if id, err := s.LatestLiveEventID(ctx, "t1"); err != nil || id != 0 {
				t.Fatalf("latest of empty stream = %d, %v; want 0, nil", id, err)
			}
			before := time.Now().UTC().Add(-time.Second)
			var want []persistence.LiveEvent
			for i := range 5 {
				e := appendLive(t, s, "t1", fmt.Sprintf("c%d", i), fmt.Sprintf(`{"n": %d, "text": "héllo"}`, i))
				if e.ID != int64(i+1) {
					t.Fatalf("append %d got id %d, want %d", i, e.ID, i+1)
				}
				want = append(want, e)
			}
			got, err := s.LiveEventsAfter(ctx, "t1", 0, 100)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(want) {
				t.Fatalf("read %d events, want %d", len(got), len(want))
			}
			for i, g := range got {
				w := want[i]
				if g.ID != w.ID || g.TenantID != "t1" || g.Type != w.Type || g.ConversationID != w.ConversationID {
					t.Errorf("event %d = %+v, want %+v", i, g, w)
				}
				if !jsonEqual(t, g.Data, w.Data) {
					t.Errorf("event %d data = %s, want %s", i, g.Data, w.Data)
				}
				if !g.CreatedAt.Equal(w.CreatedAt) || g.CreatedAt.Before(before) {
					t.Errorf("event %d created_at = %v, want %v", i, g.CreatedAt, w.CreatedAt)
				}
			}
			if id, err := s.LatestLiveEventID(ctx, "t1"); err != nil || id != 5 {
				t.Fatalf("latest = %d, %v; want 5, nil", id, err)
			}
			page, err := s.LiveEventsAfter(ctx, "t1", 2, 2)
			if err != nil || len(page) != 2 || page[0].ID != 3 || page[1].ID != 4 {
				t.Fatalf("after 2 limit 2 = %+v, %v; want ids 3, 4", page, err)
			}
			if rest, err := s.LiveEventsAfter(ctx, "t1", 5, 10); err != nil || len(rest) != 0 {
				t.Fatalf("after latest = %+v, %v; want none", rest, err)
			}
		}},
		{"tenant isolation", func(t *testing.T, s *sqlstore.Store) {
			a1 := appendLive(t, s, "a", "ca", `{"x":1}`)
			b1 := appendLive(t, s, "b", "cb", `{"x":2}`)
			a2 := appendLive(t, s, "a", "ca", `{"x":3}`)
			if a1.ID != 1 || b1.ID != 1 || a2.ID != 2 {
				t.Fatalf("ids a1=%d b1=%d a2=%d; want 1, 1, 2", a1.ID, b1.ID, a2.ID)
			}
			got, err := s.LiveEventsAfter(ctx, "b", 0, 10)
			if err != nil || len(got) != 1 || got[0].ConversationID != "cb" || got[0].TenantID != "b" {
				t.Fatalf("tenant b reads %+v, %v; want only its own event", got, err)
			}
			if id, _ := s.LatestLiveEventID(ctx, "b"); id != 1 {
				t.Fatalf("latest of b = %d, want 1", id)
			}
		}},
		{"events of one conversation", func(t *testing.T, s *sqlstore.Store) {
			tool := func(tenant, conv, data string) persistence.LiveEvent {
				e := persistence.LiveEvent{TenantID: tenant, Type: persistence.LiveToolCalled, ConversationID: conv, Data: json.RawMessage(data)}
				if err := s.AppendLiveEvent(ctx, &e); err != nil {
					t.Fatal(err)
				}
				return e
			}
			t1 := tool("a", "c1", `{"n":1}`)
			appendLive(t, s, "a", "c1", `{"message":true}`)
			tool("a", "c2", `{"n":2}`)
			tool("b", "c1", `{"n":3}`)
			t2 := tool("a", "c1", `{"n":4}`)
			got, err := s.LiveEventsOfConversation(ctx, "a", "c1", persistence.LiveToolCalled, 0, 10)
			if err != nil || len(got) != 2 || got[0].ID != t1.ID || got[1].ID != t2.ID || !jsonEqual(t, got[1].Data, []byte(`{"n":4}`)) {
				t.Fatalf("tool calls of a/c1 = %+v, %v; want ids %d, %d only", got, err, t1.ID, t2.ID)
			}
			if got, err := s.LiveEventsOfConversation(ctx, "a", "c1", persistence.LiveToolCalled, t1.ID, 10); err != nil || len(got) != 1 || got[0].ID != t2.ID {
				t.Fatalf("after %d = %+v, %v; want only %d", t1.ID, got, err, t2.ID)
			}
			if got, err := s.LiveEventsOfConversation(ctx, "a", "c1", persistence.LiveToolCalled, 0, 1); err != nil || len(got) != 1 || got[0].ID != t1.ID {
				t.Fatalf("limit 1 = %+v, %v; want %d", got, err, t1.ID)
			}
		}},
		{"rollback leaves no gap", func(t *testing.T, s *sqlstore.Store) {
			appendLive(t, s, "t", "c", "")
			boom := errors.New("boom")
			err := s.InTx(ctx, func(tx *sqlstore.Tx) error {
				e := persistence.LiveEvent{TenantID: "t", Type: persistence.LiveToolCalled}
				if err := tx.AppendLiveEvent(ctx, &e); err != nil {
					return err
				}
				if e.ID != 2 {
					t.Errorf("id in rolled back tx = %d, want 2", e.ID)
				}
				return boom
			})
			if !errors.Is(err, boom) {
				t.Fatalf("InTx = %v, want boom", err)
			}
			if id, _ := s.LatestLiveEventID(ctx, "t"); id != 1 {
				t.Fatalf("latest after rollback = %d, want 1", id)
			}
			if e := appendLive(t, s, "t", "c", ""); e.ID != 2 {
				t.Fatalf("id after rollback = %d, want 2", e.ID)
			}
			got, _ := s.LiveEventsAfter(ctx, "t", 0, 10)
			if len(got) != 2 || string(got[0].Data) != "null" || got[1].Type != persistence.LiveMessageCreated {
				t.Fatalf("events = %+v; want two, the first with null data", got)
			}
		}},
		{"append on the store outside a transaction", func(t *testing.T, s *sqlstore.Store) {
			for i := range 3 {
				e := persistence.LiveEvent{TenantID: "t", Type: persistence.LiveConversationUpdated, Data: json.RawMessage(`{}`)}
				if err := s.AppendLiveEvent(ctx, &e); err != nil || e.ID != int64(i+1) {
					t.Fatalf("append %d = id %d, %v", i, e.ID, err)
				}
			}
		}},
		{"invalid events are refused", func(t *testing.T, s *sqlstore.Store) {
			bad := []persistence.LiveEvent{
				{TenantID: "", Type: persistence.LiveMessageCreated},
				{TenantID: "t", Type: ""},
				{TenantID: "t", Type: persistence.LiveMessageCreated, Data: json.RawMessage(`{"x":`)},
			}
			for _, e := range bad {
				if err := s.AppendLiveEvent(ctx, &e); err == nil {
					t.Errorf("append %+v succeeded, want an error", e)
				}
			}
			if id, _ := s.LatestLiveEventID(ctx, "t"); id != 0 {
				t.Fatalf("latest after refused appends = %d, want 0", id)
			}
			if _, err := s.LiveEventsAfter(ctx, "t", 0, 0); err == nil {
				t.Fatal("limit 0 accepted")
			}
		}},
	}
	for _, d := range sqlstoretest.Dialects {
		t.Run(d, func(t *testing.T) {
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) { c.run(t, sqlstoretest.Open(t, d)) })
			}
		})
	}
}

// TestLiveConcurrentAppends appends from many goroutines, each in its own
// transaction, while a reader follows the stream: the ids end dense and
// unique, and the reader never sees a later id before an earlier one.
func TestLiveConcurrentAppends(t *testing.T) {
	const writers, each = 12, 15
	for _, d := range sqlstoretest.Dialects {
		t.Run(d, func(t *testing.T) {
			s := sqlstoretest.Open(t, d)
			ctx := context.Background()
			done := make(chan struct{})
			readErr := make(chan error, 1)
			go func() {
				// Follow the stream like the hub does: every batch must
				// continue exactly after the last id seen.
				var last int64
				for {
					evs, err := s.LiveEventsAfter(ctx, "t", last, 50)
					if err != nil {
						readErr <- err
						return
					}
					for _, e := range evs {
						if e.ID != last+1 {
							readErr <- fmt.Errorf("reader saw id %d after %d: skipped an event", e.ID, last)
							return
						}
						last = e.ID
					}
					select {
					case <-done:
						if last == writers*each {
							readErr <- nil
							return
						}
					default:
					}
				}
			}()
			var wg sync.WaitGroup
			errs := make(chan error, writers*each)
			for w := range writers {
				wg.Go(func() {
					for i := range each {
						err := s.InTx(ctx, func(tx *sqlstore.Tx) error {
							e := persistence.LiveEvent{TenantID: "t", Type: persistence.LiveMessageCreated,
								Data: json.RawMessage(fmt.Sprintf(`{"w":%d,"i":%d}`, w, i))}
							if err := tx.AppendLiveEvent(ctx, &e); err != nil {
								return err
							}
							// Work after the append keeps the lock held a while.
							if i%3 == 0 {
								time.Sleep(time.Millisecond)
							}
							return nil
						})
						if err != nil {
							errs <- err
						}
					}
				})
			}
			wg.Wait()
			close(done)
			close(errs)
			for err := range errs {
				t.Fatalf("concurrent append: %v", err)
			}
			if err := <-readErr; err != nil {
				t.Fatal(err)
			}
			got, err := s.LiveEventsAfter(ctx, "t", 0, 10*writers*each)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != writers*each {
				t.Fatalf("%d events, want %d", len(got), writers*each)
			}
			seen := make(map[string]bool)
			for i, e := range got {
				if e.ID != int64(i+1) {
					t.Fatalf("event %d has id %d: ids not dense", i, e.ID)
				}
				var p struct{ W, I int }
				if err := json.Unmarshal(e.Data, &p); err != nil {
					t.Fatal(err)
				}
				k := fmt.Sprint(p.W, "/", p.I)
				if seen[k] {
					t.Fatalf("event %s stored twice", k)
				}
				seen[k] = true
			}
			if latest, _ := s.LatestLiveEventID(ctx, "t"); latest != writers*each {
				t.Fatalf("latest = %d, want %d", latest, writers*each)
			}
		})
	}
}
