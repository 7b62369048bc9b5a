package gateway

import (
	"context"

	"github.com/frontdesk-ai/frontdesk/persistence"
)

// Tx is the gateway's unit of work: what its handlers read and write in one
// store transaction, where a change and its audit event commit together
// (conversations change through their grains, APIConfig.Grains).
// cmd/frontdesk hands the API a store whose InTx passes the concrete
// transaction as Tx; the gateway never sees the concrete store.
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

	// Customers' tickets: the customer, the conversation a ticket names,
	// and the ticket, kept by its idempotency key.
	GetCustomer(ctx context.Context, tenantID, id string) (persistence.Customer, error)
	GetConversation(ctx context.Context, tenantID, id string) (persistence.Conversation, error)
	CreateTicket(ctx context.Context, m *persistence.Ticket) error
	GetTicketByIdempotencyKey(ctx context.Context, tenantID, key string) (persistence.Ticket, error)

	// Savepoint runs fn so that its failure rolls back only its own
	// statements (an insert that may hit a unique key) and the transaction
	// stays usable.
	Savepoint(ctx context.Context, fn func() error) error
}
