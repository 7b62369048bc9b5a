package actors

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/frontdesk-ai/frontdesk/persistence"
	"github.com/frontdesk-ai/frontdesk/tools"
)

// Follow-ups. The AI's schedule_followup call saves a durable reminder of
// the conversation grain (it fires after passivation, restarts and member
// loss, once: the grain deletes it as it handles it). When it fires inside
// the channel's reply window and the AI writes the conversation, the grain
// runs a turn whose context carries the follow-up's note; outside the
// window (a free-form message would be refused) it opens a ticket for a
// human, and when a human writes the conversation it leaves them a note.

// ReplyWindow is how long after the customer's last message a free-form
// message may be sent (WhatsApp's customer service window).
const ReplyWindow = 24 * time.Hour

// followUpPrefix names follow-up reminders.
const followUpPrefix = "followup:"

// ActionFollowUpDue audits a follow-up that fell due (and what was done).
const ActionFollowUpDue = "conversation.follow_up_due"

// ScheduleFollowUp saves the follow-up of the conversation in s, due at at,
// with note (tools.Scheduler). key names it: scheduling the same key again
// moves it.
func (rt *Runtime) ScheduleFollowUp(ctx context.Context, s tools.Scope, at time.Time, note, key string) error {
	conv, err := rt.store.GetConversation(ctx, s.TenantID, s.ConversationID)
	if err != nil {
		return err
	}
	payload, err := json.Marshal(map[string]string{"note": note, "conversation_id": conv.ID})
	if err != nil {
		return err
	}
	return rt.store.InTx(ctx, func(tx Tx) error {
		return tx.SaveReminder(ctx, persistence.Reminder{TenantID: s.TenantID, Kind: KindConversation, Identity: conv.ThreadKey,
			Name: followUpPrefix + key, DueAt: at.UTC(), Payload: payload})
	})
}

// followUpCommand is the command a follow-up reminder becomes.
func followUpCommand(tenantID, name string, payload []byte) (Command, bool) {
	if !strings.HasPrefix(name, followUpPrefix) {
		return Command{}, false
	}
	var p struct {
		Note           string `json:"note"`
		ConversationID string `json:"conversation_id"`
	}
	_ = json.Unmarshal(payload, &p)
	return Command{Kind: CommandFollowUp, TenantID: tenantID, ConversationID: p.ConversationID, Note: p.Note, Text: name}, true
}

// followUp runs CommandFollowUp: the reminder named cmd.Text fell due.
func (t *thread) followUp(ctx context.Context, tx Tx, rt *Runtime, conv persistence.Conversation, cmd Command) (CommandResult, error) {
	if err := tx.DeleteReminder(ctx, KindConversation, t.identity, cmd.Text); err != nil {
		return CommandResult{}, err
	}
	done := "written by the AI"
	switch {
	case conv.Status == persistence.ConversationClosed || conv.ID != t.st.Conv.ID:
		done = "skipped: the conversation is closed"
	case !t.inReplyWindow(rt) && cmd.Template != nil && aiMayWrite(conv) == "":
		// Only an approved template may be sent: the agent's, with the note.
		done = "template " + cmd.Template.Name + ": outside the reply window"
		tmpl := *cmd.Template
		tmpl.Params = []string{cmd.Note}
		if err := t.sayRuntime(ctx, tx, rt, &conv, cmd.Note, map[string]any{"template": tmpl.Name, "follow_up": cmd.Text}, withTemplate(tmpl)); err != nil {
			return CommandResult{}, err
		}
	case !t.inReplyWindow(rt):
		// A free-form message would be refused: a person takes it up.
		done = "ticket: outside the reply window"
		ticket := &persistence.Ticket{Base: persistence.Base{TenantID: t.st.TenantID}, CustomerID: t.st.CustomerID, ConversationID: conv.ID,
			Subject: "Follow-up due: " + truncate(cmd.Note, 150), Description: cmd.Note, Priority: persistence.PriorityNormal,
			Status: persistence.TicketOpen, IdempotencyKey: cmd.Text + ":" + conv.ID}
		if err := tx.Savepoint(ctx, func() error { return tx.CreateTicket(ctx, ticket) }); err != nil && !errors.Is(err, persistence.ErrDuplicate) {
			return CommandResult{}, err
		}
	case aiMayWrite(conv) != "":
		done = "note: a human writes the conversation"
		if err := tx.CreateNote(ctx, &persistence.Note{Base: persistence.Base{TenantID: t.st.TenantID}, ConversationID: conv.ID,
			AuthorID: "runtime", Text: "Scheduled follow-up due: " + cmd.Note}); err != nil {
			return CommandResult{}, err
		}
	default:
		t.fold(rt, evFollowUpDue{Note: cmd.Note})
	}
	data, err := json.Marshal(map[string]string{"note": cmd.Note, "done": done, "reminder": cmd.Text})
	if err != nil {
		return CommandResult{}, err
	}
	err = tx.CreateAuditEvent(ctx, &persistence.AuditEvent{Base: persistence.Base{TenantID: t.st.TenantID}, ActorKind: persistence.ActorSystem,
		ActorID: "runtime", Action: ActionFollowUpDue, TargetKind: "conversation", TargetID: conv.ID, Data: data})
	return CommandResult{Conversation: conv}, err
}

// inReplyWindow reports whether the customer's last message is recent
// enough for a free-form message.
func (t *thread) inReplyWindow(rt *Runtime) bool {
	for i := len(t.st.Recent) - 1; i >= 0; i-- {
		if m := t.st.Recent[i]; m.Direction == string(persistence.DirectionInbound) {
			return rt.clock.Now().Sub(m.At) < ReplyWindow
		}
	}
	return false
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}
