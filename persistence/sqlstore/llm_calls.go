package sqlstore

import (
	"context"
	"fmt"
	"strings"
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

// llmCallsPerInsert is the most rows one INSERT of CreateLLMCalls holds:
// 256 rows of 17 columns stay far below the bind-parameter limits of
// SQLite (32766) and PostgreSQL (65535), and a batch of the accountant's
// default size is one statement in autocommit (on SQLite a statement
// inside a longer transaction also writes a statement journal, measured
// 25 % slower). A batch is split into statements of 256, 128, 64, … rows,
// so at most nine distinct statement texts exist (prepared-statement
// caches stay small).
const llmCallsPerInsert = 256

// CreateLLMCalls appends the records of many LLM calls with multi-row
// inserts, in one transaction: every record is written or none is (on a
// Tx, they are part of its transaction). Every record is checked before
// anything is written; a bad one fails the batch with
// persistence.ErrInvalid. It fills each call's ID (when empty), CreatedAt
// (when zero), UpdatedAt and Version, as CreateLLMCall does, so a batch
// tried again after an unknown outcome carries the same ids.
func (s *Store) CreateLLMCalls(ctx context.Context, calls []persistence.LLMCall) error {
	if len(calls) <= llmCallsPerInsert {
		return s.q.CreateLLMCalls(ctx, calls) // one statement is one transaction
	}
	return s.InTx(ctx, func(tx *Tx) error { return tx.CreateLLMCalls(ctx, calls) })
}

// CreateLLMCalls appends the records of many LLM calls with multi-row
// inserts in the transaction (see Store.CreateLLMCalls).
func (q q) CreateLLMCalls(ctx context.Context, calls []persistence.LLMCall) error {
	return createMany(ctx, q, llmCalls, calls, llmCallsPerInsert)
}

// createMany inserts ms with multi-row INSERTs of at most perInsert rows
// (a power of two), after checking them all; it fills IDs, times and
// versions as create does.
func createMany[T any, P record[T]](ctx context.Context, q q, t table[T], ms []T, perInsert int) error {
	rows := make([][]any, len(ms))
	for i := range ms {
		args, err := createArgs(t, P(&ms[i]))
		if err != nil {
			return fmt.Errorf("create %s: row %d: %w", t.name, i, err)
		}
		rows[i] = args
	}
	head := "INSERT INTO " + t.name + " (" + baseColumns + ", " + strings.Join(t.cols, ", ") + ") VALUES "
	for len(rows) > 0 {
		n := perInsert
		for n > len(rows) {
			n /= 2
		}
		tuple := "(?" + strings.Repeat(", ?", len(rows[0])-1) + ")"
		query := head + tuple + strings.Repeat(", "+tuple, n-1)
		args := make([]any, 0, n*len(rows[0]))
		for _, r := range rows[:n] {
			args = append(args, r...)
		}
		if _, err := q.ex.ExecContext(ctx, q.d.rebind(query), args...); err != nil {
			return fmt.Errorf("create %d %s: %w", n, t.name, mapErr(err))
		}
		rows = rows[n:]
	}
	return nil
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
