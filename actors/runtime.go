package actors

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/frontdesk-ai/frontdesk/cluster"
	"github.com/frontdesk-ai/frontdesk/persistence"
	"github.com/frontdesk-ai/frontdesk/persistence/sqlstore"
)

// Grain kinds.
const (
	KindConversation = "conversation"
	KindCustomer     = "customer"
)

// Store is what grains need from the store: transactions for their
// version-checked writes, and the reads they activate from and build a
// turn's context with.
type Store interface {
	InTx(ctx context.Context, fn func(tx *sqlstore.Tx) error) error
	GetCheckpoint(ctx context.Context, kind, identity string) (persistence.Checkpoint, error)
	GetTenant(ctx context.Context, id string) (persistence.Tenant, error)
	GetCustomer(ctx context.Context, tenantID, id string) (persistence.Customer, error)
	UpdateCustomer(ctx context.Context, c *persistence.Customer) error
	GetConversation(ctx context.Context, tenantID, id string) (persistence.Conversation, error)
	GetAgentProfile(ctx context.Context, tenantID, id string) (persistence.AgentProfile, error)
	ListAgentProfiles(ctx context.Context, tenantID string, p persistence.Page) ([]persistence.AgentProfile, string, error)
	GetPromptVersionByNumber(ctx context.Context, tenantID, agentProfileID string, number int) (persistence.PromptVersion, error)
	GetUserMemorySummary(ctx context.Context, tenantID, customerID string) (persistence.UserMemorySummary, error)
	ListOpenTickets(ctx context.Context, tenantID, customerID string, limit int) ([]persistence.Ticket, error)
	ListOrdersByCustomer(ctx context.Context, tenantID, customerID string, limit int) ([]persistence.Order, error)
	RecentMessages(ctx context.Context, tenantID, conversationID string, n int) ([]persistence.Message, error)
	CreateUserMemorySummary(ctx context.Context, m *persistence.UserMemorySummary) error
	UpdateUserMemorySummary(ctx context.Context, m *persistence.UserMemorySummary) error
}

// TxAppender appends event log records inside a store transaction (the
// outbound topic, committed with the reply that causes them).
type TxAppender interface {
	AppendTx(ctx context.Context, tx *sqlstore.Tx, recs ...persistence.Record) ([]persistence.Record, error)
}

// Deps are the runtime's collaborators.
type Deps struct {
	Store Store
	// Model answers turns (the LLM router); Offline answers when Model
	// fails outright.
	Model, Offline Completer
	Tools          ToolRunner
	Outbox         TxAppender
	// Notify wakes the live hub after a commit that wrote live events.
	Notify func(tenantID string)
}

// Caller calls a grain with frontdesk's deadline and retry policy
// (cluster.Member).
type Caller interface {
	Call(ctx context.Context, kind, identity string, msg any) (any, error)
}

// Config tunes the grains.
type Config struct {
	// IdleTimeout passivates a grain that received nothing for this long
	// (default 5 minutes).
	IdleTimeout time.Duration
	// RecentMessages is how many recent messages a conversation grain keeps
	// in its hot context (default 20).
	RecentMessages int
	// JobTimeout bounds one grain job (default 30 s).
	JobTimeout time.Duration
	// CallTimeout bounds a call from one grain to another (default 5 s).
	CallTimeout time.Duration
	// TurnTimeout bounds one turn: model calls and tools (default 2 min).
	TurnTimeout time.Duration
	// MaxToolSteps bounds the model/tool rounds of a turn (default 5).
	MaxToolSteps int
	// HistoryMessages is how many recent messages a turn shows the model
	// (default 30).
	HistoryMessages int
	// ConversationIdle closes a conversation whose last message is older
	// than this when a new message arrives; the new message opens a new
	// conversation (default 24 h).
	ConversationIdle time.Duration
	// SummaryEvery updates the customer's memory summary once this many new
	// messages are not covered by it (default 40).
	SummaryEvery int
}

// Validate reports a configuration that cannot work.
func (c Config) Validate() error {
	if c.IdleTimeout < 0 || c.JobTimeout < 0 || c.CallTimeout < 0 || c.RecentMessages < 0 ||
		c.TurnTimeout < 0 || c.ConversationIdle < 0 || c.MaxToolSteps < 0 || c.HistoryMessages < 0 || c.SummaryEvery < 0 {
		return errors.New("actors: durations and sizes must not be negative")
	}
	return nil
}

func (c *Config) defaults() {
	if c.IdleTimeout == 0 {
		c.IdleTimeout = 5 * time.Minute
	}
	if c.RecentMessages == 0 {
		c.RecentMessages = 20
	}
	if c.JobTimeout == 0 {
		c.JobTimeout = 30 * time.Second
	}
	if c.CallTimeout == 0 {
		c.CallTimeout = 5 * time.Second
	}
	if c.TurnTimeout == 0 {
		c.TurnTimeout = 2 * time.Minute
	}
	if c.MaxToolSteps == 0 {
		c.MaxToolSteps = 5
	}
	if c.HistoryMessages == 0 {
		c.HistoryMessages = 30
	}
	if c.SummaryEvery == 0 {
		c.SummaryEvery = 40
	}
	if c.ConversationIdle == 0 {
		c.ConversationIdle = 24 * time.Hour
	}
}

// Runtime holds what every grain shares: configuration, the store, the
// caller for grain-to-grain calls, metrics, and the count of jobs in flight.
type Runtime struct {
	cfg      Config
	store    Store
	model    Completer
	offline  Completer
	tools    ToolRunner
	outbox   TxAppender
	notify   func(tenantID string)
	log      zerolog.Logger
	metrics  *metrics
	inflight sync.WaitGroup
	// summarizing holds the customer ids whose summary is being updated.
	summarizing sync.Map

	mu     sync.RWMutex
	caller Caller
}

// New builds the runtime. Register its Kinds with the cluster, then hand it
// the started member with SetCaller before any event flows.
func New(cfg Config, deps Deps, log zerolog.Logger, reg prometheus.Registerer) (*Runtime, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if deps.Store == nil || deps.Model == nil || deps.Offline == nil || deps.Tools == nil || deps.Outbox == nil {
		return nil, errors.New("actors: store, model, offline responder, tools and outbox are required")
	}
	if deps.Notify == nil {
		deps.Notify = func(string) {}
	}
	cfg.defaults()
	m, err := newMetrics(reg)
	if err != nil {
		return nil, err
	}
	return &Runtime{cfg: cfg, store: deps.Store, model: deps.Model, offline: deps.Offline, tools: deps.Tools,
		outbox: deps.Outbox, notify: deps.Notify, log: log, metrics: m}, nil
}

// SetCaller sets the grain caller (the cluster member, which exists only
// once the kinds are registered).
func (rt *Runtime) SetCaller(c Caller) {
	rt.mu.Lock()
	rt.caller = c
	rt.mu.Unlock()
}

func (rt *Runtime) call(ctx context.Context, kind, identity string, msg any) (any, error) {
	rt.mu.RLock()
	c := rt.caller
	rt.mu.RUnlock()
	if c == nil {
		return nil, errors.New("grain caller not set")
	}
	return c.Call(ctx, kind, identity, msg)
}

// Kinds returns the grain kinds to register with the cluster.
func (rt *Runtime) Kinds() []cluster.Kind {
	return []cluster.Kind{
		{Name: KindConversation, Producer: func() actor.Actor { return newConversationGrain(rt) }},
		{Name: KindCustomer, Producer: func() actor.Actor { return newCustomerGrain(rt) }},
	}
}

// Drain waits until no grain job is running, or ctx ends.
func (rt *Runtime) Drain(ctx context.Context) error {
	done := make(chan struct{})
	go func() {
		rt.inflight.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("drain grains: %w", ctx.Err())
	}
}

func (rt *Runtime) newJobs() jobs {
	return jobs{inflight: &rt.inflight, timeout: rt.cfg.JobTimeout}
}
