-- Transactional outbox for an external event log (Kafka): records appended
-- in a store transaction wait here until the relay has produced them.
CREATE TABLE log_outbox (
    id         BIGSERIAL PRIMARY KEY,
    topic      TEXT NOT NULL,
    record_key TEXT NOT NULL,
    value      BYTEA NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);
