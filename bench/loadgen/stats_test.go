package main

import (
	"strings"
	"testing"
	"time"
)

func TestPercentile(t *testing.T) {
	hundred := make([]time.Duration, 100)
	for i := range hundred {
		hundred[i] = time.Duration(i+1) * time.Millisecond
	}
	tests := []struct {
		name   string
		sorted []time.Duration
		q      float64
		want   time.Duration
	}{
		{"empty", nil, 0.5, 0},
		{"one value", []time.Duration{7}, 0.99, 7},
		{"median of 1..100", hundred, 0.50, 50 * time.Millisecond},
		{"p90 of 1..100", hundred, 0.90, 90 * time.Millisecond},
		{"p99 of 1..100", hundred, 0.99, 99 * time.Millisecond},
		{"max", hundred, 1, 100 * time.Millisecond},
		{"p99 of 3 is the largest", []time.Duration{1, 2, 3}, 0.99, 3},
		{"tiny q is the smallest", []time.Duration{1, 2, 3}, 0.0001, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := percentile(tt.sorted, tt.q); got != tt.want {
				t.Errorf("percentile(%v) = %v, want %v", tt.q, got, tt.want)
			}
		})
	}
}

func TestSummarizeSorts(t *testing.T) {
	s := summarize([]time.Duration{5, 1, 4, 2, 3})
	if s.n != 5 || s.p50 != 3 || s.high != 5 || s.p99 != 5 {
		t.Errorf("summarize = %+v", s)
	}
}

func TestBenchLine(t *testing.T) {
	got := benchLine("BenchmarkLoad/chat-500", metric{212.3456, "turns/s"}, metric{4.12345, "p50-ms"}, metric{1234.6, "p99-ms"}, metric{0, "x"}, metric{0.0123456, "y"})
	want := "BenchmarkLoad/chat-500\t1\t212.3 turns/s\t4.123 p50-ms\t1235 p99-ms\t0 x\t0.012346 y"
	if got != want {
		t.Errorf("benchLine =\n%q, want\n%q", got, want)
	}
}

func TestCPUTicks(t *testing.T) {
	tests := []struct {
		name, stat string
		want       uint64
		err        bool
	}{
		{"plain", "4242 (frontdesk) S 1 4242 4242 0 -1 4194560 100 0 0 0 150 25 0 0 20 0 12 0 123 0 0", 175, false},
		{"name with spaces and parens", "7 (a (b) c) R 1 7 7 0 -1 0 0 0 0 0 3 4 0 0 20 0 1 0 1 0 0", 7, false},
		{"truncated", "7 (x) R 1 2", 0, true},
		{"no name", "garbage", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := cpuTicks(tt.stat)
			if (err != nil) != tt.err || got != tt.want {
				t.Errorf("cpuTicks = %d, %v; want %d, error %v", got, err, tt.want, tt.err)
			}
		})
	}
}

func TestParseMetrics(t *testing.T) {
	text := strings.Join([]string{
		"# HELP go_memstats_heap_inuse_bytes Number of heap bytes that are in use.",
		"# TYPE go_memstats_heap_inuse_bytes gauge",
		"go_memstats_heap_inuse_bytes 1.23456e+07",
		`frontdesk_grain_activations_total{kind="conversation"} 12`,
		"go_goroutines 42",
		"",
	}, "\n")
	m := parseMetrics(text)
	if m["go_memstats_heap_inuse_bytes"] != 12345600 || m["go_goroutines"] != 42 || len(m) != 2 {
		t.Errorf("parseMetrics = %v", m)
	}
}

func TestChildEnvDropsTheShellsFrontdeskVariables(t *testing.T) {
	got := childEnv([]string{"PATH=/bin", "FRONTDESK_DATABASE_URL=postgres://x", "GOGC=50"},
		[]string{"FRONTDESK_HTTP_ADDR=127.0.0.1:1", "GOGC=20"}, []string{"GOGC=off"})
	want := []string{"PATH=/bin", "GOGC=off", "FRONTDESK_HTTP_ADDR=127.0.0.1:1"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("childEnv = %v, want %v", got, want)
	}
}

func TestFlags(t *testing.T) {
	var sink strings.Builder
	c, err := parseFlags([]string{"-scenario", "chat, heap,chat", "-env", "A=1", "-env", "B=2=3"}, &sink)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(c.scenarios, ",") != "chat,heap" || strings.Join(c.env, " ") != "A=1 B=2=3" || c.bin != "bin/frontdesk" {
		t.Errorf("config = %+v", c)
	}
	for _, bad := range [][]string{{"-scenario", "nope"}, {"-env", "novalue"}, {"-conversations", "0"}, {"extra"}} {
		if _, err := parseFlags(bad, &sink); err == nil {
			t.Errorf("parseFlags(%q) accepted", bad)
		}
	}
}
