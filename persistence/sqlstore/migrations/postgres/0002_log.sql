-- Embedded event log (see log.go). Column names avoid the SQL keywords
-- PARTITION and OFFSET: partition_id and record_offset.
--
-- log_topics keeps each topic's partition count, fixed when the topic is
-- created on first use, so changing the configured default never moves keys.
CREATE TABLE log_topics (
    topic       TEXT PRIMARY KEY,
    partitions  INTEGER NOT NULL CHECK (partitions > 0),
    created_at  TIMESTAMPTZ NOT NULL
);

-- log_partitions holds the next offset of each partition. Appenders bump it
-- with UPDATE ... RETURNING; the row lock serializes them per partition
-- until their transactions end, so offsets become visible in order.
CREATE TABLE log_partitions (
    topic         TEXT NOT NULL REFERENCES log_topics (topic),
    partition_id  INTEGER NOT NULL,
    next_offset   BIGINT NOT NULL DEFAULT 0,
    -- last_time is the newest append time of the partition; appends never
    -- go below it, so record times never decrease along the offsets.
    last_time     TIMESTAMPTZ NOT NULL DEFAULT 'epoch',
    PRIMARY KEY (topic, partition_id)
);

-- log_records holds the records; offsets are dense per partition.
CREATE TABLE log_records (
    topic          TEXT NOT NULL,
    partition_id   INTEGER NOT NULL,
    record_offset  BIGINT NOT NULL,
    key            TEXT NOT NULL,
    value          BYTEA NOT NULL,
    created_at     TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (topic, partition_id, record_offset)
);
CREATE INDEX log_records_time ON log_records (topic, partition_id, created_at, record_offset);

-- log_commits holds each consumer group's committed position: the offset of
-- the next record the group has not processed.
CREATE TABLE log_commits (
    group_name        TEXT NOT NULL,
    topic             TEXT NOT NULL,
    partition_id      INTEGER NOT NULL,
    committed_offset  BIGINT NOT NULL,
    updated_at        TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (group_name, topic, partition_id)
);
