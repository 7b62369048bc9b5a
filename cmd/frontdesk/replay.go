package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/rs/zerolog"

	"github.com/frontdesk-ai/frontdesk/persistence"
	"github.com/frontdesk-ai/frontdesk/persistence/kafkalog"
)

// replaySource is what replay reads: either event log implementation.
type replaySource interface {
	Partitions(ctx context.Context, topic string) (int32, error)
	Read(ctx context.Context, topic string, partition int32, from int64, limit int) ([]persistence.Record, error)
	EndOffset(ctx context.Context, topic string, partition int32) (int64, error)
	OffsetForTime(ctx context.Context, topic string, partition int32, t time.Time) (int64, error)
}

// replayOptions are the flags of `frontdesk replay`.
type replayOptions struct {
	topic      string
	fromOffset int64
	fromTime   time.Time
	toOffset   int64 // exclusive; -1: to the end as of the start
	toTime     time.Time
	tenant     string
	partition  int32 // -1: all
	batch      int
}

// parseReplayFlags splits replay's own flags from the configuration flags.
func parseReplayFlags(args []string, stderr io.Writer) (replayOptions, []string, error) {
	fs := flag.NewFlagSet("replay", flag.ContinueOnError)
	fs.SetOutput(stderr)
	o := replayOptions{toOffset: -1, partition: -1}
	fs.StringVar(&o.topic, "topic", "", "topic to read: inbound, outbound, or a dead-letter topic such as inbound.dlq (required)")
	fs.Int64Var(&o.fromOffset, "from-offset", -1, "first offset to read, in every partition")
	from := fs.String("from-time", "", "read from the first record at or after this RFC 3339 time")
	to := fs.String("to", "", "stop before this offset (a number) or time (RFC 3339); default: the end when replay starts")
	fs.StringVar(&o.tenant, "tenant", "", "only this tenant's events")
	part := fs.Int("partition", -1, "only this partition (default: all)")
	fs.IntVar(&o.batch, "batch", 5000, "records read per request")
	var rest []string
	// Configuration flags (-data-dir, -database-url, …) pass through.
	for i := 0; i < len(args); i++ {
		switch name := flagName(args[i]); name {
		case "topic", "from-offset", "from-time", "to", "tenant", "partition", "batch", "h", "help":
			if err := fs.Parse(args[i : i+1+flagValueCount(args, i)]); err != nil {
				return o, nil, err
			}
			i += flagValueCount(args, i)
		default:
			rest = append(rest, args[i])
		}
	}
	if o.topic == "" {
		return o, nil, errors.New("-topic is required (inbound or outbound)")
	}
	if *from != "" {
		t, err := time.Parse(time.RFC3339, *from)
		if err != nil {
			return o, nil, fmt.Errorf("-from-time: want RFC 3339 (2026-11-27T10:00:00Z): %w", err)
		}
		o.fromTime = t
	}
	if (*from != "") == (o.fromOffset >= 0) {
		return o, nil, errors.New("give exactly one of -from-offset and -from-time")
	}
	if *to != "" {
		if n, err := strconv.ParseInt(*to, 10, 64); err == nil {
			o.toOffset = n
		} else if t, err := time.Parse(time.RFC3339, *to); err == nil {
			o.toTime = t
		} else {
			return o, nil, fmt.Errorf("-to: want an offset or an RFC 3339 time, got %q", *to)
		}
	}
	if o.batch <= 0 {
		return o, nil, errors.New("-batch: want a positive number")
	}
	o.partition = int32(*part)
	return o, rest, nil
}

// flagName returns the name of a -flag or --flag argument ("" otherwise).
func flagName(arg string) string {
	if len(arg) < 2 || arg[0] != '-' {
		return ""
	}
	name := arg[1:]
	if name[0] == '-' {
		name = name[1:]
	}
	for i := range len(name) {
		if name[i] == '=' {
			return name[:i]
		}
	}
	return name
}

// flagValueCount is 1 when the flag at args[i] takes its value from the
// next argument.
func flagValueCount(args []string, i int) int {
	name := flagName(args[i])
	for j := range len(args[i]) {
		if args[i][j] == '=' {
			return 0
		}
	}
	if name == "h" || name == "help" || i+1 >= len(args) {
		return 0
	}
	return 1
}

// replay writes the envelopes of the selected records to out as JSON lines,
// partition by partition, each in offset order. A record whose value is not
// an envelope is written as is: replay hides nothing.
func replay(ctx context.Context, src replaySource, o replayOptions, out io.Writer, log zerolog.Logger) (int64, error) {
	n, err := src.Partitions(ctx, o.topic)
	if err != nil {
		return 0, err
	}
	w := bufio.NewWriterSize(out, 1<<20)
	defer w.Flush()
	var written int64
	for p := int32(0); p < n; p++ {
		if o.partition >= 0 && p != o.partition {
			continue
		}
		from := o.fromOffset
		if !o.fromTime.IsZero() {
			if from, err = src.OffsetForTime(ctx, o.topic, p, o.fromTime); err != nil {
				return written, err
			}
		}
		end := o.toOffset
		if !o.toTime.IsZero() {
			if end, err = src.OffsetForTime(ctx, o.topic, p, o.toTime); err != nil {
				return written, err
			}
		}
		if end < 0 {
			if end, err = src.EndOffset(ctx, o.topic, p); err != nil {
				return written, err
			}
		}
		for from < end {
			recs, err := src.Read(ctx, o.topic, p, from, min(o.batch, int(end-from)))
			if err != nil {
				return written, err
			}
			if len(recs) == 0 {
				break
			}
			for _, r := range recs {
				if r.Offset >= end {
					break
				}
				if o.tenant != "" && !ofTenant(r.Value, o.tenant) {
					continue
				}
				_, _ = w.Write(r.Value)
				if err := w.WriteByte('\n'); err != nil {
					return written, fmt.Errorf("write: %w", err)
				}
				written++
			}
			from = recs[len(recs)-1].Offset + 1
		}
	}
	log.Debug().Int64("records", written).Str("topic", o.topic).Msg("replay done")
	return written, w.Flush()
}

// ofTenant reports whether an envelope belongs to tenant, decoding only its
// tenant_id.
func ofTenant(value []byte, tenant string) bool {
	var e struct {
		TenantID string `json:"tenant_id"`
	}
	return json.Unmarshal(value, &e) == nil && e.TenantID == tenant
}

// runReplay opens the configured log (Kafka, or the store's own) and
// replays it to out.
func runReplay(ctx context.Context, cfg config, o replayOptions, out io.Writer, log zerolog.Logger) error {
	if len(cfg.Kafka.Brokers) > 0 {
		kl, err := kafkalog.Open(ctx, cfg.Kafka, log)
		if err != nil {
			return fmt.Errorf("FRONTDESK_KAFKA_BROKERS: %w", err)
		}
		defer kl.Close()
		_, err = replay(ctx, kl, o, out, log)
		return err
	}
	store, err := openStore(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer store.Close()
	_, err = replay(ctx, store.Log(), o, out, log)
	return err
}
