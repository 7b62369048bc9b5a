package persistence

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"
)

// Base holds the fields every record shares; each record type embeds it.
type Base struct {
	// ID is a UUID (v4) that the store generates on create when empty.
	ID string
	// TenantID scopes the record; every tenant-scoped read takes it.
	TenantID string
	// CreatedAt is UTC, truncated to microseconds by the store. Create keeps
	// a non-zero CreatedAt (imports, replays) and fills it otherwise.
	CreatedAt time.Time
	// UpdatedAt is set by the store on every write.
	UpdatedAt time.Time
	// Metadata is free-form JSON; nil or empty is stored as {}. JSON fields
	// round-trip as equal JSON values, not byte for byte (PostgreSQL keeps
	// JSONB).
	Metadata json.RawMessage
	// Version starts at 1 on create. An update carries the version it read,
	// fails with ErrVersionConflict when the stored one moved on, and bumps
	// it on success.
	Version int64
}

// BaseFields returns b. Through embedding it gives generic code (stores,
// tests) the shared fields of any record.
func (b *Base) BaseFields() *Base { return b }

// ErrInvalid means a record or argument breaks a rule of the data model: an
// unknown enum value, a missing required field, JSON that does not parse, or
// a page cursor that this store did not issue.
var ErrInvalid = errors.New("invalid")

// Page limits.
const (
	// DefaultPageLimit is the page size when Page.Limit is zero or negative.
	DefaultPageLimit = 50
	// MaxPageLimit is the largest page a list returns.
	MaxPageLimit = 500
)

// Page selects one page of a keyset-paginated list, oldest first.
type Page struct {
	// Limit is the page size: DefaultPageLimit when <= 0, at most MaxPageLimit.
	Limit int
	// Cursor is the opaque next cursor returned by the previous page; empty
	// starts at the beginning.
	Cursor string
}

// Size returns the effective page size of p.
func (p Page) Size() int {
	switch {
	case p.Limit <= 0:
		return DefaultPageLimit
	case p.Limit > MaxPageLimit:
		return MaxPageLimit
	}
	return p.Limit
}

// Role is what a dashboard user may do.
type Role string

// Roles of dashboard users.
const (
	RoleAdmin      Role = "admin"
	RoleSupervisor Role = "supervisor"
	RoleAgent      Role = "agent"
	RoleAnalyst    Role = "analyst"
)

// Valid reports whether r is a known role.
func (r Role) Valid() bool {
	return slices.Contains([]Role{RoleAdmin, RoleSupervisor, RoleAgent, RoleAnalyst}, r)
}

// ConversationStatus is where a conversation stands.
type ConversationStatus string

// Conversation statuses.
const (
	ConversationOpen         ConversationStatus = "open"
	ConversationWaitingHuman ConversationStatus = "waiting_human"
	ConversationClosed       ConversationStatus = "closed"
)

// Valid reports whether s is a known conversation status.
func (s ConversationStatus) Valid() bool {
	return slices.Contains([]ConversationStatus{ConversationOpen, ConversationWaitingHuman, ConversationClosed}, s)
}

// Direction tells whether a message came from the customer or went to them.
type Direction string

// Message directions.
const (
	DirectionInbound  Direction = "inbound"
	DirectionOutbound Direction = "outbound"
)

// Valid reports whether d is a known direction.
func (d Direction) Valid() bool { return d == DirectionInbound || d == DirectionOutbound }

// DeliveryStatus is how far a message got: inbound messages are received,
// outbound ones go from pending to sent, delivered and read, or failed.
type DeliveryStatus string

// Delivery statuses.
const (
	DeliveryReceived  DeliveryStatus = "received"
	DeliveryPending   DeliveryStatus = "pending"
	DeliverySent      DeliveryStatus = "sent"
	DeliveryDelivered DeliveryStatus = "delivered"
	DeliveryRead      DeliveryStatus = "read"
	DeliveryFailed    DeliveryStatus = "failed"
)

// Valid reports whether s is a known delivery status.
func (s DeliveryStatus) Valid() bool {
	return slices.Contains([]DeliveryStatus{DeliveryReceived, DeliveryPending, DeliverySent, DeliveryDelivered, DeliveryRead, DeliveryFailed}, s)
}

// Message senders other than a named user (see SenderUser).
const (
	SenderCustomer = "customer"
	SenderAI       = "ai"
	SenderSystem   = "system"
)

// SenderUser returns the Sender of a message written by the dashboard user id.
func SenderUser(id string) string { return "user:" + id }

// Message kinds.
const (
	KindText     = "text"
	KindAudio    = "audio"
	KindImage    = "image"
	KindVideo    = "video"
	KindDocument = "document"
)

// TicketPriority orders tickets.
type TicketPriority string

// Ticket priorities.
const (
	PriorityLow    TicketPriority = "low"
	PriorityNormal TicketPriority = "normal"
	PriorityHigh   TicketPriority = "high"
	PriorityUrgent TicketPriority = "urgent"
)

// Valid reports whether p is a known priority.
func (p TicketPriority) Valid() bool {
	return slices.Contains([]TicketPriority{PriorityLow, PriorityNormal, PriorityHigh, PriorityUrgent}, p)
}

// TicketStatus is where a ticket stands; open and pending tickets are open
// in the sense of ListOpenTickets.
type TicketStatus string

// Ticket statuses.
const (
	TicketOpen    TicketStatus = "open"
	TicketPending TicketStatus = "pending"
	TicketSolved  TicketStatus = "solved"
	TicketClosed  TicketStatus = "closed"
)

// Valid reports whether s is a known ticket status.
func (s TicketStatus) Valid() bool {
	return slices.Contains([]TicketStatus{TicketOpen, TicketPending, TicketSolved, TicketClosed}, s)
}

// TransactionKind tells a charge from a refund.
type TransactionKind string

// Transaction kinds.
const (
	TransactionCharge TransactionKind = "charge"
	TransactionRefund TransactionKind = "refund"
)

// Valid reports whether k is a known transaction kind.
func (k TransactionKind) Valid() bool { return k == TransactionCharge || k == TransactionRefund }

// FollowUpStatus is where a follow-up task stands.
type FollowUpStatus string

// Follow-up statuses.
const (
	FollowUpScheduled FollowUpStatus = "scheduled"
	FollowUpDone      FollowUpStatus = "done"
	FollowUpCancelled FollowUpStatus = "cancelled"
)

// Valid reports whether s is a known follow-up status.
func (s FollowUpStatus) Valid() bool {
	return slices.Contains([]FollowUpStatus{FollowUpScheduled, FollowUpDone, FollowUpCancelled}, s)
}

// Audit actor kinds.
const (
	ActorAI     = "ai"
	ActorUser   = "user"
	ActorSystem = "system"
)

// Tenant is one brand served by the installation. Its TenantID equals its ID.
type Tenant struct {
	Base

	Name string
	// Slug is unique across the installation.
	Slug string
}

// User is a person who signs in to the dashboard.
type User struct {
	Base

	// Email is unique across all tenants, compared case-insensitively; the
	// store keeps it lower-cased.
	Email        string
	Name         string
	Role         Role
	PasswordHash string
	Disabled     bool
	// Demo marks a user of demo mode (its password is public): it may sign
	// in only while the server runs in demo mode.
	Demo bool
}

// Customer is a person who writes to the tenant on any channel.
type Customer struct {
	Base

	Name       string
	Email      string
	Phone      string
	Language   string
	LastSeenAt *time.Time
}

// CustomerIdentity ties a channel's id of a person (a WhatsApp number, a
// Messenger PSID) to a customer; unique per tenant, channel and external id.
type CustomerIdentity struct {
	Base

	CustomerID  string
	Channel     string
	ExternalID  string
	DisplayName string
}

// Conversation is one thread with a customer on one channel account.
type Conversation struct {
	Base

	CustomerID     string
	Channel        string
	ChannelAccount string
	// ThreadKey identifies the thread across conversations (the event log key).
	ThreadKey string
	// Status defaults to ConversationOpen.
	Status ConversationStatus
	// AssignedUserID is the human agent who writes; empty means the AI writes.
	AssignedUserID string
	AgentProfileID string
	LastMessageAt  *time.Time
	ClosedAt       *time.Time
}

// Writer names who writes in c: "ai", or "user:<id>" for a human agent.
func (c Conversation) Writer() string {
	if c.AssignedUserID == "" {
		return SenderAI
	}
	return SenderUser(c.AssignedUserID)
}

// Message is one message of a conversation, in either direction.
type Message struct {
	Base

	ConversationID string
	Direction      Direction
	Channel        string
	// ChannelMessageID is the provider's id (e.g. a wamid); when not empty it
	// is unique per tenant and channel, which deduplicates inbound deliveries.
	ChannelMessageID string
	// Sender is SenderCustomer, SenderAI, SenderSystem or SenderUser(id).
	Sender string
	// Kind is KindText, KindAudio, KindImage, …
	Kind     string
	Text     string
	MediaRef string
	// DeliveryStatus defaults to DeliveryReceived for inbound messages and
	// DeliveryPending for outbound ones.
	DeliveryStatus DeliveryStatus
	Error          string
}

// AgentProfile configures one AI agent: its tools, routing and the live
// prompt version.
type AgentProfile struct {
	Base

	Name        string
	Description string
	// LiveVersion is the PromptVersion.Number in use; 0 means none yet.
	LiveVersion int
	// Tools is the allow-list of tool names.
	Tools   []string
	Routing json.RawMessage
	// Policy is the money policy of its financial tools (JSON; nil is
	// stored as {}: no limits beyond the customer's yes).
	Policy json.RawMessage
}

// PromptVersion is one immutable revision of an agent profile's prompt.
type PromptVersion struct {
	Base

	AgentProfileID string
	// Number is unique per profile.
	Number   int
	Prompt   string
	AuthorID string
}

// Order is a commerce order, imported from a shop (Source, Shop) or created
// here. Money is in minor units of Currency.
type Order struct {
	Base

	CustomerID string
	// Source names the shop system ("shopify", "magento"); Shop the shop
	// (its domain).
	Source string
	Shop   string
	// ExternalID is the shop's id, unique per tenant and source when set.
	ExternalID string
	// Number is what the customer knows the order by, without "#".
	Number string
	// Email and Phone are the order's contact (Phone in E.164).
	Email string
	Phone string
	// Status is "open" or "cancelled".
	Status            string
	FinancialStatus   string
	FulfillmentStatus string
	TotalMinor        int64
	RefundedMinor     int64
	Currency          string
	PlacedAt          *time.Time
	CancelledAt       *time.Time
	// SourceUpdatedAt is the shop's time of the version stored: an older
	// delivery changes nothing.
	SourceUpdatedAt *time.Time
	// Items is a JSON array of line items; nil is stored as [].
	Items json.RawMessage
	// Tracking is a JSON array of shipments' tracking; nil is stored as [].
	Tracking json.RawMessage
	// AdminURL is the order's page in the shop's admin.
	AdminURL string
}

// ShopStatus tells whether a shop still sends events.
type ShopStatus string

// Shop statuses.
const (
	ShopConnected   ShopStatus = "connected"
	ShopUninstalled ShopStatus = "uninstalled"
)

// Valid reports whether s is a known shop status.
func (s ShopStatus) Valid() bool { return s == ShopConnected || s == ShopUninstalled }

// Shop is a connected shop (one tenant per Source and Domain) and what
// arrived from it.
type Shop struct {
	Base

	Source string
	Domain string
	// Status defaults to ShopConnected.
	Status         ShopStatus
	LastEventAt    *time.Time
	LastEventTopic string
	EventsTotal    int64
	FailuresTotal  int64
	LastFailure    string
	LastFailureAt  *time.Time
}

// CustomerMerge records that MergedCustomerID was found to be the same
// person as KeptCustomerID, and what moved from one to the other (Moved: a
// JSON object of id lists by kind), so that an admin can undo it.
type CustomerMerge struct {
	Base

	KeptCustomerID   string
	MergedCustomerID string
	Reason           string
	Moved            json.RawMessage
	UndoneAt         *time.Time
	UndoneBy         string
}

// Ticket is a support case opened for a customer.
type Ticket struct {
	Base

	CustomerID     string
	ConversationID string
	Subject        string
	Description    string
	// Priority defaults to PriorityNormal.
	Priority TicketPriority
	// Status defaults to TicketOpen.
	Status TicketStatus
	// IdempotencyKey is unique per tenant when not empty.
	IdempotencyKey string
}

// PaymentIntent is a payment the customer is asked to make.
type PaymentIntent struct {
	Base

	CustomerID     string
	ConversationID string
	OrderID        string
	AmountCents    int64
	Currency       string
	Status         string
	Provider       string
	ProviderRef    string
	// IdempotencyKey is unique per tenant when not empty.
	IdempotencyKey string
}

// Transaction is money that moved (or was asked to move) for a payment
// intent: a charge or a refund.
type Transaction struct {
	Base

	PaymentIntentID string
	Kind            TransactionKind
	AmountCents     int64
	Currency        string
	Status          string
	ProviderRef     string
	// IdempotencyKey is unique per tenant when not empty.
	IdempotencyKey string
}

// KnowledgeDocument is one source document of the knowledge base: what it
// is (kind, tags, language, validity, where it comes from) and where its
// processing stands. Its file is kept per revision (KnowledgeSource); its
// chunks are cut from the current revision.
type KnowledgeDocument struct {
	Base

	Title string
	// Source is where the document came from: KnowledgeUpload or a shop
	// system ("shopify") for catalogue products.
	Source string
	// ContentType is the declared type of the upload; Format the one read
	// (markdown, html, text, pdf, csv; "product" for catalogue products).
	ContentType string
	Format      string
	// Body is the extracted text of the current revision once processed.
	Body string
	Tags []string
	// Status defaults to KnowledgeProcessing.
	Status KnowledgeStatus
	// Kind defaults to KnowledgeArticle.
	Kind      KnowledgeKind
	Language  string
	SourceURL string
	// ValidFrom and ValidUntil bound when the document applies (nil: open).
	ValidFrom, ValidUntil *time.Time
	// Revision counts the document's contents: 1 on upload, +1 per new
	// version. It is not Base.Version (the row's optimistic lock).
	Revision  int
	SizeBytes int64
	// Error says why processing failed.
	Error      string
	ChunkCount int
	// ExternalKey identifies a document generated from another system (a
	// shop's product: "shopify:<shop>:product:<id>"); unique per tenant
	// when not empty.
	ExternalKey string
}

// KnowledgeStatus is where a document's processing stands.
type KnowledgeStatus string

// Knowledge document statuses.
const (
	KnowledgeProcessing KnowledgeStatus = "processing"
	KnowledgeReady      KnowledgeStatus = "ready"
	KnowledgeFailed     KnowledgeStatus = "failed"
)

// Valid reports whether s is a known status.
func (s KnowledgeStatus) Valid() bool {
	return s == KnowledgeProcessing || s == KnowledgeReady || s == KnowledgeFailed
}

// KnowledgeKind is what a document is, for filters and for the model.
type KnowledgeKind string

// Knowledge document kinds.
const (
	KnowledgeFAQ     KnowledgeKind = "faq"
	KnowledgePolicy  KnowledgeKind = "policy"
	KnowledgeProduct KnowledgeKind = "product"
	KnowledgeArticle KnowledgeKind = "article"
)

// Valid reports whether k is a known kind.
func (k KnowledgeKind) Valid() bool {
	return k == KnowledgeFAQ || k == KnowledgePolicy || k == KnowledgeProduct || k == KnowledgeArticle
}

// KnowledgeUpload is the Source of a document a person uploaded.
const KnowledgeUpload = "upload"

// KnowledgeChunk is one passage of a document's revision, as retrieved and
// cited.
type KnowledgeChunk struct {
	ID         string
	TenantID   string
	DocumentID string
	Revision   int
	Ordinal    int
	Heading    string
	// Question is an FAQ chunk's question (Text is its answer).
	Question string
	Text     string
	// Vector is the chunk's embedding (nil without an embedding model).
	Vector []float32
}

// KnowledgeQuestion is one customer question a turn retrieved knowledge
// for: how relevant the best passage was and whether the reply cited a
// source. The coverage report reads them.
type KnowledgeQuestion struct {
	ID             string
	TenantID       string
	ConversationID string
	// TurnID is the turn's id (its last inbound message); one question per
	// turn.
	TurnID   string
	AskedAt  time.Time
	Question string
	// BestRelevance is the best passage's relevance, 0..1.
	BestRelevance float64
	// Relevant reports whether BestRelevance reached the threshold.
	Relevant bool
	// AnsweredWithSources reports whether the reply cited a passage.
	AnsweredWithSources bool
}

// UserMemorySummary is the rolling summary of what the AI knows about a
// customer; one per customer.
type UserMemorySummary struct {
	Base

	CustomerID      string
	Summary         string
	MessagesCovered int
}

// FollowUpTask is a reminder to contact a customer at DueAt.
type FollowUpTask struct {
	Base

	CustomerID     string
	ConversationID string
	DueAt          time.Time
	Note           string
	// Status defaults to FollowUpScheduled.
	Status FollowUpStatus
	// IdempotencyKey is unique per tenant when not empty.
	IdempotencyKey string
}

// Note is a private note a dashboard user leaves on a conversation for the
// other humans. It is never sent to the customer and never part of the AI's
// context.
type Note struct {
	Base

	ConversationID string
	AuthorID       string
	Text           string
}

// AuditEvent records who did what to which record. Audit events are
// append-only: the store has no update for them and the database refuses
// one.
type AuditEvent struct {
	Base

	// ActorKind is ActorAI, ActorUser or ActorSystem.
	ActorKind string
	ActorID   string
	// Action names what happened, e.g. "tool.create_ticket".
	Action     string
	TargetKind string
	TargetID   string
	Data       json.RawMessage
}

// ChannelAccount is a tenant's account on a channel, e.g. a WhatsApp phone
// number; (Channel, ExternalID) is unique across tenants, so a webhook finds
// its tenant. Secrets are not kept here.
type ChannelAccount struct {
	Base

	// Channel names the channel, e.g. "whatsapp".
	Channel string
	// ExternalID is the channel's id of the account, e.g. the
	// phone_number_id.
	ExternalID string
	Name       string
	Config     json.RawMessage
}

// MovedRecords lists, by kind, the ids of the records a customer merge moved
// from one customer to the other.
type MovedRecords struct {
	Identities    []string `json:"identities,omitempty"`
	Orders        []string `json:"orders,omitempty"`
	Conversations []string `json:"conversations,omitempty"`
	Tickets       []string `json:"tickets,omitempty"`
}

// Records decodes m.Moved.
func (m CustomerMerge) Records() (MovedRecords, error) {
	var moved MovedRecords
	if len(m.Moved) == 0 {
		return moved, nil
	}
	if err := json.Unmarshal(m.Moved, &moved); err != nil {
		return moved, fmt.Errorf("merge %s: moved: %w", m.ID, ErrInvalid)
	}
	return moved, nil
}
