package shops

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/frontdesk-ai/frontdesk/commerce"
	"github.com/frontdesk-ai/frontdesk/consume"
	"github.com/frontdesk-ai/frontdesk/events"
	"github.com/frontdesk-ai/frontdesk/persistence"
)

// DefaultGroup is the consumer group that applies the commerce topic.
const DefaultGroup = "commerce"

// Log is what the consumer needs from the event log: its group on the
// commerce topic and appends to the dead-letter topic.
type Log interface {
	consume.Subscriber
	persistence.Appender
}

// FailureRecorder counts a shop's failed deliveries where the settings page
// shows them.
type FailureRecorder interface {
	RecordShopFailure(ctx context.Context, source, domain, reason string, at time.Time) error
}

// Consumer applies the commerce topic: each shop's events in order, through
// the Applier. An event that can never be applied (a body no parser reads,
// an unknown event version) goes to commerce.dlq and counts as the shop's
// failure; a store that fails is retried until it answers.
type Consumer struct {
	applier  *Applier
	log      Log
	failures FailureRecorder
	logger   zerolog.Logger
	events   *prometheus.CounterVec
	backoff  time.Duration
}

// NewConsumer returns the consumer of the commerce topic.
func NewConsumer(applier *Applier, log Log, failures FailureRecorder, logger zerolog.Logger, reg prometheus.Registerer) (*Consumer, error) {
	c := &Consumer{applier: applier, log: log, failures: failures, logger: logger.With().Str("component", "commerce").Logger(),
		backoff: 200 * time.Millisecond,
		events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "frontdesk_shop_events_total",
			Help: "Shop events applied from the commerce topic, by source, kind (order, customer, refund, uninstalled, unknown) and outcome (applied, stale, ignored, dead_letter).",
		}, []string{"source", "kind", "outcome"}),
	}
	if err := reg.Register(c.events); err != nil {
		return nil, fmt.Errorf("register commerce metrics: %w", err)
	}
	return c, nil
}

// Run consumes the commerce topic until ctx ends (see consume.Run).
func (c *Consumer) Run(ctx context.Context) error {
	return consume.Run(ctx, c.log, consume.Config{
		Group: DefaultGroup, Topic: persistence.TopicCommerce, Parallel: 16,
		Failed: func(err error) { c.logger.Error().Err(err).Msg("commerce consumer") },
	}, c.Handle)
}

// Handle applies one record of the commerce topic; it returns false only
// when ctx ended first (the record is then redelivered).
func (c *Consumer) Handle(ctx context.Context, rec persistence.Record) bool {
	env, err := events.Parse(rec.Value)
	if err != nil {
		return c.deadLetter(ctx, rec, events.ShopEvent{}, "", err)
	}
	p, err := events.Decode(env)
	if err != nil {
		return c.deadLetter(ctx, rec, events.ShopEvent{}, "", err)
	}
	se, ok := p.(*events.ShopEvent)
	if !ok {
		return c.deadLetter(ctx, rec, events.ShopEvent{}, "", fmt.Errorf("event %s: %s is not a shop event", env.ID, env.Type))
	}
	ev, err := Parse(*se)
	if err != nil {
		return c.deadLetter(ctx, rec, *se, "", err)
	}
	meta := Meta{Source: se.Source, Shop: se.Shop, Topic: se.Topic, TriggeredAt: se.TriggeredAt}
	for {
		outcome, err := c.applier.Apply(ctx, env.TenantID, meta, ev)
		switch {
		case err == nil:
			c.events.WithLabelValues(se.Source, string(ev.Kind), string(outcome)).Inc()
			return true
		case errors.Is(err, errPermanent), errors.Is(err, persistence.ErrInvalid):
			return c.deadLetter(ctx, rec, *se, string(ev.Kind), err)
		}
		c.logger.Warn().Err(err).Str("source", se.Source).Str("topic", se.Topic).Msg("shop event not applied yet; retrying")
		if !consume.Sleep(ctx, c.backoff) {
			return false
		}
	}
}

func (c *Consumer) deadLetter(ctx context.Context, rec persistence.Record, se events.ShopEvent, kind string, cause error) bool {
	if kind == "" {
		kind = string(commerce.KindUnknown)
	}
	c.logger.Error().Err(cause).Str("source", se.Source).Str("shop", se.Shop).Str("topic", se.Topic).Msg("shop event kept on the dead-letter topic")
	c.events.WithLabelValues(se.Source, kind, "dead_letter").Inc()
	if se.Shop != "" {
		_ = c.failures.RecordShopFailure(ctx, se.Source, se.Shop, "not applied: "+cause.Error(), time.Now())
	}
	return consume.AppendDeadLetter(ctx, c.log, rec, cause)
}
