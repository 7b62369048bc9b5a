package main

import (
	"context"
	"errors"
	"fmt"
	"os/signal"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/rs/zerolog"
	"golang.org/x/sync/errgroup"

	"github.com/frontdesk-ai/frontdesk/actors"
	"github.com/frontdesk-ai/frontdesk/cluster"
	"github.com/frontdesk-ai/frontdesk/gateway"
	"github.com/frontdesk-ai/frontdesk/persistence"
	"github.com/frontdesk-ai/frontdesk/persistence/sqlstore"
)

func migrate(ctx context.Context, cfg config, log zerolog.Logger) error {
	store, err := sqlstore.Open(ctx, cfg.Store)
	if err != nil {
		return err
	}
	defer store.Close()
	applied, err := store.Migrate(ctx)
	if err != nil {
		return err
	}
	log.Info().Str("database", store.Dialect()).Strs("applied", applied).Msg("migrations applied")
	return nil
}

// serve runs every role in one process. Shutdown order on SIGINT/SIGTERM:
// stop intake (HTTP server and log consumers stop taking new work), drain
// (the dispatcher finishes its batch and commits offsets, grains finish their
// jobs), then leave the cluster and stop the actor system, then close the
// store. Nothing accepted is lost: what was not committed is redelivered at
// the next start and deduplicated by the grains.
func serve(ctx context.Context, cfg config, log zerolog.Logger) error {
	intake, stop := signal.NotifyContext(ctx, syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	store, err := sqlstore.Open(ctx, cfg.Store)
	if err != nil {
		return err
	}
	defer store.Close()
	applied, err := store.Migrate(ctx)
	if err != nil {
		return err
	}
	log.Info().Str("database", store.Dialect()).Int("migrations_applied", len(applied)).Msg("store ready")

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	rt, err := actors.New(cfg.Actors, store, log, reg)
	if err != nil {
		return err
	}
	member, err := cluster.Start(cfg.Cluster, log, rt.Kinds()...)
	if err != nil {
		return err
	}
	rt.SetCaller(member)
	defer member.Stop()

	eventLog := store.Log()
	if err := eventLog.Configure(sqlstore.LogConfig{Partitions: int32(cfg.Partitions)}); err != nil {
		return fmt.Errorf("FRONTDESK_LOG_PARTITIONS: %w", err)
	}
	disp := actors.NewDispatcher(actors.DispatchConfig{}, eventLog, rt)

	srv := gateway.New(gateway.Config{Addr: cfg.HTTPAddr}, log, reg, map[string]gateway.Check{
		"store": store.Ping,
		"log": func(ctx context.Context) error {
			_, err := eventLog.EndOffset(ctx, persistence.TopicInbound, 0)
			return err
		},
		"dispatcher": func(context.Context) error {
			if !disp.Ready() {
				return errors.New("not consuming yet")
			}
			return nil
		},
	})
	if err := srv.Listen(); err != nil {
		return err
	}

	g, gctx := errgroup.WithContext(intake)
	g.Go(func() error { return srv.Run(gctx) })
	g.Go(func() error { return disp.Run(gctx) })
	err = g.Wait()
	log.Info().Msg("intake stopped; draining")

	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if derr := rt.Drain(dctx); derr != nil {
		log.Error().Err(derr).Msg("grains did not drain in time; their work will be redone from the log")
	}
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	log.Info().Msg("stopped cleanly")
	return nil
}
