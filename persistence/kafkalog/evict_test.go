package kafkalog_test

import (
	"strconv"
	"testing"
	"time"

	"github.com/frontdesk-ai/frontdesk/persistence"
	"github.com/frontdesk-ai/frontdesk/persistence/kafkalog"
	"github.com/frontdesk-ai/frontdesk/persistence/kafkalog/kafkalogtest"
)

// TestStaticMembersMoveWithoutSessionTimeout: with instance ids, a member
// that dies is removed from its group by a peer's Evict, and a member that
// closes leaves by itself; either way the group hands its partitions, with
// their uncommitted records, to the member left. The session timeout is
// far longer than the test may wait, so only the eviction or the leave can
// have moved them.
func TestStaticMembersMoveWithoutSessionTimeout(t *testing.T) {
	brokers := kafkalogtest.Start(t)
	base := kafkalog.Config{Partitions: 6, SessionTimeout: 5 * time.Minute, HeartbeatInterval: 200 * time.Millisecond}
	named := func(name string) kafkalog.Config { c := base; c.InstanceID = name; return c }
	log := open(t, brokers, base)
	const topic, group = "static", "static-g"
	batch := func(prefix string) []persistence.Record {
		var in []persistence.Record
		for i := range 60 {
			in = append(in, persistence.Record{Topic: topic, Key: "k" + strconv.Itoa(i), Value: []byte(prefix + strconv.Itoa(i))})
		}
		in, err := log.Append(ctxFor(t), in...)
		if err != nil {
			t.Fatalf("append: %v", err)
		}
		return in
	}
	holds := func(m *member, recs []persistence.Record) bool {
		got := m.snapshot()
		for _, r := range recs {
			if _, ok := got[string(r.Value)]; !ok {
				return false
			}
		}
		return true
	}
	// shared waits until both members consume and, for a batch appended
	// once they do, returns the records that went to a.
	shared := func(a, b *member, prefix string) []persistence.Record {
		eventually(t, "both members consume", func() bool {
			batch(prefix + "-probe")
			return len(a.snapshot()) > 0 && len(b.snapshot()) > 0
		})
		recs := batch(prefix)
		var ofA []persistence.Record
		eventually(t, "the members together hold the batch", func() bool {
			ga, gb := a.snapshot(), b.snapshot()
			ofA = ofA[:0]
			for _, r := range recs {
				_, inA := ga[string(r.Value)]
				_, inB := gb[string(r.Value)]
				if !inA && !inB {
					return false
				}
				if inA {
					ofA = append(ofA, r)
				}
			}
			return true
		})
		if len(ofA) == 0 {
			t.Fatalf("%s: a got none of the batch; want the partitions split", prefix)
		}
		return ofA
	}

	deadName, liveName := "10.0.0.1:7001", "10.0.0.2:7001"
	liveLog := open(t, brokers, named(liveName))
	dead := startMember(t, open(t, brokers, named(deadName)), group, topic)
	live := startMember(t, liveLog, group, topic)

	t.Run("a second subscription in the group under the same id is refused", func(t *testing.T) {
		if sub, err := liveLog.Subscribe(ctxFor(t), group, topic); err == nil {
			sub.Close()
			t.Fatal("second static subscription in one group accepted; it would fence the first")
		}
	})

	t.Run("a dead member is evicted and its records go to the member left", func(t *testing.T) {
		ofDead := shared(dead, live, "v")
		kafkalog.Crash(dead.sub)
		evicted, err := liveLog.Evict(ctxFor(t), deadName)
		if err != nil || !evicted {
			t.Fatalf("Evict(%s) = %v, %v; want true, nil", deadName, evicted, err)
		}
		eventually(t, "the member left receives the dead member's uncommitted records", func() bool { return holds(live, ofDead) })
		if evicted, err := liveLog.Evict(ctxFor(t), deadName); err != nil || evicted {
			t.Fatalf("second Evict(%s) = %v, %v; want false, nil (no longer a member)", deadName, evicted, err)
		}
		if _, err := liveLog.Evict(ctxFor(t), liveName); err == nil {
			t.Fatal("a log evicted its own instance id")
		}
	})

	t.Run("a closing static member leaves at once", func(t *testing.T) {
		closing := startMember(t, open(t, brokers, named("10.0.0.3:7001")), group, topic)
		ofClosing := shared(closing, live, "w")
		if err := closing.sub.Close(); err != nil {
			t.Fatal(err)
		}
		eventually(t, "the member left receives the closed member's uncommitted records", func() bool { return holds(live, ofClosing) })
	})
}
