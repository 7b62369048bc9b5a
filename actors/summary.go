package actors

import (
	"context"
	"fmt"
	"strings"

	"github.com/frontdesk-ai/frontdesk/llmrouter"
	"github.com/frontdesk-ai/frontdesk/persistence"
)

const summaryPrompt = `You keep a support team's memory of a customer. Write what a support agent should know next time: who the customer is, what they asked for, what was done, and what is still open. At most 6 short sentences, facts from the conversation only, no greetings.`

// summarize writes a new memory summary of a customer from the previous one
// and their latest conversations (newest last). It returns "" when there is
// no model to write it (the old summary is kept rather than invented).
func (rt *Runtime) summarize(ctx context.Context, tenantID, customerID, previous string) (string, error) {
	rt.metrics.storeReads.WithLabelValues(KindCustomer, "summary").Inc()
	convs, err := rt.store.ListConversationsByCustomer(ctx, tenantID, customerID, summaryConversations)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	if previous != "" {
		fmt.Fprintf(&b, "What we knew before:\n%s\n\n", previous)
	}
	b.WriteString("Latest conversations:\n")
	for i := len(convs) - 1; i >= 0; i-- {
		msgs, err := rt.store.RecentMessages(ctx, tenantID, convs[i].ID, 2*rt.cfg.SummaryEvery)
		if err != nil {
			return "", err
		}
		for _, m := range msgs {
			who := "Customer"
			if m.Direction == persistence.DirectionOutbound {
				who = "Support"
			}
			if text := messageText(m.Kind, m.Text); text != "" {
				fmt.Fprintf(&b, "%s: %s\n", who, text)
			}
		}
	}
	resp, err := rt.model.Complete(ctx, llmrouter.Request{
		TenantID: tenantID, ToolChoice: llmrouter.ToolChoiceNone,
		Messages: []llmrouter.Message{{Role: llmrouter.RoleSystem, Content: summaryPrompt}, {Role: llmrouter.RoleUser, Content: b.String()}},
	})
	if err != nil {
		return "", fmt.Errorf("summarize: %w", err)
	}
	if resp.Offline {
		return "", nil
	}
	return strings.TrimSpace(resp.Message.Content), nil
}
