-- Inbound deduplication keys: a provider's message id (or status id +
-- status) is claimed in the same transaction that appends its event, so a
-- webhook delivered twice appends once.
CREATE TABLE inbound_dedupe (
    channel    TEXT NOT NULL,
    dedupe_key TEXT NOT NULL,
    tenant_id  TEXT NOT NULL,
    created_at DATETIME NOT NULL,
    PRIMARY KEY (channel, dedupe_key)
);
CREATE INDEX inbound_dedupe_created ON inbound_dedupe (created_at);
