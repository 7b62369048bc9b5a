package actors

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/frontdesk-ai/frontdesk/events"
	"github.com/frontdesk-ai/frontdesk/llmrouter"
	"github.com/frontdesk-ai/frontdesk/persistence"
	"github.com/frontdesk-ai/frontdesk/tools"
)

// answered has a customer of tenant write text and the AI answer it ("ok"),
// and returns the message's record and the thread's state then.
func answered(t *testing.T, tenant, user, wamid, text string) (persistence.Record, threadState) {
	t.Helper()
	model.set(tenant, answer("ok"))
	r := received(t, tenant, user, wamid, text)
	deliver(t, r)
	eventually(t, "the reply", func() bool { return len(outbound(t, tenant, r.Key)) == 1 })
	_, st := checkpointState(t, r.Key)
	return r, st
}

// answer is a model that answers every turn with text and asks nothing.
func answer(text string) func(context.Context, llmrouter.Request) (llmrouter.Response, error) {
	return func(ctx context.Context, req llmrouter.Request) (llmrouter.Response, error) {
		if req.Messages[0].Content == summaryPrompt {
			return llmrouter.Response{Offline: true}, nil
		}
		return llmrouter.Response{Message: llmrouter.Message{Role: llmrouter.RoleAssistant, Content: text}, Backend: "test"}, nil
	}
}

// TestWarmTurnReadsNothingFromTheStore: once a conversation's grains are
// active, a turn builds its whole context (conversation, history, customer
// profile, tickets, orders, memory summary, agent, brand) from memory: the
// store is read on activation only.
func TestWarmTurnReadsNothingFromTheStore(t *testing.T) {
	tenant := newTenant(t)
	var lastReq atomic.Value
	model.set(tenant, func(ctx context.Context, req llmrouter.Request) (llmrouter.Response, error) {
		if req.Messages[0].Content == summaryPrompt {
			return llmrouter.Response{Offline: true}, nil
		}
		lastReq.Store(req)
		return llmrouter.Response{Message: llmrouter.Message{Content: fmt.Sprintf("answer %d", len(req.Messages))}}, nil
	})
	r1 := received(t, tenant, "4915556001", "wamid.w1", "hello, where is my parcel?")
	deliver(t, r1)
	eventually(t, "the first reply", func() bool { return len(outbound(t, tenant, r1.Key)) == 1 })
	// The customer grain activated when told of the message; wait for it.
	eventually(t, "the customer grain", func() bool {
		return testutil.ToFloat64(env.rt.metrics.activeGrains.WithLabelValues(KindCustomer)) > 0
	})
	readsBefore := env.reads.of(tenant)
	metricBefore := testutil.ToFloat64(env.rt.metrics.storeReads.WithLabelValues(KindConversation, "activation")) +
		testutil.ToFloat64(env.rt.metrics.storeReads.WithLabelValues(KindConversation, "agent")) +
		testutil.ToFloat64(env.rt.metrics.storeReads.WithLabelValues(KindCustomer, "activation"))

	r2 := received(t, tenant, "4915556001", "wamid.w2", "it was order 1001")
	deliver(t, r2)
	eventually(t, "the warm turn's reply", func() bool { return len(outbound(t, tenant, r1.Key)) == 2 })

	if got := env.reads.of(tenant) - readsBefore; got != 0 {
		t.Fatalf("a warm turn read the store %d times, want 0", got)
	}
	metricAfter := testutil.ToFloat64(env.rt.metrics.storeReads.WithLabelValues(KindConversation, "activation")) +
		testutil.ToFloat64(env.rt.metrics.storeReads.WithLabelValues(KindConversation, "agent")) +
		testutil.ToFloat64(env.rt.metrics.storeReads.WithLabelValues(KindCustomer, "activation"))
	if metricAfter != metricBefore {
		t.Fatalf("frontdesk_grain_store_reads_total moved by %v during a warm turn", metricAfter-metricBefore)
	}
	// And the context it built is complete: history from the grain, the
	// customer from the customer grain.
	req := lastReq.Load().(llmrouter.Request)
	sys := req.Messages[0].Content
	if !strings.Contains(sys, `"name": "Ada 4915556001"`) || !strings.Contains(sys, `"phone": "+4915556001"`) || !strings.Contains(sys, t.Name()) {
		t.Fatalf("system prompt lacks the customer or brand: %s", sys)
	}
	var texts []string
	for _, m := range req.Messages[1:] {
		texts = append(texts, string(m.Role)+":"+m.Content)
	}
	want := "user:hello, where is my parcel?|assistant:answer 2|user:it was order 1001"
	if got := strings.Join(texts, "|"); got != want {
		t.Fatalf("history = %q, want %q", got, want)
	}
}

// TestTakeoverStopsTheAIAtOnce: a human takes over while the model is
// composing; the grain cancels the turn and drops its reply (audited),
// because it holds the writer, not because it re-read a row.
func TestTakeoverStopsTheAIAtOnce(t *testing.T) {
	ctx := context.Background()
	tenant := newTenant(t)
	entered := make(chan struct{}, 1)
	var cancelled atomic.Bool
	model.set(tenant, func(ctx context.Context, req llmrouter.Request) (llmrouter.Response, error) {
		if req.Messages[0].Content == summaryPrompt {
			return llmrouter.Response{Offline: true}, nil
		}
		entered <- struct{}{}
		<-ctx.Done() // a slow model, until the turn is cancelled
		cancelled.Store(true)
		return llmrouter.Response{}, ctx.Err()
	})
	r1 := received(t, tenant, "4915556002", "wamid.t1", "I want a refund")
	deliver(t, r1)
	<-entered
	conv, err := env.store.GetOpenConversation(ctx, tenant, r1.Key)
	if err != nil {
		t.Fatal(err)
	}
	grace := Agent{UserID: "user-grace", Name: "Grace", Role: persistence.RoleAgent}
	res, err := env.rt.Command(ctx, Command{Kind: CommandTakeover, TenantID: tenant, ConversationID: conv.ID, By: grace})
	if err != nil {
		t.Fatal(err)
	}
	if res.Conversation.AssignedUserID != grace.UserID {
		t.Fatalf("takeover answered %+v, want written by %s", res.Conversation, grace.UserID)
	}
	eventually(t, "the turn cancelled", cancelled.Load)
	eventually(t, "the turn settled", func() bool {
		_, st := checkpointState(t, r1.Key)
		return st.AnsweredThrough == st.MessagesApplied
	})
	if out := outbound(t, tenant, r1.Key); len(out) != 0 {
		t.Fatalf("the AI wrote %d messages after the takeover", len(out))
	}
	evs, _, err := env.store.ListAuditEventsForTarget(ctx, tenant, "conversation", conv.ID, persistence.Page{})
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range evs {
		actions = append(actions, e.Action)
	}
	if got := strings.Join(actions, ","); !strings.Contains(got, ActionTakeover) || !strings.Contains(got, "turn.discarded") {
		t.Fatalf("audit = %s, want the takeover and the discarded turn", got)
	}

	// Another agent needs a steal; a non-writer cannot reply.
	ada := Agent{UserID: "user-ada", Name: "Ada", Role: persistence.RoleAgent}
	_, err = env.rt.Command(ctx, Command{Kind: CommandTakeover, TenantID: tenant, ConversationID: conv.ID, By: ada})
	var ce *CommandError
	if !errors.As(err, &ce) || ce.Code != CodeWriterConflict {
		t.Fatalf("takeover of a taken conversation: %v, want writer_conflict", err)
	}
	if _, err := env.rt.Command(ctx, Command{Kind: CommandReply, TenantID: tenant, ConversationID: conv.ID, By: ada, Text: "hi"}); !errors.As(err, &ce) || ce.Code != CodeWriterConflict {
		t.Fatalf("reply by a non-writer: %v, want writer_conflict", err)
	}
	// The writer's reply goes out through the same outbound procedure.
	sent, err := env.rt.Command(ctx, Command{Kind: CommandReply, TenantID: tenant, ConversationID: conv.ID, By: grace, Text: "Refund on its way"})
	if err != nil {
		t.Fatal(err)
	}
	if out := outbound(t, tenant, r1.Key); len(out) != 1 || out[0].Sender != persistence.SenderUser(grace.UserID) || out[0].ID != sent.Message.ID {
		t.Fatalf("outbound = %+v, want Grace's reply", out)
	}
	if n := sendRecords(t, r1.Key); n != 1 {
		t.Fatalf("message.send records = %d, want 1", n)
	}
	// Hand back with a note: the next turn sees it in its context.
	var sys atomic.Value
	model.set(tenant, func(ctx context.Context, req llmrouter.Request) (llmrouter.Response, error) {
		if req.Messages[0].Content == summaryPrompt {
			return llmrouter.Response{Offline: true}, nil
		}
		sys.Store(req.Messages[0].Content)
		return llmrouter.Response{Message: llmrouter.Message{Content: "Happy to help further"}}, nil
	})
	if _, err := env.rt.Command(ctx, Command{Kind: CommandHandback, TenantID: tenant, ConversationID: conv.ID, By: grace, Note: "refund of 20 EUR issued"}); err != nil {
		t.Fatal(err)
	}
	deliver(t, received(t, tenant, "4915556002", "wamid.t2", "thanks!"))
	eventually(t, "the AI's reply after hand-back", func() bool { return len(outbound(t, tenant, r1.Key)) == 2 })
	if s, _ := sys.Load().(string); !strings.Contains(s, "refund of 20 EUR issued") {
		t.Fatalf("the AI's context lacks the hand-back note: %s", s)
	}
}

// sendRecords counts the message.send records of a thread on the outbound
// topic.
func sendRecords(t *testing.T, key string) int {
	t.Helper()
	ctx := context.Background()
	n, _ := env.store.Log().Partitions(ctx, persistence.TopicOutbound)
	sends := 0
	for p := range n {
		recs, err := env.store.Log().Read(ctx, persistence.TopicOutbound, p, 0, 100000)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs {
			if r.Key == key && strings.Contains(string(r.Value), `"message.send"`) {
				sends++
			}
		}
	}
	return sends
}

// TestToolsChangeTheGrainsState: a ticket the AI opens is in the next
// turn's context (the customer grain is told), and a hand-off puts the
// conversation in the grain's state as waiting for a human, so the AI stays
// quiet after it.
func TestToolsChangeTheGrainsState(t *testing.T) {
	ctx := context.Background()
	tenant := newTenant(t)
	var step atomic.Int32
	var second atomic.Value
	model.set(tenant, func(ctx context.Context, req llmrouter.Request) (llmrouter.Response, error) {
		if req.Messages[0].Content == summaryPrompt {
			return llmrouter.Response{Offline: true}, nil
		}
		switch step.Add(1) {
		case 1:
			return llmrouter.Response{Message: llmrouter.Message{ToolCalls: []llmrouter.ToolCall{{ID: "c1", Name: tools.CreateTicket,
				Arguments: json.RawMessage(`{"subject":"Broken kettle from order 77"}`)}}}}, nil
		case 2:
			return llmrouter.Response{Message: llmrouter.Message{Content: "I opened a ticket."}}, nil
		case 3:
			second.Store(req.Messages[0].Content)
			return llmrouter.Response{Message: llmrouter.Message{ToolCalls: []llmrouter.ToolCall{{ID: "c2", Name: tools.HandoffToHuman,
				Arguments: json.RawMessage(`{"reason":"wants a person"}`)}}}}, nil
		}
		return llmrouter.Response{Message: llmrouter.Message{Content: "A colleague will take over."}}, nil
	})
	r1 := received(t, tenant, "4915556003", "wamid.k1", "my kettle is broken")
	deliver(t, r1)
	eventually(t, "the first reply", func() bool { return len(outbound(t, tenant, r1.Key)) == 1 })
	deliver(t, received(t, tenant, "4915556003", "wamid.k2", "can I talk to a person?"))
	eventually(t, "the second reply", func() bool { return len(outbound(t, tenant, r1.Key)) == 2 })
	if s, _ := second.Load().(string); !strings.Contains(s, "Broken kettle from order 77") {
		t.Fatalf("the next turn's context lacks the ticket the AI opened: %s", s)
	}
	conv, err := env.store.GetOpenConversation(ctx, tenant, r1.Key)
	if err != nil {
		t.Fatal(err)
	}
	if conv.Status != persistence.ConversationWaitingHuman {
		t.Fatalf("conversation status %s after a hand-off, want waiting_human", conv.Status)
	}
	calls := step.Load()
	deliver(t, received(t, tenant, "4915556003", "wamid.k3", "hello?"))
	eventually(t, "the turn settled", func() bool {
		_, st := checkpointState(t, r1.Key)
		return st.AnsweredThrough == st.MessagesApplied
	})
	if step.Load() != calls || len(outbound(t, tenant, r1.Key)) != 2 {
		t.Fatal("the AI answered a conversation waiting for a human")
	}
}

// TestToolCallsAreCapped: calls beyond the per-response cap are refused,
// and the model is told so.
func TestToolCallsAreCapped(t *testing.T) {
	tenant := newTenant(t)
	var toolMsgs atomic.Value
	var n atomic.Int32
	model.set(tenant, func(ctx context.Context, req llmrouter.Request) (llmrouter.Response, error) {
		if req.Messages[0].Content == summaryPrompt {
			return llmrouter.Response{Offline: true}, nil
		}
		if n.Add(1) == 1 {
			var calls []llmrouter.ToolCall
			for i := range 10 {
				calls = append(calls, llmrouter.ToolCall{ID: fmt.Sprint("c", i), Name: tools.GetCustomerProfile, Arguments: json.RawMessage(`{}`)})
			}
			return llmrouter.Response{Message: llmrouter.Message{ToolCalls: calls}}, nil
		}
		var got []string
		for _, m := range req.Messages {
			if m.Role == llmrouter.RoleTool {
				got = append(got, m.Content)
			}
		}
		toolMsgs.Store(got)
		return llmrouter.Response{Message: llmrouter.Message{Content: "done"}}, nil
	})
	r := received(t, tenant, "4915556004", "wamid.c1", "who am I?")
	deliver(t, r)
	eventually(t, "the reply", func() bool { return len(outbound(t, tenant, r.Key)) == 1 })
	got, _ := toolMsgs.Load().([]string)
	refused := 0
	for _, c := range got {
		if strings.Contains(c, "refused: at most 8 tool calls per response") {
			refused++
		}
	}
	if len(got) != 10 || refused != 2 {
		t.Fatalf("tool results = %d with %d refused, want 10 with 2 refused: %q", len(got), refused, got)
	}
}

// TestCommitThatKeepsFailingIsGivenUp: a turn whose reply cannot be
// recorded is committed again with the same reply (the model is not asked
// again), with backoff on the runtime's clock; after MaxCommitFailures the
// turn is given up: a ticket, the conversation waiting for a human, and a
// dead letter.
func TestCommitThatKeepsFailingIsGivenUp(t *testing.T) {
	ctx := context.Background()
	tenant := newTenant(t)
	var calls atomic.Int32
	model.set(tenant, func(ctx context.Context, req llmrouter.Request) (llmrouter.Response, error) {
		if req.Messages[0].Content == summaryPrompt {
			return llmrouter.Response{Offline: true}, nil
		}
		calls.Add(1)
		return llmrouter.Response{Message: llmrouter.Message{Content: "this reply cannot be recorded"}}, nil
	})
	r := received(t, tenant, "4915556005", "wamid.g1", "hello")
	env.reads.failSendsOf(r.Key, true)
	defer env.reads.failSendsOf(r.Key, false)
	deliver(t, r)
	failures := env.rt.metrics.errors.WithLabelValues("turn_commit")
	before := testutil.ToFloat64(failures)
	eventually(t, "the commit given up", func() bool {
		env.clock.Advance(2 * time.Second)
		c, err := env.store.GetOpenConversation(ctx, tenant, r.Key)
		return err == nil && c.Status == persistence.ConversationWaitingHuman
	})
	if got := calls.Load(); got != 1 {
		t.Fatalf("model called %d times, want 1 (commits retry the same reply)", got)
	}
	if got := testutil.ToFloat64(failures) - before; got < float64(env.rt.cfg.MaxCommitFailures-1) {
		t.Fatalf("commit failures %v, want at least %d before giving up", got, env.rt.cfg.MaxCommitFailures-1)
	}
	_, st := checkpointState(t, r.Key)
	tickets, err := env.store.ListOpenTickets(ctx, tenant, st.CustomerID, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(tickets) != 1 || !strings.Contains(tickets[0].Description, "could not be recorded") {
		t.Fatalf("tickets = %+v, want one that says why", tickets)
	}
	dlq := persistence.DeadLetterTopic("turns")
	found := false
	n, _ := env.store.Log().Partitions(ctx, dlq)
	for p := range n {
		recs, _ := env.store.Log().Read(ctx, dlq, p, 0, 10000)
		for _, rec := range recs {
			if rec.Key == r.Key {
				found = true
			}
		}
	}
	if !found {
		t.Fatal("no dead letter for the given-up turn")
	}
	if out := outbound(t, tenant, r.Key); len(out) != 0 {
		t.Fatalf("outbound = %d, want none", len(out))
	}
}

// TestMemorySummaryCountsEveryConversationOfTheCustomer: the customer
// grain counts the customer's messages across their threads (here two
// channels), so SummaryEvery (3) messages in two threads make one summary.
func TestMemorySummaryCountsEveryConversationOfTheCustomer(t *testing.T) {
	ctx := context.Background()
	tenant := newTenant(t)
	var summaries atomic.Int32
	model.set(tenant, func(ctx context.Context, req llmrouter.Request) (llmrouter.Response, error) {
		if req.Messages[0].Content == summaryPrompt {
			summaries.Add(1)
			if !strings.Contains(req.Messages[1].Content, "from sms") || !strings.Contains(req.Messages[1].Content, "from whatsapp 2") {
				return llmrouter.Response{}, fmt.Errorf("transcript lacks a conversation: %q", req.Messages[1].Content)
			}
			return llmrouter.Response{Message: llmrouter.Message{Content: "Ada writes on two channels."}}, nil
		}
		return llmrouter.Response{Message: llmrouter.Message{Content: "ok"}}, nil
	})
	r1 := received(t, tenant, "4915556006", "wamid.m1", "from whatsapp 1")
	deliver(t, r1)
	eventually(t, "reply 1", func() bool { return len(outbound(t, tenant, r1.Key)) == 1 })
	_, st := checkpointState(t, r1.Key)
	// The same customer on a second channel.
	if err := env.store.CreateCustomerIdentity(ctx, &persistence.CustomerIdentity{Base: persistence.Base{TenantID: tenant},
		CustomerID: st.CustomerID, Channel: "sms", ExternalID: "4915556006"}); err != nil {
		t.Fatal(err)
	}
	sms := appendEvent(t, tenant, "4915556006", events.TypeMessageReceived, 1, events.MessageReceived{Channel: "sms", ExternalUserID: "4915556006",
		ChannelMessageID: tenant + ":sms1", Kind: "text", Text: "from sms", SentAt: time.Now().UTC()})
	// appendEvent keys by the whatsapp thread; key it by the sms thread.
	sms = rekey(t, sms, events.ThreadKey(tenant, "sms", "4915556006"))
	deliver(t, sms)
	eventually(t, "the sms reply", func() bool { return len(outbound(t, tenant, sms.Key)) == 1 })
	if summaries.Load() != 0 {
		t.Fatal("summary written after 2 messages, want after 3")
	}
	r3 := received(t, tenant, "4915556006", "wamid.m2", "from whatsapp 2")
	deliver(t, r3)
	eventually(t, "the memory summary", func() bool {
		m, err := env.store.GetUserMemorySummary(ctx, tenant, st.CustomerID)
		return err == nil && m.Summary == "Ada writes on two channels." && m.MessagesCovered == 3
	})
	if n := summaries.Load(); n != 1 {
		t.Fatalf("summaries = %d, want 1", n)
	}
	// It survives passivation: the grain's count and the summary reload.
	cp, err := env.store.GetCheckpoint(ctx, KindCustomer, CustomerIdentity(tenant, st.CustomerID))
	if err != nil {
		t.Fatal(err)
	}
	var cs customerState
	if err := json.Unmarshal(cp.State, &cs); err != nil || cs.MessagesSeen != 3 {
		t.Fatalf("customer checkpoint = %s (%v), want 3 messages seen", cp.State, err)
	}
}

// rekey re-appends rec's value under key (another thread).
func rekey(t *testing.T, rec persistence.Record, key string) persistence.Record {
	t.Helper()
	env1, err := events.Parse(rec.Value)
	if err != nil {
		t.Fatal(err)
	}
	env1.Key = key
	raw, err := json.Marshal(env1)
	if err != nil {
		t.Fatal(err)
	}
	out, err := env.store.Log().Append(context.Background(), persistence.Record{Topic: persistence.TopicInbound, Key: key, Value: raw})
	if err != nil {
		t.Fatal(err)
	}
	return out[0]
}

// TestStatusByClientKeyRecordsAnUnrecordedSend: a send whose provider id
// was never recorded (a crash after the provider's answer) is recognised
// by the status webhook's client key: the message gets its provider id, so
// the sender does not send it again.
func TestStatusByClientKeyRecordsAnUnrecordedSend(t *testing.T) {
	ctx := context.Background()
	tenant := newTenant(t)
	r, _ := answered(t, tenant, "4915556007", "wamid.s1", "hi")
	msg := outbound(t, tenant, r.Key)[0]
	st := appendEvent(t, tenant, "4915556007", events.TypeMessageStatus, 1, events.MessageStatus{Channel: "whatsapp",
		ChannelMessageID: "wamid.out." + tenant, ClientKey: msg.ID, Status: "sent", At: env.clock.Now().UTC()})
	if ack := deliver(t, st); !ack.Applied {
		t.Fatalf("status: %+v, want applied", ack)
	}
	got, err := env.store.GetMessage(ctx, tenant, msg.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.ChannelMessageID != "wamid.out."+tenant || got.DeliveryStatus != persistence.DeliverySent {
		t.Fatalf("message = %s %s, want the status's wamid, sent", got.ChannelMessageID, got.DeliveryStatus)
	}
}

// TestConfirmations: a proposal waits for the customer's own answer in its
// conversation; yes executes the action once; no declines; no answer
// before expiry expires it, by the grain's timer while active and by the
// durable reminder after passivation.
func TestConfirmations(t *testing.T) {
	ctx := context.Background()
	tenant := newTenant(t)
	_, st := answered(t, tenant, "4915556008", "wamid.c1", "refund please")
	propose := func(key string, ttl time.Duration) persistence.Confirmation {
		t.Helper()
		c, err := env.rt.ProposeConfirmation(ctx, Proposal{TenantID: tenant, CustomerID: st.CustomerID, ConversationID: st.ConversationID,
			Action: "fake_refund", Arguments: json.RawMessage(`{"order_number":"1001"}`), AmountMinor: 2000, Currency: "eur",
			TTL: ttl, IdempotencyKey: key})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	yes := propose("k-yes", 10*time.Minute)
	if yes.State != persistence.ConfirmationPending || yes.Currency != "EUR" || yes.AmountMinor != 2000 || yes.ExpiresAt.Sub(env.clock.Now()).Round(time.Second) != 10*time.Minute {
		t.Fatalf("proposal = %+v", yes)
	}
	if again := propose("k-yes", 10*time.Minute); again.ID != yes.ID {
		t.Fatal("a repeated proposal made a second confirmation")
	}
	// An unknown action is refused.
	if _, err := env.rt.ProposeConfirmation(ctx, Proposal{TenantID: tenant, CustomerID: st.CustomerID, ConversationID: st.ConversationID, Action: "wire_money"}); !errors.Is(err, persistence.ErrInvalid) {
		t.Fatalf("unknown action: %v, want invalid", err)
	}
	// The answer must come from the conversation it was asked in.
	if _, err := env.rt.ResolveConfirmation(ctx, tenant, st.CustomerID, Answer{ConfirmationID: yes.ID, ConversationID: "elsewhere", Yes: true}); !errors.Is(err, persistence.ErrInvalid) {
		t.Fatalf("answer from another conversation: %v, want invalid", err)
	}
	got, err := env.rt.ResolveConfirmation(ctx, tenant, st.CustomerID, Answer{ConfirmationID: yes.ID, ConversationID: st.ConversationID, Yes: true})
	if err != nil || got.State != persistence.ConfirmationConfirmed {
		t.Fatalf("yes: %+v %v, want confirmed", got, err)
	}
	eventually(t, "the action executed", func() bool {
		c, err := env.store.GetConfirmation(ctx, tenant, yes.ID)
		return err == nil && c.State == persistence.ConfirmationExecuted
	})
	if _, err := env.rt.ResolveConfirmation(ctx, tenant, st.CustomerID, Answer{ConfirmationID: yes.ID, ConversationID: st.ConversationID, Yes: true}); err == nil {
		t.Fatal("a second yes was accepted")
	}
	if n := env.actions.effects(yes.ID); n != 1 {
		t.Fatalf("action effects = %d, want 1", n)
	}

	no := propose("k-no", 10*time.Minute)
	if got, err := env.rt.ResolveConfirmation(ctx, tenant, st.CustomerID, Answer{ConfirmationID: no.ID, ConversationID: st.ConversationID}); err != nil || got.State != persistence.ConfirmationDeclined {
		t.Fatalf("no: %+v %v, want declined", got, err)
	}

	// Expiry while the grain is active: its own timer.
	// (Shorter than the idle timeout, so the grain is still active.)
	timed := propose("k-timer", 2*time.Minute)
	env.clock.Advance(3 * time.Minute)
	eventually(t, "expired by the grain's timer", func() bool {
		c, err := env.store.GetConfirmation(ctx, tenant, timed.ID)
		return err == nil && c.State == persistence.ConfirmationExpired
	})
	if _, err := env.rt.ResolveConfirmation(ctx, tenant, st.CustomerID, Answer{ConfirmationID: timed.ID, ConversationID: st.ConversationID, Yes: true}); err == nil {
		t.Fatal("a yes after expiry was accepted")
	}

	// Expiry after passivation: the durable reminder activates the grain.
	durable := propose("k-durable", 10*time.Minute)
	active := env.rt.metrics.activeGrains.WithLabelValues(KindCustomer)
	eventually(t, "the customer grains passivated", func() bool {
		env.clock.Advance(time.Minute)
		return testutil.ToFloat64(active) == 0
	})
	env.clock.Advance(10 * time.Minute)
	time.Sleep(50 * time.Millisecond)
	if c, err := env.store.GetConfirmation(ctx, tenant, durable.ID); err != nil || c.State != persistence.ConfirmationPending {
		t.Fatalf("confirmation of a passivated grain = %+v %v, want still pending until its reminder fires", c.State, err)
	}
	activations := env.rt.metrics.activations.WithLabelValues(KindCustomer)
	before := testutil.ToFloat64(activations)
	if err := env.rt.fireDueReminders(ctx); err != nil {
		t.Fatal(err)
	}
	eventually(t, "expired by the durable reminder", func() bool {
		c, err := env.store.GetConfirmation(ctx, tenant, durable.ID)
		return err == nil && c.State == persistence.ConfirmationExpired
	})
	if testutil.ToFloat64(activations) <= before {
		t.Fatal("the reminder did not activate the customer grain")
	}
	eventually(t, "the reminder removed", func() bool {
		rs, err := env.store.ListRemindersOf(ctx, KindCustomer, CustomerIdentity(tenant, st.CustomerID))
		return err == nil && len(rs) == 0
	})
	if n := env.actions.effects(no.ID) + env.actions.effects(timed.ID) + env.actions.effects(durable.ID); n != 0 {
		t.Fatalf("declined or expired confirmations executed %d times", n)
	}
}

// TestNewConversationGetsAgentByRouting: the language of the customer's
// first message picks the agent profile whose routing rules match it; the
// conversation records it, the turn runs with it, and the customer keeps
// the language.
func TestNewConversationGetsAgentByRouting(t *testing.T) {
	ctx := context.Background()
	tenant := newTenant(t)
	en := persistence.AgentProfile{Base: persistence.Base{TenantID: tenant}, Name: "English", Routing: json.RawMessage(`{"default": true}`)}
	de := persistence.AgentProfile{Base: persistence.Base{TenantID: tenant}, Name: "Deutsch", Routing: json.RawMessage(`{"priority": 5, "match": {"languages": ["de"]}}`)}
	for _, p := range []*persistence.AgentProfile{&en, &de} {
		if err := env.store.CreateAgentProfile(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	var agent atomic.Value
	model.set(tenant, func(ctx context.Context, req llmrouter.Request) (llmrouter.Response, error) {
		if req.Messages[0].Content != summaryPrompt {
			agent.Store(req.AgentProfileID)
		}
		return llmrouter.Response{Message: llmrouter.Message{Content: "Gern geschehen"}}, nil
	})
	r := received(t, tenant, "4915556009", "wamid.r1", "Hallo, wo ist meine Bestellung? Ich warte schon seit einer Woche darauf.")
	deliver(t, r)
	eventually(t, "the reply", func() bool { return len(outbound(t, tenant, r.Key)) == 1 })
	conv, err := env.store.GetOpenConversation(ctx, tenant, r.Key)
	if err != nil {
		t.Fatal(err)
	}
	if conv.AgentProfileID != de.ID {
		t.Fatalf("conversation agent = %q, want the German profile %q", conv.AgentProfileID, de.ID)
	}
	if got, _ := agent.Load().(string); got != de.ID {
		t.Fatalf("the turn ran as %q, want %q", got, de.ID)
	}
	eventually(t, "the customer's language", func() bool {
		c, err := env.store.GetCustomer(ctx, tenant, conv.CustomerID)
		return err == nil && c.Language == "de"
	})
	// Another customer writing English gets the default profile.
	r2 := received(t, tenant, "4915556010", "wamid.r2", "Hello, where is my order? I have been waiting for a week.")
	deliver(t, r2)
	eventually(t, "the second conversation", func() bool {
		c, err := env.store.GetOpenConversation(ctx, tenant, r2.Key)
		return err == nil && c.AgentProfileID == en.ID
	})
}

// TestConfirmedActionThatFailsIsRetried: a confirmed action whose provider
// fails stays confirmed with the error, is retried by a durable reminder,
// and is executed once when the provider is back.
func TestConfirmedActionThatFailsIsRetried(t *testing.T) {
	ctx := context.Background()
	tenant := newTenant(t)
	_, st := answered(t, tenant, "4915556011", "wamid.x1", "refund please")
	c, err := env.rt.ProposeConfirmation(ctx, Proposal{TenantID: tenant, CustomerID: st.CustomerID, ConversationID: st.ConversationID,
		Action: "fake_refund", AmountMinor: 500, Currency: "EUR", TTL: 10 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	env.actions.failNext(c.ID, 1)
	if _, err := env.rt.ResolveConfirmation(ctx, tenant, st.CustomerID, Answer{ConfirmationID: c.ID, ConversationID: st.ConversationID, Yes: true}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the failure recorded", func() bool {
		got, err := env.store.GetConfirmation(ctx, tenant, c.ID)
		return err == nil && got.State == persistence.ConfirmationConfirmed && strings.Contains(string(got.Metadata), "payment provider unavailable")
	})
	rs, err := env.store.ListRemindersOf(ctx, KindCustomer, CustomerIdentity(tenant, st.CustomerID))
	if err != nil {
		t.Fatal(err)
	}
	var retry bool
	for _, rm := range rs {
		retry = retry || rm.Name == executeReminder(c.ID)
	}
	if !retry {
		t.Fatalf("reminders = %+v, want a retry of the execution", rs)
	}
	env.clock.Advance(time.Minute)
	if err := env.rt.fireDueReminders(ctx); err != nil {
		t.Fatal(err)
	}
	eventually(t, "executed on the retry", func() bool {
		got, err := env.store.GetConfirmation(ctx, tenant, c.ID)
		return err == nil && got.State == persistence.ConfirmationExecuted
	})
	if n := env.actions.effects(c.ID); n != 1 {
		t.Fatalf("effects = %d, want 1", n)
	}
	eventually(t, "the reminders removed", func() bool {
		rs, err := env.store.ListRemindersOf(ctx, KindCustomer, CustomerIdentity(tenant, st.CustomerID))
		return err == nil && len(rs) == 0
	})
}
