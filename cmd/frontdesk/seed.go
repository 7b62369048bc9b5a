package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/frontdesk-ai/frontdesk/actors"
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
