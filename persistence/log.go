package persistence

import (
	"context"
	"time"
)

// Topic names of the event log. Each topic is partitioned; records with the
// same key land on the same partition and keep their order.
const (
	TopicInbound  = "inbound"
	TopicOutbound = "outbound"
	// TopicCommerce carries the shops' events (orders, customers, refunds).
	TopicCommerce = "commerce"
	// TopicPayments carries the payment provider's events.
	TopicPayments = "payments"
	// TopicDecisions carries the runtime's decisions about money (each
	// step of a confirmation), for audit, analytics and replay.
	TopicDecisions = "decisions"
	// TopicKnowledge carries the knowledge base's document events
	// (uploaded, processed, deleted), one document's in order.
	TopicKnowledge = "knowledge"
)

// DeadLetterTopic names the topic that receives records of topic which could
// not be processed (poison events, permanent failures).
func DeadLetterTopic(topic string) string { return topic + ".dlq" }

// DeadLetter is the JSON value of a record on a dead-letter topic: the
// original record (or what is known of it) and why it was not processed.
type DeadLetter struct {
	Topic     string    `json:"topic"`
	Partition int32     `json:"partition"`
	Offset    int64     `json:"offset"`
	Key       string    `json:"key"`
	Value     []byte    `json:"value"`
	Error     string    `json:"error"`
	At        time.Time `json:"at"`
}

// Record is one entry of the event log. Producers set Topic, Key and Value;
// the log fills Partition, Offset and Time on append.
type Record struct {
	Topic     string
	Partition int32
	Offset    int64
	Key       string
	Value     []byte
	Time      time.Time
}

// Log is the contract both event log implementations (the SQL log of the
// embedded mode and Kafka in cluster mode) satisfy and that logtest checks.
// Its shape follows Kafka: partitioned topics, keyed records, consumer groups
// with committed offsets, and replay from any offset.
type Log interface {
	// Append durably appends records and returns them with Partition, Offset
	// and Time set. Records with one key keep their order.
	Append(ctx context.Context, recs ...Record) ([]Record, error)
	// Subscribe joins the named consumer group on topic. Consumption starts
	// at the group's committed offsets, or at the beginning for a new group.
	Subscribe(ctx context.Context, group, topic string) (Subscription, error)
	// Partitions returns the number of partitions of topic.
	Partitions(ctx context.Context, topic string) (int32, error)
	// Read returns up to limit records of one partition starting at offset
	// from, oldest first, without touching any group: replay.
	Read(ctx context.Context, topic string, partition int32, from int64, limit int) ([]Record, error)
	// EndOffset returns the offset the next record of the partition will get.
	EndOffset(ctx context.Context, topic string, partition int32) (int64, error)
}

// Appender appends records to the event log: the write side of Log.
type Appender interface {
	Append(ctx context.Context, recs ...Record) ([]Record, error)
}

// Subscription is one member's seat in a consumer group.
type Subscription interface {
	// Poll blocks until at least one record is available or ctx ends, and
	// returns records in partition order. Records stay uncommitted until
	// Commit; a restart of the group redelivers them.
	Poll(ctx context.Context) ([]Record, error)
	// Commit records that every given record (and everything before it in
	// its partition) has been processed.
	Commit(ctx context.Context, recs []Record) error
	// Lag returns how many records of the topic the group has not committed.
	Lag(ctx context.Context) (int64, error)
	// Close leaves the group. Uncommitted records are delivered again to the
	// next member of the group.
	Close() error
}

// urgentKey marks a context whose transaction acknowledges outside input.
type urgentKey struct{}

// Urgent returns ctx marked so that a store which queues transactions (the
// SQLite group commit) runs the caller's before the queued ones: a webhook
// is answered only once its records are durable, and the channel waiting on
// it should not wait behind the runtime's own writes.
func Urgent(ctx context.Context) context.Context { return context.WithValue(ctx, urgentKey{}, true) }

// IsUrgent reports whether ctx was marked with Urgent.
func IsUrgent(ctx context.Context) bool { v, _ := ctx.Value(urgentKey{}).(bool); return v }
