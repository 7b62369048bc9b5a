package actors

import (
	"fmt"
	"strings"
	"time"

	"github.com/frontdesk-ai/frontdesk/persistence"
)

// threadState is a conversation grain's hot state: everything a turn needs
// about its thread (the open conversation with its writer, status, agent and
// hand-back note; the recent messages; the turn bookkeeping). It is the fold
// of the grain's state events (apply), kept in memory while the grain is
// active and persisted as its checkpoint on every change; the conversation
// row is written with it and read back only on activation.
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
	PendingThrough int64 `json:"pending_through,omitempty"`
	// FollowUp is the note of a follow-up the AI scheduled that is due: it
	// makes a turn that writes to the customer about it.
	FollowUp        string `json:"follow_up,omitempty"`
	AnsweredThrough int64  `json:"answered_through,omitempty"`
	// AnsweredInboundID is the latest inbound message the last committed
	// turn saw; later inbound messages are what the next turn answers.
	AnsweredInboundID string `json:"answered_inbound_id,omitempty"`
	// Language is the language detected in the customer's latest messages.
	Language string `json:"language,omitempty"`

	// Conv is the thread's current conversation as the grain last wrote it
	// (ID empty: none yet). It is the conversation row, so it is not kept in
	// the checkpoint: activation reads the row named by ConversationID.
	Conv persistence.Conversation `json:"-"`
}

// recentMessage is one entry of the hot context the model will see.
type recentMessage struct {
	ID        string    `json:"id"`
	Direction string    `json:"direction"`
	Kind      string    `json:"kind"`
	Text      string    `json:"text"`
	At        time.Time `json:"at"`
}

func recentOf(m persistence.Message) recentMessage {
	return recentMessage{ID: m.ID, Direction: string(m.Direction), Kind: m.Kind, Text: m.Text, At: m.CreatedAt}
}

// State events: every change of a conversation grain's state is one of
// these, folded by apply. Grain writes build the event, write its effect in
// a transaction, and fold it into the state they commit.
type (
	// evIdentified: the thread's customer is known (and their latest
	// profile name and channel account).
	evIdentified struct{ CustomerID, ProfileName, ChannelAccount string }
	// evConversationStarted: a new conversation opened in the thread; it
	// starts its own context and turn bookkeeping.
	evConversationStarted struct{ Conv persistence.Conversation }
	// evConversationWritten: the conversation row changed (writer, status,
	// note, last message time).
	evConversationWritten struct{ Conv persistence.Conversation }
	// evInbound: a customer message was stored; triggers says it needs an
	// answer.
	evInbound struct {
		Msg      recentMessage
		Triggers bool
		Language string
	}
	// evOutbound: a reply (AI or human) was queued for the channel.
	evOutbound struct{ Msg recentMessage }
	// evAnswered: a turn that saw the messages through Through (inbound
	// sequence), the latest being LastInboundID, and Seen of the unanswered
	// ones, was committed.
	evAnswered struct {
		Through       int64
		LastInboundID string
		Seen          int
		// FollowUp: the turn wrote the due follow-up.
		FollowUp bool
	}
	// evFollowUpDue: a scheduled follow-up fell due (the AI writes it).
	evFollowUpDue struct{ Note string }
)

// apply returns s with e folded in; it keeps at most keep recent messages.
// It is pure: s is not changed.
func (s threadState) apply(e any, keep int) threadState {
	s = s.clone()
	switch e := e.(type) {
	case evIdentified:
		if e.CustomerID != "" {
			s.CustomerID = e.CustomerID
		}
		if e.ProfileName != "" {
			s.ProfileName = e.ProfileName
		}
		if e.ChannelAccount != "" {
			s.ChannelAccount = e.ChannelAccount
		}
	case evConversationStarted:
		s.Conv, s.ConversationID = e.Conv, e.Conv.ID
		s.Recent = nil
		s.AnsweredThrough = s.MessagesApplied
		s.PendingThrough = s.MessagesApplied
		s.Unanswered = nil
	case evConversationWritten:
		s.Conv, s.ConversationID = e.Conv, e.Conv.ID
	case evInbound:
		s.MessagesApplied++
		s.LastInboundID = e.Msg.ID
		if e.Triggers {
			s.PendingThrough = s.MessagesApplied
			s.Unanswered = append(s.Unanswered, e.Msg.ID)
		}
		if e.Language != "" {
			s.Language = e.Language
		}
		s.remember(e.Msg, keep)
	case evOutbound:
		s.remember(e.Msg, keep)
	case evAnswered:
		s.AnsweredThrough = e.Through
		s.AnsweredInboundID = e.LastInboundID
		s.Unanswered = s.Unanswered[min(e.Seen, len(s.Unanswered)):]
		if e.FollowUp {
			s.FollowUp = ""
		}
	case evFollowUpDue:
		s.FollowUp = e.Note
	default:
		panic(fmt.Sprintf("actors: unknown state event %T", e))
	}
	return s
}

func (s *threadState) remember(m recentMessage, keep int) {
	s.Recent = append(s.Recent, m)
	if len(s.Recent) > keep {
		s.Recent = append([]recentMessage(nil), s.Recent[len(s.Recent)-keep:]...)
	}
}

// turnDue reports whether inbound messages wait for an answer.
func (s threadState) turnDue() bool { return s.PendingThrough > s.AnsweredThrough || s.FollowUp != "" }

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

// aiMayWrite returns why the AI must not answer in conv, or "" when it may.
func aiMayWrite(conv persistence.Conversation) string {
	switch {
	case conv.ID == "":
		return "no conversation"
	case conv.AssignedUserID != "":
		return "a human agent is writing"
	case conv.Status == persistence.ConversationWaitingHuman:
		return "waiting for a human"
	case conv.Status == persistence.ConversationClosed:
		return "conversation closed"
	}
	return ""
}
