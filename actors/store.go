package actors

import (
	"context"
	"time"

	"github.com/frontdesk-ai/frontdesk/persistence"
)

// Tx is the grains' unit of work: what one grain write touches, committed
// together (the effect, its log records and live events, and the grain's
// version-checked checkpoint). cmd/frontdesk adapts the concrete store to it
// (sqlstore.For[actors.Tx]).
type Tx interface {
	SaveCheckpoint(ctx context.Context, c *persistence.Checkpoint) error
	Savepoint(ctx context.Context, fn func() error) error
	AppendLog(ctx context.Context, recs ...persistence.Record) ([]persistence.Record, error)
	AppendLiveEvents(ctx context.Context, es []*persistence.LiveEvent) error
	CreateAuditEvent(ctx context.Context, m *persistence.AuditEvent) error

	GetCustomerIdentity(ctx context.Context, tenantID, channel, externalID string) (persistence.CustomerIdentity, error)
	CreateCustomer(ctx context.Context, m *persistence.Customer) error
	UpdateCustomer(ctx context.Context, m *persistence.Customer) error
	CreateCustomerIdentity(ctx context.Context, m *persistence.CustomerIdentity) error
	FindCustomersByContact(ctx context.Context, tenantID, phone, email string) ([]persistence.Customer, error)

	GetConversation(ctx context.Context, tenantID, id string) (persistence.Conversation, error)
	GetOpenConversation(ctx context.Context, tenantID, threadKey string) (persistence.Conversation, error)
	CreateConversation(ctx context.Context, m *persistence.Conversation) error
	UpdateConversation(ctx context.Context, m *persistence.Conversation) error

	GetMessage(ctx context.Context, tenantID, id string) (persistence.Message, error)
	GetMessageByChannelID(ctx context.Context, tenantID, channel, channelMessageID string) (persistence.Message, error)
	CreateMessage(ctx context.Context, m *persistence.Message) error
	UpdateMessage(ctx context.Context, m *persistence.Message) error
	CreateNote(ctx context.Context, m *persistence.Note) error
	RecordKnowledgeQuestion(ctx context.Context, m *persistence.KnowledgeQuestion) error
	CreateTicket(ctx context.Context, m *persistence.Ticket) error

	CreateUserMemorySummary(ctx context.Context, m *persistence.UserMemorySummary) error
	UpdateUserMemorySummary(ctx context.Context, m *persistence.UserMemorySummary) error

	CreateConfirmation(ctx context.Context, m *persistence.Confirmation) error
	UpdateConfirmation(ctx context.Context, m *persistence.Confirmation) error
	GetConfirmationByIdempotencyKey(ctx context.Context, tenantID, key string) (persistence.Confirmation, error)
	SaveReminder(ctx context.Context, r persistence.Reminder) error
	DeleteReminder(ctx context.Context, kind, identity, name string) error
}

// Store is what grains read outside a transaction: their state on
// activation (and nothing else on a warm turn), the agent profiles a turn
// runs with, and the history a memory summary is written from.
type Store interface {
	InTx(ctx context.Context, fn func(tx Tx) error) error

	GetCheckpoint(ctx context.Context, kind, identity string) (persistence.Checkpoint, error)
	GetTenant(ctx context.Context, id string) (persistence.Tenant, error)
	GetCustomer(ctx context.Context, tenantID, id string) (persistence.Customer, error)
	GetConversation(ctx context.Context, tenantID, id string) (persistence.Conversation, error)
	ListAgentProfiles(ctx context.Context, tenantID string, p persistence.Page) ([]persistence.AgentProfile, string, error)
	GetPromptVersionByNumber(ctx context.Context, tenantID, agentProfileID string, number int) (persistence.PromptVersion, error)
	GetUserMemorySummary(ctx context.Context, tenantID, customerID string) (persistence.UserMemorySummary, error)
	ListOpenTickets(ctx context.Context, tenantID, customerID string, limit int) ([]persistence.Ticket, error)
	ListOrdersByCustomer(ctx context.Context, tenantID, customerID string, limit int) ([]persistence.Order, error)
	RecentMessages(ctx context.Context, tenantID, conversationID string, n int) ([]persistence.Message, error)
	ListConversationsByCustomer(ctx context.Context, tenantID, customerID string, limit int) ([]persistence.Conversation, error)
	ListConfirmationsByCustomer(ctx context.Context, tenantID, customerID string, states ...persistence.ConfirmationState) ([]persistence.Confirmation, error)
	ListDueReminders(ctx context.Context, now time.Time, limit int) ([]persistence.Reminder, error)
}
