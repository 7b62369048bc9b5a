package main

import (
	"bytes"
	"context"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/frontdesk-ai/frontdesk/persistence"
	"github.com/frontdesk-ai/frontdesk/persistence/kafkalog"
)

func TestFlags(t *testing.T) {
	cases := []struct {
		name string
		args []string
		want options
		err  bool
	}{
		{"Defaults", nil, options{addr: "127.0.0.1:9092", dataDir: "./data/kafka", minSession: time.Second}, false},
		{"Set", []string{"-addr", "127.0.0.1:19092", "-data-dir", "", "-min-session-timeout", "2s"},
			options{addr: "127.0.0.1:19092", minSession: 2 * time.Second}, false},
		{"Stray", []string{"serve"}, options{}, true},
		{"Unknown", []string{"-port", "1"}, options{}, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := parseFlags(c.args, &bytes.Buffer{})
			if (err != nil) != c.err {
				t.Fatalf("error %v, want error %v", err, c.err)
			}
			if !c.err && got != c.want {
				t.Fatalf("options %+v, want %+v", got, c.want)
			}
		})
	}
}

// TestRecordsSurviveRestart appends through the Kafka log, restarts the
// broker on the same address and data directory, and reads the record back.
func TestRecordsSurviveRestart(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	o := options{addr: "127.0.0.1:0", dataDir: t.TempDir(), minSession: time.Second}
	c, err := start(o)
	if err != nil {
		t.Fatal(err)
	}
	o.addr = c.ListenAddrs()[0]
	log, err := kafkalog.Open(ctx, kafkalog.Config{Brokers: []string{o.addr}}, zerolog.Nop())
	if err != nil {
		c.Close()
		t.Fatal(err)
	}
	got, err := log.Append(ctx, persistence.Record{Topic: persistence.TopicInbound, Key: "conv-1", Value: []byte("hello")})
	log.Close()
	c.Close()
	if err != nil {
		t.Fatalf("append: %v", err)
	}

	c, err = start(o)
	if err != nil {
		t.Fatalf("restart on %s: %v", o.addr, err)
	}
	defer c.Close()
	log, err = kafkalog.Open(ctx, kafkalog.Config{Brokers: []string{o.addr}}, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	defer log.Close()
	back, err := log.Read(ctx, persistence.TopicInbound, got[0].Partition, 0, 10)
	if err != nil || len(back) != 1 || string(back[0].Value) != "hello" || back[0].Key != "conv-1" {
		t.Fatalf("after restart read %+v, %v; want the record appended before", back, err)
	}
}

func TestRunPrintsBannerAndStops(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var out syncBuffer
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"-addr", "127.0.0.1:0", "-data-dir", ""}, &out) }()
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(out.String(), "FRONTDESK_KAFKA_BROKERS=127.0.0.1:") {
		if time.Now().After(deadline) {
			t.Fatalf("no banner: %q", out.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if !strings.Contains(out.String(), "DEVELOPMENT AND TESTS ONLY") {
		t.Errorf("banner does not warn it is for development only: %q", out.String())
	}
	addr := out.String()[strings.Index(out.String(), "FRONTDESK_KAFKA_BROKERS=127.0.0.1:")+len("FRONTDESK_KAFKA_BROKERS="):]
	addr = strings.Fields(addr)[0]
	if conn, err := net.Dial("tcp", addr); err != nil {
		t.Errorf("broker at %s does not accept connections: %v", addr, err)
	} else {
		conn.Close()
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("run did not return after its context ended")
	}
}

// syncBuffer is a bytes.Buffer safe for one writer and one reader.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
