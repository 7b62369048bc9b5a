package persistence

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// Subscriber joins consumer groups.
type Subscriber interface {
	Subscribe(ctx context.Context, group, topic string) (Subscription, error)
}

// ConsumerConfig configures Consume.
type ConsumerConfig struct {
	Group, Topic string
	// Parallel bounds how many keys are handled at once (default 16).
	Parallel int
	// DrainTimeout bounds how long handling of the batch in hand goes on
	// after ctx ends (default 20 s); what is left is redelivered later.
	DrainTimeout time.Duration
	// Joined is called once the group is joined (readiness), Lag after each
	// batch with the group's lag, and Failed with errors of poll and commit
	// (the loop retries). Each may be nil.
	Joined func()
	Lag    func(n int64)
	Failed func(err error)
}

// Consume reads topic as consumer group and hands each record to handle
// (records of one key in order, keys in parallel, see ProcessByKey), then
// commits what was handled. handle returns false only when it gave up
// because its context ended. When ctx ends, Consume stops polling, lets the
// batch in hand finish within DrainTimeout, commits, leaves the group and
// returns nil. At least once: a crash redelivers what was not committed.
func Consume(ctx context.Context, sub Subscriber, cfg ConsumerConfig, handle func(ctx context.Context, rec Record) bool) error {
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
		done := ProcessByKey(dctx, recs, cfg.Parallel, handle)
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

// Appender appends records to the event log.
type Appender interface {
	Append(ctx context.Context, recs ...Record) ([]Record, error)
}

// DeadLetterRecord returns the record that parks rec on its topic's
// dead-letter topic with the reason it could not be processed.
func DeadLetterRecord(rec Record, cause error, at time.Time) Record {
	v, _ := json.Marshal(DeadLetter{Topic: rec.Topic, Partition: rec.Partition, Offset: rec.Offset, Key: rec.Key,
		Value: rec.Value, Error: cause.Error(), At: at.UTC()})
	return Record{Topic: DeadLetterTopic(rec.Topic), Key: rec.Key, Value: v}
}

// AppendDeadLetter parks rec on the dead-letter topic, retrying the append
// until it succeeds; it returns false only when ctx ends first.
func AppendDeadLetter(ctx context.Context, log Appender, rec Record, cause error) bool {
	dl := DeadLetterRecord(rec, cause, time.Now())
	for {
		if _, err := log.Append(ctx, dl); err == nil {
			return true
		}
		if !Sleep(ctx, 200*time.Millisecond) {
			return false
		}
	}
}

// Sleep waits for d and reports true, or false when ctx ends first.
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
