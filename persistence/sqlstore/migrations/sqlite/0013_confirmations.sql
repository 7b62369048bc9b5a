-- Pending confirmations: actions that wait for the customer's explicit yes.
-- The customer grain writes them with a version check. No foreign key on
-- customer_id: the grain that writes them is the customer's own, and the
-- query scopes every read by tenant.
CREATE TABLE confirmations (
    id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL,
    created_at DATETIME NOT NULL, updated_at DATETIME NOT NULL,
    metadata TEXT NOT NULL DEFAULT '{}', version INTEGER NOT NULL,
    customer_id TEXT NOT NULL,
    conversation_id TEXT NOT NULL,
    action TEXT NOT NULL,
    arguments TEXT NOT NULL DEFAULT '{}',
    amount_minor INTEGER NOT NULL,
    currency TEXT NOT NULL,
    state TEXT NOT NULL,
    expires_at DATETIME NOT NULL,
    resolved_at DATETIME,
    idempotency_key TEXT NOT NULL
);
CREATE INDEX confirmations_customer ON confirmations (tenant_id, customer_id, state);
CREATE UNIQUE INDEX confirmations_idempotency ON confirmations (tenant_id, idempotency_key) WHERE idempotency_key <> '';

-- Grain reminders: durable timers that call a grain at due_at, even after
-- it was passivated or its member restarted. A grain has at most one
-- reminder of a name; saving it again moves it.
CREATE TABLE grain_reminders (
    tenant_id  TEXT NOT NULL,
    kind       TEXT NOT NULL,
    identity   TEXT NOT NULL,
    name       TEXT NOT NULL,
    due_at     DATETIME NOT NULL,
    payload    TEXT NOT NULL DEFAULT '{}',
    created_at DATETIME NOT NULL,
    updated_at DATETIME NOT NULL,
    PRIMARY KEY (kind, identity, name)
);
CREATE INDEX grain_reminders_due ON grain_reminders (due_at);
