package actors

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/frontdesk-ai/frontdesk/actors/grainpb"
	"github.com/frontdesk-ai/frontdesk/consume"
	"github.com/frontdesk-ai/frontdesk/persistence"
)

// Consumer is what the dispatcher needs from the event log: a seat in a
// consumer group, and appends for dead letters.
type Consumer interface {
	consume.Subscriber
	Append(ctx context.Context, recs ...persistence.Record) ([]persistence.Record, error)
}

// DispatchConfig configures a Dispatcher.
type DispatchConfig struct {
	// Group is the consumer group (default "conversations").
	Group string
	// Topic is the topic read (default persistence.TopicInbound).
	Topic string
	// Parallel bounds how many threads are delivered to at once (default
	// 256). A delivery waits on its grain's store write, not on the CPU: the
	// more run at once, the more writes share a group commit.
	Parallel int
	// DeliverTimeout bounds one delivery including the grain's retries
	// (default 30 s); a delivery that times out is tried again.
	DeliverTimeout time.Duration
	// DrainTimeout bounds how long a stopping dispatcher keeps delivering
	// the batch in hand (default 20 s); what is left is redelivered later.
	DrainTimeout time.Duration
	// MaxAttempts bounds the deliveries of one record that fail without a
	// permanent error (default 50, a few minutes with the backoff); the
	// record then goes to the dead-letter topic with the last error, so one
	// poison event cannot hold its conversation forever.
	MaxAttempts int
	// Fenced, when set, pauses consumption while it reports true (the
	// member is cut off from its cluster): the dispatcher drains, leaves
	// the consumer group so other members take its partitions, and joins
	// again once it is false.
	Fenced func() bool
}

func (c *DispatchConfig) defaults() {
	if c.Group == "" {
		c.Group = "conversations"
	}
	if c.Topic == "" {
		c.Topic = persistence.TopicInbound
	}
	if c.Parallel <= 0 {
		c.Parallel = 256
	}
	if c.DeliverTimeout <= 0 {
		c.DeliverTimeout = 30 * time.Second
	}
	if c.DrainTimeout <= 0 {
		c.DrainTimeout = 20 * time.Second
	}
	if c.MaxAttempts <= 0 {
		c.MaxAttempts = 50
	}
}

// Dispatcher reads the inbound topic as a consumer group and delivers each
// record to its conversation grain, at least once and in order per key. It
// commits a partition's offsets only up to the last record whose grain
// acknowledged a durable effect, so a crash redelivers what was not applied
// and the grain's checkpoint turns the redelivery into a no-op.
type Dispatcher struct {
	cfg   DispatchConfig
	log   Consumer
	rt    *Runtime
	ready atomic.Bool
}

// NewDispatcher builds a dispatcher that delivers through rt's caller.
func NewDispatcher(cfg DispatchConfig, log Consumer, rt *Runtime) *Dispatcher {
	cfg.defaults()
	return &Dispatcher{cfg: cfg, log: log, rt: rt}
}

// Ready reports whether the dispatcher has joined its consumer group.
func (d *Dispatcher) Ready() bool { return d.ready.Load() }

// Run consumes until ctx ends (stop intake), then finishes the batch in hand
// within DrainTimeout, commits what was applied, and leaves the group.
func (d *Dispatcher) Run(ctx context.Context) error {
	log := d.rt.log.With().Str("component", "dispatcher").Str("group", d.cfg.Group).Str("topic", d.cfg.Topic).Logger()
	defer d.ready.Store(false)
	if d.cfg.Fenced == nil {
		return d.consume(ctx, log)
	}
	for {
		for d.cfg.Fenced() {
			if !consume.Sleep(ctx, 250*time.Millisecond) {
				return nil
			}
		}
		// Consume until fenced (or stopped), then wait to serve again.
		cctx, cancel := context.WithCancel(ctx)
		go func() {
			for !d.cfg.Fenced() && consume.Sleep(cctx, 250*time.Millisecond) {
			}
			cancel()
		}()
		err := d.consume(cctx, log)
		cancel()
		d.ready.Store(false)
		if err != nil || ctx.Err() != nil {
			return err
		}
		log.Warn().Msg("dispatcher paused: member fenced")
	}
}

func (d *Dispatcher) consume(ctx context.Context, log zerolog.Logger) error {
	lag := d.rt.metrics.lag.WithLabelValues(d.cfg.Group, d.cfg.Topic)
	err := consume.Run(ctx, d.log, consume.Config{
		Group: d.cfg.Group, Topic: d.cfg.Topic, Parallel: d.cfg.Parallel, DrainTimeout: d.cfg.DrainTimeout,
		Joined: func() { d.ready.Store(true) },
		Lag:    func(n int64) { lag.Set(float64(n)) },
		Failed: func(err error) {
			d.rt.metrics.errors.WithLabelValues("dispatcher").Inc()
			log.Error().Err(err).Msg("dispatcher")
		},
	}, d.deliver)
	if err != nil {
		return fmt.Errorf("dispatcher: %w", err)
	}
	log.Info().Msg("dispatcher stopped")
	return nil
}

// deliver hands one record to its grain until it is applied, found to be a
// duplicate, or dead-lettered; it returns false only when ctx ends first.
func (d *Dispatcher) deliver(ctx context.Context, rec persistence.Record) bool {
	msg := &grainpb.Deliver{Topic: rec.Topic, Partition: rec.Partition, Offset: rec.Offset, Envelope: rec.Value}
	for attempt := 0; ; attempt++ {
		if _, _, _, err := parseThreadKey(rec.Key); err != nil {
			return d.deadLetter(ctx, rec, err)
		}
		cctx, cancel := context.WithTimeout(ctx, d.cfg.DeliverTimeout)
		res, err := d.rt.call(cctx, KindConversation, rec.Key, msg)
		cancel()
		if err == nil {
			ack, ok := res.(*grainpb.DeliverAck)
			switch {
			case !ok:
				err = fmt.Errorf("unexpected answer %T", res)
			case ack.Applied || ack.Duplicate:
				d.rt.metrics.delivered.WithLabelValues(d.cfg.Group, "acked").Inc()
				return true
			case ack.Permanent:
				return d.deadLetter(ctx, rec, errors.New(ack.Error))
			default:
				err = errors.New(ack.Error)
			}
		}
		if ctx.Err() != nil {
			return false
		}
		if attempt+1 >= d.cfg.MaxAttempts {
			return d.deadLetter(ctx, rec, fmt.Errorf("gave up after %d attempts: %w", attempt+1, err))
		}
		d.rt.metrics.errors.WithLabelValues("deliver").Inc()
		d.rt.log.Warn().Err(err).Str("key", rec.Key).Int64("offset", rec.Offset).Int("attempt", attempt+1).Msg("delivery failed; retrying")
		if !consume.Sleep(ctx, time.Duration(rand.Int64N(int64(100*time.Millisecond<<min(attempt, 6))))) {
			return false
		}
	}
}

func (d *Dispatcher) deadLetter(ctx context.Context, rec persistence.Record, cause error) bool {
	if !consume.AppendDeadLetter(ctx, d.log, rec, cause) {
		return false
	}
	d.rt.metrics.delivered.WithLabelValues(d.cfg.Group, "dead_lettered").Inc()
	d.rt.log.Error().Str("topic", rec.Topic).Int32("partition", rec.Partition).Int64("offset", rec.Offset).
		Str("key", rec.Key).Str("error", cause.Error()).Msg("event cannot be applied; moved to the dead-letter topic")
	return true
}
