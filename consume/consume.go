// Package consume runs consumer groups over the event log: the loop that
// polls a topic as a group member, hands each record to a handler (records
// of one key in order, keys in parallel), commits what was handled and
// drains on stop; and the dead-letter topics where records that can never
// be handled are parked. The log itself (persistence.Log and its
// implementations) knows nothing of handlers; the dispatcher of inbound
// events and the channel senders are built on Run.
//
// Concurrency: Run's loop owns its subscription. On a subscription that may
// be rebalanced (Kafka), ByKey starts at most Parallel goroutines per batch
// and waits for them before the next poll, so no handler outlives the batch
// it was given. On an Exclusive subscription (the embedded log) Run polls
// ahead: Parallel workers take keys as their records arrive, and the done
// prefix of each partition is committed as it grows (pipeline.go); no
// handler outlives Run.
package consume

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/frontdesk-ai/frontdesk/persistence"
)

// Subscriber joins consumer groups.
type Subscriber interface {
	Subscribe(ctx context.Context, group, topic string) (persistence.Subscription, error)
}

// Config configures Run.
type Config struct {
	Group, Topic string
	// Parallel bounds how many keys are handled at once (default 16).
	Parallel int
	// DrainTimeout bounds how long handling of the batch in hand goes on
	// after ctx ends (default 20 s); what is left is redelivered later.
	DrainTimeout time.Duration
	// MaxInFlight bounds the records polled and not yet handled when the
	// subscription is Exclusive and Run polls ahead (default 4 × Parallel).
	MaxInFlight int
	// Joined is called once the group is joined (readiness), Lag after each
	// batch with the group's lag, and Failed with errors of poll and commit
	// (the loop retries). Each may be nil.
	Joined func()
	Lag    func(n int64)
	Failed func(err error)
}

// Run reads topic as consumer group and hands each record to handle
// (records of one key in order, keys in parallel, see ByKey), then commits
// what was handled. handle returns false only when it gave up because its
// context ended. When ctx ends, Run stops polling, lets the batch in hand
// finish within DrainTimeout, commits, leaves the group and returns nil. At
// least once: a crash redelivers what was not committed.
func Run(ctx context.Context, sub Subscriber, cfg Config, handle func(ctx context.Context, rec persistence.Record) bool) error {
	if cfg.Parallel <= 0 {
		cfg.Parallel = 16
	}
	if cfg.DrainTimeout <= 0 {
		cfg.DrainTimeout = 20 * time.Second
	}
	s, err := sub.Subscribe(ctx, cfg.Group, cfg.Topic)
	if err != nil {
		return fmt.Errorf("subscribe %s/%s: %w", cfg.Group, cfg.Topic, err)
	}
	defer s.Close()
	if cfg.Joined != nil {
		cfg.Joined()
	}
	bg := context.WithoutCancel(ctx)
	report := func() {
		if cfg.Lag == nil {
			return
		}
		if n, err := s.Lag(bg); err == nil {
			cfg.Lag(n)
		}
	}
	if ex, ok := s.(Exclusive); ok && ex.Exclusive() {
		return runPipelined(ctx, s, cfg, handle, report)
	}
	for {
		report()
		recs, err := s.Poll(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			if cfg.Failed != nil {
				cfg.Failed(fmt.Errorf("poll %s/%s: %w", cfg.Group, cfg.Topic, err))
			}
			if !Sleep(ctx, time.Second) {
				return nil
			}
			continue
		}
		// Handling outlives intake: a stop lets the batch finish (drain).
		dctx, cancel := drainContext(ctx, cfg.DrainTimeout)
		done := ByKey(dctx, recs, cfg.Parallel, handle)
		cancel()
		if len(done) > 0 {
			if err := s.Commit(bg, done); err != nil && cfg.Failed != nil {
				cfg.Failed(fmt.Errorf("commit %s/%s (records will be redelivered): %w", cfg.Group, cfg.Topic, err))
			}
		}
	}
}

// drainContext returns a context that ctx's end does not cancel at once but
// DrainTimeout later.
func drainContext(ctx context.Context, drain time.Duration) (context.Context, context.CancelFunc) {
	dctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	stop := context.AfterFunc(ctx, func() {
		t := time.AfterFunc(drain, cancel)
		context.AfterFunc(dctx, func() { t.Stop() })
	})
	return dctx, func() { stop(); cancel() }
}

// DeadLetter returns the record that parks rec on its topic's dead-letter
// topic with the reason it could not be processed.
func DeadLetter(rec persistence.Record, cause error, at time.Time) persistence.Record {
	v, _ := json.Marshal(persistence.DeadLetter{Topic: rec.Topic, Partition: rec.Partition, Offset: rec.Offset, Key: rec.Key,
		Value: rec.Value, Error: cause.Error(), At: at.UTC()})
	return persistence.Record{Topic: persistence.DeadLetterTopic(rec.Topic), Key: rec.Key, Value: v}
}

// AppendDeadLetter parks rec on the dead-letter topic, retrying the append
// until it succeeds; it returns false only when ctx ends first.
func AppendDeadLetter(ctx context.Context, log persistence.Appender, rec persistence.Record, cause error) bool {
	dl := DeadLetter(rec, cause, time.Now())
	for {
		if _, err := log.Append(ctx, dl); err == nil {
			return true
		}
		if !Sleep(ctx, 200*time.Millisecond) {
			return false
		}
	}
}

// Sleep waits for d and reports true, or false when ctx ends first: the
// pause between a consumer's (or a relay's) retries.
func Sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
