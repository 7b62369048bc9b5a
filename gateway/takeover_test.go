package gateway_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/frontdesk-ai/frontdesk/dashboard/liveview"
	"github.com/frontdesk-ai/frontdesk/persistence"
	"github.com/frontdesk-ai/frontdesk/persistence/sqlstore/sqlstoretest"
)

func TestTakeoverReplyHandback(t *testing.T) {
	for _, d := range sqlstoretest.Dialects {
		t.Run(d, func(t *testing.T) {
			f := newFixture(t, d)
			ctx := context.Background()
			tn := f.tenant("shop")
			other := f.tenant("other")
			f.user(tn, "ann@shop.test", persistence.RoleAgent)
			f.user(tn, "bob@shop.test", persistence.RoleAgent)
			f.user(tn, "ana@shop.test", persistence.RoleAnalyst)
			f.user(other, "eve@other.test", persistence.RoleAgent)
			ann, bob, ana, eve := f.login("ann@shop.test"), f.login("bob@shop.test"), f.login("ana@shop.test"), f.login("eve@other.test")
			cust := f.customer(tn, "Ada")
			conv := f.conversation(tn, cust.ID, time.Now())
			path := "/api/v1/conversations/" + conv.ID

			writer := func() string {
				c, err := f.store.GetConversation(ctx, tn, conv.ID)
				if err != nil {
					t.Fatal(err)
				}
				return c.AssignedUserID
			}
			if code, _ := f.do("POST", path+"/takeover", ana, nil); code != http.StatusForbidden {
				t.Fatalf("analyst takeover = %d, want 403", code)
			}
			if code, _ := f.do("POST", path+"/takeover", eve, nil); code != http.StatusNotFound {
				t.Fatalf("other tenant's takeover = %d, want 404", code)
			}
			if code, body := f.do("POST", path+"/takeover", ann, nil); code != http.StatusOK || !strings.Contains(string(body), `"writer":"user:`) {
				t.Fatalf("takeover = %d %s", code, body)
			}
			annID := writer()
			if code, body := f.do("POST", path+"/takeover", bob, map[string]bool{"steal": false}); code != http.StatusConflict || !strings.Contains(string(body), "writer_conflict") {
				t.Fatalf("second takeover without steal = %d %s, want 409 writer_conflict", code, body)
			}
			if writer() != annID {
				t.Fatal("a refused takeover changed the writer")
			}
			if code, _ := f.do("POST", path+"/replies", bob, map[string]string{"text": "hi"}); code != http.StatusConflict {
				t.Fatalf("reply by a non-writer = %d, want 409", code)
			}
			code, body := f.do("POST", path+"/replies", ann, map[string]string{"text": "Hello Ada, Ann here."})
			if code != http.StatusCreated {
				t.Fatalf("reply = %d %s", code, body)
			}
			var m struct{ ID, Direction, Sender, Status string }
			_ = json.Unmarshal(body, &m)
			stored, err := f.store.GetMessage(ctx, tn, m.ID)
			if err != nil || stored.Direction != persistence.DirectionOutbound || stored.Sender != "user:"+annID || stored.DeliveryStatus != persistence.DeliveryPending {
				t.Fatalf("stored reply = %+v, %v", stored, err)
			}
			// The reply's send event is on the outbound topic, keyed by the thread.
			sends := 0
			n, _ := f.store.Log().Partitions(ctx, persistence.TopicOutbound)
			for p := range n {
				recs, _ := f.store.Log().Read(ctx, persistence.TopicOutbound, p, 0, 100)
				for _, r := range recs {
					if strings.Contains(string(r.Value), m.ID) && r.Key == conv.ThreadKey {
						sends++
					}
				}
			}
			if sends != 1 {
				t.Fatalf("outbound send events for the reply = %d, want 1", sends)
			}
			if code, _ := f.do("POST", path+"/takeover", bob, map[string]bool{"steal": true}); code != http.StatusOK || writer() == annID {
				t.Fatalf("steal = %d", code)
			}
			if code, _ := f.do("POST", path+"/handback", ann, nil); code != http.StatusConflict {
				t.Fatalf("handback by the former writer = %d, want 409", code)
			}
			if code, body := f.do("POST", path+"/handback", bob, map[string]string{"note": "Refund approved; confirm it."}); code != http.StatusOK || !strings.Contains(string(body), `"writer":"ai"`) {
				t.Fatalf("handback = %d %s", code, body)
			}
			c, _ := f.store.GetConversation(ctx, tn, conv.ID)
			if c.AssignedUserID != "" || !strings.Contains(string(c.Metadata), "Refund approved") {
				t.Fatalf("after handback: %+v", c)
			}
			// Every change is audited, and published live in order.
			evs, _, err := f.store.ListAuditEventsForTarget(ctx, tn, "conversation", conv.ID, persistence.Page{Limit: 50})
			if err != nil {
				t.Fatal(err)
			}
			var actions []string
			for _, e := range evs {
				actions = append(actions, e.Action)
			}
			if got := strings.Join(actions, ","); got != "conversation.takeover,conversation.agent_reply,conversation.steal,conversation.handback" {
				t.Fatalf("audit = %s", got)
			}
			live, err := f.store.LiveEventsAfter(ctx, tn, 0, 50)
			if err != nil {
				t.Fatal(err)
			}
			var types []string
			for _, e := range live {
				types = append(types, e.Type)
			}
			if got := strings.Join(types, ","); got != "conversation.updated,message.created,conversation.updated,conversation.updated" {
				t.Fatalf("live events = %s", got)
			}
			// The steal names the writer it was taken from, for them to see.
			var steal liveview.Conversation
			if err := json.Unmarshal(live[2].Data, &steal); err != nil {
				t.Fatal(err)
			}
			if steal.Change != "conversation.steal" || steal.PreviousWriter != "user:"+annID || steal.Writer == steal.PreviousWriter || steal.By == annID {
				t.Fatalf("steal event = %+v, want it to name ann as the previous writer", steal)
			}
		})
	}
}
