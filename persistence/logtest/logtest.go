// Package logtest is the conformance suite of persistence.Log: every event
// log implementation (the SQL log of the embedded mode, Kafka in cluster
// mode) runs Run against itself. The cases use only the persistence.Log
// contract, assume nothing about partition counts or timing beyond it, and
// never assert on durations: waits are channels with generous deadlines.
package logtest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/frontdesk-ai/frontdesk/persistence"
)

// Factory opens a fresh, empty log for one test. reopen, when not nil, opens
// the same log again as a restarted process would see it (same data,
// nothing in memory); the instance it replaces is not used afterwards, so
// reopen may close it. Cleanup belongs to the factory (t.Cleanup).
type Factory func(t *testing.T) (log persistence.Log, reopen func() persistence.Log)

// TimeSeeker is a log that can find offsets by record time; Run checks it
// when the log under test implements it.
type TimeSeeker interface {
	// OffsetForTime returns the first offset of the partition whose record
	// time is at or after t, or the end offset when none is.
	OffsetForTime(ctx context.Context, topic string, partition int32, t time.Time) (int64, error)
}

// wait bounds every blocking step; generous so slow machines and -race
// never fail a correct log.
const wait = 30 * time.Second

// quiet is how long a Poll that must find nothing is given. A correct log
// passes whatever its value; a shorter one only makes the check weaker.
const quiet = 300 * time.Millisecond

// Run runs every case of the suite as a subtest, each on a log from open.
func Run(t *testing.T, open Factory) {
	cases := []struct {
		name string
		run  func(t *testing.T, open Factory)
	}{
		{"AppendFillsPosition", testAppendFillsPosition},
		{"KeyOrder", testKeyOrder},
		{"GroupResumesAtCommit", testGroupResumesAtCommit},
		{"GroupsIndependent", testGroupsIndependent},
		{"Replay", testReplay},
		{"ConcurrentProducers", testConcurrentProducers},
		{"PollWaitsForAppend", testPollWaitsForAppend},
		{"PollReturnsOnCancel", testPollReturnsOnCancel},
		{"PollAfterClose", testPollAfterClose},
		{"LagFollowsCommits", testLagFollowsCommits},
		{"CommitNeverMovesBack", testCommitNeverMovesBack},
		{"OffsetForTime", testOffsetForTime},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { c.run(t, open) })
	}
}

func testAppendFillsPosition(t *testing.T, open Factory) {
	ctx := ctxFor(t)
	log, _ := open(t)
	const topic = "fills"
	before := time.Now()
	var all, inputs []persistence.Record
	for i := range 3 {
		inputs = append(inputs, rec(topic, "a", i))
		got := mustAppend(t, log, inputs[i])
		if len(got) != 1 {
			t.Fatalf("append returned %d records, want 1", len(got))
		}
		all = append(all, got...)
	}
	if all[1].Partition != all[0].Partition || all[2].Partition != all[0].Partition {
		t.Fatalf("one key on partitions %d, %d, %d; want one partition", all[0].Partition, all[1].Partition, all[2].Partition)
	}
	if all[1].Offset != all[0].Offset+1 || all[2].Offset != all[1].Offset+1 {
		t.Fatalf("offsets %d, %d, %d of consecutive appends: want consecutive", all[0].Offset, all[1].Offset, all[2].Offset)
	}
	// A batch keeps its order and may span keys and topics.
	batch := []persistence.Record{rec(topic, "b", 0), rec(topic, "c", 0), rec("fills-other", "b", 0), rec(topic, "a", 3), rec(topic, "b", 1)}
	got := mustAppend(t, log, batch...)
	after := time.Now()
	if len(got) != len(batch) {
		t.Fatalf("batch append returned %d records, want %d", len(got), len(batch))
	}
	all = append(all, got...)
	inputs = append(inputs, batch...)
	for i, r := range all {
		in := inputs[i]
		if r.Topic != in.Topic || r.Key != in.Key || string(r.Value) != string(in.Value) {
			t.Errorf("record %d came back as %s/%s=%q, want %s/%s=%q", i, r.Topic, r.Key, r.Value, in.Topic, in.Key, in.Value)
		}
		if r.Time.Before(before.Add(-time.Minute)) || r.Time.After(after.Add(time.Minute)) {
			t.Errorf("record %d time %s, want about now (%s)", i, r.Time, before)
		}
	}
	if got[3].Partition != all[0].Partition || got[3].Offset <= all[2].Offset {
		t.Errorf("key a in a batch at %d/%d, want partition %d after offset %d", got[3].Partition, got[3].Offset, all[0].Partition, all[2].Offset)
	}
	if got[4].Partition != got[0].Partition || got[4].Offset <= got[0].Offset {
		t.Errorf("key b at %d/%d then %d/%d: want one partition, increasing offsets", got[0].Partition, got[0].Offset, got[4].Partition, got[4].Offset)
	}
	// The log is fresh: each partition's offsets are 0..end-1 with no gap.
	for _, tp := range []string{topic, "fills-other"} {
		n, err := log.Partitions(ctx, tp)
		if err != nil || n < 1 {
			t.Fatalf("partitions of %s: %d, %v", tp, n, err)
		}
		byPart := map[int32][]int64{}
		for _, r := range all {
			if r.Topic != tp {
				continue
			}
			if r.Partition < 0 || r.Partition >= n {
				t.Fatalf("record on partition %d of %d", r.Partition, n)
			}
			byPart[r.Partition] = append(byPart[r.Partition], r.Offset)
		}
		for p := range n {
			offs := byPart[p]
			slices.Sort(offs)
			for i, o := range offs {
				if o != int64(i) {
					t.Fatalf("%s/%d offsets %v: want 0..%d", tp, p, offs, len(offs)-1)
				}
			}
			if end := mustEnd(t, log, tp, p); end != int64(len(offs)) {
				t.Errorf("end offset of %s/%d = %d, want %d", tp, p, end, len(offs))
			}
		}
	}
}

func testKeyOrder(t *testing.T, open Factory) {
	log, _ := open(t)
	const topic = "keyorder"
	const keys, perKey = 20, 25
	// Keys interleaved, appended alone and in batches of varying size.
	var pending []persistence.Record
	size := 1
	for seq := range perKey {
		for k := range keys {
			pending = append(pending, rec(topic, "k"+strconv.Itoa(k), seq))
			if len(pending) == size {
				mustAppend(t, log, pending...)
				pending = nil
				size = size%7 + 1
			}
		}
	}
	if len(pending) > 0 {
		mustAppend(t, log, pending...)
	}
	stored := readAll(t, log, topic)
	checkKeyOrder(t, stored, keys*perKey)

	sub := mustSubscribe(t, log, "keyorder-g", topic)
	delivered := pollUntil(t, sub, keys*perKey)
	checkKeyOrder(t, delivered, keys*perKey)
}

func testGroupResumesAtCommit(t *testing.T, open Factory) {
	ctx := ctxFor(t)
	log, reopen := open(t)
	const topic, group = "resume", "resume-g"
	var in []persistence.Record
	for i := range 30 {
		in = append(in, rec(topic, "k"+strconv.Itoa(i%6), i))
	}
	mustAppend(t, log, in...)

	sub := mustSubscribe(t, log, group, topic)
	got := pollUntil(t, sub, len(in))
	// Commit the middle record of each partition: it covers the records
	// before it; the ones after stay uncommitted.
	byPart := map[int32][]persistence.Record{}
	for _, r := range got {
		byPart[r.Partition] = append(byPart[r.Partition], r)
	}
	var commit, rest []persistence.Record
	for _, rs := range byPart {
		mid := len(rs) / 2
		commit = append(commit, rs[mid])
		rest = append(rest, rs[mid+1:]...)
	}
	if err := sub.Commit(ctx, commit); err != nil {
		t.Fatalf("commit: %v", err)
	}
	if err := sub.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}

	t.Run("NewSubscription", func(t *testing.T) {
		sub := mustSubscribe(t, log, group, topic)
		defer sub.Close()
		sameValues(t, pollUntil(t, sub, len(rest)), rest)
		expectNothing(t, sub)
		if lag := mustLag(t, sub); lag != int64(len(rest)) {
			t.Errorf("lag %d, want %d", lag, len(rest))
		}
	})
	if reopen == nil {
		return
	}
	t.Run("AfterReopen", func(t *testing.T) {
		log := reopen()
		sub := mustSubscribe(t, log, group, topic)
		again := pollUntil(t, sub, len(rest))
		sameValues(t, again, rest)
		expectNothing(t, sub)
		if err := sub.Commit(ctx, again); err != nil {
			t.Fatalf("commit: %v", err)
		}
		sub.Close()

		log = reopen()
		sub = mustSubscribe(t, log, group, topic)
		defer sub.Close()
		if lag := mustLag(t, sub); lag != 0 {
			t.Errorf("lag after committing everything and reopening: %d, want 0", lag)
		}
		fresh := mustAppend(t, log, rec(topic, "k1", 100))
		sameValues(t, pollUntil(t, sub, 1), fresh)
	})
}

func testGroupsIndependent(t *testing.T, open Factory) {
	ctx := ctxFor(t)
	log, _ := open(t)
	const topic = "groups"
	var in []persistence.Record
	for i := range 10 {
		in = append(in, rec(topic, "k"+strconv.Itoa(i%3), i))
	}
	in = mustAppend(t, log, in...)

	one := mustSubscribe(t, log, "one", topic)
	got := pollUntil(t, one, len(in))
	if err := one.Commit(ctx, got); err != nil {
		t.Fatalf("commit: %v", err)
	}
	one.Close()

	two := mustSubscribe(t, log, "two", topic)
	defer two.Close()
	if lag := mustLag(t, two); lag != int64(len(in)) {
		t.Errorf("lag of group two: %d, want %d", lag, len(in))
	}
	sameValues(t, pollUntil(t, two, len(in)), in)

	one = mustSubscribe(t, log, "one", topic)
	defer one.Close()
	if lag := mustLag(t, one); lag != 0 {
		t.Errorf("lag of group one after committing all: %d, want 0", lag)
	}
	expectNothing(t, one)
}

func testReplay(t *testing.T, open Factory) {
	ctx := ctxFor(t)
	log, _ := open(t)
	const topic = "replay"
	var in []persistence.Record
	for i := range 40 {
		in = append(in, rec(topic, "k"+strconv.Itoa(i%5), i))
	}
	appended := mustAppend(t, log, in...)
	n, err := log.Partitions(ctx, topic)
	if err != nil {
		t.Fatalf("partitions: %v", err)
	}
	total := 0
	for p := range n {
		var want []persistence.Record
		for _, r := range appended {
			if r.Partition == p {
				want = append(want, r)
			}
		}
		total += len(want)
		cases := []struct {
			name  string
			from  int64
			limit int
			want  []persistence.Record
		}{
			{"FromZero", 0, 1000, want},
			{"FromMiddle", int64(len(want) / 2), 1000, want[len(want)/2:]},
			{"Limit", 0, 3, want[:min(3, len(want))]},
			{"FromEnd", int64(len(want)), 10, nil},
		}
		for _, c := range cases {
			t.Run(fmt.Sprintf("p%d/%s", p, c.name), func(t *testing.T) {
				got, err := log.Read(ctx, topic, p, c.from, c.limit)
				if err != nil {
					t.Fatalf("read from %d: %v", c.from, err)
				}
				if len(got) != len(c.want) {
					t.Fatalf("read from %d limit %d: %d records, want %d", c.from, c.limit, len(got), len(c.want))
				}
				for i := range got {
					g, w := got[i], c.want[i]
					if g.Topic != topic || g.Partition != p || g.Offset != w.Offset || g.Key != w.Key || string(g.Value) != string(w.Value) ||
						!g.Time.Truncate(time.Millisecond).Equal(w.Time.Truncate(time.Millisecond)) {
						t.Fatalf("record %d: got %+v, want %+v", i, g, w)
					}
				}
			})
		}
	}
	if total != len(in) {
		t.Fatalf("partitions hold %d records, want %d", total, len(in))
	}
}

func testConcurrentProducers(t *testing.T, open Factory) {
	ctx := ctxFor(t)
	log, _ := open(t)
	const topic = "concurrent"
	const producers, each = 8, 200
	const total = producers * each

	// A consumer reads while the producers write: it must see every record
	// once, including those whose transactions commit late.
	sub := mustSubscribe(t, log, "concurrent-g", topic)
	consumed := make(chan []persistence.Record, 1)
	consumeErr := make(chan error, 1)
	go func() {
		var got []persistence.Record
		for len(got) < total {
			recs, err := sub.Poll(ctx)
			if err != nil {
				consumeErr <- fmt.Errorf("poll after %d records: %w", len(got), err)
				return
			}
			if err := sub.Commit(ctx, recs); err != nil {
				consumeErr <- fmt.Errorf("commit: %w", err)
				return
			}
			got = append(got, recs...)
		}
		consumed <- got
	}()

	var wg sync.WaitGroup
	errs := make(chan error, producers)
	for g := range producers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; {
				// Mostly single appends, every tenth a batch of three.
				size := 1
				if i%10 == 0 && i+3 <= each {
					size = 3
				}
				var recs []persistence.Record
				for j := range size {
					recs = append(recs, rec(topic, fmt.Sprintf("p%d-k%d", g, (i+j)%4), i+j))
				}
				if _, err := log.Append(ctx, recs...); err != nil {
					errs <- fmt.Errorf("producer %d: %w", g, err)
					return
				}
				i += size
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}

	stored := readAll(t, log, topic)
	checkKeyOrder(t, stored, total)
	select {
	case got := <-consumed:
		checkKeyOrder(t, got, total)
	case err := <-consumeErr:
		t.Fatal(err)
	case <-time.After(wait):
		t.Fatal("consumer did not receive every record")
	}
	if lag := mustLag(t, sub); lag != 0 {
		t.Errorf("lag after consuming everything: %d", lag)
	}
	sub.Close()
}

func testPollWaitsForAppend(t *testing.T, open Factory) {
	log, _ := open(t)
	const topic = "waits"
	sub := mustSubscribe(t, log, "waits-g", topic)
	defer sub.Close()
	for i := range 3 {
		res := pollAsync(t, sub)
		select {
		case r := <-res:
			t.Fatalf("poll %d returned %d records, %v before anything was appended", i, len(r.recs), r.err)
		default:
		}
		want := mustAppend(t, log, rec(topic, "k", i))
		select {
		case r := <-res:
			if r.err != nil {
				t.Fatalf("poll %d: %v", i, r.err)
			}
			sameValues(t, r.recs, want)
		case <-time.After(wait):
			t.Fatalf("poll %d did not return after an append", i)
		}
	}
}

func testPollReturnsOnCancel(t *testing.T, open Factory) {
	log, _ := open(t)
	const topic = "cancel"
	sub := mustSubscribe(t, log, "cancel-g", topic)
	defer sub.Close()
	cases := []struct {
		name    string
		timeout time.Duration // 0: no deadline, cancelled instead
		want    error
	}{
		{"Cancel", 0, context.Canceled},
		{"Deadline", 50 * time.Millisecond, context.DeadlineExceeded},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if c.timeout > 0 {
				var stop context.CancelFunc
				ctx, stop = context.WithTimeout(ctx, c.timeout)
				defer stop()
			}
			res := make(chan pollResult, 1)
			go func() {
				recs, err := sub.Poll(ctx)
				res <- pollResult{recs, err}
			}()
			if c.timeout == 0 {
				cancel()
			}
			select {
			case r := <-res:
				if !errors.Is(r.err, c.want) || len(r.recs) != 0 {
					t.Fatalf("poll returned %d records, error %v; want none and %v", len(r.recs), r.err, c.want)
				}
			case <-time.After(wait):
				t.Fatal("poll did not return when its context ended")
			}
		})
	}
}

func testPollAfterClose(t *testing.T, open Factory) {
	log, _ := open(t)
	const topic = "closed"
	mustAppend(t, log, rec(topic, "k", 0))
	cases := []struct {
		name string
		run  func(t *testing.T, sub persistence.Subscription) <-chan pollResult
	}{
		{"ClosedBefore", func(t *testing.T, sub persistence.Subscription) <-chan pollResult {
			pollUntil(t, sub, 1)
			sub.Close()
			return pollAsync(t, sub)
		}},
		{"ClosedWhileWaiting", func(t *testing.T, sub persistence.Subscription) <-chan pollResult {
			pollUntil(t, sub, 1)
			res := pollAsync(t, sub)
			sub.Close()
			return res
		}},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sub := mustSubscribe(t, log, "closed-g"+strconv.Itoa(i), topic)
			select {
			case r := <-c.run(t, sub):
				if r.err == nil {
					t.Fatalf("poll on a closed subscription returned %d records and no error", len(r.recs))
				}
			case <-time.After(wait):
				t.Fatal("poll on a closed subscription did not return")
			}
		})
	}
}

func testLagFollowsCommits(t *testing.T, open Factory) {
	ctx := ctxFor(t)
	log, _ := open(t)
	const topic = "lag"
	var in []persistence.Record
	for i := range 20 {
		in = append(in, rec(topic, "k"+strconv.Itoa(i%4), i))
	}
	mustAppend(t, log, in...)
	sub := mustSubscribe(t, log, "lag-g", topic)
	defer sub.Close()
	if lag := mustLag(t, sub); lag != 20 {
		t.Fatalf("lag of a new group: %d, want 20", lag)
	}
	got := pollUntil(t, sub, 20)
	if lag := mustLag(t, sub); lag != 20 {
		t.Fatalf("lag after polling without commit: %d, want 20", lag)
	}
	// Commit one record at a time, in delivery order (offset order within
	// each partition): every commit lowers the lag by one.
	for i, r := range got {
		if err := sub.Commit(ctx, []persistence.Record{r}); err != nil {
			t.Fatalf("commit %d: %v", i, err)
		}
		if lag := mustLag(t, sub); lag != int64(len(got)-i-1) {
			t.Fatalf("lag after %d commits: %d, want %d", i+1, lag, len(got)-i-1)
		}
	}
	mustAppend(t, log, rec(topic, "k0", 20), rec(topic, "k1", 21))
	if lag := mustLag(t, sub); lag != 2 {
		t.Fatalf("lag after two more appends: %d, want 2", lag)
	}
}

func testCommitNeverMovesBack(t *testing.T, open Factory) {
	ctx := ctxFor(t)
	log, _ := open(t)
	const topic, group = "noback", "noback-g"
	var in []persistence.Record
	for i := range 10 {
		in = append(in, rec(topic, "one-key", i))
	}
	in = mustAppend(t, log, in...)
	sub := mustSubscribe(t, log, group, topic)
	got := pollUntil(t, sub, 10)
	steps := []struct {
		name   string
		commit persistence.Record
		lag    int64
	}{
		{"Forward", got[6], 3},
		{"Backward", got[2], 3},
		{"Same", got[6], 3},
	}
	for _, s := range steps {
		if err := sub.Commit(ctx, []persistence.Record{s.commit}); err != nil {
			t.Fatalf("%s commit of offset %d: %v", s.name, s.commit.Offset, err)
		}
		if lag := mustLag(t, sub); lag != s.lag {
			t.Fatalf("%s commit of offset %d: lag %d, want %d", s.name, s.commit.Offset, lag, s.lag)
		}
	}
	sub.Close()
	sub = mustSubscribe(t, log, group, topic)
	defer sub.Close()
	sameValues(t, pollUntil(t, sub, 3), in[7:])
	expectNothing(t, sub)
}

func testOffsetForTime(t *testing.T, open Factory) {
	ctx := ctxFor(t)
	log, _ := open(t)
	ts, ok := log.(TimeSeeker)
	if !ok {
		t.Skip("log does not implement logtest.TimeSeeker")
	}
	const topic = "bytime"
	var p int32
	for i := range 6 {
		p = mustAppend(t, log, rec(topic, "one-key", i))[0].Partition
	}
	stored, err := log.Read(ctx, topic, p, 0, 100)
	if err != nil || len(stored) != 6 {
		t.Fatalf("read: %d records, %v", len(stored), err)
	}
	for i := 1; i < len(stored); i++ {
		if stored[i].Time.Before(stored[i-1].Time) {
			t.Fatalf("record times go back along offsets: %s then %s", stored[i-1].Time, stored[i].Time)
		}
	}
	type seek struct {
		name string
		at   time.Time
		want int64
	}
	cases := []seek{
		{"BeforeAll", stored[0].Time.Add(-time.Hour), 0},
		{"AfterAll", stored[5].Time.Add(time.Hour), 6},
	}
	for i, r := range stored {
		first := slices.IndexFunc(stored, func(s persistence.Record) bool { return !s.Time.Before(r.Time) })
		cases = append(cases, seek{"Record" + strconv.Itoa(i), r.Time, stored[first].Offset})
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := ts.OffsetForTime(ctx, topic, p, c.at)
			if err != nil {
				t.Fatalf("offset for %s: %v", c.at, err)
			}
			if got != c.want {
				t.Fatalf("offset for %s = %d, want %d", c.at, got, c.want)
			}
		})
	}
}

// rec is a record whose value names its key and sequence number.
func rec(topic, key string, seq int) persistence.Record {
	return persistence.Record{Topic: topic, Key: key, Value: []byte(key + "#" + strconv.Itoa(seq))}
}

// seqOf parses the sequence number out of a value made by rec.
func seqOf(t *testing.T, r persistence.Record) int {
	t.Helper()
	_, s, ok := strings.Cut(string(r.Value), "#")
	n, err := strconv.Atoi(s)
	if !ok || err != nil {
		t.Fatalf("record value %q was not written by this suite", r.Value)
	}
	return n
}

func ctxFor(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 5*wait)
	t.Cleanup(cancel)
	return ctx
}

func mustAppend(t *testing.T, log persistence.Log, recs ...persistence.Record) []persistence.Record {
	t.Helper()
	got, err := log.Append(ctxFor(t), recs...)
	if err != nil {
		t.Fatalf("append: %v", err)
	}
	return got
}

func mustSubscribe(t *testing.T, log persistence.Log, group, topic string) persistence.Subscription {
	t.Helper()
	sub, err := log.Subscribe(ctxFor(t), group, topic)
	if err != nil {
		t.Fatalf("subscribe %s to %s: %v", group, topic, err)
	}
	t.Cleanup(func() { sub.Close() })
	return sub
}

func mustEnd(t *testing.T, log persistence.Log, topic string, p int32) int64 {
	t.Helper()
	end, err := log.EndOffset(ctxFor(t), topic, p)
	if err != nil {
		t.Fatalf("end offset of %s/%d: %v", topic, p, err)
	}
	return end
}

func mustLag(t *testing.T, sub persistence.Subscription) int64 {
	t.Helper()
	lag, err := sub.Lag(ctxFor(t))
	if err != nil {
		t.Fatalf("lag: %v", err)
	}
	return lag
}

type pollResult struct {
	recs []persistence.Record
	err  error
}

// pollAsync starts one Poll bounded by wait and returns its result channel.
func pollAsync(t *testing.T, sub persistence.Subscription) <-chan pollResult {
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	t.Cleanup(cancel)
	res := make(chan pollResult, 1)
	go func() {
		recs, err := sub.Poll(ctx)
		res <- pollResult{recs, err}
	}()
	return res
}

// pollUntil polls until n records arrived and fails on more, on a
// partition delivered out of offset order, or after wait.
func pollUntil(t *testing.T, sub persistence.Subscription, n int) []persistence.Record {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	var got []persistence.Record
	last := map[int32]int64{}
	for len(got) < n {
		recs, err := sub.Poll(ctx)
		if err != nil {
			t.Fatalf("poll after %d of %d records: %v", len(got), n, err)
		}
		for _, r := range recs {
			if prev, ok := last[r.Partition]; ok && r.Offset <= prev {
				t.Fatalf("partition %d delivered offset %d after %d", r.Partition, r.Offset, prev)
			}
			last[r.Partition] = r.Offset
		}
		got = append(got, recs...)
	}
	if len(got) > n {
		t.Fatalf("polled %d records, want %d", len(got), n)
	}
	return got
}

// expectNothing fails when a Poll finds a record within quiet.
func expectNothing(t *testing.T, sub persistence.Subscription) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), quiet)
	defer cancel()
	recs, err := sub.Poll(ctx)
	if len(recs) > 0 {
		t.Fatalf("poll returned %d unexpected records, first %s", len(recs), recs[0].Value)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("poll with nothing to read: %v, want deadline exceeded", err)
	}
}

// sameValues fails unless got and want hold the same values, each once.
func sameValues(t *testing.T, got, want []persistence.Record) {
	t.Helper()
	count := map[string]int{}
	for _, r := range want {
		count[string(r.Value)]++
	}
	for _, r := range got {
		count[string(r.Value)]--
	}
	for v, c := range count {
		if c != 0 {
			t.Fatalf("value %q delivered %d times more than expected (got %d records, want %d)", v, -c, len(got), len(want))
		}
	}
}

// readAll replays every partition of topic from offset 0, checking that
// offsets are dense and end at the end offset.
func readAll(t *testing.T, log persistence.Log, topic string) []persistence.Record {
	t.Helper()
	ctx := ctxFor(t)
	n, err := log.Partitions(ctx, topic)
	if err != nil {
		t.Fatalf("partitions of %s: %v", topic, err)
	}
	var all []persistence.Record
	for p := range n {
		end := mustEnd(t, log, topic, p)
		var next int64
		for next < end {
			recs, err := log.Read(ctx, topic, p, next, 100)
			if err != nil {
				t.Fatalf("read %s/%d from %d: %v", topic, p, next, err)
			}
			if len(recs) == 0 {
				t.Fatalf("read %s/%d from %d: nothing, end offset %d", topic, p, next, end)
			}
			for _, r := range recs {
				if r.Offset != next || r.Partition != p || r.Topic != topic {
					t.Fatalf("read %s/%d: got %s/%d/%d, want offset %d (offsets must be dense)", topic, p, r.Topic, r.Partition, r.Offset, next)
				}
				next++
			}
			all = append(all, recs...)
		}
	}
	return all
}

// checkKeyOrder fails unless recs hold total distinct records and each
// key's records sit on one partition with sequence numbers increasing along
// their offsets.
func checkKeyOrder(t *testing.T, recs []persistence.Record, total int) {
	t.Helper()
	if len(recs) != total {
		t.Fatalf("%d records, want %d", len(recs), total)
	}
	seen := map[string]bool{}
	type pos struct {
		part int32
		off  int64
		seq  int
	}
	byKey := map[string][]pos{}
	for _, r := range recs {
		if seen[string(r.Value)] {
			t.Fatalf("value %q twice", r.Value)
		}
		seen[string(r.Value)] = true
		byKey[r.Key] = append(byKey[r.Key], pos{r.Partition, r.Offset, seqOf(t, r)})
	}
	for k, ps := range byKey {
		slices.SortFunc(ps, func(a, b pos) int { return int(a.off - b.off) })
		for i, p := range ps {
			if p.part != ps[0].part {
				t.Fatalf("key %s on partitions %d and %d", k, ps[0].part, p.part)
			}
			if i > 0 && p.seq <= ps[i-1].seq {
				t.Fatalf("key %s: sequence %d at offset %d after sequence %d at offset %d: append order lost", k, p.seq, p.off, ps[i-1].seq, ps[i-1].off)
			}
		}
	}
}
