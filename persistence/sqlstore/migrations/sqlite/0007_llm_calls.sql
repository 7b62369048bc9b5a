-- LLM call accounting: one row per completion asked of the LLM router
-- (answered, offline or failed), append-only. Summaries group a tenant's
-- calls since a time by agent, so both indexes lead with tenant_id. Keep
-- in step with migrations/postgres/0007_llm_calls.sql.
CREATE TABLE llm_calls (
    id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL,
    created_at DATETIME NOT NULL, updated_at DATETIME NOT NULL,
    metadata TEXT NOT NULL DEFAULT '{}', version INTEGER NOT NULL,
    agent_profile_id TEXT NOT NULL,
    agent_version INTEGER NOT NULL,
    conversation_id TEXT NOT NULL,
    backend TEXT NOT NULL,
    model TEXT NOT NULL,
    route TEXT NOT NULL,
    prompt_tokens INTEGER NOT NULL,
    completion_tokens INTEGER NOT NULL,
    latency_ms INTEGER NOT NULL,
    outcome TEXT NOT NULL,
    error TEXT NOT NULL
);
CREATE INDEX llm_calls_list ON llm_calls (tenant_id, created_at, id);
CREATE INDEX llm_calls_agent ON llm_calls (tenant_id, agent_profile_id, created_at);
CREATE TRIGGER llm_calls_append_only BEFORE UPDATE ON llm_calls
BEGIN
    SELECT RAISE(ABORT, 'llm calls are append-only');
END;
