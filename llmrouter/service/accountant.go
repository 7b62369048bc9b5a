package service

import (
	"context"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/rs/zerolog"

	"github.com/frontdesk-ai/frontdesk/llmrouter"
	"github.com/frontdesk-ai/frontdesk/persistence"
)

// CallStore is where an Accountant records calls (a *sqlstore.Store).
type CallStore interface {
	CreateLLMCall(ctx context.Context, m *persistence.LLMCall) error
}

// AgentProfiles finds the live prompt version of a call's agent profile
// (a *sqlstore.Store).
type AgentProfiles interface {
	GetAgentProfile(ctx context.Context, tenantID, id string) (persistence.AgentProfile, error)
}

// AccountantConfig configures an Accountant.
type AccountantConfig struct {
	// Agents, when set, gives each record its agent profile's live prompt
	// version; nil (or a lookup that fails) records version 0.
	Agents AgentProfiles
	// RecordTimeout bounds writing one record; 5s when 0.
	RecordTimeout time.Duration
	// Now is the clock of latencies and record times; time.Now when nil.
	Now func() time.Time
}

// maxErrorText bounds the error text kept in a record.
const maxErrorText = 1000

// Accountant is a Completer that records every call of the Completer it
// wraps, answered or failed, as a persistence.LLMCall of the request's
// tenant. A record that cannot be written is logged and does not fail the
// call; a request without a tenant is not recorded.
type Accountant struct {
	cfg   AccountantConfig
	next  Completer
	store CallStore
	log   zerolog.Logger
}

var _ Streamer = (*Accountant)(nil)

// NewAccountant returns an Accountant recording next's calls in store.
func NewAccountant(cfg AccountantConfig, next Completer, store CallStore, log zerolog.Logger) *Accountant {
	if cfg.RecordTimeout <= 0 {
		cfg.RecordTimeout = 5 * time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Accountant{cfg: cfg, next: next, store: store, log: log}
}

// Complete answers req with the wrapped Completer and records the call.
func (a *Accountant) Complete(ctx context.Context, req llmrouter.Request) (llmrouter.Response, error) {
	start := a.cfg.Now()
	resp, err := a.next.Complete(ctx, req)
	a.record(ctx, req, resp, err, start)
	return resp, err
}

// Stream streams req's answer with the wrapped Completer when it is a
// Streamer, and records the call; otherwise it fails with
// ErrStreamingUnsupported before anything happens.
func (a *Accountant) Stream(ctx context.Context, req llmrouter.Request, onDelta func(llmrouter.Delta)) (llmrouter.Response, error) {
	st, ok := a.next.(Streamer)
	if !ok {
		return llmrouter.Response{}, ErrStreamingUnsupported
	}
	start := a.cfg.Now()
	resp, err := st.Stream(ctx, req, onDelta)
	if !errors.Is(err, ErrStreamingUnsupported) {
		a.record(ctx, req, resp, err, start)
	}
	return resp, err
}

// record writes the call's record, even when ctx has ended.
func (a *Accountant) record(ctx context.Context, req llmrouter.Request, resp llmrouter.Response, callErr error, start time.Time) {
	log := a.log.With().Str("tenant_id", req.TenantID).Str("conversation_id", req.ConversationID).
		Str("agent_id", req.AgentProfileID).Logger()
	if req.TenantID == "" {
		log.Warn().Msg("llm call without a tenant: not recorded")
		return
	}
	latency := a.cfg.Now().Sub(start)
	call := &persistence.LLMCall{
		Base:           persistence.Base{TenantID: req.TenantID},
		AgentProfileID: req.AgentProfileID, ConversationID: req.ConversationID,
		Backend: resp.Backend, Model: resp.Model, Route: resp.Route,
		PromptTokens: max(resp.Usage.PromptTokens, 0), CompletionTokens: max(resp.Usage.CompletionTokens, 0),
		LatencyMS: max(latency.Milliseconds(), 0), Outcome: persistence.LLMOutcomeOK,
	}
	switch {
	case callErr != nil:
		call.Outcome, call.Error = persistence.LLMOutcomeError, clip(callErr.Error(), maxErrorText)
		if call.Model == "" {
			call.Model = req.Model
		}
	case resp.Offline:
		call.Outcome = persistence.LLMOutcomeOffline
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), a.cfg.RecordTimeout)
	defer cancel()
	if a.cfg.Agents != nil && req.AgentProfileID != "" {
		if p, err := a.cfg.Agents.GetAgentProfile(rctx, req.TenantID, req.AgentProfileID); err == nil {
			call.AgentVersion = p.LiveVersion
		} else if !errors.Is(err, persistence.ErrNotFound) {
			log.Warn().Err(err).Msg("llm call: agent version unknown")
		}
	}
	if err := a.store.CreateLLMCall(rctx, call); err != nil {
		log.Error().Err(fmt.Errorf("record llm call: %w", err)).Str("backend", call.Backend).Str("outcome", call.Outcome).
			Msg("llm call not recorded")
	}
}

// clip cuts s to at most n bytes on a rune boundary.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
