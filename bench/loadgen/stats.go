package main

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
)

// percentile returns the nearest-rank q-quantile (0 < q ≤ 1) of sorted,
// which must be in ascending order: the smallest value with at least a
// fraction q of the values at or below it. It returns 0 for no values.
func percentile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

// summary is a latency distribution.
type summary struct {
	n                   int
	p50, p90, p99, high time.Duration
}

// summarize sorts lat in place and returns its distribution.
func summarize(lat []time.Duration) summary {
	slices.Sort(lat)
	s := summary{n: len(lat), p50: percentile(lat, 0.50), p90: percentile(lat, 0.90), p99: percentile(lat, 0.99)}
	if len(lat) > 0 {
		s.high = lat[len(lat)-1]
	}
	return s
}

// String is the distribution for people.
func (s summary) String() string {
	return fmt.Sprintf("n=%d p50 %s p90 %s p99 %s max %s", s.n, fmtMS(s.p50), fmtMS(s.p90), fmtMS(s.p99), fmtMS(s.high))
}

// ms is d in milliseconds.
func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func fmtMS(d time.Duration) string { return fmt.Sprintf("%.2f ms", ms(d)) }

// metric is one value of a benchmark line with its unit.
type metric struct {
	value float64
	unit  string
}

// benchLine formats one result in Go's benchmark format ("BenchmarkX 1
// <value> <unit> …"), which bench/run.sh folds into bench/RESULTS.md and
// benchstat reads. Values are rounded as the testing package rounds them.
func benchLine(name string, metrics ...metric) string {
	var b strings.Builder
	b.WriteString(name)
	b.WriteString("\t1")
	for _, m := range metrics {
		fmt.Fprintf(&b, "\t%s %s", formatValue(m.value), m.unit)
	}
	return b.String()
}

// formatValue keeps about four significant digits without an exponent,
// like testing.BenchmarkResult's metrics.
func formatValue(v float64) string {
	switch y := math.Abs(v); {
	case y == 0 || y >= 999.95:
		return fmt.Sprintf("%.0f", v)
	case y >= 99.995:
		return fmt.Sprintf("%.1f", v)
	case y >= 9.9995:
		return fmt.Sprintf("%.2f", v)
	case y >= 0.99995:
		return fmt.Sprintf("%.3f", v)
	case y >= 0.099995:
		return fmt.Sprintf("%.4f", v)
	default:
		return fmt.Sprintf("%.5g", v)
	}
}

// cpuTicks parses the utime and stime fields (clock ticks) of a
// /proc/<pid>/stat line. The command name in parentheses may itself hold
// spaces and parentheses, so fields are counted after the last ')'.
func cpuTicks(stat string) (uint64, error) {
	i := strings.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, fmt.Errorf("proc stat: no command name in %q", stat)
	}
	f := strings.Fields(stat[i+1:])
	// f[0] is field 3 (state); utime and stime are fields 14 and 15.
	if len(f) < 13 {
		return 0, fmt.Errorf("proc stat: %d fields after the command name, want at least 13", len(f))
	}
	var utime, stime uint64
	if _, err := fmt.Sscan(f[11], &utime); err != nil {
		return 0, fmt.Errorf("proc stat utime %q: %w", f[11], err)
	}
	if _, err := fmt.Sscan(f[12], &stime); err != nil {
		return 0, fmt.Errorf("proc stat stime %q: %w", f[12], err)
	}
	return utime + stime, nil
}

// parseMetrics returns the unlabelled samples of a Prometheus text
// exposition (go_memstats_heap_inuse_bytes, process_resident_memory_bytes,
// …) by name; labelled series and comments are skipped.
func parseMetrics(text string) map[string]float64 {
	out := map[string]float64{}
	for line := range strings.Lines(text) {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' || strings.ContainsRune(line, '{') {
			continue
		}
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		var v float64
		if _, err := fmt.Sscan(f[1], &v); err != nil {
			continue
		}
		out[f[0]] = v
	}
	return out
}
