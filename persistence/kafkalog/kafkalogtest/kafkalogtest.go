// Package kafkalogtest starts kfake, franz-go's in-process Kafka-protocol
// broker, for tests of packages that use the Kafka event log: Start gives
// the brokers of a fresh single-broker cluster, Open a kafkalog.Log on one.
// Both stop what they started when the test ends. Nothing here is
// concurrent beyond kfake itself, which serves all clients from one
// goroutine.
package kafkalogtest

import (
	"context"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/frontdesk-ai/frontdesk/persistence/kafkalog"
)

// MinSessionTimeout is the group session timeout floor of the clusters
// Start makes (Kafka's is 6s), so tests may use short session timeouts.
const MinSessionTimeout = time.Second

// Start starts an empty single-broker kfake cluster for the test and
// returns its brokers as host:port. opts are added to the defaults (one
// broker, MinSessionTimeout). The cluster closes when the test ends.
func Start(t testing.TB, opts ...kfake.Opt) []string {
	t.Helper()
	base := []kfake.Opt{
		kfake.NumBrokers(1),
		kfake.GroupMinSessionTimeout(MinSessionTimeout),
	}
	c, err := kfake.NewCluster(append(base, opts...)...)
	if err != nil {
		t.Fatalf("start kfake: %v", err)
	}
	t.Cleanup(c.Close)
	return c.ListenAddrs()
}

// Open starts a cluster with Start and opens a log on it with cfg, whose
// Brokers it sets. The log closes when the test ends, before the cluster.
func Open(t testing.TB, cfg kafkalog.Config) *kafkalog.Log {
	t.Helper()
	cfg.Brokers = Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	log, err := kafkalog.Open(ctx, cfg, zerolog.Nop())
	if err != nil {
		t.Fatalf("open kafka log: %v", err)
	}
	t.Cleanup(func() { log.Close() })
	return log
}
