package llmrouter

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
)

// Config configures a Router.
type Config struct {
	// Backends are tried in order.
	Backends []Backend
	// Offline answers when no backend can; nil means NewOffline().
	Offline *Offline
}

// Validate reports whether the config is usable.
func (c Config) Validate() error {
	for i, b := range c.Backends {
		if b == nil {
			return fmt.Errorf("llm router: backend %d is nil", i)
		}
	}
	return nil
}

// Router answers a Request with the first backend that can, and with the
// Offline responder when none can. It moves to the next backend when one
// fails with ErrBackendUnavailable or a deadline of its own; any other
// error, and the caller's context ending, is returned as is.
type Router struct {
	backends []Backend
	offline  *Offline
	log      zerolog.Logger
	metrics  *metrics
}

// New returns a Router for cfg that logs fallbacks to log and registers its
// metrics with reg (none when reg is nil).
func New(cfg Config, log zerolog.Logger, reg prometheus.Registerer) (*Router, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	r := &Router{backends: append([]Backend(nil), cfg.Backends...), offline: cfg.Offline, log: log}
	if r.offline == nil {
		r.offline = NewOffline()
	}
	if reg != nil {
		m, err := newMetrics(reg)
		if err != nil {
			return nil, err
		}
		r.metrics = m
	}
	return r, nil
}

// NewDefault returns the router of the default agent: the OpenAI-compatible
// backend at baseURL for model with apiKey (FRONTDESK_LLM_BASE_URL, _MODEL,
// _API_KEY) when baseURL is set, then the Offline responder; with no
// baseURL, the Offline responder alone.
func NewDefault(baseURL, model, apiKey string, log zerolog.Logger, reg prometheus.Registerer) (*Router, error) {
	var cfg Config
	if baseURL != "" {
		b, err := NewOpenAI(OpenAIConfig{BaseURL: baseURL, Model: model, APIKey: apiKey})
		if err != nil {
			return nil, err
		}
		cfg.Backends = []Backend{b}
	}
	return New(cfg, log, reg)
}

// Complete answers req. Response.Latency covers every backend tried. The
// error wraps ErrInvalidRequest for an invalid request, is a backend's
// final error (an *APIError, say), or wraps the context's error when the
// caller gave up.
func (r *Router) Complete(ctx context.Context, req Request) (Response, error) {
	start := time.Now()
	if err := req.Validate(); err != nil {
		return Response{}, fmt.Errorf("llm router: %w", err)
	}
	for _, b := range r.backends {
		t0 := time.Now()
		resp, err := b.Complete(ctx, req)
		r.observe(b.Name(), outcome(ctx, err), time.Since(t0))
		if err == nil {
			return r.answered(resp, b.Name(), start), nil
		}
		if ctx.Err() != nil {
			return Response{}, fmt.Errorf("llm router: %w", err)
		}
		if !errors.Is(err, ErrBackendUnavailable) && !errors.Is(err, context.DeadlineExceeded) {
			return Response{}, fmt.Errorf("llm router: %w", err)
		}
		r.log.Warn().Err(err).Str("backend", b.Name()).Str("tenant_id", req.TenantID).
			Str("conversation_id", req.ConversationID).Msg("llm backend unavailable, trying the next")
	}
	t0 := time.Now()
	resp, err := r.offline.Complete(ctx, req)
	r.observe(OfflineName, outcome(ctx, err), time.Since(t0))
	if err != nil {
		return Response{}, fmt.Errorf("llm router: %w", err)
	}
	return r.answered(resp, OfflineName, start), nil
}

func (r *Router) answered(resp Response, backend string, start time.Time) Response {
	if resp.Backend == "" {
		resp.Backend = backend
	}
	resp.Latency = time.Since(start)
	return resp
}

// Outcomes of one backend call, the outcome label of the metrics.
const (
	outcomeOK          = "ok"
	outcomeUnavailable = "unavailable"
	outcomeCancelled   = "cancelled"
	outcomeError       = "error"
)

func outcome(ctx context.Context, err error) string {
	switch {
	case err == nil:
		return outcomeOK
	case ctx.Err() != nil:
		return outcomeCancelled
	case errors.Is(err, ErrBackendUnavailable), errors.Is(err, context.DeadlineExceeded):
		return outcomeUnavailable
	}
	return outcomeError
}

type metrics struct {
	calls    *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		calls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "frontdesk_llm_calls_total",
			Help: "LLM backend calls made by the router, by backend and outcome (ok, unavailable, cancelled, error).",
		}, []string{"backend", "outcome"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "frontdesk_llm_call_duration_seconds",
			Help:    "Duration of LLM backend calls made by the router, retries included, by backend.",
			Buckets: []float64{0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30, 60, 120},
		}, []string{"backend"}),
	}
	for _, c := range []prometheus.Collector{m.calls, m.duration} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("register llm router metrics: %w", err)
		}
	}
	return m, nil
}

func (r *Router) observe(backend, outcome string, d time.Duration) {
	if r.metrics == nil {
		return
	}
	r.metrics.calls.WithLabelValues(backend, outcome).Inc()
	r.metrics.duration.WithLabelValues(backend).Observe(d.Seconds())
}
