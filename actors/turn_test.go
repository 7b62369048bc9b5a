package actors

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/frontdesk-ai/frontdesk/llmrouter"
	"github.com/frontdesk-ai/frontdesk/persistence"
)

func outbound(t *testing.T, tenant, identity string) []persistence.Message {
	t.Helper()
	ctx := context.Background()
	conv, err := env.store.GetOpenConversation(ctx, tenant, identity)
	if err != nil {
		t.Fatal(err)
	}
	all, _, err := env.store.ListMessages(ctx, tenant, conv.ID, persistence.Page{Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	var out []persistence.Message
	for _, m := range all {
		if m.Direction == persistence.DirectionOutbound {
			out = append(out, m)
		}
	}
	return out
}

// TestMessagesDuringATurnAreFoldedIntoTheNext holds the model inside the
// first turn while two more messages arrive: they are applied at once, and
// answered together by one second turn, not twice.
func TestMessagesDuringATurnAreFoldedIntoTheNext(t *testing.T) {
	tenant := newTenant(t)
	release := make(chan struct{})
	entered := make(chan struct{}, 4)
	var mu sync.Mutex
	var seen []string
	model.set(tenant, func(ctx context.Context, req llmrouter.Request) (llmrouter.Response, error) {
		if req.Messages[0].Content == summaryPrompt {
			return llmrouter.Response{Offline: true}, nil // not this test's concern
		}
		last := req.Messages[len(req.Messages)-1].Content
		mu.Lock()
		seen = append(seen, last)
		n := len(seen)
		mu.Unlock()
		if n == 1 {
			entered <- struct{}{}
			<-release
		}
		return llmrouter.Response{Message: llmrouter.Message{Role: llmrouter.RoleAssistant, Content: "answer to: " + last}, Backend: "test"}, nil
	})
	r1 := received(t, tenant, "4915552001", "wamid.f1", "one")
	if ack := deliver(t, r1); !ack.Applied {
		t.Fatalf("deliver: %+v", ack)
	}
	<-entered
	for _, w := range []string{"two", "three"} {
		r := received(t, tenant, "4915552001", "wamid.f."+w, w)
		if ack := deliver(t, r); !ack.Applied {
			t.Fatalf("deliver during the turn: %+v", ack)
		}
	}
	close(release)
	eventually(t, "two replies", func() bool { return len(outbound(t, tenant, r1.Key)) == 2 })
	out := outbound(t, tenant, r1.Key)
	if out[0].Text != "answer to: one" || out[1].Text != "answer to: two\nthree" {
		t.Fatalf("replies = %q, %q; want the first turn to answer one and the second two and three together", out[0].Text, out[1].Text)
	}
	if out[0].DeliveryStatus != persistence.DeliveryPending || out[0].Sender != "ai" {
		t.Fatalf("reply = %+v, want pending, from the AI", out[0])
	}
	mu.Lock()
	calls := len(seen)
	mu.Unlock()
	if calls != 2 {
		t.Fatalf("model called %d times, want 2", calls)
	}
	// Each reply has its outbound event for the channel sender.
	sends := 0
	n, _ := env.store.Log().Partitions(context.Background(), persistence.TopicOutbound)
	for p := range n {
		recs, err := env.store.Log().Read(context.Background(), persistence.TopicOutbound, p, 0, 10000)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs {
			if r.Key == r1.Key && strings.Contains(string(r.Value), `"message.send"`) {
				sends++
			}
		}
	}
	if sends != 2 {
		t.Fatalf("outbound message.send records = %d, want 2", sends)
	}
}

// TestMemorySummaryUpdatedWhenTheConversationGrows checks that once a
// thread has SummaryEvery (3 here) messages the summary does not cover, the
// model is asked for a summary and it is stored for the customer.
func TestMemorySummaryUpdatedWhenTheConversationGrows(t *testing.T) {
	tenant := newTenant(t)
	var summaries atomic.Int32
	model.set(tenant, func(ctx context.Context, req llmrouter.Request) (llmrouter.Response, error) {
		if req.Messages[0].Content == summaryPrompt {
			summaries.Add(1)
			if !strings.Contains(req.Messages[1].Content, "parcel 42") {
				return llmrouter.Response{}, fmt.Errorf("transcript lacks the conversation: %q", req.Messages[1].Content)
			}
			return llmrouter.Response{Message: llmrouter.Message{Content: "Ada is waiting for parcel 42."}}, nil
		}
		return llmrouter.Response{Message: llmrouter.Message{Content: "noted"}}, nil
	})
	var key string
	for i, text := range []string{"hi", "where is parcel 42?", "thanks"} {
		r := received(t, tenant, "4915552002", fmt.Sprintf("wamid.sum.%d", i), text)
		key = r.Key
		if ack := deliver(t, r); !ack.Applied {
			t.Fatalf("deliver: %+v", ack)
		}
		eventually(t, "the reply", func() bool { return len(outbound(t, tenant, key)) == i+1 })
	}
	_, st := checkpointState(t, key)
	eventually(t, "the memory summary", func() bool {
		m, err := env.store.GetUserMemorySummary(context.Background(), tenant, st.CustomerID)
		return err == nil && m.Summary == "Ada is waiting for parcel 42." && m.MessagesCovered == 3
	})
	if n := summaries.Load(); n != 1 {
		t.Fatalf("summaries asked = %d, want 1", n)
	}
}

// TestConversationOpenedByAnAgent: an agent closes the thread's
// conversation and opens a new one from the dashboard (commands to the
// grain, assigned to the agent); the customer's next message lands in it,
// starts its context afresh, and the AI stays quiet because a human writes.
func TestConversationOpenedByAnAgent(t *testing.T) {
	ctx := context.Background()
	tenant := newTenant(t)
	r1 := received(t, tenant, "4915553001", "wamid.o1", "hello")
	deliver(t, r1)
	eventually(t, "the AI's reply", func() bool { return len(outbound(t, tenant, r1.Key)) == 1 })
	old, err := env.store.GetOpenConversation(ctx, tenant, r1.Key)
	if err != nil {
		t.Fatal(err)
	}
	agent := Agent{UserID: "agent-1", Name: "Grace", Role: persistence.RoleAgent}
	if _, err := env.rt.Command(ctx, Command{Kind: CommandClose, TenantID: tenant, ConversationID: old.ID, By: agent}); err != nil {
		t.Fatal(err)
	}
	res, err := env.rt.Command(ctx, Command{Kind: CommandOpen, TenantID: tenant, Thread: r1.Key, By: agent, AfterConversationID: old.ID})
	if err != nil {
		t.Fatal(err)
	}
	opened := res.Conversation
	if !res.Created || opened.ID == old.ID || opened.AssignedUserID != "agent-1" || opened.ThreadKey != r1.Key {
		t.Fatalf("open = %+v, want a new conversation in the thread written by agent-1", res)
	}
	// Opening again returns the same conversation.
	if again, err := env.rt.Command(ctx, Command{Kind: CommandOpen, TenantID: tenant, Thread: r1.Key, By: agent}); err != nil || again.Created || again.Conversation.ID != opened.ID {
		t.Fatalf("second open = %+v, %v; want the open one", again, err)
	}
	r2 := received(t, tenant, "4915553001", "wamid.o2", "about my refund")
	if ack := deliver(t, r2); !ack.Applied {
		t.Fatalf("deliver: %+v", ack)
	}
	msgs := messages(t, tenant, r1.Key)
	if len(msgs) != 1 || msgs[0].ConversationID != opened.ID || msgs[0].Text != "about my refund" {
		t.Fatalf("inbound of the open conversation = %+v, want the new message in %s", msgs, opened.ID)
	}
	_, st := checkpointState(t, r1.Key)
	if st.ConversationID != opened.ID || len(st.Recent) != 1 || st.Recent[0].Text != "about my refund" {
		t.Fatalf("state = conversation %s, recent %+v; want %s with only the new message", st.ConversationID, st.Recent, opened.ID)
	}
	// The turn for the new message is taken and skipped: nothing is sent.
	eventually(t, "the turn settled", func() bool {
		_, st := checkpointState(t, r1.Key)
		return st.AnsweredThrough == st.MessagesApplied
	})
	if out := outbound(t, tenant, r1.Key); len(out) != 0 {
		t.Fatalf("the AI wrote %d messages in a conversation a human opened", len(out))
	}
}
