package actors

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/frontdesk-ai/frontdesk/llmrouter"
	"github.com/frontdesk-ai/frontdesk/persistence"
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
	return []string{tools.GetCustomerProfile, tools.CreateTicket, tools.HandoffToHuman}
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
}

// turnResult is what a turn produced; the grain commits it.
type turnResult struct {
	in      turnInput
	reply   string
	skip    string // why no reply is sent (conversation not the AI's)
	calls   []toolLog
	resp    llmrouter.Response
	offline bool
	err     error
}

// ContextBundle is what the model is told about the conversation beyond its
// messages.
type ContextBundle struct {
	Brand         string           `json:"brand,omitempty"`
	Channel       string           `json:"channel"`
	Language      string           `json:"language,omitempty"`
	Customer      map[string]any   `json:"customer"`
	MemorySummary string           `json:"memory_summary,omitempty"`
	OpenTickets   []map[string]any `json:"open_tickets,omitempty"`
	RecentOrders  []map[string]any `json:"recent_orders,omitempty"`
	// HumanNote is what the human agent wrote when handing the
	// conversation back to the AI.
	HumanNote string `json:"note_from_human_agent,omitempty"`
	Now       string `json:"now"`
}

// agentSetup is the agent profile a turn runs with.
type agentSetup struct {
	id     string
	prompt string
	tools  []string
}

// runTurn answers the thread's inbound messages up to in.through: it builds
// the context bundle, calls the model, runs the tool loop and returns the
// reply for the grain to commit. It reads the store but writes only through
// tools (each call idempotent by turn).
func (rt *Runtime) runTurn(ctx context.Context, in turnInput) turnResult {
	res := turnResult{in: in}
	st := in.st
	conv, err := rt.store.GetConversation(ctx, st.TenantID, st.ConversationID)
	if err != nil {
		res.err = fmt.Errorf("load conversation: %w", err)
		return res
	}
	if reason := aiMayWrite(conv); reason != "" {
		res.skip = reason
		return res
	}
	agent, err := rt.agentFor(ctx, conv)
	if err != nil {
		res.err = err
		return res
	}
	bundle, history, err := rt.bundle(ctx, st)
	if err != nil {
		res.err = err
		return res
	}
	var meta struct {
		Note string `json:"handback_note"`
	}
	if json.Unmarshal(conv.Metadata, &meta) == nil {
		bundle.HumanNote = meta.Note
	}
	req := llmrouter.Request{
		TenantID: st.TenantID, AgentProfileID: agent.id, ConversationID: st.ConversationID,
		Channel: st.Channel, Language: bundle.Language, ToolChoice: llmrouter.ToolChoiceAuto,
	}
	bundleJSON, _ := json.MarshalIndent(bundle, "", "  ")
	req.Messages = append([]llmrouter.Message{{Role: llmrouter.RoleSystem, Content: strings.ReplaceAll(agent.prompt, "{{brand}}", bundle.Brand) +
		"\n\nContext (JSON):\n" + string(bundleJSON)}}, history...)
	for _, d := range rt.tools.Definitions(agent.tools) {
		req.Tools = append(req.Tools, llmrouter.Tool{Name: d.Name, Description: d.Description, Parameters: d.Parameters})
	}
	scope := tools.Scope{TenantID: st.TenantID, CustomerID: st.CustomerID, ConversationID: st.ConversationID,
		TurnID: st.turnID(), ActorKind: persistence.ActorAI, ActorID: agent.id}
	perTool := map[string]int{}
	for step := 0; ; step++ {
		if step == rt.cfg.MaxToolSteps {
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
			return res
		}
		allowed, s := agent.tools, scope
		if resp.Offline {
			allowed = offlineTools
			s.ActorKind, s.ActorID = persistence.ActorSystem, llmrouter.OfflineName
		}
		req.Messages = append(req.Messages, llmrouter.Message{Role: llmrouter.RoleAssistant, Content: resp.Message.Content, ToolCalls: resp.Message.ToolCalls})
		for _, c := range resp.Message.ToolCalls {
			at := time.Now().UTC()
			r := rt.tools.Execute(ctx, s, allowed, tools.Call{ID: c.ID, Name: c.Name, Arguments: c.Arguments}, perTool[c.Name])
			perTool[c.Name]++
			res.calls = append(res.calls, toolLog{CallID: c.ID, Tool: c.Name, Arguments: validJSON(c.Arguments), Result: r.Output,
				Error: r.Error, Executed: r.Executed, DurationMS: float64(r.Duration.Microseconds()) / 1000, At: at})
			req.Messages = append(req.Messages, llmrouter.Message{Role: llmrouter.RoleTool, ToolCallID: c.ID, Name: c.Name, Content: r.Content()})
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

// aiMayWrite returns why the AI must not answer in conv, or "" when it may.
func aiMayWrite(conv persistence.Conversation) string {
	switch {
	case conv.AssignedUserID != "":
		return "a human agent is writing"
	case conv.Status == persistence.ConversationWaitingHuman:
		return "waiting for a human"
	case conv.Status == persistence.ConversationClosed:
		return "conversation closed"
	}
	return ""
}

// agentFor returns the agent profile of conv: its own, else the tenant's
// first, else the built-in default.
func (rt *Runtime) agentFor(ctx context.Context, conv persistence.Conversation) (agentSetup, error) {
	var ap persistence.AgentProfile
	var err error
	if conv.AgentProfileID != "" {
		ap, err = rt.store.GetAgentProfile(ctx, conv.TenantID, conv.AgentProfileID)
	} else {
		var aps []persistence.AgentProfile
		aps, _, err = rt.store.ListAgentProfiles(ctx, conv.TenantID, persistence.Page{Limit: 1})
		if err == nil && len(aps) == 0 {
			return agentSetup{prompt: DefaultPrompt, tools: DefaultTools()}, nil
		}
		if err == nil {
			ap = aps[0]
		}
	}
	if err != nil {
		return agentSetup{}, fmt.Errorf("load agent profile: %w", err)
	}
	a := agentSetup{id: ap.ID, prompt: DefaultPrompt, tools: ap.Tools}
	if a.tools == nil {
		a.tools = DefaultTools()
	}
	if ap.LiveVersion > 0 {
		pv, err := rt.store.GetPromptVersionByNumber(ctx, ap.TenantID, ap.ID, ap.LiveVersion)
		if err != nil {
			return agentSetup{}, fmt.Errorf("load live prompt %d of agent %s: %w", ap.LiveVersion, ap.ID, err)
		}
		a.prompt = pv.Prompt
	}
	return a, nil
}

// bundle builds the context bundle and the message history of a turn.
func (rt *Runtime) bundle(ctx context.Context, st threadState) (ContextBundle, []llmrouter.Message, error) {
	b := ContextBundle{Channel: st.Channel, Now: time.Now().UTC().Format(time.RFC3339)}
	if tn, err := rt.store.GetTenant(ctx, st.TenantID); err == nil {
		b.Brand = tn.Name
	}
	c, err := rt.store.GetCustomer(ctx, st.TenantID, st.CustomerID)
	if err != nil {
		return b, nil, fmt.Errorf("load customer: %w", err)
	}
	b.Language = c.Language
	b.Customer = map[string]any{"name": c.Name, "phone": c.Phone, "email": c.Email, "language": c.Language}
	if m, err := rt.store.GetUserMemorySummary(ctx, st.TenantID, st.CustomerID); err == nil {
		b.MemorySummary = m.Summary
	} else if !errors.Is(err, persistence.ErrNotFound) {
		return b, nil, fmt.Errorf("load memory summary: %w", err)
	}
	tickets, err := rt.store.ListOpenTickets(ctx, st.TenantID, st.CustomerID, 5)
	if err != nil {
		return b, nil, fmt.Errorf("load tickets: %w", err)
	}
	for _, t := range tickets {
		b.OpenTickets = append(b.OpenTickets, map[string]any{"ticket_id": t.ID, "subject": t.Subject, "status": t.Status, "priority": t.Priority})
	}
	orders, err := rt.store.ListOrdersByCustomer(ctx, st.TenantID, st.CustomerID, 5)
	if err != nil {
		return b, nil, fmt.Errorf("load orders: %w", err)
	}
	for _, o := range orders {
		b.RecentOrders = append(b.RecentOrders, map[string]any{"order_id": o.ExternalID, "status": o.Status,
			"total": fmt.Sprintf("%d.%02d %s", o.TotalCents/100, o.TotalCents%100, o.Currency)})
	}
	msgs, err := rt.store.RecentMessages(ctx, st.TenantID, st.ConversationID, rt.cfg.HistoryMessages)
	if err != nil {
		return b, nil, fmt.Errorf("load messages: %w", err)
	}
	var history []llmrouter.Message
	for _, m := range pendingLast(msgs, st.AnsweredInboundID) {
		text := messageText(m)
		if text == "" {
			continue
		}
		role := llmrouter.RoleUser
		if m.Direction == persistence.DirectionOutbound {
			role = llmrouter.RoleAssistant
		}
		// Consecutive customer messages are one user turn to the model.
		if n := len(history); n > 0 && history[n-1].Role == role && role == llmrouter.RoleUser {
			history[n-1].Content += "\n" + text
			continue
		}
		history = append(history, llmrouter.Message{Role: role, Content: text})
	}
	return b, history, nil
}

// pendingLast orders msgs for the model: what the last turn saw (and the
// replies, even those committed after newer customer messages arrived),
// then the customer messages that still wait for an answer.
func pendingLast(msgs []persistence.Message, answeredInboundID string) []persistence.Message {
	at := -1
	for i, m := range msgs {
		if m.ID == answeredInboundID {
			at = i
		}
	}
	if at < 0 {
		return msgs
	}
	out := make([]persistence.Message, 0, len(msgs))
	var pending []persistence.Message
	for i, m := range msgs {
		if i > at && m.Direction == persistence.DirectionInbound {
			pending = append(pending, m)
			continue
		}
		out = append(out, m)
	}
	return append(out, pending...)
}

// messageText renders a message for the model; media the model cannot see
// is described instead.
func messageText(m persistence.Message) string {
	switch m.Kind {
	case "", "text", "interactive", "button":
		return m.Text
	case "reaction":
		return ""
	}
	if m.Text != "" {
		return fmt.Sprintf("[%s] %s", m.Kind, m.Text)
	}
	return fmt.Sprintf("[%s: the customer sent a %s you cannot open]", m.Kind, m.Kind)
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
