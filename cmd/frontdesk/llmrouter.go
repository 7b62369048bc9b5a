package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/rs/zerolog"

	"github.com/frontdesk-ai/frontdesk/gateway"
	"github.com/frontdesk-ai/frontdesk/llmrouter"
	"github.com/frontdesk-ai/frontdesk/llmrouter/service"
)

// frontdesk llmrouter: the LLM router alone, as the service that
// FRONTDESK_LLMROUTER_URL points at, recording every call in the store.

// llmrouterConfig is the configuration of frontdesk llmrouter: the
// binary's config, of which it reads the settings in llmrouterSettings.
// FRONTDESK_LLMROUTER_API_KEY is the key its clients must send.
type llmrouterConfig struct{ config }

// llmrouterSettings names the settings llmrouter reads.
var llmrouterSettings = []string{
	"FRONTDESK_HTTP_ADDR", "FRONTDESK_DATA_DIR", "FRONTDESK_DATABASE_URL",
	"FRONTDESK_LLM_BASE_URL", "FRONTDESK_LLM_MODEL", "FRONTDESK_LLM_API_KEY",
	"FRONTDESK_LLMROUTER_CONFIG", "FRONTDESK_LLMROUTER_API_KEY",
	"FRONTDESK_LOG_LEVEL", "FRONTDESK_LOG_FORMAT",
}

// parseLLMRouterConfig reads llmrouter's settings from the environment and
// flags and validates them.
func parseLLMRouterConfig(args []string, getenv func(string) string, stderr io.Writer) (llmrouterConfig, error) {
	var ss []setting
	for _, name := range llmrouterSettings {
		i := slices.IndexFunc(settings, func(s setting) bool { return s.env == name })
		if i < 0 {
			return llmrouterConfig{}, fmt.Errorf("llmrouter: setting %s is gone from the shared settings", name)
		}
		ss = append(ss, settings[i])
	}
	c, err := parseSettings("llmrouter", "Serves the LLM router alone: POST /llm/infer, the OpenAI-compatible /v1/chat/completions,\n/v1/embeddings and /v1/models, /healthz, /readyz and /metrics.\n\n", ss, args, getenv, stderr)
	if err != nil {
		return llmrouterConfig{c}, err
	}
	rc := llmrouterConfig{c}
	return rc, rc.validate()
}

func (c llmrouterConfig) validate() error {
	if c.HTTPAddr == "" {
		return errors.New("FRONTDESK_HTTP_ADDR: empty")
	}
	if err := c.Store.Validate(); err != nil {
		return err
	}
	if c.LLM.ConfigPath != "" && c.LLM.BaseURL != "" {
		return errors.New("FRONTDESK_LLMROUTER_CONFIG and FRONTDESK_LLM_BASE_URL: set one; the file names every backend")
	}
	if c.LLM.BaseURL != "" && c.LLM.Model == "" {
		return errors.New("FRONTDESK_LLM_MODEL: required when FRONTDESK_LLM_BASE_URL is set")
	}
	return nil
}

// runLLMRouter runs frontdesk llmrouter and returns the exit code.
func runLLMRouter(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer) int {
	cfg, err := parseLLMRouterConfig(args, getenv, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "frontdesk llmrouter: configuration: %v\n", err)
		return 2
	}
	log := newLogger(cfg.config, stderr)
	if err := serveLLMRouter(ctx, cfg, getenv, log); err != nil {
		log.Error().Err(err).Msg("llmrouter failed")
		return 1
	}
	return 0
}

// buildRouter returns the router of cfg and the models it may use: from
// the YAML file, else the default backend of FRONTDESK_LLM_*, else the
// offline responder alone.
func buildRouter(cfg llmrouterConfig, getenv func(string) string, log zerolog.Logger, reg prometheus.Registerer) (*llmrouter.Router, []string, error) {
	if cfg.LLM.ConfigPath == "" {
		router, err := llmrouter.NewDefault(cfg.LLM.BaseURL, cfg.LLM.Model, cfg.LLM.APIKey, log, reg)
		if err != nil {
			return nil, nil, fmt.Errorf("FRONTDESK_LLM_*: %w", err)
		}
		if cfg.LLM.BaseURL == "" {
			log.Warn().Msg("no model configured (FRONTDESK_LLMROUTER_CONFIG, FRONTDESK_LLM_BASE_URL): every answer comes from the offline responder")
			return router, []string{llmrouter.OfflineName}, nil
		}
		return router, []string{cfg.LLM.Model}, nil
	}
	f, err := os.Open(cfg.LLM.ConfigPath)
	if err != nil {
		return nil, nil, fmt.Errorf("FRONTDESK_LLMROUTER_CONFIG: %w", err)
	}
	defer f.Close()
	fc, err := llmrouter.LoadConfig(f, getenv)
	if err != nil {
		return nil, nil, fmt.Errorf("FRONTDESK_LLMROUTER_CONFIG %s: %w", cfg.LLM.ConfigPath, err)
	}
	router, err := llmrouter.NewFromConfig(fc, log, reg)
	if err != nil {
		return nil, nil, fmt.Errorf("FRONTDESK_LLMROUTER_CONFIG %s: %w", cfg.LLM.ConfigPath, err)
	}
	var models []string
	add := func(m string) {
		if m != "" && !slices.Contains(models, m) {
			models = append(models, m)
		}
	}
	for _, b := range fc.Backends {
		add(b.Model)
	}
	for _, r := range fc.Routes {
		for _, c := range r.Candidates {
			add(c.Model)
		}
	}
	if fc.Embeddings != nil {
		add(fc.Embeddings.Model)
	}
	return router, models, nil
}

// serveLLMRouter serves the router until ctx ends or SIGINT/SIGTERM, then
// lets requests in flight finish, writes the calls still queued for the
// store, and closes the store.
func serveLLMRouter(ctx context.Context, cfg llmrouterConfig, getenv func(string) string, log zerolog.Logger) error {
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	store, err := openStore(ctx, cfg.config, log)
	if err != nil {
		return err
	}
	defer store.Close()
	tenant, err := ensureDefaultTenant(ctx, store)
	if err != nil {
		return err
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	router, models, err := buildRouter(cfg, getenv, log, reg)
	if err != nil {
		return err
	}
	acct, err := service.NewAccountant(service.AccountantConfig{Agents: store}, router, store, log, reg)
	if err != nil {
		return err
	}
	// Deferred after the store's Close, so it runs before it: once the
	// server has let requests in flight finish, what is queued is written.
	defer closeAccountant(ctx, acct, log)
	// The router embeds with its configured embeddings backend; without
	// one, /v1/embeddings answers 501.
	svc, err := service.New(service.Config{APIKey: cfg.LLM.RouterAPIKey, Models: models, DefaultTenantID: tenant.ID, Ready: store.Ping},
		acct, router, log, reg, reg)
	if err != nil {
		return err
	}
	// The gateway's server answers /healthz, /readyz (the store) and
	// /metrics, and hands everything else to the service.
	srv := gateway.New(gateway.Config{Addr: cfg.HTTPAddr}, log, reg, map[string]gateway.Check{"store": store.Ping})
	srv.Handle("/", svc)
	if err := srv.Listen(); err != nil {
		return err
	}
	log.Info().Strs("models", models).Bool("key", cfg.LLM.RouterAPIKey != "").Str("default_tenant_id", tenant.ID).
		Msg("llm router service: POST /llm/infer, /v1/chat/completions, /v1/embeddings")
	if err := srv.Run(ctx); err != nil {
		return fmt.Errorf("llmrouter: %w", err)
	}
	log.Info().Msg("stopped cleanly")
	return nil
}

// accountantCloseTimeout bounds writing the LLM calls still queued at
// shutdown.
const accountantCloseTimeout = 10 * time.Second

// closeAccountant writes the calls acct still holds, within
// accountantCloseTimeout, and stops it; run it before the store closes.
func closeAccountant(ctx context.Context, acct *service.Accountant, log zerolog.Logger) {
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), accountantCloseTimeout)
	defer cancel()
	if err := acct.Close(cctx); err != nil {
		log.Error().Err(err).Msg("llm calls still queued at shutdown were not recorded")
	}
}
