package whatsapp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/frontdesk-ai/frontdesk/events"
	"github.com/frontdesk-ai/frontdesk/persistence"
	"github.com/frontdesk-ai/frontdesk/persistence/sqlstore"
)

// SenderStore is what the sender needs from the store.
type SenderStore interface {
	InTx(ctx context.Context, fn func(tx *sqlstore.Tx) error) error
}

// SenderLog is what the sender needs from the event log: its consumer group
// on the outbound topic, and appends to the dead-letter topic.
type SenderLog interface {
	persistence.Subscriber
	Append(ctx context.Context, recs ...persistence.Record) ([]persistence.Record, error)
}

// SenderConfig configures a Sender.
type SenderConfig struct {
	// Group is the consumer group on the outbound topic (default "whatsapp-sender").
	Group string
	// PhoneNumberID and AccessToken are the default tenant's number and
	// token (FRONTDESK_WHATSAPP_*).
	PhoneNumberID, AccessToken string
	// MaxAttempts bounds the sends of one message before it is failed
	// (default 8); permanent errors fail it at once.
	MaxAttempts int
	// Parallel bounds how many threads are sent to at once (default 16).
	Parallel int
	// Notify wakes the live hub after a status change (may be nil).
	Notify func(tenantID string)
}

// Sender delivers outbound events of the WhatsApp channel: it consumes the
// outbound topic, posts each reply to the Cloud API (rate limited per
// number, retried with backoff on transient errors), records the result on
// the message (sent with its wamid, or failed with the reason, never
// retried forever), and marks inbound messages read.
type Sender struct {
	cfg     SenderConfig
	client  *Client
	limiter *RateLimiter
	store   SenderStore
	log     SenderLog
	logger  zerolog.Logger
	sent    *prometheus.CounterVec
	sleep   func(ctx context.Context, d time.Duration) bool
}

// NewSender builds a sender.
func NewSender(cfg SenderConfig, client *Client, limiter *RateLimiter, store SenderStore, log SenderLog, logger zerolog.Logger, reg prometheus.Registerer) (*Sender, error) {
	if cfg.Group == "" {
		cfg.Group = "whatsapp-sender"
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = 8
	}
	if cfg.Notify == nil {
		cfg.Notify = func(string) {}
	}
	s := &Sender{cfg: cfg, client: client, limiter: limiter, store: store, log: log,
		logger: logger.With().Str("component", "whatsapp-sender").Logger(), sleep: persistence.Sleep,
		sent: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "frontdesk_outbound_total", Help: "Outbound channel operations, by channel, operation and outcome (sent, failed, retried, skipped).",
		}, []string{"channel", "op", "outcome"}),
	}
	if err := reg.Register(s.sent); err != nil {
		return nil, fmt.Errorf("register sender metrics: %w", err)
	}
	return s, nil
}

// Run consumes the outbound topic until ctx ends (see persistence.Consume).
func (s *Sender) Run(ctx context.Context) error {
	return persistence.Consume(ctx, s.log, persistence.ConsumerConfig{
		Group: s.cfg.Group, Topic: persistence.TopicOutbound, Parallel: s.cfg.Parallel,
		Failed: func(err error) { s.logger.Error().Err(err).Msg("outbound consumer") },
	}, s.handle)
}

func (s *Sender) handle(ctx context.Context, rec persistence.Record) bool {
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
		if m.Channel != Channel {
			return true // another channel's sender handles it
		}
		return s.send(ctx, env, rec, m)
	case *events.MarkRead:
		if m.Channel != Channel {
			return true
		}
		return s.markRead(ctx, m)
	}
	return true
}

// token returns the access token for a business number.
func (s *Sender) token(phoneNumberID string) (string, error) {
	if phoneNumberID == s.cfg.PhoneNumberID && s.cfg.AccessToken != "" {
		return s.cfg.AccessToken, nil
	}
	return "", fmt.Errorf("no access token configured for phone_number_id %q", phoneNumberID)
}

func (s *Sender) send(ctx context.Context, env events.Envelope, rec persistence.Record, m *events.MessageSend) bool {
	msg, err := s.message(ctx, env.TenantID, m.MessageID)
	for err != nil {
		if errors.Is(err, persistence.ErrNotFound) {
			return s.deadLetter(ctx, rec, err)
		}
		s.logger.Error().Err(err).Msg("load outbound message; retrying")
		if !s.sleep(ctx, time.Second) {
			return false
		}
		msg, err = s.message(ctx, env.TenantID, m.MessageID)
	}
	if msg.DeliveryStatus != persistence.DeliveryPending || msg.ChannelMessageID != "" {
		// Sent (or failed) before a crash or redelivery: never send twice.
		s.sent.WithLabelValues(Channel, "send", "skipped").Inc()
		return true
	}
	token, err := s.token(m.ChannelAccount)
	if err != nil {
		return s.fail(ctx, rec, msg, err)
	}
	// Record the attempt before calling the Cloud API, so a redelivery
	// after a crash between the API's answer and marking the message sent
	// is detected (the Cloud API has no idempotency key): the message is
	// flagged as possibly sent twice, and the send's key (the message id,
	// echoed in status webhooks) tells the copies apart.
	if msg, err = s.markAttempt(ctx, msg); err != nil {
		s.logger.Error().Err(err).Str("message_id", msg.ID).Msg("record send attempt")
		return false
	}
	for attempt := 0; ; attempt++ {
		if err := s.limiter.Wait(ctx, m.ChannelAccount); err != nil {
			return false
		}
		wamid, err := s.client.SendTextKeyed(ctx, m.ChannelAccount, token, m.To, m.Text, "", msg.ID)
		if err == nil {
			return s.sentOK(ctx, msg, wamid)
		}
		if ctx.Err() != nil {
			return false
		}
		if !IsRetryable(err) || attempt+1 >= s.cfg.MaxAttempts {
			return s.fail(ctx, rec, msg, err)
		}
		s.sent.WithLabelValues(Channel, "send", "retried").Inc()
		wait := RetryDelay(err, attempt, rand.Float64)
		s.logger.Warn().Err(err).Int("attempt", attempt+1).Dur("wait", wait).Str("message_id", msg.ID).Msg("send failed; retrying")
		if !s.sleep(ctx, wait) {
			return false
		}
	}
}

// markAttempt records a send attempt on the message, flagging a resend
// when an earlier attempt's outcome is unknown.
func (s *Sender) markAttempt(ctx context.Context, msg persistence.Message) (persistence.Message, error) {
	meta := map[string]any{}
	_ = json.Unmarshal(msg.Metadata, &meta)
	if _, tried := meta["send_attempted_at"]; tried {
		meta["resent_after_crash"] = true
		s.sent.WithLabelValues(Channel, "send", "resent_after_crash").Inc()
		s.logger.Warn().Str("message_id", msg.ID).Msg("resending a message whose earlier send attempt has no recorded outcome; the customer may get it twice")
	}
	meta["send_attempted_at"] = time.Now().UTC()
	raw, err := json.Marshal(meta)
	if err != nil {
		return msg, err
	}
	err = s.update(ctx, msg, func(m *persistence.Message) { m.Metadata = raw }, false)
	if err != nil {
		return msg, err
	}
	return s.message(ctx, msg.TenantID, msg.ID)
}

func (s *Sender) message(ctx context.Context, tenantID, id string) (persistence.Message, error) {
	var msg persistence.Message
	err := s.store.InTx(ctx, func(tx *sqlstore.Tx) error {
		var err error
		msg, err = tx.GetMessage(ctx, tenantID, id)
		return err
	})
	return msg, err
}

// update applies change to the stored message (reloading on a version
// conflict with a status webhook) and publishes the new status live.
func (s *Sender) update(ctx context.Context, msg persistence.Message, change func(m *persistence.Message), publish bool) error {
	for attempt := 0; ; attempt++ {
		err := s.store.InTx(ctx, func(tx *sqlstore.Tx) error {
			change(&msg)
			if err := tx.UpdateMessage(ctx, &msg); err != nil {
				return err
			}
			if !publish {
				return nil
			}
			data, err := json.Marshal(persistence.NewLiveMessage(msg))
			if err != nil {
				return err
			}
			return tx.AppendLiveEvent(ctx, &persistence.LiveEvent{TenantID: msg.TenantID, Type: persistence.LiveMessageStatus, ConversationID: msg.ConversationID, Data: data})
		})
		if err == nil {
			if publish {
				s.cfg.Notify(msg.TenantID)
			}
			return nil
		}
		if !errors.Is(err, persistence.ErrVersionConflict) || attempt >= 5 {
			return err
		}
		if msg, err = s.message(ctx, msg.TenantID, msg.ID); err != nil {
			return err
		}
	}
}

func (s *Sender) sentOK(ctx context.Context, msg persistence.Message, wamid string) bool {
	s.sent.WithLabelValues(Channel, "send", "sent").Inc()
	err := s.update(ctx, msg, func(m *persistence.Message) {
		m.ChannelMessageID = wamid
		if m.DeliveryStatus == persistence.DeliveryPending {
			m.DeliveryStatus = persistence.DeliverySent
		}
	}, true)
	if err != nil {
		// The message went out; only its record is behind. Not resending is
		// the lesser harm: log it loudly.
		s.logger.Error().Err(err).Str("message_id", msg.ID).Str("wamid", wamid).Msg("sent, but the message could not be marked sent")
	}
	return true
}

func (s *Sender) fail(ctx context.Context, rec persistence.Record, msg persistence.Message, cause error) bool {
	s.sent.WithLabelValues(Channel, "send", "failed").Inc()
	reason := cause.Error()
	var ae *APIError
	if errors.As(cause, &ae) && ae.Code != 0 {
		reason = fmt.Sprintf("%d %s", ae.Code, ae.Message)
	}
	s.logger.Error().Str("message_id", msg.ID).Str("reason", reason).Msg("message failed permanently")
	if err := s.update(ctx, msg, func(m *persistence.Message) {
		m.DeliveryStatus = persistence.DeliveryFailed
		m.Error = reason
	}, true); err != nil {
		s.logger.Error().Err(err).Str("message_id", msg.ID).Msg("failed message could not be marked failed")
	}
	return s.deadLetter(ctx, rec, errors.New(reason))
}

func (s *Sender) markRead(ctx context.Context, m *events.MarkRead) bool {
	token, err := s.token(m.ChannelAccount)
	if err != nil {
		s.sent.WithLabelValues(Channel, "mark_read", "failed").Inc()
		return true
	}
	for attempt := 0; attempt < 3; attempt++ {
		if err := s.limiter.Wait(ctx, m.ChannelAccount); err != nil {
			return false
		}
		err = s.client.MarkRead(ctx, m.ChannelAccount, token, m.ChannelMessageID)
		if err == nil {
			s.sent.WithLabelValues(Channel, "mark_read", "sent").Inc()
			return true
		}
		if ctx.Err() != nil {
			return false
		}
		if !IsRetryable(err) || !s.sleep(ctx, RetryDelay(err, attempt, rand.Float64)) {
			break
		}
	}
	// Read receipts are a courtesy: give up without failing anything.
	s.sent.WithLabelValues(Channel, "mark_read", "failed").Inc()
	s.logger.Warn().Err(err).Str("wamid", m.ChannelMessageID).Msg("could not mark message read")
	return true
}

func (s *Sender) deadLetter(ctx context.Context, rec persistence.Record, cause error) bool {
	return persistence.AppendDeadLetter(ctx, s.log, rec, cause)
}
