-- Live event stream (see live.go): per-tenant events behind the dashboard's
-- WebSocket, written in the transaction of the change they describe.
--
-- live_streams holds each tenant's next event id. Appenders bump it with an
-- upsert ... RETURNING, which serializes them per tenant, so ids are dense
-- and commit in order.
CREATE TABLE live_streams (
    tenant_id  TEXT PRIMARY KEY,
    next_id    INTEGER NOT NULL
);

-- live_events holds the events; ids are dense per tenant, starting at 1.
CREATE TABLE live_events (
    tenant_id        TEXT NOT NULL,
    id               INTEGER NOT NULL,
    type             TEXT NOT NULL,
    conversation_id  TEXT NOT NULL DEFAULT '',
    data             TEXT NOT NULL,
    created_at       DATETIME NOT NULL,
    PRIMARY KEY (tenant_id, id)
) WITHOUT ROWID;
