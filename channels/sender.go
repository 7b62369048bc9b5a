package channels

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/frontdesk-ai/frontdesk/consume"
	"github.com/frontdesk-ai/frontdesk/dashboard/liveview"
	"github.com/frontdesk-ai/frontdesk/events"
	"github.com/frontdesk-ai/frontdesk/persistence"
)

// DefaultSenderGroup is the Sender's consumer group on the outbound topic.
//
// It replaced the group "whatsapp-sender" when the one loop replaced the
// WhatsApp sender. A new group starts at the beginning of the topic, so the
// first start after the upgrade reads the whole outbound history once; that
// resends nothing: a message.send whose message is no longer pending (sent,
// delivered, read, failed) or has a provider id is skipped, a pending one
// with an attempt of unknown outcome waits for its status first (see
// SenderConfig.OutcomeWait), and a message.mark_read older than
// SenderConfig.MarkReadMaxAge is skipped, so old read receipts are not sent
// again.
const DefaultSenderGroup = "channel-sender"

// Metadata keys the Sender writes on an outbound message.
const (
	// MetaSendAttemptedAt is when the Sender last called the channel for
	// the message (RFC 3339, UTC), written before the call.
	MetaSendAttemptedAt = "send_attempted_at"
	// MetaResent marks a message sent again after an attempt whose outcome
	// was never recorded and never reported: the customer may have it twice.
	MetaResent = "resent_after_crash"
)

// SenderTx is what the Sender reads and writes in one store transaction.
type SenderTx interface {
	GetMessage(ctx context.Context, tenantID, id string) (persistence.Message, error)
	UpdateMessage(ctx context.Context, m *persistence.Message) error
	AppendLiveEvent(ctx context.Context, e *persistence.LiveEvent) error
}

// SenderStore runs the Sender's transactions.
type SenderStore interface {
	InTx(ctx context.Context, fn func(tx SenderTx) error) error
}

// SenderLog is what the Sender needs from the event log: its consumer
// group on the outbound topic, and appends to the dead-letter topic.
type SenderLog interface {
	consume.Subscriber
	persistence.Appender
}

// SenderConfig configures a Sender. Zero values mean the defaults.
type SenderConfig struct {
	// Group is the consumer group on the outbound topic (DefaultSenderGroup).
	Group string
	// Parallel bounds how many conversations are sent to at once (16).
	Parallel int
	// MaxAttempts bounds the calls for one message before it fails (8);
	// an error the channel calls permanent fails it at once.
	MaxAttempts int
	// OutcomeWait bounds how long, after an earlier attempt whose outcome
	// was never recorded (a crash between the provider's answer and the
	// commit), the Sender waits for that attempt's status report before it
	// sends again (20 s). The conversation grain records the provider id on
	// the message when a status with the message's client key arrives.
	OutcomeWait time.Duration
	// OutcomePoll is how often the message is read while waiting (1 s).
	OutcomePoll time.Duration
	// MarkReadMaxAge: a read receipt requested longer ago than this is
	// skipped (5 min); it would tell the customer nothing new.
	MarkReadMaxAge time.Duration
	// Notify wakes the live hub after a status change (may be nil).
	Notify func(tenantID string)
	// Now and Sleep are the clock (time.Now, consume.Sleep); tests
	// inject theirs so nothing really waits.
	Now   func() time.Time
	Sleep func(ctx context.Context, d time.Duration) bool
}

// Validate reports whether the config is usable once defaults are applied.
func (c SenderConfig) Validate() error {
	switch {
	case c.Parallel < 0, c.MaxAttempts < 0:
		return fmt.Errorf("channel sender: negative parallelism %d or attempts %d", c.Parallel, c.MaxAttempts)
	case c.OutcomeWait < 0, c.OutcomePoll < 0, c.MarkReadMaxAge < 0:
		return errors.New("channel sender: negative duration")
	}
	return nil
}

func (c *SenderConfig) defaults() {
	if c.Group == "" {
		c.Group = DefaultSenderGroup
	}
	if c.Parallel == 0 {
		c.Parallel = 16
	}
	if c.MaxAttempts == 0 {
		c.MaxAttempts = 8
	}
	if c.OutcomeWait == 0 {
		c.OutcomeWait = 20 * time.Second
	}
	if c.OutcomePoll == 0 {
		c.OutcomePoll = time.Second
	}
	if c.MarkReadMaxAge == 0 {
		c.MarkReadMaxAge = 5 * time.Minute
	}
	if c.Notify == nil {
		c.Notify = func(string) {}
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Sleep == nil {
		c.Sleep = consume.Sleep
	}
}

// Sender delivers the outbound topic through the channels of a Set: for a
// message.send it loads the message, records the attempt, sends through the
// named channel (retrying what the channel calls transient), and records
// sent with the provider id, or failed with the reason plus a dead letter;
// for a message.mark_read it marks the customer's message read when the
// channel has read receipts. A message is never sent twice by a
// redelivery: one that is no longer pending is skipped, and one whose
// earlier attempt has no recorded outcome is sent again only when no status
// report named it within OutcomeWait.
type Sender struct {
	cfg    SenderConfig
	chans  *Set
	store  SenderStore
	log    SenderLog
	logger zerolog.Logger
	ops    *prometheus.CounterVec
}

// NewSender builds a Sender for chans.
func NewSender(cfg SenderConfig, chans *Set, store SenderStore, log SenderLog, logger zerolog.Logger, reg prometheus.Registerer) (*Sender, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg.defaults()
	s := &Sender{cfg: cfg, chans: chans, store: store, log: log,
		logger: logger.With().Str("component", "channel-sender").Logger(),
		ops: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "frontdesk_outbound_total",
			Help: "Outbound channel operations, by channel, operation and outcome (sent, failed, retried, skipped, resent_after_crash, confirmed_after_crash).",
		}, []string{"channel", "op", "outcome"}),
	}
	if err := reg.Register(s.ops); err != nil {
		return nil, fmt.Errorf("register sender metrics: %w", err)
	}
	return s, nil
}

// Run consumes the outbound topic until ctx ends (see consume.Run).
func (s *Sender) Run(ctx context.Context) error {
	return consume.Run(ctx, s.log, consume.Config{
		Group: s.cfg.Group, Topic: persistence.TopicOutbound, Parallel: s.cfg.Parallel,
		Failed: func(err error) { s.logger.Error().Err(err).Msg("outbound consumer") },
	}, s.Handle)
}

// Handle processes one outbound record; it returns false only when ctx
// ended first (the record is then redelivered). Run calls it; tests may too.
func (s *Sender) Handle(ctx context.Context, rec persistence.Record) bool {
	env, err := events.Parse(rec.Value)
	if err != nil {
		return s.deadLetter(ctx, rec, err)
	}
	p, err := events.Decode(env)
	if err != nil {
		return s.deadLetter(ctx, rec, err)
	}
	switch m := p.(type) {
	case *events.MessageSend:
		return s.send(ctx, env, rec, m)
	case *events.MarkRead:
		return s.markRead(ctx, env, m)
	}
	return true
}

// label is a channel's metrics label: its name when configured, so an
// unknown name in a record cannot grow the label set.
func (s *Sender) label(name string) string {
	if _, ok := s.chans.Get(name); ok {
		return name
	}
	return "unknown"
}

// settled reports whether msg needs no send: it has a provider id, or it is
// no longer pending (sent, delivered, read, failed).
func settled(msg persistence.Message) bool {
	return msg.ChannelMessageID != "" || msg.DeliveryStatus != persistence.DeliveryPending
}

func (s *Sender) send(ctx context.Context, env events.Envelope, rec persistence.Record, m *events.MessageSend) bool {
	label := s.label(m.Channel)
	logger := s.logger.With().Str("tenant_id", env.TenantID).Str("message_id", m.MessageID).Str("channel", m.Channel).Logger()
	msg, ok := s.load(ctx, env.TenantID, m.MessageID, logger)
	if !ok {
		return false
	}
	if msg == nil {
		return s.deadLetter(ctx, rec, fmt.Errorf("message %s: %w", m.MessageID, persistence.ErrNotFound))
	}
	if settled(*msg) {
		// Sent (or failed) before a crash or redelivery: never send twice.
		s.ops.WithLabelValues(label, "send", "skipped").Inc()
		return true
	}
	ch, known := s.chans.Get(m.Channel)
	if !known {
		return s.fail(ctx, rec, *msg, label, fmt.Errorf("channel %q is not configured", m.Channel), logger)
	}
	resend := false
	if at, tried := attemptedAt(*msg); tried {
		// An earlier attempt has no recorded outcome: it may have reached
		// the customer. Its status report (carrying the message id as
		// client key) records the provider id; wait for it before resending.
		var sent bool
		if *msg, sent, ok = s.awaitOutcome(ctx, *msg, at, logger); !ok {
			return false
		}
		if sent {
			s.ops.WithLabelValues(label, "send", "confirmed_after_crash").Inc()
			return true
		}
		resend = true
	}
	// Record the attempt before calling the provider (which has no
	// idempotency key), so a redelivery after a crash knows to wait.
	now := s.cfg.Now().UTC()
	updated, changed, err := s.update(ctx, *msg, func(m *persistence.Message) bool {
		if settled(*m) {
			return false
		}
		m.Metadata = withAttempt(m.Metadata, now, resend)
		return true
	}, false)
	if err != nil {
		if ctx.Err() == nil {
			logger.Error().Err(err).Msg("record send attempt; will retry")
		}
		return false
	}
	if !changed {
		s.ops.WithLabelValues(label, "send", "skipped").Inc()
		return true
	}
	if resend {
		s.ops.WithLabelValues(label, "send", "resent_after_crash").Inc()
		logger.Warn().Dur("waited", s.cfg.OutcomeWait).Msg("resending a message whose earlier attempt has no recorded outcome and no status report; the customer may get it twice")
	}
	out := Outgoing{Account: m.ChannelAccount, To: m.To, Key: updated.ID, Text: m.Text}
	for attempt := 0; ; attempt++ {
		id, err := ch.Send(ctx, out)
		if err == nil {
			return s.recordSent(ctx, updated, label, id, logger)
		}
		if ctx.Err() != nil {
			return false
		}
		wait, retry := ch.Retry(err, attempt)
		if retry && errors.Is(err, ErrOutcomeUnknown) {
			// The provider may have taken it (a timeout after the request
			// went out): its status report settles that before any resend.
			logger.Warn().Err(err).Msg("send outcome unknown; waiting for its status report before sending again")
			var sent bool
			var ok bool
			if updated, sent, ok = s.awaitOutcome(ctx, updated, s.cfg.Now(), logger); !ok {
				return false
			}
			if sent {
				s.ops.WithLabelValues(label, "send", "confirmed_after_timeout").Inc()
				return true
			}
		}
		if !retry || attempt+1 >= s.cfg.MaxAttempts {
			return s.fail(ctx, rec, updated, label, err, logger)
		}
		s.ops.WithLabelValues(label, "send", "retried").Inc()
		logger.Warn().Err(err).Int("attempt", attempt+1).Dur("wait", wait).Msg("send failed; retrying")
		if !s.cfg.Sleep(ctx, wait) {
			return false
		}
	}
}

// load reads the message, retrying transient store errors until ctx ends
// (ok false). A missing message yields nil.
func (s *Sender) load(ctx context.Context, tenantID, id string, logger zerolog.Logger) (*persistence.Message, bool) {
	for {
		msg, err := s.get(ctx, tenantID, id)
		if err == nil {
			return &msg, true
		}
		if errors.Is(err, persistence.ErrNotFound) {
			return nil, true
		}
		if ctx.Err() != nil {
			return nil, false
		}
		logger.Error().Err(err).Msg("load outbound message; retrying")
		if !s.cfg.Sleep(ctx, time.Second) {
			return nil, false
		}
	}
}

// awaitOutcome polls msg until it is settled (sent true) or until
// OutcomeWait has passed since the earlier attempt at (bounded by
// OutcomeWait from now, should clocks disagree). ok is false when ctx ended.
func (s *Sender) awaitOutcome(ctx context.Context, msg persistence.Message, at time.Time, logger zerolog.Logger) (_ persistence.Message, sent, ok bool) {
	now := s.cfg.Now()
	if at.IsZero() {
		at = now
	}
	deadline := at.Add(s.cfg.OutcomeWait)
	if latest := now.Add(s.cfg.OutcomeWait); deadline.After(latest) {
		deadline = latest
	}
	for {
		if settled(msg) {
			return msg, true, true
		}
		now = s.cfg.Now()
		if !now.Before(deadline) {
			return msg, false, true
		}
		if !s.cfg.Sleep(ctx, min(s.cfg.OutcomePoll, deadline.Sub(now))) {
			return msg, false, false
		}
		fresh, err := s.get(ctx, msg.TenantID, msg.ID)
		switch {
		case err == nil:
			msg = fresh
		case ctx.Err() != nil:
			return msg, false, false
		default:
			logger.Warn().Err(err).Msg("read message while waiting for an earlier attempt's outcome")
		}
	}
}

// attemptedAt returns when an earlier send attempt was recorded on msg.
func attemptedAt(msg persistence.Message) (time.Time, bool) {
	var meta map[string]json.RawMessage
	if json.Unmarshal(msg.Metadata, &meta) != nil {
		return time.Time{}, false
	}
	raw, ok := meta[MetaSendAttemptedAt]
	if !ok {
		return time.Time{}, false
	}
	var at time.Time
	if json.Unmarshal(raw, &at) != nil {
		return time.Time{}, true // tried at an unreadable time: awaitOutcome waits from now
	}
	return at, true
}

// withAttempt returns metadata with the attempt time set, and the resend
// flag when resend is set; other keys are kept.
func withAttempt(metadata json.RawMessage, at time.Time, resend bool) json.RawMessage {
	meta := map[string]any{}
	_ = json.Unmarshal(metadata, &meta) // unreadable metadata is replaced
	meta[MetaSendAttemptedAt] = at
	if resend {
		meta[MetaResent] = true
	}
	raw, _ := json.Marshal(meta) // map of JSON values and a time: cannot fail
	return raw
}

func (s *Sender) get(ctx context.Context, tenantID, id string) (persistence.Message, error) {
	var msg persistence.Message
	err := s.store.InTx(ctx, func(tx SenderTx) error {
		var err error
		msg, err = tx.GetMessage(ctx, tenantID, id)
		return err
	})
	return msg, err
}

// update writes change(msg) in one transaction, with a message.status live
// event when publish is set; change returns false when the message needs
// no change, and then nothing is written. On a version conflict (a status
// report recorded meanwhile) it reloads the message and applies change
// again. It returns the message as stored and whether it changed it.
func (s *Sender) update(ctx context.Context, msg persistence.Message, change func(m *persistence.Message) bool, publish bool) (persistence.Message, bool, error) {
	for attempt := 0; ; attempt++ {
		next := msg
		changed := false
		err := s.store.InTx(ctx, func(tx SenderTx) error {
			if attempt > 0 {
				fresh, err := tx.GetMessage(ctx, msg.TenantID, msg.ID)
				if err != nil {
					return err
				}
				next = fresh
			}
			if changed = change(&next); !changed {
				return nil
			}
			if err := tx.UpdateMessage(ctx, &next); err != nil {
				return err
			}
			if !publish {
				return nil
			}
			data, err := json.Marshal(liveview.NewMessage(next))
			if err != nil {
				return err
			}
			return tx.AppendLiveEvent(ctx, &persistence.LiveEvent{TenantID: next.TenantID, Type: persistence.LiveMessageStatus,
				ConversationID: next.ConversationID, Data: data})
		})
		if err == nil {
			if changed && publish {
				s.cfg.Notify(next.TenantID)
			}
			return next, changed, nil
		}
		if !errors.Is(err, persistence.ErrVersionConflict) || attempt >= 5 {
			return msg, false, err
		}
	}
}

// recordSent records the provider's id on the message at once: one short
// transaction, no read before it, so the window in which a crash leaves a
// sent message without its outcome stays as small as the commit.
func (s *Sender) recordSent(ctx context.Context, msg persistence.Message, label, providerID string, logger zerolog.Logger) bool {
	s.ops.WithLabelValues(label, "send", "sent").Inc()
	_, _, err := s.update(context.WithoutCancel(ctx), msg, func(m *persistence.Message) bool {
		m.ChannelMessageID = providerID
		if m.DeliveryStatus == persistence.DeliveryPending {
			m.DeliveryStatus = persistence.DeliverySent
		}
		return true
	}, true)
	if err != nil {
		// The message went out; only its record is behind. Its status
		// report will record the id, and a redelivery waits for it.
		logger.Error().Err(err).Str("provider_id", providerID).Msg("sent, but the message could not be marked sent")
	}
	return true
}

func (s *Sender) fail(ctx context.Context, rec persistence.Record, msg persistence.Message, label string, cause error, logger zerolog.Logger) bool {
	s.ops.WithLabelValues(label, "send", "failed").Inc()
	reason := Reason(cause)
	logger.Error().Str("reason", reason).Msg("message failed permanently")
	if _, _, err := s.update(ctx, msg, func(m *persistence.Message) bool {
		if settled(*m) {
			return false
		}
		m.DeliveryStatus = persistence.DeliveryFailed
		m.Error = reason
		return true
	}, true); err != nil {
		logger.Error().Err(err).Msg("failed message could not be marked failed")
	}
	return s.deadLetter(ctx, rec, errors.New(reason))
}

func (s *Sender) markRead(ctx context.Context, env events.Envelope, m *events.MarkRead) bool {
	ch, ok := s.chans.Get(m.Channel)
	if !ok || !ch.Capabilities().ReadReceipts {
		s.ops.WithLabelValues(s.label(m.Channel), "mark_read", "skipped").Inc()
		return true
	}
	if age := s.cfg.Now().Sub(env.Time); age > s.cfg.MarkReadMaxAge {
		// A redelivery long after the fact (a new consumer group reading
		// the topic from its start): the customer has moved on.
		s.ops.WithLabelValues(ch.Name(), "mark_read", "skipped").Inc()
		return true
	}
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		if err = ch.MarkRead(ctx, m.ChannelAccount, m.ChannelMessageID); err == nil {
			s.ops.WithLabelValues(ch.Name(), "mark_read", "sent").Inc()
			return true
		}
		if ctx.Err() != nil {
			return false
		}
		wait, retry := ch.Retry(err, attempt)
		if !retry || !s.cfg.Sleep(ctx, wait) {
			break
		}
	}
	if ctx.Err() != nil {
		return false
	}
	// Read receipts are a courtesy: give up without failing anything.
	s.ops.WithLabelValues(ch.Name(), "mark_read", "failed").Inc()
	s.logger.Warn().Err(err).Str("channel", ch.Name()).Str("provider_id", m.ChannelMessageID).Msg("could not mark message read")
	return true
}

func (s *Sender) deadLetter(ctx context.Context, rec persistence.Record, cause error) bool {
	return consume.AppendDeadLetter(ctx, s.log, rec, cause)
}
