package service

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/frontdesk-ai/frontdesk/clock"
	"github.com/frontdesk-ai/frontdesk/llmrouter"
	"github.com/frontdesk-ai/frontdesk/persistence"
)

// The Accountant records calls off the request path. Its protocol:
//
//   - Complete and Stream build the call's record and offer it to a
//     bounded channel (queue) without waiting: when the queue is full the
//     record is dropped and counted (buffer_full). They hold mu for reading
//     while they offer, so that none offers after Close has begun.
//   - One writer goroutine (run) owns everything else: it takes records
//     from the queue into a batch and writes the batch when it holds
//     BatchSize records or FlushInterval after its first record (a clock
//     timer whose goroutine sends the batch's generation on tick, or gives
//     up once the writer is done; a stale generation is ignored), one
//     CreateLLMCalls per batch. A failed write is tried again
//     Retries times with doubling backoff, then the batch is dropped and
//     counted (store_error). Agent versions are looked up by the writer,
//     before the write, once per agent in the batch.
//   - Flush hands the writer a channel that it closes once every record
//     queued before it has been written or dropped.
//   - Close takes mu for writing and marks the Accountant closed (records
//     offered later are dropped and counted: closed), then stops the
//     writer, which writes what is queued and exits. When Close's context
//     ends first, the writes in progress are cancelled and what is left is
//     dropped (closed).
//
// Drops are logged at most once per LogEvery, with the counts since the
// last line.

// CallStore is where an Accountant records calls (a *sqlstore.Store).
type CallStore interface {
	// CreateLLMCalls writes calls in one transaction, all or none, filling
	// the ids of those without one (a retried batch keeps its ids, and an
	// earlier attempt that did commit fails the retry with
	// persistence.ErrDuplicate).
	CreateLLMCalls(ctx context.Context, calls []persistence.LLMCall) error
}

// AgentProfiles finds the live prompt version of a call's agent profile
// (a *sqlstore.Store).
type AgentProfiles interface {
	GetAgentProfile(ctx context.Context, tenantID, id string) (persistence.AgentProfile, error)
}

// Defaults of AccountantConfig.
const (
	DefaultAccountantBuffer        = 4096
	DefaultAccountantBatchSize     = 256
	DefaultAccountantFlushInterval = 50 * time.Millisecond
	DefaultAccountantWriteTimeout  = 5 * time.Second
	DefaultAccountantRetries       = 3
	DefaultAccountantRetryBackoff  = 100 * time.Millisecond
	DefaultAccountantLogEvery      = 10 * time.Second
)

// Reasons a call's record is dropped: dropReasons names them, the reason
// label of frontdesk_llm_calls_dropped_total.
const (
	// dropBufferFull: the queue of records waiting to be written was full.
	dropBufferFull = iota
	// dropStoreError: the batch holding it failed every try.
	dropStoreError
	// dropClosed: it came after Close, or Close's context ended before it
	// was written.
	dropClosed
)

var dropReasons = [...]string{dropBufferFull: "buffer_full", dropStoreError: "store_error", dropClosed: "closed"}

// AccountantConfig configures an Accountant.
type AccountantConfig struct {
	// Agents, when set, gives each record its agent profile's live prompt
	// version, looked up when the record is written; nil (or a lookup that
	// fails) records version 0.
	Agents AgentProfiles
	// Buffer bounds the records waiting to be written;
	// DefaultAccountantBuffer when 0. A record that finds it full is
	// dropped.
	Buffer int
	// BatchSize is the most records one write holds;
	// DefaultAccountantBatchSize when 0.
	BatchSize int
	// FlushInterval is the longest a record waits for others to share its
	// write; DefaultAccountantFlushInterval when 0.
	FlushInterval time.Duration
	// WriteTimeout bounds one attempt to write a batch (agent lookups
	// included); DefaultAccountantWriteTimeout when 0.
	WriteTimeout time.Duration
	// Retries is how many more times a failed batch is tried before it is
	// dropped; DefaultAccountantRetries when 0, none when negative.
	Retries int
	// RetryBackoff is the wait before the first retry, doubled before each
	// next one; DefaultAccountantRetryBackoff when 0.
	RetryBackoff time.Duration
	// LogEvery bounds the log lines about dropped records to one per
	// LogEvery; DefaultAccountantLogEvery when 0.
	LogEvery time.Duration
	// Clock times calls, batches and backoff; the wall clock when nil.
	Clock clock.Clock
}

// Validate reports a configuration that cannot work.
func (c AccountantConfig) Validate() error {
	if c.Buffer < 0 || c.BatchSize < 0 || c.FlushInterval < 0 || c.WriteTimeout < 0 || c.RetryBackoff < 0 || c.LogEvery < 0 {
		return errors.New("llm accountant: negative buffer, batch size, interval, timeout, backoff or log interval")
	}
	return nil
}

// maxErrorText bounds the error text kept in a record.
const maxErrorText = 1000

// Accountant is a Completer that records every call of the Completer it
// wraps, answered or failed, as a persistence.LLMCall of the request's
// tenant. Records are written in batches by a background writer: a call
// never waits for the store, and a record that cannot be written (queue
// full, store failing, shut down) is dropped, counted in
// frontdesk_llm_calls_dropped_total and logged, without failing the call.
// A request without a tenant is not recorded. Close stops the writer after
// writing what is queued; Flush waits for what was recorded so far.
type Accountant struct {
	cfg   AccountantConfig
	next  Completer
	store CallStore
	log   zerolog.Logger

	// mu is held for reading while a record is offered to queue and for
	// writing while Close marks the Accountant closed.
	mu     sync.RWMutex
	closed bool
	queue  chan persistence.LLMCall

	flush chan chan struct{}
	stop  chan struct{}
	done  chan struct{}
	// tick carries the generation of a batch timer that fired.
	tick chan uint64
	// writes is the context of the writer's store calls; cancelWrites
	// ends it when Close gives up waiting.
	writes       context.Context
	cancelWrites context.CancelFunc

	dropped [len(dropReasons)]prometheus.Counter
	// unlogged counts drops since the last log line, by reason;
	// lastLog is when that line was written (UnixNano; 0: never).
	unlogged [len(dropReasons)]atomic.Int64
	lastLog  atomic.Int64
}

var _ Streamer = (*Accountant)(nil)

// NewAccountant returns an Accountant recording next's calls in store,
// and starts its writer; Close stops it. It registers
// frontdesk_llm_calls_dropped_total with reg (none when nil).
func NewAccountant(cfg AccountantConfig, next Completer, store CallStore, log zerolog.Logger, reg prometheus.Registerer) (*Accountant, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if next == nil || store == nil {
		return nil, errors.New("llm accountant: nil completer or store")
	}
	cfg.Buffer = cmp0(cfg.Buffer, DefaultAccountantBuffer)
	cfg.BatchSize = cmp0(cfg.BatchSize, DefaultAccountantBatchSize)
	cfg.FlushInterval = cmp0(cfg.FlushInterval, DefaultAccountantFlushInterval)
	cfg.WriteTimeout = cmp0(cfg.WriteTimeout, DefaultAccountantWriteTimeout)
	cfg.Retries = cmp0(cfg.Retries, DefaultAccountantRetries)
	cfg.RetryBackoff = cmp0(cfg.RetryBackoff, DefaultAccountantRetryBackoff)
	cfg.LogEvery = cmp0(cfg.LogEvery, DefaultAccountantLogEvery)
	if cfg.Clock == nil {
		cfg.Clock = clock.Real()
	}
	dropped := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "frontdesk_llm_calls_dropped_total",
		Help: "LLM call records never written to llm_calls, by reason (buffer_full: the writer's queue was full; store_error: the batch failed every try; closed: shut down).",
	}, []string{"reason"})
	if reg != nil {
		if err := reg.Register(dropped); err != nil {
			return nil, fmt.Errorf("register llm accountant metrics: %w", err)
		}
	}
	a := &Accountant{cfg: cfg, next: next, store: store, log: log,
		queue: make(chan persistence.LLMCall, cfg.Buffer), flush: make(chan chan struct{}),
		stop: make(chan struct{}), done: make(chan struct{}), tick: make(chan uint64)}
	for i, r := range dropReasons {
		a.dropped[i] = dropped.WithLabelValues(r) // exported from the start, at zero
	}
	a.writes, a.cancelWrites = context.WithCancel(context.Background())
	go a.run()
	return a, nil
}

// cmp0 returns v, or def when v is zero.
func cmp0[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

// Complete answers req with the wrapped Completer and records the call.
func (a *Accountant) Complete(ctx context.Context, req llmrouter.Request) (llmrouter.Response, error) {
	start := a.cfg.Clock.Now()
	resp, err := a.next.Complete(ctx, req)
	a.record(req, resp, err, start)
	return resp, err
}

// Stream streams req's answer with the wrapped Completer when it is a
// Streamer, and records the call; otherwise it fails with
// ErrStreamingUnsupported before anything happens.
func (a *Accountant) Stream(ctx context.Context, req llmrouter.Request, onDelta func(llmrouter.Delta)) (llmrouter.Response, error) {
	st, ok := a.next.(Streamer)
	if !ok {
		return llmrouter.Response{}, ErrStreamingUnsupported
	}
	start := a.cfg.Clock.Now()
	resp, err := st.Stream(ctx, req, onDelta)
	if !errors.Is(err, ErrStreamingUnsupported) {
		a.record(req, resp, err, start)
	}
	return resp, err
}

// Flush returns once every call recorded before it was called has been
// written or dropped, or with ctx's error when ctx ends first (the records
// stay queued). Once Close has stopped the writer it returns at once.
func (a *Accountant) Flush(ctx context.Context) error {
	ack := make(chan struct{})
	select {
	case a.flush <- ack:
	case <-a.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case <-ack:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close stops recording: calls made from now on are dropped (counted as
// closed), and the writer writes what is queued and exits. When ctx ends
// first, the write in progress is cancelled, what is left is dropped, and
// Close returns ctx's error without waiting further. Close it before the
// store closes.
func (a *Accountant) Close(ctx context.Context) error {
	a.mu.Lock()
	if !a.closed {
		a.closed = true
		close(a.stop)
	}
	a.mu.Unlock()
	select {
	case <-a.done:
		return nil
	case <-ctx.Done():
		a.cancelWrites()
		return fmt.Errorf("llm accountant: close: %w", ctx.Err())
	}
}

// record queues the call's record without waiting, or drops it.
func (a *Accountant) record(req llmrouter.Request, resp llmrouter.Response, callErr error, start time.Time) {
	if req.TenantID == "" {
		a.log.Warn().Str("conversation_id", req.ConversationID).Str("agent_id", req.AgentProfileID).
			Msg("llm call without a tenant: not recorded")
		return
	}
	now := a.cfg.Clock.Now()
	call := persistence.LLMCall{
		Base:           persistence.Base{TenantID: req.TenantID, CreatedAt: now},
		AgentProfileID: req.AgentProfileID, ConversationID: req.ConversationID,
		Backend: resp.Backend, Model: resp.Model, Route: resp.Route,
		PromptTokens: max(resp.Usage.PromptTokens, 0), CompletionTokens: max(resp.Usage.CompletionTokens, 0),
		LatencyMS: max(now.Sub(start).Milliseconds(), 0), Outcome: persistence.LLMOutcomeOK,
	}
	switch {
	case callErr != nil:
		call.Outcome, call.Error = persistence.LLMOutcomeError, clip(callErr.Error(), maxErrorText)
		if call.Model == "" {
			call.Model = req.Model
		}
	case resp.Offline:
		call.Outcome = persistence.LLMOutcomeOffline
	}
	a.mu.RLock()
	reason := -1
	if a.closed {
		reason = dropClosed
	} else {
		select {
		case a.queue <- call:
		default:
			reason = dropBufferFull
		}
	}
	a.mu.RUnlock()
	if reason >= 0 {
		a.drop(reason, 1, nil)
	}
}

// run is the writer: it batches the queue's records and writes them until
// Close, then writes what is left.
func (a *Accountant) run() {
	defer close(a.done)
	batch := make([]persistence.LLMCall, 0, a.cfg.BatchSize)
	var gen uint64 // the generation of the batch timer; a tick of another is stale
	var timer clock.Timer
	writeBatch := func() {
		if timer != nil {
			timer.Stop()
			timer = nil
		}
		gen++
		if len(batch) > 0 {
			a.write(batch)
			clear(batch) // let go of the strings
			batch = batch[:0]
		}
	}
	add := func(c persistence.LLMCall) {
		batch = append(batch, c)
		if len(batch) >= a.cfg.BatchSize {
			writeBatch()
		} else if len(batch) == 1 {
			g := gen
			timer = a.cfg.Clock.AfterFunc(a.cfg.FlushInterval, func() {
				select {
				case a.tick <- g:
				case <-a.done:
				}
			})
		}
	}
	// drain adds what is queued now (no more: callers keep adding).
	drain := func() {
		for n := len(a.queue); n > 0; n-- {
			add(<-a.queue)
		}
		writeBatch()
	}
	for {
		select {
		case c := <-a.queue:
			add(c)
		case g := <-a.tick:
			if g == gen {
				writeBatch()
			}
		case ack := <-a.flush:
			drain()
			close(ack)
		case <-a.stop:
			// No record is offered after stop (Close holds mu), so this
			// drains the queue.
			drain()
			return
		}
	}
}

// write writes batch, looking up its agent versions first, and tries again
// with backoff; a batch that fails every try is dropped.
func (a *Accountant) write(batch []persistence.LLMCall) {
	a.agentVersions(batch)
	backoff := a.cfg.RetryBackoff
	var err error
	for try := 0; ; try++ {
		ctx, cancel := context.WithTimeout(a.writes, a.cfg.WriteTimeout)
		err = a.store.CreateLLMCalls(ctx, batch)
		cancel()
		if err == nil || (try > 0 && errors.Is(err, persistence.ErrDuplicate)) {
			// A duplicate on a retry: an earlier try did commit (the batch
			// is one transaction and keeps its ids).
			return
		}
		if try >= max(a.cfg.Retries, 0) || errors.Is(err, persistence.ErrInvalid) || a.writes.Err() != nil {
			break
		}
		a.log.Debug().Err(err).Int("calls", len(batch)).Dur("backoff", backoff).Msg("llm calls not written yet; trying again")
		if !a.sleep(backoff) {
			break
		}
		backoff *= 2
	}
	reason := dropStoreError
	if a.writes.Err() != nil {
		reason = dropClosed
	}
	a.drop(reason, len(batch), fmt.Errorf("record %d llm calls: %w", len(batch), err))
}

// sleep waits d on the clock; false when Close gave up first.
func (a *Accountant) sleep(d time.Duration) bool {
	woke := make(chan struct{})
	t := a.cfg.Clock.AfterFunc(d, func() { close(woke) })
	select {
	case <-woke:
		return true
	case <-a.writes.Done():
		t.Stop()
		return false
	}
}

// agentVersions fills the batch's agent versions with their profiles'
// live versions, one lookup per agent profile.
func (a *Accountant) agentVersions(batch []persistence.LLMCall) {
	if a.cfg.Agents == nil {
		return
	}
	type agent struct{ tenant, id string }
	versions := map[agent]int{}
	for i := range batch {
		c := &batch[i]
		if c.AgentProfileID == "" {
			continue
		}
		k := agent{c.TenantID, c.AgentProfileID}
		v, ok := versions[k]
		if !ok {
			ctx, cancel := context.WithTimeout(a.writes, a.cfg.WriteTimeout)
			p, err := a.cfg.Agents.GetAgentProfile(ctx, k.tenant, k.id)
			cancel()
			if err == nil {
				v = p.LiveVersion
			} else if !errors.Is(err, persistence.ErrNotFound) {
				a.log.Warn().Err(err).Str("tenant_id", k.tenant).Str("agent_id", k.id).Msg("llm calls: agent version unknown")
			}
			versions[k] = v
		}
		c.AgentVersion = v
	}
}

// drop counts n records dropped for dropReasons[reason] and logs the drops
// at most once per LogEvery.
func (a *Accountant) drop(reason, n int, err error) {
	a.dropped[reason].Add(float64(n))
	a.unlogged[reason].Add(int64(n))
	now := a.cfg.Clock.Now().UnixNano()
	last := a.lastLog.Load()
	if last != 0 && now-last < int64(a.cfg.LogEvery) || !a.lastLog.CompareAndSwap(last, now) {
		return
	}
	ev := a.log.Error()
	if err != nil {
		ev = ev.Err(err)
	}
	for i, r := range dropReasons {
		ev = ev.Int64("dropped_"+r, a.unlogged[i].Swap(0))
	}
	ev.Dur("log_every", a.cfg.LogEvery).Msg("llm calls not recorded")
}

// clip cuts s to at most n bytes on a rune boundary.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
