package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/rs/zerolog"

	"github.com/frontdesk-ai/frontdesk/actors"
	"github.com/frontdesk-ai/frontdesk/gateway"
	"github.com/frontdesk-ai/frontdesk/persistence"
	"github.com/frontdesk-ai/frontdesk/persistence/sqlstore"
)

// defaultTenantSlug names the tenant that the FRONTDESK_* channel and admin
// variables belong to.
const defaultTenantSlug = "default"

// ensureDefaultTenant returns the default tenant, creating it and its
// support agent (with prompt version 1 live) on first start. Members that
// start together converge on one tenant: the unique slug decides.
func ensureDefaultTenant(ctx context.Context, store *sqlstore.Store) (persistence.Tenant, error) {
	t, err := store.GetTenantBySlug(ctx, defaultTenantSlug)
	if err == nil {
		return t, nil
	}
	if !errors.Is(err, persistence.ErrNotFound) {
		return t, fmt.Errorf("load default tenant: %w", err)
	}
	err = store.InTx(ctx, func(tx *sqlstore.Tx) error {
		t = persistence.Tenant{Name: "Demo Shop", Slug: defaultTenantSlug}
		if err := tx.CreateTenant(ctx, &t); err != nil {
			return err
		}
		ap := &persistence.AgentProfile{Base: persistence.Base{TenantID: t.ID}, Name: "Support agent",
			Description: "Answers customers, looks up their profile, opens tickets and hands over to humans.",
			Tools:       actors.DefaultTools()}
		if err := tx.CreateAgentProfile(ctx, ap); err != nil {
			return err
		}
		pv := &persistence.PromptVersion{Base: persistence.Base{TenantID: t.ID}, AgentProfileID: ap.ID, Number: 1,
			Prompt: actors.DefaultPrompt, AuthorID: "system"}
		if err := tx.CreatePromptVersion(ctx, pv); err != nil {
			return err
		}
		ap.LiveVersion = 1
		return tx.UpdateAgentProfile(ctx, ap)
	})
	if errors.Is(err, persistence.ErrDuplicate) {
		return store.GetTenantBySlug(ctx, defaultTenantSlug)
	}
	if err != nil {
		return t, fmt.Errorf("create default tenant: %w", err)
	}
	return t, nil
}

// ensureAdmin creates the first admin user (FRONTDESK_ADMIN_*). In demo mode
// with the public demo password it is a demo user, which a start outside
// demo mode refuses (gateway.APIConfig.Demo); such a start also ends every
// session demo users still hold.
func ensureAdmin(ctx context.Context, cfg config, store *sqlstore.Store, tenantID string, log zerolog.Logger) error {
	if !cfg.Demo {
		n, err := store.DeleteDemoSessions(ctx)
		if err != nil {
			return fmt.Errorf("end demo sessions: %w", err)
		}
		if n > 0 {
			log.Warn().Int64("sessions", n).Msg("demo mode is off: demo users' sessions ended, and demo users cannot sign in")
		}
	}
	if cfg.AdminEmail == "" {
		return nil
	}
	ensure, what := gateway.EnsureAdmin, "first admin user created"
	if cfg.Demo && cfg.AdminPassword == demoAdminPassword {
		ensure, what = gateway.EnsureDemoAdmin, "demo admin created (refused outside demo mode)"
	}
	created, err := ensure(ctx, store, tenantID, cfg.AdminEmail, cfg.AdminPassword, 0)
	if err != nil {
		return fmt.Errorf("FRONTDESK_ADMIN_EMAIL: %w", err)
	}
	if created {
		log.Info().Str("tenant_id", tenantID).Msg(what)
	}
	return nil
}
