-- Actor checkpoints: the persisted state of each grain (conversation thread,
-- customer), written with a version check so a stale activation cannot win,
-- plus the last log position the grain applied (exactly-once effects).
CREATE TABLE actor_checkpoints (
    tenant_id   TEXT NOT NULL,
    kind        TEXT NOT NULL,
    identity    TEXT NOT NULL,
    version     BIGINT NOT NULL,
    log_topic   TEXT NOT NULL DEFAULT '',
    log_partition INTEGER NOT NULL DEFAULT -1,
    log_offset  BIGINT NOT NULL DEFAULT -1,
    state       TEXT NOT NULL,
    created_at  DATETIME NOT NULL,
    updated_at  DATETIME NOT NULL,
    PRIMARY KEY (kind, identity)
);
CREATE INDEX actor_checkpoints_tenant ON actor_checkpoints (tenant_id, kind);
