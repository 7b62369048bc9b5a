-- Live event stream (see live.go): per-tenant events behind the dashboard's
-- WebSocket, written in the transaction of the change they describe.
--
-- live_streams holds each tenant's next event id. Appenders bump it with an
-- upsert ... RETURNING; the row lock serializes them per tenant until their
-- transactions end, so ids are dense and become visible in order.
CREATE TABLE live_streams (
    tenant_id  TEXT PRIMARY KEY,
    next_id    BIGINT NOT NULL
);

-- live_events holds the events; ids are dense per tenant, starting at 1.
CREATE TABLE live_events (
    tenant_id        TEXT NOT NULL,
    id               BIGINT NOT NULL,
    type             TEXT NOT NULL,
    conversation_id  TEXT NOT NULL DEFAULT '',
    data             JSONB NOT NULL,
    created_at       TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
