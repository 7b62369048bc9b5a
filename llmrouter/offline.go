package llmrouter

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"unicode"
)

// Tools the Offline responder calls when the request offers them. The tools
// package owns their implementations; create_ticket takes subject,
// description and priority, handoff_to_human takes reason.
const (
	ToolCreateTicket   = "create_ticket"
	ToolHandoffToHuman = "handoff_to_human"
)

// OfflineName is the Name of the Offline responder and its Response.Backend.
const OfflineName = "offline"

// offlineCallPrefix starts the ids of the Offline responder's tool calls.
const offlineCallPrefix = "offline_"

// Limits of what Offline copies from the customer into a ticket.
const (
	subjectRunes     = 60
	descriptionRunes = 4000
	recentUserTexts  = 10
)

// Offline is the Backend of last resort, used when no model backend is
// configured or none can answer. It never invents an answer; it escalates
// to humans in two deterministic steps:
//
//  1. When the conversation ends with a customer message, it calls
//     create_ticket (subject "Customer message needs a human: " and the
//     first 60 runes of the latest customer text, description the customer
//     messages since the last assistant text, priority "normal") and
//     handoff_to_human (reason "AI model unavailable") as parallel tool
//     calls, each only when the request offers it.
//  2. When the conversation ends with the results of those calls (made by
//     Offline or a model), it answers with a fixed acknowledgement in the
//     request's Language (English, Spanish, German, French, Portuguese,
//     Italian), naming the ticket_id the create_ticket result carries.
//
// When the request offers neither tool it answers step 2 straight away.
// Tool results of other calls mean a model stopped mid-turn: Offline then
// starts at step 1. Its tool-call ids are derived from the conversation and
// the customer's message, so a replayed request gets the same ids (and the
// same idempotency keys downstream).
type Offline struct{}

var _ Backend = (*Offline)(nil)

// NewOffline returns the Offline responder.
func NewOffline() *Offline { return &Offline{} }

// Name returns OfflineName.
func (*Offline) Name() string { return OfflineName }

// Complete answers req as described on Offline. Its error wraps
// ErrInvalidRequest when req is invalid or does not end with a customer
// message or tool results.
func (o *Offline) Complete(ctx context.Context, req Request) (Response, error) {
	if err := req.Validate(); err != nil {
		return Response{}, err
	}
	if err := ctx.Err(); err != nil {
		return Response{}, fmt.Errorf("%s: %w", OfflineName, err)
	}
	msgs := req.Messages
	last := msgs[len(msgs)-1]
	switch last.Role {
	case RoleUser:
		return o.escalate(req), nil
	case RoleTool:
		i := len(msgs) - 1
		for i >= 0 && msgs[i].Role == RoleTool {
			i--
		}
		if i >= 0 && msgs[i].Role == RoleAssistant && escalated(msgs[i]) {
			return acknowledge(req, ticketID(msgs[i], msgs[i+1:])), nil
		}
		return o.escalate(req), nil
	}
	return Response{}, fmt.Errorf("%w: offline: nothing to answer after a %s message", ErrInvalidRequest, last.Role)
}

// escalate is step 1, or step 2 without a ticket when no tool is offered.
func (o *Offline) escalate(req Request) Response {
	userAt, latest := latestUser(req.Messages)
	seed := callSeed(req.ConversationID, userAt, latest)
	var calls []ToolCall
	if req.offers(ToolCreateTicket) {
		args := mustJSON(struct {
			Subject     string `json:"subject"`
			Description string `json:"description"`
			Priority    string `json:"priority"`
		}{
			Subject:     "Customer message needs a human: " + subject(latest),
			Description: recentUserText(req.Messages),
			Priority:    "normal",
		})
		calls = append(calls, ToolCall{ID: offlineCallPrefix + seed + "_ticket", Name: ToolCreateTicket, Arguments: args})
	}
	if req.offers(ToolHandoffToHuman) {
		args := mustJSON(struct {
			Reason string `json:"reason"`
		}{Reason: "AI model unavailable"})
		calls = append(calls, ToolCall{ID: offlineCallPrefix + seed + "_handoff", Name: ToolHandoffToHuman, Arguments: args})
	}
	if len(calls) == 0 {
		return acknowledge(req, "")
	}
	return offlineResponse(Message{Role: RoleAssistant, ToolCalls: calls}, FinishToolCalls)
}

// acknowledge is step 2.
func acknowledge(req Request, ticket string) Response {
	return offlineResponse(Message{Role: RoleAssistant, Content: acknowledgement(req.Language, ticket)}, FinishStop)
}

func offlineResponse(m Message, finish string) Response {
	return Response{Message: m, FinishReason: finish, Backend: OfflineName, Model: OfflineName, Offline: true}
}

// escalated reports whether an assistant message made step 1's calls.
func escalated(m Message) bool {
	for _, c := range m.ToolCalls {
		if c.Name == ToolCreateTicket || c.Name == ToolHandoffToHuman || strings.HasPrefix(c.ID, offlineCallPrefix) {
			return true
		}
	}
	return false
}

// ticketID returns the ticket_id of the create_ticket call's result among
// results, or "".
func ticketID(call Message, results []Message) string {
	var id string
	for _, c := range call.ToolCalls {
		if c.Name == ToolCreateTicket {
			id = c.ID
		}
	}
	if id == "" {
		return ""
	}
	for _, r := range results {
		if r.ToolCallID != id {
			continue
		}
		var out struct {
			TicketID json.RawMessage `json:"ticket_id"`
		}
		if json.Unmarshal([]byte(r.Content), &out) != nil {
			return ""
		}
		return ticketRef(out.TicketID)
	}
	return ""
}

// ticketRef returns a ticket id (a JSON string or number) fit to show a
// customer: short, printable, one line; else "".
func ticketRef(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) != nil {
		var n json.Number
		if json.Unmarshal(raw, &n) != nil {
			return ""
		}
		s = n.String()
	}
	s = strings.TrimSpace(s)
	if s == "" || len(s) > 64 {
		return ""
	}
	for _, r := range s {
		if !unicode.IsPrint(r) {
			return ""
		}
	}
	return s
}

// latestUser returns the index and text of the last user message, or -1.
func latestUser(msgs []Message) (int, string) {
	for i := len(msgs) - 1; i >= 0; i-- {
		if msgs[i].Role == RoleUser {
			return i, msgs[i].Content
		}
	}
	return -1, ""
}

// recentUserText joins the customer's messages since the last assistant
// text (at most recentUserTexts of them), one per line, clipped.
func recentUserText(msgs []Message) string {
	var texts []string
	for i := len(msgs) - 1; i >= 0 && len(texts) < recentUserTexts; i-- {
		m := msgs[i]
		if m.Role == RoleAssistant && strings.TrimSpace(m.Content) != "" {
			break
		}
		if m.Role == RoleUser {
			if t := strings.TrimSpace(m.Content); t != "" {
				texts = append(texts, t)
			}
		}
	}
	for i, j := 0, len(texts)-1; i < j; i, j = i+1, j-1 {
		texts[i], texts[j] = texts[j], texts[i]
	}
	return clipRunes(strings.Join(texts, "\n"), descriptionRunes)
}

// subject returns the first subjectRunes runes of text on one line.
func subject(text string) string {
	s := clipRunes(strings.Join(strings.Fields(text), " "), subjectRunes)
	if s == "" {
		return "(no text)"
	}
	return s
}

func clipRunes(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return strings.TrimSpace(string(r[:n]))
}

// callSeed derives the tool-call ids of one escalation.
func callSeed(conversationID string, userAt int, text string) string {
	h := sha256.New()
	h.Write([]byte(conversationID))
	h.Write([]byte{0})
	h.Write([]byte(strconv.Itoa(userAt)))
	h.Write([]byte{0})
	h.Write([]byte(text))
	return hex.EncodeToString(h.Sum(nil)[:8])
}

// mustJSON encodes v, whose fields are all strings, without HTML escaping.
func mustJSON(v any) json.RawMessage {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		panic(fmt.Sprintf("llmrouter: encode offline arguments: %v", err)) // a struct of strings always encodes
	}
	return json.RawMessage(bytes.TrimRight(b.Bytes(), "\n"))
}

// acknowledgement returns the fixed text of step 2 in the language of the
// BCP 47 tag lang (English when unknown), naming ticket when set.
func acknowledgement(lang, ticket string) string {
	primary, _, _ := strings.Cut(strings.ToLower(strings.TrimSpace(lang)), "-")
	primary, _, _ = strings.Cut(primary, "_")
	var with, without string
	switch primary {
	case "es":
		with = "Gracias por tu mensaje. Lo hemos pasado a nuestro equipo (ticket %s) y alguien te responderá aquí en breve."
		without = "Gracias por tu mensaje. Lo hemos pasado a nuestro equipo y alguien te responderá aquí en breve."
	case "de":
		with = "Danke für Ihre Nachricht. Wir haben sie an unser Team weitergegeben (Ticket %s) und jemand meldet sich hier in Kürze bei Ihnen."
		without = "Danke für Ihre Nachricht. Wir haben sie an unser Team weitergegeben und jemand meldet sich hier in Kürze bei Ihnen."
	case "fr":
		with = "Merci pour votre message. Nous l'avons transmis à notre équipe (ticket %s) et quelqu'un vous répondra ici très bientôt."
		without = "Merci pour votre message. Nous l'avons transmis à notre équipe et quelqu'un vous répondra ici très bientôt."
	case "pt":
		with = "Obrigado pela sua mensagem. Nós a encaminhamos para a nossa equipe (ticket %s) e alguém vai responder aqui em breve."
		without = "Obrigado pela sua mensagem. Nós a encaminhamos para a nossa equipe e alguém vai responder aqui em breve."
	case "it":
		with = "Grazie per il tuo messaggio. L'abbiamo inoltrato al nostro team (ticket %s) e qualcuno ti risponderà qui a breve."
		without = "Grazie per il tuo messaggio. L'abbiamo inoltrato al nostro team e qualcuno ti risponderà qui a breve."
	default:
		with = "Thanks for your message. We've passed it to our team (ticket %s) and someone will get back to you here shortly."
		without = "Thanks for your message. We've passed it to our team and someone will get back to you here shortly."
	}
	if ticket == "" {
		return without
	}
	return fmt.Sprintf(with, ticket)
}
