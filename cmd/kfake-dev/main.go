// Command kfake-dev runs a single-broker Kafka for developing frontdesk's
// cluster mode on one machine: kfake, franz-go's Kafka-protocol broker, in
// one process. Point FRONTDESK_KAFKA_BROKERS at its address. With a data
// directory (the default) records, topics and committed offsets survive
// restarts. The group session timeout floor is lowered (default 1s) so
// members may use short session timeouts.
//
// kfake is a broker for development and tests only: one goroutine serves
// every request and it has no replication. Production must use a real
// Kafka cluster.
//
//	kfake-dev -addr 127.0.0.1:9092 -data-dir ./data/kafka
//
// It runs until SIGINT or SIGTERM, then saves its state and exits. Nothing
// in it is concurrent beyond kfake itself.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, os.Args[1:], os.Stderr)
	switch {
	case errors.Is(err, flag.ErrHelp):
	case err != nil:
		fmt.Fprintln(os.Stderr, "kfake-dev:", err)
		stop()
		os.Exit(2)
	}
}

// options are the command's flags.
type options struct {
	addr       string
	dataDir    string
	minSession time.Duration
}

func parseFlags(args []string, out io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("kfake-dev", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.StringVar(&o.addr, "addr", "127.0.0.1:9092", "listen address, host:port; clients are told this address too")
	fs.StringVar(&o.dataDir, "data-dir", "./data/kafka", "directory that keeps records across restarts; empty keeps them in memory only")
	fs.DurationVar(&o.minSession, "min-session-timeout", time.Second, "smallest group session timeout members may ask for")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	return o, nil
}

// start starts the broker of o.
func start(o options) (*kfake.Cluster, error) {
	_, portStr, err := net.SplitHostPort(o.addr)
	if err != nil {
		return nil, fmt.Errorf("-addr %q: want host:port: %w", o.addr, err)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil || port < 0 || port > 65535 {
		return nil, fmt.Errorf("-addr %q: bad port", o.addr)
	}
	opts := []kfake.Opt{
		kfake.NumBrokers(1),
		kfake.Ports(port),
		// kfake listens on 127.0.0.1; listen where -addr says instead.
		kfake.ListenFn(func(network, _ string) (net.Listener, error) { return net.Listen(network, o.addr) }),
		kfake.GroupMinSessionTimeout(o.minSession),
	}
	if o.dataDir != "" {
		opts = append(opts, kfake.DataDir(o.dataDir))
	}
	c, err := kfake.NewCluster(opts...)
	if err != nil {
		return nil, fmt.Errorf("start kfake on %s: %w", o.addr, err)
	}
	return c, nil
}

func run(ctx context.Context, args []string, out io.Writer) error {
	o, err := parseFlags(args, out)
	if err != nil {
		return err
	}
	c, err := start(o)
	if err != nil {
		return err
	}
	defer c.Close()
	storage := "memory only: records are lost on exit"
	if o.dataDir != "" {
		storage = o.dataDir
	}
	fmt.Fprintf(out, `kfake-dev: a fake Kafka broker for DEVELOPMENT AND TESTS ONLY.
  Production must use a real Kafka cluster (FRONTDESK_KAFKA_BROKERS=your brokers).
  listening on %s   data: %s
  export FRONTDESK_KAFKA_BROKERS=%s
  stop with Ctrl-C
`, c.ListenAddrs()[0], storage, c.ListenAddrs()[0])
	<-ctx.Done()
	fmt.Fprintln(out, "kfake-dev: stopping")
	return nil
}
