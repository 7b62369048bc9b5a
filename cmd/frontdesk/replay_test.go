package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/frontdesk-ai/frontdesk/events"
	"github.com/frontdesk-ai/frontdesk/persistence"
	"github.com/frontdesk-ai/frontdesk/persistence/kafkalog"
	"github.com/frontdesk-ai/frontdesk/persistence/kafkalog/kafkalogtest"
	"github.com/frontdesk-ai/frontdesk/persistence/sqlstore"
)

// seedLog appends n message.received envelopes alternating between tenants
// a and b, over many threads, and returns the store's data dir.
func seedLog(t testing.TB, n int) (string, *sqlstore.Store) {
	t.Helper()
	dir := t.TempDir()
	ctx := context.Background()
	s, err := sqlstore.Open(ctx, sqlstore.Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if _, err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	var recs []persistence.Record
	for i := range n {
		tenant := []string{"a", "b"}[i%2]
		e, _ := events.New(events.TypeMessageReceived, 1, tenant, events.ThreadKey(tenant, "whatsapp", fmt.Sprint(i%37)), time.Now(),
			events.MessageReceived{Channel: "whatsapp", ExternalUserID: fmt.Sprint(i % 37), ChannelMessageID: fmt.Sprintf("wamid.%d", i), Kind: "text", Text: "hello"})
		r, _ := e.Record(persistence.TopicInbound)
		recs = append(recs, r)
		if len(recs) == 1000 || i == n-1 {
			if _, err := s.Log().Append(ctx, recs...); err != nil {
				t.Fatal(err)
			}
			recs = recs[:0]
		}
	}
	return dir, s
}

func replayLines(t *testing.T, dir string, args ...string) []string {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), append(append([]string{"replay"}, args...), "-data-dir", dir), envOf(map[string]string{"FRONTDESK_LOG_LEVEL": "error"}), &out, &errb)
	if code != 0 {
		t.Fatalf("replay %v: exit %d: %s", args, code, errb.String())
	}
	var lines []string
	sc := bufio.NewScanner(&out)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	return lines
}

func TestReplay(t *testing.T) {
	dir, _ := seedLog(t, 300)
	all := replayLines(t, dir, "-topic", "inbound", "-from-offset", "0")
	if len(all) != 300 {
		t.Fatalf("replayed %d lines, want 300", len(all))
	}
	seen := map[string]bool{}
	for _, l := range all {
		e, err := events.Parse([]byte(l))
		if err != nil || e.Type != events.TypeMessageReceived || e.Version != 1 {
			t.Fatalf("line %q: %v", l, err)
		}
		seen[e.ID] = true
	}
	if len(seen) != 300 {
		t.Fatalf("distinct envelopes = %d", len(seen))
	}
	if b := replayLines(t, dir, "-topic", "inbound", "-from-offset", "0", "-tenant", "b"); len(b) != 150 || !strings.Contains(b[0], `"tenant_id":"b"`) {
		t.Fatalf("tenant b: %d lines", len(b))
	}
	tail := replayLines(t, dir, "-topic", "inbound", "-from-offset", "10", "-to", "20", "-partition", "0")
	if len(tail) != 10 {
		t.Fatalf("partition 0 offsets 10..19: %d lines", len(tail))
	}
	if none := replayLines(t, dir, "-topic", "inbound", "-from-time", time.Now().Add(time.Hour).Format(time.RFC3339)); len(none) != 0 {
		t.Fatalf("from the future: %d lines", len(none))
	}
	if past := replayLines(t, dir, "-topic", "inbound", "-from-time", time.Now().Add(-time.Hour).Format(time.RFC3339)); len(past) != 300 {
		t.Fatalf("from an hour ago: %d lines", len(past))
	}
}

func TestReplayBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"replay"},
		{"replay", "-topic", "inbound"},
		{"replay", "-topic", "inbound", "-from-offset", "0", "-from-time", "2026-01-01T00:00:00Z"},
		{"replay", "-topic", "inbound", "-from-time", "yesterday"},
		{"replay", "-topic", "inbound", "-from-offset", "0", "-to", "soon"},
	} {
		var out, errb bytes.Buffer
		if code := run(context.Background(), args, envOf(nil), &out, &errb); code != 2 || errb.Len() == 0 {
			t.Fatalf("%v: exit %d, stderr %q", args, code, errb.String())
		}
	}
}

// BenchmarkReplay replays 200,000 envelopes from the SQLite log to
// io.Discard and reports records per second.
func BenchmarkReplay(b *testing.B) {
	const n = 200_000
	_, s := seedLog(b, n)
	b.ResetTimer()
	start := time.Now()
	for range b.N {
		got, err := replay(context.Background(), s.Log(), replayOptions{topic: persistence.TopicInbound, fromOffset: 0, toOffset: -1, partition: -1, batch: 5000}, io.Discard, zerolog.Nop())
		if err != nil || got != n {
			b.Fatalf("replayed %d, %v", got, err)
		}
	}
	b.ReportMetric(float64(n*b.N)/time.Since(start).Seconds(), "records/s")
}

// BenchmarkReplayKafka replays 200,000 envelopes from Kafka (kfake in this
// process) to io.Discard and reports records per second.
func BenchmarkReplayKafka(b *testing.B) {
	const n = 200_000
	brokers := kafkalogtest.Start(b)
	kl := kafkalogtest.Open(b, kafkalog.Config{Brokers: brokers, Partitions: 12})
	ctx := context.Background()
	var recs []persistence.Record
	for i := range n {
		e, _ := events.New(events.TypeMessageReceived, 1, "a", events.ThreadKey("a", "whatsapp", fmt.Sprint(i%997)), time.Now(),
			events.MessageReceived{Channel: "whatsapp", ExternalUserID: fmt.Sprint(i % 997), ChannelMessageID: fmt.Sprintf("wamid.%d", i), Kind: "text", Text: "hello"})
		r, _ := e.Record(persistence.TopicInbound)
		recs = append(recs, r)
		if len(recs) == 5000 {
			if _, err := kl.Append(ctx, recs...); err != nil {
				b.Fatal(err)
			}
			recs = recs[:0]
		}
	}
	b.ResetTimer()
	start := time.Now()
	for range b.N {
		got, err := replay(ctx, kl, replayOptions{topic: persistence.TopicInbound, fromOffset: 0, toOffset: -1, partition: -1, batch: 5000}, io.Discard, zerolog.Nop())
		if err != nil || got != n {
			b.Fatalf("replayed %d, %v", got, err)
		}
	}
	b.ReportMetric(float64(n*b.N)/time.Since(start).Seconds(), "records/s")
}
