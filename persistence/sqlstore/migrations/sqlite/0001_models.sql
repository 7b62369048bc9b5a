-- The data model. Every table starts with the same six columns (id,
-- tenant_id, created_at, updated_at, metadata, version) and has an index on
-- (tenant_id, created_at, id) for keyset-paginated listing
-- (tenants: (created_at, id)), oldest first.
-- Times are written by the store as UTC. Keep in step with
-- migrations/postgres/0001_models.sql.

CREATE TABLE tenants (
    id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL,
    created_at DATETIME NOT NULL, updated_at DATETIME NOT NULL,
    metadata TEXT NOT NULL DEFAULT '{}', version INTEGER NOT NULL,
    name TEXT NOT NULL,
    slug TEXT NOT NULL UNIQUE
);
CREATE INDEX tenants_list ON tenants (created_at, id);

CREATE TABLE users (
    id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL,
    created_at DATETIME NOT NULL, updated_at DATETIME NOT NULL,
    metadata TEXT NOT NULL DEFAULT '{}', version INTEGER NOT NULL,
    email TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    disabled INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX users_list ON users (tenant_id, created_at, id);

CREATE TABLE customers (
    id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL,
    created_at DATETIME NOT NULL, updated_at DATETIME NOT NULL,
    metadata TEXT NOT NULL DEFAULT '{}', version INTEGER NOT NULL,
    name TEXT NOT NULL,
    email TEXT NOT NULL,
    phone TEXT NOT NULL,
    language TEXT NOT NULL,
    last_seen_at DATETIME
);
CREATE INDEX customers_list ON customers (tenant_id, created_at, id);

CREATE TABLE customer_identities (
    id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL,
    created_at DATETIME NOT NULL, updated_at DATETIME NOT NULL,
    metadata TEXT NOT NULL DEFAULT '{}', version INTEGER NOT NULL,
    customer_id TEXT NOT NULL REFERENCES customers (id),
    channel TEXT NOT NULL,
    external_id TEXT NOT NULL,
    display_name TEXT NOT NULL,
    UNIQUE (tenant_id, channel, external_id)
);
CREATE INDEX customer_identities_list ON customer_identities (tenant_id, created_at, id);
CREATE INDEX customer_identities_customer ON customer_identities (tenant_id, customer_id);

CREATE TABLE conversations (
    id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL,
    created_at DATETIME NOT NULL, updated_at DATETIME NOT NULL,
    metadata TEXT NOT NULL DEFAULT '{}', version INTEGER NOT NULL,
    customer_id TEXT NOT NULL REFERENCES customers (id),
    channel TEXT NOT NULL,
    channel_account TEXT NOT NULL,
    thread_key TEXT NOT NULL,
    status TEXT NOT NULL,
    assigned_user_id TEXT NOT NULL,
    agent_profile_id TEXT NOT NULL,
    last_message_at DATETIME,
    closed_at DATETIME
);
CREATE INDEX conversations_list ON conversations (tenant_id, created_at, id);
CREATE INDEX conversations_status ON conversations (tenant_id, status, created_at, id);
CREATE INDEX conversations_thread ON conversations (tenant_id, thread_key, created_at);
CREATE INDEX conversations_customer ON conversations (tenant_id, customer_id);

CREATE TABLE messages (
    id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL,
    created_at DATETIME NOT NULL, updated_at DATETIME NOT NULL,
    metadata TEXT NOT NULL DEFAULT '{}', version INTEGER NOT NULL,
    conversation_id TEXT NOT NULL REFERENCES conversations (id),
    direction TEXT NOT NULL,
    channel TEXT NOT NULL,
    channel_message_id TEXT NOT NULL,
    sender TEXT NOT NULL,
    kind TEXT NOT NULL,
    text TEXT NOT NULL,
    media_ref TEXT NOT NULL,
    delivery_status TEXT NOT NULL,
    error TEXT NOT NULL
);
CREATE INDEX messages_list ON messages (tenant_id, created_at, id);
CREATE INDEX messages_conversation ON messages (tenant_id, conversation_id, created_at, id);
CREATE UNIQUE INDEX messages_channel_message ON messages (channel, channel_message_id)
    WHERE channel_message_id <> '';

CREATE TABLE agent_profiles (
    id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL,
    created_at DATETIME NOT NULL, updated_at DATETIME NOT NULL,
    metadata TEXT NOT NULL DEFAULT '{}', version INTEGER NOT NULL,
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    live_version INTEGER NOT NULL,
    tools TEXT NOT NULL DEFAULT '[]',
    routing TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX agent_profiles_list ON agent_profiles (tenant_id, created_at, id);

-- Prompt versions are immutable.
CREATE TABLE prompt_versions (
    id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL,
    created_at DATETIME NOT NULL, updated_at DATETIME NOT NULL,
    metadata TEXT NOT NULL DEFAULT '{}', version INTEGER NOT NULL,
    agent_profile_id TEXT NOT NULL REFERENCES agent_profiles (id),
    number INTEGER NOT NULL,
    prompt TEXT NOT NULL,
    author_id TEXT NOT NULL,
    UNIQUE (agent_profile_id, number)
);
CREATE INDEX prompt_versions_list ON prompt_versions (tenant_id, created_at, id);
CREATE TRIGGER prompt_versions_immutable BEFORE UPDATE ON prompt_versions
BEGIN
    SELECT RAISE(ABORT, 'prompt versions are immutable');
END;

CREATE TABLE orders (
    id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL,
    created_at DATETIME NOT NULL, updated_at DATETIME NOT NULL,
    metadata TEXT NOT NULL DEFAULT '{}', version INTEGER NOT NULL,
    customer_id TEXT NOT NULL REFERENCES customers (id),
    source TEXT NOT NULL,
    external_id TEXT NOT NULL,
    status TEXT NOT NULL,
    total_cents INTEGER NOT NULL,
    currency TEXT NOT NULL,
    placed_at DATETIME,
    items TEXT NOT NULL DEFAULT '[]'
);
CREATE INDEX orders_list ON orders (tenant_id, created_at, id);
CREATE INDEX orders_customer ON orders (tenant_id, customer_id, placed_at);
CREATE UNIQUE INDEX orders_external ON orders (tenant_id, source, external_id) WHERE external_id <> '';

CREATE TABLE tickets (
    id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL,
    created_at DATETIME NOT NULL, updated_at DATETIME NOT NULL,
    metadata TEXT NOT NULL DEFAULT '{}', version INTEGER NOT NULL,
    customer_id TEXT NOT NULL REFERENCES customers (id),
    conversation_id TEXT NOT NULL,
    subject TEXT NOT NULL,
    description TEXT NOT NULL,
    priority TEXT NOT NULL,
    status TEXT NOT NULL,
    idempotency_key TEXT NOT NULL
);
CREATE INDEX tickets_list ON tickets (tenant_id, created_at, id);
CREATE INDEX tickets_customer ON tickets (tenant_id, customer_id, status);
CREATE UNIQUE INDEX tickets_idempotency ON tickets (tenant_id, idempotency_key) WHERE idempotency_key <> '';

CREATE TABLE payment_intents (
    id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL,
    created_at DATETIME NOT NULL, updated_at DATETIME NOT NULL,
    metadata TEXT NOT NULL DEFAULT '{}', version INTEGER NOT NULL,
    customer_id TEXT NOT NULL REFERENCES customers (id),
    conversation_id TEXT NOT NULL,
    order_id TEXT NOT NULL,
    amount_cents INTEGER NOT NULL,
    currency TEXT NOT NULL,
    status TEXT NOT NULL,
    provider TEXT NOT NULL,
    provider_ref TEXT NOT NULL,
    idempotency_key TEXT NOT NULL
);
CREATE INDEX payment_intents_list ON payment_intents (tenant_id, created_at, id);
CREATE UNIQUE INDEX payment_intents_idempotency ON payment_intents (tenant_id, idempotency_key) WHERE idempotency_key <> '';

CREATE TABLE transactions (
    id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL,
    created_at DATETIME NOT NULL, updated_at DATETIME NOT NULL,
    metadata TEXT NOT NULL DEFAULT '{}', version INTEGER NOT NULL,
    payment_intent_id TEXT NOT NULL REFERENCES payment_intents (id),
    kind TEXT NOT NULL,
    amount_cents INTEGER NOT NULL,
    currency TEXT NOT NULL,
    status TEXT NOT NULL,
    provider_ref TEXT NOT NULL,
    idempotency_key TEXT NOT NULL
);
CREATE INDEX transactions_list ON transactions (tenant_id, created_at, id);
CREATE UNIQUE INDEX transactions_idempotency ON transactions (tenant_id, idempotency_key) WHERE idempotency_key <> '';

CREATE TABLE knowledge_documents (
    id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL,
    created_at DATETIME NOT NULL, updated_at DATETIME NOT NULL,
    metadata TEXT NOT NULL DEFAULT '{}', version INTEGER NOT NULL,
    title TEXT NOT NULL,
    source TEXT NOT NULL,
    content_type TEXT NOT NULL,
    body TEXT NOT NULL,
    tags TEXT NOT NULL DEFAULT '[]',
    status TEXT NOT NULL
);
CREATE INDEX knowledge_documents_list ON knowledge_documents (tenant_id, created_at, id);

CREATE TABLE user_memory_summaries (
    id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL,
    created_at DATETIME NOT NULL, updated_at DATETIME NOT NULL,
    metadata TEXT NOT NULL DEFAULT '{}', version INTEGER NOT NULL,
    customer_id TEXT NOT NULL REFERENCES customers (id),
    summary TEXT NOT NULL,
    messages_covered INTEGER NOT NULL,
    UNIQUE (tenant_id, customer_id)
);
CREATE INDEX user_memory_summaries_list ON user_memory_summaries (tenant_id, created_at, id);

CREATE TABLE follow_up_tasks (
    id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL,
    created_at DATETIME NOT NULL, updated_at DATETIME NOT NULL,
    metadata TEXT NOT NULL DEFAULT '{}', version INTEGER NOT NULL,
    customer_id TEXT NOT NULL REFERENCES customers (id),
    conversation_id TEXT NOT NULL,
    due_at DATETIME NOT NULL,
    note TEXT NOT NULL,
    status TEXT NOT NULL,
    idempotency_key TEXT NOT NULL
);
CREATE INDEX follow_up_tasks_list ON follow_up_tasks (tenant_id, created_at, id);
CREATE INDEX follow_up_tasks_due ON follow_up_tasks (status, due_at);
CREATE UNIQUE INDEX follow_up_tasks_idempotency ON follow_up_tasks (tenant_id, idempotency_key) WHERE idempotency_key <> '';

-- Audit events are append-only.
CREATE TABLE audit_events (
    id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL,
    created_at DATETIME NOT NULL, updated_at DATETIME NOT NULL,
    metadata TEXT NOT NULL DEFAULT '{}', version INTEGER NOT NULL,
    actor_kind TEXT NOT NULL,
    actor_id TEXT NOT NULL,
    action TEXT NOT NULL,
    target_kind TEXT NOT NULL,
    target_id TEXT NOT NULL,
    data TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_events_list ON audit_events (tenant_id, created_at, id);
CREATE INDEX audit_events_target ON audit_events (tenant_id, target_kind, target_id, created_at, id);
CREATE TRIGGER audit_events_append_only BEFORE UPDATE ON audit_events
BEGIN
    SELECT RAISE(ABORT, 'audit events are append-only');
END;

CREATE TABLE channel_accounts (
    id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL,
    created_at DATETIME NOT NULL, updated_at DATETIME NOT NULL,
    metadata TEXT NOT NULL DEFAULT '{}', version INTEGER NOT NULL,
    channel TEXT NOT NULL,
    external_id TEXT NOT NULL,
    name TEXT NOT NULL,
    config TEXT NOT NULL DEFAULT '{}',
    UNIQUE (channel, external_id)
);
CREATE INDEX channel_accounts_list ON channel_accounts (tenant_id, created_at, id);
