// Package dashboard owns the live hub, which fans each tenant's live event
// stream out to the dashboard's subscribers, the WebSocket endpoint that
// serves it (GET /ws, ws.go) and, later, the web app under dashboard/web.
//
// The stream lives in the store: producers append persistence.LiveEvent rows
// in the transaction of the change they describe, with ids dense per tenant
// and visible in id order. Every member's hub reads the same rows, so the
// stream is the same on every member, survives restarts, and a client that
// resumes after the last id it saw gets exactly what it missed.
//
// Protocol. For each tenant with subscribers one poller goroutine, started by
// Run, reads the events after its cursor every PollInterval, or at once after
// Notify, and offers each to every live subscriber without blocking; a
// subscriber whose buffer is full is dropped with ErrSlowConsumer, so it
// never slows the others. The poller stops when its tenant has no
// subscribers left. A subscriber that starts behind the poller's cursor is
// first backfilled from the store by a goroutine of its own, which waits on
// the subscriber's buffer (a resuming client is not dropped for reading its
// backlog) and repeats until it has reached the cursor; then, under the
// tenant lock, it becomes live. Each subscriber keeps the id of the last
// event it was given and is offered greater ids only, and the poller's
// batches continue exactly after its cursor, so the handoff from backfill to
// live delivery has neither gap nor duplicate.
//
// Lock order: Hub.mu, then tenant.mu, then Subscription.mu. No lock is held
// across a store call or a blocking send.
package dashboard

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/frontdesk-ai/frontdesk/persistence"
)

// Source is what the hub reads the live streams from: the store.
type Source interface {
	// LiveEventsAfter returns up to limit events of tenantID with an id
	// above afterID, oldest first, committed ones only.
	LiveEventsAfter(ctx context.Context, tenantID string, afterID int64, limit int) ([]persistence.LiveEvent, error)
	// LatestLiveEventID returns the id of tenantID's newest committed event,
	// or 0 when it has none.
	LatestLiveEventID(ctx context.Context, tenantID string) (int64, error)
}

// Default values of Config.
const (
	DefaultPollInterval     = 200 * time.Millisecond
	DefaultSubscriberBuffer = 256
	DefaultBackfillLimit    = 500
)

// Errors that end a subscription, reported by Subscription.Err.
var (
	// ErrSlowConsumer means the subscriber's buffer was full when a live
	// event arrived; it was dropped so as not to slow the others.
	ErrSlowConsumer = errors.New("slow consumer")
	// ErrHubClosed means the hub has stopped (Run returned).
	ErrHubClosed = errors.New("live hub stopped")
	// ErrClosed means the subscriber called Close.
	ErrClosed = errors.New("subscription closed")
)

// Config tunes the hub. Zero fields take their defaults.
type Config struct {
	// PollInterval is the longest a tenant's poller waits before looking at
	// the store again (default 200ms); events committed by other members
	// show within it. Notify wakes it at once.
	PollInterval time.Duration
	// SubscriberBuffer is the number of events a subscriber may fall behind
	// live delivery before it is dropped (default 256).
	SubscriberBuffer int
	// BackfillLimit bounds the events of one store read, by a poller or a
	// backfill (default 500).
	BackfillLimit int
}

// Validate reports a configuration that cannot work.
func (c Config) Validate() error {
	if c.PollInterval < 0 {
		return fmt.Errorf("live poll interval %s: must not be negative", c.PollInterval)
	}
	if c.SubscriberBuffer < 0 {
		return fmt.Errorf("live subscriber buffer %d: must not be negative", c.SubscriberBuffer)
	}
	if c.BackfillLimit < 0 {
		return fmt.Errorf("live backfill limit %d: must not be negative", c.BackfillLimit)
	}
	return nil
}

func (c Config) withDefaults() Config {
	if c.PollInterval <= 0 {
		c.PollInterval = DefaultPollInterval
	}
	if c.SubscriberBuffer <= 0 {
		c.SubscriberBuffer = DefaultSubscriberBuffer
	}
	if c.BackfillLimit <= 0 {
		c.BackfillLimit = DefaultBackfillLimit
	}
	return c
}

// hub states
const (
	idle = iota
	running
	stopped
)

// Hub fans live events out to subscribers, one poller per tenant with
// subscribers. It is safe for concurrent use.
type Hub struct {
	cfg  Config
	src  Source
	log  zerolog.Logger
	m    metrics
	kick chan struct{} // tells Run that a tenant waits for a poller

	mu      sync.Mutex
	state   int
	tenants map[string]*tenant // tenants with subscribers or a poller
	wg      sync.WaitGroup     // pollers and backfills; Add only while not stopped
}

// tenant is the hub's state of one tenant's stream.
type tenant struct {
	id   string
	wake chan struct{} // capacity 1: poll now

	// polling is guarded by Hub.mu.
	polling bool

	mu     sync.Mutex
	cursor int64 // last id offered to live subscribers; set by the poller
	subs   map[*Subscription]struct{}
}

// New returns a hub reading from source. Zero fields of cfg take their
// defaults; call cfg.Validate first. The hub polls only while Run runs.
func New(cfg Config, source Source, log zerolog.Logger) *Hub {
	return &Hub{
		cfg:     cfg.withDefaults(),
		src:     source,
		log:     log,
		m:       newMetrics(),
		kick:    make(chan struct{}, 1),
		tenants: make(map[string]*tenant),
	}
}

// RegisterMetrics registers the hub's Prometheus metrics with reg.
func (h *Hub) RegisterMetrics(reg prometheus.Registerer) error {
	for _, c := range h.m.collectors() {
		if err := reg.Register(c); err != nil {
			return fmt.Errorf("register live hub metrics: %w", err)
		}
	}
	return nil
}

// Run starts and supervises the tenants' pollers until ctx is done; then it
// ends every subscription with ErrHubClosed, waits for its goroutines and
// returns nil. Subscriptions made before Run are served once it starts.
func (h *Hub) Run(ctx context.Context) error {
	h.mu.Lock()
	if h.state != idle {
		h.mu.Unlock()
		return errors.New("live hub: Run called more than once")
	}
	h.state = running
	h.mu.Unlock()
	for {
		h.startPollers(ctx)
		select {
		case <-ctx.Done():
			h.stop()
			return nil
		case <-h.kick:
		}
	}
}

// startPollers starts a poller for every tenant that lacks one.
func (h *Hub) startPollers(ctx context.Context) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, t := range h.tenants {
		if t.polling {
			continue
		}
		t.polling = true
		h.wg.Add(1)
		go h.poll(ctx, t)
	}
}

// stop ends every subscription and waits for the pollers and backfills.
func (h *Hub) stop() {
	h.mu.Lock()
	h.state = stopped
	var subs []*Subscription
	for _, t := range h.tenants {
		t.mu.Lock()
		for s := range t.subs {
			subs = append(subs, s)
		}
		t.mu.Unlock()
	}
	h.mu.Unlock()
	for _, s := range subs {
		h.drop(s, ErrHubClosed)
	}
	h.wg.Wait()
}

// Notify wakes the poller of tenantID, if it has one, to read the store at
// once. Call it right after committing live events of the tenant.
func (h *Hub) Notify(tenantID string) {
	h.mu.Lock()
	t := h.tenants[tenantID]
	h.mu.Unlock()
	if t != nil {
		t.poke()
	}
}

func (t *tenant) poke() {
	select {
	case t.wake <- struct{}{}:
	default:
	}
}

// Subscribe returns a subscription to tenantID's live events. It delivers
// every event with an id above lastID, in id order and exactly once, then
// the events that commit later; with fromLatest it ignores lastID and starts
// after the tenant's newest event. The subscription ends when ctx is done,
// on Close, when the hub stops, or when the subscriber falls more than
// SubscriberBuffer events behind live delivery (ErrSlowConsumer). A lastID
// above the newest event skips the events up to it.
func (h *Hub) Subscribe(ctx context.Context, tenantID string, lastID int64, fromLatest bool) (*Subscription, error) {
	if tenantID == "" {
		return nil, errors.New("subscribe to live events: empty tenant id")
	}
	if lastID < 0 {
		return nil, fmt.Errorf("subscribe to live events of tenant %s: last id %d is negative", tenantID, lastID)
	}
	latest, err := h.src.LatestLiveEventID(ctx, tenantID)
	if err != nil {
		return nil, fmt.Errorf("subscribe to live events of tenant %s: %w", tenantID, err)
	}
	bctx, cancel := context.WithCancel(ctx)
	s := &Subscription{
		h:      h,
		ch:     make(chan persistence.LiveEvent, h.cfg.SubscriberBuffer),
		done:   make(chan struct{}),
		cancel: cancel,
	}

	h.mu.Lock()
	if h.state == stopped {
		h.mu.Unlock()
		cancel()
		return nil, fmt.Errorf("subscribe to live events of tenant %s: %w", tenantID, ErrHubClosed)
	}
	t := h.tenants[tenantID]
	if t == nil {
		t = &tenant{id: tenantID, wake: make(chan struct{}, 1), cursor: latest, subs: make(map[*Subscription]struct{})}
		h.tenants[tenantID] = t
		select {
		case h.kick <- struct{}{}:
		default:
		}
	}
	s.t = t
	t.mu.Lock()
	s.pos = lastID
	if fromLatest {
		s.pos = max(latest, t.cursor)
	}
	s.live = s.pos >= t.cursor
	t.subs[s] = struct{}{}
	t.mu.Unlock()
	if !s.live {
		h.wg.Add(1)
		go h.backfill(bctx, s)
	}
	h.mu.Unlock()
	h.m.subscribers.Inc()

	stop := context.AfterFunc(ctx, func() { h.drop(s, context.Cause(ctx)) })
	s.mu.Lock()
	if s.err != nil {
		s.mu.Unlock()
		stop()
	} else {
		s.stopWatch = stop
		s.mu.Unlock()
	}
	return s, nil
}

// drop ends s with err and removes it from its tenant. It finishes s before
// taking the tenant lock, so a Subscribe publishing s either sees it finished
// or is followed by the removal.
func (h *Hub) drop(s *Subscription, err error) {
	s.finish(err)
	t := s.t
	t.mu.Lock()
	removed := h.removeLocked(t, s)
	t.mu.Unlock()
	if removed {
		t.poke() // let the poller retire if s was the last one
	}
}

// removeLocked removes s from t, reporting whether it was there. t.mu is held.
func (h *Hub) removeLocked(t *tenant, s *Subscription) bool {
	if _, ok := t.subs[s]; !ok {
		return false
	}
	delete(t.subs, s)
	h.m.subscribers.Dec()
	return true
}

// poll is the poller of t: it reads the events after its cursor and offers
// them to t's live subscribers until t has none or ctx is done.
func (h *Hub) poll(ctx context.Context, t *tenant) {
	defer h.wg.Done()
	h.m.pollers.Inc()
	defer h.m.pollers.Dec()
	log := h.log.With().Str("tenant_id", t.id).Logger()
	t.mu.Lock()
	cursor := t.cursor
	t.mu.Unlock()
	timer := time.NewTimer(h.cfg.PollInterval)
	defer timer.Stop()
	for {
		if h.retire(t) {
			return
		}
		evs, err := h.src.LiveEventsAfter(ctx, t.id, cursor, h.cfg.BackfillLimit)
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			h.m.pollErrors.Inc()
			log.Warn().Err(err).Int64("after_id", cursor).Msg("live hub: poll failed; retrying")
		case len(evs) > 0:
			if evs[0].ID != cursor+1 {
				log.Warn().Int64("after_id", cursor).Int64("next_id", evs[0].ID).Msg("live hub: events missing from the store")
			}
			cursor = h.deliver(t, evs)
			if len(evs) == h.cfg.BackfillLimit {
				continue // more are waiting
			}
		}
		timer.Reset(h.cfg.PollInterval)
		select {
		case <-ctx.Done():
			return
		case <-t.wake:
		case <-timer.C:
		}
	}
}

// retire removes t from the hub and reports true when it has no
// subscribers; its poller then ends. A later Subscribe starts afresh.
func (h *Hub) retire(t *tenant) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.subs) > 0 {
		return false
	}
	delete(h.tenants, t.id)
	t.polling = false
	return true
}

// deliver offers evs to t's live subscribers, drops those whose buffer is
// full, and advances t's cursor. It returns the new cursor.
func (h *Hub) deliver(t *tenant, evs []persistence.LiveEvent) int64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, e := range evs {
		for s := range t.subs {
			if !s.live || e.ID <= s.pos {
				continue
			}
			select {
			case s.ch <- e:
				s.pos = e.ID
				h.m.delivered.Inc()
			default:
				h.removeLocked(t, s)
				s.finish(ErrSlowConsumer)
				h.m.slow.Inc()
				h.log.Info().Str("tenant_id", t.id).Int64("event_id", e.ID).Msg("live hub: dropped a slow subscriber")
			}
		}
	}
	t.cursor = evs[len(evs)-1].ID
	return t.cursor
}

// backfill sends s the stored events between its position and t's cursor,
// waiting on s's buffer, and then makes s live.
func (h *Hub) backfill(ctx context.Context, s *Subscription) {
	defer h.wg.Done()
	t := s.t
	for {
		t.mu.Lock()
		pos := s.pos
		if pos >= t.cursor {
			s.live = true
			t.mu.Unlock()
			return
		}
		t.mu.Unlock()
		evs, err := h.src.LiveEventsAfter(ctx, t.id, pos, h.cfg.BackfillLimit)
		if err != nil {
			if ctx.Err() == nil {
				h.log.Warn().Err(err).Str("tenant_id", t.id).Int64("after_id", pos).Msg("live hub: backfill failed")
			}
			h.drop(s, fmt.Errorf("backfill live events of tenant %s after %d: %w", t.id, pos, err))
			return
		}
		if len(evs) == 0 {
			// Nothing is stored up to the cursor (events were removed):
			// continue live from there.
			t.mu.Lock()
			s.pos = max(s.pos, t.cursor)
			s.live = true
			t.mu.Unlock()
			return
		}
		for _, e := range evs {
			select {
			case s.ch <- e:
				h.m.delivered.Inc()
			case <-s.done:
				return
			}
		}
		t.mu.Lock()
		s.pos = evs[len(evs)-1].ID
		t.mu.Unlock()
	}
}

// Subscription is one subscriber's view of a tenant's live stream.
type Subscription struct {
	h      *Hub
	t      *tenant
	ch     chan persistence.LiveEvent
	done   chan struct{}
	cancel context.CancelFunc // stops the backfill

	// pos and live are guarded by t.mu: pos is the id of the last event
	// given to the subscriber; live says the poller delivers to it.
	pos  int64
	live bool

	mu        sync.Mutex
	err       error
	stopWatch func() bool // stops watching the subscriber's context
}

// Events returns the channel of the subscription's events, in id order. It
// is never closed: select on Done as well.
func (s *Subscription) Events() <-chan persistence.LiveEvent { return s.ch }

// Done returns a channel closed when the subscription has ended; Err then
// says why. Events still buffered may be discarded.
func (s *Subscription) Done() <-chan struct{} { return s.done }

// Err returns nil while the subscription runs, then why it ended:
// ErrSlowConsumer, ErrHubClosed, ErrClosed, the context's error or a store
// error.
func (s *Subscription) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// Close ends the subscription. It is safe to call more than once.
func (s *Subscription) Close() { s.h.drop(s, ErrClosed) }

// finish records err as the reason s ended, the first time only.
func (s *Subscription) finish(err error) {
	s.mu.Lock()
	if s.err != nil {
		s.mu.Unlock()
		return
	}
	if err == nil {
		err = ErrClosed
	}
	s.err = err
	close(s.done)
	stop := s.stopWatch
	s.mu.Unlock()
	s.cancel()
	if stop != nil {
		stop()
	}
}

// metrics are the hub's Prometheus metrics; they are registered only
// through RegisterMetrics.
type metrics struct {
	subscribers prometheus.Gauge
	pollers     prometheus.Gauge
	delivered   prometheus.Counter
	slow        prometheus.Counter
	pollErrors  prometheus.Counter
}

func newMetrics() metrics {
	return metrics{
		subscribers: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "frontdesk_live_subscribers", Help: "Live event subscriptions open on this member.",
		}),
		pollers: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "frontdesk_live_pollers", Help: "Tenants whose live stream this member polls.",
		}),
		delivered: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "frontdesk_live_events_delivered_total", Help: "Live events handed to subscribers, backfill included.",
		}),
		slow: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "frontdesk_live_slow_consumers_total", Help: "Subscribers dropped because their buffer was full.",
		}),
		pollErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "frontdesk_live_poll_errors_total", Help: "Failed reads of a live stream by a poller.",
		}),
	}
}

func (m metrics) collectors() []prometheus.Collector {
	return []prometheus.Collector{m.subscribers, m.pollers, m.delivered, m.slow, m.pollErrors}
}
