// Command frontdesk is the frontdesk binary: every role of the support
// runtime in one process (serve), its database migrations (migrate) and its
// version. Configuration comes from FRONTDESK_* environment variables,
// mirrored by flags, parsed once here and handed down as typed structs.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"time"

	"github.com/rs/zerolog"
)

// version is set at build time with -ldflags "-X main.version=…"; otherwise
// it is read from the module build info.
var version = ""

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

const usage = `frontdesk: a self-hostable AI customer-support runtime

usage: frontdesk <command> [flags]

commands:
  serve     run every role in one process (gateway, actors, senders, dashboard)
  migrate   apply the store's migrations and exit
  llmrouter run the LLM router alone, as the service FRONTDESK_LLMROUTER_URL points at
  replay    write the event log's envelopes as JSON lines to stdout
  commerce backfill -since T
            import the orders and customers the configured shops changed since T
  version   print the version
  demo-message
            post a signed test WhatsApp message to a running frontdesk and print the live events

Run "frontdesk <command> -h" for the flags and environment variables.
`

// run executes one subcommand and returns the process exit code.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "version", "-version", "--version":
		fmt.Fprintf(stdout, "frontdesk %s\n", buildVersion())
		return 0
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	case "demo-message":
		return demoMessage(ctx, rest, getenv, stdout, stderr)
	case "llmrouter":
		return runLLMRouter(ctx, rest, getenv, stderr)
	case "serve", "migrate", "replay", "commerce":
	default:
		fmt.Fprintf(stderr, "frontdesk: unknown command %q\n\n%s", cmd, usage)
		return 2
	}
	var ropts replayOptions
	if cmd == "replay" {
		var err error
		if ropts, rest, err = parseReplayFlags(rest, stderr); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return 0
			}
			fmt.Fprintf(stderr, "frontdesk replay: %v\n", err)
			return 2
		}
	}
	var since time.Time
	if cmd == "commerce" {
		var err error
		if since, rest, err = parseCommerceFlags(rest, stderr); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return 0
			}
			fmt.Fprintf(stderr, "frontdesk commerce: %v\n", err)
			return 2
		}
	}
	cfg, err := parseConfig(cmd, rest, getenv)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "frontdesk %s: configuration: %v\n", cmd, err)
		return 2
	}
	log := newLogger(cfg, stderr)
	switch cmd {
	case "migrate":
		err = migrate(ctx, cfg, log)
	case "serve":
		err = serve(ctx, cfg, log)
	case "replay":
		err = runReplay(ctx, cfg, ropts, stdout, log)
	case "commerce":
		err = runCommerce(ctx, cfg, since, stdout, log)
	}
	if err != nil {
		log.Error().Err(err).Msg(cmd + " failed")
		return 1
	}
	return 0
}

func buildVersion() string {
	if version != "" {
		return version
	}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	v := bi.Main.Version
	for _, s := range bi.Settings {
		if s.Key == "vcs.revision" && len(s.Value) >= 12 {
			v += " (" + s.Value[:12] + ")"
		}
	}
	return v
}

// newLogger builds the one logger of the process: JSON, or human-readable
// console lines when stderr is a terminal (or FRONTDESK_LOG_FORMAT=console).
func newLogger(cfg config, w io.Writer) zerolog.Logger {
	level, _ := zerolog.ParseLevel(cfg.LogLevel)
	console := cfg.LogFormat == "console"
	if cfg.LogFormat == "auto" {
		if f, ok := w.(*os.File); ok {
			if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
				console = true
			}
		}
	}
	if console {
		w = zerolog.ConsoleWriter{Out: w, TimeFormat: time.TimeOnly}
	}
	return zerolog.New(w).Level(level).With().Timestamp().Logger()
}
