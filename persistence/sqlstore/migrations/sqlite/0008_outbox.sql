-- Transactional outbox for an external event log (Kafka): records appended
-- in a store transaction wait here until the relay has produced them.
CREATE TABLE log_outbox (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    topic      TEXT NOT NULL,
    record_key TEXT NOT NULL,
    value      BLOB NOT NULL,
    created_at DATETIME NOT NULL
);
