package gateway

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/frontdesk-ai/frontdesk/actors"
	"github.com/frontdesk-ai/frontdesk/persistence"
)

// Private notes and the tool-call log of a conversation. Notes are what the
// humans on a conversation tell each other: stored apart from messages,
// never sent to the customer and never in the AI's context. Any user who may
// write may add one, whoever writes the conversation at the time. The
// tool-call log is read back from the conversation's tool.called live
// events, so a reload shows what the live view showed.

// ActionNote is the audit action of a private note.
const ActionNote = actors.ActionNote

// maxNoteBytes bounds a note's text.
const maxNoteBytes = 8 << 10

// noteJSON is a note as the API and the live stream show it.
type noteJSON = actors.NoteView

func toNoteJSON(n persistence.Note) noteJSON { return actors.NewNoteView(n) }

// listNotes handles GET /api/v1/conversations/{id}/notes.
func (a *API) listNotes(w http.ResponseWriter, r *http.Request, p Principal) error {
	page, err := pageOf(r)
	if err != nil {
		return err
	}
	c, err := a.store.GetConversation(r.Context(), p.TenantID, r.PathValue("id"))
	if err != nil {
		return fmt.Errorf("list notes: %w", err)
	}
	notes, next, err := a.store.ListNotes(r.Context(), p.TenantID, c.ID, page)
	if err != nil {
		return listError("list notes of conversation "+c.ID, err)
	}
	out := struct {
		Notes      []noteJSON `json:"notes"`
		NextCursor string     `json:"next_cursor,omitempty"`
	}{Notes: make([]noteJSON, len(notes)), NextCursor: next}
	for i, n := range notes {
		out.Notes[i] = toNoteJSON(n)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// createNote handles POST /api/v1/conversations/{id}/notes {"text"}: a
// command to the conversation grain, which writes the note, its audit event
// and its note.created live event in one transaction.
func (a *API) createNote(w http.ResponseWriter, r *http.Request, p Principal) error {
	var body struct {
		Text string `json:"text"`
	}
	if err := decodeJSON(w, r, &body); err != nil {
		return err
	}
	text := strings.TrimSpace(body.Text)
	if text == "" || len(text) > maxNoteBytes {
		return errInvalid(fmt.Sprintf("text: 1 to %d bytes", maxNoteBytes))
	}
	res, err := a.command(r, p, actors.Command{Kind: actors.CommandNote, Text: text})
	if err != nil {
		return err
	}
	a.cfg.notify(p.TenantID)
	writeJSON(w, http.StatusCreated, toNoteJSON(*res.Note))
	return nil
}

// toolCallsLimit bounds one page of a conversation's tool calls.
const toolCallsLimit = persistence.MaxPageLimit

// listToolCalls handles GET /api/v1/conversations/{id}/tool-calls
// [?after=EVENT_ID]: the conversation's tool calls oldest first, each the
// data of its tool.called live event with the event's id and time, and
// next_after when more follow.
func (a *API) listToolCalls(w http.ResponseWriter, r *http.Request, p Principal) error {
	var after int64
	if s := r.URL.Query().Get("after"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 0 {
			return errInvalid("after must be a non-negative event id")
		}
		after = n
	}
	c, err := a.store.GetConversation(r.Context(), p.TenantID, r.PathValue("id"))
	if err != nil {
		return fmt.Errorf("list tool calls: %w", err)
	}
	evs, err := a.store.LiveEventsOfConversation(r.Context(), p.TenantID, c.ID, persistence.LiveToolCalled, after, toolCallsLimit+1)
	if err != nil {
		return fmt.Errorf("list tool calls of conversation %s: %w", c.ID, err)
	}
	out := struct {
		ToolCalls []map[string]any `json:"tool_calls"`
		NextAfter int64            `json:"next_after,omitempty"`
	}{ToolCalls: []map[string]any{}}
	if len(evs) > toolCallsLimit {
		evs = evs[:toolCallsLimit]
		out.NextAfter = evs[len(evs)-1].ID
	}
	for _, e := range evs {
		call := map[string]any{}
		if err := json.Unmarshal(e.Data, &call); err != nil || call == nil {
			call = map[string]any{}
		}
		call["event_id"], call["time"] = e.ID, e.CreatedAt.UTC().Format(time.RFC3339Nano)
		out.ToolCalls = append(out.ToolCalls, call)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
