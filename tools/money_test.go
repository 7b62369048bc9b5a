package tools_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/frontdesk-ai/frontdesk/persistence"
	"github.com/frontdesk-ai/frontdesk/persistence/sqlstore/sqlstoretest"
	"github.com/frontdesk-ai/frontdesk/tools"
)

// proposer records proposals as a customer grain would hold them.
type proposer struct{ got []tools.Proposal }

func (p *proposer) Propose(_ context.Context, pr tools.Proposal) (tools.Ask, error) {
	p.got = append(p.got, pr)
	return tools.Ask{ConfirmationID: "c-" + pr.IdempotencyKey, Action: pr.Action, AmountMinor: pr.AmountMinor, Currency: pr.Currency,
		ExpiresAt: time.Now().Add(15 * time.Minute)}, nil
}

func TestRefundOrderProposesOnly(t *testing.T) {
	for _, d := range sqlstoretest.Dialects {
		t.Run(d, func(t *testing.T) {
			ctx := context.Background()
			f := setup(t, d)
			p := &proposer{}
			f.reg.SetProposer(p, tools.RefundOrder)
			now := time.Now().UTC()
			f.order(t, f.scope.CustomerID, "1", "1001", "paid", now.Add(-time.Hour))
			f.order(t, f.scope.CustomerID, "2", "1002", "pending", now.Add(-time.Hour))
			f.order(t, f.scope.CustomerID, "3", "1003", "paid", now.Add(-90*24*time.Hour))
			f.order(t, f.otherCustomer(t), "4", "1004", "paid", now)
			agent := &persistence.AgentProfile{Base: persistence.Base{TenantID: f.scope.TenantID}, Name: "Money",
				Policy: json.RawMessage(`{"currencies":["USD"],"auto_limit_minor":{"USD":2000},"max_order_age_days":30}`)}
			if err := f.store.CreateAgentProfile(ctx, agent); err != nil {
				t.Fatal(err)
			}
			f.scope.ActorID = agent.ID
			call := func(args string) (map[string]any, tools.Result) {
				t.Helper()
				res := f.reg.Execute(ctx, f.scope, []string{tools.RefundOrder}, tools.Call{ID: "r", Name: tools.RefundOrder, Arguments: json.RawMessage(args)}, 0)
				var out map[string]any
				_ = json.Unmarshal(res.Output, &out)
				return out, res
			}
			for args, why := range map[string]string{
				`{"order_number":"#1004"}`:                     "belongs to this customer",
				`{"order_number":"#1002"}`:                     "pending",
				`{"order_number":"#1003"}`:                     "older than the 30 days",
				`{"order_number":"#1001","amount_minor":9999}`: "At most 49.98 USD",
			} {
				out, res := call(args)
				if out["proposed"] != false || !strings.Contains(out["note"].(string), why) || res.Ask != nil {
					t.Errorf("%s: %v (ask %v), want refused: %s", args, out, res.Ask, why)
				}
			}
			if len(p.got) != 0 {
				t.Fatalf("refused calls proposed: %+v", p.got)
			}
			out, res := call(`{"order_number":"#1001","amount_minor":1500}`)
			if out["proposed"] != true || res.Ask == nil || res.Ask.Subject != "#1001" || len(p.got) != 1 || p.got[0].ApprovalReason != "" {
				t.Fatalf("within the limit: %v %+v %+v", out, res.Ask, p.got)
			}
			out, _ = call(`{"order_number":"#1001"}`)
			if out["needs_approval"] != "above the 20.00 USD limit" || p.got[1].AmountMinor != 4998 || p.got[1].ApprovalReason == "" {
				t.Fatalf("above the limit: %v %+v", out, p.got)
			}
		})
	}
}

func TestParsePolicy(t *testing.T) {
	for raw, ok := range map[string]bool{
		``: true, `{}`: true, `{"currencies":["usd"],"auto_limit_minor":{"eur":100}}`: true,
		`{"currency":["USD"]}`: false, `{"currencies":["XXQ"]}`: false, `{"auto_limit_minor":{"USD":-1}}`: false,
		`{"max_order_age_days":-3}`: false, `[1]`: false,
	} {
		p, err := tools.ParsePolicy(json.RawMessage(raw))
		if (err == nil) != ok {
			t.Errorf("ParsePolicy(%s) = %+v, %v; want ok %v", raw, p, err, ok)
		}
	}
}
