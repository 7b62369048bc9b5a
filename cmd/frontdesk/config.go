package main

import (
	"errors"
	"flag"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/frontdesk-ai/frontdesk/actors"
	"github.com/frontdesk-ai/frontdesk/cluster"
	"github.com/frontdesk-ai/frontdesk/persistence/sqlstore"
)

// config is every setting of the binary, parsed once from the environment
// (the contract) and flags that mirror it.
type config struct {
	HTTPAddr   string
	LogLevel   string
	LogFormat  string
	Store      sqlstore.Config
	Kafka      []string
	Cluster    cluster.Config
	Actors     actors.Config
	Partitions int
}

// setting ties one environment variable to the flag that mirrors it.
type setting struct {
	env, flag, def, help string
	set                  func(c *config, v string) error
}

var settings = []setting{
	{"FRONTDESK_HTTP_ADDR", "http-addr", ":8080", "listen address of the HTTP server",
		func(c *config, v string) error { c.HTTPAddr = v; return nil }},
	{"FRONTDESK_DATA_DIR", "data-dir", "./data", "embedded store, log and blobs",
		func(c *config, v string) error { c.Store.DataDir = v; return nil }},
	{"FRONTDESK_DATABASE_URL", "database-url", "", "postgres://… selects PostgreSQL (empty: SQLite in the data dir)",
		func(c *config, v string) error {
			if v != "" {
				if err := sqlstore.ValidateDatabaseURL(v); err != nil {
					return err
				}
			}
			c.Store.DatabaseURL = v
			return nil
		}},
	{"FRONTDESK_KAFKA_BROKERS", "kafka-brokers", "", "comma-separated host:port selects Kafka (empty: embedded log)",
		func(c *config, v string) error { c.Kafka = splitList(v); return nil }},
	{"FRONTDESK_CLUSTER_ADDR", "cluster-addr", "", "this member's cluster address host:port (empty: single member)",
		func(c *config, v string) error { c.Cluster.Addr = v; return nil }},
	{"FRONTDESK_CLUSTER_PEERS", "cluster-peers", "", "comma-separated cluster addresses of every member",
		func(c *config, v string) error { c.Cluster.Peers = splitList(v); return nil }},
	{"FRONTDESK_GRAIN_IDLE_TIMEOUT", "grain-idle-timeout", "5m", "passivate a grain idle this long (Go duration)",
		func(c *config, v string) (err error) { c.Actors.IdleTimeout, err = positiveDuration(v); return err }},
	{"FRONTDESK_LOG_PARTITIONS", "log-partitions", "4", "partitions of a new topic in the embedded log",
		func(c *config, v string) (err error) { c.Partitions, err = positiveInt(v); return err }},
	{"FRONTDESK_LOG_LEVEL", "log-level", "info", "debug, info, warn or error",
		func(c *config, v string) error {
			switch v {
			case "debug", "info", "warn", "error":
				c.LogLevel = v
				return nil
			}
			return fmt.Errorf("want debug, info, warn or error, got %q", v)
		}},
	{"FRONTDESK_LOG_FORMAT", "log-format", "auto", "json, console, or auto (console on a terminal)",
		func(c *config, v string) error {
			switch v {
			case "json", "console", "auto":
				c.LogFormat = v
				return nil
			}
			return fmt.Errorf("want json, console or auto, got %q", v)
		}},
}

// parseConfig reads the environment, then flags of args (which override it),
// and validates the result. Each error names the variable at fault.
func parseConfig(name string, args []string, getenv func(string) string) (config, error) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: frontdesk %s [flags]\n\nEach flag mirrors an environment variable (the flag wins):\n", name)
		for _, s := range settings {
			fmt.Fprintf(fs.Output(), "  -%s / %s (default %q)\n      %s\n", s.flag, s.env, s.def, s.help)
		}
	}
	vals := make([]*string, len(settings))
	for i, s := range settings {
		def := s.def
		if v, ok := lookup(getenv, s.env); ok {
			def = v
		}
		vals[i] = fs.String(s.flag, def, s.help)
	}
	if err := fs.Parse(args); err != nil {
		return config{}, err
	}
	if fs.NArg() > 0 {
		return config{}, fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	var c config
	var errs []error
	for i, s := range settings {
		if err := s.set(&c, strings.TrimSpace(*vals[i])); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", s.env, err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return c, err
	}
	return c, c.validate()
}

func (c config) validate() error {
	if c.HTTPAddr == "" {
		return errors.New("FRONTDESK_HTTP_ADDR: empty")
	}
	if err := c.Store.Validate(); err != nil {
		return err
	}
	if len(c.Kafka) > 0 {
		return errors.New("FRONTDESK_KAFKA_BROKERS: the Kafka event log is not part of this build yet; unset it to use the embedded log")
	}
	if err := c.Cluster.Validate(); err != nil {
		return err
	}
	if len(c.Cluster.Peers) > 1 {
		return errors.New("FRONTDESK_CLUSTER_PEERS: several members need a shared event log (FRONTDESK_KAFKA_BROKERS); the embedded log serves one member")
	}
	return c.Actors.Validate()
}

// lookup treats an empty variable as unset.
func lookup(getenv func(string) string, key string) (string, bool) {
	v := getenv(key)
	return v, v != ""
}

func splitList(v string) []string {
	var out []string
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func positiveDuration(v string) (time.Duration, error) {
	d, err := time.ParseDuration(v)
	if err != nil {
		return 0, fmt.Errorf("want a duration such as 90s or 5m: %w", err)
	}
	if d <= 0 {
		return 0, fmt.Errorf("want a positive duration, got %s", v)
	}
	return d, nil
}

func positiveInt(v string) (int, error) {
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("want a positive integer, got %q", v)
	}
	return n, nil
}
