package actors

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/frontdesk-ai/frontdesk/clock"
	"github.com/frontdesk-ai/frontdesk/cluster"
	"github.com/frontdesk-ai/frontdesk/language"
	"github.com/frontdesk-ai/frontdesk/persistence"
	"github.com/frontdesk-ai/frontdesk/routing"
	"github.com/frontdesk-ai/frontdesk/tools"
)

// Grain kinds.
const (
	KindConversation = "conversation"
	KindCustomer     = "customer"
)

// Deps are the runtime's collaborators.
type Deps struct {
	Store Store
	// Model answers turns (the LLM router); Offline answers when Model
	// fails outright.
	Model, Offline Completer
	Tools          ToolRunner
	// Notify wakes the live hub after a commit that wrote live events.
	Notify func(tenantID string)
	// Actions execute confirmed confirmations, by action name (the money
	// tools register theirs); a proposal naming another is refused.
	Actions map[string]ActionFunc
	// Buttons reports whether a channel has reply buttons; on one without,
	// a confirmation is answered with a one-time code instead. Nil: every
	// channel has them.
	Buttons func(channel string) bool
	// Knowledge searches the tenant's knowledge base for each turn's
	// question (nil: no knowledge base).
	Knowledge tools.KnowledgeSearcher
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
	// MaxToolCallsPerResponse and MaxToolCallsPerTurn cap the tool calls
	// executed (default 8 and 16); calls beyond them are refused and the
	// refusal is shown to the model.
	MaxToolCallsPerResponse, MaxToolCallsPerTurn int
	// MaxTurnFailures is how many times in a row a turn is tried (the model
	// called again) before its messages are left for a human (default 3);
	// MaxCommitFailures how many times a turn's result is committed before
	// it is given up (default 5). Retries wait RetryBackoff, doubled each
	// time, at most MaxRetryBackoff (defaults 1 s and 1 min).
	MaxTurnFailures, MaxCommitFailures int
	RetryBackoff, MaxRetryBackoff      time.Duration
	// AgentCacheTTL is how long agent profiles and tenant names are cached
	// for turns (default 10 s): a prompt made live applies within it.
	AgentCacheTTL time.Duration
	// ConfirmationTTL is how long a customer has to answer a confirmation
	// (default 15 min).
	ConfirmationTTL time.Duration
	// ReminderPoll is how often due durable reminders are fired (default 1 s).
	ReminderPoll time.Duration
	// MaxHotConversations bounds the conversation grains active on this
	// member (0: no bound); past it the least recently used passivate.
	MaxHotConversations int
	// Clock tells time and runs the grains' timers (default the wall clock).
	Clock clock.Clock
}

// Validate reports a configuration that cannot work.
func (c Config) Validate() error {
	if c.IdleTimeout < 0 || c.JobTimeout < 0 || c.CallTimeout < 0 || c.RecentMessages < 0 ||
		c.TurnTimeout < 0 || c.ConversationIdle < 0 || c.MaxToolSteps < 0 || c.HistoryMessages < 0 || c.SummaryEvery < 0 ||
		c.MaxToolCallsPerResponse < 0 || c.MaxToolCallsPerTurn < 0 || c.MaxTurnFailures < 0 || c.MaxCommitFailures < 0 ||
		c.RetryBackoff < 0 || c.MaxRetryBackoff < 0 || c.AgentCacheTTL < 0 || c.ConfirmationTTL < 0 || c.ReminderPoll < 0 ||
		c.MaxHotConversations < 0 {
		return errors.New("actors: durations and sizes must not be negative")
	}
	return nil
}

func (c *Config) defaults() {
	if c.IdleTimeout == 0 {
		c.IdleTimeout = 5 * time.Minute
	}
	if c.RecentMessages == 0 {
		c.RecentMessages = 30
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
	setDefault(&c.MaxToolCallsPerResponse, 8)
	setDefault(&c.MaxToolCallsPerTurn, 16)
	setDefault(&c.MaxTurnFailures, 3)
	setDefault(&c.MaxCommitFailures, 5)
	setDefault(&c.RetryBackoff, time.Second)
	setDefault(&c.MaxRetryBackoff, time.Minute)
	setDefault(&c.AgentCacheTTL, 10*time.Second)
	setDefault(&c.ConfirmationTTL, 15*time.Minute)
	setDefault(&c.ReminderPoll, time.Second)
	if c.Clock == nil {
		c.Clock = clock.Real()
	}
}

func setDefault[T int | time.Duration](v *T, d T) {
	if *v == 0 {
		*v = d
	}
}

// Runtime holds what every grain shares: configuration, the store, the
// caller for grain-to-grain calls, metrics, and the count of jobs in flight.
type Runtime struct {
	cfg     Config
	store   Store
	model   Completer
	offline Completer
	tools   ToolRunner
	notify  func(tenantID string)
	actions map[string]ActionFunc
	buttons func(channel string) bool
	// knowledge searches the knowledge base (nil: none).
	knowledge tools.KnowledgeSearcher
	profiles  ttlCache[[]persistence.AgentProfile]
	brands    ttlCache[string]
	clock     clock.Clock
	agents    ttlCache[agentSetup]
	log       zerolog.Logger
	metrics   *metrics
	hot       *hotSet
	inflight  sync.WaitGroup

	mu     sync.RWMutex
	caller Caller
}

// New builds the runtime. Register its Kinds with the cluster, then hand it
// the started member with SetCaller before any event flows.
func New(cfg Config, deps Deps, log zerolog.Logger, reg prometheus.Registerer) (*Runtime, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if deps.Store == nil || deps.Model == nil || deps.Offline == nil || deps.Tools == nil {
		return nil, errors.New("actors: store, model, offline responder and tools are required")
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
		notify: deps.Notify, actions: deps.Actions, buttons: deps.Buttons, knowledge: deps.Knowledge,
		clock: cfg.Clock, agents: ttlCache[agentSetup]{ttl: cfg.AgentCacheTTL},
		brands: ttlCache[string]{ttl: cfg.AgentCacheTTL}, profiles: ttlCache[[]persistence.AgentProfile]{ttl: cfg.AgentCacheTTL}, log: log, metrics: m,
		hot: newHotSet(cfg.MaxHotConversations)}, nil
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

// recentKeep is how many recent messages a conversation grain keeps.
func (rt *Runtime) recentKeep() int { return max(rt.cfg.RecentMessages, rt.cfg.HistoryMessages) }

// chooseAgent picks the agent profile of a new conversation by the
// tenant's routing rules (routing.Choose): channel, channel account, the
// customer's language and tags. It reads the profiles (cached for
// AgentCacheTTL) and asks the customer grain for the tags, so it runs
// before the transaction that opens the conversation, never inside it.
func (rt *Runtime) chooseAgent(ctx context.Context, st threadState, channelAccount, lang string) string {
	profiles, err := rt.tenantProfiles(ctx, st.TenantID)
	if err != nil {
		rt.metrics.errors.WithLabelValues("routing").Inc()
		rt.log.Warn().Err(err).Msg("agent profiles not read; the conversation gets the tenant's default agent")
		return ""
	}
	in := routing.Input{Channel: st.Channel, ChannelAccount: channelAccount, Language: lang}
	if st.CustomerID != "" {
		if cc, err := rt.customerContext(ctx, st.TenantID, st.CustomerID); err == nil {
			in.CustomerTags = customerTags(cc.Customer)
			if in.Language == "" {
				in.Language = cc.Customer.Language
			}
		}
	}
	id, reason := routing.Choose(profiles, in)
	rt.log.Debug().Str("tenant_id", st.TenantID).Str("agent_profile_id", id).Str("reason", reason).Msg("agent chosen")
	return id
}

// customerTags returns a customer's tags: the "tags" list of its metadata
// (the dashboard's labels write it).
func customerTags(c persistence.Customer) []string {
	var meta struct {
		Tags []string `json:"tags"`
	}
	_ = json.Unmarshal(c.Metadata, &meta)
	return meta.Tags
}

// detectLanguage returns the language of a customer's text when it should
// replace current: any detection when none is known yet, else only a sure
// one (one word like "danke" does not overwrite a language learned from
// sentences); "" otherwise.
func (rt *Runtime) detectLanguage(text, current string) string {
	code, conf := language.Detect(text)
	if code == "" || code == current || (current != "" && conf < language.Sure) {
		return ""
	}
	return code
}

// tenantProfiles returns the tenant's agent profiles (cached for
// AgentCacheTTL).
func (rt *Runtime) tenantProfiles(ctx context.Context, tenantID string) ([]persistence.AgentProfile, error) {
	if ps, ok := rt.profiles.get(tenantID, rt.clock.Now()); ok {
		return ps, nil
	}
	rt.metrics.storeReads.WithLabelValues(KindConversation, "agent").Inc()
	ps, _, err := rt.store.ListAgentProfiles(ctx, tenantID, persistence.Page{Limit: persistence.MaxPageLimit})
	if err != nil {
		return nil, err
	}
	rt.profiles.put(tenantID, ps, rt.clock.Now())
	return ps, nil
}

// ttlCache holds values for AgentCacheTTL (agent setups, tenant names,
// each tenant's profiles), so warm turns read no store; safe for
// concurrent use.
type ttlCache[V any] struct {
	ttl time.Duration
	mu  sync.Mutex
	m   map[string]ttlEntry[V]
}

type ttlEntry[V any] struct {
	v  V
	at time.Time
}

func (c *ttlCache[V]) get(key string, now time.Time) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[key]
	if !ok || now.Sub(e.at) >= c.ttl {
		var zero V
		return zero, false
	}
	return e.v, true
}

func (c *ttlCache[V]) put(key string, v V, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) > 10000 {
		c.m = map[string]ttlEntry[V]{}
	}
	c.m[key] = ttlEntry[V]{v: v, at: now}
}

func (rt *Runtime) newJobs() jobs {
	return jobs{inflight: &rt.inflight, timeout: rt.cfg.JobTimeout}
}
