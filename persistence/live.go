package persistence

import (
	"encoding/json"
	"time"
)

// Types of LiveEvent, as the dashboard's clients see them.
const (
	// LiveMessageCreated reports a message added to a conversation.
	LiveMessageCreated = "message.created"
	// LiveMessageStatus reports a message's delivery status change (sent,
	// delivered, read, failed).
	LiveMessageStatus = "message.status"
	// LiveToolCalled reports a tool call made in a conversation.
	LiveToolCalled = "tool.called"
	// LiveConversationUpdated reports a change of a conversation's status,
	// writer (AI or a human agent) or other attributes.
	LiveConversationUpdated = "conversation.updated"
	// LiveNoteCreated reports a private note left on a conversation.
	LiveNoteCreated = "note.created"
)

// LiveEvent is one entry of a tenant's live event stream, the feed behind the
// dashboard's WebSocket. Producers append it in the same transaction as the
// change it describes. ID is assigned by the store: dense and increasing per
// tenant, and events become visible in ID order, so a reader that resumes
// after the last ID it saw misses nothing.
type LiveEvent struct {
	ID             int64
	TenantID       string
	Type           string
	ConversationID string
	// Data is the event's JSON payload; nil is stored as JSON null.
	Data      json.RawMessage
	CreatedAt time.Time
}

// LiveMessage is the data of message.created and message.status events.
type LiveMessage struct {
	ID               string    `json:"id"`
	ConversationID   string    `json:"conversation_id"`
	Direction        string    `json:"direction"`
	Kind             string    `json:"kind"`
	Text             string    `json:"text"`
	Status           string    `json:"status"`
	Sender           string    `json:"sender"`
	ChannelMessageID string    `json:"channel_message_id,omitempty"`
	MediaRef         string    `json:"media_ref,omitempty"`
	Error            string    `json:"error,omitempty"`
	CreatedAt        time.Time `json:"created_at"`
}

// NewLiveMessage returns the live view of m.
func NewLiveMessage(m Message) LiveMessage {
	return LiveMessage{ID: m.ID, ConversationID: m.ConversationID, Direction: string(m.Direction), Kind: m.Kind, Text: m.Text,
		Status: string(m.DeliveryStatus), Sender: m.Sender, ChannelMessageID: m.ChannelMessageID, MediaRef: m.MediaRef,
		Error: m.Error, CreatedAt: m.CreatedAt}
}

// LiveConversation is the data of a conversation.updated event. Change, By
// and PreviousWriter say what a human did (takeover, steal, hand-back, open)
// and to whom, when one did.
type LiveConversation struct {
	ID             string             `json:"id"`
	Status         ConversationStatus `json:"status"`
	Channel        string             `json:"channel"`
	CustomerID     string             `json:"customer_id"`
	AssignedUserID string             `json:"assigned_user_id"`
	Writer         string             `json:"writer"`
	LastMessageAt  *time.Time         `json:"last_message_at"`
	Change         string             `json:"change,omitempty"`
	By             string             `json:"by,omitempty"`
	// PreviousWriter is the writer before a human's change ("ai" or
	// "user:<id>"), so the agent a conversation was taken from sees it.
	PreviousWriter string `json:"previous_writer,omitempty"`
}

// Writer names who writes in c: "ai", or "user:<id>" for a human agent.
func (c Conversation) Writer() string {
	if c.AssignedUserID == "" {
		return SenderAI
	}
	return SenderUser(c.AssignedUserID)
}

// NewLiveConversation returns the live view of c.
func NewLiveConversation(c Conversation) LiveConversation {
	return LiveConversation{ID: c.ID, Status: c.Status, Channel: c.Channel, CustomerID: c.CustomerID,
		AssignedUserID: c.AssignedUserID, Writer: c.Writer(), LastMessageAt: c.LastMessageAt}
}
