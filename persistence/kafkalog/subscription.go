package kafkalog

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/frontdesk-ai/frontdesk/persistence"
)

// Subscribe joins group on topic as a new member with a client of its own,
// creating the topic when it does not exist. The member shares the topic's
// partitions with the group's other members; a new group starts at the
// beginning of every partition. Joining completes in the background; the
// first Poll waits for it.
func (l *Log) Subscribe(ctx context.Context, group, topic string) (persistence.Subscription, error) {
	if group == "" {
		return nil, fmt.Errorf("subscribe to %s: empty group name", topic)
	}
	if err := l.checkOpen(); err != nil {
		return nil, fmt.Errorf("subscribe %s to %s: %w", group, topic, err)
	}
	if _, err := l.ensureTopic(ctx, topic); err != nil {
		return nil, fmt.Errorf("subscribe %s to %s: %w", group, topic, err)
	}
	stop, cancel := context.WithCancel(context.Background())
	s := &subscription{
		l: l, group: group, topic: topic, max: l.cfg.MaxPollRecords,
		stop: stop, cancel: cancel,
		owned: make(map[int32]bool),
	}
	opts := l.conn // full capacity: append copies
	if l.cfg.InstanceID != "" {
		s.instance = instanceID(l.cfg.InstanceID)
		opts = append(opts, kgo.InstanceID(s.instance))
		l.mu.Lock()
		busy := l.groups[group]
		if !busy {
			l.groups[group] = true // reserved; released on failure below or by Close
		}
		l.mu.Unlock()
		if busy {
			cancel()
			return nil, fmt.Errorf("subscribe %s to %s: this log already has a subscription in the group, and its static member id %q allows one", group, topic, s.instance)
		}
	}
	cl, err := kgo.NewClient(append(opts,
		kgo.ConsumerGroup(group),
		kgo.ConsumeTopics(topic),
		kgo.Balancers(kgo.CooperativeStickyBalancer()),
		kgo.DisableAutoCommit(),
		kgo.BlockRebalanceOnPoll(),
		kgo.SessionTimeout(l.cfg.SessionTimeout),
		kgo.HeartbeatInterval(l.cfg.HeartbeatInterval),
		kgo.RebalanceTimeout(l.cfg.RebalanceTimeout),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		// A fetch in flight delays partitions newly assigned on its
		// broker until it returns: keep it short (Java's default) so a
		// failover is not held up by kgo's 5s.
		kgo.FetchMaxWait(fetchMaxWait),
		kgo.OnPartitionsAssigned(s.assigned),
		kgo.OnPartitionsRevoked(s.disown("revoked")),
		kgo.OnPartitionsLost(s.disown("lost")),
	)...)
	if err != nil {
		cancel()
		s.release()
		return nil, fmt.Errorf("subscribe %s to %s: %w", group, topic, err)
	}
	s.cl = cl
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		cancel()
		cl.Close()
		s.release()
		return nil, fmt.Errorf("subscribe %s to %s: %w", group, topic, persistence.ErrClosed)
	}
	l.subs[s] = struct{}{}
	if _, ok := l.groups[group]; !ok {
		l.groups[group] = false
	}
	l.mu.Unlock()
	return s, nil
}

// release frees the group's static member id for another subscription.
func (s *subscription) release() {
	if s.instance == "" {
		return
	}
	s.l.mu.Lock()
	s.l.groups[s.group] = false
	s.l.mu.Unlock()
}

// fetchMaxWait bounds how long a broker holds a fetch with no new records.
const fetchMaxWait = 500 * time.Millisecond

// subscription is one member of a consumer group. pollMu serializes Polls
// (kgo allows one poller when rebalances block on poll); commitMu
// serializes Commits so none moves an offset below another's; mu guards
// owned, the partitions whose records Poll delivered since they were last
// revoked.
type subscription struct {
	l        *Log
	group    string
	topic    string
	instance string // static member id; empty for a dynamic member
	max      int
	cl       *kgo.Client

	stop      context.Context // ended by Close
	cancel    context.CancelFunc
	closeOnce sync.Once

	pollMu   sync.Mutex
	commitMu sync.Mutex

	mu    sync.Mutex
	owned map[int32]bool
}

var _ persistence.Subscription = (*subscription)(nil)

// disown returns the callback that forgets revoked or lost partitions.
// kgo calls it only while no Poll holds the rebalance, i.e. between Polls.
func (s *subscription) disown(how string) func(context.Context, *kgo.Client, map[string][]int32) {
	return func(_ context.Context, _ *kgo.Client, lost map[string][]int32) {
		if len(lost[s.topic]) == 0 {
			return
		}
		s.mu.Lock()
		for _, p := range lost[s.topic] {
			delete(s.owned, p)
		}
		s.mu.Unlock()
		s.l.logger.Info().Str("group", s.group).Str("topic", s.topic).Ints32("partitions", lost[s.topic]).Msg("partitions " + how)
	}
}

// assigned logs the partitions a rebalance gave this member: with the
// revoked and lost ones, the moves of a fail-over.
func (s *subscription) assigned(_ context.Context, _ *kgo.Client, added map[string][]int32) {
	if len(added[s.topic]) > 0 {
		s.l.logger.Info().Str("group", s.group).Str("topic", s.topic).Ints32("partitions", added[s.topic]).Msg("partitions assigned")
	}
}

func (s *subscription) closedErr(op string) error {
	return fmt.Errorf("%s %s/%s: %w", op, s.group, s.topic, persistence.ErrClosed)
}

// Poll lets a waiting rebalance go ahead, then blocks until records are
// fetched, ctx ends or the subscription is closed. It returns up to
// MaxPollRecords records, each partition's in offset order, and holds off
// rebalances until the next Poll or Close.
func (s *subscription) Poll(ctx context.Context) ([]persistence.Record, error) {
	s.pollMu.Lock()
	defer s.pollMu.Unlock()
	if s.stop.Err() != nil {
		return nil, s.closedErr("poll")
	}
	pctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer context.AfterFunc(s.stop, cancel)()
	for {
		s.cl.AllowRebalance()
		fs := s.cl.PollRecords(pctx, s.max)
		if s.stop.Err() != nil || fs.IsClientClosed() {
			// Not delivered: the group's next owner gets these again.
			return nil, s.closedErr("poll")
		}
		if n := fs.NumRecords(); n > 0 {
			out := make([]persistence.Record, 0, n)
			s.mu.Lock()
			fs.EachRecord(func(kr *kgo.Record) {
				s.owned[kr.Partition] = true
				out = append(out, toRecord(kr))
			})
			s.mu.Unlock()
			for _, e := range fs.Errors() {
				s.l.logger.Warn().Err(e.Err).Str("group", s.group).Str("topic", e.Topic).Int32("partition", e.Partition).Msg("fetch error")
			}
			return out, nil
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if err := fetchErr(ctx, fs); err != nil {
			return nil, fmt.Errorf("poll %s/%s: %w", s.group, s.topic, err)
		}
	}
}

// Commit commits, per partition, the offset after the newest given record,
// and returns once the group coordinator stored it. A commit never moves an
// offset backwards. Records of partitions this member no longer owns are
// skipped: their new owner gets them again.
func (s *subscription) Commit(ctx context.Context, recs []persistence.Record) error {
	if s.stop.Err() != nil {
		return s.closedErr("commit")
	}
	next := make(map[int32]int64)
	for _, r := range recs {
		if r.Topic != s.topic {
			return fmt.Errorf("commit %s/%s: record of topic %q", s.group, s.topic, r.Topic)
		}
		if r.Partition < 0 || r.Offset < 0 {
			return fmt.Errorf("commit %s/%s: no record at %d/%d: %w", s.group, s.topic, r.Partition, r.Offset, persistence.ErrNotFound)
		}
		next[r.Partition] = max(next[r.Partition], r.Offset+1)
	}
	s.commitMu.Lock()
	defer s.commitMu.Unlock()
	committed := s.cl.CommittedOffsets()[s.topic]
	offsets := make(map[int32]kgo.EpochOffset, len(next))
	var skipped []int32
	s.mu.Lock()
	for p, off := range next {
		if !s.owned[p] {
			skipped = append(skipped, p)
			continue
		}
		if c, ok := committed[p]; ok && c.Offset >= off {
			continue
		}
		offsets[p] = kgo.EpochOffset{Epoch: -1, Offset: off}
	}
	s.mu.Unlock()
	if len(skipped) > 0 {
		s.l.logger.Debug().Str("group", s.group).Str("topic", s.topic).Ints32("partitions", skipped).
			Msg("commit skips partitions revoked from this member; they are redelivered")
	}
	if len(offsets) == 0 {
		return nil
	}
	var cerr error
	s.cl.CommitOffsetsSync(ctx, map[string]map[int32]kgo.EpochOffset{s.topic: offsets},
		func(_ *kgo.Client, _ *kmsg.OffsetCommitRequest, resp *kmsg.OffsetCommitResponse, err error) {
			if err != nil {
				cerr = err
				return
			}
			for _, t := range resp.Topics {
				for _, p := range t.Partitions {
					if err := kerr.ErrorForCode(p.ErrorCode); err != nil && cerr == nil {
						cerr = fmt.Errorf("partition %d: %w", p.Partition, err)
					}
				}
			}
		})
	if cerr != nil {
		return fmt.Errorf("commit %s/%s: %w", s.group, s.topic, cerr)
	}
	return nil
}

// Lag returns the records of the topic past the group's committed offsets
// (from the oldest kept record where the group never committed).
func (s *subscription) Lag(ctx context.Context) (int64, error) {
	lag, err := s.lag(ctx)
	if err != nil {
		return 0, fmt.Errorf("lag %s/%s: %w", s.group, s.topic, err)
	}
	return lag, nil
}

func (s *subscription) lag(ctx context.Context) (int64, error) {
	adm := s.l.adm
	ends, err := adm.ListEndOffsets(ctx, s.topic)
	if err != nil {
		return 0, err
	}
	if err := ends.Error(); err != nil {
		return 0, err
	}
	starts, err := adm.ListStartOffsets(ctx, s.topic)
	if err != nil {
		return 0, err
	}
	if err := starts.Error(); err != nil {
		return 0, err
	}
	committed, err := adm.FetchOffsets(ctx, s.group)
	if err != nil && !errors.Is(err, kerr.GroupIDNotFound) { // a group that never committed
		return 0, err
	}
	var lag int64
	for p, end := range ends[s.topic] {
		from := starts[s.topic][p].Offset
		if c, ok := committed.Lookup(s.topic, p); ok && c.Err == nil && c.At >= 0 {
			from = max(from, c.At)
		}
		lag += max(0, end.Offset-from)
	}
	return lag, nil
}

// Close leaves the group: a Poll waiting on the subscription returns
// persistence.ErrClosed and the member's partitions, with their
// uncommitted records, go to the group's other members. kgo does not leave
// for a static member (it expects it back under the same id); Close sends
// the leave itself, so the partitions move at once rather than after the
// session timeout.
func (s *subscription) Close() error {
	s.closeOnce.Do(func() {
		s.cancel()
		s.pollMu.Lock() // a Poll in flight has returned
		s.cl.AllowRebalance()
		s.cl.Close()
		s.pollMu.Unlock()
		if s.instance != "" {
			// Waiting longer than the session timeout buys nothing: by then
			// the group has dropped the member anyway.
			ctx, cancel := context.WithTimeout(context.Background(), s.l.cfg.SessionTimeout)
			if _, err := s.l.leaveGroup(ctx, s.group, s.instance, "closed"); err != nil {
				s.l.logger.Warn().Err(err).Str("group", s.group).Str("instance_id", s.instance).
					Msg("leave group; the group drops this member when its session times out")
			}
			cancel()
		}
		s.release()
		s.l.mu.Lock()
		delete(s.l.subs, s)
		s.l.mu.Unlock()
	})
	return nil
}
