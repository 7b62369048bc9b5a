// Package kafkalog is the event log of cluster mode: persistence.Log on
// Kafka through franz-go (kgo for producing and consuming, kadm for topics
// and offsets). It keeps the SQL log's semantics so either can stand in for
// the other: topics are created on first use with a fixed partition count
// (tolerating another member creating them at the same moment), a record's
// partition is murmur2(key) as in Kafka's Java client and sqlstore, the
// empty key goes to partition 0, and an Append returns once every record is
// acknowledged by all in-sync replicas (idempotent producer, acks=all).
//
// Consumer groups. Every Subscription is one group member with a client of
// its own (classic group protocol, cooperative-sticky balancer, no
// auto-commit); a static member (KIP-345) when Config.InstanceID is set, so
// that a peer can remove a dead process from its groups at once (Evict;
// see evict.go) and a closing subscription leaves its group itself.
// Rebalances are blocked from the moment Poll returns records
// until the next Poll or Close (kgo.BlockRebalanceOnPoll): a partition is
// never revoked while its records are being handled, so a member commits
// only partitions it still owns, and Commit skips partitions revoked
// before it ran (their records are redelivered to the new owner). Handle a
// batch within Config.RebalanceTimeout or the member is dropped from the
// group and its batch redelivered. Commit is synchronous and never moves a
// committed offset backwards.
//
// Concurrency. A Log is safe for concurrent use: Appends share one
// producer client, admin requests go through it, and Read opens a
// short-lived direct consumer per call. A Subscription's Polls are
// serialized, and so are its Commits. Lock order: subscription.pollMu,
// subscription.commitMu, subscription.mu, Log.mu; only pollMu and commitMu
// are held across broker calls.
//
// kfake (github.com/twmb/franz-go/pkg/kfake) speaks the same protocol
// in-process; kafkalogtest starts it for tests and cmd/kfake-dev for
// development. Production uses a real Kafka cluster.
package kafkalog

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/rs/zerolog"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/frontdesk-ai/frontdesk/consume"
	"github.com/frontdesk-ai/frontdesk/persistence"
)

var _ persistence.Log = (*Log)(nil)

// Log is persistence.Log on a Kafka cluster. It is safe for concurrent use.
type Log struct {
	cfg    Config
	logger zerolog.Logger
	conn   []kgo.Opt // options of every client: brokers, identity, TLS, SASL, logger; full capacity, so append copies
	cl     *kgo.Client
	adm    *kadm.Client

	mu     sync.Mutex
	topics map[string]int32 // partition counts of known topics
	subs   map[*subscription]struct{}
	groups map[string]bool // groups subscribed to so far; true while a subscription is open
	closed bool
}

// Open connects to the brokers of cfg and returns the log. It fails when
// cfg is invalid or no broker answers within cfg.DialTimeout.
func Open(ctx context.Context, cfg Config, logger zerolog.Logger) (*Log, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("kafka log config: %w", err)
	}
	cfg = cfg.withDefaults()
	logger = logger.With().Str("component", "kafkalog").Logger()
	conn, err := cfg.connOpts()
	if err != nil {
		return nil, fmt.Errorf("kafka log config: %w", err)
	}
	conn = append(conn, kgo.WithLogger(kgoLogger{logger}))
	if cfg.SASL.Mechanism == MechanismPlain && !cfg.TLS.Enabled {
		logger.Warn().Msg("SASL PLAIN without TLS sends the Kafka password in clear text")
	}
	conn = slices.Clip(conn) // shared: every append to it must copy
	cl, err := kgo.NewClient(append(conn,
		kgo.RecordPartitioner(keyPartitioner{kgo.StickyKeyPartitioner(nil)}),
		kgo.RequiredAcks(kgo.AllISRAcks()),
		kgo.ProducerLinger(0), // Append waits for its records: batching delay buys nothing
		// Let ctx bound an Append even while its records are in flight to
		// a dead broker. kgo otherwise waits for their fate to keep
		// idempotence; the cost is that a caller's retry of a cancelled
		// Append may store the records twice (consumers dedupe).
		kgo.AllowIdempotentProduceCancellation(),
	)...)
	if err != nil {
		return nil, fmt.Errorf("kafka client for %s: %w", cfg.brokerList(), err)
	}
	pctx, cancel := context.WithTimeout(ctx, cfg.DialTimeout)
	defer cancel()
	if err := cl.Ping(pctx); err != nil {
		cl.Close()
		return nil, fmt.Errorf("kafka brokers %s (FRONTDESK_KAFKA_BROKERS): none answered within %s: %w",
			cfg.brokerList(), cfg.DialTimeout, err)
	}
	return &Log{
		cfg:    cfg,
		logger: logger,
		conn:   conn,
		cl:     cl,
		adm:    kadm.NewClient(cl),
		topics: make(map[string]int32),
		subs:   make(map[*subscription]struct{}),
		groups: make(map[string]bool),
	}, nil
}

// Close closes the log's open subscriptions (each leaves its group) and
// its connections. Further calls fail with persistence.ErrClosed.
func (l *Log) Close() error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil
	}
	l.closed = true
	subs := make([]*subscription, 0, len(l.subs))
	for s := range l.subs {
		subs = append(subs, s)
	}
	l.mu.Unlock()
	for _, s := range subs {
		s.Close()
	}
	l.cl.Close()
	return nil
}

func (l *Log) checkOpen() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return persistence.ErrClosed
	}
	return nil
}

// Append produces recs and waits until every one is acknowledged by all
// in-sync replicas. It returns them with Partition, Offset and Time (the
// record's timestamp, millisecond precision) set. Records of one key keep
// their order. Unlike the SQL log a batch is not atomic: when Append fails,
// records of other partitions may have been appended. ctx bounds the wait:
// an Append cancelled while its records were in flight may still have
// stored them, so a retry can store them twice.
func (l *Log) Append(ctx context.Context, recs ...persistence.Record) ([]persistence.Record, error) {
	if len(recs) == 0 {
		return nil, nil
	}
	if err := l.checkOpen(); err != nil {
		return nil, fmt.Errorf("append: %w", err)
	}
	krs := make([]*kgo.Record, len(recs))
	for i, r := range recs {
		if _, err := l.ensureTopic(ctx, r.Topic); err != nil {
			return nil, fmt.Errorf("append: %w", err)
		}
		kr := &kgo.Record{Topic: r.Topic, Value: r.Value}
		if kr.Value == nil {
			kr.Value = []byte{} // a nil value is a tombstone in Kafka
		}
		if r.Key != "" {
			kr.Key = []byte(r.Key)
		}
		krs[i] = kr
	}
	if err := l.produce(ctx, krs); err != nil {
		return nil, fmt.Errorf("append %d records to %s: %w", len(recs), recs[0].Topic, err)
	}
	out := make([]persistence.Record, len(recs))
	for i, kr := range krs {
		out[i] = persistence.Record{
			Topic:     kr.Topic,
			Partition: kr.Partition,
			Offset:    kr.Offset,
			Key:       recs[i].Key,
			Value:     kr.Value,
			Time:      toTime(kr.Timestamp),
		}
	}
	return out, nil
}

// produce produces krs and waits until all are acknowledged or ctx ends.
// kgo notices a cancelled record only between its retries, so the wait
// itself watches ctx: an Append never outlives its deadline.
func (l *Log) produce(ctx context.Context, krs []*kgo.Record) error {
	var (
		mu      sync.Mutex
		left    = len(krs)
		failure error
		done    = make(chan struct{})
	)
	for _, kr := range krs {
		l.cl.Produce(ctx, kr, func(_ *kgo.Record, err error) {
			mu.Lock()
			defer mu.Unlock()
			if err != nil && failure == nil {
				failure = err
			}
			if left--; left == 0 {
				close(done)
			}
		})
	}
	select {
	case <-done:
		mu.Lock()
		defer mu.Unlock()
		return failure
	case <-ctx.Done():
		return fmt.Errorf("not acknowledged, may still be stored: %w", ctx.Err())
	}
}

// toTime is a record timestamp as the broker stores it: milliseconds, UTC.
func toTime(t time.Time) time.Time { return time.UnixMilli(t.UnixMilli()).UTC() }

// ensureTopic returns the partition count of topic, creating the topic with
// the configured partitions and replication when it does not exist. When
// another member creates it first, the count is the one it was created with.
func (l *Log) ensureTopic(ctx context.Context, topic string) (int32, error) {
	if err := validTopic(topic); err != nil {
		return 0, err
	}
	l.mu.Lock()
	n, ok := l.topics[topic]
	l.mu.Unlock()
	if ok {
		return n, nil
	}
	n, err := l.lookupTopic(ctx, topic)
	if err != nil && !errors.Is(err, kerr.UnknownTopicOrPartition) {
		return 0, fmt.Errorf("topic %s: %w", topic, err)
	}
	if err != nil {
		_, err = l.adm.CreateTopic(ctx, l.cfg.Partitions, l.cfg.ReplicationFactor, nil, topic)
		switch {
		case err == nil:
			n = l.cfg.Partitions
			l.logger.Info().Str("topic", topic).Int32("partitions", n).Msg("created topic")
		case errors.Is(err, kerr.TopicAlreadyExists):
			// Created by another member since the lookup: take its count.
			if n, err = l.awaitTopic(ctx, topic); err != nil {
				return 0, fmt.Errorf("topic %s: %w", topic, err)
			}
		default:
			return 0, fmt.Errorf("create topic %s (%d partitions, replication %d): %w",
				topic, l.cfg.Partitions, l.cfg.ReplicationFactor, err)
		}
	}
	l.mu.Lock()
	l.topics[topic] = n
	l.mu.Unlock()
	return n, nil
}

// lookupTopic returns the partition count of topic from a fresh metadata
// request (kadm's cached metadata would remember "unknown" for seconds
// after the topic is created), or an error wrapping
// kerr.UnknownTopicOrPartition.
func (l *Log) lookupTopic(ctx context.Context, topic string) (int32, error) {
	req := kmsg.NewPtrMetadataRequest()
	rt := kmsg.NewMetadataRequestTopic()
	rt.Topic = kmsg.StringPtr(topic)
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(ctx, l.cl)
	if err != nil {
		return 0, err
	}
	for _, t := range resp.Topics {
		if t.Topic == nil || *t.Topic != topic {
			continue
		}
		if err := kerr.ErrorForCode(t.ErrorCode); err != nil {
			return 0, err
		}
		if len(t.Partitions) == 0 {
			return 0, kerr.UnknownTopicOrPartition
		}
		return int32(len(t.Partitions)), nil
	}
	return 0, kerr.UnknownTopicOrPartition
}

// awaitTopic looks topic up until the metadata shows it: a topic another
// member just created may take a moment to reach every broker.
func (l *Log) awaitTopic(ctx context.Context, topic string) (int32, error) {
	delay := 10 * time.Millisecond
	for {
		n, err := l.lookupTopic(ctx, topic)
		if err == nil || !errors.Is(err, kerr.UnknownTopicOrPartition) {
			return n, err
		}
		if !consume.Sleep(ctx, delay) {
			return 0, fmt.Errorf("wait for topic: %w", ctx.Err())
		}
		delay = min(2*delay, time.Second)
	}
}

// Partitions returns the number of partitions of topic, creating the topic
// with the configured count when it does not exist.
func (l *Log) Partitions(ctx context.Context, topic string) (int32, error) {
	if err := l.checkOpen(); err != nil {
		return 0, fmt.Errorf("partitions of %s: %w", topic, err)
	}
	n, err := l.ensureTopic(ctx, topic)
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

// EndOffset returns the offset the next record of the partition will get
// (its high watermark).
func (l *Log) EndOffset(ctx context.Context, topic string, partition int32) (int64, error) {
	if err := l.checkPartition(ctx, topic, partition); err != nil {
		return 0, fmt.Errorf("end offset: %w", err)
	}
	ends, err := l.adm.ListEndOffsets(ctx, topic)
	if err != nil {
		return 0, fmt.Errorf("end offset of %s/%d: %w", topic, partition, err)
	}
	o, err := lookup(ends, topic, partition)
	if err != nil {
		return 0, fmt.Errorf("end offset of %s/%d: %w", topic, partition, err)
	}
	return o, nil
}

// lookup returns the offset of one partition in a kadm listing.
func lookup(ls kadm.ListedOffsets, topic string, p int32) (int64, error) {
	o, ok := ls.Lookup(topic, p)
	if !ok {
		return 0, fmt.Errorf("broker listed no offset: %w", kerr.UnknownTopicOrPartition)
	}
	if o.Err != nil {
		return 0, o.Err
	}
	return o.Offset, nil
}

// OffsetForTime returns the first offset of the partition whose record time
// is at or after t, or the end offset when no record is that recent.
// Record times are the producers' clocks (CreateTime) unless the topic is
// configured for LogAppendTime; within one producer they never go back.
func (l *Log) OffsetForTime(ctx context.Context, topic string, partition int32, t time.Time) (int64, error) {
	if err := l.checkPartition(ctx, topic, partition); err != nil {
		return 0, fmt.Errorf("offset for time: %w", err)
	}
	ms := t.UnixMilli()
	if t.After(time.UnixMilli(ms)) {
		ms++ // a record at ms is before t: start at the next millisecond
	}
	ls, err := l.adm.ListOffsetsAfterMilli(ctx, ms, topic)
	if err == nil {
		var off int64
		if off, err = lookup(ls, topic, partition); err == nil && off >= 0 {
			return off, nil
		}
	}
	if err != nil {
		return 0, fmt.Errorf("offset for time %s in %s/%d: %w", t.Format(time.RFC3339Nano), topic, partition, err)
	}
	return l.EndOffset(ctx, topic, partition)
}

// Read returns up to limit records of one partition from offset from,
// oldest first, through a direct consumer that touches no group. Records
// removed by retention are skipped: the read starts at the oldest kept.
func (l *Log) Read(ctx context.Context, topic string, partition int32, from int64, limit int) ([]persistence.Record, error) {
	if from < 0 || limit <= 0 {
		return nil, fmt.Errorf("read %s/%d: offset %d and limit %d must not be negative or zero", topic, partition, from, limit)
	}
	end, err := l.EndOffset(ctx, topic, partition)
	if err != nil {
		return nil, fmt.Errorf("read: %w", err)
	}
	if from >= end {
		return nil, nil
	}
	cl, err := kgo.NewClient(append(l.conn,
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: {partition: kgo.NewOffset().At(from)}}),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
	)...)
	if err != nil {
		return nil, fmt.Errorf("read %s/%d: %w", topic, partition, err)
	}
	defer cl.Close()
	var out []persistence.Record
	for len(out) < limit {
		pctx, cancel := ctx, context.CancelFunc(func() {})
		if len(out) > 0 {
			// Offsets below end may hold no record (transaction markers,
			// compaction): past the first record, a fetch that stays
			// empty ends the read with what it has.
			pctx, cancel = context.WithTimeout(ctx, readIdle)
		}
		fs := cl.PollRecords(pctx, limit-len(out))
		cancel()
		if fs.NumRecords() == 0 && len(out) > 0 && ctx.Err() == nil && pctx.Err() != nil {
			break
		}
		if err := fetchErr(ctx, fs); err != nil && fs.NumRecords() == 0 {
			return nil, fmt.Errorf("read %s/%d from %d: %w", topic, partition, from, err)
		}
		last := int64(-1)
		fs.EachRecord(func(kr *kgo.Record) {
			if kr.Offset >= from && len(out) < limit {
				out = append(out, toRecord(kr))
			}
			last = kr.Offset
		})
		if last+1 >= end {
			break
		}
	}
	return out, nil
}

// readIdle is how long Read waits for more records once it has some.
const readIdle = 2 * time.Second

// fetchErr returns the first error of fs, ctx's error when ctx ended.
func fetchErr(ctx context.Context, fs kgo.Fetches) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	for _, e := range fs.Errors() {
		return e.Err
	}
	return nil
}

func toRecord(kr *kgo.Record) persistence.Record {
	return persistence.Record{
		Topic:     kr.Topic,
		Partition: kr.Partition,
		Offset:    kr.Offset,
		Key:       string(kr.Key),
		Value:     kr.Value,
		Time:      toTime(kr.Timestamp),
	}
}

// validTopic accepts Kafka's legal topic names (letters, digits, '.', '_',
// '-'; at most 249 characters), the rule the SQL log applies too.
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
