-- Private notes: what dashboard users write to each other on a
-- conversation. Notes are never sent to the customer and never shown to the
-- AI; they live apart from messages so no send or prompt path can read them.
CREATE TABLE conversation_notes (
    id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL, updated_at TIMESTAMPTZ NOT NULL,
    metadata JSONB NOT NULL DEFAULT '{}', version BIGINT NOT NULL,
    conversation_id TEXT NOT NULL REFERENCES conversations (id),
    author_id TEXT NOT NULL,
    text TEXT NOT NULL
);
CREATE INDEX conversation_notes_conversation ON conversation_notes (tenant_id, conversation_id, created_at, id);

-- The dashboard reloads a conversation's tool-call log from its live events.
CREATE INDEX live_events_conversation ON live_events (tenant_id, conversation_id, type, id);
