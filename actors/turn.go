package actors

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/frontdesk-ai/frontdesk/llmrouter"
	"github.com/frontdesk-ai/frontdesk/persistence"
	"github.com/frontdesk-ai/frontdesk/routing"
	"github.com/frontdesk-ai/frontdesk/tools"
)

// Completer is what a turn needs from the model side.
type Completer interface {
	Complete(ctx context.Context, req llmrouter.Request) (llmrouter.Response, error)
}

// ToolRunner is what a turn needs from the tools.
type ToolRunner interface {
	Definitions(allowed []string) []tools.Definition
	Execute(ctx context.Context, s tools.Scope, allowed []string, call tools.Call, n int) tools.Result
}

// DefaultPrompt is the system prompt of an agent profile without a live
// prompt version ({{brand}} becomes the tenant's name).
const DefaultPrompt = `You are the customer support agent of {{brand}}. Answer the customer's latest messages helpfully, briefly and in their language. Use the tools to look things up or act; never invent order details, policies or promises you cannot verify. If you cannot help, or the customer asks for a person, open a ticket and hand the conversation to a human.`

// DefaultTools returns the allow-list of an agent profile that lists none.
func DefaultTools() []string {
	return []string{tools.GetCustomerProfile, tools.ListCustomerOrders, tools.GetOrder, tools.SearchKnowledge, tools.ScheduleFollowup, tools.CreateTicket, tools.HandoffToHuman}
}

// offlineTools are the tools the offline responder may use whatever the
// agent's allow-list: acknowledging, opening a ticket and handing over is
// all it does.
var offlineTools = []string{tools.CreateTicket, tools.HandoffToHuman}

// turnInput is the snapshot a turn starts from.
type turnInput struct {
	st      threadState
	through int64 // inbound sequence this turn answers up to
}

// toolLog is one tool call of a turn, as shown live and audited.
type toolLog struct {
	CallID     string          `json:"call_id"`
	Tool       string          `json:"tool"`
	Arguments  json.RawMessage `json:"arguments"`
	Result     json.RawMessage `json:"result,omitempty"`
	Error      string          `json:"error,omitempty"`
	Executed   bool            `json:"executed"`
	DurationMS float64         `json:"duration_ms"`
	// At is when the call started (before the reply it led to).
	At time.Time `json:"at"`
	// ask is the confirmation the call proposed, put to the customer by
	// the turn's commit.
	ask *tools.Ask
}

// turnResult is what a turn produced; the grain commits it.
type turnResult struct {
	in      turnInput
	reply   string
	skip    string // why no reply is sent (conversation not the AI's)
	calls   []toolLog
	resp    llmrouter.Response
	offline bool
	// knowledge is what the turn took from the knowledge base (nil: none).
	knowledge *turnKnowledge
	err       error
}

// ContextBundle is what the model is told about the conversation beyond its
// messages.
type ContextBundle struct {
	Brand         string            `json:"brand,omitempty"`
	Channel       string            `json:"channel"`
	Language      string            `json:"language,omitempty"`
	Customer      map[string]any    `json:"customer"`
	MemorySummary string            `json:"memory_summary,omitempty"`
	OpenTickets   []map[string]any  `json:"open_tickets,omitempty"`
	RecentOrders  []tools.OrderView `json:"recent_orders,omitempty"`
	// HumanNote is what the human agent wrote when handing the
	// conversation back to the AI.
	HumanNote string `json:"note_from_human_agent,omitempty"`
	// FollowUp is a follow-up the AI scheduled that is due now: the turn
	// writes to the customer about it.
	FollowUp string `json:"scheduled_follow_up_due_now,omitempty"`
	Now      string `json:"now"`
}

// agentSetup is the agent profile a turn runs with.
type agentSetup struct {
	id     string
	prompt string
	tools  []string
	// policy is the profile's policy (money, follow-up template).
	policy tools.Policy
}

// runTurn answers the thread's inbound messages up to in.through: it builds
// the context from the grains' hot state (the conversation grain's snapshot
// in in.st, the customer grain's customer context), calls the model, runs
// the tool loop and returns the reply for the grain to commit. It writes
// only through tools (each call idempotent by turn).
func (rt *Runtime) runTurn(ctx context.Context, in turnInput) turnResult {
	res := turnResult{in: in}
	st := in.st
	if reason := aiMayWrite(st.Conv); reason != "" {
		res.skip = reason
		return res
	}
	agent, err := rt.agentFor(ctx, st.Conv)
	if err != nil {
		res.err = err
		return res
	}
	cc, err := rt.customerContext(ctx, st.TenantID, st.CustomerID)
	if err != nil {
		res.err = err
		return res
	}
	bundle := rt.bundle(ctx, st, cc)
	history := historyOf(st, rt.cfg.HistoryMessages)
	req := llmrouter.Request{
		TenantID: st.TenantID, AgentProfileID: agent.id, ConversationID: st.ConversationID,
		Channel: st.Channel, Language: bundle.Language, ToolChoice: llmrouter.ToolChoiceAuto,
	}
	bundleJSON, _ := json.MarshalIndent(bundle, "", "  ")
	system := strings.ReplaceAll(agent.prompt, "{{brand}}", bundle.Brand) + "\n\nContext (JSON):\n" + string(bundleJSON)
	if res.knowledge = rt.retrieve(ctx, st.TenantID, history); res.knowledge != nil {
		system += res.knowledge.prompt(agent.policy)
	}
	req.Messages = append([]llmrouter.Message{{Role: llmrouter.RoleSystem, Content: system}}, history...)
	for _, d := range rt.tools.Definitions(agent.tools) {
		req.Tools = append(req.Tools, llmrouter.Tool{Name: d.Name, Description: d.Description, Parameters: d.Parameters})
	}
	scope := tools.Scope{TenantID: st.TenantID, CustomerID: st.CustomerID, ConversationID: st.ConversationID,
		TurnID: st.turnID(), ActorKind: persistence.ActorAI, ActorID: agent.id}
	perTool := map[string]int{}
	calls := 0
	for step := 0; ; step++ {
		if step == rt.cfg.MaxToolSteps || calls >= rt.cfg.MaxToolCallsPerTurn {
			// Enough tools: ask for the answer.
			req.ToolChoice = llmrouter.ToolChoiceNone
		}
		resp, err := rt.complete(ctx, req)
		if err != nil {
			res.err = err
			return res
		}
		res.resp = resp
		res.offline = res.offline || resp.Offline
		if len(resp.Message.ToolCalls) == 0 || step > rt.cfg.MaxToolSteps {
			res.reply = strings.TrimSpace(resp.Message.Content)
			if res.knowledge != nil {
				res.reply = res.knowledge.cite(res.reply)
			}
			return res
		}
		allowed, s := agent.tools, scope
		if resp.Offline {
			allowed = offlineTools
			s.ActorKind, s.ActorID = persistence.ActorSystem, llmrouter.OfflineName
		}
		req.Messages = append(req.Messages, llmrouter.Message{Role: llmrouter.RoleAssistant, Content: resp.Message.Content, ToolCalls: resp.Message.ToolCalls})
		for i, c := range resp.Message.ToolCalls {
			at := rt.clock.Now().UTC()
			var r tools.Result
			switch {
			case i >= rt.cfg.MaxToolCallsPerResponse:
				r = tools.Result{Error: fmt.Sprintf("refused: at most %d tool calls per response; call it again in your next response if you still need it", rt.cfg.MaxToolCallsPerResponse)}
			case calls >= rt.cfg.MaxToolCallsPerTurn:
				r = tools.Result{Error: fmt.Sprintf("refused: at most %d tool calls per turn; answer the customer with what you have", rt.cfg.MaxToolCallsPerTurn)}
			default:
				r = rt.tools.Execute(ctx, s, allowed, tools.Call{ID: c.ID, Name: c.Name, Arguments: c.Arguments}, perTool[c.Name])
				perTool[c.Name]++
				calls++
				if r.Executed && c.Name == tools.CreateTicket {
					// The customer grain serves open tickets to every turn:
					// it learns of this one before the turn goes on.
					if err := rt.CustomerChanged(ctx, st.TenantID, st.CustomerID, "tickets"); err != nil {
						rt.metrics.errors.WithLabelValues("customer_call").Inc()
						rt.log.Warn().Err(err).Msg("customer grain not told of the ticket the AI opened")
					}
				}
			}
			if !r.Executed && strings.HasPrefix(r.Error, "refused: at most") {
				rt.metrics.errors.WithLabelValues("tool_cap").Inc()
			}
			res.calls = append(res.calls, toolLog{CallID: c.ID, Tool: c.Name, Arguments: validJSON(c.Arguments), Result: r.Output,
				Error: r.Error, Executed: r.Executed, DurationMS: float64(r.Duration.Microseconds()) / 1000, At: at, ask: r.Ask})
			content := r.Content()
			if c.Name == tools.SearchKnowledge && r.Executed {
				if res.knowledge == nil {
					res.knowledge = &turnKnowledge{byChunk: map[string]int{}}
				}
				content = res.knowledge.searched(r)
			}
			req.Messages = append(req.Messages, llmrouter.Message{Role: llmrouter.RoleTool, ToolCallID: c.ID, Name: c.Name, Content: content})
		}
	}
}

// complete asks the model; when the router fails outright (not because the
// turn's own deadline passed), the offline responder answers instead, so the
// customer is never left without an acknowledgement.
func (rt *Runtime) complete(ctx context.Context, req llmrouter.Request) (llmrouter.Response, error) {
	resp, err := rt.model.Complete(ctx, req)
	if err == nil {
		return resp, nil
	}
	if ctx.Err() != nil {
		return resp, fmt.Errorf("model: %w", err)
	}
	rt.metrics.errors.WithLabelValues("model").Inc()
	rt.log.Warn().Err(err).Str("conversation_id", req.ConversationID).Msg("model failed; the offline responder answers")
	return rt.offline.Complete(ctx, req)
}

// agentFor returns the agent profile of conv: its own, else the one the
// tenant's routing rules give it (a conversation from before agents were
// chosen), else the built-in default. Profiles are cached for
// AgentCacheTTL, so a warm turn reads nothing.
func (rt *Runtime) agentFor(ctx context.Context, conv persistence.Conversation) (agentSetup, error) {
	key := conv.TenantID + "/" + conv.AgentProfileID
	if a, ok := rt.agents.get(key, rt.clock.Now()); ok {
		return a, nil
	}
	profiles, err := rt.tenantProfiles(ctx, conv.TenantID)
	if err != nil {
		return agentSetup{}, fmt.Errorf("load agent profiles: %w", err)
	}
	id := conv.AgentProfileID
	if id == "" {
		id, _ = routing.Choose(profiles, routing.Input{Channel: conv.Channel, ChannelAccount: conv.ChannelAccount})
	}
	i := slices.IndexFunc(profiles, func(p persistence.AgentProfile) bool { return p.ID == id })
	if i < 0 {
		// No profile (or it was deleted): the built-in agent answers.
		a := agentSetup{prompt: DefaultPrompt, tools: DefaultTools()}
		rt.agents.put(key, a, rt.clock.Now())
		return a, nil
	}
	ap := profiles[i]
	a := agentSetup{id: ap.ID, prompt: DefaultPrompt, tools: ap.Tools}
	// A policy the API refused never reaches the store; a broken one acts
	// as none.
	a.policy, _ = tools.ParsePolicy(ap.Policy)
	if a.tools == nil {
		a.tools = DefaultTools()
	}
	if ap.LiveVersion > 0 {
		rt.metrics.storeReads.WithLabelValues(KindConversation, "agent").Inc()
		pv, err := rt.store.GetPromptVersionByNumber(ctx, ap.TenantID, ap.ID, ap.LiveVersion)
		if err != nil {
			return agentSetup{}, fmt.Errorf("load live prompt %d of agent %s: %w", ap.LiveVersion, ap.ID, err)
		}
		a.prompt = pv.Prompt
	}
	rt.agents.put(key, a, rt.clock.Now())
	return a, nil
}

// brand returns the tenant's name (cached like agent profiles).
func (rt *Runtime) brand(ctx context.Context, tenantID string) string {
	if name, ok := rt.brands.get(tenantID, rt.clock.Now()); ok {
		return name
	}
	rt.metrics.storeReads.WithLabelValues(KindConversation, "agent").Inc()
	tn, err := rt.store.GetTenant(ctx, tenantID)
	if err != nil {
		return ""
	}
	rt.brands.put(tenantID, tn.Name, rt.clock.Now())
	return tn.Name
}

// bundle builds the context bundle of a turn from the grains' state.
func (rt *Runtime) bundle(ctx context.Context, st threadState, cc CustomerContext) ContextBundle {
	b := ContextBundle{Channel: st.Channel, Now: rt.clock.Now().UTC().Format(time.RFC3339), Brand: rt.brand(ctx, st.TenantID)}
	c := cc.Customer
	b.Language = c.Language
	if st.Language != "" {
		b.Language = st.Language
	}
	b.Customer = map[string]any{"name": c.Name, "phone": c.Phone, "email": c.Email, "language": b.Language}
	b.MemorySummary = cc.MemorySummary
	for _, t := range cc.OpenTickets {
		b.OpenTickets = append(b.OpenTickets, map[string]any{"ticket_id": t.ID, "subject": t.Subject, "status": t.Status, "priority": t.Priority})
	}
	for _, o := range cc.RecentOrders {
		b.RecentOrders = append(b.RecentOrders, tools.ViewOrder(o))
	}
	var meta struct {
		Note string `json:"handback_note"`
	}
	if json.Unmarshal(st.Conv.Metadata, &meta) == nil {
		b.HumanNote = meta.Note
	}
	if st.FollowUp != "" {
		b.FollowUp = st.FollowUp
	}
	return b
}

// historyOf returns the model's view of the last n messages of the hot
// context, the messages still waiting for an answer last.
func historyOf(st threadState, n int) []llmrouter.Message {
	msgs := st.Recent
	if len(msgs) > n {
		msgs = msgs[len(msgs)-n:]
	}
	var history []llmrouter.Message
	for _, m := range pendingLast(msgs, st.AnsweredInboundID) {
		text := messageText(m.Kind, m.Text)
		if text == "" {
			continue
		}
		role := llmrouter.RoleUser
		if m.Direction == string(persistence.DirectionOutbound) {
			role = llmrouter.RoleAssistant
		}
		// Consecutive customer messages are one user turn to the model.
		if n := len(history); n > 0 && history[n-1].Role == role && role == llmrouter.RoleUser {
			history[n-1].Content += "\n" + text
			continue
		}
		history = append(history, llmrouter.Message{Role: role, Content: text})
	}
	return history
}

// pendingLast orders msgs for the model: what the last turn saw (and the
// replies, even those committed after newer customer messages arrived),
// then the customer messages that still wait for an answer.
func pendingLast(msgs []recentMessage, answeredInboundID string) []recentMessage {
	at := -1
	for i, m := range msgs {
		if m.ID == answeredInboundID {
			at = i
		}
	}
	if at < 0 {
		return msgs
	}
	out := make([]recentMessage, 0, len(msgs))
	var pending []recentMessage
	for i, m := range msgs {
		if i > at && m.Direction == string(persistence.DirectionInbound) {
			pending = append(pending, m)
			continue
		}
		out = append(out, m)
	}
	return append(out, pending...)
}

// messageText renders a message for the model; media the model cannot see
// is described instead.
func messageText(kind, text string) string {
	switch kind {
	case "", "text", "interactive", "button":
		return text
	case "reaction":
		return ""
	}
	if text != "" {
		return fmt.Sprintf("[%s] %s", kind, text)
	}
	return fmt.Sprintf("[%s: the customer sent a %s you cannot open]", kind, kind)
}

// triggersTurn reports whether an inbound message of kind needs an answer.
func triggersTurn(kind string) bool {
	return kind != "reaction" && kind != "system"
}

func validJSON(raw json.RawMessage) json.RawMessage {
	if len(strings.TrimSpace(string(raw))) == 0 {
		return json.RawMessage("{}")
	}
	if json.Valid(raw) {
		return raw
	}
	b, _ := json.Marshal(string(raw))
	return b
}
