package kafkalog

import "github.com/twmb/franz-go/pkg/kgo"

// keyPartitioner places records like the SQL log (sqlstore.PartitionForKey):
// a keyed record goes to murmur2(key) as hashed by franz-go's
// StickyKeyPartitioner (Kafka's Java client's rule), and a record with the
// empty key to partition 0, where franz-go would spread unkeyed records.
type keyPartitioner struct{ hash kgo.Partitioner }

func (p keyPartitioner) ForTopic(topic string) kgo.TopicPartitioner {
	return keyTopicPartitioner{p.hash.ForTopic(topic)}
}

type keyTopicPartitioner struct{ hash kgo.TopicPartitioner }

// RequiresConsistency is always true: a record waits for its partition
// rather than move to another, which would break per-key order.
func (keyTopicPartitioner) RequiresConsistency(*kgo.Record) bool { return true }

func (p keyTopicPartitioner) Partition(r *kgo.Record, n int) int {
	if len(r.Key) == 0 {
		return 0
	}
	return p.hash.Partition(r, n)
}
