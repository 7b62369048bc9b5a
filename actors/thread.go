package actors

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/frontdesk-ai/frontdesk/dashboard/liveview"
	"github.com/frontdesk-ai/frontdesk/events"
	"github.com/frontdesk-ai/frontdesk/persistence"
)

// thread is a conversation grain's persisted state: checkpoint plus decoded
// hot state. Its methods do the I/O and run on job goroutines, on a copy.
type thread struct {
	identity string
	cp       persistence.Checkpoint
	st       threadState
	// logs and lives are the log records and live events of the write in
	// progress, appended at its end, after the checkpoint (logs, then
	// lives): the log's partition rows and the tenant's live stream are
	// shared by many grains, and on PostgreSQL a row stays locked from the
	// statement that writes it to the commit.
	logs  []persistence.Record
	lives []liveEvent
}

// liveEvent is a live event waiting for its write's end.
type liveEvent struct {
	typ, conversationID string
	data                any
}

// publish queues a live event of the write in progress.
func (t *thread) publish(typ, conversationID string, data any) {
	t.lives = append(t.lives, liveEvent{typ: typ, conversationID: conversationID, data: data})
}

func (t thread) clone() thread {
	t.st = t.st.clone()
	t.cp.State = nil
	t.logs, t.lives = nil, nil
	return t
}

// loadThread reads a conversation grain's checkpoint and its current
// conversation (activation: the only reads of a grain's state), or starts a
// fresh one.
func loadThread(ctx context.Context, rt *Runtime, identity string) (thread, error) {
	tenant, channel, user, err := parseThreadKey(identity)
	if err != nil {
		return thread{}, err
	}
	t := thread{identity: identity}
	rt.metrics.storeReads.WithLabelValues(KindConversation, "activation").Inc()
	cp, err := rt.store.GetCheckpoint(ctx, KindConversation, identity)
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
	if t.st.ConversationID != "" {
		conv, err := rt.store.GetConversation(ctx, tenant, t.st.ConversationID)
		switch {
		case errors.Is(err, persistence.ErrNotFound):
			// The row is gone (deleted, or a restored backup): the next
			// message opens a new conversation.
			rt.log.Warn().Str("thread", redactKey(identity)).Msg("the thread's conversation is not in the store; starting afresh")
		case err != nil:
			return thread{}, fmt.Errorf("conversation %s: load conversation %s: %w", redactKey(identity), t.st.ConversationID, err)
		default:
			t.st.Conv = conv
		}
	}
	return t, nil
}

// write runs change in a transaction and, when it succeeds, saves the
// resulting state as the grain's checkpoint in the same transaction
// (version-checked: a stale activation fails with ErrVersionConflict). On
// success t holds the new state; on failure t is unchanged.
func (t *thread) write(ctx context.Context, rt *Runtime, change func(tx Tx, next *thread) error) error {
	next := t.clone()
	err := rt.store.InTx(ctx, func(tx Tx) error {
		next.lives, next.logs = nil, nil
		if err := change(tx, &next); err != nil {
			return err
		}
		lives := make([]*persistence.LiveEvent, 0, len(next.lives))
		for _, e := range next.lives {
			raw, err := json.Marshal(e.data)
			if err != nil {
				return fmt.Errorf("encode live %s: %w", e.typ, err)
			}
			lives = append(lives, &persistence.LiveEvent{TenantID: next.st.TenantID, Type: e.typ, ConversationID: e.conversationID, Data: raw})
		}
		next.lives = nil
		state, err := json.Marshal(next.st)
		if err != nil {
			return fmt.Errorf("encode conversation state: %w", err)
		}
		next.cp.State = state
		if err := tx.SaveCheckpoint(ctx, &next.cp); err != nil {
			return err
		}
		// The rows many grains share come last: the log's partitions, then
		// the tenant's live stream.
		if len(next.logs) > 0 {
			if _, err := tx.AppendLog(ctx, next.logs...); err != nil {
				return err
			}
			next.logs = nil
		}
		return tx.AppendLiveEvents(ctx, lives)
	})
	if err != nil {
		return err
	}
	next.cp.State = nil
	*t = next
	return nil
}

// fold applies a state event to t's state.
func (t *thread) fold(rt *Runtime, e any) { t.st = t.st.apply(e, rt.recentKeep()) }

// applyResult is what applying one record did.
type applyResult struct {
	duplicate bool
	message   *persistence.Message
}

// appendLog queues one event of the thread on topic, appended at the end
// of the write in progress.
func (t *thread) appendLog(topic, typ string, at time.Time, payload any) error {
	env, err := events.New(typ, events.Version(typ), t.st.TenantID, t.identity, at, payload)
	if err != nil {
		return err
	}
	rec, err := env.Record(topic)
	if err != nil {
		return err
	}
	t.logs = append(t.logs, rec)
	return nil
}

// errPermanent marks an event that can never be applied (retrying will not
// help): it goes to the dead-letter topic.
type errPermanent struct{ err error }

func (e errPermanent) Error() string { return e.err.Error() }
func (e errPermanent) Unwrap() error { return e.err }

func permanent(err error) error { return errPermanent{err} }

// apply applies one inbound record to t in one transaction: the effect, the
// new hot state and the checkpoint (version-checked) commit together.
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
	// What needs reads or grain calls is decided before the transaction:
	// inside it, the store's one SQLite connection is taken.
	var pre prepared
	if p, ok := payload.(*events.MessageReceived); ok {
		pre = t.prepare(ctx, rt, p)
	}
	var res applyResult
	err = t.write(ctx, rt, func(tx Tx, next *thread) error {
		var err error
		switch p := payload.(type) {
		case *events.MessageReceived:
			res, err = next.applyReceived(ctx, tx, rt, p, env, pre)
		case *events.MessageStatus:
			res, err = next.applyStatus(ctx, tx, rt, p)
		default:
			return permanent(fmt.Errorf("event %s: type %s is not handled by conversation grains", env.ID, env.Type))
		}
		if err != nil {
			return err
		}
		next.cp.Topic, next.cp.Partition, next.cp.Offset = rec.Topic, rec.Partition, rec.Offset
		return nil
	})
	if err != nil {
		return applyResult{}, err
	}
	return res, nil
}

// prepared is what applying a customer's message decided before its
// transaction: the message's language and, when it opens a conversation,
// the agent profile the routing rules choose.
type prepared struct {
	language string
	agentID  string
	// answer is what the customer's tap on a confirmation button did.
	answer *tapped
}

func (t *thread) prepare(ctx context.Context, rt *Runtime, p *events.MessageReceived) prepared {
	pre := prepared{language: rt.detectLanguage(p.Text, t.st.Language)}
	switch {
	case p.ButtonID != "":
		pre.answer = t.answerConfirmation(ctx, rt, p.ButtonID)
	case !rt.hasButtons(p.Channel):
		pre.answer = t.answerByCode(ctx, rt, p.Text)
	}
	if t.opensConversation(rt) {
		lang := pre.language
		if lang == "" {
			lang = t.st.Language
		}
		pre.agentID = rt.chooseAgent(ctx, t.st, p.ChannelAccount, lang)
	}
	return pre
}

// opensConversation reports whether the next customer message opens a new
// conversation (none yet, closed, or idle too long).
func (t *thread) opensConversation(rt *Runtime) bool {
	c := t.st.Conv
	return c.ID == "" || c.Status == persistence.ConversationClosed ||
		(c.LastMessageAt != nil && rt.clock.Now().Sub(*c.LastMessageAt) >= rt.cfg.ConversationIdle)
}

func (t *thread) applyReceived(ctx context.Context, tx Tx, rt *Runtime, p *events.MessageReceived, env events.Envelope, pre prepared) (applyResult, error) {
	if p.ChannelMessageID == "" {
		return applyResult{}, permanent(fmt.Errorf("event %s: message without channel_message_id", env.ID))
	}
	if err := t.ensureCustomer(ctx, tx, rt, p); err != nil {
		return applyResult{}, err
	}
	conv, opened, err := t.ensureConversation(ctx, tx, rt, p.ChannelAccount, pre.agentID)
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
	t.fold(rt, evConversationWritten{Conv: conv})
	// A tap on a confirmation button is answered by the runtime, not by a
	// turn.
	t.fold(rt, evInbound{Msg: recentOf(*msg), Triggers: triggersTurn(msg.Kind) && pre.answer == nil, Language: pre.language})
	if pre.answer != nil {
		if err := t.acknowledge(ctx, tx, rt, &conv, pre.answer); err != nil {
			return applyResult{}, err
		}
	}
	if p.ChannelAccount != "" {
		// Read receipts: the channel's sender marks it read where the
		// channel has them (and skips it where not).
		if err := t.appendLog(persistence.TopicOutbound, events.TypeMarkRead, rt.clock.Now(),
			events.MarkRead{Channel: p.Channel, ChannelAccount: p.ChannelAccount, ChannelMessageID: p.ChannelMessageID}); err != nil {
			return applyResult{}, err
		}
	}
	if opened {
		t.publish(persistence.LiveConversationUpdated, conv.ID, liveview.NewConversation(conv))
	}
	t.publish(persistence.LiveMessageCreated, conv.ID, liveview.NewMessage(*msg))
	return applyResult{message: msg}, nil
}

// ensureCustomer resolves the thread's customer by its channel identity,
// creating customer and identity on first contact.
func (t *thread) ensureCustomer(ctx context.Context, tx Tx, rt *Runtime, p *events.MessageReceived) error {
	t.fold(rt, evIdentified{ProfileName: p.ProfileName, ChannelAccount: p.ChannelAccount})
	if t.st.CustomerID != "" {
		return nil
	}
	id, err := tx.GetCustomerIdentity(ctx, t.st.TenantID, t.st.Channel, t.st.ExternalUserID)
	if err == nil {
		t.fold(rt, evIdentified{CustomerID: id.CustomerID})
		return nil
	}
	if !errors.Is(err, persistence.ErrNotFound) {
		return err
	}
	c := &persistence.Customer{Base: persistence.Base{TenantID: t.st.TenantID}, Name: p.ProfileName, Phone: p.Phone}
	ident := &persistence.CustomerIdentity{Base: persistence.Base{TenantID: t.st.TenantID}, Channel: t.st.Channel, ExternalID: t.st.ExternalUserID, DisplayName: p.ProfileName}
	// A customer the tenant already knows by this verified phone (a shop's
	// customer) is this one: the identity joins them, and the link is
	// audited. A name never links anyone.
	var known []persistence.Customer
	if p.Phone != "" {
		if known, err = tx.FindCustomersByContact(ctx, t.st.TenantID, p.Phone, ""); err != nil {
			return err
		}
	}
	err = tx.Savepoint(ctx, func() error {
		if len(known) > 0 {
			c = &known[0]
			ident.CustomerID = c.ID
			if err := tx.CreateCustomerIdentity(ctx, ident); err != nil {
				return err
			}
			return tx.CreateAuditEvent(ctx, &persistence.AuditEvent{Base: persistence.Base{TenantID: t.st.TenantID},
				ActorKind: persistence.ActorSystem, ActorID: "runtime", Action: ActionCustomerLinked, TargetKind: "customer", TargetID: c.ID,
				Data: json.RawMessage(`{"by":"phone","channel":` + strconv.Quote(t.st.Channel) + `}`)})
		}
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
		t.fold(rt, evIdentified{CustomerID: existing.CustomerID})
		return nil
	}
	if err != nil {
		return err
	}
	t.fold(rt, evIdentified{CustomerID: c.ID})
	return nil
}

// ensureConversation returns the thread's open conversation (from the hot
// state: the grain is its only writer), opening one when there is none. A
// conversation idle for longer than ConversationIdle is closed first; the
// message then opens a new one, with agentID (chosen by the routing rules).
func (t *thread) ensureConversation(ctx context.Context, tx Tx, rt *Runtime, channelAccount, agentID string) (persistence.Conversation, bool, error) {
	conv := t.st.Conv
	now := rt.clock.Now()
	if conv.ID != "" && conv.Status != persistence.ConversationClosed {
		if conv.LastMessageAt == nil || now.Sub(*conv.LastMessageAt) < rt.cfg.ConversationIdle {
			return conv, false, nil
		}
		if err := t.closeConversation(ctx, tx, rt, conv, nil); err != nil {
			return conv, false, err
		}
	}
	conv = persistence.Conversation{
		Base:           persistence.Base{TenantID: t.st.TenantID},
		CustomerID:     t.st.CustomerID,
		Channel:        t.st.Channel,
		ChannelAccount: channelAccount,
		ThreadKey:      t.identity,
		Status:         persistence.ConversationOpen,
	}
	conv.AgentProfileID = agentID
	if err := tx.CreateConversation(ctx, &conv); err != nil {
		return conv, false, err
	}
	t.fold(rt, evConversationStarted{Conv: conv})
	return conv, true, nil
}

// closeConversation closes conv (by a user when by is set) and publishes it.
func (t *thread) closeConversation(ctx context.Context, tx Tx, rt *Runtime, conv persistence.Conversation, by *Agent) error {
	now := rt.clock.Now().UTC()
	before := conv.Writer()
	conv.Status, conv.ClosedAt = persistence.ConversationClosed, &now
	conv.AssignedUserID = ""
	if err := tx.UpdateConversation(ctx, &conv); err != nil {
		return err
	}
	if conv.ID == t.st.Conv.ID {
		t.fold(rt, evConversationWritten{Conv: conv})
	}
	view := liveview.NewConversation(conv)
	if by != nil {
		view.Change, view.By, view.PreviousWriter = ActionClose, by.UserID, before
	}
	t.publish(persistence.LiveConversationUpdated, conv.ID, view)
	return nil
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

func (t *thread) applyStatus(ctx context.Context, tx Tx, rt *Runtime, p *events.MessageStatus) (applyResult, error) {
	msg, err := tx.GetMessageByChannelID(ctx, t.st.TenantID, p.Channel, p.ChannelMessageID)
	if errors.Is(err, persistence.ErrNotFound) && p.ClientKey != "" {
		// The sender's key names our message: its send went out but its
		// provider id was never recorded (a crash in between). Record it
		// now, so the sender knows not to send it again.
		if m, kerr := tx.GetMessage(ctx, t.st.TenantID, p.ClientKey); kerr == nil &&
			m.Direction == persistence.DirectionOutbound && m.ChannelMessageID == "" && m.Channel == p.Channel {
			m.ChannelMessageID = p.ChannelMessageID
			msg, err = m, nil
		}
	}
	if errors.Is(err, persistence.ErrNotFound) {
		if rt.clock.Now().Sub(p.At) < statusGrace {
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
	t.publish(persistence.LiveMessageStatus, msg.ConversationID, liveview.NewMessage(msg))
	return applyResult{message: &msg}, nil
}
