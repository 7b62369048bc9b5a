package events

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/frontdesk-ai/frontdesk/persistence"
)

// Event types and their current versions.
const (
	// TypeMessageReceived is a customer's message on a channel (inbound topic).
	TypeMessageReceived = "message.received"
	// TypeMessageStatus is a channel's delivery report for an outbound message (inbound topic).
	TypeMessageStatus = "message.status"
	// TypeMessageSend asks a channel sender to deliver an outbound message (outbound topic).
	TypeMessageSend = "message.send"
	// TypeMarkRead asks a channel sender to mark an inbound message as read (outbound topic).
	TypeMarkRead = "message.mark_read"
	// TypeShopEvent is a delivery from a shop (Shopify, Magento), as
	// received (commerce topic).
	TypeShopEvent = "commerce.shop_event"
	// TypePaymentEvent is a payment provider's webhook event, as received
	// (payments topic).
	TypePaymentEvent = "payments.provider_event"
	// TypeConfirmationStep is one step of a confirmation (proposed,
	// confirmed, approved, executed, …): a decision about money, on the
	// decisions topic.
	TypeConfirmationStep = "confirmation.step"
	// TypeKnowledgeDocument is a change to a knowledge document (uploaded,
	// new version, processed, failed, deleted): knowledge topic, keyed by
	// the document.
	TypeKnowledgeDocument = "knowledge.document"
	// TypeKnowledgeRetrieval is what a turn retrieved from the knowledge
	// base and which passages its reply cited: a decision, on the decisions
	// topic.
	TypeKnowledgeRetrieval = "knowledge.retrieval"
)

// KnowledgeKey is the record key of a knowledge document's events.
func KnowledgeKey(tenantID, documentID string) string {
	return tenantID + "/" + documentID
}

// ShopKey is the record key of a shop's events: one shop's events land on
// one partition, in order.
func ShopKey(tenantID, source, shop string) string {
	return tenantID + "/" + source + "/" + shop
}

// ThreadKey is the record key and conversation grain identity of one
// customer's thread on one channel account: every event of that thread lands
// on one partition, in order, and reaches one grain.
func ThreadKey(tenantID, channel, externalUserID string) string {
	return tenantID + "/" + channel + "/" + externalUserID
}

// Media references an attachment held by the channel or the blob store.
type Media struct {
	ID       string `json:"id,omitempty"`
	MimeType string `json:"mime_type,omitempty"`
	SHA256   string `json:"sha256,omitempty"`
	Caption  string `json:"caption,omitempty"`
	Filename string `json:"filename,omitempty"`
	URL      string `json:"url,omitempty"`
	Voice    bool   `json:"voice,omitempty"`
}

// MessageReceived is the payload of TypeMessageReceived, version 1.
type MessageReceived struct {
	Channel        string `json:"channel"`
	ChannelAccount string `json:"channel_account,omitempty"`
	ExternalUserID string `json:"external_user_id"`
	ProfileName    string `json:"profile_name,omitempty"`
	// Phone is the customer's phone number in E.164 (+4915…) when the
	// channel knows it (WhatsApp, SMS); empty otherwise.
	Phone            string `json:"phone,omitempty"`
	ChannelMessageID string `json:"channel_message_id"`
	Kind             string `json:"kind"`
	Text             string `json:"text,omitempty"`
	Media            *Media `json:"media,omitempty"`
	ReplyTo          string `json:"reply_to,omitempty"`
	// ButtonID is the id of the reply button the customer tapped (the
	// runtime's confirmation questions), on channels that have buttons.
	ButtonID string          `json:"button_id,omitempty"`
	SentAt   time.Time       `json:"sent_at"`
	Details  json.RawMessage `json:"details,omitempty"`
}

// MessageStatus is the payload of TypeMessageStatus, version 1.
type MessageStatus struct {
	Channel          string `json:"channel"`
	ChannelAccount   string `json:"channel_account,omitempty"`
	ChannelMessageID string `json:"channel_message_id"`
	ExternalUserID   string `json:"external_user_id,omitempty"`
	Status           string `json:"status"`
	// ClientKey is the key the sender attached to the outbound message
	// (WhatsApp's biz_opaque_callback_data: our message id), echoed by the
	// channel; it names the message even when its provider id was never
	// recorded (a crash between the provider's answer and recording it).
	ClientKey  string          `json:"client_key,omitempty"`
	ErrorCode  int             `json:"error_code,omitempty"`
	ErrorTitle string          `json:"error_title,omitempty"`
	At         time.Time       `json:"at"`
	Details    json.RawMessage `json:"details,omitempty"`
}

// MessageSend is the payload of TypeMessageSend, version 1.
type MessageSend struct {
	MessageID      string `json:"message_id"`
	ConversationID string `json:"conversation_id"`
	Channel        string `json:"channel"`
	ChannelAccount string `json:"channel_account,omitempty"`
	To             string `json:"to"`
	Text           string `json:"text"`
	// Buttons are reply buttons under Text, on channels that have them
	// (the runtime's confirmation questions).
	Buttons []Button `json:"buttons,omitempty"`
	// Template, when set, sends an approved template instead of Text (the
	// only message allowed outside the channel's reply window).
	Template *Template `json:"template,omitempty"`
}

// Template is an approved message template with its body's parameters.
type Template struct {
	Name     string   `json:"name"`
	Language string   `json:"language"`
	Params   []string `json:"params,omitempty"`
}

// Button is a reply button: ID comes back in the customer's reply, Title
// is shown.
type Button struct {
	ID    string `json:"id"`
	Title string `json:"title"`
}

// MarkRead is the payload of TypeMarkRead, version 1.
type MarkRead struct {
	Channel          string `json:"channel"`
	ChannelAccount   string `json:"channel_account"`
	ChannelMessageID string `json:"channel_message_id"`
}

// ShopEvent is the payload of TypeShopEvent, version 1: the delivery's
// metadata and the shop's body exactly as received, so that a better parser
// can replay it.
type ShopEvent struct {
	Source      string          `json:"source"`
	Shop        string          `json:"shop"`
	Topic       string          `json:"topic"`
	EventID     string          `json:"event_id,omitempty"`
	WebhookID   string          `json:"webhook_id,omitempty"`
	APIVersion  string          `json:"api_version,omitempty"`
	TriggeredAt time.Time       `json:"triggered_at,omitzero"`
	Body        json.RawMessage `json:"body"`
}

// PaymentEvent is the payload of TypePaymentEvent, version 1: the
// provider's event as received.
type PaymentEvent struct {
	Provider string          `json:"provider"`
	EventID  string          `json:"event_id"`
	Type     string          `json:"type"`
	Body     json.RawMessage `json:"body"`
}

// ConfirmationStep is the payload of TypeConfirmationStep, version 1.
type ConfirmationStep struct {
	ConfirmationID string          `json:"confirmation_id"`
	CustomerID     string          `json:"customer_id"`
	ConversationID string          `json:"conversation_id"`
	Action         string          `json:"action"`
	Step           string          `json:"step"`
	State          string          `json:"state"`
	AmountMinor    int64           `json:"amount_minor"`
	Currency       string          `json:"currency,omitempty"`
	ActorKind      string          `json:"actor_kind"`
	ActorID        string          `json:"actor_id,omitempty"`
	Data           json.RawMessage `json:"data,omitempty"`
}

// Knowledge document changes (KnowledgeDocument.Change).
const (
	KnowledgeUploaded  = "uploaded"  // a revision's file is stored: process it
	KnowledgeProcessed = "processed" // a revision's chunks are stored: index them
	KnowledgeFailed    = "failed"    // a revision could not be processed
	KnowledgeDeleted   = "deleted"   // the document and its chunks are gone
)

// KnowledgeDocument is the payload of TypeKnowledgeDocument, version 1.
type KnowledgeDocument struct {
	DocumentID string `json:"document_id"`
	Revision   int    `json:"revision"`
	Change     string `json:"change"`
	Error      string `json:"error,omitempty"`
}

// KnowledgePassage is one passage a turn put before the model.
type KnowledgePassage struct {
	N          int     `json:"n"`
	DocumentID string  `json:"document_id"`
	ChunkID    string  `json:"chunk_id"`
	Relevance  float64 `json:"relevance"`
}

// KnowledgeRetrieval is the payload of TypeKnowledgeRetrieval, version 1.
type KnowledgeRetrieval struct {
	ConversationID string             `json:"conversation_id"`
	TurnID         string             `json:"turn_id"`
	Question       string             `json:"question"`
	BestRelevance  float64            `json:"best_relevance"`
	Relevant       bool               `json:"relevant"`
	Passages       []KnowledgePassage `json:"passages,omitempty"`
	// Cited are the passage numbers the reply cited.
	Cited []int `json:"cited,omitempty"`
}

type typeVersion struct {
	typ     string
	version int
}

var decoders = map[typeVersion]func() any{
	{TypeMessageReceived, 1}:    func() any { return new(MessageReceived) },
	{TypeMessageStatus, 1}:      func() any { return new(MessageStatus) },
	{TypeMessageSend, 1}:        func() any { return new(MessageSend) },
	{TypeMarkRead, 1}:           func() any { return new(MarkRead) },
	{TypeShopEvent, 1}:          func() any { return new(ShopEvent) },
	{TypePaymentEvent, 1}:       func() any { return new(PaymentEvent) },
	{TypeConfirmationStep, 1}:   func() any { return new(ConfirmationStep) },
	{TypeKnowledgeDocument, 1}:  func() any { return new(KnowledgeDocument) },
	{TypeKnowledgeRetrieval, 1}: func() any { return new(KnowledgeRetrieval) },
}

// Version returns the current version of typ, the one producers write.
func Version(typ string) int {
	switch typ {
	case TypeMessageReceived, TypeMessageStatus, TypeMessageSend, TypeMarkRead, TypeShopEvent, TypePaymentEvent, TypeConfirmationStep,
		TypeKnowledgeDocument, TypeKnowledgeRetrieval:
		return 1
	}
	return 0
}

// Decode returns the typed payload of e (a pointer to one of the payload
// types above). An unknown type or version yields
// persistence.ErrUnknownEventVersion.
func Decode(e Envelope) (any, error) {
	mk, ok := decoders[typeVersion{e.Type, e.Version}]
	if !ok {
		return nil, fmt.Errorf("event %s: type %q version %d: %w", e.ID, e.Type, e.Version, persistence.ErrUnknownEventVersion)
	}
	p := mk()
	if err := json.Unmarshal(e.Payload, p); err != nil {
		return nil, fmt.Errorf("event %s: decode %s v%d payload: %w", e.ID, e.Type, e.Version, err)
	}
	return p, nil
}
