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

// SenderTx is what the Sender writes in one store transaction: the
// outcomes of the sends it handled at the same time, each with its
// message.status live event (and, for a failed send, its dead letter), and
// the rare claim of a send by version (see Sender).
type SenderTx interface {
	// RecordMessageSent sets the provider's id on the message (pending
	// becomes sent; a later status is kept) and returns it as stored.
	RecordMessageSent(ctx context.Context, tenantID, id, providerID string) (persistence.Message, error)
	// FailMessageSend marks a message that is still pending failed with
	// reason; changed is false when it was not pending.
	FailMessageSend(ctx context.Context, tenantID, id, reason string) (_ persistence.Message, changed bool, err error)
	UpdateMessage(ctx context.Context, m *persistence.Message) error
	AppendLiveEvent(ctx context.Context, e *persistence.LiveEvent) error
	AppendLog(ctx context.Context, recs ...persistence.Record) ([]persistence.Record, error)
}

// SenderStore runs the Sender's transactions, and the two statements it
// runs on their own (each its own transaction): the read of a message and
// the claim of a send.
type SenderStore interface {
	InTx(ctx context.Context, fn func(tx SenderTx) error) error
	GetMessage(ctx context.Context, tenantID, id string) (persistence.Message, error)
	// ClaimMessageSend records the first send attempt on a message that
	// is pending, has no provider id and no attempt yet (metadata key
	// attemptKey absent): claimed is false, and nothing written, otherwise.
	ClaimMessageSend(ctx context.Context, tenantID, id, attemptKey string, at time.Time) (_ persistence.Message, claimed bool, err error)
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
	// Parallel bounds how many conversations are sent to at once (256).
	// Sends wait on the provider and on the store, not on the CPU: the
	// more run at once, the more outcomes share a transaction.
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
		c.Parallel = 256
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
// message.send it claims the send on the message, sends through the named
// channel (retrying what the channel calls transient), and records sent
// with the provider id, or failed with the reason plus a dead letter; for a
// message.mark_read it marks the customer's message read when the channel
// has read receipts. A message is never sent twice by a redelivery: one
// that is no longer pending is skipped, and one whose earlier attempt has
// no recorded outcome is sent again only when no status report named it
// within OutcomeWait.
//
// Store work per message.send, and why each part is needed:
//
//   - Before the call, one statement (ClaimMessageSend, its own
//     transaction): it checks that the message is still pending with no
//     provider id and no earlier attempt, and records the attempt. The
//     provider's send has no idempotency key, so the attempt must be
//     durable before the call: a redelivery after a crash then knows the
//     customer may have the message and waits for its status report
//     instead of sending blind. The check and the write are one conditional
//     UPDATE, so no read comes first and two members handling the same
//     record cannot both claim it.
//   - After the call, one transaction (the outcome): the provider id (or
//     the failure, with its dead letter) and the message.status live event
//     the dashboard shows, which must commit together. Outcomes of sends
//     that finish while another outcome transaction runs are written
//     together in the next one (group commit, see recorder): a handler
//     returns, and its record's offset may be committed, only once its own
//     outcome is durable. Nothing waits to fill a batch, so the window in
//     which a crash leaves a sent message without its outcome stays one
//     commit long.
//
// Only the rare paths read first: a claim that did not take (the message
// is missing, settled, attempted before, or its channel unknown) reads the
// message once to learn which, and waiting for an earlier attempt's status
// report polls it.
type Sender struct {
	cfg    SenderConfig
	chans  *Set
	store  SenderStore
	log    SenderLog
	logger zerolog.Logger
	ops    *prometheus.CounterVec
	rec    recorder
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
	ch, known := s.chans.Get(m.Channel)
	var msg persistence.Message
	claimed := false
	if known {
		// The usual case: one statement checks the message is still
		// pending and records the attempt.
		ok := s.retry(ctx, "claim send", logger, func() error {
			var err error
			msg, claimed, err = s.store.ClaimMessageSend(ctx, env.TenantID, m.MessageID, MetaSendAttemptedAt, s.cfg.Now().UTC())
			return err
		})
		if !ok {
			return false
		}
	}
	resend := false
	for !claimed {
		// Not claimed: read the message to learn why.
		cur, ok := s.load(ctx, env.TenantID, m.MessageID, logger)
		if !ok {
			return false
		}
		if cur == nil {
			return s.deadLetter(ctx, rec, fmt.Errorf("message %s: %w", m.MessageID, persistence.ErrNotFound))
		}
		if settled(*cur) {
			// Sent (or failed) before a crash or redelivery: never send twice.
			s.ops.WithLabelValues(label, "send", "skipped").Inc()
			return true
		}
		if !known {
			return s.fail(ctx, rec, *cur, label, fmt.Errorf("channel %q is not configured", m.Channel), logger)
		}
		if at, tried := attemptedAt(*cur); tried {
			// An earlier attempt has no recorded outcome: it may have
			// reached the customer. Its status report (carrying the message
			// id as client key) records the provider id; wait for it before
			// resending.
			var sent bool
			if *cur, sent, ok = s.awaitOutcome(ctx, *cur, at, logger); !ok {
				return false
			}
			if sent {
				s.ops.WithLabelValues(label, "send", "confirmed_after_crash").Inc()
				return true
			}
			resend = true
		}
		// Claim by version: a resend (the attempt key is there already) or
		// metadata the one-statement claim cannot extend. When the message
		// changed meanwhile (a status report, another member's claim), look
		// again.
		if msg, claimed, ok = s.claimVersion(ctx, *cur, resend, logger); !ok {
			return false
		}
	}
	if resend {
		s.ops.WithLabelValues(label, "send", "resent_after_crash").Inc()
		logger.Warn().Dur("waited", s.cfg.OutcomeWait).Msg("resending a message whose earlier attempt has no recorded outcome and no status report; the customer may get it twice")
	}
	out := Outgoing{Account: m.ChannelAccount, To: m.To, Key: msg.ID, Text: m.Text}
	if ch.Capabilities().Interactive {
		for _, b := range m.Buttons {
			out.Buttons = append(out.Buttons, Button{ID: b.ID, Title: b.Title})
		}
	}
	if m.Template != nil {
		if !ch.Capabilities().Templates {
			return s.fail(ctx, rec, msg, label, errors.New("the channel cannot send templates"), logger)
		}
		out.Template = m.Template
	}
	for attempt := 0; ; attempt++ {
		id, err := ch.Send(ctx, out)
		if err == nil {
			return s.recordSent(ctx, msg, label, id, logger)
		}
		if ctx.Err() != nil {
			return false
		}
		wait, retry := ch.Retry(err, attempt)
		if retry && errors.Is(err, ErrOutcomeUnknown) {
			// The provider may have taken it (a timeout after the request
			// went out): its status report settles that before any resend.
			logger.Warn().Err(err).Msg("send outcome unknown; waiting for its status report before sending again")
			var sent, ok bool
			if msg, sent, ok = s.awaitOutcome(ctx, msg, s.cfg.Now(), logger); !ok {
				return false
			}
			if sent {
				s.ops.WithLabelValues(label, "send", "confirmed_after_timeout").Inc()
				return true
			}
		}
		if !retry || attempt+1 >= s.cfg.MaxAttempts {
			return s.fail(ctx, rec, msg, label, err, logger)
		}
		s.ops.WithLabelValues(label, "send", "retried").Inc()
		logger.Warn().Err(err).Int("attempt", attempt+1).Dur("wait", wait).Msg("send failed; retrying")
		if !s.cfg.Sleep(ctx, wait) {
			return false
		}
	}
}

// retry runs op until it succeeds, retrying store errors every second; it
// returns false when ctx ended first.
func (s *Sender) retry(ctx context.Context, what string, logger zerolog.Logger, op func() error) bool {
	for {
		err := op()
		if err == nil {
			return true
		}
		if ctx.Err() != nil {
			return false
		}
		logger.Error().Err(err).Msg(what + "; retrying")
		if !s.cfg.Sleep(ctx, time.Second) {
			return false
		}
	}
}

// claimVersion records the attempt on cur (read just before) with a
// version-checked write. claimed is false when the message changed since
// cur was read; ok is false when ctx ended first.
func (s *Sender) claimVersion(ctx context.Context, cur persistence.Message, resend bool, logger zerolog.Logger) (_ persistence.Message, claimed, ok bool) {
	var next persistence.Message
	ok = s.retry(ctx, "record send attempt", logger, func() error {
		next = cur
		next.Metadata = withAttempt(cur.Metadata, s.cfg.Now().UTC(), resend)
		err := s.store.InTx(ctx, func(tx SenderTx) error { return tx.UpdateMessage(ctx, &next) })
		if errors.Is(err, persistence.ErrVersionConflict) || errors.Is(err, persistence.ErrNotFound) {
			return nil // changed or gone: the caller reads it again
		}
		claimed = err == nil
		return err
	})
	return next, claimed, ok
}

// load reads the message, retrying transient store errors until ctx ends
// (ok false). A missing message yields nil.
func (s *Sender) load(ctx context.Context, tenantID, id string, logger zerolog.Logger) (*persistence.Message, bool) {
	var msg *persistence.Message
	ok := s.retry(ctx, "load outbound message", logger, func() error {
		m, err := s.store.GetMessage(ctx, tenantID, id)
		switch {
		case err == nil:
			msg = &m
		case errors.Is(err, persistence.ErrNotFound):
			msg = nil
		default:
			return err
		}
		return nil
	})
	return msg, ok
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
		fresh, err := s.store.GetMessage(ctx, msg.TenantID, msg.ID)
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

// recordSent records the provider's id on the message in the next outcome
// transaction and returns once it is durable (or could not be written).
func (s *Sender) recordSent(ctx context.Context, msg persistence.Message, label, providerID string, logger zerolog.Logger) bool {
	s.ops.WithLabelValues(label, "send", "sent").Inc()
	if err := s.rec.record(ctx, s.writeOutcomes, &outcome{tenantID: msg.TenantID, messageID: msg.ID, providerID: providerID}); err != nil {
		// The message went out; only its record is behind. Its status
		// report will record the id, and a redelivery waits for it.
		logger.Error().Err(err).Str("provider_id", providerID).Msg("sent, but the message could not be marked sent")
	}
	return true
}

// fail marks the message failed and parks rec on the dead-letter topic, in
// one outcome transaction; should that fail, the dead letter is appended on
// its own.
func (s *Sender) fail(ctx context.Context, rec persistence.Record, msg persistence.Message, label string, cause error, logger zerolog.Logger) bool {
	s.ops.WithLabelValues(label, "send", "failed").Inc()
	reason := Reason(cause)
	logger.Error().Str("reason", reason).Msg("message failed permanently")
	o := &outcome{tenantID: msg.TenantID, messageID: msg.ID, reason: reason, dead: consume.DeadLetter(rec, errors.New(reason), s.cfg.Now())}
	if err := s.rec.record(ctx, s.writeOutcomes, o); err != nil {
		logger.Error().Err(err).Msg("failed message could not be marked failed")
		return s.deadLetter(ctx, rec, errors.New(reason))
	}
	return true
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
