package actors

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"go.uber.org/goleak"

	"github.com/frontdesk-ai/frontdesk/events"
	"github.com/frontdesk-ai/frontdesk/persistence"
)

func TestDispatcherDeliversEveryEventOnceAndDeadLettersPoison(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent(),
		// protoactor keeps per-activation goroutines (futures, mailboxes)
		// that belong to grains, not to the dispatcher.
		goleak.IgnoreAnyFunction("github.com/asynkron/protoactor-go/actor.(*Future).start.func1"))
	ctx := context.Background()
	tenant := newTenant(t)

	const threads, perThread = 12, 8
	var recs []persistence.Record
	for i := range perThread {
		for th := range threads {
			user := fmt.Sprintf("49155510%02d", th)
			recs = append(recs, received(t, tenant, user, fmt.Sprintf("wamid.d.%d.%d", th, i), fmt.Sprintf("msg %d", i)))
		}
	}
	// The channel delivering one message twice, an event from a newer
	// build, and a record that is not an envelope at all.
	received(t, tenant, "4915551000", "wamid.d.0.0", "msg 0")
	appendEvent(t, tenant, "4915551001", events.TypeMessageReceived, 7, map[string]string{})
	bad, err := env.store.Log().Append(ctx, persistence.Record{Topic: persistence.TopicInbound, Key: events.ThreadKey(tenant, "whatsapp", "4915551002"), Value: []byte("{not json")})
	if err != nil {
		t.Fatal(err)
	}

	group := "dispatch-" + tenant
	d := NewDispatcher(DispatchConfig{Group: group}, env.store.Log(), env.rt)
	runCtx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	var runErr error
	go func() { defer wg.Done(); runErr = d.Run(runCtx) }()

	lag := env.rt.metrics.lag.WithLabelValues(group, persistence.TopicInbound)
	eventually(t, "the group to catch up", func() bool { return d.Ready() && testutil.ToFloat64(lag) == 0 })
	stop()
	wg.Wait()
	if runErr != nil {
		t.Fatal(runErr)
	}

	for th := range threads {
		user := fmt.Sprintf("49155510%02d", th)
		msgs := messages(t, tenant, events.ThreadKey(tenant, "whatsapp", user))
		if len(msgs) != perThread {
			t.Fatalf("thread %s: %d messages, want %d", user, len(msgs), perThread)
		}
		for i, m := range msgs {
			if want := fmt.Sprintf("msg %d", i); m.Text != want {
				t.Fatalf("thread %s message %d = %q, want %q (log order)", user, i, m.Text, want)
			}
		}
	}
	// Both poison records went to the dead-letter topic with their error.
	dlq := persistence.DeadLetterTopic(persistence.TopicInbound)
	var letters []persistence.DeadLetter
	n, err := env.store.Log().Partitions(ctx, dlq)
	if err != nil {
		t.Fatal(err)
	}
	for p := range n {
		rs, err := env.store.Log().Read(ctx, dlq, p, 0, 1000)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rs {
			var dl persistence.DeadLetter
			if err := json.Unmarshal(r.Value, &dl); err != nil {
				t.Fatal(err)
			}
			if dl.Key == events.ThreadKey(tenant, "whatsapp", "4915551001") || dl.Key == bad[0].Key {
				letters = append(letters, dl)
			}
		}
	}
	if len(letters) != 2 {
		t.Fatalf("dead letters = %+v, want the unknown version and the malformed record", letters)
	}
	for _, dl := range letters {
		if dl.Error == "" || dl.Topic != persistence.TopicInbound {
			t.Fatalf("dead letter without its cause: %+v", dl)
		}
	}
}

// TestFencedDispatcherTakesNoWork: while the member is fenced the
// dispatcher does not consume (and is not ready); once unfenced it delivers
// everything that waited.
func TestFencedDispatcherTakesNoWork(t *testing.T) {
	tenant := newTenant(t)
	var fenced atomic.Bool
	fenced.Store(true)
	group := "fenced-" + tenant
	d := NewDispatcher(DispatchConfig{Group: group, Fenced: fenced.Load}, env.store.Log(), env.rt)
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	var key string
	for i := range 3 {
		key = received(t, tenant, "4915553001", fmt.Sprintf("wamid.fence.%d", i), fmt.Sprint(i)).Key
	}
	time.Sleep(500 * time.Millisecond)
	if d.Ready() || len(messages(t, tenant, key)) != 0 {
		t.Fatalf("fenced dispatcher consumed (ready %v)", d.Ready())
	}
	fenced.Store(false)
	eventually(t, "delivery after unfencing", func() bool { return len(messages(t, tenant, key)) == 3 })
	stop()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// TestDispatcherDeadLettersAfterMaxAttempts: a record that keeps failing
// without a permanent error (a status for a message not known yet) goes to
// the dead-letter topic with its error after MaxAttempts, and the
// conversation's later records still get through.
func TestDispatcherDeadLettersAfterMaxAttempts(t *testing.T) {
	tenant := newTenant(t)
	ctx := context.Background()
	stuck := appendEvent(t, tenant, "4915554001", events.TypeMessageStatus, 1, events.MessageStatus{
		Channel: "whatsapp", ChannelMessageID: "wamid.unknown." + tenant, ExternalUserID: "4915554001", Status: "delivered", At: time.Now().UTC(),
	})
	after := received(t, tenant, "4915554001", "wamid.after", "still here")
	group := "maxattempts-" + tenant
	d := NewDispatcher(DispatchConfig{Group: group, MaxAttempts: 3}, env.store.Log(), env.rt)
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- d.Run(runCtx) }()
	eventually(t, "the later message", func() bool { return len(messages(t, tenant, after.Key)) == 1 })
	stop()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	dlq := persistence.DeadLetterTopic(persistence.TopicInbound)
	n, _ := env.store.Log().Partitions(ctx, dlq)
	found := false
	for p := range n {
		rs, err := env.store.Log().Read(ctx, dlq, p, 0, 10000)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rs {
			var dl persistence.DeadLetter
			if json.Unmarshal(r.Value, &dl) == nil && dl.Offset == stuck.Offset && dl.Partition == stuck.Partition && strings.Contains(dl.Error, "gave up after 3 attempts") {
				found = true
			}
		}
	}
	if !found {
		t.Fatal("the stuck record is not on the dead-letter topic with its error")
	}
}
