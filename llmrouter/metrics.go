package llmrouter

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Outcomes of one backend call, the outcome label of the metrics.
const (
	outcomeOK          = "ok"
	outcomeUnavailable = "unavailable"
	outcomeCancelled   = "cancelled"
	outcomeError       = "error"
	outcomeUnsupported = "unsupported"
	// Calls the router did not make.
	outcomeCircuitOpen = "circuit_open"
	outcomeBusy        = "busy"
)

func outcome(ctx context.Context, err error) string {
	switch {
	case err == nil:
		return outcomeOK
	case ctx.Err() != nil:
		return outcomeCancelled
	case errors.Is(err, ErrUnsupported):
		return outcomeUnsupported
	case errors.Is(err, ErrBackendUnavailable), errors.Is(err, context.DeadlineExceeded):
		return outcomeUnavailable
	}
	return outcomeError
}

// metrics are the Router's Prometheus collectors; a nil *metrics records
// nothing.
type metrics struct {
	calls    *prometheus.CounterVec
	duration *prometheus.HistogramVec
	tokens   *prometheus.CounterVec
	circuit  *prometheus.GaugeVec
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	if reg == nil {
		return nil, nil
	}
	m := &metrics{
		calls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "frontdesk_llm_calls_total",
			Help: "LLM backend calls by backend, model and outcome (ok, unavailable, cancelled, error, unsupported; circuit_open and busy for calls not made).",
		}, []string{"backend", "model", "outcome"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "frontdesk_llm_call_duration_seconds",
			Help:    "Duration of LLM backend calls made by the router, retries included, by backend and model.",
			Buckets: []float64{0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30, 60, 120},
		}, []string{"backend", "model"}),
		tokens: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "frontdesk_llm_tokens_total",
			Help: "Tokens of answered LLM calls by backend, model and direction (in: prompt, out: completion).",
		}, []string{"backend", "model", "direction"}),
		circuit: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "frontdesk_llm_circuit_state",
			Help: "Circuit breaker state by backend: 0 closed, 1 open, 2 half-open.",
		}, []string{"backend"}),
	}
	for _, c := range []prometheus.Collector{m.calls, m.duration, m.tokens, m.circuit} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("register llm router metrics: %w", err)
		}
	}
	return m, nil
}

// call records one call made (or skipped, for outcomeCircuitOpen and
// outcomeBusy, which take no time).
func (m *metrics) call(backend, model, outcome string, d time.Duration, usage Usage) {
	if m == nil {
		return
	}
	m.calls.WithLabelValues(backend, model, outcome).Inc()
	if outcome == outcomeCircuitOpen || outcome == outcomeBusy {
		return
	}
	m.duration.WithLabelValues(backend, model).Observe(d.Seconds())
	if outcome == outcomeOK {
		m.tokens.WithLabelValues(backend, model, "in").Add(float64(max(usage.PromptTokens, 0)))
		m.tokens.WithLabelValues(backend, model, "out").Add(float64(max(usage.CompletionTokens, 0)))
	}
}

// circuitChanged returns the breaker callback that sets backend's gauge.
func (m *metrics) circuitChanged(backend string) func(circuitState) {
	if m == nil {
		return nil
	}
	g := m.circuit.WithLabelValues(backend)
	g.Set(float64(circuitClosed))
	return func(s circuitState) { g.Set(float64(s)) }
}
