package actors

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/frontdesk-ai/frontdesk/dashboard/liveview"
	"github.com/frontdesk-ai/frontdesk/persistence"
	"github.com/frontdesk-ai/frontdesk/tools"
)

// commitTurn records a finished turn in one transaction: the reply message,
// its outbound event for the channel sender, the live events of the turn,
// the effects of its tools on the conversation (a hand-off), and the
// checkpoint (version-checked) that marks the inbound messages up to
// res.in.through as answered. The writer is the one the grain holds: a
// reply is dropped when a human took the conversation over while the turn
// ran.
func (t *thread) commitTurn(ctx context.Context, rt *Runtime, res turnResult) error {
	if t.st.AnsweredThrough != res.in.st.AnsweredThrough {
		// Another activation (a member that was cut off, or the one that
		// replaced it) answered some of these messages meanwhile: this
		// reply was written without knowing that one. Drop it; a fresh
		// turn answers whatever is still unanswered.
		return nil
	}
	return t.write(ctx, rt, func(tx Tx, next *thread) error {
		conv := next.st.Conv
		reason := res.skip
		if reason == "" && conv.AssignedUserID != "" {
			reason = "a human agent took over during the turn"
		}
		if reason == "" && conv.ID != res.in.st.Conv.ID {
			reason = "the conversation changed during the turn"
		}
		if reason == "" && res.err != nil {
			reason = "turn failed: " + res.err.Error()
		}
		if reason == "" && res.reply == "" {
			reason = "the model gave no answer"
		}
		if reason != "" && res.skip == "" {
			data, _ := json.Marshal(map[string]any{"reason": reason, "reply": res.reply, "turn_id": res.in.st.turnID()})
			if err := tx.CreateAuditEvent(ctx, &persistence.AuditEvent{Base: persistence.Base{TenantID: t.st.TenantID},
				ActorKind: persistence.ActorAI, Action: "turn.discarded", TargetKind: "conversation", TargetID: conv.ID, Data: data}); err != nil {
				return err
			}
		}
		if conv.ID != "" && conv.ID == res.in.st.Conv.ID {
			for _, c := range res.calls {
				next.publish(persistence.LiveToolCalled, conv.ID, c)
			}
			if err := next.applyToolEffects(ctx, tx, rt, &conv, res); err != nil {
				return err
			}
			if res.err != nil && aiMayWrite(conv) == "" {
				if err := next.giveUp(ctx, tx, rt, &conv, res); err != nil {
					return err
				}
			}
		}
		if reason == "" {
			if err := next.sendReply(ctx, tx, rt, &conv, res); err != nil {
				return err
			}
			if err := next.recordQuestion(ctx, tx, rt, conv.ID, res); err != nil {
				return err
			}
			// The runtime, not the model, asks for each confirmation, once.
			asked := map[string]bool{}
			for _, c := range res.calls {
				if c.ask != nil && !asked[c.ask.ConfirmationID] {
					asked[c.ask.ConfirmationID] = true
					if err := next.ask(ctx, tx, rt, &conv, *c.ask); err != nil {
						return err
					}
				}
			}
		}
		next.fold(rt, evAnswered{Through: res.in.through, LastInboundID: res.in.st.LastInboundID, Seen: len(res.in.st.Unanswered),
			FollowUp: res.in.st.FollowUp != ""})
		return nil
	})
}

// applyToolEffects writes what the turn's tools changed in the
// conversation (the grain is its only writer, so tools report the change
// and the grain makes it): a hand-off to a human.
func (t *thread) applyToolEffects(ctx context.Context, tx Tx, rt *Runtime, conv *persistence.Conversation, res turnResult) error {
	if conv.AssignedUserID != "" {
		return nil // a human took over meanwhile: theirs to decide
	}
	for _, c := range res.calls {
		if !c.Executed || c.Tool != tools.HandoffToHuman || conv.Status == persistence.ConversationWaitingHuman {
			continue
		}
		var args struct {
			Reason string `json:"reason"`
		}
		_ = json.Unmarshal(c.Arguments, &args)
		if err := t.handOff(ctx, tx, rt, conv, args.Reason); err != nil {
			return err
		}
	}
	return nil
}

// handOff puts conv in the hands of a human (waiting for one, with the
// reason in its metadata), writes it and publishes it.
func (t *thread) handOff(ctx context.Context, tx Tx, rt *Runtime, conv *persistence.Conversation, reason string) error {
	meta := map[string]any{}
	_ = json.Unmarshal(conv.Metadata, &meta)
	meta["handoff_reason"] = reason
	raw, err := json.Marshal(meta)
	if err != nil {
		return err
	}
	conv.Status, conv.Metadata = persistence.ConversationWaitingHuman, raw
	if err := tx.UpdateConversation(ctx, conv); err != nil {
		return err
	}
	t.fold(rt, evConversationWritten{Conv: *conv})
	t.publish(persistence.LiveConversationUpdated, conv.ID, liveview.NewConversation(*conv))
	return nil
}

// giveUp leaves the turn's messages to a human: a ticket that says why, the
// conversation waiting for a human, and a dead letter with the turn, so an
// operator can see and re-drive it.
func (t *thread) giveUp(ctx context.Context, tx Tx, rt *Runtime, conv *persistence.Conversation, res turnResult) error {
	turnID := res.in.st.turnID()
	ticket := &persistence.Ticket{Base: persistence.Base{TenantID: t.st.TenantID}, CustomerID: t.st.CustomerID, ConversationID: conv.ID,
		Subject: "The AI could not answer this conversation", Description: res.err.Error(), Priority: persistence.PriorityHigh,
		Status: persistence.TicketOpen, IdempotencyKey: "turn-given-up:" + conv.ID + ":" + turnID}
	if err := tx.Savepoint(ctx, func() error { return tx.CreateTicket(ctx, ticket) }); err != nil && !errors.Is(err, persistence.ErrDuplicate) {
		return err
	}
	if err := t.handOff(ctx, tx, rt, conv, "the AI could not answer: "+res.err.Error()); err != nil {
		return err
	}
	value, err := json.Marshal(map[string]any{"turn_id": turnID, "conversation_id": conv.ID, "thread": t.identity, "unanswered": res.in.st.Unanswered})
	if err != nil {
		return err
	}
	dl, err := json.Marshal(persistence.DeadLetter{Topic: "turns", Partition: -1, Offset: -1, Key: t.identity, Value: value,
		Error: res.err.Error(), At: rt.clock.Now().UTC()})
	if err != nil {
		return err
	}
	_, err = tx.AppendLog(ctx, persistence.Record{Topic: persistence.DeadLetterTopic("turns"), Key: t.identity, Value: dl})
	return err
}

func (t *thread) sendReply(ctx context.Context, tx Tx, rt *Runtime, conv *persistence.Conversation, res turnResult) error {
	fields := map[string]any{
		"turn_id": res.in.st.turnID(), "backend": res.resp.Backend, "model": res.resp.Model, "offline": res.offline,
		"latency_ms": res.resp.Latency.Milliseconds(), "prompt_tokens": res.resp.Usage.PromptTokens,
		"completion_tokens": res.resp.Usage.CompletionTokens, "tool_calls": len(res.calls),
	}
	if k := res.knowledge; k != nil && len(k.cited) > 0 {
		fields["citations"] = k.citations()
	}
	meta, _ := json.Marshal(fields)
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
	if err := t.enqueueOutbound(ctx, tx, rt, conv, msg); err != nil {
		return err
	}
	t.publish(persistence.LiveMessageCreated, conv.ID, liveview.NewMessage(*msg))
	return nil
}
