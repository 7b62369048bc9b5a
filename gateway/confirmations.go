package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/frontdesk-ai/frontdesk/actors"
	"github.com/frontdesk-ai/frontdesk/dashboard/liveview"
	"github.com/frontdesk-ai/frontdesk/persistence"
)

// Approvals decides confirmations awaiting a supervisor's approval (the
// customer grain).
type Approvals interface {
	Decide(ctx context.Context, tenantID, customerID string, dec actors.Decision) (persistence.Confirmation, error)
}

// confirmationJSON is a confirmation with its steps.
type confirmationJSON struct {
	liveview.Confirmation
	Timeline []stepJSON `json:"timeline"`
}

// stepJSON is one audited step of a confirmation.
type stepJSON struct {
	Action    string          `json:"action"`
	At        time.Time       `json:"at"`
	ActorKind string          `json:"actor_kind"`
	ActorID   string          `json:"actor_id"`
	Data      json.RawMessage `json:"data"`
}

// withTimeline adds each confirmation's audited steps, oldest first (one
// query for all of them).
func (a *API) withTimeline(ctx context.Context, tenantID string, cs []persistence.Confirmation) ([]confirmationJSON, error) {
	ids := make([]string, len(cs))
	for i, c := range cs {
		ids[i] = c.ID
	}
	evs, err := a.store.ListAuditEventsForTargets(ctx, tenantID, "confirmation", ids)
	if err != nil {
		return nil, fmt.Errorf("confirmation steps: %w", err)
	}
	steps := make(map[string][]stepJSON, len(cs))
	for _, e := range evs {
		steps[e.TargetID] = append(steps[e.TargetID], stepJSON{Action: e.Action, At: e.CreatedAt, ActorKind: e.ActorKind, ActorID: e.ActorID,
			Data: rawOrEmpty(e.Data)})
	}
	out := make([]confirmationJSON, 0, len(cs))
	for _, c := range cs {
		timeline := steps[c.ID]
		if timeline == nil {
			timeline = []stepJSON{}
		}
		out = append(out, confirmationJSON{Confirmation: liveview.NewConfirmation(c), Timeline: timeline})
	}
	return out, nil
}

// GET /api/v1/conversations/{id}/confirmations: what was asked in the
// conversation, newest first, with each one's steps.
func (a *API) listConversationConfirmations(w http.ResponseWriter, r *http.Request, p Principal) error {
	conv, err := a.store.GetConversation(r.Context(), p.TenantID, r.PathValue("id"))
	if err != nil {
		return fmt.Errorf("get conversation: %w", err)
	}
	cs, err := a.store.ListConfirmationsByConversation(r.Context(), p.TenantID, conv.ID)
	if err != nil {
		return fmt.Errorf("list confirmations: %w", err)
	}
	out, err := a.withTimeline(r.Context(), p.TenantID, cs)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"confirmations": out})
	return nil
}

// GET /api/v1/customers/{id}/confirmations: the customer's refunds and
// payments asked for, newest first, with their steps.
func (a *API) listCustomerConfirmations(w http.ResponseWriter, r *http.Request, p Principal) error {
	c, err := a.store.GetCustomer(r.Context(), p.TenantID, r.PathValue("id"))
	if err != nil {
		return fmt.Errorf("get customer: %w", err)
	}
	cs, err := a.store.ListConfirmationsByCustomer(r.Context(), p.TenantID, c.ID)
	if err != nil {
		return fmt.Errorf("list confirmations: %w", err)
	}
	for i, j := 0, len(cs)-1; i < j; i, j = i+1, j-1 {
		cs[i], cs[j] = cs[j], cs[i]
	}
	out, err := a.withTimeline(r.Context(), p.TenantID, cs)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"confirmations": out})
	return nil
}

// approvalJSON is a confirmation in the approval queue.
type approvalJSON struct {
	confirmationJSON
	CustomerName string `json:"customer_name"`
}

// GET /api/v1/approvals: the customers' yeses above the agents' policies,
// oldest first, waiting for a supervisor.
func (a *API) listApprovals(w http.ResponseWriter, r *http.Request, p Principal) error {
	page, err := pageOf(r)
	if err != nil {
		return err
	}
	cs, next, err := a.store.ListConfirmationsByState(r.Context(), p.TenantID, persistence.ConfirmationAwaitingApproval, page)
	if err != nil {
		return listError("list approvals", err)
	}
	withSteps, err := a.withTimeline(r.Context(), p.TenantID, cs)
	if err != nil {
		return err
	}
	ids := make([]string, len(cs))
	for i, c := range cs {
		ids[i] = c.CustomerID
	}
	custs, err := a.store.GetCustomers(r.Context(), p.TenantID, ids)
	if err != nil {
		return fmt.Errorf("list approvals: customers: %w", err)
	}
	names := make(map[string]string, len(custs))
	for _, c := range custs {
		names[c.ID] = c.Name
	}
	out := make([]approvalJSON, 0, len(cs))
	for i, c := range cs {
		out = append(out, approvalJSON{confirmationJSON: withSteps[i], CustomerName: names[c.CustomerID]})
	}
	writeJSON(w, http.StatusOK, map[string]any{"approvals": out, "next_cursor": next})
	return nil
}

// POST /api/v1/approvals/{id}/approve and …/reject: a supervisor's
// decision, audited; the customer is told either way.
func (a *API) decideApproval(approve bool) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, p Principal) error {
		if a.cfg.Approvals == nil {
			return &Error{Status: http.StatusServiceUnavailable, Code: "unavailable", Message: "approvals are not available on this server"}
		}
		var body struct {
			Note string `json:"note"`
		}
		if err := decodeOptionalJSON(w, r, &body); err != nil {
			return err
		}
		if len(body.Note) > maxDecisionNote {
			return errInvalid(fmt.Sprintf("note: at most %d bytes", maxDecisionNote))
		}
		c, err := a.store.GetConfirmation(r.Context(), p.TenantID, r.PathValue("id"))
		if err != nil {
			return fmt.Errorf("get confirmation: %w", err)
		}
		if c.State != persistence.ConfirmationAwaitingApproval {
			return &Error{Status: http.StatusConflict, Code: CodeInvalid, Message: fmt.Sprintf("confirmation is %s, not awaiting approval", c.State)}
		}
		c, err = a.cfg.Approvals.Decide(r.Context(), p.TenantID, c.CustomerID, actors.Decision{ConfirmationID: c.ID, Approve: approve, UserID: p.UserID, Note: body.Note})
		var ce *actors.CommandError
		if errors.As(err, &ce) {
			return &Error{Status: http.StatusConflict, Code: CodeInvalid, Message: ce.Message, Err: err}
		}
		if err != nil {
			return fmt.Errorf("decide: %w", err)
		}
		a.cfg.notify(p.TenantID)
		out, err := a.withTimeline(r.Context(), p.TenantID, []persistence.Confirmation{c})
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, out[0])
		return nil
	}
}

// maxDecisionNote bounds a supervisor's note on a decision.
const maxDecisionNote = 2000
