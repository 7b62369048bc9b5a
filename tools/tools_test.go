package tools_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/frontdesk-ai/frontdesk/persistence"
	"github.com/frontdesk-ai/frontdesk/persistence/sqlstore"
	"github.com/frontdesk-ai/frontdesk/persistence/sqlstore/sqlstoretest"
	"github.com/frontdesk-ai/frontdesk/tools"
)

type fixture struct {
	store *sqlstore.Store
	reg   *tools.Registry
	scope tools.Scope
}

func setup(t *testing.T, dialect string) fixture {
	t.Helper()
	ctx := context.Background()
	s := sqlstoretest.Open(t, dialect)
	tn := &persistence.Tenant{Name: "Shop", Slug: "shop"}
	if err := s.CreateTenant(ctx, tn); err != nil {
		t.Fatal(err)
	}
	c := &persistence.Customer{Base: persistence.Base{TenantID: tn.ID}, Name: "Ada", Phone: "+4915550001", Language: "de"}
	if err := s.CreateCustomer(ctx, c); err != nil {
		t.Fatal(err)
	}
	conv := &persistence.Conversation{Base: persistence.Base{TenantID: tn.ID}, CustomerID: c.ID, Channel: "whatsapp", ThreadKey: tn.ID + "/whatsapp/4915550001"}
	if err := s.CreateConversation(ctx, conv); err != nil {
		t.Fatal(err)
	}
	reg, err := tools.New(sqlstore.For[tools.Tx](s))
	if err != nil {
		t.Fatal(err)
	}
	return fixture{store: s, reg: reg, scope: tools.Scope{TenantID: tn.ID, CustomerID: c.ID, ConversationID: conv.ID, TurnID: "msg-1", ActorKind: persistence.ActorAI, ActorID: "agent-1"}}
}

func (f fixture) audit(t *testing.T) []persistence.AuditEvent {
	t.Helper()
	evs, _, err := f.store.ListAuditEventsForTarget(context.Background(), f.scope.TenantID, "conversation", f.scope.ConversationID, persistence.Page{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	return evs
}

func (f fixture) tickets(t *testing.T) []persistence.Ticket {
	t.Helper()
	ts, err := f.store.ListOpenTickets(context.Background(), f.scope.TenantID, f.scope.CustomerID, 100)
	if err != nil {
		t.Fatal(err)
	}
	return ts
}

var all = []string{tools.GetCustomerProfile, tools.CreateTicket, tools.HandoffToHuman}

func TestTools(t *testing.T) {
	for _, d := range sqlstoretest.Dialects {
		t.Run(d, func(t *testing.T) {
			ctx := context.Background()
			t.Run("profile of the conversation's own customer", func(t *testing.T) {
				f := setup(t, d)
				res := f.reg.Execute(ctx, f.scope, all, tools.Call{ID: "c1", Name: tools.GetCustomerProfile, Arguments: json.RawMessage(`{}`)}, 0)
				if !res.Executed || res.Error != "" {
					t.Fatalf("result = %+v", res)
				}
				var p map[string]any
				if err := json.Unmarshal(res.Output, &p); err != nil || p["name"] != "Ada" || p["phone"] != "+4915550001" {
					t.Fatalf("profile = %s (%v)", res.Output, err)
				}
				if ev := f.audit(t); len(ev) != 1 || ev[0].Action != "tool.get_customer_profile" || ev[0].ActorKind != persistence.ActorAI {
					t.Fatalf("audit = %+v", ev)
				}
			})
			t.Run("create_ticket is idempotent per turn and call", func(t *testing.T) {
				f := setup(t, d)
				call := tools.Call{ID: "c1", Name: tools.CreateTicket, Arguments: json.RawMessage(`{"subject":"Parcel lost","priority":"high"}`)}
				first := f.reg.Execute(ctx, f.scope, all, call, 0)
				replay := f.reg.Execute(ctx, f.scope, all, call, 0)
				if !first.Executed || !replay.Executed {
					t.Fatalf("first %+v replay %+v", first, replay)
				}
				ts := f.tickets(t)
				if len(ts) != 1 || ts[0].Subject != "Parcel lost" || ts[0].Priority != persistence.PriorityHigh || ts[0].ConversationID != f.scope.ConversationID {
					t.Fatalf("tickets = %+v, want one", ts)
				}
				if !strings.Contains(string(replay.Output), `"created":false`) || !strings.Contains(string(replay.Output), ts[0].ID) {
					t.Fatalf("replay output = %s", replay.Output)
				}
				// A second ticket in the same turn, or the next turn, is a new effect.
				f.reg.Execute(ctx, f.scope, all, call, 1)
				next := f.scope
				next.TurnID = "msg-2"
				f.reg.Execute(ctx, next, all, call, 0)
				if n := len(f.tickets(t)); n != 3 {
					t.Fatalf("tickets = %d, want 3", n)
				}
				if n := len(f.audit(t)); n != 4 {
					t.Fatalf("audit events = %d, want one per call (4)", n)
				}
			})
			t.Run("invalid calls are not executed and explain why", func(t *testing.T) {
				for _, tc := range []struct {
					name, tool, args, want string
					allowed                []string
				}{
					{"missing required", tools.CreateTicket, `{"description":"x"}`, "subject", all},
					{"wrong type", tools.CreateTicket, `{"subject":42}`, "subject", all},
					{"bad enum", tools.CreateTicket, `{"subject":"x","priority":"asap"}`, "priority", all},
					{"extra property", tools.CreateTicket, `{"subject":"x","customer_id":"someone-else"}`, "customer_id", all},
					{"not json", tools.CreateTicket, `{"subject": "x"`, "not a valid JSON object", all},
					{"not allowed", tools.CreateTicket, `{"subject":"x"}`, "not available", []string{tools.GetCustomerProfile}},
					{"unknown tool", "refund_everything", `{}`, "not available", all},
				} {
					t.Run(tc.name, func(t *testing.T) {
						f := setup(t, d)
						res := f.reg.Execute(ctx, f.scope, tc.allowed, tools.Call{ID: "c1", Name: tc.tool, Arguments: json.RawMessage(tc.args)}, 0)
						if res.Executed || !strings.Contains(res.Error, tc.want) {
							t.Fatalf("result = %+v, want not executed with error containing %q", res, tc.want)
						}
						if !strings.Contains(res.Content(), "error") {
							t.Fatalf("content for the model = %s", res.Content())
						}
						if n := len(f.tickets(t)); n != 0 {
							t.Fatalf("tickets = %d, want none", n)
						}
						ev := f.audit(t)
						var data struct {
							Executed *bool  `json:"executed"`
							Error    string `json:"error"`
						}
						if len(ev) != 1 || json.Unmarshal(ev[0].Data, &data) != nil || data.Executed == nil || *data.Executed || data.Error != res.Error {
							t.Fatalf("audit = %+v, want the refused call recorded", ev)
						}
					})
				}
			})
			t.Run("handoff is reported for the conversation grain to apply", func(t *testing.T) {
				f := setup(t, d)
				before, err := f.store.GetConversation(ctx, f.scope.TenantID, f.scope.ConversationID)
				if err != nil {
					t.Fatal(err)
				}
				res := f.reg.Execute(ctx, f.scope, all, tools.Call{ID: "c1", Name: tools.HandoffToHuman, Arguments: json.RawMessage(`{"reason":"asked for a person"}`)}, 0)
				if !res.Executed || !strings.Contains(string(res.Output), `"status":"waiting_human"`) || !strings.Contains(string(res.Output), "asked for a person") {
					t.Fatalf("result = %+v", res)
				}
				// The grain is the conversation's only writer: the tool
				// leaves the row to it.
				after, err := f.store.GetConversation(ctx, f.scope.TenantID, f.scope.ConversationID)
				if err != nil || after.Version != before.Version {
					t.Fatalf("conversation = %+v, %v; want it untouched by the tool", after, err)
				}
			})
		})
	}
}

func FuzzToolArguments(f *testing.F) {
	for _, s := range []string{`{}`, `{"subject":"x"}`, `"{\"subject\":\"x\"}"`, `null`, `[1]`, `{"subject":`, ``} {
		f.Add(s)
	}
	dir := f.TempDir()
	s, err := sqlstore.Open(context.Background(), sqlstore.Config{DataDir: dir})
	if err != nil {
		f.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Migrate(context.Background()); err != nil {
		f.Fatal(err)
	}
	reg, err := tools.New(sqlstore.For[tools.Tx](s))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, args string) {
		// Refused before any effect: the tool is not allowed, but the
		// arguments are still parsed and validated without panicking.
		res := reg.Execute(context.Background(), tools.Scope{TenantID: "t", ConversationID: "c", TurnID: "x"}, nil, tools.Call{Name: tools.CreateTicket, Arguments: json.RawMessage(args)}, 0)
		if res.Executed || res.Error == "" {
			t.Fatalf("executed a refused call: %+v", res)
		}
	})
}
