package gateway

import (
	"context"

	"github.com/frontdesk-ai/frontdesk/persistence"
)

// Tx is the gateway's unit of work: what its handlers read and write in one
// store transaction (the change, its audit event and its live event commit
// together). cmd/frontdesk hands the API a store whose InTx passes the
// concrete transaction as Tx; the gateway never sees the concrete store.
type Tx interface {
	// Users and audit.
	CreateUser(ctx context.Context, m *persistence.User) error
	CreateAuditEvent(ctx context.Context, m *persistence.AuditEvent) error

	// Agent profiles and their prompt versions.
	CreateAgentProfile(ctx context.Context, m *persistence.AgentProfile) error
	GetAgentProfile(ctx context.Context, tenantID, id string) (persistence.AgentProfile, error)
	UpdateAgentProfile(ctx context.Context, m *persistence.AgentProfile) error
	CreatePromptVersion(ctx context.Context, m *persistence.PromptVersion) error
	GetPromptVersionByNumber(ctx context.Context, tenantID, agentProfileID string, number int) (persistence.PromptVersion, error)
	ListPromptVersions(ctx context.Context, tenantID, agentProfileID string) ([]persistence.PromptVersion, error)

	// Customers, their tickets and conversations.
	GetCustomer(ctx context.Context, tenantID, id string) (persistence.Customer, error)
	UpdateCustomer(ctx context.Context, m *persistence.Customer) error
	CreateTicket(ctx context.Context, m *persistence.Ticket) error
	GetTicketByIdempotencyKey(ctx context.Context, tenantID, key string) (persistence.Ticket, error)
	CreateConversation(ctx context.Context, m *persistence.Conversation) error
	GetConversation(ctx context.Context, tenantID, id string) (persistence.Conversation, error)
	UpdateConversation(ctx context.Context, m *persistence.Conversation) error
	GetOpenConversationOfCustomer(ctx context.Context, tenantID, customerID, channel string) (persistence.Conversation, error)
	GetLatestConversationOfCustomer(ctx context.Context, tenantID, customerID, channel string) (persistence.Conversation, error)

	// Messages, notes, live events and the event log.
	CreateMessage(ctx context.Context, m *persistence.Message) error
	CreateNote(ctx context.Context, m *persistence.Note) error
	AppendLiveEvent(ctx context.Context, e *persistence.LiveEvent) error
	// AppendLog appends records to the event log; they are in the log if
	// and only if the transaction commits.
	AppendLog(ctx context.Context, recs ...persistence.Record) ([]persistence.Record, error)

	// Savepoint runs fn so that its failure rolls back only its own
	// statements (an insert that may hit a unique key) and the transaction
	// stays usable.
	Savepoint(ctx context.Context, fn func() error) error
}
