package persistence

import (
	"encoding/json"
	"time"
)

// Checkpoint is the persisted state of one grain: its hot context (State) and
// the last event log position it applied. Writes carry Version: a stale
// activation's write fails with ErrVersionConflict, and a redelivered record
// at or before (Topic, Partition, Offset) is recognised as already applied.
type Checkpoint struct {
	TenantID  string
	Kind      string
	Identity  string
	Version   int64
	Topic     string
	Partition int32
	Offset    int64
	State     json.RawMessage
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Covers reports whether the checkpoint already includes the record at
// topic/partition/offset.
func (c Checkpoint) Covers(topic string, partition int32, offset int64) bool {
	return c.Topic == topic && c.Partition == partition && offset <= c.Offset
}
