package gateway_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/frontdesk-ai/frontdesk/persistence"
	"github.com/frontdesk-ai/frontdesk/persistence/sqlstore/sqlstoretest"
)

// TestNotes: any user who may write leaves a note whoever writes the
// conversation; the note is stored, audited and published live, and nothing
// is sent to the customer.
func TestNotes(t *testing.T) {
	for _, d := range sqlstoretest.Dialects {
		t.Run(d, func(t *testing.T) {
			f := newFixture(t, d)
			ctx := context.Background()
			tn, other := f.tenant("shop"), f.tenant("other")
			f.user(tn, "ann@shop.test", persistence.RoleAgent)
			bobUser := f.user(tn, "bob@shop.test", persistence.RoleSupervisor)
			f.user(tn, "ana@shop.test", persistence.RoleAnalyst)
			f.user(other, "eve@other.test", persistence.RoleAgent)
			ann, bob, ana, eve := f.login("ann@shop.test"), f.login("bob@shop.test"), f.login("ana@shop.test"), f.login("eve@other.test")
			conv := f.conversation(tn, f.customer(tn, "Ada").ID, time.Now())
			path := "/api/v1/conversations/" + conv.ID + "/notes"

			if code, _ := f.do("POST", "/api/v1/conversations/"+conv.ID+"/takeover", ann, nil); code != http.StatusOK {
				t.Fatalf("takeover = %d", code)
			}
			// Bob is not the writer, and may still leave a note.
			code, body := f.do("POST", path, bob, map[string]string{"text": "  VIP: refund without asking twice.  "})
			if code != http.StatusCreated {
				t.Fatalf("note = %d %s", code, body)
			}
			var n struct {
				ID, Text       string
				AuthorID       string `json:"author_id"`
				ConversationID string `json:"conversation_id"`
			}
			_ = json.Unmarshal(body, &n)
			if n.Text != "VIP: refund without asking twice." || n.AuthorID != bobUser.ID || n.ConversationID != conv.ID {
				t.Fatalf("note = %+v", n)
			}
			for _, c := range []struct {
				who, text string
				want      int
			}{{ana, "x", http.StatusForbidden}, {eve, "x", http.StatusNotFound}, {ann, "   ", http.StatusBadRequest},
				{ann, strings.Repeat("x", 8<<10+1), http.StatusBadRequest}} {
				if code, body := f.do("POST", path, c.who, map[string]string{"text": c.text}); code != c.want {
					t.Errorf("note of %d bytes = %d %s, want %d", len(c.text), code, body, c.want)
				}
			}
			if code, _ := f.do("POST", path, ann, map[string]string{"text": "Asked the warehouse."}); code != http.StatusCreated {
				t.Fatalf("second note = %d", code)
			}
			var page struct {
				Notes []struct{ ID, Text string }
			}
			f.get(path, ana, &page)
			if len(page.Notes) != 2 || page.Notes[0].ID != n.ID || page.Notes[1].Text != "Asked the warehouse." {
				t.Fatalf("notes = %+v", page.Notes)
			}
			if code, _ := f.do("GET", path, eve, nil); code != http.StatusNotFound {
				t.Fatalf("other tenant lists notes: %d, want 404", code)
			}
			// Never sent: no message row, no outbound event.
			msgs, _, _ := f.store.ListMessages(ctx, tn, conv.ID, persistence.Page{})
			if len(msgs) != 0 {
				t.Fatalf("notes created %d messages", len(msgs))
			}
			parts, _ := f.store.Log().Partitions(ctx, persistence.TopicOutbound)
			for p := range parts {
				if recs, _ := f.store.Log().Read(ctx, persistence.TopicOutbound, p, 0, 100); len(recs) != 0 {
					t.Fatalf("notes put %d records on the outbound topic", len(recs))
				}
			}
			audit, _, _ := f.store.ListAuditEventsForTarget(ctx, tn, "conversation", conv.ID, persistence.Page{Limit: 50})
			notes := 0
			for _, e := range audit {
				if e.Action == "conversation.note" {
					notes++
				}
			}
			live, _ := f.store.LiveEventsAfter(ctx, tn, 0, 50)
			var liveNotes []string
			for _, e := range live {
				if e.Type == persistence.LiveNoteCreated && e.ConversationID == conv.ID {
					liveNotes = append(liveNotes, string(e.Data))
				}
			}
			if notes != 2 || len(liveNotes) != 2 || !strings.Contains(liveNotes[0], "VIP") {
				t.Fatalf("audit notes = %d, live notes = %v; want 2 each", notes, liveNotes)
			}
		})
	}
}

// TestToolCallLog: the tool-call log of a conversation is read back from its
// tool.called live events, only its own, in order, paged by event id.
func TestToolCallLog(t *testing.T) {
	for _, d := range sqlstoretest.Dialects {
		t.Run(d, func(t *testing.T) {
			f := newFixture(t, d)
			ctx := context.Background()
			tn, other := f.tenant("shop"), f.tenant("other")
			f.user(tn, "ana@shop.test", persistence.RoleAnalyst)
			f.user(other, "eve@other.test", persistence.RoleAgent)
			ana, eve := f.login("ana@shop.test"), f.login("eve@other.test")
			cust := f.customer(tn, "Ada")
			conv, elsewhere := f.conversation(tn, cust.ID, time.Now()), f.conversation(tn, cust.ID, time.Now())
			appendEv := func(conv, typ, data string) {
				if err := f.store.AppendLiveEvent(ctx, &persistence.LiveEvent{TenantID: tn, Type: typ, ConversationID: conv, Data: json.RawMessage(data)}); err != nil {
					t.Fatal(err)
				}
			}
			appendEv(conv.ID, persistence.LiveToolCalled, `{"call_id":"c1","tool":"get_customer_profile","arguments":{},"result":{"name":"Ada"},"executed":true,"duration_ms":1.5}`)
			appendEv(conv.ID, persistence.LiveMessageCreated, `{"id":"m1"}`)
			appendEv(elsewhere.ID, persistence.LiveToolCalled, `{"call_id":"c9","tool":"create_ticket"}`)
			appendEv(conv.ID, persistence.LiveToolCalled, `{"call_id":"c2","tool":"create_ticket","arguments":{"subject":"x"},"error":"denied","executed":false}`)

			path := "/api/v1/conversations/" + conv.ID + "/tool-calls"
			var out struct {
				ToolCalls []struct {
					EventID    int64  `json:"event_id"`
					CallID     string `json:"call_id"`
					Tool, Time string
					Error      string
					DurationMS float64 `json:"duration_ms"`
					Result     map[string]string
				} `json:"tool_calls"`
				NextAfter int64 `json:"next_after"`
			}
			f.get(path, ana, &out)
			if len(out.ToolCalls) != 2 || out.ToolCalls[0].CallID != "c1" || out.ToolCalls[0].Result["name"] != "Ada" || out.ToolCalls[0].DurationMS != 1.5 ||
				out.ToolCalls[1].CallID != "c2" || out.ToolCalls[1].Error != "denied" || out.ToolCalls[0].Time == "" || out.NextAfter != 0 {
				t.Fatalf("tool calls = %+v", out)
			}
			f.get(fmt.Sprintf("%s?after=%d", path, out.ToolCalls[0].EventID), ana, &out)
			if len(out.ToolCalls) != 1 || out.ToolCalls[0].CallID != "c2" {
				t.Fatalf("after the first = %+v", out.ToolCalls)
			}
			if code, _ := f.do("GET", path+"?after=-1", ana, nil); code != http.StatusBadRequest {
				t.Fatalf("after=-1 = %d, want 400", code)
			}
			if code, _ := f.do("GET", path, eve, nil); code != http.StatusNotFound {
				t.Fatalf("other tenant = %d, want 404", code)
			}
		})
	}
}
