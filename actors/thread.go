package actors

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/frontdesk-ai/frontdesk/events"
	"github.com/frontdesk-ai/frontdesk/persistence"
	"github.com/frontdesk-ai/frontdesk/persistence/sqlstore"
)

// threadState is a conversation grain's hot context, persisted as its
// checkpoint state.
type threadState struct {
	TenantID        string          `json:"tenant_id"`
	Channel         string          `json:"channel"`
	ExternalUserID  string          `json:"external_user_id"`
	ChannelAccount  string          `json:"channel_account,omitempty"`
	CustomerID      string          `json:"customer_id,omitempty"`
	ProfileName     string          `json:"profile_name,omitempty"`
	ConversationID  string          `json:"conversation_id,omitempty"`
	MessagesApplied int64           `json:"messages_applied"`
	Recent          []recentMessage `json:"recent,omitempty"`
	// LastInboundID is the id of the latest inbound message.
	LastInboundID string `json:"last_inbound_id,omitempty"`
	// Unanswered lists the inbound messages (ids, in order) that wait for
	// an answer. The first one names the turn that answers them: a turn
	// re-run after a crash, even with more messages folded in, keeps its id,
	// so its tools' idempotency keys repeat no effect.
	Unanswered []string `json:"unanswered,omitempty"`
	// PendingThrough is the inbound sequence (MessagesApplied) of the latest
	// message that needs an answer; AnsweredThrough the one the last
	// committed turn answered. A turn is due while Pending > Answered.
	PendingThrough  int64 `json:"pending_through,omitempty"`
	AnsweredThrough int64 `json:"answered_through,omitempty"`
	// AnsweredInboundID is the latest inbound message the last committed
	// turn saw; later inbound messages are what the next turn answers.
	AnsweredInboundID string `json:"answered_inbound_id,omitempty"`
}

// turnDue reports whether inbound messages wait for an answer.
func (s threadState) turnDue() bool { return s.PendingThrough > s.AnsweredThrough }

func (s *threadState) remember(m recentMessage, keep int) {
	s.Recent = append(s.Recent, m)
	if len(s.Recent) > keep {
		s.Recent = append([]recentMessage(nil), s.Recent[len(s.Recent)-keep:]...)
	}
}

// recentMessage is one entry of the hot context the model will see.
type recentMessage struct {
	ID        string    `json:"id"`
	Direction string    `json:"direction"`
	Kind      string    `json:"kind"`
	Text      string    `json:"text"`
	At        time.Time `json:"at"`
}

func (s threadState) clone() threadState {
	s.Recent = append([]recentMessage(nil), s.Recent...)
	s.Unanswered = append([]string(nil), s.Unanswered...)
	return s
}

// turnID names the turn that answers the unanswered messages.
func (s threadState) turnID() string {
	if len(s.Unanswered) > 0 {
		return s.Unanswered[0]
	}
	return s.LastInboundID
}

// parseThreadKey splits a conversation grain identity (events.ThreadKey).
func parseThreadKey(identity string) (tenant, channel, user string, err error) {
	parts := strings.SplitN(identity, "/", 3)
	if len(parts) != 3 || parts[0] == "" || parts[1] == "" || parts[2] == "" {
		return "", "", "", fmt.Errorf("conversation identity %q: want tenant/channel/user", identity)
	}
	return parts[0], parts[1], parts[2], nil
}

// thread is a conversation grain's persisted state: checkpoint plus decoded
// hot context. Its methods do the I/O and run on job goroutines, on a copy.
type thread struct {
	identity string
	cp       persistence.Checkpoint
	st       threadState
}

func (t thread) clone() thread {
	t.st = t.st.clone()
	t.cp.State = nil
	return t
}

// loadThread reads a conversation grain's checkpoint, or starts a fresh one.
func loadThread(ctx context.Context, store Store, identity string) (thread, error) {
	tenant, channel, user, err := parseThreadKey(identity)
	if err != nil {
		return thread{}, err
	}
	t := thread{identity: identity}
	cp, err := store.GetCheckpoint(ctx, KindConversation, identity)
	switch {
	case errors.Is(err, persistence.ErrNotFound):
		t.cp = persistence.Checkpoint{TenantID: tenant, Kind: KindConversation, Identity: identity, Partition: -1, Offset: -1}
		t.st = threadState{TenantID: tenant, Channel: channel, ExternalUserID: user}
		return t, nil
	case err != nil:
		return thread{}, err
	}
	t.cp = cp
	if err := json.Unmarshal(cp.State, &t.st); err != nil {
		return thread{}, fmt.Errorf("conversation %s: decode checkpoint state: %w", identity, err)
	}
	// The decoded state is authoritative (re-encoded at each save); do not
	// hold the raw copy too.
	t.cp.State = nil
	return t, nil
}

// applyResult is what applying one record did.
type applyResult struct {
	duplicate bool
	message   *persistence.Message
}

// live appends a live event for the dashboard in tx.
func live(ctx context.Context, tx *sqlstore.Tx, tenantID, typ, conversationID string, data any) error {
	raw, err := json.Marshal(data)
	if err != nil {
		return fmt.Errorf("encode live %s: %w", typ, err)
	}
	return tx.AppendLiveEvent(ctx, &persistence.LiveEvent{TenantID: tenantID, Type: typ, ConversationID: conversationID, Data: raw})
}

// errPermanent marks an event that can never be applied (retrying will not
// help): it goes to the dead-letter topic.
type errPermanent struct{ err error }

func (e errPermanent) Error() string { return e.err.Error() }
func (e errPermanent) Unwrap() error { return e.err }

func permanent(err error) error { return errPermanent{err} }

// apply applies one inbound record to t in one transaction: the effect, the
// new hot context and the checkpoint (version-checked) commit together.
// On success t holds the new state.
func (t *thread) apply(ctx context.Context, rt *Runtime, rec persistence.Record) (applyResult, error) {
	if t.cp.Covers(rec.Topic, rec.Partition, rec.Offset) {
		return applyResult{duplicate: true}, nil
	}
	env, err := events.Parse(rec.Value)
	if err != nil {
		return applyResult{}, permanent(err)
	}
	if env.TenantID != t.st.TenantID || env.Key != t.identity {
		return applyResult{}, permanent(fmt.Errorf("event %s for %s/%s delivered to conversation %s", env.ID, env.TenantID, env.Key, t.identity))
	}
	payload, err := events.Decode(env)
	if err != nil {
		return applyResult{}, permanent(err)
	}
	next := t.clone()
	var res applyResult
	err = rt.store.InTx(ctx, func(tx *sqlstore.Tx) error {
		var err error
		switch p := payload.(type) {
		case *events.MessageReceived:
			res, err = next.applyReceived(ctx, tx, rt, p, env)
		case *events.MessageStatus:
			res, err = next.applyStatus(ctx, tx, p)
		default:
			return permanent(fmt.Errorf("event %s: type %s is not handled by conversation grains", env.ID, env.Type))
		}
		if err != nil {
			return err
		}
		state, err := json.Marshal(next.st)
		if err != nil {
			return fmt.Errorf("encode conversation state: %w", err)
		}
		next.cp.State = state
		next.cp.Topic, next.cp.Partition, next.cp.Offset = rec.Topic, rec.Partition, rec.Offset
		return tx.SaveCheckpoint(ctx, &next.cp)
	})
	if err != nil {
		return applyResult{}, err
	}
	*t = next
	return res, nil
}

func (t *thread) applyReceived(ctx context.Context, tx *sqlstore.Tx, rt *Runtime, p *events.MessageReceived, env events.Envelope) (applyResult, error) {
	if p.ChannelMessageID == "" {
		return applyResult{}, permanent(fmt.Errorf("event %s: message without channel_message_id", env.ID))
	}
	if err := t.ensureCustomer(ctx, tx, p); err != nil {
		return applyResult{}, err
	}
	conv, opened, err := t.ensureConversation(ctx, tx, p, rt.cfg.ConversationIdle)
	if err != nil {
		return applyResult{}, err
	}
	meta, _ := json.Marshal(map[string]any{"event_id": env.ID, "sent_at": p.SentAt, "details": p.Details, "media": p.Media, "reply_to": p.ReplyTo})
	msg := &persistence.Message{
		Base:             persistence.Base{TenantID: t.st.TenantID, Metadata: meta},
		ConversationID:   conv.ID,
		Direction:        persistence.DirectionInbound,
		Channel:          p.Channel,
		ChannelMessageID: p.ChannelMessageID,
		Sender:           persistence.SenderCustomer,
		Kind:             p.Kind,
		Text:             p.Text,
		DeliveryStatus:   persistence.DeliveryReceived,
	}
	if p.Media != nil {
		msg.MediaRef = p.Media.ID
	}
	if err := tx.Savepoint(ctx, func() error { return tx.CreateMessage(ctx, msg) }); err != nil {
		if errors.Is(err, persistence.ErrDuplicate) {
			// Delivered before under another log position (the channel sent
			// it twice): nothing to do but move the checkpoint.
			return applyResult{duplicate: true}, nil
		}
		return applyResult{}, err
	}
	at := msg.CreatedAt
	conv.LastMessageAt = &at
	if err := tx.UpdateConversation(ctx, &conv); err != nil {
		return applyResult{}, err
	}
	t.st.MessagesApplied++
	t.st.LastInboundID = msg.ID
	if triggersTurn(msg.Kind) {
		t.st.PendingThrough = t.st.MessagesApplied
		t.st.Unanswered = append(t.st.Unanswered, msg.ID)
	}
	t.st.remember(recentMessage{ID: msg.ID, Direction: string(msg.Direction), Kind: msg.Kind, Text: msg.Text, At: at}, rt.cfg.RecentMessages)
	if p.Channel == "whatsapp" && p.ChannelAccount != "" {
		// Blue ticks: the sender marks it read on the channel.
		env, err := events.New(events.TypeMarkRead, events.Version(events.TypeMarkRead), t.st.TenantID, t.identity, time.Now(),
			events.MarkRead{Channel: p.Channel, ChannelAccount: p.ChannelAccount, ChannelMessageID: p.ChannelMessageID})
		if err != nil {
			return applyResult{}, err
		}
		rec, err := env.Record(persistence.TopicOutbound)
		if err != nil {
			return applyResult{}, err
		}
		if _, err := rt.outbox.AppendTx(ctx, tx, rec); err != nil {
			return applyResult{}, err
		}
	}
	// Live events last: the tenant's live stream is the last lock taken.
	if opened {
		if err := live(ctx, tx, t.st.TenantID, persistence.LiveConversationUpdated, conv.ID, persistence.NewLiveConversation(conv)); err != nil {
			return applyResult{}, err
		}
	}
	if err := live(ctx, tx, t.st.TenantID, persistence.LiveMessageCreated, conv.ID, persistence.NewLiveMessage(*msg)); err != nil {
		return applyResult{}, err
	}
	return applyResult{message: msg}, nil
}

// ensureCustomer resolves the thread's customer by its channel identity,
// creating customer and identity on first contact.
func (t *thread) ensureCustomer(ctx context.Context, tx *sqlstore.Tx, p *events.MessageReceived) error {
	if p.ProfileName != "" {
		t.st.ProfileName = p.ProfileName
	}
	if p.ChannelAccount != "" {
		t.st.ChannelAccount = p.ChannelAccount
	}
	if t.st.CustomerID != "" {
		return nil
	}
	id, err := tx.GetCustomerIdentity(ctx, t.st.TenantID, t.st.Channel, t.st.ExternalUserID)
	if err == nil {
		t.st.CustomerID = id.CustomerID
		return nil
	}
	if !errors.Is(err, persistence.ErrNotFound) {
		return err
	}
	c := &persistence.Customer{Base: persistence.Base{TenantID: t.st.TenantID}, Name: p.ProfileName}
	if t.st.Channel == "whatsapp" {
		c.Phone = "+" + strings.TrimPrefix(t.st.ExternalUserID, "+")
	}
	ident := &persistence.CustomerIdentity{Base: persistence.Base{TenantID: t.st.TenantID}, Channel: t.st.Channel, ExternalID: t.st.ExternalUserID, DisplayName: p.ProfileName}
	err = tx.Savepoint(ctx, func() error {
		if err := tx.CreateCustomer(ctx, c); err != nil {
			return err
		}
		ident.CustomerID = c.ID
		return tx.CreateCustomerIdentity(ctx, ident)
	})
	if errors.Is(err, persistence.ErrDuplicate) {
		// Another activation created the identity first: use its customer.
		existing, gerr := tx.GetCustomerIdentity(ctx, t.st.TenantID, t.st.Channel, t.st.ExternalUserID)
		if gerr != nil {
			return gerr
		}
		t.st.CustomerID = existing.CustomerID
		return nil
	}
	if err != nil {
		return err
	}
	t.st.CustomerID = c.ID
	return nil
}

// ensureConversation returns the thread's open conversation, opening one
// when there is none.
// A conversation idle for longer than idle is closed first; the message
// then opens a new one.
func (t *thread) ensureConversation(ctx context.Context, tx *sqlstore.Tx, p *events.MessageReceived, idle time.Duration) (persistence.Conversation, bool, error) {
	conv, err := tx.GetOpenConversation(ctx, t.st.TenantID, t.identity)
	if err == nil {
		if conv.LastMessageAt == nil || time.Since(*conv.LastMessageAt) < idle {
			if conv.ID != t.st.ConversationID && t.st.ConversationID != "" {
				// Opened outside the grain (an agent started it from the
				// dashboard): it starts its own turn bookkeeping too.
				t.startConversation(conv.ID)
				return conv, false, nil
			}
			t.st.ConversationID = conv.ID
			return conv, false, nil
		}
		now := time.Now().UTC()
		conv.Status, conv.ClosedAt = persistence.ConversationClosed, &now
		if err := tx.UpdateConversation(ctx, &conv); err != nil {
			return conv, false, err
		}
		if err := live(ctx, tx, t.st.TenantID, persistence.LiveConversationUpdated, conv.ID, persistence.NewLiveConversation(conv)); err != nil {
			return conv, false, err
		}
	} else if !errors.Is(err, persistence.ErrNotFound) {
		return conv, false, err
	}
	conv = persistence.Conversation{
		Base:           persistence.Base{TenantID: t.st.TenantID},
		CustomerID:     t.st.CustomerID,
		Channel:        t.st.Channel,
		ChannelAccount: p.ChannelAccount,
		ThreadKey:      t.identity,
		Status:         persistence.ConversationOpen,
	}
	if err := tx.CreateConversation(ctx, &conv); err != nil {
		return conv, false, err
	}
	t.startConversation(conv.ID)
	return conv, true, nil
}

// startConversation makes id the thread's conversation with its own turn
// bookkeeping: no recent context, nothing unanswered.
func (t *thread) startConversation(id string) {
	t.st.ConversationID = id
	t.st.Recent = nil
	t.st.AnsweredThrough = t.st.MessagesApplied
	t.st.PendingThrough = t.st.MessagesApplied
	t.st.Unanswered = nil
}

// statusGrace is how long a status report for an unknown message id is
// retried before it is taken to be about a message sent outside frontdesk.
const statusGrace = 30 * time.Second

// deliveryRank orders delivery statuses: a status report only moves a
// message forward (failed is final).
var deliveryRank = map[persistence.DeliveryStatus]int{
	persistence.DeliveryPending: 0, persistence.DeliverySent: 1, persistence.DeliveryDelivered: 2,
	persistence.DeliveryRead: 3, persistence.DeliveryFailed: 4,
}

func (t *thread) applyStatus(ctx context.Context, tx *sqlstore.Tx, p *events.MessageStatus) (applyResult, error) {
	msg, err := tx.GetMessageByChannelID(ctx, p.Channel, p.ChannelMessageID)
	if errors.Is(err, persistence.ErrNotFound) {
		if time.Since(p.At) < statusGrace {
			// The channel can report a send before the sender has stored
			// the message id it got back: try again shortly.
			return applyResult{}, fmt.Errorf("status %s for %s: message not known yet", p.Status, p.ChannelMessageID)
		}
		// A report for a message sent outside frontdesk: nothing to update.
		return applyResult{duplicate: true}, nil
	}
	if err != nil {
		return applyResult{}, err
	}
	if msg.TenantID != t.st.TenantID {
		return applyResult{}, permanent(fmt.Errorf("status for message %s of another tenant", p.ChannelMessageID))
	}
	status := persistence.DeliveryStatus(p.Status)
	cur, next := deliveryRank[msg.DeliveryStatus], deliveryRank[status]
	if _, ok := deliveryRank[status]; !ok || next <= cur || msg.DeliveryStatus == persistence.DeliveryFailed {
		return applyResult{duplicate: true}, nil
	}
	msg.DeliveryStatus = status
	if status == persistence.DeliveryFailed {
		msg.Error = fmt.Sprintf("%d %s", p.ErrorCode, p.ErrorTitle)
	}
	if err := tx.UpdateMessage(ctx, &msg); err != nil {
		return applyResult{}, err
	}
	if err := live(ctx, tx, msg.TenantID, persistence.LiveMessageStatus, msg.ConversationID, persistence.NewLiveMessage(msg)); err != nil {
		return applyResult{}, err
	}
	return applyResult{message: &msg}, nil
}
