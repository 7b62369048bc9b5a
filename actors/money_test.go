package actors

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/frontdesk-ai/frontdesk/events"
	"github.com/frontdesk-ai/frontdesk/llmrouter"
	"github.com/frontdesk-ai/frontdesk/persistence"
	"github.com/frontdesk-ai/frontdesk/persistence/sqlstore"
	"github.com/frontdesk-ai/frontdesk/tools"
)

// tap appends the customer's tap on a reply button.
func tap(t *testing.T, tenant, user, wamid, buttonID string) persistence.Record {
	t.Helper()
	return appendEvent(t, tenant, user, events.TypeMessageReceived, 1, events.MessageReceived{
		Channel: "whatsapp", ChannelAccount: "1555", ExternalUserID: user, ProfileName: "Ada " + user, Phone: "+" + user,
		ChannelMessageID: tenant + ":" + wamid, Kind: "interactive", Text: "Yes", ButtonID: buttonID, SentAt: time.Now().UTC(),
	})
}

func systemTexts(t *testing.T, tenant, key string) []persistence.Message {
	t.Helper()
	var out []persistence.Message
	for _, m := range outbound(t, tenant, key) {
		if m.Sender == persistence.SenderSystem {
			out = append(out, m)
		}
	}
	return out
}

// TestRefundIsAskedAnsweredAndToldByTheRuntime: the model's refund_order
// call only proposes; the runtime asks with Yes / No buttons; the
// customer's own tap executes it once and the runtime tells the outcome. A
// second tap, and another customer tapping the same button, move nothing.
// The model calling the tool twice in a turn makes one confirmation.
func TestRefundIsAskedAnsweredAndToldByTheRuntime(t *testing.T) {
	ctx := context.Background()
	tenant := newTenant(t)
	agent := persistence.AgentProfile{Base: persistence.Base{TenantID: tenant}, Name: "Refunds", Routing: json.RawMessage(`{"default": true}`),
		Tools: append(DefaultTools(), tools.RefundOrder)}
	if err := env.store.CreateAgentProfile(ctx, &agent); err != nil {
		t.Fatal(err)
	}
	first, st := answered(t, tenant, "4915557001", "wamid.m1", "my mug arrived broken")
	var step atomic.Int32
	model.set(tenant, func(ctx context.Context, req llmrouter.Request) (llmrouter.Response, error) {
		if req.Messages[0].Content == summaryPrompt {
			return llmrouter.Response{Offline: true}, nil
		}
		switch step.Add(1) {
		case 1:
			call := func(id string) llmrouter.ToolCall {
				return llmrouter.ToolCall{ID: id, Name: tools.RefundOrder, Arguments: json.RawMessage(`{"order_number":"#1001","reason":"arrived broken"}`)}
			}
			return llmrouter.Response{Message: llmrouter.Message{ToolCalls: []llmrouter.ToolCall{call("r1"), call("r2")}}}, nil
		}
		return llmrouter.Response{Message: llmrouter.Message{Content: "I have asked you to confirm the refund."}}, nil
	})
	placed := time.Now().UTC().Add(-24 * time.Hour)
	order := &persistence.Order{Base: persistence.Base{TenantID: tenant}, CustomerID: st.CustomerID, Source: "shopify", Shop: "acme.myshopify.com",
		ExternalID: "450789469", Number: "1001", Status: "open", FinancialStatus: "paid", TotalMinor: 4998, Currency: "USD", PlacedAt: &placed}
	if err := env.store.CreateOrder(ctx, order); err != nil {
		t.Fatal(err)
	}
	// The customer grain reads orders on activation; tell it of this one.
	if err := env.rt.CustomerChanged(ctx, tenant, st.CustomerID, "orders"); err != nil {
		t.Fatal(err)
	}
	deliver(t, received(t, tenant, "4915557001", "wamid.m2", "please refund order 1001"))
	eventually(t, "the runtime's question", func() bool { return len(systemTexts(t, tenant, first.Key)) == 1 })
	ask := systemTexts(t, tenant, first.Key)[0]
	var meta struct {
		ConfirmationID string          `json:"confirmation_id"`
		Buttons        []events.Button `json:"buttons"`
	}
	if err := json.Unmarshal(ask.Metadata, &meta); err != nil || meta.ConfirmationID == "" || len(meta.Buttons) != 2 {
		t.Fatalf("question %q metadata %s", ask.Text, ask.Metadata)
	}
	if !strings.Contains(ask.Text, "49.98 USD") || !strings.Contains(ask.Text, "#1001") || meta.Buttons[0].ID != confirmButton(meta.ConfirmationID, true) {
		t.Fatalf("question %q buttons %+v", ask.Text, meta.Buttons)
	}
	pending, err := env.rt.Confirmations(ctx, tenant, st.CustomerID)
	if err != nil || len(pending) != 1 || pending[0].State != persistence.ConfirmationPending {
		t.Fatalf("confirmations after two tool calls: %+v, %v (want one pending)", pending, err)
	}
	if n := env.actions.effects(meta.ConfirmationID); n != 0 {
		t.Fatal("the model's call executed the refund")
	}

	// Another customer taps this confirmation's Yes: refused, nothing moves.
	other := tap(t, tenant, "4915557002", "wamid.o1", confirmButton(meta.ConfirmationID, true))
	deliver(t, other)
	eventually(t, "the other customer told", func() bool { return len(systemTexts(t, tenant, other.Key)) == 1 })
	if txt := systemTexts(t, tenant, other.Key)[0].Text; !strings.Contains(txt, "no longer valid") {
		t.Fatalf("other customer told %q", txt)
	}

	calls := step.Load()
	deliver(t, tap(t, tenant, "4915557001", "wamid.m3", confirmButton(meta.ConfirmationID, true)))
	eventually(t, "executed and told", func() bool {
		for _, m := range systemTexts(t, tenant, first.Key) {
			if strings.HasPrefix(m.Text, "Done:") {
				return true
			}
		}
		return false
	})
	deliver(t, tap(t, tenant, "4915557001", "wamid.m4", confirmButton(meta.ConfirmationID, true)))
	eventually(t, "the second tap answered", func() bool { return len(systemTexts(t, tenant, first.Key)) == 4 })
	texts := []string{}
	for _, m := range systemTexts(t, tenant, first.Key) {
		texts = append(texts, m.Text)
	}
	if !strings.HasPrefix(texts[1], "Thank you.") || !strings.HasPrefix(texts[2], "Done:") || !strings.Contains(texts[3], "no longer valid") {
		t.Fatalf("runtime messages: %q", texts)
	}
	if n := env.actions.effects(meta.ConfirmationID); n != 1 {
		t.Fatalf("refund executed %d times, want 1", n)
	}
	if step.Load() != calls {
		t.Fatal("a button tap started an AI turn")
	}
}

// TestPendingRefundIsCancelledByANewerProposalAndByATakeover: a second
// proposal for the same order replaces the first; a human taking the
// conversation over cancels what is pending, and a late tap moves nothing.
func TestPendingRefundIsCancelledByANewerProposalAndByATakeover(t *testing.T) {
	ctx := context.Background()
	tenant := newTenant(t)
	first, st := answered(t, tenant, "4915557011", "wamid.n1", "hello")
	order := &persistence.Order{Base: persistence.Base{TenantID: tenant}, CustomerID: st.CustomerID, Source: "shopify", Shop: "acme.myshopify.com",
		ExternalID: "77", Number: "1077", Status: "open", FinancialStatus: "paid", TotalMinor: 1000, Currency: "EUR"}
	if err := env.store.CreateOrder(ctx, order); err != nil {
		t.Fatal(err)
	}
	args := json.RawMessage(`{"order_id":"` + order.ID + `","order_number":"1077"}`)
	propose := func(key string) persistence.Confirmation {
		t.Helper()
		c, err := env.rt.ProposeConfirmation(ctx, Proposal{TenantID: tenant, CustomerID: st.CustomerID, ConversationID: st.ConversationID,
			Action: tools.RefundOrder, Arguments: args, AmountMinor: 1000, Currency: "EUR", IdempotencyKey: key})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	older, newer := propose("turn-1"), propose("turn-2")
	if c, _ := env.store.GetConfirmation(ctx, tenant, older.ID); c.State != persistence.ConfirmationDeclined {
		t.Fatalf("the older proposal is %s, want declined (replaced)", c.State)
	}
	if _, err := env.rt.Command(ctx, Command{Kind: CommandTakeover, TenantID: tenant, ConversationID: st.ConversationID,
		By: Agent{UserID: "agent-1", Name: "Grace"}}); err != nil {
		t.Fatal(err)
	}
	if c, _ := env.store.GetConfirmation(ctx, tenant, newer.ID); c.State != persistence.ConfirmationDeclined {
		t.Fatalf("after a takeover the pending refund is %s, want declined", c.State)
	}
	deliver(t, tap(t, tenant, "4915557011", "wamid.n2", confirmButton(newer.ID, true)))
	eventually(t, "the late tap answered", func() bool {
		ms := systemTexts(t, tenant, first.Key)
		return len(ms) == 1 && strings.Contains(ms[0].Text, "no longer valid")
	})
	if n := env.actions.effects(newer.ID) + env.actions.effects(older.ID); n != 0 {
		t.Fatalf("a cancelled refund executed %d times", n)
	}
	evs, _, err := env.store.ListAuditEventsForTarget(ctx, tenant, "confirmation", newer.ID, persistence.Page{})
	if err != nil {
		t.Fatal(err)
	}
	cancelled := false
	for _, e := range evs {
		cancelled = cancelled || (e.Action == ActionConfirmationCancelled && strings.Contains(string(e.Data), "took the conversation over"))
	}
	if !cancelled {
		t.Fatalf("no cancellation audited: %+v", evs)
	}
}

// TestRefundAboveThePolicyWaitsForApproval: the customer's yes to a refund
// the policy sends for approval executes nothing until a supervisor
// approves (then once); a rejection declines it; both are told.
func TestRefundAboveThePolicyWaitsForApproval(t *testing.T) {
	ctx := context.Background()
	tenant := newTenant(t)
	first, st := answered(t, tenant, "4915557021", "wamid.a1", "hello")
	propose := func(key string) persistence.Confirmation {
		t.Helper()
		c, err := env.rt.ProposeConfirmation(ctx, Proposal{TenantID: tenant, CustomerID: st.CustomerID, ConversationID: st.ConversationID,
			Action: tools.RefundOrder, Arguments: json.RawMessage(`{"order_id":"` + key + `","order_number":"` + key + `"}`),
			AmountMinor: 90000, Currency: "EUR", IdempotencyKey: key, ApprovalReason: "above the 500.00 EUR limit"})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	approved, rejectedC := propose("2001"), propose("2002")
	for i, c := range []persistence.Confirmation{approved, rejectedC} {
		deliver(t, tap(t, tenant, "4915557021", "wamid.a-tap-"+c.ID, confirmButton(c.ID, true)))
		eventually(t, "the review told", func() bool { return len(systemTexts(t, tenant, first.Key)) == i+1 })
	}
	for _, c := range []persistence.Confirmation{approved, rejectedC} {
		if got, _ := env.store.GetConfirmation(ctx, tenant, c.ID); got.State != persistence.ConfirmationAwaitingApproval {
			t.Fatalf("after the customer's yes: %s, want awaiting_approval", got.State)
		}
	}
	if txt := systemTexts(t, tenant, first.Key)[0].Text; !strings.Contains(txt, "review") {
		t.Fatalf("customer told %q", txt)
	}
	if n := env.actions.effects(approved.ID); n != 0 {
		t.Fatal("executed before approval")
	}
	// Approve one (twice: the second is refused), reject the other.
	if c, err := env.rt.Decide(ctx, tenant, st.CustomerID, Decision{ConfirmationID: approved.ID, Approve: true, UserID: "sup-1", Note: "ok"}); err != nil || c.State != persistence.ConfirmationConfirmed {
		t.Fatalf("approve: %+v, %v", c, err)
	}
	if _, err := env.rt.Decide(ctx, tenant, st.CustomerID, Decision{ConfirmationID: approved.ID, Approve: true, UserID: "sup-1"}); err == nil {
		t.Fatal("a second approval was accepted")
	}
	if c, err := env.rt.Decide(ctx, tenant, st.CustomerID, Decision{ConfirmationID: rejectedC.ID, UserID: "sup-1", Note: "too much"}); err != nil || c.State != persistence.ConfirmationDeclined {
		t.Fatalf("reject: %+v, %v", c, err)
	}
	eventually(t, "both outcomes told", func() bool {
		done, no := false, false
		for _, m := range systemTexts(t, tenant, first.Key) {
			done = done || strings.HasPrefix(m.Text, "Done:")
			no = no || strings.Contains(m.Text, "could not approve")
		}
		return done && no
	})
	if n, m := env.actions.effects(approved.ID), env.actions.effects(rejectedC.ID); n != 1 || m != 0 {
		t.Fatalf("effects: approved %d (want 1), rejected %d (want 0)", n, m)
	}
	evs, _, _ := env.store.ListAuditEventsForTarget(ctx, tenant, "confirmation", approved.ID, persistence.Page{})
	by := ""
	for _, e := range evs {
		if e.Action == ActionConfirmationApproved {
			by = e.ActorKind + ":" + e.ActorID
		}
	}
	if by != "user:sup-1" {
		t.Fatalf("approval audited as %q, want user:sup-1", by)
	}
	// Every step is on the decisions topic too, in order.
	var steps []string
	for p := range int32(sqlstore.DefaultLogPartitions) {
		recs, err := env.store.Log().Read(ctx, persistence.TopicDecisions, p, 0, 10000)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs {
			e, err := events.Parse(r.Value)
			if err != nil {
				t.Fatal(err)
			}
			v, err := events.Decode(e)
			if err != nil {
				t.Fatal(err)
			}
			if step, ok := v.(*events.ConfirmationStep); ok && step.ConfirmationID == approved.ID {
				steps = append(steps, step.Step)
			}
		}
	}
	want := []string{ActionConfirmationProposed, ActionConfirmationAwaitingApproval, ActionConfirmationApproved, ActionConfirmationExecuted}
	if strings.Join(steps, ",") != strings.Join(want, ",") {
		t.Fatalf("decisions topic: %v, want %v", steps, want)
	}
}

// TestTypedYesAndLateTapsMoveNothing: a typed "yes" where buttons were sent
// is an ordinary message (only the buttons confirm), and a tap after expiry
// is refused and the customer told.
func TestTypedYesAndLateTapsMoveNothing(t *testing.T) {
	ctx := context.Background()
	tenant := newTenant(t)
	first, st := answered(t, tenant, "4915557031", "wamid.y1", "hello")
	c, err := env.rt.ProposeConfirmation(ctx, Proposal{TenantID: tenant, CustomerID: st.CustomerID, ConversationID: st.ConversationID,
		Action: tools.RefundOrder, Arguments: json.RawMessage(`{"order_id":"o-3001","order_number":"3001"}`), AmountMinor: 500, Currency: "EUR",
		TTL: time.Minute, IdempotencyKey: "k-3001"})
	if err != nil {
		t.Fatal(err)
	}
	deliver(t, received(t, tenant, "4915557031", "wamid.y2", "yes"))
	eventually(t, "the typed yes answered by a turn", func() bool { return len(outbound(t, tenant, first.Key)) == 2 })
	if got, _ := env.store.GetConfirmation(ctx, tenant, c.ID); got.State != persistence.ConfirmationPending {
		t.Fatalf("after a typed yes: %s, want still pending", got.State)
	}
	env.clock.Advance(2 * time.Minute)
	eventually(t, "expired", func() bool {
		got, _ := env.store.GetConfirmation(ctx, tenant, c.ID)
		return got.State == persistence.ConfirmationExpired
	})
	deliver(t, tap(t, tenant, "4915557031", "wamid.y3", confirmButton(c.ID, true)))
	eventually(t, "the late tap answered", func() bool {
		for _, m := range systemTexts(t, tenant, first.Key) {
			if strings.Contains(m.Text, "no longer valid") {
				return true
			}
		}
		return false
	})
	if n := env.actions.effects(c.ID); n != 0 {
		t.Fatalf("executed %d times", n)
	}
	expiredTold := false
	for _, m := range systemTexts(t, tenant, first.Key) {
		expiredTold = expiredTold || strings.Contains(m.Text, "expired")
	}
	if !expiredTold {
		t.Fatal("the customer was not told the request expired")
	}
}

// TestConfirmationByCodeOnAChannelWithoutButtons: where the channel has no
// buttons, the question names a one-time code; "yes" does not confirm, the
// code does, once; six digits that answer nothing are an ordinary message.
func TestConfirmationByCodeOnAChannelWithoutButtons(t *testing.T) {
	ctx := context.Background()
	tenant := newTenant(t)
	agent := persistence.AgentProfile{Base: persistence.Base{TenantID: tenant}, Name: "Refunds", Routing: json.RawMessage(`{"default": true}`),
		Tools: append(DefaultTools(), tools.RefundOrder)}
	if err := env.store.CreateAgentProfile(ctx, &agent); err != nil {
		t.Fatal(err)
	}
	sms := func(wamid, text string) persistence.Record {
		t.Helper()
		env1, err := events.New(events.TypeMessageReceived, 1, tenant, events.ThreadKey(tenant, "sms", "4915557041"), time.Now(), events.MessageReceived{
			Channel: "sms", ExternalUserID: "4915557041", Phone: "+4915557041", ChannelMessageID: tenant + ":" + wamid, Kind: "text", Text: text,
			SentAt: time.Now().UTC()})
		if err != nil {
			t.Fatal(err)
		}
		rec, err := env1.Record(persistence.TopicInbound)
		if err != nil {
			t.Fatal(err)
		}
		out, err := env.store.Log().Append(ctx, rec)
		if err != nil {
			t.Fatal(err)
		}
		return out[0]
	}
	var step atomic.Int32
	model.set(tenant, func(ctx context.Context, req llmrouter.Request) (llmrouter.Response, error) {
		if req.Messages[0].Content == summaryPrompt {
			return llmrouter.Response{Offline: true}, nil
		}
		if step.Add(1) == 2 {
			return llmrouter.Response{Message: llmrouter.Message{ToolCalls: []llmrouter.ToolCall{{ID: "r1", Name: tools.RefundOrder,
				Arguments: json.RawMessage(`{"order_number":"4001"}`)}}}}, nil
		}
		return llmrouter.Response{Message: llmrouter.Message{Content: "ok"}}, nil
	})
	first := sms("s1", "hello")
	deliver(t, first)
	eventually(t, "the reply", func() bool { return len(outbound(t, tenant, first.Key)) == 1 })
	_, st := checkpointState(t, first.Key)
	order := &persistence.Order{Base: persistence.Base{TenantID: tenant}, CustomerID: st.CustomerID, Source: "shopify", Shop: "acme.myshopify.com",
		ExternalID: "4001", Number: "4001", Status: "open", FinancialStatus: "paid", TotalMinor: 700, Currency: "EUR"}
	if err := env.store.CreateOrder(ctx, order); err != nil {
		t.Fatal(err)
	}
	deliver(t, sms("s2", "please refund order 4001"))
	eventually(t, "the question", func() bool { return len(systemTexts(t, tenant, first.Key)) == 1 })
	ask := systemTexts(t, tenant, first.Key)[0]
	var meta struct {
		ConfirmationID string          `json:"confirmation_id"`
		Buttons        []events.Button `json:"buttons"`
	}
	_ = json.Unmarshal(ask.Metadata, &meta)
	code := confirmCode(meta.ConfirmationID)
	if len(meta.Buttons) != 0 || !strings.Contains(ask.Text, "reply "+code) || !strings.Contains(ask.Text, "NO "+code) {
		t.Fatalf("question on a channel without buttons: %q, buttons %v", ask.Text, meta.Buttons)
	}
	before := len(outbound(t, tenant, first.Key))
	for i, text := range []string{"yes", "123456"} {
		if text == code {
			continue
		}
		deliver(t, sms(fmt.Sprintf("s-plain-%d", i), text))
	}
	eventually(t, "plain answers handled as messages", func() bool { return len(outbound(t, tenant, first.Key)) == before+2 })
	if n := env.actions.effects(meta.ConfirmationID); n != 0 {
		t.Fatal("a plain yes or a stray number confirmed")
	}
	deliver(t, sms("s-code", " "+code+" "))
	eventually(t, "executed and told", func() bool {
		for _, m := range systemTexts(t, tenant, first.Key) {
			if strings.HasPrefix(m.Text, "Done:") {
				return true
			}
		}
		return false
	})
	if n := env.actions.effects(meta.ConfirmationID); n != 1 {
		t.Fatalf("executed %d times", n)
	}
}

// TestFollowUpOutsideTheWindow: a follow-up due more than 24 hours after
// the customer's last message goes out as the agent's approved template
// with the note; without a template it becomes a ticket.
func TestFollowUpOutsideTheWindow(t *testing.T) {
	ctx := context.Background()
	tenant := newTenant(t)
	first, st := answered(t, tenant, "4915557051", "wamid.f1", "hello")
	conv, err := env.store.GetConversation(ctx, tenant, st.ConversationID)
	if err != nil {
		t.Fatal(err)
	}
	old := env.clock.Now().Add(-30 * time.Hour)
	run := func(tmpl *events.Template) thread {
		t.Helper()
		th := thread{identity: first.Key, st: st}
		th.st.Conv = conv
		th.st.Recent = []recentMessage{{ID: "m1", Direction: "inbound", Text: "hello", At: old}}
		err := env.store.InTx(ctx, func(tx *sqlstore.Tx) error {
			_, err := th.followUp(ctx, tx, env.rt, conv, Command{Kind: CommandFollowUp, TenantID: tenant, ConversationID: conv.ID,
				Note: "check the parcel", Text: "followup:k1", Template: tmpl})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return th
	}
	th := run(&events.Template{Name: "order_follow_up", Language: "en_US"})
	var sends []events.MessageSend
	for _, r := range th.logs {
		e, _ := events.Parse(r.Value)
		if v, err := events.Decode(e); err == nil {
			if s, ok := v.(*events.MessageSend); ok {
				sends = append(sends, *s)
			}
		}
	}
	if len(sends) != 1 || sends[0].Template == nil || sends[0].Template.Name != "order_follow_up" ||
		len(sends[0].Template.Params) != 1 || sends[0].Template.Params[0] != "check the parcel" || th.st.FollowUp != "" {
		t.Fatalf("outside the window with a template: %+v (follow-up state %q)", sends, th.st.FollowUp)
	}
	th = run(nil)
	if len(th.logs) != 0 || th.st.FollowUp != "" {
		t.Fatalf("outside the window without a template: %d records, follow-up %q", len(th.logs), th.st.FollowUp)
	}
	ts, err := env.store.ListOpenTickets(ctx, tenant, st.CustomerID, 10)
	if err != nil || len(ts) != 1 || !strings.HasPrefix(ts[0].Subject, "Follow-up due: check the parcel") {
		t.Fatalf("tickets %+v, %v", ts, err)
	}
}
