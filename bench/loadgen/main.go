// Command loadgen drives a real frontdesk binary from outside, as a brand's
// traffic would: it runs an instant OpenAI-compatible model and a Graph API
// fake in its own process, starts `frontdesk serve` (SQLite, embedded log,
// the WhatsApp send limiter lifted) as a child process for each scenario,
// posts signed WhatsApp webhooks and times each reply's arrival at the
// Graph fake.
//
// Scenarios (-scenario, default all, in this order):
//   - single: one conversation alone, one message after another; webhook →
//     reply latency.
//   - chat: many conversations at once, each sending its next message when
//     the previous reply arrived; turns/s, latency and frontdesk's CPU use.
//   - ingest: while conversations chat, clients post one-message webhooks
//     as fast as they can, and then (in the same run) hit a bare net/http
//     handler in this process; req/s, p99 and the ratio.
//   - heap: heap per active conversation from /metrics before and after
//     many conversations of a few messages each.
//
// It prints readable lines and one line per result in Go's benchmark format
// (bench/run.sh folds them into bench/RESULTS.md), and exits non-zero when
// the binary does not start, a webhook is refused, or a reply is lost or
// sent twice (then a "--- FAIL:" line says so).
//
// Usage: go run ./bench/loadgen -bin bin/frontdesk [-scenario chat] [-duration 10s] …
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/frontdesk-ai/frontdesk/channels/whatsapp/whatsapptest"
)

// pkgPath is this command's import path.
const pkgPath = "github.com/frontdesk-ai/frontdesk/bench/loadgen"

var allScenarios = []string{"single", "chat", "ingest", "heap"}

// config is the command line.
type config struct {
	bin       string
	scenarios []string
	name      string
	env       envList
	keep      bool

	singleMessages, singleWarmup int
	conversations                int
	warmup, duration, think      time.Duration
	ingestClients                int
	ingestDuration               time.Duration
	heapConversations            int
	heapMessages, heapChars      int
	heapGOGC                     int
	replyTimeout                 time.Duration
}

// envList is a repeatable KEY=VAL flag.
type envList []string

func (e *envList) String() string { return strings.Join(*e, " ") }

func (e *envList) Set(v string) error {
	if k, _, ok := strings.Cut(v, "="); !ok || k == "" {
		return fmt.Errorf("want KEY=VAL, got %q", v)
	}
	*e = append(*e, v)
	return nil
}

func parseFlags(args []string, stderr io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("loadgen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var scenarios string
	fs.StringVar(&c.bin, "bin", "bin/frontdesk", "the frontdesk binary to drive")
	fs.StringVar(&scenarios, "scenario", strings.Join(allScenarios, ","), "comma-separated scenarios to run: "+strings.Join(allScenarios, ", "))
	fs.StringVar(&c.name, "name", "BenchmarkLoad", "name of the result lines (bench/run.sh names a base commit's BenchmarkLoadAt<commit>)")
	fs.Var(&c.env, "env", "KEY=VAL passed to frontdesk, over the load generator's own settings (repeatable)")
	fs.BoolVar(&c.keep, "keep", false, "keep each frontdesk's data directory and log")
	fs.IntVar(&c.singleMessages, "single-messages", 200, "single: messages measured")
	fs.IntVar(&c.singleWarmup, "single-warmup", 5, "single: messages sent first and not measured")
	fs.IntVar(&c.conversations, "conversations", 500, "chat and ingest: conversations chatting at once")
	fs.DurationVar(&c.warmup, "warmup", 5*time.Second, "chat and ingest: load before measuring")
	fs.DurationVar(&c.duration, "duration", 30*time.Second, "chat: measured time")
	fs.DurationVar(&c.think, "think", 0, "chat and ingest: pause between a reply and the conversation's next message (0: closed loop, mean latency = conversations ÷ turns/s)")
	fs.IntVar(&c.ingestClients, "ingest-clients", 8, "ingest: concurrent clients")
	fs.DurationVar(&c.ingestDuration, "ingest-duration", 10*time.Second, "ingest: time for the bare handler, then as long for webhooks")
	fs.IntVar(&c.heapConversations, "heap-conversations", 2000, "heap: conversations")
	fs.IntVar(&c.heapMessages, "heap-messages", 5, "heap: messages per conversation")
	fs.IntVar(&c.heapChars, "heap-chars", 200, "heap: characters per message")
	fs.IntVar(&c.heapGOGC, "heap-gogc", 20, "heap: GOGC of frontdesk, so its heap stays near what is live (0: the runtime's default)")
	fs.DurationVar(&c.replyTimeout, "reply-timeout", time.Minute, "a reply not at the Graph API this long after its webhook is lost")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	for _, s := range strings.Split(scenarios, ",") {
		s = strings.TrimSpace(s)
		if !slices.Contains(allScenarios, s) {
			return c, fmt.Errorf("-scenario: unknown %q (want %s)", s, strings.Join(allScenarios, ", "))
		}
		if !slices.Contains(c.scenarios, s) {
			c.scenarios = append(c.scenarios, s)
		}
	}
	switch {
	case c.singleMessages < 1, c.conversations < 1, c.ingestClients < 1, c.heapConversations < 1, c.heapMessages < 1:
		return c, errors.New("counts must be at least 1")
	case c.heapChars < 20:
		return c, errors.New("-heap-chars: at least 20")
	case c.duration <= 0, c.ingestDuration <= 0, c.replyTimeout <= 0, c.warmup < 0, c.think < 0:
		return c, errors.New("durations must be positive")
	}
	return c, nil
}

func main() {
	c, err := parseFlags(os.Args[1:], os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(0)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err = run(ctx, c, os.Stdout)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}
}

// run starts the fakes and runs the scenarios in order.
func run(ctx context.Context, c config, out io.Writer) error {
	v, err := version(c.bin)
	if err != nil {
		return fmt.Errorf("the binary does not run: %w", err)
	}
	r := &runner{cfg: c, out: out, nonce: fmt.Sprintf("%x", time.Now().UnixNano())}
	r.model = newModelFake(replyText)
	r.graph = newGraphFake(phoneNumberID, accessToken)
	var closers []func()
	defer func() {
		for _, f := range closers {
			f()
		}
	}()
	for _, s := range []struct {
		h   http.Handler
		url *string
	}{{r.model, &r.modelURL}, {r.graph, &r.graphURL}, {http.HandlerFunc(bareHandler), &r.bareURL}} {
		u, closeFn, err := listen(s.h)
		if err != nil {
			return err
		}
		*s.url = u
		closers = append(closers, closeFn)
	}
	r.modelURL += "/v1"
	r.graphURL += "/" + whatsapptest.Version
	r.client = &http.Client{
		Timeout: 30 * time.Second,
		Transport: &http.Transport{
			MaxIdleConns:        0,
			MaxIdleConnsPerHost: max(c.conversations, c.heapConversations) + c.ingestClients + 16,
			IdleConnTimeout:     90 * time.Second,
		},
	}
	// The header of Go's benchmark output, so tools group the lines.
	r.printf("pkg: %s", pkgPath)
	r.printf("loadgen: %s (%s), scenarios %s", c.bin, v, strings.Join(c.scenarios, ","))
	scenarios := map[string]func(context.Context) error{"single": r.single, "chat": r.chat, "ingest": r.ingest, "heap": r.heap}
	for _, s := range c.scenarios {
		if err := scenarios[s](ctx); err != nil {
			r.fail(s, "%v", err)
			if ctx.Err() != nil || errors.Is(err, errStart) {
				break
			}
		}
	}
	if len(r.failed) > 0 {
		return fmt.Errorf("%d failures:\n  %s", len(r.failed), strings.Join(r.failed, "\n  "))
	}
	return nil
}
