-- Embedded event log (see log.go). Column names avoid the SQL keywords
-- PARTITION and OFFSET: partition_id and record_offset.
--
-- log_topics keeps each topic's partition count, fixed when the topic is
-- created on first use, so changing the configured default never moves keys.
CREATE TABLE log_topics (
    topic       TEXT PRIMARY KEY,
    partitions  INTEGER NOT NULL CHECK (partitions > 0),
    created_at  INTEGER NOT NULL -- unix microseconds
);

-- log_partitions holds the next offset of each partition. Appenders bump it
-- with UPDATE ... RETURNING, which serializes them per partition.
CREATE TABLE log_partitions (
    topic         TEXT NOT NULL REFERENCES log_topics (topic),
    partition_id  INTEGER NOT NULL,
    next_offset   INTEGER NOT NULL DEFAULT 0,
    -- last_time is the newest append time of the partition; appends never
    -- go below it, so record times never decrease along the offsets.
    last_time     INTEGER NOT NULL DEFAULT 0, -- unix microseconds
    PRIMARY KEY (topic, partition_id)
);

-- log_records holds the records; offsets are dense per partition.
CREATE TABLE log_records (
    topic          TEXT NOT NULL,
    partition_id   INTEGER NOT NULL,
    record_offset  INTEGER NOT NULL,
    key            TEXT NOT NULL,
    value          BLOB NOT NULL,
    created_at     INTEGER NOT NULL, -- unix microseconds
    PRIMARY KEY (topic, partition_id, record_offset)
) WITHOUT ROWID;
CREATE INDEX log_records_time ON log_records (topic, partition_id, created_at, record_offset);

-- log_commits holds each consumer group's committed position: the offset of
-- the next record the group has not processed.
CREATE TABLE log_commits (
    group_name        TEXT NOT NULL,
    topic             TEXT NOT NULL,
    partition_id      INTEGER NOT NULL,
    committed_offset  INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL, -- unix microseconds
    PRIMARY KEY (group_name, topic, partition_id)
);
