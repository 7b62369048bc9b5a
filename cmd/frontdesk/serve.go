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
	"github.com/frontdesk-ai/frontdesk/channels/whatsapp"
	"github.com/frontdesk-ai/frontdesk/cluster"
	"github.com/frontdesk-ai/frontdesk/dashboard"
	"github.com/frontdesk-ai/frontdesk/gateway"
	"github.com/frontdesk-ai/frontdesk/llmrouter"
	"github.com/frontdesk-ai/frontdesk/persistence"
	"github.com/frontdesk-ai/frontdesk/persistence/sqlstore"
	"github.com/frontdesk-ai/frontdesk/tools"
)

func migrate(ctx context.Context, cfg config, log zerolog.Logger) error {
	store, err := openStore(ctx, cfg, log)
	if err != nil {
		return err
	}
	return store.Close()
}

// openStore opens the configured store and applies its migrations.
func openStore(ctx context.Context, cfg config, log zerolog.Logger) (*sqlstore.Store, error) {
	store, err := sqlstore.Open(ctx, cfg.Store)
	if err != nil {
		return nil, err
	}
	applied, err := store.Migrate(ctx)
	if err != nil {
		store.Close()
		return nil, err
	}
	log.Info().Str("database", store.Dialect()).Strs("applied", applied).Msg("store ready")
	return store, nil
}

// serve runs every role in one process. Shutdown order on SIGINT/SIGTERM:
// stop intake (the HTTP server and the inbound dispatcher stop taking new
// work; the dispatcher finishes its batch and commits), drain (grains finish
// their turns and commit replies), stop the senders (they finish what is in
// hand and commit), then leave the cluster and stop the actor system, then
// close the store. Nothing accepted is lost: what was not committed is
// redelivered at the next start and deduplicated.
func serve(ctx context.Context, cfg config, log zerolog.Logger) error {
	intake, stop := signal.NotifyContext(ctx, syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	store, err := openStore(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer store.Close()
	eventLog := store.Log()
	if err := eventLog.Configure(sqlstore.LogConfig{Partitions: int32(cfg.Partitions)}); err != nil {
		return fmt.Errorf("FRONTDESK_LOG_PARTITIONS: %w", err)
	}
	tenant, err := ensureDefaultTenant(ctx, store)
	if err != nil {
		return err
	}
	if cfg.AdminEmail != "" {
		created, err := gateway.EnsureAdmin(ctx, store, tenant.ID, cfg.AdminEmail, cfg.AdminPassword, 0)
		if err != nil {
			return fmt.Errorf("FRONTDESK_ADMIN_EMAIL: %w", err)
		}
		if created {
			log.Info().Str("tenant_id", tenant.ID).Msg("first admin user created")
		}
	}

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	hub := dashboard.New(dashboard.Config{}, store, log)
	if err := hub.RegisterMetrics(reg); err != nil {
		return err
	}
	router, err := llmrouter.NewDefault(cfg.LLM.BaseURL, cfg.LLM.Model, cfg.LLM.APIKey, log, reg)
	if err != nil {
		return fmt.Errorf("FRONTDESK_LLM_*: %w", err)
	}
	if cfg.LLM.BaseURL == "" {
		log.Warn().Msg("no model configured (FRONTDESK_LLM_BASE_URL): the offline responder acknowledges, opens a ticket and hands over to a human")
	}
	toolbox, err := tools.New(store)
	if err != nil {
		return err
	}
	rt, err := actors.New(cfg.Actors, actors.Deps{
		Store: store, Model: router, Offline: llmrouter.NewOffline(), Tools: toolbox, Outbox: eventLog, Notify: hub.Notify,
	}, log, reg)
	if err != nil {
		return err
	}
	member, err := cluster.Start(cfg.Cluster, log, rt.Kinds()...)
	if err != nil {
		return err
	}
	rt.SetCaller(member)
	defer member.Stop()
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
	api := gateway.NewAPI(gateway.APIConfig{}, store, log)
	api.Register(srv)
	srv.Handle("GET /ws", dashboard.WSHandler(hub, api.Authenticate, dashboard.WSConfig{}, log))

	var sender *whatsapp.Sender
	if cfg.Demo {
		wh, err := gateway.NewWhatsApp(gateway.WhatsAppConfig{VerifyToken: demoVerifyToken, AppSecret: demoAppSecret,
			PhoneNumberID: demoPhoneNumberID, DefaultTenantID: tenant.ID}, store, eventLog, log, reg)
		if err != nil {
			return err
		}
		wh.Register(srv)
		log.Warn().Str("admin", cfg.AdminEmail).Msg("DEMO MODE: WhatsApp webhook with public demo credentials; replies are shown live but not delivered. Try: frontdesk demo-message")
	} else if w := cfg.WhatsApp; w.enabled() {
		wh, err := gateway.NewWhatsApp(gateway.WhatsAppConfig{VerifyToken: w.VerifyToken, AppSecret: w.AppSecret,
			PhoneNumberID: w.PhoneNumberID, DefaultTenantID: tenant.ID}, store, eventLog, log, reg)
		if err != nil {
			return err
		}
		wh.Register(srv)
		client, err := whatsapp.NewClient(whatsapp.Config{BaseURL: w.GraphAPIURL})
		if err != nil {
			return fmt.Errorf("FRONTDESK_GRAPH_API_URL: %w", err)
		}
		limiter, err := whatsapp.NewRateLimiter(whatsapp.RateLimitConfig{PerSecond: w.RatePerSecond})
		if err != nil {
			return fmt.Errorf("FRONTDESK_WHATSAPP_RATE: %w", err)
		}
		sender, err = whatsapp.NewSender(whatsapp.SenderConfig{PhoneNumberID: w.PhoneNumberID, AccessToken: w.AccessToken, Notify: hub.Notify},
			client, limiter, store, eventLog, log, reg)
		if err != nil {
			return err
		}
		log.Info().Str("phone_number_id", w.PhoneNumberID).Msg("whatsapp channel on: webhook at /webhooks/whatsapp")
	} else {
		log.Warn().Msg("whatsapp channel off (FRONTDESK_WHATSAPP_* unset)")
	}
	if err := srv.Listen(); err != nil {
		return err
	}

	// Senders and the hub outlive intake: they deliver what the drain
	// commits, and stop last.
	background, stopBackground := context.WithCancel(context.WithoutCancel(ctx))
	defer stopBackground()
	bg, _ := errgroup.WithContext(background)
	bg.Go(func() error { return hub.Run(background) })
	bg.Go(func() error { return api.Run(background) })
	if sender != nil {
		bg.Go(func() error { return sender.Run(background) })
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
	stopBackground()
	if berr := bg.Wait(); berr != nil && !errors.Is(berr, context.Canceled) {
		log.Error().Err(berr).Msg("background service stopped with an error")
	}
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	log.Info().Msg("stopped cleanly")
	return nil
}
