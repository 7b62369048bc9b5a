// Package liveview owns the data of the live events the dashboard's clients
// receive: the JSON views of a message (message.created, message.status) and
// of a conversation (conversation.updated), built from the records. Every
// producer of live events (the conversation grain, the channel senders, the
// gateway) builds them here, so the dashboard sees one shape whoever wrote.
// The event record itself and its type names are persistence.LiveEvent and
// persistence.Live*.
package liveview

import (
	"encoding/json"
	"time"

	"github.com/frontdesk-ai/frontdesk/persistence"
)

// Message is the data of message.created and message.status events.
type Message struct {
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
	// Citations are the knowledge passages an AI reply cited.
	Citations []Citation `json:"citations,omitempty"`
}

// Citation is a knowledge base passage an AI reply used, kept on the
// message (its metadata's "citations") as it was when the reply was
// written.
type Citation struct {
	// N numbers the reply's citations from 1.
	N          int    `json:"n"`
	DocumentID string `json:"document_id"`
	ChunkID    string `json:"chunk_id"`
	Title      string `json:"title"`
	Heading    string `json:"heading,omitempty"`
	Snippet    string `json:"snippet"`
	SourceURL  string `json:"source_url,omitempty"`
}

// CitationsOf returns the citations kept in a message's metadata (none
// when it has none or they do not parse).
func CitationsOf(metadata json.RawMessage) []Citation {
	var meta struct {
		Citations []Citation `json:"citations"`
	}
	if len(metadata) == 0 || json.Unmarshal(metadata, &meta) != nil {
		return nil
	}
	return meta.Citations
}

// NewMessage returns the live view of m.
func NewMessage(m persistence.Message) Message {
	return Message{ID: m.ID, ConversationID: m.ConversationID, Direction: string(m.Direction), Kind: m.Kind, Text: m.Text,
		Status: string(m.DeliveryStatus), Sender: m.Sender, ChannelMessageID: m.ChannelMessageID, MediaRef: m.MediaRef,
		Error: m.Error, CreatedAt: m.CreatedAt, Citations: CitationsOf(m.Metadata)}
}

// Conversation is the data of a conversation.updated event. Change, By and
// PreviousWriter say what a human did (takeover, steal, hand-back, open)
// and to whom, when one did.
type Conversation struct {
	ID             string                         `json:"id"`
	Status         persistence.ConversationStatus `json:"status"`
	Channel        string                         `json:"channel"`
	CustomerID     string                         `json:"customer_id"`
	AssignedUserID string                         `json:"assigned_user_id"`
	Writer         string                         `json:"writer"`
	LastMessageAt  *time.Time                     `json:"last_message_at"`
	Change         string                         `json:"change,omitempty"`
	By             string                         `json:"by,omitempty"`
	// PreviousWriter is the writer before a human's change ("ai" or
	// "user:<id>"), so the agent a conversation was taken from sees it.
	PreviousWriter string `json:"previous_writer,omitempty"`
}

// NewConversation returns the live view of c.
func NewConversation(c persistence.Conversation) Conversation {
	return Conversation{ID: c.ID, Status: c.Status, Channel: c.Channel, CustomerID: c.CustomerID,
		AssignedUserID: c.AssignedUserID, Writer: c.Writer(), LastMessageAt: c.LastMessageAt}
}

// Confirmation is the data of a confirmation.updated event, and of a
// confirmation in the API.
type Confirmation struct {
	ID               string          `json:"id"`
	CustomerID       string          `json:"customer_id"`
	ConversationID   string          `json:"conversation_id"`
	Action           string          `json:"action"`
	Subject          string          `json:"subject"`
	AmountMinor      int64           `json:"amount_minor"`
	Currency         string          `json:"currency"`
	State            string          `json:"state"`
	ExpiresAt        time.Time       `json:"expires_at"`
	CreatedAt        time.Time       `json:"created_at"`
	ResolvedAt       *time.Time      `json:"resolved_at"`
	ApprovalReason   string          `json:"approval_reason"`
	Result           json.RawMessage `json:"result"`
	LastError        string          `json:"last_error"`
	FailedExecutions int             `json:"failed_executions"`
}

// ConfirmationSubject names what c is about, as the customer and the
// dashboard read it: "#1001" for an order, a payment's description; "" when
// its arguments name neither.
func ConfirmationSubject(c persistence.Confirmation) string {
	var args struct {
		OrderNumber string `json:"order_number"`
		Description string `json:"description"`
	}
	_ = json.Unmarshal(c.Arguments, &args)
	if args.OrderNumber != "" {
		return "#" + args.OrderNumber
	}
	return args.Description
}

// NewConfirmation returns the live view of c.
func NewConfirmation(c persistence.Confirmation) Confirmation {
	var meta struct {
		ApprovalReason   string          `json:"approval_reason"`
		Result           json.RawMessage `json:"result"`
		LastError        string          `json:"last_error"`
		FailedExecutions float64         `json:"failed_executions"`
	}
	_ = json.Unmarshal(c.Metadata, &meta)
	result := meta.Result
	if len(result) == 0 {
		result = json.RawMessage("null")
	}
	return Confirmation{ID: c.ID, CustomerID: c.CustomerID, ConversationID: c.ConversationID, Action: c.Action, Subject: ConfirmationSubject(c),
		AmountMinor: c.AmountMinor, Currency: c.Currency, State: string(c.State), ExpiresAt: c.ExpiresAt, CreatedAt: c.CreatedAt,
		ResolvedAt: c.ResolvedAt, ApprovalReason: meta.ApprovalReason, Result: result, LastError: meta.LastError,
		FailedExecutions: int(meta.FailedExecutions)}
}
