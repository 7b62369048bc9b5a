package gateway

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/frontdesk-ai/frontdesk/actors"
	"github.com/frontdesk-ai/frontdesk/persistence"
)

// Human takeover. A conversation has one writer at a time: the AI (no
// assigned user) or one human agent. The conversation grain is the single
// writer of its conversation: takeover, steal, a human's reply, a private
// note, hand-back, open and close are commands to it (actors.Command),
// answered from the grain's reply; the HTTP contracts are the gateway's.
// The grain cancels a turn in flight on takeover and checks the writer it
// holds when a turn commits, so the AI stops at once. A second agent needs
// an explicit steal, which is recorded for both to see. Handing back clears
// the writer, optionally with a note the AI sees in its context. Every
// change is audited and published live as conversation.updated.

// Grains is what the API asks of the grains (actors.Runtime): commands to
// conversation grains, and telling a customer grain that part of its
// context changed (a ticket opened from the dashboard).
type Grains interface {
	Command(ctx context.Context, cmd actors.Command) (actors.CommandResult, error)
	CustomerChanged(ctx context.Context, tenantID, customerID, part string) error
}

// Audit actions of takeover.
const (
	ActionTakeover   = actors.ActionTakeover
	ActionSteal      = actors.ActionSteal
	ActionHandback   = actors.ActionHandback
	ActionAgentReply = actors.ActionAgentReply
	// CodeWriterConflict answers an agent who is not the conversation's writer.
	CodeWriterConflict = actors.CodeWriterConflict
)

// command runs cmd for p on the conversation named in the path, mapping
// the grain's refusals to API errors.
func (a *API) command(r *http.Request, p Principal, cmd actors.Command) (actors.CommandResult, error) {
	if a.cfg.Grains == nil {
		return actors.CommandResult{}, &Error{Status: http.StatusServiceUnavailable, Code: "unavailable", Message: "conversation commands are not wired on this server"}
	}
	cmd.TenantID = p.TenantID
	if cmd.ConversationID == "" && cmd.Thread == "" {
		cmd.ConversationID = r.PathValue("id")
	}
	cmd.By = actors.Agent{UserID: p.UserID, Name: p.Name, Role: p.Role}
	res, err := a.cfg.Grains.Command(r.Context(), cmd)
	var ce *actors.CommandError
	if errors.As(err, &ce) {
		switch ce.Code {
		case actors.CodeWriterConflict:
			return res, &Error{Status: http.StatusConflict, Code: CodeWriterConflict, Message: ce.Message, Err: err}
		case actors.CodeInvalid:
			return res, &Error{Status: http.StatusBadRequest, Code: CodeInvalid, Message: ce.Message, Err: err}
		case actors.CodeNotFound:
			return res, &Error{Status: http.StatusNotFound, Code: CodeNotFound, Message: "not found", Err: err}
		}
	}
	return res, err
}

// takeover handles POST /api/v1/conversations/{id}/takeover {"steal": bool}.
func (a *API) takeover(w http.ResponseWriter, r *http.Request, p Principal) error {
	var body struct {
		Steal bool `json:"steal"`
	}
	if err := decodeOptionalJSON(w, r, &body); err != nil {
		return err
	}
	res, err := a.command(r, p, actors.Command{Kind: actors.CommandTakeover, Steal: body.Steal})
	if err != nil {
		return err
	}
	a.cfg.notify(p.TenantID)
	return a.writeConversation(w, r, p, res.Conversation)
}

// handback handles POST /api/v1/conversations/{id}/handback {"note"}.
func (a *API) handback(w http.ResponseWriter, r *http.Request, p Principal) error {
	var body struct {
		Note string `json:"note"`
	}
	if err := decodeOptionalJSON(w, r, &body); err != nil {
		return err
	}
	if len(body.Note) > 4000 {
		return errInvalid("note: at most 4000 bytes")
	}
	res, err := a.command(r, p, actors.Command{Kind: actors.CommandHandback, Note: body.Note})
	if err != nil {
		return err
	}
	a.cfg.notify(p.TenantID)
	return a.writeConversation(w, r, p, res.Conversation)
}

// reply handles POST /api/v1/conversations/{id}/replies {"text"}: the
// writer's message, sent through the channel like any outbound.
func (a *API) reply(w http.ResponseWriter, r *http.Request, p Principal) error {
	var body struct {
		Text string `json:"text"`
	}
	if err := decodeJSON(w, r, &body); err != nil {
		return err
	}
	text := strings.TrimSpace(body.Text)
	if text == "" || len(text) > 4096 {
		return errInvalid("text: 1 to 4096 bytes")
	}
	res, err := a.command(r, p, actors.Command{Kind: actors.CommandReply, Text: text})
	if err != nil {
		return err
	}
	a.cfg.notify(p.TenantID)
	writeJSON(w, http.StatusCreated, toMessageJSON(*res.Message))
	return nil
}

// decodeOptionalJSON decodes a body that may be empty.
func decodeOptionalJSON(w http.ResponseWriter, r *http.Request, v any) error {
	if r.ContentLength == 0 {
		return nil
	}
	return decodeJSON(w, r, v)
}

func (a *API) writeConversation(w http.ResponseWriter, r *http.Request, p Principal, c persistence.Conversation) error {
	cust, err := a.store.GetCustomer(r.Context(), p.TenantID, c.CustomerID)
	if err != nil {
		cust = persistence.Customer{}
	}
	writeJSON(w, http.StatusOK, toConversationJSON(c, cust))
	return nil
}
