package sqlstore_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/frontdesk-ai/frontdesk/persistence"
	"github.com/frontdesk-ai/frontdesk/persistence/sqlstore"
	"github.com/frontdesk-ai/frontdesk/persistence/sqlstore/sqlstoretest"
)

func TestLLMCalls(t *testing.T) {
	for _, d := range sqlstoretest.Dialects {
		t.Run(d, func(t *testing.T) {
			ctx := context.Background()
			s := sqlstoretest.Open(t, d)
			t0 := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
			call := func(tenant, agent string, version int, backend, model, outcome string, in, out int, ms int64, at time.Time) *persistence.LLMCall {
				return &persistence.LLMCall{Base: persistence.Base{TenantID: tenant, CreatedAt: at}, AgentProfileID: agent,
					AgentVersion: version, ConversationID: "conv-1", Backend: backend, Model: model, Route: "default",
					PromptTokens: in, CompletionTokens: out, LatencyMS: ms, Outcome: outcome}
			}
			calls := []*persistence.LLMCall{
				call("t1", "a1", 1, "gpu", "qwen", persistence.LLMOutcomeOK, 100, 10, 200, t0),
				call("t1", "a1", 1, "gpu", "qwen", persistence.LLMOutcomeOK, 50, 5, 400, t0.Add(time.Minute)),
				call("t1", "a1", 1, "", "", persistence.LLMOutcomeError, 0, 0, 30, t0.Add(2*time.Minute)),
				call("t1", "a1", 2, "gpu", "qwen", persistence.LLMOutcomeOK, 7, 3, 100, t0.Add(3*time.Minute)),
				call("t1", "a1", 2, "offline", "offline", persistence.LLMOutcomeOffline, 0, 0, 1, t0.Add(4*time.Minute)),
				call("t1", "a2", 1, "gpu", "qwen", persistence.LLMOutcomeOK, 1, 1, 10, t0.Add(-time.Hour)), // before since
				call("t2", "a1", 1, "gpu", "qwen", persistence.LLMOutcomeOK, 1000, 1000, 10, t0),           // another tenant
			}
			calls[2].Error = "llm router: http 400: bad request"
			for _, c := range calls {
				if err := s.CreateLLMCall(ctx, c); err != nil {
					t.Fatalf("create: %v", err)
				}
			}
			got, err := s.SummarizeLLMCalls(ctx, "t1", t0)
			if err != nil {
				t.Fatal(err)
			}
			want := []persistence.LLMUsage{
				{AgentProfileID: "a1", AgentVersion: 1, Calls: 1, Errors: 1, AvgLatencyMS: 30, MaxLatencyMS: 30},
				{AgentProfileID: "a1", AgentVersion: 1, Backend: "gpu", Model: "qwen", Calls: 2, PromptTokens: 150, CompletionTokens: 15, AvgLatencyMS: 300, MaxLatencyMS: 400},
				{AgentProfileID: "a1", AgentVersion: 2, Backend: "gpu", Model: "qwen", Calls: 1, PromptTokens: 7, CompletionTokens: 3, AvgLatencyMS: 100, MaxLatencyMS: 100},
				{AgentProfileID: "a1", AgentVersion: 2, Backend: "offline", Model: "offline", Calls: 1, Offline: 1, AvgLatencyMS: 1, MaxLatencyMS: 1},
			}
			if len(got) != len(want) {
				t.Fatalf("summary = %+v, want %+v", got, want)
			}
			for i := range want {
				if got[i] != want[i] {
					t.Errorf("summary[%d] = %+v, want %+v", i, got[i], want[i])
				}
			}
			if got, err := s.SummarizeLLMCalls(ctx, "t3", t0); err != nil || len(got) != 0 {
				t.Fatalf("summary of a tenant without calls = %v, %v", got, err)
			}

			rows, _, err := s.ListLLMCalls(ctx, "t1", persistence.Page{})
			if err != nil || len(rows) != 6 {
				t.Fatalf("list = %d rows, %v", len(rows), err)
			}
			if r := rows[3]; r.Error != calls[2].Error || r.Outcome != persistence.LLMOutcomeError || r.Route != "default" || r.ConversationID != "conv-1" {
				t.Fatalf("stored error call = %+v", r)
			}

			for _, tc := range []struct {
				name string
				c    *persistence.LLMCall
			}{
				{"unknown outcome", call("t1", "a1", 1, "gpu", "qwen", "maybe", 1, 1, 1, t0)},
				{"negative tokens", call("t1", "a1", 1, "gpu", "qwen", persistence.LLMOutcomeOK, -1, 1, 1, t0)},
				{"no tenant", call("", "a1", 1, "gpu", "qwen", persistence.LLMOutcomeOK, 1, 1, 1, t0)},
			} {
				t.Run(tc.name, func(t *testing.T) {
					if err := s.CreateLLMCall(ctx, tc.c); !errors.Is(err, persistence.ErrInvalid) {
						t.Fatalf("err = %v, want ErrInvalid", err)
					}
				})
			}
			// Records are append-only.
			if _, err := s.DB().ExecContext(ctx, "UPDATE llm_calls SET outcome = 'ok'"); err == nil {
				t.Fatal("an update of llm_calls succeeded")
			}
			// Calls are written inside a transaction too.
			err = s.InTx(ctx, func(tx *sqlstore.Tx) error {
				return tx.CreateLLMCall(ctx, call("t2", "a9", 1, "gpu", "qwen", persistence.LLMOutcomeOK, 1, 1, 1, t0))
			})
			if err != nil {
				t.Fatal(err)
			}
			if u, _ := s.SummarizeLLMCalls(ctx, "t2", t0); len(u) != 2 {
				t.Fatalf("t2 summary = %+v", u)
			}
		})
	}
}

// TestCreateLLMCalls: a batch is written whole, across several multi-row
// statements, with ids, times and versions filled; a bad or clashing
// record anywhere fails the batch and writes none of it; a batch tried
// again keeps its ids and is refused as a duplicate.
func TestCreateLLMCalls(t *testing.T) {
	for _, d := range sqlstoretest.Dialects {
		t.Run(d, func(t *testing.T) {
			ctx := context.Background()
			s := sqlstoretest.Open(t, d)
			t0 := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
			batch := func(tenant string, n int) []persistence.LLMCall {
				cs := make([]persistence.LLMCall, n)
				for i := range cs {
					cs[i] = persistence.LLMCall{Base: persistence.Base{TenantID: tenant, CreatedAt: t0.Add(time.Duration(i) * time.Second)},
						AgentProfileID: "a1", AgentVersion: 2, ConversationID: fmt.Sprintf("conv-%d", i), Backend: "gpu", Model: "qwen",
						Route: "default", PromptTokens: i, CompletionTokens: 1, LatencyMS: int64(i), Outcome: persistence.LLMOutcomeOK}
				}
				return cs
			}
			count := func(tenant string) int {
				query := "SELECT COUNT(*) FROM llm_calls WHERE tenant_id = ?"
				if d == "postgres" {
					query = "SELECT COUNT(*) FROM llm_calls WHERE tenant_id = $1"
				}
				var n int
				if err := s.DB().QueryRowContext(ctx, query, tenant).Scan(&n); err != nil {
					t.Fatal(err)
				}
				return n
			}

			if err := s.CreateLLMCalls(ctx, nil); err != nil {
				t.Fatalf("empty batch: %v", err)
			}
			// 301 rows: statements of 256, 32, 8, 4 and 1 rows.
			cs := batch("t1", 301)
			cs[7].Error, cs[7].Outcome = "llm router: timeout", persistence.LLMOutcomeError
			if err := s.CreateLLMCalls(ctx, cs); err != nil {
				t.Fatal(err)
			}
			got, _, err := s.ListLLMCalls(ctx, "t1", persistence.Page{Limit: 500})
			if err != nil || len(got) != 301 {
				t.Fatalf("list = %d rows, %v", len(got), err)
			}
			for i, c := range got {
				w := cs[i]
				if c.ID == "" || c.ID != w.ID || c.Version != 1 || w.Version != 1 || !c.CreatedAt.Equal(w.CreatedAt) || !c.UpdatedAt.Equal(c.CreatedAt) ||
					c.ConversationID != w.ConversationID || c.PromptTokens != i || c.LatencyMS != int64(i) || c.Outcome != w.Outcome || c.Error != w.Error ||
					c.AgentVersion != 2 || c.Route != "default" {
					t.Fatalf("row %d = %+v, want %+v", i, c, w)
				}
			}
			if u, _ := s.SummarizeLLMCalls(ctx, "t1", t0); len(u) != 1 || u[0].Calls != 301 || u[0].Errors != 1 || u[0].PromptTokens != 301*300/2 || u[0].MaxLatencyMS != 300 {
				t.Fatalf("summary %+v", u)
			}

			for _, tc := range []struct {
				name string
				cs   func() []persistence.LLMCall
				want error
			}{
				{"a bad record in the last statement", func() []persistence.LLMCall {
					cs := batch("t2", 300)
					cs[299].Outcome = "maybe"
					return cs
				}, persistence.ErrInvalid},
				{"no tenant", func() []persistence.LLMCall {
					cs := batch("t2", 3)
					cs[1].TenantID = ""
					return cs
				}, persistence.ErrInvalid},
				{"an id clash in the third statement", func() []persistence.LLMCall {
					cs := batch("t2", 300)
					cs[290].ID = got[0].ID
					return cs
				}, persistence.ErrDuplicate},
				{"the same batch again", func() []persistence.LLMCall { return cs }, persistence.ErrDuplicate},
			} {
				t.Run(tc.name, func(t *testing.T) {
					if err := s.CreateLLMCalls(ctx, tc.cs()); !errors.Is(err, tc.want) {
						t.Fatalf("err = %v, want %v", err, tc.want)
					}
					if n, m := count("t2"), count("t1"); n != 0 || m != 301 {
						t.Fatalf("rows after a failed batch: t2 %d, t1 %d", n, m)
					}
				})
			}

			// Inside a transaction the batch is part of it.
			err = s.InTx(ctx, func(tx *sqlstore.Tx) error {
				if err := tx.CreateLLMCalls(ctx, batch("t3", 260)); err != nil {
					return err
				}
				return errors.New("roll back")
			})
			if err == nil || count("t3") != 0 {
				t.Fatalf("rolled back batch: %v, %d rows", err, count("t3"))
			}
		})
	}
}
