package sqlstore

// The embedded event log: persistence.Log on the store's own database, so an
// append and the state change that causes it can commit in one transaction
// (AppendTx). It follows Kafka's model with a single group member: topics are
// created on first use with a fixed partition count (log_topics), a record's
// partition is murmur2(key) as in Kafka's Java client and franz-go, offsets
// are dense per partition, and consumer groups commit offsets (log_commits).
//
// Offset allocation and visibility. An append bumps the partition's counter
// with UPDATE log_partitions SET next_offset = next_offset + n ... RETURNING
// inside the append's transaction, then inserts its records. On PostgreSQL
// the UPDATE takes the partition row's lock and holds it until the
// transaction ends, so a second appender to the same partition waits until
// the first has committed (and then continues from its offsets) or rolled
// back (and then reuses them: a rollback leaves no gap). Records of one
// partition therefore become visible in offset order, and a consumer that has
// read up to offset k never sees a record below k appear later: it cannot
// skip a record that commits late. SQLite has one writer at a time, which
// gives the same order. Within one call the partitions are locked in (topic,
// partition) order; a transaction that calls AppendTx more than once on
// PostgreSQL can deadlock with another doing the same in the opposite order
// (PostgreSQL aborts one of them). Keep transactions that call AppendTx
// short and call it last: its locks stall every appender of those
// partitions until commit.
//
// Wake-ups. Append, and AppendTx through Tx.AfterCommit, wake the Polls of
// this process waiting on the topic after the commit. A Poll woken by an
// append that is not visible yet looks again at short, growing intervals
// (2 ms doubling to PollInterval).
// Every Poll also looks at the database every PollInterval, which is how it
// sees appends of other processes.
//
// Lock order: subscription.pollMu, then subscription.mu, then Log.mu. No
// mutex except pollMu is held across a database call.

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/frontdesk-ai/frontdesk/persistence"
)

var _ persistence.Log = (*Log)(nil)

// LogConfig tunes the embedded log. Zero fields take their defaults.
type LogConfig struct {
	// Partitions is the partition count of a topic created from now on
	// (default 4). A topic keeps the count it was created with, so changing
	// this never moves a key to another partition.
	Partitions int32
	// PollInterval is the longest a waiting Poll goes without looking at the
	// database (default 150ms); appends of other processes show within it.
	PollInterval time.Duration
	// MaxPollRecords bounds the records one Poll returns (default 500).
	MaxPollRecords int
	// Now gives append times (default time.Now).
	Now func() time.Time
}

// Default values of LogConfig.
const (
	DefaultLogPartitions     = 4
	DefaultLogPollInterval   = 150 * time.Millisecond
	DefaultLogMaxPollRecords = 500
)

// minPollRetry is the first wait after a wake-up that found nothing yet.
const minPollRetry = 2 * time.Millisecond

// insertChunk bounds the rows of one INSERT (6 parameters each).
const insertChunk = 200

// errClosed is returned by a closed subscription.
var errClosed = persistence.ErrClosed

// Validate reports a configuration that cannot work.
func (c LogConfig) Validate() error {
	if c.Partitions < 0 {
		return fmt.Errorf("log partitions %d: must be positive", c.Partitions)
	}
	if c.PollInterval < 0 {
		return fmt.Errorf("log poll interval %s: must be positive", c.PollInterval)
	}
	if c.MaxPollRecords < 0 {
		return fmt.Errorf("log max poll records %d: must be positive", c.MaxPollRecords)
	}
	return nil
}

func (c LogConfig) withDefaults() LogConfig {
	if c.Partitions == 0 {
		c.Partitions = DefaultLogPartitions
	}
	if c.PollInterval == 0 {
		c.PollInterval = DefaultLogPollInterval
	}
	if c.MaxPollRecords == 0 {
		c.MaxPollRecords = DefaultLogMaxPollRecords
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}

// Log is the embedded event log kept in the store's database. It is safe for
// concurrent use.
type Log struct {
	s *Store

	mu     sync.Mutex
	cfg    LogConfig
	topics map[string]int32         // partition counts of committed topics
	wake   map[string]chan struct{} // closed to wake the Polls of a topic
}

func newLog(s *Store) *Log {
	return &Log{
		s:      s,
		cfg:    LogConfig{}.withDefaults(),
		topics: make(map[string]int32),
		wake:   make(map[string]chan struct{}),
	}
}

// Configure replaces the log's configuration; zero fields take defaults.
// Call it before the log is used: subscriptions already open keep their
// poll settings.
func (l *Log) Configure(cfg LogConfig) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	l.mu.Lock()
	l.cfg = cfg.withDefaults()
	l.mu.Unlock()
	return nil
}

func (l *Log) config() LogConfig {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.cfg
}

// Append appends records in a transaction of its own and wakes the local
// subscribers of their topics after the commit. Inside Store.InTx use
// AppendTx: on SQLite, Append waits for the connection the transaction holds.
func (l *Log) Append(ctx context.Context, recs ...persistence.Record) ([]persistence.Record, error) {
	if len(recs) == 0 {
		return nil, nil
	}
	var out []persistence.Record
	var created map[string]int32
	err := l.s.InTx(ctx, func(tx *Tx) error {
		var err error
		out, created, err = l.appendRecords(ctx, tx.q, recs, true)
		return err
	})
	if err != nil {
		return nil, err
	}
	l.mu.Lock()
	for t, n := range created {
		l.topics[t] = n
	}
	l.mu.Unlock()
	l.notify(out)
	return out, nil
}

// AppendTx appends records inside tx, so they commit or roll back with the
// state changes made in it. It returns the records with Partition, Offset
// and Time set; they are visible to consumers once tx commits. It holds the
// lock of each partition it appends to until tx ends (see the file comment).
func (l *Log) AppendTx(ctx context.Context, tx *Tx, recs ...persistence.Record) ([]persistence.Record, error) {
	if len(recs) == 0 {
		return nil, nil
	}
	out, _, err := l.appendRecords(ctx, tx.q, recs, false)
	if err != nil {
		return nil, err
	}
	tx.AfterCommit(func() { l.notify(out) })
	return out, nil
}

// partKey names one partition of one topic.
type partKey struct {
	topic string
	part  int32
}

// appendRecords allocates offsets and inserts recs through q, which must be
// a transaction. It returns the records and the topics it created (to be
// cached once the transaction commits). ownTx says the transaction was begun
// for this call, so a topic it finds is committed and may be cached.
func (l *Log) appendRecords(ctx context.Context, q q, recs []persistence.Record, ownTx bool) ([]persistence.Record, map[string]int32, error) {
	out := make([]persistence.Record, len(recs))
	counts := make(map[string]int32)
	var created map[string]int32
	groups := make(map[partKey][]int)
	for i, r := range recs {
		if err := validTopic(r.Topic); err != nil {
			return nil, nil, fmt.Errorf("append: %w", err)
		}
		n, ok := counts[r.Topic]
		if !ok {
			var isNew bool
			var err error
			n, isNew, err = l.ensureTopic(ctx, q, r.Topic, ownTx)
			if err != nil {
				return nil, nil, fmt.Errorf("append to %s: %w", r.Topic, err)
			}
			counts[r.Topic] = n
			if isNew {
				if created == nil {
					created = make(map[string]int32)
				}
				created[r.Topic] = n
			}
		}
		r.Partition = PartitionForKey(r.Key, n)
		if r.Value == nil {
			r.Value = []byte{}
		}
		out[i] = r
		k := partKey{r.Topic, r.Partition}
		groups[k] = append(groups[k], i)
	}
	keys := make([]partKey, 0, len(groups))
	for k := range groups {
		keys = append(keys, k)
	}
	// One lock order for every appender: (topic, partition).
	slices.SortFunc(keys, func(a, b partKey) int {
		return cmp.Or(strings.Compare(a.topic, b.topic), cmp.Compare(a.part, b.part))
	})
	now := l.config().Now().UTC().Truncate(time.Microsecond)
	bump := q.d.rebind(`UPDATE log_partitions
		SET next_offset = next_offset + ?, last_time = CASE WHEN last_time > ? THEN last_time ELSE ? END
		WHERE topic = ? AND partition_id = ?
		RETURNING next_offset, last_time`)
	nowArg := timeArg(q.d, now)
	for _, k := range keys {
		idx := groups[k]
		var end int64
		var last dbTime
		if err := q.ex.QueryRowContext(ctx, bump, len(idx), nowArg, nowArg, k.topic, k.part).Scan(&end, &last); err != nil {
			return nil, nil, fmt.Errorf("append to %s/%d: allocate offsets: %w", k.topic, k.part, mapErr(err))
		}
		base := end - int64(len(idx))
		for j, i := range idx {
			out[i].Offset = base + int64(j)
			out[i].Time = last.t
		}
	}
	for start := 0; start < len(out); start += insertChunk {
		chunk := out[start:min(start+insertChunk, len(out))]
		var b strings.Builder
		b.WriteString("INSERT INTO log_records (topic, partition_id, record_offset, key, value, created_at) VALUES ")
		args := make([]any, 0, 6*len(chunk))
		for j, r := range chunk {
			if j > 0 {
				b.WriteString(", ")
			}
			b.WriteString("(?, ?, ?, ?, ?, ?)")
			args = append(args, r.Topic, r.Partition, r.Offset, r.Key, r.Value, timeArg(q.d, r.Time))
		}
		if _, err := q.ex.ExecContext(ctx, q.d.rebind(b.String()), args...); err != nil {
			return nil, nil, fmt.Errorf("append to %s: insert records: %w", chunk[0].Topic, mapErr(err))
		}
	}
	return out, created, nil
}

// ensureTopic returns the partition count of topic, creating the topic
// through q when it does not exist yet; isNew reports that q created it.
// It caches a count it reads only when mayCache says q's transaction began
// with this call: a caller's transaction may read a topic it created itself
// and then roll back.
func (l *Log) ensureTopic(ctx context.Context, q q, topic string, mayCache bool) (n int32, isNew bool, err error) {
	l.mu.Lock()
	n, ok := l.topics[topic]
	parts := l.cfg.Partitions
	now := l.cfg.Now
	l.mu.Unlock()
	if ok {
		return n, false, nil
	}
	sel := q.d.rebind("SELECT partitions FROM log_topics WHERE topic = ?")
	err = q.ex.QueryRowContext(ctx, sel, topic).Scan(&n)
	if err == nil {
		if mayCache {
			l.cache(topic, n)
		}
		return n, false, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return 0, false, fmt.Errorf("topic %s: %w", topic, err)
	}
	// A concurrent creator's INSERT makes this one wait (PostgreSQL) and
	// then do nothing; the SELECT below then reads the winner's count.
	res, err := q.ex.ExecContext(ctx, q.d.rebind(
		"INSERT INTO log_topics (topic, partitions, created_at) VALUES (?, ?, ?) ON CONFLICT (topic) DO NOTHING"),
		topic, parts, timeArg(q.d, now().UTC()))
	if err != nil {
		return 0, false, fmt.Errorf("create topic %s: %w", topic, err)
	}
	if rows, err := res.RowsAffected(); err != nil {
		return 0, false, fmt.Errorf("create topic %s: %w", topic, err)
	} else if rows == 0 {
		if err := q.ex.QueryRowContext(ctx, sel, topic).Scan(&n); err != nil {
			return 0, false, fmt.Errorf("topic %s: %w", topic, err)
		}
		if mayCache {
			l.cache(topic, n)
		}
		return n, false, nil
	}
	var b strings.Builder
	b.WriteString("INSERT INTO log_partitions (topic, partition_id) VALUES ")
	args := make([]any, 0, 2*parts)
	for p := range parts {
		if p > 0 {
			b.WriteString(", ")
		}
		b.WriteString("(?, ?)")
		args = append(args, topic, p)
	}
	if _, err := q.ex.ExecContext(ctx, q.d.rebind(b.String()), args...); err != nil {
		return 0, false, fmt.Errorf("create topic %s: partitions: %w", topic, err)
	}
	return parts, true, nil
}

func (l *Log) cache(topic string, n int32) {
	l.mu.Lock()
	l.topics[topic] = n
	l.mu.Unlock()
}

// topicPartitions returns the partition count of topic, creating the topic
// in a transaction of its own when it does not exist.
func (l *Log) topicPartitions(ctx context.Context, topic string) (int32, error) {
	if err := validTopic(topic); err != nil {
		return 0, err
	}
	var n int32
	var isNew bool
	err := l.s.InTx(ctx, func(tx *Tx) error {
		var err error
		n, isNew, err = l.ensureTopic(ctx, tx.q, topic, true)
		return err
	})
	if err != nil {
		return 0, err
	}
	if isNew {
		l.cache(topic, n)
	}
	return n, nil
}

// Partitions returns the number of partitions of topic, creating the topic
// with the configured count when it does not exist.
func (l *Log) Partitions(ctx context.Context, topic string) (int32, error) {
	l.mu.Lock()
	n, ok := l.topics[topic]
	l.mu.Unlock()
	if ok {
		return n, nil
	}
	n, err := l.topicPartitions(ctx, topic)
	if err != nil {
		return 0, fmt.Errorf("partitions of %s: %w", topic, err)
	}
	return n, nil
}

// checkPartition fails with persistence.ErrNotFound when topic has no
// partition p.
func (l *Log) checkPartition(ctx context.Context, topic string, p int32) error {
	n, err := l.Partitions(ctx, topic)
	if err != nil {
		return err
	}
	if p < 0 || p >= n {
		return fmt.Errorf("partition %d of %s (%d partitions): %w", p, topic, n, persistence.ErrNotFound)
	}
	return nil
}

// Read returns up to limit records of one partition from offset from, oldest
// first. It reads committed records only and touches no group.
func (l *Log) Read(ctx context.Context, topic string, partition int32, from int64, limit int) ([]persistence.Record, error) {
	if from < 0 || limit <= 0 {
		return nil, fmt.Errorf("read %s/%d: offset %d and limit %d must not be negative or zero", topic, partition, from, limit)
	}
	if err := l.checkPartition(ctx, topic, partition); err != nil {
		return nil, fmt.Errorf("read: %w", err)
	}
	recs, err := l.read(ctx, topic, partition, from, limit)
	if err != nil {
		return nil, fmt.Errorf("read %s/%d from %d: %w", topic, partition, from, err)
	}
	return recs, nil
}

func (l *Log) read(ctx context.Context, topic string, partition int32, from int64, limit int) ([]persistence.Record, error) {
	rows, err := l.s.q.ex.QueryContext(ctx, l.s.d.rebind(`SELECT record_offset, key, value, created_at FROM log_records
		WHERE topic = ? AND partition_id = ? AND record_offset >= ?
		ORDER BY record_offset LIMIT ?`), topic, partition, from, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []persistence.Record
	for rows.Next() {
		r := persistence.Record{Topic: topic, Partition: partition}
		var tm dbTime
		if err := rows.Scan(&r.Offset, &r.Key, &r.Value, &tm); err != nil {
			return nil, err
		}
		r.Time = tm.t
		out = append(out, r)
	}
	return out, rows.Err()
}

// EndOffset returns the offset the next record of the partition will get.
func (l *Log) EndOffset(ctx context.Context, topic string, partition int32) (int64, error) {
	if err := l.checkPartition(ctx, topic, partition); err != nil {
		return 0, fmt.Errorf("end offset: %w", err)
	}
	var end int64
	err := l.s.q.ex.QueryRowContext(ctx, l.s.d.rebind("SELECT next_offset FROM log_partitions WHERE topic = ? AND partition_id = ?"),
		topic, partition).Scan(&end)
	if err != nil {
		return 0, fmt.Errorf("end offset of %s/%d: %w", topic, partition, mapErr(err))
	}
	return end, nil
}

// OffsetForTime returns the first offset of the partition whose record time
// is at or after t, or the end offset when no record is that recent. Record
// times never decrease along a partition's offsets, so reading from the
// result replays everything appended since t.
func (l *Log) OffsetForTime(ctx context.Context, topic string, partition int32, t time.Time) (int64, error) {
	if err := l.checkPartition(ctx, topic, partition); err != nil {
		return 0, fmt.Errorf("offset for time: %w", err)
	}
	var off int64
	err := l.s.q.ex.QueryRowContext(ctx, l.s.d.rebind(`SELECT record_offset FROM log_records
		WHERE topic = ? AND partition_id = ? AND created_at >= ?
		ORDER BY created_at, record_offset LIMIT 1`), topic, partition, timeArg(l.s.d, t.UTC())).Scan(&off)
	if errors.Is(err, sql.ErrNoRows) {
		return l.EndOffset(ctx, topic, partition)
	}
	if err != nil {
		return 0, fmt.Errorf("offset for time %s in %s/%d: %w", t.Format(time.RFC3339Nano), topic, partition, err)
	}
	return off, nil
}

// endOffsets returns the next offset of every partition of topic, indexed
// by partition.
func (l *Log) endOffsets(ctx context.Context, topic string, n int32) ([]int64, error) {
	rows, err := l.s.q.ex.QueryContext(ctx, l.s.d.rebind("SELECT partition_id, next_offset FROM log_partitions WHERE topic = ?"), topic)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	ends := make([]int64, n)
	for rows.Next() {
		var p int32
		var end int64
		if err := rows.Scan(&p, &end); err != nil {
			return nil, err
		}
		if p >= 0 && p < n {
			ends[p] = end
		}
	}
	return ends, rows.Err()
}

// notify wakes the Polls waiting on the topics of recs.
func (l *Log) notify(recs []persistence.Record) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, r := range recs {
		if ch, ok := l.wake[r.Topic]; ok {
			close(ch)
			delete(l.wake, r.Topic)
		}
	}
}

// waiter returns a channel closed by the next append to topic.
func (l *Log) waiter(topic string) <-chan struct{} {
	l.mu.Lock()
	defer l.mu.Unlock()
	ch, ok := l.wake[topic]
	if !ok {
		ch = make(chan struct{})
		l.wake[topic] = ch
	}
	return ch
}

// Subscribe joins group on topic as its only member: the subscription owns
// every partition and starts at the group's committed offsets (the
// beginning for a new group). Two open subscriptions of one group each
// receive every record.
func (l *Log) Subscribe(ctx context.Context, group, topic string) (persistence.Subscription, error) {
	if group == "" {
		return nil, fmt.Errorf("subscribe to %s: empty group name", topic)
	}
	n, err := l.Partitions(ctx, topic)
	if err != nil {
		return nil, fmt.Errorf("subscribe %s to %s: %w", group, topic, err)
	}
	pos, err := l.committed(ctx, group, topic, n)
	if err != nil {
		return nil, fmt.Errorf("subscribe %s to %s: %w", group, topic, err)
	}
	cfg := l.config()
	return &subscription{
		l: l, group: group, topic: topic, n: n,
		interval: cfg.PollInterval, max: cfg.MaxPollRecords,
		closed: make(chan struct{}),
		pos:    pos,
	}, nil
}

// committed returns the group's committed offset of every partition of
// topic (0 where it never committed).
func (l *Log) committed(ctx context.Context, group, topic string, n int32) ([]int64, error) {
	rows, err := l.s.q.ex.QueryContext(ctx, l.s.d.rebind(
		"SELECT partition_id, committed_offset FROM log_commits WHERE group_name = ? AND topic = ?"), group, topic)
	if err != nil {
		return nil, fmt.Errorf("read committed offsets: %w", err)
	}
	defer rows.Close()
	pos := make([]int64, n)
	for rows.Next() {
		var p int32
		var off int64
		if err := rows.Scan(&p, &off); err != nil {
			return nil, fmt.Errorf("read committed offsets: %w", err)
		}
		if p >= 0 && p < n {
			pos[p] = off
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read committed offsets: %w", err)
	}
	return pos, nil
}

// subscription is one group member owning every partition of its topic.
// pollMu serializes Polls (so two never deliver the same records); mu
// guards pos, the next offset to deliver per partition.
type subscription struct {
	l        *Log
	group    string
	topic    string
	n        int32
	interval time.Duration
	max      int

	closeOnce sync.Once
	closed    chan struct{}

	pollMu sync.Mutex
	next   int32 // partition Poll starts at, rotated for fairness; pollMu

	mu  sync.Mutex
	pos []int64
}

var _ persistence.Subscription = (*subscription)(nil)

// Poll blocks until records past the subscription's position are committed
// or ctx ends, and returns up to MaxPollRecords of them, each partition's
// in offset order.
func (s *subscription) Poll(ctx context.Context) ([]persistence.Record, error) {
	s.pollMu.Lock()
	defer s.pollMu.Unlock()
	timer := time.NewTimer(s.interval)
	defer timer.Stop()
	delay := s.interval
	for {
		select {
		case <-s.closed:
			return nil, fmt.Errorf("poll %s/%s: %w", s.group, s.topic, errClosed)
		default:
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		// Take the wake-up channel before looking, so an append that
		// commits after the look still wakes this Poll.
		wake := s.l.waiter(s.topic)
		recs, err := s.fetch(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			return nil, fmt.Errorf("poll %s/%s: %w", s.group, s.topic, err)
		}
		if len(recs) > 0 {
			return recs, nil
		}
		timer.Reset(delay)
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-s.closed:
			return nil, fmt.Errorf("poll %s/%s: %w", s.group, s.topic, errClosed)
		case <-wake:
			// Maybe an AppendTx whose transaction has not committed yet:
			// look again soon, then less and less often.
			delay = minPollRetry
		case <-timer.C:
			delay = min(2*delay, s.interval)
		}
	}
}

// fetch reads the records past the position, at most s.max, and advances
// the position past them. The caller holds pollMu.
func (s *subscription) fetch(ctx context.Context) ([]persistence.Record, error) {
	ends, err := s.l.endOffsets(ctx, s.topic, s.n)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	pos := slices.Clone(s.pos)
	s.mu.Unlock()
	var out []persistence.Record
	budget := s.max
	for i := range s.n {
		if budget <= 0 {
			break
		}
		p := (s.next + i) % s.n
		if ends[p] <= pos[p] {
			continue
		}
		recs, err := s.l.read(ctx, s.topic, p, pos[p], int(min(int64(budget), ends[p]-pos[p])))
		if err != nil {
			return nil, fmt.Errorf("read partition %d: %w", p, err)
		}
		if len(recs) > 0 {
			pos[p] = recs[len(recs)-1].Offset + 1
			out = append(out, recs...)
			budget -= len(recs)
		}
	}
	s.next = (s.next + 1) % s.n
	s.mu.Lock()
	for p := range s.pos {
		s.pos[p] = max(s.pos[p], pos[p])
	}
	s.mu.Unlock()
	return out, nil
}

// Commit stores, per partition, the offset after the newest given record as
// the group's committed offset. A commit never moves an offset backwards.
// Exclusive reports that the subscription owns every partition of its topic
// while it is open (no rebalance moves one), so it may be polled again before
// earlier records are committed.
func (s *subscription) Exclusive() bool { return true }

func (s *subscription) Commit(ctx context.Context, recs []persistence.Record) error {
	select {
	case <-s.closed:
		return fmt.Errorf("commit %s/%s: %w", s.group, s.topic, errClosed)
	default:
	}
	next := make(map[int32]int64)
	for _, r := range recs {
		if r.Topic != s.topic {
			return fmt.Errorf("commit %s/%s: record of topic %q", s.group, s.topic, r.Topic)
		}
		if r.Partition < 0 || r.Partition >= s.n || r.Offset < 0 {
			return fmt.Errorf("commit %s/%s: no record at %d/%d: %w", s.group, s.topic, r.Partition, r.Offset, persistence.ErrNotFound)
		}
		next[r.Partition] = max(next[r.Partition], r.Offset+1)
	}
	if len(next) == 0 {
		return nil
	}
	parts := make([]int32, 0, len(next))
	for p := range next {
		parts = append(parts, p)
	}
	slices.Sort(parts)
	now := timeArg(s.l.s.d, s.l.config().Now().UTC())
	upsert := s.l.s.d.rebind(`INSERT INTO log_commits (group_name, topic, partition_id, committed_offset, updated_at)
		VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (group_name, topic, partition_id) DO UPDATE
		SET committed_offset = excluded.committed_offset, updated_at = excluded.updated_at
		WHERE log_commits.committed_offset < excluded.committed_offset`)
	err := s.l.s.InTx(ctx, func(tx *Tx) error {
		for _, p := range parts {
			if _, err := tx.q.ex.ExecContext(ctx, upsert, s.group, s.topic, p, next[p], now); err != nil {
				return fmt.Errorf("partition %d: %w", p, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("commit %s/%s: %w", s.group, s.topic, err)
	}
	s.mu.Lock()
	for _, p := range parts {
		s.pos[p] = max(s.pos[p], next[p])
	}
	s.mu.Unlock()
	return nil
}

// Lag returns the records of the topic past the group's committed offsets.
func (s *subscription) Lag(ctx context.Context) (int64, error) {
	ends, err := s.l.endOffsets(ctx, s.topic, s.n)
	if err != nil {
		return 0, fmt.Errorf("lag %s/%s: %w", s.group, s.topic, err)
	}
	committed, err := s.l.committed(ctx, s.group, s.topic, s.n)
	if err != nil {
		return 0, fmt.Errorf("lag %s/%s: %w", s.group, s.topic, err)
	}
	var lag int64
	for p := range ends {
		lag += max(0, ends[p]-committed[p])
	}
	return lag, nil
}

// Close ends the subscription; a Poll waiting on it returns an error.
// Uncommitted records go to the group's next subscription.
func (s *subscription) Close() error {
	s.closeOnce.Do(func() { close(s.closed) })
	return nil
}

// PartitionForKey returns the partition of key in a topic of n partitions
// the way Kafka's Java client and franz-go's default partitioner do:
// positive(murmur2(key)) % n. The empty key goes to partition 0.
func PartitionForKey(key string, n int32) int32 {
	if key == "" || n <= 1 {
		return 0
	}
	return (murmur2([]byte(key)) & 0x7fffffff) % n
}

// murmur2 is Kafka's murmur2 hash (org.apache.kafka.common.utils.Utils),
// seed 0x9747b28c, as a Java int.
func murmur2(b []byte) int32 {
	const (
		seed uint32 = 0x9747b28c
		m    uint32 = 0x5bd1e995
		r           = 24
	)
	h := seed ^ uint32(len(b))
	for ; len(b) >= 4; b = b[4:] {
		k := uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24
		k *= m
		k ^= k >> r
		k *= m
		h *= m
		h ^= k
	}
	switch len(b) {
	case 3:
		h ^= uint32(b[2]) << 16
		fallthrough
	case 2:
		h ^= uint32(b[1]) << 8
		fallthrough
	case 1:
		h ^= uint32(b[0])
		h *= m
	}
	h ^= h >> 13
	h *= m
	h ^= h >> 15
	return int32(h)
}

// validTopic accepts Kafka's legal topic names (letters, digits, '.', '_',
// '-'; at most 249 characters), so topics carry over to the Kafka log.
func validTopic(topic string) error {
	if topic == "" || len(topic) > 249 || topic == "." || topic == ".." {
		return fmt.Errorf("topic %q: want 1 to 249 of [a-zA-Z0-9._-]", topic)
	}
	for i := 0; i < len(topic); i++ {
		c := topic[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return fmt.Errorf("topic %q: want 1 to 249 of [a-zA-Z0-9._-]", topic)
		}
	}
	return nil
}

// timeArg is t as the dialect stores log times: unix microseconds on
// SQLite, TIMESTAMPTZ on PostgreSQL.
func timeArg(d *dialect, t time.Time) any {
	if d == postgresDialect {
		return t
	}
	return t.UnixMicro()
}

// dbTime scans a log time column of either dialect as UTC.
type dbTime struct{ t time.Time }

func (d *dbTime) Scan(src any) error {
	switch v := src.(type) {
	case int64:
		d.t = time.UnixMicro(v).UTC()
	case time.Time:
		d.t = v.UTC()
	default:
		return fmt.Errorf("log time: unexpected %T", src)
	}
	return nil
}
