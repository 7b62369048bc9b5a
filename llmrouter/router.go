package llmrouter

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
)

// DefaultRoute names the route of a Config without routes: it matches
// every request and tries the backends in order.
const DefaultRoute = "default"

// Config configures a Router.
type Config struct {
	// Backends are the backends the router may call; their names must be
	// distinct and not OfflineName.
	Backends []Backend
	// Offline answers when no backend can; nil means NewOffline().
	Offline *Offline
	// Policy chooses among Backends by name. Without routes, one route
	// named DefaultRoute matches every request and tries Backends in
	// order.
	Policy Policy
	// Limits bound the router's use of each backend, by name; a backend
	// without an entry gets the zero Limits.
	Limits map[string]Limits
	// Now is the circuit breakers' clock; nil means time.Now.
	Now func() time.Time
	// Embeddings names the backend that Embed uses; its zero value means
	// the Router does not embed.
	Embeddings EmbeddingRoute
}

// EmbeddingRoute names the one backend that turns texts into vectors, and
// its model. There is no fallback: vectors of another model or server are
// not comparable with those already stored.
type EmbeddingRoute struct {
	// Backend is the Name of a configured backend that implements
	// Embedder; empty means none.
	Backend string
	// Model, when set, replaces the caller's model, as Candidate.Model
	// does; empty leaves the caller's, else the backend's configured one.
	Model string
}

// Limits bound the router's use of one backend.
type Limits struct {
	// MaxConcurrency bounds the calls in flight; zero means no bound. A
	// call that finds every slot taken goes to the next candidate at once
	// instead of waiting.
	MaxConcurrency int
	// Deadline bounds one call, retries included; zero means only the
	// caller's deadline. A call past it goes to the next candidate.
	Deadline time.Duration
	// Circuit configures the backend's circuit breaker.
	Circuit CircuitConfig
}

// Validate reports whether the config is usable.
func (c Config) Validate() error {
	names := map[string]bool{}
	for i, b := range c.Backends {
		if b == nil {
			return fmt.Errorf("llm router: backend %d is nil", i)
		}
		switch n := b.Name(); {
		case n == "" || n == OfflineName:
			return fmt.Errorf("llm router: backend %d: name %q is reserved or empty", i, n)
		case names[n]:
			return fmt.Errorf("llm router: backend %d: duplicate name %q", i, n)
		default:
			names[n] = true
		}
	}
	if err := c.Policy.validate(func(n string) bool { return names[n] }); err != nil {
		return fmt.Errorf("llm router: %w", err)
	}
	if e := c.Embeddings.Backend; e != "" {
		i := slices.IndexFunc(c.Backends, func(b Backend) bool { return b.Name() == e })
		if i < 0 {
			return fmt.Errorf("llm router: embeddings: unknown backend %q", e)
		}
		if _, ok := c.Backends[i].(Embedder); !ok {
			return fmt.Errorf("llm router: embeddings: backend %q cannot embed", e)
		}
	}
	for n, l := range c.Limits {
		if !names[n] {
			return fmt.Errorf("llm router: limits for unknown backend %q", n)
		}
		if l.MaxConcurrency < 0 || l.Deadline < 0 || l.Circuit.Failures < 0 || l.Circuit.Cooldown < 0 {
			return fmt.Errorf("llm router: limits of %q: negative value", n)
		}
	}
	return nil
}

// Router answers a Request by its Policy: the first route that matches
// it, the route's candidates in turn (the conversation's pick of a
// weighted split first), and the Offline responder when none can answer.
// It moves to the next candidate when one fails with ErrBackendUnavailable
// or ErrUnsupported, passes its own deadline, has its circuit open or its
// concurrency limit reached; any other error, and the caller's context
// ending, is returned as is.
//
// Concurrency: a Router is safe for concurrent use. Each backend's circuit
// breaker has its own mutex (a leaf lock) and its concurrency limit is a
// semaphore; nothing else changes after New.
type Router struct {
	backends map[string]*guarded
	policy   Policy
	offline  *Offline
	log      zerolog.Logger
	metrics  *metrics
	// embedder is the backend of Config.Embeddings, nil when none.
	embedder   *guarded
	embedModel string
}

var (
	_ Streamer = (*Router)(nil)
	_ Embedder = (*Router)(nil)
)

// guarded is a backend with what the router keeps for it.
type guarded struct {
	Backend
	breaker  *breaker
	slots    chan struct{} // nil: no concurrency bound
	deadline time.Duration
}

// New returns a Router for cfg that logs fallbacks to log and registers its
// metrics with reg (none when reg is nil).
func New(cfg Config, log zerolog.Logger, reg prometheus.Registerer) (*Router, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	m, err := newMetrics(reg)
	if err != nil {
		return nil, err
	}
	r := &Router{backends: map[string]*guarded{}, policy: cfg.Policy, offline: cfg.Offline, log: log, metrics: m}
	if r.offline == nil {
		r.offline = NewOffline()
	}
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	for _, b := range cfg.Backends {
		l := cfg.Limits[b.Name()]
		g := &guarded{Backend: b, deadline: l.Deadline, breaker: newBreaker(l.Circuit, now, m.circuitChanged(b.Name()))}
		if l.MaxConcurrency > 0 {
			g.slots = make(chan struct{}, l.MaxConcurrency)
		}
		r.backends[b.Name()] = g
	}
	if e := cfg.Embeddings; e.Backend != "" {
		r.embedder, r.embedModel = r.backends[e.Backend], e.Model
	}
	if len(r.policy.Routes) == 0 && len(cfg.Backends) > 0 {
		route := Route{Name: DefaultRoute}
		for _, b := range cfg.Backends {
			route.Candidates = append(route.Candidates, Candidate{Backend: b.Name()})
		}
		r.policy.Routes = []Route{route}
	}
	return r, nil
}

// NewDefault returns the router of the default agent: the OpenAI-compatible
// backend "openai" at baseURL for model with apiKey (FRONTDESK_LLM_BASE_URL,
// _MODEL, _API_KEY) when baseURL is set, on one catch-all route, then the
// Offline responder, and embedding with the same backend (the caller's
// model, else model); with no baseURL, the Offline responder alone, which
// does not embed. It is NewFromConfig of that configuration.
func NewDefault(baseURL, model, apiKey string, log zerolog.Logger, reg prometheus.Registerer) (*Router, error) {
	var cfg FileConfig
	if baseURL != "" {
		cfg.Backends = []BackendConfig{{Name: "openai", Kind: KindOpenAI, BaseURL: baseURL, Model: model, APIKey: apiKey}}
		cfg.Embeddings = &EmbeddingsConfig{Backend: "openai"}
	}
	return NewFromConfig(cfg, log, reg)
}

// Name returns "router".
func (r *Router) Name() string { return "router" }

// Backend returns the configured backend named name, for the interfaces
// it may also implement (Embedder, say).
func (r *Router) Backend(name string) (Backend, bool) {
	g, ok := r.backends[name]
	if !ok {
		return nil, false
	}
	return g.Backend, true
}

// Complete answers req. Response.Latency covers every backend tried and
// Response.Route names the route. The error wraps ErrInvalidRequest for an
// invalid request, is a backend's final error (an *APIError, say), or
// wraps the context's error when the caller gave up.
func (r *Router) Complete(ctx context.Context, req Request) (Response, error) {
	return r.serve(ctx, req, nil)
}

// Stream is Complete that hands the answer to onDelta as it arrives, from
// backends that stream and in one piece from the others. A candidate that
// fails before any piece reached onDelta is replaced by the next one, as
// in Complete; one that fails after is not: its error is returned.
func (r *Router) Stream(ctx context.Context, req Request, onDelta func(Delta)) (Response, error) {
	if onDelta == nil {
		onDelta = func(Delta) {}
	}
	return r.serve(ctx, req, onDelta)
}

func (r *Router) serve(ctx context.Context, req Request, onDelta func(Delta)) (Response, error) {
	start := time.Now()
	if err := req.Validate(); err != nil {
		return Response{}, fmt.Errorf("llm router: %w", err)
	}
	route, matched := r.policy.route(req)
	if matched {
		delivered := false
		for _, c := range route.order(req) {
			resp, err := r.try(ctx, r.backends[c.Backend], c.apply(req), onDelta, &delivered)
			if err == nil {
				resp.Route = route.Name
				return r.answered(resp, c.Backend, start), nil
			}
			if ctx.Err() != nil || delivered || !fallsThrough(err) {
				return Response{}, fmt.Errorf("llm router: %w", err)
			}
			r.log.Warn().Err(err).Str("route", route.Name).Str("backend", c.Backend).Str("tenant_id", req.TenantID).
				Str("conversation_id", req.ConversationID).Msg("llm backend unavailable, trying the next")
		}
	} else if len(r.policy.Routes) > 0 {
		r.log.Warn().Str("tenant_id", req.TenantID).Str("conversation_id", req.ConversationID).Str("channel", req.Channel).
			Msg("no llm route matches the request; the offline responder answers")
	}
	t0 := time.Now()
	resp, err := r.offline.Complete(ctx, req)
	r.metrics.call(OfflineName, OfflineName, outcome(ctx, err), time.Since(t0), Usage{})
	if err != nil {
		return Response{}, fmt.Errorf("llm router: %w", err)
	}
	if onDelta != nil {
		onDelta(wholeDelta(resp.Message))
	}
	if matched {
		resp.Route = route.Name
	}
	return r.answered(resp, OfflineName, start), nil
}

// fallsThrough reports whether err lets the next candidate try.
func fallsThrough(err error) bool {
	for _, target := range []error{ErrBackendUnavailable, ErrUnsupported, ErrCircuitOpen, ErrBackendBusy, context.DeadlineExceeded} {
		if errors.Is(err, target) {
			return true
		}
	}
	return false
}

// try calls g with req unless its concurrency limit is reached or its
// circuit is open, within its deadline, and records the call.
func (r *Router) try(ctx context.Context, g *guarded, req Request, onDelta func(Delta), delivered *bool) (Response, error) {
	var resp Response
	err := r.guard(ctx, g, g.model(req), func(ctx context.Context) (Usage, error) {
		var err error
		resp, err = g.call(ctx, req, onDelta, delivered)
		return resp.Usage, err
	})
	return resp, err
}

// guard runs call against g unless its concurrency limit is reached or its
// circuit is open, within its deadline; it tells the breaker how the call
// went and records it under model.
func (r *Router) guard(ctx context.Context, g *guarded, model string, call func(ctx context.Context) (Usage, error)) error {
	name := g.Name()
	if !g.acquire() {
		r.metrics.call(name, model, outcomeBusy, 0, Usage{})
		return fmt.Errorf("%s: %w", name, ErrBackendBusy)
	}
	defer g.release()
	if !g.breaker.allow() {
		r.metrics.call(name, model, outcomeCircuitOpen, 0, Usage{})
		return fmt.Errorf("%s: %w", name, ErrCircuitOpen)
	}
	cctx := ctx
	if g.deadline > 0 {
		var cancel context.CancelFunc
		cctx, cancel = context.WithTimeout(ctx, g.deadline)
		defer cancel()
	}
	t0 := time.Now()
	usage, err := call(cctx)
	oc := outcome(ctx, err)
	switch {
	case oc == outcomeError && errors.Is(err, ErrInvalidRequest):
		// Refused before anything was sent: no verdict on the server.
		g.breaker.abandon()
	case oc == outcomeOK, oc == outcomeError:
		// The server answered, if only to refuse the request.
		g.breaker.success()
	case oc == outcomeUnavailable:
		g.breaker.failure()
	default:
		g.breaker.abandon()
	}
	r.metrics.call(name, model, oc, time.Since(t0), usage)
	return err
}

// Embed turns inputs into vectors, one per input in order, with the
// backend of Config.Embeddings, under its circuit breaker, concurrency
// limit and deadline. The model sent is the route's when it names one,
// else model, else the backend's configured one. Nothing falls back: a
// vector of another model would not be comparable. The error wraps
// ErrUnsupported when the Router has no embeddings backend, ErrCircuitOpen
// or ErrBackendBusy when the backend was skipped, and is otherwise the
// backend's (see Embedder).
func (r *Router) Embed(ctx context.Context, model string, inputs []string) ([][]float32, error) {
	g := r.embedder
	if g == nil {
		return nil, fmt.Errorf("llm router: embeddings: %w: no embeddings backend is configured", ErrUnsupported)
	}
	if r.embedModel != "" {
		model = r.embedModel
	}
	var out [][]float32
	err := r.guard(ctx, g, g.model(Request{Model: model}), func(ctx context.Context) (Usage, error) {
		var err error
		out, err = g.Backend.(Embedder).Embed(ctx, model, inputs)
		return Usage{}, err
	})
	if err != nil {
		return nil, fmt.Errorf("llm router: embeddings: %w", err)
	}
	return out, nil
}

func (g *guarded) call(ctx context.Context, req Request, onDelta func(Delta), delivered *bool) (Response, error) {
	if onDelta == nil {
		return g.Complete(ctx, req)
	}
	if s, ok := g.Backend.(Streamer); ok {
		return s.Stream(ctx, req, func(d Delta) {
			*delivered = true
			onDelta(d)
		})
	}
	resp, err := g.Complete(ctx, req)
	if err == nil {
		*delivered = true
		onDelta(wholeDelta(resp.Message))
	}
	return resp, err
}

func (g *guarded) acquire() bool {
	if g.slots == nil {
		return true
	}
	select {
	case g.slots <- struct{}{}:
		return true
	default:
		return false
	}
}

func (g *guarded) release() {
	if g.slots != nil {
		<-g.slots
	}
}

// model is the model label of a call of req: its model, else the
// backend's configured one.
func (g *guarded) model(req Request) string {
	if req.Model != "" {
		return req.Model
	}
	if m, ok := g.Backend.(interface{ Model() string }); ok {
		return m.Model()
	}
	return ""
}

func (r *Router) answered(resp Response, backend string, start time.Time) Response {
	if resp.Backend == "" {
		resp.Backend = backend
	}
	resp.Latency = time.Since(start)
	return resp
}
