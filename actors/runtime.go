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
// version-checked writes, and the reads they activate from.
type Store interface {
	InTx(ctx context.Context, fn func(tx *sqlstore.Tx) error) error
	GetCheckpoint(ctx context.Context, kind, identity string) (persistence.Checkpoint, error)
	GetCustomer(ctx context.Context, tenantID, id string) (persistence.Customer, error)
	UpdateCustomer(ctx context.Context, c *persistence.Customer) error
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
}

// Validate reports a configuration that cannot work.
func (c Config) Validate() error {
	if c.IdleTimeout < 0 || c.JobTimeout < 0 || c.CallTimeout < 0 || c.RecentMessages < 0 {
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
}

// Runtime holds what every grain shares: configuration, the store, the
// caller for grain-to-grain calls, metrics, and the count of jobs in flight.
type Runtime struct {
	cfg      Config
	store    Store
	log      zerolog.Logger
	metrics  *metrics
	inflight sync.WaitGroup

	mu     sync.RWMutex
	caller Caller
}

// New builds the runtime. Register its Kinds with the cluster, then hand it
// the started member with SetCaller before any event flows.
func New(cfg Config, store Store, log zerolog.Logger, reg prometheus.Registerer) (*Runtime, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg.defaults()
	m, err := newMetrics(reg)
	if err != nil {
		return nil, err
	}
	return &Runtime{cfg: cfg, store: store, log: log, metrics: m}, nil
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
