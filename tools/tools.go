// Package tools owns the tools the AI agent may call: their names,
// descriptions and JSON Schemas, the validation of every call against its
// schema and the agent's allow-list, and their implementations with real
// store effects. A tool acts only on the conversation's own tenant, customer
// and conversation (Scope, taken from the actor's context); it never takes a
// customer or tenant id from the model. Tools that change the world carry an
// idempotency key derived from the conversation, the turn and the call, so a
// replayed turn repeats no effect. Every call, executed or refused, writes an
// AuditEvent in the same transaction as its effect.
package tools

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/frontdesk-ai/frontdesk/persistence"
)

// Tx is the unit of work of one tool call: what the built-in tools read and
// write, and the call's audit event, all in one store transaction.
type Tx interface {
	GetCustomer(ctx context.Context, tenantID, id string) (persistence.Customer, error)
	GetUserMemorySummary(ctx context.Context, tenantID, customerID string) (persistence.UserMemorySummary, error)
	ListOpenTickets(ctx context.Context, tenantID, customerID string, limit int) ([]persistence.Ticket, error)
	ListOrdersByCustomer(ctx context.Context, tenantID, customerID string, limit int) ([]persistence.Order, error)
	GetCustomerOrderByNumber(ctx context.Context, tenantID, customerID, number string) (persistence.Order, error)
	GetAgentProfile(ctx context.Context, tenantID, id string) (persistence.AgentProfile, error)
	ListConfirmationsByCustomer(ctx context.Context, tenantID, customerID string, states ...persistence.ConfirmationState) ([]persistence.Confirmation, error)
	GetTicketByIdempotencyKey(ctx context.Context, tenantID, key string) (persistence.Ticket, error)
	CreateTicket(ctx context.Context, m *persistence.Ticket) error
	CreateAuditEvent(ctx context.Context, m *persistence.AuditEvent) error
}

// Store is what tools need: a transaction for each call's effect and audit.
type Store interface {
	InTx(ctx context.Context, fn func(tx Tx) error) error
}

// Scope is what a call acts on, taken from the conversation actor.
type Scope struct {
	TenantID       string
	CustomerID     string
	ConversationID string
	// TurnID identifies the turn (the inbound message that started it); with
	// the tool name and the call's position it makes the idempotency key.
	TurnID string
	// ActorKind and ActorID say who called: persistence.ActorAI with the
	// agent profile id, or persistence.ActorUser with the user id.
	ActorKind, ActorID string
}

// Call is one tool call as the model produced it.
type Call struct {
	ID        string
	Name      string
	Arguments json.RawMessage
}

// Result is what the model is told about a call.
type Result struct {
	// Output is the tool's JSON result when it ran.
	Output json.RawMessage
	// Error explains a refused, invalid or failed call; the model sees it.
	Error string
	// Executed reports whether the tool ran (an invalid call does not).
	Executed bool
	Duration time.Duration
	// Ask is a confirmation the runtime must put to the customer: the
	// call's action waits for their yes.
	Ask *Ask
}

// Content returns the text sent back to the model as the tool message.
func (r Result) Content() string {
	if r.Error != "" {
		b, _ := json.Marshal(map[string]string{"error": r.Error})
		return string(b)
	}
	return string(r.Output)
}

// Definition describes a tool to the model.
type Definition struct {
	Name        string
	Description string
	Parameters  json.RawMessage
}

// tool is one registered tool.
type tool struct {
	def    Definition
	schema *jsonschema.Schema
	// before, when set, runs ahead of the call's transaction: work that
	// must not hold it (a shop's API).
	before func(ctx context.Context, r *Registry, s Scope, args map[string]any)
	run    func(ctx context.Context, tx Tx, s Scope, args map[string]any, key string) (any, error)
	// outside, when set instead of run, is a call whose effect is not the
	// store's (a grain's): it runs outside the transaction, which then
	// holds its audit event only. It may return an Ask.
	outside func(ctx context.Context, r *Registry, s Scope, args map[string]any, key string) (any, *Ask, error)
}

// OrderFetcher imports an order the store does not have yet from the shop
// that has it (commerce), linked to whichever customer it belongs to.
type OrderFetcher interface {
	FetchOrder(ctx context.Context, tenantID, number string) error
}

// Registry holds the tools and executes calls.
type Registry struct {
	store    Store
	fetcher  OrderFetcher
	proposer Proposer
	// actions are the financial actions the runtime executes.
	actions   map[string]bool
	scheduler Scheduler
	knowledge KnowledgeSearcher
	tools     map[string]*tool
	now       func() time.Time
}

// New returns a registry with every built-in tool.
func New(store Store) (*Registry, error) {
	r := &Registry{store: store, tools: map[string]*tool{}, now: time.Now}
	for _, t := range builtins() {
		c := jsonschema.NewCompiler()
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(t.def.Parameters))
		if err != nil {
			return nil, fmt.Errorf("tool %s: schema: %w", t.def.Name, err)
		}
		url := "tool:" + t.def.Name
		if err := c.AddResource(url, doc); err != nil {
			return nil, fmt.Errorf("tool %s: schema: %w", t.def.Name, err)
		}
		if t.schema, err = c.Compile(url); err != nil {
			return nil, fmt.Errorf("tool %s: schema: %w", t.def.Name, err)
		}
		r.tools[t.def.Name] = t
	}
	return r, nil
}

// Names returns every tool name, sorted.
func (r *Registry) Names() []string {
	out := make([]string, 0, len(r.tools))
	for n := range r.tools {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// SetOrderFetcher makes get_order ask the shops for an order the store does
// not have yet.
func (r *Registry) SetOrderFetcher(f OrderFetcher) { r.fetcher = f }

// Definitions returns the definitions of the allowed tools, in allow-list
// order; names the registry does not know are skipped.
func (r *Registry) Definitions(allowed []string) []Definition {
	var out []Definition
	for _, n := range allowed {
		if t, ok := r.tools[n]; ok {
			out = append(out, t.def)
		}
	}
	return out
}

// Execute validates call against the allow-list and the tool's schema and,
// when valid, runs it; n is the call's position among the turn's calls of
// that tool (0 for the first). An invalid or refused call is not executed:
// its Result carries the error for the model. The audit event (and the
// effect, when the tool ran) are committed in one transaction.
func (r *Registry) Execute(ctx context.Context, s Scope, allowed []string, call Call, n int) Result {
	start := r.now()
	t, ok := r.tools[call.Name]
	var args map[string]any
	var res Result
	switch {
	case !ok || !slices.Contains(allowed, call.Name):
		res.Error = fmt.Sprintf("tool %q is not available to this agent; available tools: %s", call.Name, strings.Join(allowedKnown(r, allowed), ", "))
	default:
		var err error
		if args, err = parseArgs(call.Arguments); err != nil {
			res.Error = err.Error()
		} else if err := t.schema.Validate(any(args)); err != nil {
			res.Error = fmt.Sprintf("arguments do not match the schema of %s: %v", call.Name, flatten(err))
		}
	}
	if res.Error == "" && t.before != nil {
		t.before(ctx, r, s, args)
	}
	key := idempotencyKey(s, call.Name, n)
	if res.Error == "" && t.outside != nil {
		return r.executeOutside(ctx, t, s, call, args, key, start)
	}
	err := r.store.InTx(ctx, func(tx Tx) error {
		res.Output = nil
		if res.Error == "" {
			out, err := t.run(ctx, tx, s, args, key)
			if err != nil {
				return err
			}
			if res.Output, err = json.Marshal(out); err != nil {
				return fmt.Errorf("encode %s result: %w", call.Name, err)
			}
			res.Executed = true
		}
		res.Duration = r.now().Sub(start)
		return tx.CreateAuditEvent(ctx, auditEvent(s, call, res))
	})
	if err != nil {
		// The effect rolled back with the audit; record the failure alone.
		res = Result{Error: fmt.Sprintf("tool %s failed: %v", call.Name, err), Duration: r.now().Sub(start)}
		_ = r.store.InTx(ctx, func(tx Tx) error { return tx.CreateAuditEvent(ctx, auditEvent(s, call, res)) })
	}
	return res
}

// executeOutside runs a call whose effect is not the store's, then records
// its audit event.
func (r *Registry) executeOutside(ctx context.Context, t *tool, s Scope, call Call, args map[string]any, key string, start time.Time) Result {
	var res Result
	out, ask, err := t.outside(ctx, r, s, args, key)
	if err == nil {
		res.Output, err = json.Marshal(out)
	}
	if err != nil {
		res = Result{Error: fmt.Sprintf("tool %s failed: %v", call.Name, err)}
	} else {
		res.Executed, res.Ask = true, ask
	}
	res.Duration = r.now().Sub(start)
	_ = r.store.InTx(ctx, func(tx Tx) error { return tx.CreateAuditEvent(ctx, auditEvent(s, call, res)) })
	return res
}

func allowedKnown(r *Registry, allowed []string) []string {
	var out []string
	for _, n := range allowed {
		if _, ok := r.tools[n]; ok {
			out = append(out, n)
		}
	}
	if len(out) == 0 {
		return []string{"none"}
	}
	return out
}

// parseArgs decodes the model's arguments: empty means {}; anything but a
// JSON object is an error the model is told about.
func parseArgs(raw json.RawMessage) (map[string]any, error) {
	trimmed := bytes.TrimSpace(raw)
	if len(trimmed) == 0 || string(trimmed) == "null" {
		return map[string]any{}, nil
	}
	// Some servers send the arguments as a JSON string holding the object.
	if trimmed[0] == '"' {
		var s string
		if err := json.Unmarshal(trimmed, &s); err == nil {
			trimmed = bytes.TrimSpace([]byte(s))
			if len(trimmed) == 0 {
				return map[string]any{}, nil
			}
		}
	}
	var args map[string]any
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	dec.UseNumber()
	if err := dec.Decode(&args); err != nil {
		return nil, fmt.Errorf("arguments are not a valid JSON object: %v", err)
	}
	if dec.More() {
		return nil, fmt.Errorf("arguments are not a valid JSON object: trailing data")
	}
	if args == nil {
		return nil, fmt.Errorf("arguments must be a JSON object")
	}
	return args, nil
}

// flatten turns a schema validation error into one line for the model.
func flatten(err error) string {
	lines := strings.Split(strings.TrimSpace(err.Error()), "\n")
	var parts []string
	for _, l := range lines {
		l = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(l), "- "))
		if l == "" || strings.HasPrefix(l, "jsonschema validation failed") {
			continue
		}
		parts = append(parts, l)
	}
	if len(parts) == 0 {
		return err.Error()
	}
	return strings.Join(parts, "; ")
}

// idempotencyKey names the effect of the n-th call of tool in the turn.
func idempotencyKey(s Scope, tool string, n int) string {
	h := sha256.Sum256([]byte(fmt.Sprintf("%s\x00%s\x00%s\x00%d", s.ConversationID, s.TurnID, tool, n)))
	return "tool:" + hex.EncodeToString(h[:16])
}

func auditEvent(s Scope, call Call, res Result) *persistence.AuditEvent {
	data := map[string]any{
		"call_id":     call.ID,
		"arguments":   json.RawMessage(validJSON(call.Arguments)),
		"executed":    res.Executed,
		"duration_ms": float64(res.Duration.Microseconds()) / 1000,
		"turn_id":     s.TurnID,
	}
	if res.Error != "" {
		data["error"] = res.Error
	} else {
		data["result"] = res.Output
	}
	raw, _ := json.Marshal(data)
	return &persistence.AuditEvent{
		Base:       persistence.Base{TenantID: s.TenantID},
		ActorKind:  s.ActorKind,
		ActorID:    s.ActorID,
		Action:     "tool." + call.Name,
		TargetKind: "conversation",
		TargetID:   s.ConversationID,
		Data:       raw,
	}
}

// validJSON returns raw when it is valid JSON, else raw as a JSON string, so
// the audit keeps exactly what the model sent.
func validJSON(raw json.RawMessage) []byte {
	if len(bytes.TrimSpace(raw)) == 0 {
		return []byte("{}")
	}
	if json.Valid(raw) {
		return raw
	}
	b, _ := json.Marshal(string(raw))
	return b
}
