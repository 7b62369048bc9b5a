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

	"go.uber.org/goleak"

	"github.com/frontdesk-ai/frontdesk/events"
	"github.com/frontdesk-ai/frontdesk/persistence"
)

func TestDispatcherDeliversEveryEventOnceAndDeadLettersPoison(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent(),
		// protoactor keeps per-activation goroutines (futures, mailboxes)
		// that belong to grains, not to the dispatcher.
		goleak.IgnoreAnyFunction("github.com/asynkron/protoactor-go/actor.(*Future).start.func1"),
		// and a throttle per cluster request, which ends with its period
		// (grains call each other: conversation → customer).
		goleak.IgnoreAnyFunction("github.com/asynkron/protoactor-go/cluster.(*DefaultContext).Request.(*Config).ToClusterContextConfig.NewThrottleWithLogger.func3.1"),
		// The member's gossip throttles its own work the same way.
		goleak.IgnoreAnyFunction("github.com/asynkron/protoactor-go/cluster.(*Gossiper).StartGossiping.NewThrottle.func3.1"))
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

	// Wait for the effect itself: every record of the topic acknowledged
	// and committed by the group (the rows are checked below). The lag
	// gauge is no proof: it reads 0 before the group's first poll.
	eventually(t, "the group to commit every record", func() bool { return uncommitted(t, group, persistence.TopicInbound) == 0 })
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
	letters := deadLetters(t, func(dl persistence.DeadLetter) bool {
		return dl.Key == events.ThreadKey(tenant, "whatsapp", "4915551001") || dl.Key == bad[0].Key
	})
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
		Channel: "whatsapp", ChannelMessageID: "wamid.unknown." + tenant, ExternalUserID: "4915554001", Status: "delivered", At: env.clock.Now().UTC(),
	})
	after := received(t, tenant, "4915554001", "wamid.after", "still here")
	group := "maxattempts-" + tenant
	d := NewDispatcher(DispatchConfig{Group: group, MaxAttempts: 3}, env.store.Log(), env.rt)
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- d.Run(runCtx) }()
	// The later message is stored only after the stuck record was given up
	// (one key, in order); wait for both effects and the commit.
	eventually(t, "the later message, the dead letter and the commit", func() bool {
		return len(messages(t, tenant, after.Key)) == 1 && uncommitted(t, group, persistence.TopicInbound) == 0
	})
	stop()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	letters := deadLetters(t, func(dl persistence.DeadLetter) bool {
		return dl.Offset == stuck.Offset && dl.Partition == stuck.Partition && strings.Contains(dl.Error, "gave up after 3 attempts")
	})
	if len(letters) != 1 {
		t.Fatalf("dead letters of the stuck record = %+v, want one with its error", letters)
	}
}

// uncommitted returns how many records of topic the consumer group has not
// committed, read from the embedded log's tables: what the group has
// acknowledged, not what a metric last said.
func uncommitted(t *testing.T, group, topic string) int64 {
	t.Helper()
	ctx := context.Background()
	n, err := env.store.Log().Partitions(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	committed := make([]int64, n)
	rows, err := env.store.DB().QueryContext(ctx, "SELECT partition_id, committed_offset FROM log_commits WHERE group_name = ? AND topic = ?", group, topic)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var p int32
		var off int64
		if err := rows.Scan(&p, &off); err != nil {
			t.Fatal(err)
		}
		if p >= 0 && p < n {
			committed[p] = off
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	var lag int64
	for p := range n {
		end, err := env.store.Log().EndOffset(ctx, topic, p)
		if err != nil {
			t.Fatal(err)
		}
		lag += max(0, end-committed[p])
	}
	return lag
}

// deadLetters returns the records of the inbound dead-letter topic that
// match.
func deadLetters(t *testing.T, match func(persistence.DeadLetter) bool) []persistence.DeadLetter {
	t.Helper()
	ctx := context.Background()
	dlq := persistence.DeadLetterTopic(persistence.TopicInbound)
	n, err := env.store.Log().Partitions(ctx, dlq)
	if err != nil {
		t.Fatal(err)
	}
	var out []persistence.DeadLetter
	for p := range n {
		rs, err := env.store.Log().Read(ctx, dlq, p, 0, 10000)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rs {
			var dl persistence.DeadLetter
			if err := json.Unmarshal(r.Value, &dl); err != nil {
				t.Fatal(err)
			}
			if match(dl) {
				out = append(out, dl)
			}
		}
	}
	return out
}
