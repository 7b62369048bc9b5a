package actors

import (
	"testing"

	"github.com/frontdesk-ai/frontdesk/persistence"
)

// TestThreadStateIsTheFoldOfItsEvents replays a conversation grain's
// events through the pure apply and checks the state, and that apply
// leaves its input alone.
func TestThreadStateIsTheFoldOfItsEvents(t *testing.T) {
	conv := persistence.Conversation{Base: persistence.Base{ID: "conv-1"}, Status: persistence.ConversationOpen}
	evs := []any{
		evIdentified{CustomerID: "cust-1", ProfileName: "Ada", ChannelAccount: "pn-1"},
		evConversationStarted{Conv: conv},
		evInbound{Msg: recentMessage{ID: "m1", Direction: "inbound", Text: "hi"}, Triggers: true, Language: "en"},
		evInbound{Msg: recentMessage{ID: "m2", Direction: "inbound", Text: "👍", Kind: "reaction"}},
		evInbound{Msg: recentMessage{ID: "m3", Direction: "inbound", Text: "where is it?"}, Triggers: true},
		evOutbound{Msg: recentMessage{ID: "r1", Direction: "outbound", Text: "on its way"}},
		evAnswered{Through: 1, LastInboundID: "m1", Seen: 1},
	}
	var st threadState
	for _, e := range evs {
		before := st.clone()
		next := st.apply(e, 3)
		if len(st.Recent) != len(before.Recent) || len(st.Unanswered) != len(before.Unanswered) {
			t.Fatalf("apply(%T) changed its input", e)
		}
		st = next
	}
	if st.CustomerID != "cust-1" || st.ConversationID != "conv-1" || st.Language != "en" || st.MessagesApplied != 3 {
		t.Fatalf("state = %+v", st)
	}
	if got := st.Unanswered; len(got) != 1 || got[0] != "m3" || st.PendingThrough != 3 || st.AnsweredThrough != 1 || !st.turnDue() {
		t.Fatalf("turn bookkeeping = unanswered %v pending %d answered %d", got, st.PendingThrough, st.AnsweredThrough)
	}
	if len(st.Recent) != 3 || st.Recent[0].ID != "m2" || st.Recent[2].ID != "r1" {
		t.Fatalf("recent = %+v, want the last 3", st.Recent)
	}
	// A new conversation starts its own context and bookkeeping.
	st = st.apply(evConversationStarted{Conv: persistence.Conversation{Base: persistence.Base{ID: "conv-2"}}}, 3)
	if st.ConversationID != "conv-2" || len(st.Recent) != 0 || len(st.Unanswered) != 0 || st.turnDue() {
		t.Fatalf("after a new conversation: %+v", st)
	}
}

// TestCustomerStateIsTheFoldOfItsEvents: confirmations enter the customer
// grain's list when proposed, change in place, and leave it when final.
func TestCustomerStateIsTheFoldOfItsEvents(t *testing.T) {
	c := persistence.Confirmation{Base: persistence.Base{ID: "c1"}, State: persistence.ConfirmationPending}
	var d customerData
	d = d.apply(evCustomerSeen{Customer: persistence.Customer{Name: "Ada"}})
	d = d.apply(evConfirmation{C: c})
	before := d
	c.State = persistence.ConfirmationConfirmed
	d = d.apply(evConfirmation{C: c})
	if before.confirms[0].State != persistence.ConfirmationPending {
		t.Fatal("apply changed its input")
	}
	if len(d.confirms) != 1 || d.confirms[0].State != persistence.ConfirmationConfirmed || d.st.MessagesSeen != 1 || d.customer.Name != "Ada" {
		t.Fatalf("state = %+v", d)
	}
	c.State = persistence.ConfirmationExecuted
	if d = d.apply(evConfirmation{C: c}); len(d.confirms) != 0 {
		t.Fatalf("a final confirmation stayed: %+v", d.confirms)
	}
	d = d.apply(evSummaryWritten{Summary: persistence.UserMemorySummary{Summary: "Ada", MessagesCovered: 1}})
	if !d.hasSum || d.context().MemorySummary != "Ada" {
		t.Fatalf("summary not folded: %+v", d.summary)
	}
}
