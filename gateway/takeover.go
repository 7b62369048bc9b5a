package gateway

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/frontdesk-ai/frontdesk/dashboard/liveview"
	"github.com/frontdesk-ai/frontdesk/events"
	"github.com/frontdesk-ai/frontdesk/persistence"
)

// Human takeover. A conversation has one writer at a time: the AI (no
// assigned user) or one human agent. Taking over assigns the caller; the
// conversation grain checks the writer before every turn and again when it
// commits one, so the AI stops writing at once (a reply it was composing is
// dropped and audited). A second agent needs an explicit steal, which is
// recorded for both to see. Handing back clears the writer, optionally with
// a note the AI sees in its context. Every change is audited and published
// live as conversation.updated.

// Audit actions of takeover.
const (
	ActionTakeover   = "conversation.takeover"
	ActionSteal      = "conversation.steal"
	ActionHandback   = "conversation.handback"
	ActionAgentReply = "conversation.agent_reply"
	// CodeWriterConflict answers an agent who is not the conversation's writer.
	CodeWriterConflict = "writer_conflict"
)

// changeWriter loads the conversation in a transaction, lets change decide,
// and writes the conversation, the audit event and the live event together.
func (a *API) changeWriter(ctx context.Context, p Principal, id string, change func(c *persistence.Conversation) (action string, data map[string]any, err error)) (persistence.Conversation, error) {
	var conv persistence.Conversation
	err := a.store.InTx(ctx, func(tx Tx) error {
		c, err := tx.GetConversation(ctx, p.TenantID, id)
		if err != nil {
			return fmt.Errorf("conversation: %w", err)
		}
		before := c.Writer()
		action, data, err := change(&c)
		if err != nil {
			return err
		}
		if err := tx.UpdateConversation(ctx, &c); err != nil {
			return fmt.Errorf("conversation %s: %w", id, err)
		}
		data["from"], data["to"] = before, c.Writer()
		if err := audit(ctx, tx, p, action, "conversation", c.ID, data); err != nil {
			return err
		}
		view := liveview.NewConversation(c)
		view.Change, view.By, view.PreviousWriter = action, p.UserID, before
		live, _ := json.Marshal(view)
		conv = c
		return tx.AppendLiveEvent(ctx, &persistence.LiveEvent{TenantID: p.TenantID, Type: persistence.LiveConversationUpdated, ConversationID: c.ID, Data: live})
	})
	if err == nil {
		a.cfg.notify(p.TenantID)
	}
	return conv, err
}

func writerConflict(c persistence.Conversation) *Error {
	return &Error{Status: http.StatusConflict, Code: CodeWriterConflict,
		Message: fmt.Sprintf("conversation is written by %s; take it over (steal) first", c.Writer())}
}

// takeover handles POST /api/v1/conversations/{id}/takeover {"steal": bool}.
func (a *API) takeover(w http.ResponseWriter, r *http.Request, p Principal) error {
	var body struct {
		Steal bool `json:"steal"`
	}
	if err := decodeOptionalJSON(w, r, &body); err != nil {
		return err
	}
	c, err := a.changeWriter(r.Context(), p, r.PathValue("id"), func(c *persistence.Conversation) (string, map[string]any, error) {
		action := ActionTakeover
		switch c.AssignedUserID {
		case "", p.UserID:
		default:
			if !body.Steal {
				return "", nil, writerConflict(*c)
			}
			action = ActionSteal
		}
		if c.Status == persistence.ConversationClosed {
			return "", nil, errInvalid("conversation is closed")
		}
		c.AssignedUserID = p.UserID
		c.Status = persistence.ConversationOpen
		return action, map[string]any{"by_name": p.Name}, nil
	})
	if err != nil {
		return err
	}
	return a.writeConversation(w, r, p, c)
}

// handback handles POST /api/v1/conversations/{id}/handback {"note"}.
func (a *API) handback(w http.ResponseWriter, r *http.Request, p Principal) error {
	var body struct {
		Note string `json:"note"`
	}
	if err := decodeOptionalJSON(w, r, &body); err != nil {
		return err
	}
	if len(body.Note) > 4000 {
		return errInvalid("note: at most 4000 bytes")
	}
	c, err := a.changeWriter(r.Context(), p, r.PathValue("id"), func(c *persistence.Conversation) (string, map[string]any, error) {
		if c.AssignedUserID != p.UserID && p.Role != persistence.RoleSupervisor && p.Role != persistence.RoleAdmin {
			return "", nil, writerConflict(*c)
		}
		c.AssignedUserID = ""
		c.Status = persistence.ConversationOpen
		meta := map[string]any{}
		_ = json.Unmarshal(c.Metadata, &meta)
		if note := strings.TrimSpace(body.Note); note != "" {
			// The AI reads it in its context bundle on its next turn.
			meta["handback_note"] = note
		} else {
			delete(meta, "handback_note")
		}
		raw, err := json.Marshal(meta)
		if err != nil {
			return "", nil, err
		}
		c.Metadata = raw
		return ActionHandback, map[string]any{"note": body.Note}, nil
	})
	if err != nil {
		return err
	}
	return a.writeConversation(w, r, p, c)
}

// reply handles POST /api/v1/conversations/{id}/replies {"text"}: the
// writer's message, sent through the channel like any outbound.
func (a *API) reply(w http.ResponseWriter, r *http.Request, p Principal) error {
	var body struct {
		Text string `json:"text"`
	}
	if err := decodeJSON(w, r, &body); err != nil {
		return err
	}
	text := strings.TrimSpace(body.Text)
	if text == "" || len(text) > 4096 {
		return errInvalid("text: 1 to 4096 bytes")
	}
	if a.cfg.Outbox == nil {
		return &Error{Status: http.StatusServiceUnavailable, Code: "unavailable", Message: "replies are not wired on this server"}
	}
	ctx := r.Context()
	var msg persistence.Message
	err := a.store.InTx(ctx, func(tx Tx) error {
		c, err := tx.GetConversation(ctx, p.TenantID, r.PathValue("id"))
		if err != nil {
			return fmt.Errorf("conversation: %w", err)
		}
		if c.AssignedUserID != p.UserID {
			return writerConflict(c)
		}
		to := c.ThreadKey[strings.LastIndex(c.ThreadKey, "/")+1:]
		msg = persistence.Message{Base: persistence.Base{TenantID: p.TenantID}, ConversationID: c.ID, Direction: persistence.DirectionOutbound,
			Channel: c.Channel, Sender: persistence.SenderUser(p.UserID), Kind: "text", Text: text, DeliveryStatus: persistence.DeliveryPending}
		if err := tx.CreateMessage(ctx, &msg); err != nil {
			return err
		}
		at := msg.CreatedAt
		c.LastMessageAt = &at
		if err := tx.UpdateConversation(ctx, &c); err != nil {
			return err
		}
		env, err := events.New(events.TypeMessageSend, events.Version(events.TypeMessageSend), p.TenantID, c.ThreadKey, time.Now(),
			events.MessageSend{MessageID: msg.ID, ConversationID: c.ID, Channel: c.Channel, ChannelAccount: c.ChannelAccount, To: to, Text: text})
		if err != nil {
			return err
		}
		rec, err := env.Record(persistence.TopicOutbound)
		if err != nil {
			return err
		}
		if _, err := tx.AppendLog(ctx, rec); err != nil {
			return err
		}
		if err := audit(ctx, tx, p, ActionAgentReply, "conversation", c.ID, map[string]any{"message_id": msg.ID}); err != nil {
			return err
		}
		live, _ := json.Marshal(liveview.NewMessage(msg))
		return tx.AppendLiveEvent(ctx, &persistence.LiveEvent{TenantID: p.TenantID, Type: persistence.LiveMessageCreated, ConversationID: c.ID, Data: live})
	})
	if err != nil {
		return err
	}
	a.cfg.notify(p.TenantID)
	writeJSON(w, http.StatusCreated, toMessageJSON(msg))
	return nil
}

// decodeOptionalJSON decodes a body that may be empty.
func decodeOptionalJSON(w http.ResponseWriter, r *http.Request, v any) error {
	if r.ContentLength == 0 {
		return nil
	}
	return decodeJSON(w, r, v)
}

func (a *API) writeConversation(w http.ResponseWriter, r *http.Request, p Principal, c persistence.Conversation) error {
	cust, err := a.store.GetCustomer(r.Context(), p.TenantID, c.CustomerID)
	if err != nil {
		cust = persistence.Customer{}
	}
	writeJSON(w, http.StatusOK, toConversationJSON(c, cust))
	return nil
}
