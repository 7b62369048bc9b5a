package actors

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/frontdesk-ai/frontdesk/events"
	"github.com/frontdesk-ai/frontdesk/persistence"
	"github.com/frontdesk-ai/frontdesk/persistence/sqlstore"
)

// commitTurn records a finished turn in one transaction: the reply message,
// its outbound event for the channel sender, the live events of the turn,
// and the checkpoint (version-checked) that marks the inbound messages up to
// res.in.through as answered. A reply is dropped when a human took the
// conversation over while the turn ran.
func (t *thread) commitTurn(ctx context.Context, rt *Runtime, res turnResult) error {
	if t.st.AnsweredThrough != res.in.st.AnsweredThrough {
		// Another activation (a member that was cut off, or the one that
		// replaced it) answered some of these messages meanwhile: this
		// reply was written without knowing that one. Drop it; a fresh
		// turn answers whatever is still unanswered.
		return nil
	}
	next := t.clone()
	err := rt.store.InTx(ctx, func(tx *sqlstore.Tx) error {
		conv, err := tx.GetConversation(ctx, t.st.TenantID, res.in.st.ConversationID)
		if err != nil {
			return err
		}
		// Lock order: the conversation's rows first, the tenant's live
		// stream last (as when applying an event), so two writers of one
		// conversation cannot deadlock.
		reason := res.skip
		if reason == "" && conv.AssignedUserID != "" {
			reason = "a human agent took over during the turn"
		}
		if reason == "" && res.reply == "" {
			reason = "the model gave no answer"
		}
		if reason != "" {
			if res.skip == "" {
				data, _ := json.Marshal(map[string]any{"reason": reason, "reply": res.reply, "turn_id": res.in.st.turnID()})
				if err := tx.CreateAuditEvent(ctx, &persistence.AuditEvent{Base: persistence.Base{TenantID: t.st.TenantID},
					ActorKind: persistence.ActorAI, Action: "turn.discarded", TargetKind: "conversation", TargetID: conv.ID, Data: data}); err != nil {
					return err
				}
			}
		} else if err := next.sendReply(ctx, tx, rt, conv, res); err != nil {
			return err
		}
		if reason != "" {
			for _, c := range res.calls {
				if err := live(ctx, tx, t.st.TenantID, persistence.LiveToolCalled, conv.ID, c); err != nil {
					return err
				}
			}
		}
		next.st.AnsweredThrough = res.in.through
		next.st.AnsweredInboundID = res.in.st.LastInboundID
		// The messages this turn saw are answered; later ones still wait.
		next.st.Unanswered = next.st.Unanswered[min(len(res.in.st.Unanswered), len(next.st.Unanswered)):]
		state, err := json.Marshal(next.st)
		if err != nil {
			return fmt.Errorf("encode conversation state: %w", err)
		}
		next.cp.State = state
		return tx.SaveCheckpoint(ctx, &next.cp)
	})
	if err != nil {
		return err
	}
	*t = next
	return nil
}

func (t *thread) sendReply(ctx context.Context, tx *sqlstore.Tx, rt *Runtime, conv persistence.Conversation, res turnResult) error {
	meta, _ := json.Marshal(map[string]any{
		"turn_id": res.in.st.turnID(), "backend": res.resp.Backend, "model": res.resp.Model, "offline": res.offline,
		"latency_ms": res.resp.Latency.Milliseconds(), "prompt_tokens": res.resp.Usage.PromptTokens,
		"completion_tokens": res.resp.Usage.CompletionTokens, "tool_calls": len(res.calls),
	})
	msg := &persistence.Message{
		Base:           persistence.Base{TenantID: t.st.TenantID, Metadata: meta},
		ConversationID: conv.ID,
		Direction:      persistence.DirectionOutbound,
		Channel:        conv.Channel,
		Sender:         persistence.SenderAI,
		Kind:           "text",
		Text:           res.reply,
		DeliveryStatus: persistence.DeliveryPending,
	}
	if err := tx.CreateMessage(ctx, msg); err != nil {
		return err
	}
	at := msg.CreatedAt
	conv.LastMessageAt = &at
	if err := tx.UpdateConversation(ctx, &conv); err != nil {
		return err
	}
	env, err := events.New(events.TypeMessageSend, events.Version(events.TypeMessageSend), t.st.TenantID, t.identity, time.Now(), events.MessageSend{
		MessageID: msg.ID, ConversationID: conv.ID, Channel: conv.Channel, ChannelAccount: conv.ChannelAccount,
		To: t.st.ExternalUserID, Text: msg.Text,
	})
	if err != nil {
		return err
	}
	rec, err := env.Record(persistence.TopicOutbound)
	if err != nil {
		return err
	}
	if _, err := rt.outbox.AppendTx(ctx, tx, rec); err != nil {
		return err
	}
	t.st.remember(recentMessage{ID: msg.ID, Direction: string(msg.Direction), Kind: msg.Kind, Text: msg.Text, At: at}, rt.cfg.RecentMessages)
	for _, c := range res.calls {
		if err := live(ctx, tx, t.st.TenantID, persistence.LiveToolCalled, conv.ID, c); err != nil {
			return err
		}
	}
	if err := live(ctx, tx, t.st.TenantID, persistence.LiveMessageCreated, conv.ID, persistence.NewLiveMessage(*msg)); err != nil {
		return err
	}
	// A handoff during the turn changed the conversation's status.
	for _, c := range res.calls {
		if c.Executed && c.Tool == "handoff_to_human" {
			return live(ctx, tx, t.st.TenantID, persistence.LiveConversationUpdated, conv.ID, persistence.NewLiveConversation(conv))
		}
	}
	return nil
}
