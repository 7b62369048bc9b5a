package sqlstore

import (
	"context"

	"github.com/frontdesk-ai/frontdesk/persistence"
)

var agentProfiles = table[persistence.AgentProfile]{
	name: "agent_profiles",
	cols: []string{"name", "description", "live_version", "tools", "routing", "policy"},
	fields: func(m *persistence.AgentProfile) []any {
		return []any{&m.Name, &m.Description, &m.LiveVersion, &m.Tools, &m.Routing, &m.Policy}
	},
}

// CreateAgentProfile stores a new agent profile.
func (q q) CreateAgentProfile(ctx context.Context, m *persistence.AgentProfile) error {
	return create(ctx, q, agentProfiles, m)
}

// GetAgentProfile returns the tenant's agent profile id, or
// persistence.ErrNotFound.
func (q q) GetAgentProfile(ctx context.Context, tenantID, id string) (persistence.AgentProfile, error) {
	return get(ctx, q, agentProfiles, tenantID, id)
}

// UpdateAgentProfile writes m if m.Version is still the stored version (else
// persistence.ErrVersionConflict) and bumps m's Version and UpdatedAt.
func (q q) UpdateAgentProfile(ctx context.Context, m *persistence.AgentProfile) error {
	return update(ctx, q, agentProfiles, m)
}

// ListAgentProfiles returns one page of the tenant's agent profiles, oldest
// first, and the next cursor ("" on the last page).
func (q q) ListAgentProfiles(ctx context.Context, tenantID string, p persistence.Page) ([]persistence.AgentProfile, string, error) {
	return list(ctx, q, agentProfiles, p, "tenant_id = ?", tenantID)
}

var promptVersions = table[persistence.PromptVersion]{
	name: "prompt_versions",
	cols: []string{"agent_profile_id", "number", "prompt", "author_id"},
	fields: func(m *persistence.PromptVersion) []any {
		return []any{&m.AgentProfileID, &m.Number, &m.Prompt, &m.AuthorID}
	},
}

// CreatePromptVersion stores a new, immutable prompt version. A Number the
// profile already has fails with persistence.ErrDuplicate.
func (q q) CreatePromptVersion(ctx context.Context, m *persistence.PromptVersion) error {
	return create(ctx, q, promptVersions, m)
}

// GetPromptVersion returns the tenant's prompt version id, or
// persistence.ErrNotFound.
func (q q) GetPromptVersion(ctx context.Context, tenantID, id string) (persistence.PromptVersion, error) {
	return get(ctx, q, promptVersions, tenantID, id)
}

// GetPromptVersionByNumber returns version number of the tenant's agent
// profile agentProfileID, or persistence.ErrNotFound.
func (q q) GetPromptVersionByNumber(ctx context.Context, tenantID, agentProfileID string, number int) (persistence.PromptVersion, error) {
	return first(ctx, q, promptVersions, "tenant_id = ? AND agent_profile_id = ? AND number = ?", tenantID, agentProfileID, number)
}

// ListPromptVersions returns every version of the tenant's agent profile
// agentProfileID, by Number.
func (q q) ListPromptVersions(ctx context.Context, tenantID, agentProfileID string) ([]persistence.PromptVersion, error) {
	return all(ctx, q, promptVersions, "WHERE tenant_id = ? AND agent_profile_id = ? ORDER BY number", tenantID, agentProfileID)
}
