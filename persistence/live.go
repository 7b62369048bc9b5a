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
	// LiveConfirmationUpdated: a confirmation (a refund waiting for the
	// customer's yes) changed state.
	LiveConfirmationUpdated = "confirmation.updated"
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
