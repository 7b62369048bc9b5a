package llmrouter_test

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/frontdesk-ai/frontdesk/llmrouter"
)

var escalationTools = []llmrouter.Tool{
	{Name: "get_order"},
	{Name: llmrouter.ToolCreateTicket},
	{Name: llmrouter.ToolHandoffToHuman},
}

func user(text string) llmrouter.Message {
	return llmrouter.Message{Role: llmrouter.RoleUser, Content: text}
}

func assistant(text string) llmrouter.Message {
	return llmrouter.Message{Role: llmrouter.RoleAssistant, Content: text}
}

func toolResult(id, name, content string) llmrouter.Message {
	return llmrouter.Message{Role: llmrouter.RoleTool, ToolCallID: id, Name: name, Content: content}
}

func args(t *testing.T, c llmrouter.ToolCall) map[string]string {
	t.Helper()
	var m map[string]string
	if err := json.Unmarshal(c.Arguments, &m); err != nil {
		t.Fatalf("arguments of %s are not a JSON object of strings: %s: %v", c.Name, c.Arguments, err)
	}
	return m
}

func TestOfflineEscalatesACustomerMessage(t *testing.T) {
	req := llmrouter.Request{
		ConversationID: "c1",
		Messages: []llmrouter.Message{
			{Role: llmrouter.RoleSystem, Content: "You are Acme's agent."},
			user("Hello"),
			assistant("Hi! How can I help?"),
			user("My parcel <#1001> never arrived"),
			user("  and I was charged twice  "),
		},
		Tools: escalationTools,
	}
	resp, err := llmrouter.NewOffline().Complete(context.Background(), req)
	if err != nil {
		t.Fatalf("Complete: %v", err)
	}
	if !resp.Offline || resp.Backend != "offline" || resp.FinishReason != llmrouter.FinishToolCalls {
		t.Errorf("Offline %v Backend %q FinishReason %q, want true, offline, tool_calls", resp.Offline, resp.Backend, resp.FinishReason)
	}
	if resp.Message.Role != llmrouter.RoleAssistant || resp.Message.Content != "" {
		t.Errorf("message %+v: want an assistant message with no text", resp.Message)
	}
	calls := resp.Message.ToolCalls
	if len(calls) != 2 || calls[0].Name != llmrouter.ToolCreateTicket || calls[1].Name != llmrouter.ToolHandoffToHuman {
		t.Fatalf("tool calls %+v, want create_ticket and handoff_to_human", calls)
	}
	wantTicket := map[string]string{
		"subject":     "Customer message needs a human: and I was charged twice",
		"description": "My parcel <#1001> never arrived\nand I was charged twice",
		"priority":    "normal",
	}
	if got := args(t, calls[0]); !reflect.DeepEqual(got, wantTicket) {
		t.Errorf("create_ticket arguments %v, want %v", got, wantTicket)
	}
	if !strings.Contains(string(calls[0].Arguments), "<#1001>") {
		t.Errorf("arguments %s escape HTML; want the text as written", calls[0].Arguments)
	}
	if got := args(t, calls[1]); !reflect.DeepEqual(got, map[string]string{"reason": "AI model unavailable"}) {
		t.Errorf("handoff_to_human arguments %v", got)
	}
	if calls[0].ID == calls[1].ID || calls[0].ID == "" {
		t.Errorf("tool call ids %q and %q must be distinct and set", calls[0].ID, calls[1].ID)
	}

	again, err := llmrouter.NewOffline().Complete(context.Background(), req)
	if err != nil || !reflect.DeepEqual(again, resp) {
		t.Errorf("the same request answered differently: %+v, %v", again, err)
	}
	other := req
	other.ConversationID = "c2"
	diff, _ := llmrouter.NewOffline().Complete(context.Background(), other)
	if diff.Message.ToolCalls[0].ID == calls[0].ID {
		t.Error("two conversations got the same tool call id; idempotency keys derived from it would collide")
	}
}

func TestOfflineSubjectIsTheFirst60Runes(t *testing.T) {
	long := strings.Repeat("ñ", 59) + "\n\tü" + strings.Repeat("x", 40)
	resp, err := llmrouter.NewOffline().Complete(context.Background(), llmrouter.Request{
		Messages: []llmrouter.Message{user(long)}, Tools: escalationTools,
	})
	if err != nil {
		t.Fatal(err)
	}
	want := "Customer message needs a human: " + strings.Repeat("ñ", 59) + " "
	want = strings.TrimSpace(want)
	if got := args(t, resp.Message.ToolCalls[0])["subject"]; got != want {
		t.Errorf("subject %q, want %q", got, want)
	}
}

func TestOfflineOnlyCallsOfferedTools(t *testing.T) {
	tests := []struct {
		name   string
		tools  []llmrouter.Tool
		choice string
		want   []string // tool names called; nil means a text answer
	}{
		{"both", escalationTools, "", []string{"create_ticket", "handoff_to_human"}},
		{"ticket only", []llmrouter.Tool{{Name: "create_ticket"}}, "", []string{"create_ticket"}},
		{"handoff only", []llmrouter.Tool{{Name: "handoff_to_human"}, {Name: "get_order"}}, "", []string{"handoff_to_human"}},
		{"named choice", escalationTools, "handoff_to_human", []string{"handoff_to_human"}},
		{"choice none", escalationTools, "none", nil},
		{"choice names another tool", escalationTools, "get_order", nil},
		{"no tools", nil, "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := llmrouter.NewOffline().Complete(context.Background(), llmrouter.Request{
				Messages: []llmrouter.Message{user("help")}, Tools: tt.tools, ToolChoice: tt.choice,
			})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, c := range resp.Message.ToolCalls {
				got = append(got, c.Name)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("called %v, want %v", got, tt.want)
			}
			if tt.want == nil && (resp.Message.Content != "Thanks for your message. We've passed it to our team and someone will get back to you here shortly." || resp.FinishReason != "stop") {
				t.Errorf("answer %q (%s), want the acknowledgement", resp.Message.Content, resp.FinishReason)
			}
		})
	}
}

func TestOfflineAcknowledgesItsToolResults(t *testing.T) {
	first, err := llmrouter.NewOffline().Complete(context.Background(), llmrouter.Request{
		ConversationID: "c1", Messages: []llmrouter.Message{user("hola, necesito ayuda")}, Tools: escalationTools,
	})
	if err != nil {
		t.Fatal(err)
	}
	ticket, handoff := first.Message.ToolCalls[0], first.Message.ToolCalls[1]
	tests := []struct {
		name     string
		language string
		results  []llmrouter.Message
		want     string
	}{
		{"english with ticket", "", []llmrouter.Message{
			toolResult(ticket.ID, ticket.Name, `{"ticket_id":"1a2b3c4d","status":"open"}`),
			toolResult(handoff.ID, handoff.Name, `{"ok":true}`),
		}, "Thanks for your message. We've passed it to our team (ticket 1a2b3c4d) and someone will get back to you here shortly."},
		{"results in any order, numeric id", "en-GB", []llmrouter.Message{
			toolResult(handoff.ID, handoff.Name, `{"ok":true}`),
			toolResult(ticket.ID, ticket.Name, `{"ticket_id":4711}`),
		}, "Thanks for your message. We've passed it to our team (ticket 4711) and someone will get back to you here shortly."},
		{"ticket failed", "", []llmrouter.Message{
			toolResult(ticket.ID, ticket.Name, `{"error":"store unavailable"}`),
			toolResult(handoff.ID, handoff.Name, `{"ok":true}`),
		}, "Thanks for your message. We've passed it to our team and someone will get back to you here shortly."},
		{"result not JSON", "", []llmrouter.Message{
			toolResult(ticket.ID, ticket.Name, `ticket created`),
			toolResult(handoff.ID, handoff.Name, `done`),
		}, "Thanks for your message. We've passed it to our team and someone will get back to you here shortly."},
		{"unprintable ticket id is not shown", "", []llmrouter.Message{
			toolResult(ticket.ID, ticket.Name, `{"ticket_id":"a\nb"}`),
			toolResult(handoff.ID, handoff.Name, `{}`),
		}, "Thanks for your message. We've passed it to our team and someone will get back to you here shortly."},
		{"spanish", "es-MX", []llmrouter.Message{toolResult(ticket.ID, ticket.Name, `{"ticket_id":"T-9"}`), toolResult(handoff.ID, handoff.Name, `{}`)},
			"Gracias por tu mensaje. Lo hemos pasado a nuestro equipo (ticket T-9) y alguien te responderá aquí en breve."},
		{"german", "de", []llmrouter.Message{toolResult(ticket.ID, ticket.Name, `{"ticket_id":"T-9"}`), toolResult(handoff.ID, handoff.Name, `{}`)},
			"Danke für Ihre Nachricht. Wir haben sie an unser Team weitergegeben (Ticket T-9) und jemand meldet sich hier in Kürze bei Ihnen."},
		{"french", "FR", []llmrouter.Message{toolResult(ticket.ID, ticket.Name, `{}`), toolResult(handoff.ID, handoff.Name, `{}`)},
			"Merci pour votre message. Nous l'avons transmis à notre équipe et quelqu'un vous répondra ici très bientôt."},
		{"portuguese", "pt_BR", []llmrouter.Message{toolResult(ticket.ID, ticket.Name, `{"ticket_id":"T-9"}`), toolResult(handoff.ID, handoff.Name, `{}`)},
			"Obrigado pela sua mensagem. Nós a encaminhamos para a nossa equipe (ticket T-9) e alguém vai responder aqui em breve."},
		{"italian", "it", []llmrouter.Message{toolResult(ticket.ID, ticket.Name, `{"ticket_id":"T-9"}`), toolResult(handoff.ID, handoff.Name, `{}`)},
			"Grazie per il tuo messaggio. L'abbiamo inoltrato al nostro team (ticket T-9) e qualcuno ti risponderà qui a breve."},
		{"unknown language is english", "ja", []llmrouter.Message{toolResult(ticket.ID, ticket.Name, `{}`), toolResult(handoff.ID, handoff.Name, `{}`)},
			"Thanks for your message. We've passed it to our team and someone will get back to you here shortly."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msgs := append([]llmrouter.Message{user("hola, necesito ayuda"), first.Message}, tt.results...)
			resp, err := llmrouter.NewOffline().Complete(context.Background(), llmrouter.Request{
				ConversationID: "c1", Messages: msgs, Tools: escalationTools, Language: tt.language,
			})
			if err != nil {
				t.Fatal(err)
			}
			if resp.Message.Content != tt.want || len(resp.Message.ToolCalls) != 0 || resp.FinishReason != "stop" || !resp.Offline {
				t.Errorf("answer %+v (%s, offline %v)\nwant text %q", resp.Message, resp.FinishReason, resp.Offline, tt.want)
			}
		})
	}
}

// TestOfflineAfterAModelStoppedMidTurn: the model called a lookup tool and
// then became unavailable; the customer's message still needs a human.
func TestOfflineAfterAModelStoppedMidTurn(t *testing.T) {
	msgs := []llmrouter.Message{
		user("where is #1001?"),
		{Role: llmrouter.RoleAssistant, ToolCalls: []llmrouter.ToolCall{{ID: "call_9", Name: "get_order", Arguments: json.RawMessage(`{"order_number":"1001"}`)}}},
		toolResult("call_9", "get_order", `{"status":"shipped"}`),
	}
	resp, err := llmrouter.NewOffline().Complete(context.Background(), llmrouter.Request{Messages: msgs, Tools: escalationTools})
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Message.ToolCalls) != 2 || resp.Message.ToolCalls[0].Name != llmrouter.ToolCreateTicket {
		t.Fatalf("answer %+v, want the escalation tool calls", resp.Message)
	}
	if got := args(t, resp.Message.ToolCalls[0])["description"]; got != "where is #1001?" {
		t.Errorf("description %q", got)
	}
}

func TestOfflineRefusesWhatItCannotAnswer(t *testing.T) {
	tests := []struct {
		name string
		msgs []llmrouter.Message
	}{
		{"no messages", nil},
		{"ends with the assistant", []llmrouter.Message{user("hi"), assistant("hello")}},
		{"ends with the system prompt", []llmrouter.Message{{Role: llmrouter.RoleSystem, Content: "x"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := llmrouter.NewOffline().Complete(context.Background(), llmrouter.Request{Messages: tt.msgs, Tools: escalationTools})
			if !errors.Is(err, llmrouter.ErrInvalidRequest) {
				t.Errorf("err = %v, want ErrInvalidRequest", err)
			}
		})
	}
}
