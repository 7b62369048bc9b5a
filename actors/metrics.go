package actors

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	activeGrains *prometheus.GaugeVec
	activations  *prometheus.CounterVec
	applied      *prometheus.CounterVec
	turns        *prometheus.CounterVec
	errors       *prometheus.CounterVec
	lag          *prometheus.GaugeVec
	delivered    *prometheus.CounterVec
	// storeReads counts the grains' store reads by kind and reason
	// (activation, agent, summary, …); a warm turn adds none.
	storeReads *prometheus.CounterVec
	reminders  prometheus.Counter
	// Confirmations (money with the customer's yes).
	confirmations *prometheus.CounterVec
	answerTime    *prometheus.HistogramVec
	executedMinor *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		activeGrains: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "frontdesk_active_grains", Help: "Grains active on this member, by kind.",
		}, []string{"kind"}),
		activations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "frontdesk_grain_activations_total", Help: "Grain activations on this member, by kind.",
		}, []string{"kind"}),
		applied: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "frontdesk_events_applied_total", Help: "Events handled by conversation grains, by result (applied, duplicate, rejected).",
		}, []string{"result"}),
		turns: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "frontdesk_turns_total", Help: "Conversation turns (an inbound event applied and answered or queued), by outcome.",
		}, []string{"outcome"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "frontdesk_errors_total", Help: "Errors, by component.",
		}, []string{"component"}),
		lag: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "frontdesk_log_lag", Help: "Records of a topic the consumer group has not committed.",
		}, []string{"group", "topic"}),
		delivered: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "frontdesk_dispatch_records_total", Help: "Records the dispatcher handled, by outcome (acked, dead_lettered).",
		}, []string{"group", "outcome"}),
		storeReads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "frontdesk_grain_store_reads_total", Help: "Store reads by grains, by kind and reason (activation, agent, summary, reload, command); a warm turn builds its context without any.",
		}, []string{"kind", "reason"}),
		reminders: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "frontdesk_reminders_fired_total", Help: "Durable grain reminders fired.",
		}),
		confirmations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "frontdesk_confirmations_total", Help: "Confirmation steps, by action and step (proposed, confirmed, declined, cancelled, awaiting_approval, approved, rejected, executed, execution_failed, expired).",
		}, []string{"action", "step"}),
		answerTime: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "frontdesk_confirmation_answer_seconds", Help: "Time from a confirmation's proposal to the customer's answer, by action.",
			Buckets: []float64{5, 15, 30, 60, 120, 300, 600, 1800, 3600},
		}, []string{"action"}),
		executedMinor: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "frontdesk_confirmation_executed_minor_total", Help: "Money moved by executed confirmations, in minor units, by action and currency.",
		}, []string{"action", "currency"}),
	}
	for _, c := range []prometheus.Collector{m.activeGrains, m.activations, m.applied, m.turns, m.errors, m.lag, m.delivered, m.storeReads, m.reminders,
		m.confirmations, m.answerTime, m.executedMinor} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("register actor metrics: %w", err)
		}
	}
	// Export every kind and the turn outcomes from the start, at zero.
	for _, k := range []string{KindConversation, KindCustomer} {
		m.activeGrains.WithLabelValues(k)
		m.activations.WithLabelValues(k)
	}
	return m, nil
}
