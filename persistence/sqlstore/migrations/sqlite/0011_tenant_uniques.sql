-- Provider ids are unique per tenant, not across tenants: two tenants may
-- receive the same provider message id (a shared provider account, a test
-- number, ids that are only unique per business account), and one tenant's
-- delivery must never be taken for a duplicate of another's.
-- SQLite cannot change a primary key in place: rebuild inbound_dedupe.
CREATE TABLE inbound_dedupe_by_tenant (
    tenant_id  TEXT NOT NULL,
    channel    TEXT NOT NULL,
    dedupe_key TEXT NOT NULL,
    created_at DATETIME NOT NULL,
    PRIMARY KEY (tenant_id, channel, dedupe_key)
);
INSERT INTO inbound_dedupe_by_tenant (tenant_id, channel, dedupe_key, created_at)
    SELECT tenant_id, channel, dedupe_key, created_at FROM inbound_dedupe;
DROP TABLE inbound_dedupe;
ALTER TABLE inbound_dedupe_by_tenant RENAME TO inbound_dedupe;
CREATE INDEX inbound_dedupe_created ON inbound_dedupe (created_at);

DROP INDEX messages_channel_message;
CREATE UNIQUE INDEX messages_channel_message ON messages (tenant_id, channel, channel_message_id)
    WHERE channel_message_id <> '';
