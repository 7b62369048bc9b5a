package tools

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/frontdesk-ai/frontdesk/persistence"
)

// Names of the built-in tools.
const (
	GetCustomerProfile = "get_customer_profile"
	CreateTicket       = "create_ticket"
	HandoffToHuman     = "handoff_to_human"
)

func builtins() []*tool {
	return append(slices.Concat(orderTools(), moneyTools(), followUpTools(), knowledgeTools()), []*tool{
		{
			def: Definition{
				Name:        GetCustomerProfile,
				Description: "Look up the profile of the customer in this conversation: name, contact details, language, open tickets and recent orders.",
				Parameters:  json.RawMessage(`{"type":"object","properties":{},"additionalProperties":false}`),
			},
			run: runGetCustomerProfile,
		},
		{
			def: Definition{
				Name:        CreateTicket,
				Description: "Open a support ticket for the customer in this conversation, for issues that need follow-up by the team.",
				Parameters: json.RawMessage(`{"type":"object","properties":{
					"subject":{"type":"string","minLength":1,"maxLength":200,"description":"One-line summary of the issue."},
					"description":{"type":"string","maxLength":5000,"description":"What the customer needs, with the relevant details."},
					"priority":{"type":"string","enum":["low","normal","high","urgent"],"description":"How urgent the issue is (default normal)."}
				},"required":["subject"],"additionalProperties":false}`),
			},
			run: runCreateTicket,
		},
		{
			def: Definition{
				Name:        HandoffToHuman,
				Description: "Hand the conversation to a human agent when the customer asks for one or the issue is beyond what you can do. The AI stops answering until a human hands it back.",
				Parameters: json.RawMessage(`{"type":"object","properties":{
					"reason":{"type":"string","maxLength":500,"description":"Why a human is needed."}
				},"additionalProperties":false}`),
			},
			run: runHandoff,
		},
	}...)
}

func str(args map[string]any, k string) string {
	s, _ := args[k].(string)
	return s
}

type ticketView struct {
	ID       string `json:"ticket_id"`
	Subject  string `json:"subject"`
	Status   string `json:"status"`
	Priority string `json:"priority"`
	Created  string `json:"created_at"`
}

func viewTicket(t persistence.Ticket) ticketView {
	return ticketView{ID: t.ID, Subject: t.Subject, Status: string(t.Status), Priority: string(t.Priority), Created: t.CreatedAt.Format(time.RFC3339)}
}

func runGetCustomerProfile(ctx context.Context, tx Tx, s Scope, _ map[string]any, _ string) (any, error) {
	c, err := tx.GetCustomer(ctx, s.TenantID, s.CustomerID)
	if err != nil {
		return nil, fmt.Errorf("load customer: %w", err)
	}
	tickets, err := tx.ListOpenTickets(ctx, s.TenantID, s.CustomerID, 10)
	if err != nil {
		return nil, fmt.Errorf("load tickets: %w", err)
	}
	orders, err := tx.ListOrdersByCustomer(ctx, s.TenantID, s.CustomerID, 5)
	if err != nil {
		return nil, fmt.Errorf("load orders: %w", err)
	}
	out := map[string]any{
		"name":           c.Name,
		"phone":          c.Phone,
		"email":          c.Email,
		"language":       c.Language,
		"customer_since": c.CreatedAt.Format(time.RFC3339),
	}
	ts := make([]ticketView, 0, len(tickets))
	for _, t := range tickets {
		ts = append(ts, viewTicket(t))
	}
	out["open_tickets"] = ts
	os := make([]OrderView, 0, len(orders))
	for _, o := range orders {
		os = append(os, ViewOrder(o))
	}
	out["recent_orders"] = os
	if m, err := tx.GetUserMemorySummary(ctx, s.TenantID, s.CustomerID); err == nil {
		out["memory_summary"] = m.Summary
	} else if !errors.Is(err, persistence.ErrNotFound) {
		return nil, fmt.Errorf("load memory summary: %w", err)
	}
	return out, nil
}

func runCreateTicket(ctx context.Context, tx Tx, s Scope, args map[string]any, key string) (any, error) {
	if t, err := tx.GetTicketByIdempotencyKey(ctx, s.TenantID, key); err == nil {
		v := viewTicket(t)
		return map[string]any{"ticket": v, "ticket_id": v.ID, "created": false}, nil
	} else if !errors.Is(err, persistence.ErrNotFound) {
		return nil, err
	}
	prio := persistence.TicketPriority(str(args, "priority"))
	if prio == "" {
		prio = persistence.PriorityNormal
	}
	t := &persistence.Ticket{
		Base:           persistence.Base{TenantID: s.TenantID},
		CustomerID:     s.CustomerID,
		ConversationID: s.ConversationID,
		Subject:        str(args, "subject"),
		Description:    str(args, "description"),
		Priority:       prio,
		Status:         persistence.TicketOpen,
		IdempotencyKey: key,
	}
	if err := tx.CreateTicket(ctx, t); err != nil {
		return nil, fmt.Errorf("create ticket: %w", err)
	}
	v := viewTicket(*t)
	return map[string]any{"ticket": v, "ticket_id": v.ID, "created": true}, nil
}

// runHandoff hands the conversation to a human. The conversation grain is
// the only writer of its conversation: the tool reports the hand-off and the
// grain applies it (waiting for a human, with the reason) in the turn's
// commit, so the AI stops answering there.
func runHandoff(_ context.Context, _ Tx, _ Scope, args map[string]any, _ string) (any, error) {
	return map[string]any{"status": string(persistence.ConversationWaitingHuman), "reason": str(args, "reason"),
		"message": "A human agent will take over this conversation."}, nil
}
