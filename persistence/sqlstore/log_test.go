package sqlstore_test

import (
	"context"
	"errors"
	"math"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/frontdesk-ai/frontdesk/persistence"
	"github.com/frontdesk-ai/frontdesk/persistence/logtest"
	"github.com/frontdesk-ai/frontdesk/persistence/sqlstore"
	"github.com/frontdesk-ai/frontdesk/persistence/sqlstore/sqlstoretest"
)

// logFactory opens a fresh store of the dialect per case; reopen closes it
// and opens the same database again, as a restarted process would.
func logFactory(dialect string) logtest.Factory {
	return func(t *testing.T) (persistence.Log, func() persistence.Log) {
		cfg := sqlstoretest.Config(t, dialect)
		cur := sqlstoretest.OpenConfig(t, cfg)
		reopen := func() persistence.Log {
			cur.Close()
			cur = sqlstoretest.OpenConfig(t, cfg)
			return cur.Log()
		}
		return cur.Log(), reopen
	}
}

func TestLogConformance(t *testing.T) {
	for _, d := range sqlstoretest.Dialects {
		t.Run(d, func(t *testing.T) { logtest.Run(t, logFactory(d)) })
	}
}

func logRec(topic, key string, seq int) persistence.Record {
	return persistence.Record{Topic: topic, Key: key, Value: []byte(key + "#" + strconv.Itoa(seq))}
}

func TestLogAppendTx(t *testing.T) {
	errBoom := errors.New("boom")
	for _, d := range sqlstoretest.Dialects {
		t.Run(d, func(t *testing.T) {
			ctx := context.Background()
			s := sqlstoretest.Open(t, d)
			l := s.Log()
			const topic = "tx"
			first, err := l.Append(ctx, logRec(topic, "k", 0))
			if err != nil {
				t.Fatal(err)
			}
			p := first[0].Partition
			sub, err := l.Subscribe(ctx, "tx-g", topic)
			if err != nil {
				t.Fatal(err)
			}
			defer sub.Close()
			if got := pollN(t, sub, 1); string(got[0].Value) != "k#0" {
				t.Fatalf("first poll: %q", got[0].Value)
			}

			t.Run("RolledBack", func(t *testing.T) {
				err := s.InTx(ctx, func(tx *sqlstore.Tx) error {
					recs, err := l.AppendTx(ctx, tx, logRec(topic, "k", 1), logRec("tx-new-topic", "k", 1))
					if err != nil {
						return err
					}
					if recs[0].Offset != 1 {
						t.Errorf("offset in the transaction: %d, want 1", recs[0].Offset)
					}
					return errBoom
				})
				if !errors.Is(err, errBoom) {
					t.Fatalf("InTx: %v, want the callback's error", err)
				}
				if end, err := l.EndOffset(ctx, topic, p); err != nil || end != 1 {
					t.Fatalf("end offset after rollback: %d, %v; want 1", end, err)
				}
				recs, err := l.Read(ctx, topic, p, 0, 10)
				if err != nil || len(recs) != 1 {
					t.Fatalf("read after rollback: %d records, %v; want the first only", len(recs), err)
				}
				var n int
				if err := s.DB().QueryRowContext(ctx, "SELECT COUNT(*) FROM log_topics WHERE topic = 'tx-new-topic'").Scan(&n); err != nil || n != 0 {
					t.Fatalf("topic created by the rolled back transaction: %d rows, %v", n, err)
				}
				// The rolled back offsets are reused: no gap.
				again, err := l.Append(ctx, logRec(topic, "k", 2))
				if err != nil || again[0].Offset != 1 {
					t.Fatalf("append after rollback: %+v, %v; want offset 1", again, err)
				}
				if got := pollN(t, sub, 1); string(got[0].Value) != "k#2" || got[0].Offset != 1 {
					t.Fatalf("poll after rollback: %q at %d, want k#2 at 1", got[0].Value, got[0].Offset)
				}
			})

			t.Run("Committed", func(t *testing.T) {
				res := pollAsync(sub)
				var appended []persistence.Record
				err := s.InTx(ctx, func(tx *sqlstore.Tx) error {
					var err error
					appended, err = l.AppendTx(ctx, tx, logRec(topic, "k", 3), logRec(topic, "k", 4))
					return err
				})
				if err != nil {
					t.Fatal(err)
				}
				r := <-res
				if r.err != nil {
					t.Fatalf("poll: %v", r.err)
				}
				got := r.recs
				if len(got) < 2 {
					got = append(got, pollN(t, sub, 2-len(got))...)
				}
				if len(got) != 2 || got[0].Offset != 2 || got[1].Offset != 3 || string(got[1].Value) != "k#4" {
					t.Fatalf("poll after commit: %+v", got)
				}
				if !got[1].Time.Equal(appended[1].Time) {
					t.Errorf("stored time %s, appended %s", got[1].Time, appended[1].Time)
				}
			})
		})
	}
}

// TestLogLateCommit holds a transaction that appended to a partition open
// while a second appender waits on the same partition: the waiting append
// gets the next offset only after the first commits, so a consumer sees the
// two in offset order and skips neither.
func TestLogLateCommit(t *testing.T) {
	for _, d := range sqlstoretest.Dialects {
		t.Run(d, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			s := sqlstoretest.Open(t, d)
			l := s.Log()
			const topic = "late"
			sub, err := l.Subscribe(ctx, "late-g", topic)
			if err != nil {
				t.Fatal(err)
			}
			defer sub.Close()

			appended := make(chan struct{})
			release := make(chan struct{})
			firstDone := make(chan error, 1)
			go func() {
				firstDone <- s.InTx(ctx, func(tx *sqlstore.Tx) error {
					if _, err := l.AppendTx(ctx, tx, logRec(topic, "k", 0)); err != nil {
						return err
					}
					close(appended)
					<-release
					return nil
				})
			}()
			<-appended
			secondDone := make(chan error, 1)
			go func() {
				_, err := l.Append(ctx, logRec(topic, "k", 1))
				secondDone <- err
			}()
			if d == "postgres" {
				waitForLockWait(t, s)
			}
			close(release)
			if err := <-firstDone; err != nil {
				t.Fatal(err)
			}
			if err := <-secondDone; err != nil {
				t.Fatal(err)
			}
			got := pollN(t, sub, 2)
			if string(got[0].Value) != "k#0" || got[0].Offset != 0 || string(got[1].Value) != "k#1" || got[1].Offset != 1 {
				t.Fatalf("consumed %q@%d, %q@%d; want k#0@0, k#1@1", got[0].Value, got[0].Offset, got[1].Value, got[1].Offset)
			}
		})
	}
}

// waitForLockWait returns once a PostgreSQL backend waits on a lock while
// bumping log_partitions (the second appender), or after a while: then the
// test still passes for a correct log, only weaker.
func waitForLockWait(t *testing.T, s *sqlstore.Store) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		var n int
		err := s.DB().QueryRowContext(context.Background(), `SELECT COUNT(*) FROM pg_stat_activity
			WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%UPDATE log_partitions%'`).Scan(&n)
		if err != nil {
			t.Fatalf("pg_stat_activity: %v", err)
		}
		if n > 0 {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Log("second appender never seen waiting on the partition lock")
}

func TestLogPartitionsFixedPerTopic(t *testing.T) {
	for _, d := range sqlstoretest.Dialects {
		t.Run(d, func(t *testing.T) {
			ctx := context.Background()
			cfg := sqlstoretest.Config(t, d)
			l := sqlstoretest.OpenConfig(t, cfg).Log()
			if err := l.Configure(sqlstore.LogConfig{Partitions: 3}); err != nil {
				t.Fatal(err)
			}
			keys := []string{"a", "b", "c", "d", "e", "f", "g"}
			before := map[string]int32{}
			for _, k := range keys {
				recs, err := l.Append(ctx, logRec("fixed", k, 0))
				if err != nil {
					t.Fatal(err)
				}
				before[k] = recs[0].Partition
			}
			// The same process reconfigured, and a restarted one with the
			// new count, both keep the old topic's count and partitions.
			if err := l.Configure(sqlstore.LogConfig{Partitions: 8}); err != nil {
				t.Fatal(err)
			}
			restarted := sqlstoretest.OpenConfig(t, cfg).Log()
			if err := restarted.Configure(sqlstore.LogConfig{Partitions: 8}); err != nil {
				t.Fatal(err)
			}
			logs := []struct {
				name string
				l    *sqlstore.Log
				new  string
			}{
				{"Reconfigured", l, "created-after"},
				{"Restarted", restarted, "created-after-restart"},
			}
			for i, c := range logs {
				t.Run(c.name, func(t *testing.T) {
					if n, err := c.l.Partitions(ctx, "fixed"); err != nil || n != 3 {
						t.Fatalf("partitions of the old topic: %d, %v; want 3", n, err)
					}
					if n, err := c.l.Partitions(ctx, c.new); err != nil || n != 8 {
						t.Fatalf("partitions of a new topic: %d, %v; want 8", n, err)
					}
					for _, k := range keys {
						recs, err := c.l.Append(ctx, logRec("fixed", k, i+1))
						if err != nil {
							t.Fatal(err)
						}
						if recs[0].Partition != before[k] || recs[0].Partition != sqlstore.PartitionForKey(k, 3) {
							t.Errorf("key %s moved from partition %d to %d", k, before[k], recs[0].Partition)
						}
					}
				})
			}
		})
	}
}

// TestLogConcurrentTopicCreation has appenders race to create one topic:
// exactly one creates it and every append lands.
func TestLogConcurrentTopicCreation(t *testing.T) {
	for _, d := range sqlstoretest.Dialects {
		t.Run(d, func(t *testing.T) {
			ctx := context.Background()
			cfg := sqlstoretest.Config(t, d)
			const appenders = 6
			logs := make([]*sqlstore.Log, appenders)
			for i := range logs {
				// Separate stores: no shared topic cache, as separate processes.
				logs[i] = sqlstoretest.OpenConfig(t, cfg).Log()
			}
			var wg sync.WaitGroup
			errs := make([]error, appenders)
			for i, l := range logs {
				wg.Add(1)
				go func() {
					defer wg.Done()
					_, errs[i] = l.Append(ctx, logRec("fresh", "k", i))
				}()
			}
			wg.Wait()
			for i, err := range errs {
				if err != nil {
					t.Fatalf("appender %d: %v", i, err)
				}
			}
			p := sqlstore.PartitionForKey("k", sqlstore.DefaultLogPartitions)
			recs, err := logs[0].Read(ctx, "fresh", p, 0, 100)
			if err != nil || len(recs) != appenders {
				t.Fatalf("read: %d records, %v; want %d", len(recs), err, appenders)
			}
			for i, r := range recs {
				if r.Offset != int64(i) {
					t.Fatalf("offsets not dense: record %d at %d", i, r.Offset)
				}
			}
		})
	}
}

func TestLogOtherProcess(t *testing.T) {
	for _, d := range sqlstoretest.Dialects {
		t.Run(d, func(t *testing.T) {
			ctx := context.Background()
			cfg := sqlstoretest.Config(t, d)
			producer := sqlstoretest.OpenConfig(t, cfg)
			consumer := sqlstoretest.OpenConfig(t, cfg)
			if err := consumer.Log().Configure(sqlstore.LogConfig{PollInterval: 20 * time.Millisecond}); err != nil {
				t.Fatal(err)
			}
			sub, err := consumer.Log().Subscribe(ctx, "other-g", "other")
			if err != nil {
				t.Fatal(err)
			}
			defer sub.Close()
			res := pollAsync(sub)
			if _, err := producer.Log().Append(ctx, logRec("other", "k", 0)); err != nil {
				t.Fatal(err)
			}
			r := <-res
			if r.err != nil || len(r.recs) != 1 || string(r.recs[0].Value) != "k#0" {
				t.Fatalf("poll in the other process: %+v, %v", r.recs, r.err)
			}
		})
	}
}

func TestLogOffsetForTimeClock(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for _, d := range sqlstoretest.Dialects {
		t.Run(d, func(t *testing.T) {
			ctx := context.Background()
			s := sqlstoretest.Open(t, d)
			l := s.Log()
			// The clock goes back at the third append: the log keeps record
			// times from decreasing along the offsets.
			clock := []time.Time{t0, t0.Add(time.Second), t0.Add(500 * time.Millisecond), t0.Add(3 * time.Second)}
			next := 0
			if err := l.Configure(sqlstore.LogConfig{Now: func() time.Time { return clock[min(next, len(clock)-1)] }}); err != nil {
				t.Fatal(err)
			}
			var recs []persistence.Record
			for i := range clock {
				next = i
				got, err := l.Append(ctx, logRec("clock", "k", i))
				if err != nil {
					t.Fatal(err)
				}
				recs = append(recs, got...)
			}
			wantTimes := []time.Time{t0, t0.Add(time.Second), t0.Add(time.Second), t0.Add(3 * time.Second)}
			for i, r := range recs {
				if !r.Time.Equal(wantTimes[i]) {
					t.Errorf("record %d time %s, want %s", i, r.Time, wantTimes[i])
				}
			}
			p := recs[0].Partition
			cases := []struct {
				name string
				at   time.Time
				want int64
			}{
				{"BeforeAll", t0.Add(-time.Hour), 0},
				{"First", t0, 0},
				{"Between", t0.Add(time.Millisecond), 1},
				{"Tie", t0.Add(time.Second), 1},
				{"Last", t0.Add(3 * time.Second), 3},
				{"AfterAll", t0.Add(time.Hour), 4},
				{"OtherZone", t0.Add(2 * time.Second).In(time.FixedZone("X", 5*3600)), 3},
			}
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) {
					got, err := l.OffsetForTime(ctx, "clock", p, c.at)
					if err != nil || got != c.want {
						t.Fatalf("offset for %s: %d, %v; want %d", c.at, got, err, c.want)
					}
				})
			}
		})
	}
}

func TestLogRejects(t *testing.T) {
	s := sqlstoretest.Open(t, "sqlite")
	l := s.Log()
	ctx := context.Background()
	if _, err := l.Append(ctx, logRec("ok", "k", 0)); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name     string
		do       func() error
		notFound bool
	}{
		{"EmptyTopic", func() error { _, err := l.Append(ctx, logRec("", "k", 0)); return err }, false},
		{"BadTopic", func() error { _, err := l.Append(ctx, logRec("a/b", "k", 0)); return err }, false},
		{"EmptyGroup", func() error { _, err := l.Subscribe(ctx, "", "ok"); return err }, false},
		{"PartitionOutOfRange", func() error { _, err := l.Read(ctx, "ok", 99, 0, 10); return err }, true},
		{"NegativePartition", func() error { _, err := l.EndOffset(ctx, "ok", -1); return err }, true},
		{"NegativeOffset", func() error { _, err := l.Read(ctx, "ok", 0, -1, 10); return err }, false},
		{"BadConfig", func() error { return l.Configure(sqlstore.LogConfig{Partitions: -1}) }, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.do()
			if err == nil {
				t.Fatal("no error")
			}
			if c.notFound != errors.Is(err, persistence.ErrNotFound) {
				t.Fatalf("error %v: ErrNotFound %v, want %v", err, !c.notFound, c.notFound)
			}
		})
	}
	var n int
	if err := s.DB().QueryRowContext(ctx, "SELECT COUNT(*) FROM log_records").Scan(&n); err != nil || n != 1 {
		t.Fatalf("records stored: %d, %v; want only the valid one", n, err)
	}
}

// TestMurmur2 checks partitioning against the hash values of Kafka's Java
// client (UtilsTest.testMurmur2 and akka's Murmur2Spec, which copies
// Kafka's): partition = (murmur2(key) & 0x7fffffff) % n.
func TestMurmur2(t *testing.T) {
	vectors := []struct {
		key  string
		hash int32
	}{
		{"21", -973932308},
		{"foobar", -790332482},
		{"a-little-bit-long-string", -985981536},
		{"a-little-bit-longer-string", -1486304829},
		{"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58897971},
		{"abc", 479470107},
		{"1", -1993445489},
		{"12", 126087238},
		{"123", -267702483},
		{"1234", -1614185708},
		{"12345", -1188365604},
	}
	for _, v := range vectors {
		t.Run(v.key, func(t *testing.T) {
			positive := v.hash & 0x7fffffff
			for _, n := range []int32{1, 3, 4, 12, 50, math.MaxInt32} {
				want := positive % n
				if got := sqlstore.PartitionForKey(v.key, n); got != want {
					t.Errorf("partition of %q in %d: %d, want %d", v.key, n, got, want)
				}
			}
		})
	}
	t.Run("EmptyKey", func(t *testing.T) {
		if got := sqlstore.PartitionForKey("", 12); got != 0 {
			t.Fatalf("empty key on partition %d, want 0", got)
		}
	})
}

type pollResult struct {
	recs []persistence.Record
	err  error
}

func pollAsync(sub persistence.Subscription) <-chan pollResult {
	res := make(chan pollResult, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		recs, err := sub.Poll(ctx)
		res <- pollResult{recs, err}
	}()
	return res
}

func pollN(t *testing.T, sub persistence.Subscription, n int) []persistence.Record {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var got []persistence.Record
	for len(got) < n {
		recs, err := sub.Poll(ctx)
		if err != nil {
			t.Fatalf("poll after %d of %d: %v", len(got), n, err)
		}
		got = append(got, recs...)
	}
	if len(got) != n {
		t.Fatalf("polled %d records, want %d", len(got), n)
	}
	return got
}
