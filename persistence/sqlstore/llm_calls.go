package sqlstore

import (
	"context"
	"fmt"
	"time"

	"github.com/frontdesk-ai/frontdesk/persistence"
)

var llmCalls = table[persistence.LLMCall]{
	name: "llm_calls",
	cols: []string{"agent_profile_id", "agent_version", "conversation_id", "backend", "model", "route",
		"prompt_tokens", "completion_tokens", "latency_ms", "outcome", "error"},
	fields: func(m *persistence.LLMCall) []any {
		return []any{&m.AgentProfileID, &m.AgentVersion, &m.ConversationID, &m.Backend, &m.Model, &m.Route,
			&m.PromptTokens, &m.CompletionTokens, &m.LatencyMS, &m.Outcome, &m.Error}
	},
	check: func(m *persistence.LLMCall) error {
		if err := need(persistence.ValidLLMOutcome(m.Outcome), "outcome", m.Outcome); err != nil {
			return err
		}
		if m.PromptTokens < 0 || m.CompletionTokens < 0 || m.LatencyMS < 0 || m.AgentVersion < 0 {
			return fmt.Errorf("negative tokens, latency or agent version: %w", persistence.ErrInvalid)
		}
		return nil
	},
}

// CreateLLMCall appends the record of one LLM call. LLM calls have no
// update; the database refuses one.
func (q q) CreateLLMCall(ctx context.Context, m *persistence.LLMCall) error {
	return create(ctx, q, llmCalls, m)
}

// ListLLMCalls returns one page of the tenant's LLM calls, oldest first,
// and the next cursor ("" on the last page).
func (q q) ListLLMCalls(ctx context.Context, tenantID string, p persistence.Page) ([]persistence.LLMCall, string, error) {
	return list(ctx, q, llmCalls, p, "tenant_id = ?", tenantID)
}

// summarizeLLMCallsSQL groups a tenant's calls since a time. The outcome
// literals are persistence.LLMOutcomeError and LLMOutcomeOffline.
const summarizeLLMCallsSQL = `SELECT agent_profile_id, agent_version, backend, model,
	COUNT(*),
	SUM(CASE WHEN outcome = 'error' THEN 1 ELSE 0 END),
	SUM(CASE WHEN outcome = 'offline' THEN 1 ELSE 0 END),
	SUM(prompt_tokens), SUM(completion_tokens),
	CAST(AVG(latency_ms) AS DOUBLE PRECISION), MAX(latency_ms)
FROM llm_calls
WHERE tenant_id = ? AND created_at >= ?
GROUP BY agent_profile_id, agent_version, backend, model
ORDER BY agent_profile_id, agent_version, backend, model`

// SummarizeLLMCalls sums the tenant's LLM calls made at or after since,
// one LLMUsage per agent profile, agent version, backend and model, in that
// order.
func (q q) SummarizeLLMCalls(ctx context.Context, tenantID string, since time.Time) ([]persistence.LLMUsage, error) {
	rows, err := q.ex.QueryContext(ctx, q.d.rebind(summarizeLLMCallsSQL), tenantID, normTime(since))
	if err != nil {
		return nil, fmt.Errorf("summarize llm calls: %w", mapErr(err))
	}
	defer rows.Close()
	var out []persistence.LLMUsage
	for rows.Next() {
		var u persistence.LLMUsage
		if err := rows.Scan(&u.AgentProfileID, &u.AgentVersion, &u.Backend, &u.Model, &u.Calls, &u.Errors, &u.Offline,
			&u.PromptTokens, &u.CompletionTokens, &u.AvgLatencyMS, &u.MaxLatencyMS); err != nil {
			return nil, fmt.Errorf("summarize llm calls: %w", err)
		}
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("summarize llm calls: %w", err)
	}
	return out, nil
}
