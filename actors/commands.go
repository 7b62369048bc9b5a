package actors

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/frontdesk-ai/frontdesk/actors/grainpb"
	"github.com/frontdesk-ai/frontdesk/dashboard/liveview"
	"github.com/frontdesk-ai/frontdesk/events"
	"github.com/frontdesk-ai/frontdesk/persistence"
)

// Conversation commands. The conversation grain is the single writer of its
// conversation: takeover, steal, a human's reply, a private note, hand-back,
// open and close reach it as commands (Runtime.Command), run in its job lane
// with deliveries and turn commits, and change its hot state in the same
// step as the store. A takeover cancels a turn in flight, and a turn's
// commit checks the writer the grain holds, so the AI stops at once.

// CommandKind names a conversation command.
type CommandKind string

// Conversation commands.
const (
	// CommandTakeover makes By the writer (Steal: even from another agent).
	CommandTakeover CommandKind = "takeover"
	// CommandHandback gives the conversation back to the AI, with Note.
	CommandHandback CommandKind = "handback"
	// CommandReply sends Text to the customer as By (the writer).
	CommandReply CommandKind = "reply"
	// CommandNote adds a private note (never sent, never shown to the AI).
	CommandNote CommandKind = "note"
	// CommandOpen returns the thread's open conversation, or opens one
	// written by By.
	CommandOpen CommandKind = "open"
	// CommandClose closes the conversation.
	CommandClose CommandKind = "close"
	// CommandNotice tells the customer Text in the runtime's own words (a
	// confirmation's outcome), whoever writes the conversation; Note says
	// what it is about.
	CommandNotice CommandKind = "notice"
	// CommandFollowUp: a follow-up the AI scheduled fell due (Note; Text
	// names its reminder).
	CommandFollowUp CommandKind = "follow_up"
	// CommandRelink re-reads which customer the thread's identity and its
	// conversation belong to, after a customer merge (or its undo) moved
	// them.
	CommandRelink CommandKind = "relink"
)

// Audit actions of conversation commands.
const (
	ActionTakeover   = "conversation.takeover"
	ActionSteal      = "conversation.steal"
	ActionHandback   = "conversation.handback"
	ActionAgentReply = "conversation.agent_reply"
	ActionNote       = "conversation.note"
	ActionOpen       = "conversation.open"
	ActionClose      = "conversation.close"
	// ActionCustomerLinked: a new channel identity joined the customer who
	// has its verified phone.
	ActionCustomerLinked = "customer.linked"
)

// Agent is the human who gives a command.
type Agent struct {
	UserID string           `json:"user_id"`
	Name   string           `json:"name,omitempty"`
	Role   persistence.Role `json:"role,omitempty"`
}

// Command is one conversation command.
type Command struct {
	Kind           CommandKind `json:"kind"`
	TenantID       string      `json:"tenant_id"`
	ConversationID string      `json:"conversation_id,omitempty"`
	// Thread is the grain identity (events.ThreadKey). Runtime.Command
	// looks it up from ConversationID when empty; CommandOpen needs it.
	Thread string `json:"thread,omitempty"`
	By     Agent  `json:"by"`
	Steal  bool   `json:"steal,omitempty"`
	Note   string `json:"note,omitempty"`
	Text   string `json:"text,omitempty"`
	// Template is the approved template a follow-up outside the reply
	// window is sent with (CommandFollowUp; set by the grain from the agent
	// profile's policy).
	Template *events.Template `json:"template,omitempty"`
	// AfterConversationID is the conversation an opened one follows
	// (CommandOpen; for the audit trail).
	AfterConversationID string `json:"after_conversation_id,omitempty"`
	// Latest is the thread's latest conversation as the caller read it
	// (CommandOpen): a thread whose grain holds no state yet (history from
	// before grains kept it) opens the new one like it.
	Latest *persistence.Conversation `json:"latest,omitempty"`
}

// CommandResult is what a command did.
type CommandResult struct {
	Conversation persistence.Conversation `json:"conversation"`
	Message      *persistence.Message     `json:"message,omitempty"`
	Note         *persistence.Note        `json:"note,omitempty"`
	// Created reports that CommandOpen opened a new conversation.
	Created bool `json:"created,omitempty"`
}

// Error codes of commands, kept across cluster members.
const (
	CodeNotFound       = "not_found"
	CodeInvalid        = "invalid"
	CodeWriterConflict = "writer_conflict"
	CodeConflict       = "conflict"
	CodeInternal       = "internal"
)

// CommandError is a refused or failed command. It matches the persistence
// sentinels with errors.Is (not_found → ErrNotFound, invalid → ErrInvalid,
// conflict → ErrVersionConflict), so callers map it like store errors.
type CommandError struct {
	Code    string
	Message string
}

func (e *CommandError) Error() string { return e.Message }

// Is matches the persistence sentinel of e's code.
func (e *CommandError) Is(target error) bool {
	switch e.Code {
	case CodeNotFound:
		return target == persistence.ErrNotFound
	case CodeInvalid:
		return target == persistence.ErrInvalid
	case CodeConflict:
		return target == persistence.ErrVersionConflict
	}
	return false
}

// ErrWriterConflict is the code of a command by an agent who is not the
// conversation's writer.
func writerConflict(c persistence.Conversation) *CommandError {
	return &CommandError{Code: CodeWriterConflict,
		Message: fmt.Sprintf("conversation is written by %s; take it over (steal) first", c.Writer())}
}

func invalid(msg string) *CommandError { return &CommandError{Code: CodeInvalid, Message: msg} }

// codeOf returns the command error code of err.
func codeOf(err error) (string, string) {
	var ce *CommandError
	switch {
	case errors.As(err, &ce):
		return ce.Code, ce.Message
	case errors.Is(err, persistence.ErrNotFound):
		return CodeNotFound, "not found"
	case errors.Is(err, persistence.ErrInvalid):
		return CodeInvalid, err.Error()
	case errors.Is(err, persistence.ErrVersionConflict):
		return CodeConflict, "changed by someone else; retry"
	}
	return CodeInternal, err.Error()
}

// Command runs cmd on its conversation grain and returns what it did.
func (rt *Runtime) Command(ctx context.Context, cmd Command) (CommandResult, error) {
	if cmd.Thread == "" {
		conv, err := rt.store.GetConversation(ctx, cmd.TenantID, cmd.ConversationID)
		if err != nil {
			return CommandResult{}, fmt.Errorf("conversation %s: %w", cmd.ConversationID, err)
		}
		cmd.Thread = conv.ThreadKey
	}
	if tenant, _, _, err := parseThreadKey(cmd.Thread); err != nil || tenant != cmd.TenantID {
		return CommandResult{}, &CommandError{Code: CodeNotFound, Message: "conversation not found"}
	}
	payload, err := json.Marshal(cmd)
	if err != nil {
		return CommandResult{}, err
	}
	var out CommandResult
	err = rt.command(ctx, KindConversation, cmd.Thread, string(cmd.Kind), payload, &out)
	if err == nil && cmd.Kind == CommandTakeover && out.Conversation.CustomerID != "" {
		// Money does not move behind a human's back: what the AI asked the
		// customer to confirm here is cancelled.
		if cerr := rt.CancelConfirmations(ctx, cmd.TenantID, out.Conversation.CustomerID, out.Conversation.ID, "a human took the conversation over"); cerr != nil {
			rt.log.Warn().Err(cerr).Str("conversation_id", out.Conversation.ID).Msg("pending confirmations not cancelled on takeover")
		}
	}
	return out, err
}

// command calls the grain kind/identity with a command and decodes its
// answer into out (nil: only whether it succeeded).
func (rt *Runtime) command(ctx context.Context, kind, identity, cmd string, payload []byte, out any) error {
	res, err := rt.call(ctx, kind, identity, &grainpb.Command{Kind: cmd, Payload: payload})
	if err != nil {
		return fmt.Errorf("%s command %s: %w", kind, cmd, err)
	}
	reply, ok := res.(*grainpb.Reply)
	if !ok {
		return fmt.Errorf("%s command %s: unexpected answer %T", kind, cmd, res)
	}
	if reply.Code != "" {
		return &CommandError{Code: reply.Code, Message: reply.Error}
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(reply.Payload, out); err != nil {
		return fmt.Errorf("%s command %s: decode reply: %w", kind, cmd, err)
	}
	return nil
}

// replyOf encodes a command's outcome (res, or err's code and message) for
// the caller.
func replyOf(res any, err error) *grainpb.Reply {
	if err != nil {
		code, msg := codeOf(err)
		return &grainpb.Reply{Code: code, Error: msg}
	}
	payload, err := json.Marshal(res)
	if err != nil {
		return &grainpb.Reply{Code: CodeInternal, Error: err.Error()}
	}
	return &grainpb.Reply{Payload: payload}
}

// maxReplyBytes and maxNoteBytes bound a human's reply and note.
const (
	maxReplyBytes = 4096
	maxNoteBytes  = 8 << 10
	maxHandback   = 4000
)

// command runs cmd against t in one transaction (the change, its audit
// event, live events, outbound records and the checkpoint).
func (t *thread) command(ctx context.Context, rt *Runtime, cmd Command) (CommandResult, error) {
	if cmd.TenantID != t.st.TenantID {
		return CommandResult{}, &CommandError{Code: CodeNotFound, Message: "conversation not found"}
	}
	// An opened conversation's agent is chosen before the transaction
	// (routing reads profiles and asks the customer grain).
	var agentID string
	if cmd.Kind == CommandOpen && t.opensConversation(rt) {
		switch {
		case t.st.Conv.AgentProfileID != "":
			agentID = t.st.Conv.AgentProfileID
		case cmd.Latest != nil && cmd.Latest.AgentProfileID != "":
			agentID = cmd.Latest.AgentProfileID
		default:
			agentID = rt.chooseAgent(ctx, t.st, t.st.ChannelAccount, t.st.Language)
		}
	}
	if cmd.Kind == CommandFollowUp && t.st.Conv.ID != "" {
		// The template outside the reply window comes from the agent's
		// policy (read before the transaction).
		if a, err := rt.agentFor(ctx, t.st.Conv); err == nil && a.policy.FollowUpTemplate != nil {
			cmd.Template = &events.Template{Name: a.policy.FollowUpTemplate.Name, Language: a.policy.FollowUpTemplate.Language}
		}
	}
	var res CommandResult
	err := t.write(ctx, rt, func(tx Tx, next *thread) error {
		var err error
		res, err = next.runCommand(ctx, tx, rt, cmd, agentID)
		return err
	})
	return res, err
}

func (t *thread) runCommand(ctx context.Context, tx Tx, rt *Runtime, cmd Command, agentID string) (CommandResult, error) {
	switch cmd.Kind {
	case CommandOpen:
		return t.open(ctx, tx, rt, cmd, agentID)
	case CommandRelink:
		return t.relink(ctx, tx, rt)
	}
	conv := t.st.Conv
	if cmd.ConversationID != conv.ID {
		// An older conversation of the thread (notes on a closed one): the
		// grain still writes it, from the row.
		c, err := tx.GetConversation(ctx, t.st.TenantID, cmd.ConversationID)
		if err != nil {
			return CommandResult{}, err
		}
		if c.ThreadKey != t.identity {
			return CommandResult{}, &CommandError{Code: CodeNotFound, Message: "conversation not found"}
		}
		conv = c
	}
	switch cmd.Kind {
	case CommandFollowUp:
		return t.followUp(ctx, tx, rt, conv, cmd)
	case CommandNotice:
		return t.notice(ctx, tx, rt, conv, cmd)
	case CommandNote:
		return t.note(ctx, tx, conv, cmd)
	case CommandReply:
		return t.humanReply(ctx, tx, rt, conv, cmd)
	case CommandTakeover, CommandHandback, CommandClose:
		return t.changeWriter(ctx, tx, rt, conv, cmd)
	}
	return CommandResult{}, invalid(fmt.Sprintf("unknown conversation command %q", cmd.Kind))
}

// relink folds the customer the thread's identity now belongs to, and its
// open conversation as stored (the move bumped its version).
func (t *thread) relink(ctx context.Context, tx Tx, rt *Runtime) (CommandResult, error) {
	ident, err := tx.GetCustomerIdentity(ctx, t.st.TenantID, t.st.Channel, t.st.ExternalUserID)
	if err != nil {
		return CommandResult{}, err
	}
	t.fold(rt, evIdentified{CustomerID: ident.CustomerID})
	if t.st.Conv.ID != "" {
		conv, err := tx.GetConversation(ctx, t.st.TenantID, t.st.Conv.ID)
		if err != nil {
			return CommandResult{}, err
		}
		t.fold(rt, evConversationWritten{Conv: conv})
	}
	return CommandResult{Conversation: t.st.Conv}, nil
}

// Relink tells the grain of conversationID that its customer changed (a
// merge moved it).
func (rt *Runtime) Relink(ctx context.Context, tenantID, conversationID string) error {
	_, err := rt.Command(ctx, Command{Kind: CommandRelink, TenantID: tenantID, ConversationID: conversationID})
	return err
}

// changeWriter runs takeover, steal, hand-back and close.
func (t *thread) changeWriter(ctx context.Context, tx Tx, rt *Runtime, conv persistence.Conversation, cmd Command) (CommandResult, error) {
	before := conv.Writer()
	var action string
	data := map[string]any{}
	switch cmd.Kind {
	case CommandTakeover:
		action = ActionTakeover
		switch conv.AssignedUserID {
		case "", cmd.By.UserID:
		default:
			if !cmd.Steal {
				return CommandResult{}, writerConflict(conv)
			}
			action = ActionSteal
		}
		if conv.Status == persistence.ConversationClosed {
			return CommandResult{}, invalid("conversation is closed")
		}
		conv.AssignedUserID = cmd.By.UserID
		conv.Status = persistence.ConversationOpen
		data["by_name"] = cmd.By.Name
	case CommandHandback:
		if conv.AssignedUserID != cmd.By.UserID && cmd.By.Role != persistence.RoleSupervisor && cmd.By.Role != persistence.RoleAdmin {
			return CommandResult{}, writerConflict(conv)
		}
		if len(cmd.Note) > maxHandback {
			return CommandResult{}, invalid(fmt.Sprintf("note: at most %d bytes", maxHandback))
		}
		action = ActionHandback
		conv.AssignedUserID = ""
		conv.Status = persistence.ConversationOpen
		meta := map[string]any{}
		_ = json.Unmarshal(conv.Metadata, &meta)
		if note := strings.TrimSpace(cmd.Note); note != "" {
			// The AI reads it in its context on its next turn.
			meta["handback_note"] = note
		} else {
			delete(meta, "handback_note")
		}
		raw, err := json.Marshal(meta)
		if err != nil {
			return CommandResult{}, err
		}
		conv.Metadata = raw
		data["note"] = cmd.Note
	case CommandClose:
		if conv.Status == persistence.ConversationClosed {
			return CommandResult{Conversation: conv}, nil
		}
		if err := t.closeConversation(ctx, tx, rt, conv, &cmd.By); err != nil {
			return CommandResult{}, err
		}
		if err := audit(ctx, tx, cmd, ActionClose, conv.ID, map[string]any{"from": before}); err != nil {
			return CommandResult{}, err
		}
		conv.Status = persistence.ConversationClosed
		if conv.ID == t.st.Conv.ID {
			conv = t.st.Conv
		}
		return CommandResult{Conversation: conv}, nil
	}
	if err := tx.UpdateConversation(ctx, &conv); err != nil {
		return CommandResult{}, fmt.Errorf("conversation %s: %w", conv.ID, err)
	}
	if conv.ID == t.st.Conv.ID {
		t.fold(rt, evConversationWritten{Conv: conv})
	}
	data["from"], data["to"] = before, conv.Writer()
	if err := audit(ctx, tx, cmd, action, conv.ID, data); err != nil {
		return CommandResult{}, err
	}
	view := liveview.NewConversation(conv)
	view.Change, view.By, view.PreviousWriter = action, cmd.By.UserID, before
	t.publish(persistence.LiveConversationUpdated, conv.ID, view)
	return CommandResult{Conversation: conv}, nil
}

// humanReply queues the writer's message for the channel, through the same
// procedure as the AI's replies.
func (t *thread) humanReply(ctx context.Context, tx Tx, rt *Runtime, conv persistence.Conversation, cmd Command) (CommandResult, error) {
	text := strings.TrimSpace(cmd.Text)
	if text == "" || len(text) > maxReplyBytes {
		return CommandResult{}, invalid(fmt.Sprintf("text: 1 to %d bytes", maxReplyBytes))
	}
	if conv.AssignedUserID != cmd.By.UserID {
		return CommandResult{}, writerConflict(conv)
	}
	msg := &persistence.Message{Base: persistence.Base{TenantID: t.st.TenantID}, ConversationID: conv.ID, Direction: persistence.DirectionOutbound,
		Channel: conv.Channel, Sender: persistence.SenderUser(cmd.By.UserID), Kind: "text", Text: text, DeliveryStatus: persistence.DeliveryPending}
	if err := t.enqueueOutbound(ctx, tx, rt, &conv, msg); err != nil {
		return CommandResult{}, err
	}
	if err := audit(ctx, tx, cmd, ActionAgentReply, conv.ID, map[string]any{"message_id": msg.ID}); err != nil {
		return CommandResult{}, err
	}
	t.publish(persistence.LiveMessageCreated, conv.ID, liveview.NewMessage(*msg))
	return CommandResult{Conversation: conv, Message: msg}, nil
}

// note adds a private note: its own table, which no send or prompt path
// reads.
func (t *thread) note(ctx context.Context, tx Tx, conv persistence.Conversation, cmd Command) (CommandResult, error) {
	text := strings.TrimSpace(cmd.Text)
	if text == "" || len(text) > maxNoteBytes {
		return CommandResult{}, invalid(fmt.Sprintf("text: 1 to %d bytes", maxNoteBytes))
	}
	n := &persistence.Note{Base: persistence.Base{TenantID: t.st.TenantID}, ConversationID: conv.ID, AuthorID: cmd.By.UserID, Text: text}
	if err := tx.CreateNote(ctx, n); err != nil {
		return CommandResult{}, err
	}
	if err := audit(ctx, tx, cmd, ActionNote, conv.ID, map[string]any{"note_id": n.ID}); err != nil {
		return CommandResult{}, err
	}
	t.publish(persistence.LiveNoteCreated, conv.ID, NewNoteView(*n))
	return CommandResult{Conversation: conv, Note: n}, nil
}

// NoteView is a private note as the API and the live stream show it.
type NoteView struct {
	ID             string    `json:"id"`
	ConversationID string    `json:"conversation_id"`
	AuthorID       string    `json:"author_id"`
	Text           string    `json:"text"`
	CreatedAt      time.Time `json:"created_at"`
}

// NewNoteView returns the view of n.
func NewNoteView(n persistence.Note) NoteView {
	return NoteView{ID: n.ID, ConversationID: n.ConversationID, AuthorID: n.AuthorID, Text: n.Text, CreatedAt: n.CreatedAt}
}

// open returns the thread's conversation that is not closed, or opens a
// new one written by the caller.
func (t *thread) open(ctx context.Context, tx Tx, rt *Runtime, cmd Command, agentID string) (CommandResult, error) {
	if t.st.Conv.ID == "" {
		// No hot state yet: the thread's conversation is in the store only.
		if c, err := tx.GetOpenConversation(ctx, t.st.TenantID, t.identity); err == nil {
			t.fold(rt, evConversationWritten{Conv: c})
		} else if !errors.Is(err, persistence.ErrNotFound) {
			return CommandResult{}, err
		}
	}
	if c := t.st.Conv; c.ID != "" && c.Status != persistence.ConversationClosed {
		return CommandResult{Conversation: c}, nil
	}
	prev := t.st.Conv
	if prev.ID == "" && cmd.Latest != nil && cmd.Latest.ThreadKey == t.identity && cmd.Latest.TenantID == t.st.TenantID {
		prev = *cmd.Latest
	}
	customerID, account := t.st.CustomerID, t.st.ChannelAccount
	if customerID == "" {
		customerID = prev.CustomerID
	}
	if account == "" {
		account = prev.ChannelAccount
	}
	if customerID == "" {
		return CommandResult{}, &CommandError{Code: CodeNotFound, Message: "no customer has written in this thread"}
	}
	t.fold(rt, evIdentified{CustomerID: customerID, ChannelAccount: account})
	conv := persistence.Conversation{Base: persistence.Base{TenantID: t.st.TenantID}, CustomerID: customerID,
		Channel: t.st.Channel, ChannelAccount: account, ThreadKey: t.identity,
		Status: persistence.ConversationOpen, AssignedUserID: cmd.By.UserID, AgentProfileID: agentID}
	if err := tx.CreateConversation(ctx, &conv); err != nil {
		return CommandResult{}, fmt.Errorf("open conversation: %w", err)
	}
	t.fold(rt, evConversationStarted{Conv: conv})
	data := map[string]any{"customer_id": conv.CustomerID, "channel": conv.Channel, "after_conversation_id": cmd.AfterConversationID, "by_name": cmd.By.Name, "to": conv.Writer()}
	if err := audit(ctx, tx, cmd, ActionOpen, conv.ID, data); err != nil {
		return CommandResult{}, err
	}
	view := liveview.NewConversation(conv)
	view.Change, view.By = ActionOpen, cmd.By.UserID
	t.publish(persistence.LiveConversationUpdated, conv.ID, view)
	return CommandResult{Conversation: conv, Created: true}, nil
}

// enqueueOutbound is the one procedure that queues an outbound message, for
// the AI's replies and humans' alike: the message (pending), the
// conversation's last message time, the message.send record for the
// channel's sender, and the grain's hot context.
func (t *thread) enqueueOutbound(ctx context.Context, tx Tx, rt *Runtime, conv *persistence.Conversation, msg *persistence.Message, extra ...func(*events.MessageSend)) error {
	if err := tx.CreateMessage(ctx, msg); err != nil {
		return err
	}
	at := msg.CreatedAt
	conv.LastMessageAt = &at
	if err := tx.UpdateConversation(ctx, conv); err != nil {
		return err
	}
	if conv.ID == t.st.Conv.ID {
		t.fold(rt, evConversationWritten{Conv: *conv})
		t.fold(rt, evOutbound{Msg: recentOf(*msg)})
	}
	send := events.MessageSend{MessageID: msg.ID, ConversationID: conv.ID, Channel: conv.Channel, ChannelAccount: conv.ChannelAccount,
		To: t.st.ExternalUserID, Text: msg.Text}
	for _, f := range extra {
		f(&send)
	}
	return t.appendLog(persistence.TopicOutbound, events.TypeMessageSend, rt.clock.Now(), send)
}

// audit writes the audit event of a human's command.
func audit(ctx context.Context, tx Tx, cmd Command, action, conversationID string, data any) error {
	raw, err := json.Marshal(data)
	if err != nil {
		return err
	}
	return tx.CreateAuditEvent(ctx, &persistence.AuditEvent{Base: persistence.Base{TenantID: cmd.TenantID},
		ActorKind: persistence.ActorUser, ActorID: cmd.By.UserID, Action: action, TargetKind: "conversation", TargetID: conversationID, Data: raw})
}
