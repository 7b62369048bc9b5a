package gateway_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
	"golang.org/x/crypto/bcrypt"

	"github.com/frontdesk-ai/frontdesk/gateway"
	"github.com/frontdesk-ai/frontdesk/persistence"
	"github.com/frontdesk-ai/frontdesk/persistence/sqlstore"
	"github.com/frontdesk-ai/frontdesk/persistence/sqlstore/sqlstoretest"
)

// knownTools are the tool names the agent fixture's API accepts.
var knownTools = []string{"create_ticket", "get_customer_profile", "handoff_to_human"}

// newAgentFixture is newFixture with known tool names.
func newAgentFixture(t *testing.T, dialect string) *fixture {
	t.Helper()
	f := &fixture{t: t, store: sqlstoretest.Open(t, dialect), clock: &clock{t: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)}, logs: &syncBuffer{}}
	log := zerolog.New(f.logs)
	f.api = gateway.NewAPI(gateway.APIConfig{BcryptCost: bcrypt.MinCost, SessionTTL: sessionTTL, Now: f.clock.Now, ToolNames: knownTools}, sqlstore.For[gateway.Tx](f.store), log)
	srv := gateway.New(gateway.Config{}, log, prometheus.NewRegistry(), nil)
	f.api.Register(srv)
	f.h = srv.Handler()
	return f
}

type agentOut struct {
	ID          string          `json:"id"`
	Name        string          `json:"name"`
	Description string          `json:"description"`
	Tools       []string        `json:"tools"`
	Routing     json.RawMessage `json:"routing"`
	LiveVersion int             `json:"live_version"`
	Version     int64           `json:"version"`
}

type promptOut struct {
	ID       string `json:"id"`
	Number   int    `json:"number"`
	Prompt   string `json:"prompt"`
	AuthorID string `json:"author_id"`
	Live     bool   `json:"live"`
}

type diffOut struct {
	From, To, Added, Removed int
	Diff                     string
}

// must sends a request, wants status, and decodes the body into v (when
// not nil).
func (f *fixture) must(method, path, token string, body any, want int, v any) {
	f.t.Helper()
	code, raw := f.do(method, path, token, body)
	if code != want {
		f.t.Fatalf("%s %s = %d %s, want %d", method, path, code, raw, want)
	}
	if v != nil {
		if err := json.Unmarshal(raw, v); err != nil {
			f.t.Fatalf("%s %s: decode %s: %v", method, path, raw, err)
		}
	}
}

// audits returns the audit events about agent id, oldest first.
func (f *fixture) audits(tenantID, id string) []persistence.AuditEvent {
	f.t.Helper()
	evs, _, err := f.store.ListAuditEventsForTarget(context.Background(), tenantID, gateway.TargetAgentProfile, id, persistence.Page{Limit: 500})
	if err != nil {
		f.t.Fatal(err)
	}
	return evs
}

func auditData(t *testing.T, ev persistence.AuditEvent) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(ev.Data, &m); err != nil {
		t.Fatalf("audit data %s: %v", ev.Data, err)
	}
	return m
}

func TestAgentProfiles(t *testing.T) {
	for _, d := range sqlstoretest.Dialects {
		t.Run(d, func(t *testing.T) {
			f := newAgentFixture(t, d)
			tn := f.tenant("acme")
			admin := f.user(tn, "admin@example.com", persistence.RoleAdmin)
			tok := f.login("admin@example.com")

			// The tool names the editor offers are the registry's.
			var tools struct{ Tools []string }
			f.get("/api/v1/tools", tok, &tools)
			if strings.Join(tools.Tools, ",") != strings.Join(knownTools, ",") {
				t.Fatalf("tools = %v, want %v", tools.Tools, knownTools)
			}

			var a agentOut
			f.must("POST", "/api/v1/agents", tok, map[string]any{"name": " Support ", "description": "first line",
				"tools": []string{"handoff_to_human", "create_ticket", "create_ticket"}, "routing": map[string]any{"match": map[string]any{"languages": []string{"de"}}}}, 201, &a)
			if a.Name != "Support" || strings.Join(a.Tools, ",") != "create_ticket,handoff_to_human" || a.Version != 1 || a.LiveVersion != 0 {
				t.Fatalf("created %+v", a)
			}
			stored, err := f.store.GetAgentProfile(context.Background(), tn, a.ID)
			if err != nil || stored.Name != "Support" || len(stored.Tools) != 2 {
				t.Fatalf("stored %+v, %v", stored, err)
			}
			evs := f.audits(tn, a.ID)
			if len(evs) != 1 || evs[0].Action != gateway.ActionAgentCreated || evs[0].ActorKind != persistence.ActorUser || evs[0].ActorID != admin.ID {
				t.Fatalf("audit after create: %+v", evs)
			}

			var got agentOut
			f.must("GET", "/api/v1/agents/"+a.ID, tok, nil, 200, &got)
			if got.ID != a.ID || string(got.Routing) != `{"match":{"languages":["de"]}}` {
				t.Fatalf("get = %+v", got)
			}
			var page struct{ Agents []agentOut }
			f.must("GET", "/api/v1/agents", tok, nil, 200, &page)
			if len(page.Agents) != 1 || page.Agents[0].ID != a.ID {
				t.Fatalf("list = %+v", page)
			}

			var upd agentOut
			f.must("PATCH", "/api/v1/agents/"+a.ID, tok, map[string]any{"version": a.Version, "name": "Returns", "tools": []string{}}, 200, &upd)
			if upd.Name != "Returns" || len(upd.Tools) != 0 || upd.Description != "first line" || upd.Version != 2 {
				t.Fatalf("updated %+v", upd)
			}
			evs = f.audits(tn, a.ID)
			if len(evs) != 2 || evs[1].Action != gateway.ActionAgentUpdated {
				t.Fatalf("audit after update: %+v", evs)
			}
			changes, _ := auditData(t, evs[1])["changes"].(map[string]any)
			name, _ := changes["name"].(map[string]any)
			if len(changes) != 2 || name["from"] != "Support" || name["to"] != "Returns" || changes["tools"] == nil {
				t.Fatalf("audit changes = %v", changes)
			}

			// A change made on the old version conflicts and changes nothing.
			code, body := f.do("PATCH", "/api/v1/agents/"+a.ID, tok, map[string]any{"version": a.Version, "name": "Stale"})
			if code != http.StatusConflict || errorCode(t, body) != gateway.CodeVersionConflict {
				t.Fatalf("stale PATCH = %d %s", code, body)
			}
			// A PATCH that changes nothing writes nothing.
			f.must("PATCH", "/api/v1/agents/"+a.ID, tok, map[string]any{"version": upd.Version, "name": "Returns"}, 200, &got)
			if got.Version != upd.Version || len(f.audits(tn, a.ID)) != 2 {
				t.Fatalf("no-op PATCH bumped to %d or audited", got.Version)
			}
			stored, _ = f.store.GetAgentProfile(context.Background(), tn, a.ID)
			if stored.Name != "Returns" || stored.Version != 2 {
				t.Fatalf("stored after conflict %+v", stored)
			}

			for _, tc := range []struct {
				name string
				body map[string]any
				// says is a part of the error message, when it matters.
				says string
			}{
				{"unknown tool", map[string]any{"version": 2, "tools": []string{"refund_everything"}}, ""},
				{"routing not an object", map[string]any{"version": 2, "routing": []int{1}}, "routing rules: must be a JSON object, not a list"},
				{"routing with an unknown field", map[string]any{"version": 2, "routing": map[string]any{"prefer": "fast"}}, "routing rules: prefer: unknown field"},
				{"routing with a bad language", map[string]any{"version": 2, "routing": map[string]any{"match": map[string]any{"languages": []string{"german"}}}},
					`routing rules: match.languages[0]: "german" is not a language tag`},
				{"empty name", map[string]any{"version": 2, "name": "  "}, ""},
				{"no version", map[string]any{"name": "X"}, ""},
			} {
				t.Run(tc.name, func(t *testing.T) {
					code, body := f.do("PATCH", "/api/v1/agents/"+a.ID, tok, tc.body)
					if code != http.StatusBadRequest || errorCode(t, body) != gateway.CodeInvalid {
						t.Fatalf("= %d %s, want 400 invalid", code, body)
					}
					if !strings.Contains(string(body), strings.ReplaceAll(tc.says, `"`, `\"`)) {
						t.Fatalf("= %s, want a message with %q", body, tc.says)
					}
				})
			}
			if n := len(f.audits(tn, a.ID)); n != 2 {
				t.Fatalf("refused changes audited: %d events", n)
			}
			code, body = f.do("POST", "/api/v1/agents", tok, map[string]any{"description": "no name"})
			if code != http.StatusBadRequest {
				t.Fatalf("create without name = %d %s", code, body)
			}
		})
	}
}

func TestAgentPrompts(t *testing.T) {
	for _, d := range sqlstoretest.Dialects {
		t.Run(d, func(t *testing.T) {
			f := newAgentFixture(t, d)
			tn := f.tenant("acme")
			admin := f.user(tn, "admin@example.com", persistence.RoleAdmin)
			sup := f.user(tn, "sup@example.com", persistence.RoleSupervisor)
			tok, supTok := f.login("admin@example.com"), f.login("sup@example.com")
			var a agentOut
			f.must("POST", "/api/v1/agents", tok, map[string]any{"name": "Support"}, 201, &a)
			base := "/api/v1/agents/" + a.ID

			var v1, v2 promptOut
			f.must("POST", base+"/prompts", tok, map[string]any{"prompt": "Be kind.\nBe brief.\n"}, 201, &v1)
			f.must("POST", base+"/prompts", supTok, map[string]any{"prompt": "Be kind.\nBe very brief.\n", "base_version": 1}, 201, &v2)
			if v1.Number != 1 || v1.AuthorID != admin.ID || v2.Number != 2 || v2.AuthorID != sup.ID || v1.Live || v2.Live {
				t.Fatalf("versions %+v %+v", v1, v2)
			}
			// A version made from a stale base conflicts.
			code, body := f.do("POST", base+"/prompts", tok, map[string]any{"prompt": "x", "base_version": 1})
			if code != http.StatusConflict || errorCode(t, body) != gateway.CodeVersionConflict {
				t.Fatalf("stale base = %d %s", code, body)
			}
			if code, body := f.do("POST", base+"/prompts", tok, map[string]any{"prompt": " \n"}); code != http.StatusBadRequest {
				t.Fatalf("empty prompt = %d %s", code, body)
			}

			var live agentOut
			f.must("POST", base+"/live", supTok, map[string]any{"version": 2}, 200, &live)
			if live.LiveVersion != 2 {
				t.Fatalf("live = %+v", live)
			}
			f.must("POST", base+"/live", tok, map[string]any{"version": 2}, 200, &live) // no change, no audit
			if code, body := f.do("POST", base+"/live", tok, map[string]any{"version": 7}); code != http.StatusBadRequest {
				t.Fatalf("live of a missing version = %d %s", code, body)
			}
			var list struct {
				LiveVersion int `json:"live_version"`
				Prompts     []promptOut
			}
			f.must("GET", base+"/prompts", tok, nil, 200, &list)
			if list.LiveVersion != 2 || len(list.Prompts) != 2 || list.Prompts[0].Live || !list.Prompts[1].Live ||
				list.Prompts[0].Prompt != "Be kind.\nBe brief.\n" {
				t.Fatalf("prompts = %+v", list)
			}

			var diff diffOut
			f.must("GET", base+"/prompts/diff?from=1&to=2", tok, nil, 200, &diff)
			want := "--- v1\n+++ v2\n@@ -1,2 +1,2 @@\n Be kind.\n-Be brief.\n+Be very brief.\n"
			if diff.Diff != want || diff.Added != 1 || diff.Removed != 1 || diff.From != 1 || diff.To != 2 {
				t.Fatalf("diff = %+v\nwant %q", diff, want)
			}
			if code, _ := f.do("GET", base+"/prompts/diff?from=1&to=9", tok, nil); code != http.StatusNotFound {
				t.Fatalf("diff to a missing version = %d", code)
			}
			if code, _ := f.do("GET", base+"/prompts/diff?from=x&to=2", tok, nil); code != http.StatusBadRequest {
				t.Fatalf("diff from=x = %d", code)
			}

			var actions []string
			for _, ev := range f.audits(tn, a.ID) {
				actions = append(actions, ev.Action)
			}
			wantActions := []string{gateway.ActionAgentCreated, gateway.ActionPromptVersionCreated, gateway.ActionPromptVersionCreated, gateway.ActionAgentLiveChanged}
			if strings.Join(actions, " ") != strings.Join(wantActions, " ") {
				t.Fatalf("audit actions = %v, want %v", actions, wantActions)
			}
			evs := f.audits(tn, a.ID)
			if d := auditData(t, evs[3]); d["from"] != float64(0) || d["to"] != float64(2) || evs[3].ActorID != sup.ID {
				t.Fatalf("live audit = %v by %s", d, evs[3].ActorID)
			}
			if d := auditData(t, evs[2]); d["number"] != float64(2) || d["prompt_version_id"] != v2.ID {
				t.Fatalf("prompt audit = %v", d)
			}
			// Versions are immutable: the first is as it was written.
			pv, err := f.store.GetPromptVersionByNumber(context.Background(), tn, a.ID, 1)
			if err != nil || pv.Prompt != "Be kind.\nBe brief.\n" || pv.Version != 1 {
				t.Fatalf("version 1 = %+v, %v", pv, err)
			}
		})
	}
}

// TestAgentPromptsConcurrent: authors creating versions at once get
// distinct numbers or a 409, never two versions with one number.
func TestAgentPromptsConcurrent(t *testing.T) {
	for _, d := range sqlstoretest.Dialects {
		t.Run(d, func(t *testing.T) {
			f := newAgentFixture(t, d)
			tn := f.tenant("acme")
			f.user(tn, "admin@example.com", persistence.RoleAdmin)
			tok := f.login("admin@example.com")
			var a agentOut
			f.must("POST", "/api/v1/agents", tok, map[string]any{"name": "Support"}, 201, &a)
			const n = 8
			codes := make([]int, n)
			var wg sync.WaitGroup
			for i := range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					codes[i], _ = f.do("POST", "/api/v1/agents/"+a.ID+"/prompts", tok, map[string]any{"prompt": "p" + strconv.Itoa(i)})
				}()
			}
			wg.Wait()
			created := 0
			for _, c := range codes {
				switch c {
				case http.StatusCreated:
					created++
				case http.StatusConflict:
				default:
					t.Fatalf("codes = %v", codes)
				}
			}
			vs, err := f.store.ListPromptVersions(context.Background(), tn, a.ID)
			if err != nil || len(vs) != created || created == 0 {
				t.Fatalf("%d versions stored, %d created (%v)", len(vs), created, err)
			}
			for i, v := range vs {
				if v.Number != i+1 {
					t.Fatalf("version numbers %v", vs)
				}
			}
			prompts := 0
			for _, ev := range f.audits(tn, a.ID) {
				if ev.Action == gateway.ActionPromptVersionCreated {
					prompts++
				}
			}
			if prompts != created {
				t.Fatalf("%d prompt audits for %d versions", prompts, created)
			}
		})
	}
}

func TestAgentRolesAndTenants(t *testing.T) {
	f := newAgentFixture(t, "sqlite")
	tn, other := f.tenant("acme"), f.tenant("globex")
	f.user(tn, "admin@example.com", persistence.RoleAdmin)
	f.user(other, "admin@globex.example", persistence.RoleAdmin)
	toks := map[persistence.Role]string{persistence.RoleAdmin: f.login("admin@example.com")}
	for _, r := range []persistence.Role{persistence.RoleSupervisor, persistence.RoleAgent, persistence.RoleAnalyst} {
		f.user(tn, string(r)+"@example.com", r)
		toks[r] = f.login(string(r) + "@example.com")
	}
	otherTok := f.login("admin@globex.example")
	var a agentOut
	f.must("POST", "/api/v1/agents", toks[persistence.RoleAdmin], map[string]any{"name": "Support"}, 201, &a)
	f.must("POST", "/api/v1/agents/"+a.ID+"/prompts", toks[persistence.RoleAdmin], map[string]any{"prompt": "one"}, 201, nil)
	f.must("POST", "/api/v1/agents/"+a.ID+"/prompts", toks[persistence.RoleAdmin], map[string]any{"prompt": "two"}, 201, nil)
	base := "/api/v1/agents/" + a.ID

	type req struct {
		method, path string
		body         any
	}
	reads := []req{{"GET", "/api/v1/agents", nil}, {"GET", base, nil}, {"GET", base + "/prompts", nil}, {"GET", base + "/prompts/diff?from=1&to=2", nil}}
	writes := []req{
		{"POST", "/api/v1/agents", map[string]any{"name": "X"}},
		{"PATCH", base, map[string]any{"version": 1, "description": "d"}},
		{"POST", base + "/prompts", map[string]any{"prompt": "three"}},
		{"POST", base + "/live", map[string]any{"version": 1}},
	}
	for _, tc := range []struct {
		role        persistence.Role
		read, write int
	}{
		{persistence.RoleAgent, 200, 403},
		{persistence.RoleAnalyst, 200, 403},
	} {
		for _, r := range reads {
			t.Run(fmt.Sprint(tc.role, " ", r.method, " ", r.path), func(t *testing.T) {
				if code, body := f.do(r.method, r.path, toks[tc.role], r.body); code != tc.read {
					t.Fatalf("= %d %s, want %d", code, body, tc.read)
				}
			})
		}
		for _, r := range writes {
			t.Run(fmt.Sprint(tc.role, " ", r.method, " ", r.path), func(t *testing.T) {
				if code, body := f.do(r.method, r.path, toks[tc.role], r.body); code != tc.write {
					t.Fatalf("= %d %s, want %d", code, body, tc.write)
				}
			})
		}
	}
	// Another tenant's admin sees nothing of the agent: 404 everywhere.
	for _, r := range append(reads[1:], writes[1:]...) {
		t.Run("other tenant "+r.method+" "+r.path, func(t *testing.T) {
			code, body := f.do(r.method, r.path, otherTok, r.body)
			if code != http.StatusNotFound || errorCode(t, body) != gateway.CodeNotFound {
				t.Fatalf("= %d %s, want 404", code, body)
			}
		})
	}
	var page struct{ Agents []agentOut }
	f.must("GET", "/api/v1/agents", otherTok, nil, 200, &page)
	if len(page.Agents) != 0 {
		t.Fatalf("other tenant lists %+v", page.Agents)
	}
	// The supervisor writes; nothing the refused requests tried happened.
	f.must("POST", base+"/live", toks[persistence.RoleSupervisor], map[string]any{"version": 1}, 200, nil)
	stored, _ := f.store.GetAgentProfile(context.Background(), tn, a.ID)
	vs, _ := f.store.ListPromptVersions(context.Background(), tn, a.ID)
	if stored.Description != "" || stored.LiveVersion != 1 || len(vs) != 2 {
		t.Fatalf("after refused writes: %+v, %d versions", stored, len(vs))
	}
}

// TestPromptDiff checks the unified diff of the diff route against
// expected text, and on generated versions that it is minimal and turns
// the first into the second.
func TestPromptDiff(t *testing.T) {
	f := newAgentFixture(t, "sqlite")
	tn := f.tenant("acme")
	f.user(tn, "admin@example.com", persistence.RoleAdmin)
	tok := f.login("admin@example.com")
	var a agentOut
	f.must("POST", "/api/v1/agents", tok, map[string]any{"name": "Support"}, 201, &a)
	n := 0
	diff := func(t *testing.T, from, to string) diffOut {
		t.Helper()
		f.must("POST", "/api/v1/agents/"+a.ID+"/prompts", tok, map[string]any{"prompt": from}, 201, nil)
		f.must("POST", "/api/v1/agents/"+a.ID+"/prompts", tok, map[string]any{"prompt": to}, 201, nil)
		n += 2
		var d diffOut
		f.must("GET", fmt.Sprintf("/api/v1/agents/%s/prompts/diff?from=%d&to=%d", a.ID, n-1, n), tok, nil, 200, &d)
		return d
	}
	lines := func(ls ...string) string { return strings.Join(ls, "\n") + "\n" }
	for _, tc := range []struct {
		name, from, to string
		want           string
	}{
		{"equal", "same\n", "same\n", ""},
		{"append", lines("a", "b"), lines("a", "b", "c"), "@@ -1,2 +1,3 @@\n a\n b\n+c\n"},
		{"prepend", lines("b", "c"), lines("a", "b", "c"), "@@ -1,2 +1,3 @@\n+a\n b\n c\n"},
		{"replace all", lines("x"), lines("y"), "@@ -1 +1 @@\n-x\n+y\n"},
		{"delete middle", lines("1", "2", "3", "4", "5", "6", "7", "8", "9"), lines("1", "2", "3", "4", "6", "7", "8", "9"),
			"@@ -2,7 +2,6 @@\n 2\n 3\n 4\n-5\n 6\n 7\n 8\n"},
		{"two hunks", lines("1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12"), lines("one", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "twelve"),
			"@@ -1,4 +1,4 @@\n-1\n+one\n 2\n 3\n 4\n@@ -9,4 +9,4 @@\n 9\n 10\n 11\n-12\n+twelve\n"},
		{"close changes share a hunk", lines("1", "2", "3", "4", "5", "6", "7", "8"), lines("1", "two", "3", "4", "5", "6", "seven", "8"),
			"@@ -1,8 +1,8 @@\n 1\n-2\n+two\n 3\n 4\n 5\n 6\n-7\n+seven\n 8\n"},
		{"no newline at end", "a\nb", "a\nb\n", "@@ -1,2 +1,2 @@\n a\n-b\n\\ No newline at end of file\n+b\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := diff(t, tc.from, tc.to)
			want := tc.want
			if want != "" {
				want = fmt.Sprintf("--- v%d\n+++ v%d\n", n-1, n) + want
			}
			if d.Diff != want {
				t.Fatalf("diff:\n%s\nwant:\n%s", d.Diff, want)
			}
			if got := applyDiff(t, tc.from, d.Diff); got != tc.to {
				t.Fatalf("applying the diff gives %q, want %q", got, tc.to)
			}
		})
	}
	t.Run("generated", func(t *testing.T) {
		rng := rand.New(rand.NewPCG(1, 2))
		gen := func() []string {
			ls := make([]string, 1+rng.IntN(12))
			for i := range ls {
				ls[i] = string(rune('a' + rng.IntN(4)))
			}
			return ls
		}
		for i := range 40 {
			x, y := gen(), gen()
			from, to := lines(x...), lines(y...)
			d := diff(t, from, to)
			if got := applyDiff(t, from, d.Diff); got != to {
				t.Fatalf("case %d: %q → %q: applying\n%s\ngives %q", i, from, to, d.Diff, got)
			}
			if edits, min := d.Added+d.Removed, len(x)+len(y)-2*lcs(x, y); edits != min {
				t.Fatalf("case %d: %q → %q: %d edits, the minimum is %d\n%s", i, from, to, edits, min, d.Diff)
			}
		}
	})
}

// lcs is the length of the longest common subsequence of a and b.
func lcs(a, b []string) int {
	dp := make([][]int, len(a)+1)
	for i := range dp {
		dp[i] = make([]int, len(b)+1)
	}
	for i := len(a) - 1; i >= 0; i-- {
		for j := len(b) - 1; j >= 0; j-- {
			if a[i] == b[j] {
				dp[i][j] = dp[i+1][j+1] + 1
			} else {
				dp[i][j] = max(dp[i+1][j], dp[i][j+1])
			}
		}
	}
	return dp[0][0]
}

// applyDiff applies a unified diff to from, checking every context and
// removed line against it.
func applyDiff(t *testing.T, from, diff string) string {
	t.Helper()
	if diff == "" {
		return from
	}
	src := strings.SplitAfter(from, "\n")
	if src[len(src)-1] == "" {
		src = src[:len(src)-1]
	}
	var out []string
	pos := 0
	dl := strings.SplitAfter(diff, "\n")
	for i := 2; i < len(dl) && dl[i] != ""; i++ {
		l := dl[i]
		if strings.HasPrefix(l, "@@") {
			var aStart, aCount int
			spec := strings.Fields(l)[1][1:]
			startS, countS, ok := strings.Cut(spec, ",")
			aStart, _ = strconv.Atoi(startS)
			aCount = 1
			if ok {
				aCount, _ = strconv.Atoi(countS)
			}
			if aCount > 0 {
				aStart--
			}
			out = append(out, src[pos:aStart]...)
			pos = aStart
			continue
		}
		text := l[1:]
		if i+1 < len(dl) && strings.HasPrefix(dl[i+1], `\ No newline`) {
			text = strings.TrimSuffix(text, "\n")
			i++
		}
		switch l[0] {
		case ' ', '-':
			if pos >= len(src) || src[pos] != text {
				t.Fatalf("diff line %q does not match source line %d %q", l, pos+1, src[min(pos, len(src)-1)])
			}
			if l[0] == ' ' {
				out = append(out, text)
			}
			pos++
		case '+':
			out = append(out, text)
		default:
			t.Fatalf("bad diff line %q", l)
		}
	}
	out = append(out, src[pos:]...)
	return strings.Join(out, "")
}

// TestOpenAPIAgentResponses checks the agent routes' answers against the
// schemas openapi.json gives them.
func TestOpenAPIAgentResponses(t *testing.T) {
	f := newAgentFixture(t, "sqlite")
	doc := loadOpenAPI(t, f)
	tn := f.tenant("acme")
	f.user(tn, "admin@example.com", persistence.RoleAdmin)
	f.user(tn, "agent@example.com", persistence.RoleAgent)
	tok, agentTok := f.login("admin@example.com"), f.login("agent@example.com")
	var a agentOut
	f.must("POST", "/api/v1/agents", tok, map[string]any{"name": "Support", "tools": []string{"create_ticket"}}, 201, &a)
	base, pat := "/api/v1/agents/"+a.ID, "/api/v1/agents/{id}"
	for _, ex := range []struct {
		method, path, pattern, token string
		body                         any
		want                         int
	}{
		{"GET", "/api/v1/agents?limit=1", "/api/v1/agents", tok, nil, 200},
		{"POST", "/api/v1/agents", "/api/v1/agents", tok, map[string]any{"name": "Second", "routing": nil}, 201},
		{"POST", "/api/v1/agents", "/api/v1/agents", agentTok, map[string]any{"name": "No"}, 403},
		{"GET", base, pat, agentTok, nil, 200},
		{"GET", "/api/v1/agents/nope", pat, tok, nil, 404},
		{"PATCH", base, pat, tok, map[string]any{"version": 1, "description": "d"}, 200},
		{"PATCH", base, pat, tok, map[string]any{"version": 1, "description": "e"}, 409},
		{"PATCH", base, pat, tok, map[string]any{"version": 2, "tools": []string{"nope"}}, 400},
		{"POST", base + "/prompts", pat + "/prompts", tok, map[string]any{"prompt": "one"}, 201},
		{"POST", base + "/prompts", pat + "/prompts", tok, map[string]any{"prompt": "two\n", "base_version": 1}, 201},
		{"POST", base + "/prompts", pat + "/prompts", tok, map[string]any{"prompt": "x", "base_version": 1}, 409},
		{"GET", base + "/prompts", pat + "/prompts", agentTok, nil, 200},
		{"GET", base + "/prompts/diff?from=1&to=2", pat + "/prompts/diff", agentTok, nil, 200},
		{"GET", base + "/prompts/diff?from=1", pat + "/prompts/diff", agentTok, nil, 400},
		{"POST", base + "/live", pat + "/live", tok, map[string]any{"version": 2}, 200},
		{"POST", base + "/live", pat + "/live", tok, map[string]any{"version": 5}, 400},
		{"POST", base + "/live", pat + "/live", "", map[string]any{"version": 2}, 401},
	} {
		t.Run(fmt.Sprint(ex.method, " ", ex.path, " ", ex.want), func(t *testing.T) {
			code, body := f.do(ex.method, ex.path, ex.token, ex.body)
			if code != ex.want {
				t.Fatalf("status = %d %s, want %d", code, body, ex.want)
			}
			doc.CheckResponse(t, ex.method, ex.pattern, code, body)
		})
	}
}

// TestConversationAgentProfile: the conversation JSON of the inbox names
// the agent profile chosen for the conversation, and "" before one is.
func TestConversationAgentProfile(t *testing.T) {
	f := newAgentFixture(t, "sqlite")
	tn := f.tenant("acme")
	f.user(tn, "admin@example.com", persistence.RoleAdmin)
	tok := f.login("admin@example.com")
	var a agentOut
	f.must("POST", "/api/v1/agents", tok, map[string]any{"name": "German desk",
		"routing": map[string]any{"match": map[string]any{"languages": []string{"de"}}}}, 201, &a)
	cust := f.customer(tn, "Ada")
	routed := persistence.Conversation{Base: persistence.Base{TenantID: tn}, CustomerID: cust.ID,
		Channel: "whatsapp", ChannelAccount: "pn-1", ThreadKey: "thread-routed", AgentProfileID: a.ID}
	if err := f.store.CreateConversation(context.Background(), &routed); err != nil {
		t.Fatal(err)
	}
	unrouted := f.conversation(tn, cust.ID, time.Now())

	type conv struct {
		ID             string  `json:"id"`
		AgentProfileID *string `json:"agent_profile_id"`
	}
	for id, want := range map[string]string{routed.ID: a.ID, unrouted.ID: ""} {
		var got conv
		f.must("GET", "/api/v1/conversations/"+id, tok, nil, 200, &got)
		if got.AgentProfileID == nil || *got.AgentProfileID != want {
			t.Errorf("GET conversation %s: agent_profile_id %s, want %q", id, orNone(got.AgentProfileID), want)
		}
	}
	var page struct{ Conversations []conv }
	f.must("GET", "/api/v1/conversations", tok, nil, 200, &page)
	for _, c := range page.Conversations {
		if want := map[string]string{routed.ID: a.ID}[c.ID]; c.AgentProfileID == nil || *c.AgentProfileID != want {
			t.Errorf("list: conversation %s agent_profile_id %s, want %q", c.ID, orNone(c.AgentProfileID), want)
		}
	}
	if len(page.Conversations) != 2 {
		t.Fatalf("list has %d conversations, want 2", len(page.Conversations))
	}
}

// orNone quotes *s, or says it is missing.
func orNone(s *string) string {
	if s == nil {
		return "missing"
	}
	return strconv.Quote(*s)
}
