package actors

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/frontdesk-ai/frontdesk/llmrouter"
	"github.com/frontdesk-ai/frontdesk/persistence"
)

const summaryPrompt = `You keep a support team's memory of a customer. Write what a support agent should know next time: who the customer is, what they asked for, what was done, and what is still open. At most 6 short sentences, facts from the conversation only, no greetings.`

// maybeSummarize updates the customer's memory summary in the background
// when the thread has SummaryEvery or more inbound messages the summary does
// not cover yet. At most one summary runs per customer at a time.
func (rt *Runtime) maybeSummarize(st threadState) {
	if st.CustomerID == "" || st.ConversationID == "" || st.MessagesApplied < int64(rt.cfg.SummaryEvery) {
		return
	}
	if _, busy := rt.summarizing.LoadOrStore(st.CustomerID, true); busy {
		return
	}
	rt.inflight.Add(1)
	go func() {
		defer rt.inflight.Done()
		defer rt.summarizing.Delete(st.CustomerID)
		ctx, cancel := context.WithTimeout(context.Background(), rt.cfg.TurnTimeout)
		defer cancel()
		if err := rt.summarize(ctx, st); err != nil {
			rt.metrics.errors.WithLabelValues("summary").Inc()
			rt.log.Warn().Err(err).Str("customer_id", st.CustomerID).Msg("memory summary not updated")
		}
	}()
}

func (rt *Runtime) summarize(ctx context.Context, st threadState) error {
	sum, err := rt.store.GetUserMemorySummary(ctx, st.TenantID, st.CustomerID)
	exists := err == nil
	if err != nil && !errors.Is(err, persistence.ErrNotFound) {
		return err
	}
	if st.MessagesApplied-int64(sum.MessagesCovered) < int64(rt.cfg.SummaryEvery) {
		return nil
	}
	msgs, err := rt.store.RecentMessages(ctx, st.TenantID, st.ConversationID, 2*rt.cfg.SummaryEvery)
	if err != nil {
		return err
	}
	var b strings.Builder
	if sum.Summary != "" {
		fmt.Fprintf(&b, "What we knew before:\n%s\n\n", sum.Summary)
	}
	b.WriteString("Latest conversation:\n")
	for _, m := range msgs {
		who := "Customer"
		if m.Direction == persistence.DirectionOutbound {
			who = "Support"
		}
		if text := messageText(m); text != "" {
			fmt.Fprintf(&b, "%s: %s\n", who, text)
		}
	}
	resp, err := rt.model.Complete(ctx, llmrouter.Request{
		TenantID: st.TenantID, ConversationID: st.ConversationID, ToolChoice: llmrouter.ToolChoiceNone,
		Messages: []llmrouter.Message{{Role: llmrouter.RoleSystem, Content: summaryPrompt}, {Role: llmrouter.RoleUser, Content: b.String()}},
	})
	if err != nil {
		return fmt.Errorf("summarize: %w", err)
	}
	text := strings.TrimSpace(resp.Message.Content)
	if resp.Offline || text == "" {
		return nil // no model: keep the old summary rather than invent one
	}
	sum.Summary, sum.MessagesCovered = text, int(st.MessagesApplied)
	if exists {
		return rt.store.UpdateUserMemorySummary(ctx, &sum)
	}
	sum.TenantID, sum.CustomerID = st.TenantID, st.CustomerID
	return rt.store.CreateUserMemorySummary(ctx, &sum)
}
