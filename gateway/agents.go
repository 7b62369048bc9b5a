package gateway

// The agent profiles of the REST API, for the dashboard: an agent's name,
// description, tool allow-list and routing rules; its immutable prompt
// versions (a new version is N+1, never an edit), a line diff between two,
// and which one is live. Admins and supervisors write, every role reads.
// Every change writes an audit event (actor = the user) in the same
// transaction as the change.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/frontdesk-ai/frontdesk/persistence"
	"github.com/frontdesk-ai/frontdesk/routing"
	"github.com/frontdesk-ai/frontdesk/tools"
)

// AgentStore is what the agent routes need from the store.
type AgentStore interface {
	InTx(ctx context.Context, fn func(tx Tx) error) error
	GetAgentProfile(ctx context.Context, tenantID, id string) (persistence.AgentProfile, error)
	ListAgentProfiles(ctx context.Context, tenantID string, p persistence.Page) ([]persistence.AgentProfile, string, error)
	ListPromptVersions(ctx context.Context, tenantID, agentProfileID string) ([]persistence.PromptVersion, error)
	GetPromptVersionByNumber(ctx context.Context, tenantID, agentProfileID string, number int) (persistence.PromptVersion, error)
}

// Audit actions and target kind of agent profile changes.
const (
	ActionAgentCreated         = "agent.created"
	ActionAgentUpdated         = "agent.updated"
	ActionPromptVersionCreated = "agent.prompt_version.created"
	ActionAgentLiveChanged     = "agent.live_changed"
	TargetAgentProfile         = "agent_profile"
)

// Limits of agent profile fields.
const (
	maxAgentName        = 200
	maxAgentDescription = 2000
	maxAgentTools       = 100
)

type agentJSON struct {
	ID          string          `json:"id"`
	Name        string          `json:"name"`
	Description string          `json:"description"`
	Tools       []string        `json:"tools"`
	Routing     json.RawMessage `json:"routing"`
	// Policy is the money policy of the agent's financial tools.
	Policy      json.RawMessage `json:"policy"`
	LiveVersion int             `json:"live_version"`
	// Version is the record's version, sent back on PATCH to detect
	// concurrent changes.
	Version   int64     `json:"version"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

func toAgentJSON(p persistence.AgentProfile) agentJSON {
	tools := p.Tools
	if tools == nil {
		tools = []string{}
	}
	routing := p.Routing
	if len(bytes.TrimSpace(routing)) == 0 {
		routing = json.RawMessage("{}")
	}
	return agentJSON{ID: p.ID, Name: p.Name, Description: p.Description, Tools: tools, Routing: routing, Policy: rawOrEmpty(p.Policy),
		LiveVersion: p.LiveVersion, Version: p.Version, CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt}
}

type agentsPage struct {
	Agents     []agentJSON `json:"agents"`
	NextCursor string      `json:"next_cursor,omitempty"`
}

// listAgents handles GET /api/v1/agents.
func (a *API) listAgents(w http.ResponseWriter, r *http.Request, p Principal) error {
	page, err := pageOf(r)
	if err != nil {
		return err
	}
	ps, next, err := a.store.ListAgentProfiles(r.Context(), p.TenantID, page)
	if err != nil {
		return listError("list agents", err)
	}
	out := agentsPage{Agents: make([]agentJSON, len(ps)), NextCursor: next}
	for i, ap := range ps {
		out.Agents[i] = toAgentJSON(ap)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// listTools handles GET /api/v1/tools: the names an agent's allow-list may
// hold (the tool registry's), sorted.
func (a *API) listTools(w http.ResponseWriter, _ *http.Request, _ Principal) error {
	names := slices.Sorted(slices.Values(a.cfg.ToolNames))
	if names == nil {
		names = []string{}
	}
	writeJSON(w, http.StatusOK, map[string][]string{"tools": names})
	return nil
}

// getAgent handles GET /api/v1/agents/{id}.
func (a *API) getAgent(w http.ResponseWriter, r *http.Request, p Principal) error {
	ap, err := a.store.GetAgentProfile(r.Context(), p.TenantID, r.PathValue("id"))
	if err != nil {
		return fmt.Errorf("get agent: %w", err)
	}
	writeJSON(w, http.StatusOK, toAgentJSON(ap))
	return nil
}

// agentFields are the writable fields; nil means "not given".
type agentFields struct {
	Name        *string          `json:"name"`
	Description *string          `json:"description"`
	Tools       *[]string        `json:"tools"`
	Routing     *json.RawMessage `json:"routing"`
	Policy      *json.RawMessage `json:"policy"`
}

// apply checks the given fields and writes them into ap, returning what
// changed as field → {"from","to"}.
func (f agentFields) apply(ap *persistence.AgentProfile, known []string) (map[string]any, error) {
	changes := map[string]any{}
	change := func(field string, from, to any) { changes[field] = map[string]any{"from": from, "to": to} }
	if f.Name != nil {
		name := strings.TrimSpace(*f.Name)
		if name == "" || utf8.RuneCountInString(name) > maxAgentName {
			return nil, errInvalid(fmt.Sprintf("name is required, at most %d characters", maxAgentName))
		}
		if name != ap.Name {
			change("name", ap.Name, name)
			ap.Name = name
		}
	}
	if f.Description != nil {
		d := strings.TrimSpace(*f.Description)
		if utf8.RuneCountInString(d) > maxAgentDescription {
			return nil, errInvalid(fmt.Sprintf("description has at most %d characters", maxAgentDescription))
		}
		if d != ap.Description {
			change("description", ap.Description, d)
			ap.Description = d
		}
	}
	if f.Tools != nil {
		tools, err := checkTools(*f.Tools, known)
		if err != nil {
			return nil, err
		}
		if !slices.Equal(tools, ap.Tools) {
			change("tools", nonNil(ap.Tools), nonNil(tools))
			ap.Tools = tools
		}
	}
	if f.Routing != nil {
		routing, err := checkRouting(*f.Routing)
		if err != nil {
			return nil, err
		}
		if !jsonEqual(routing, ap.Routing) {
			change("routing", rawOrEmpty(ap.Routing), routing)
			ap.Routing = routing
		}
	}
	if f.Policy != nil {
		if _, err := tools.ParsePolicy(*f.Policy); err != nil {
			return nil, errInvalid(err.Error())
		}
		policy := json.RawMessage(bytes.TrimSpace(*f.Policy))
		if !jsonEqual(policy, ap.Policy) {
			change("policy", rawOrEmpty(ap.Policy), policy)
			ap.Policy = policy
		}
	}
	return changes, nil
}

// checkTools returns tools de-duplicated and sorted, or a 400 naming a tool
// that is not one of known.
func checkTools(tools, known []string) ([]string, error) {
	if len(tools) > maxAgentTools {
		return nil, errInvalid(fmt.Sprintf("at most %d tools", maxAgentTools))
	}
	out := make([]string, 0, len(tools))
	for _, t := range tools {
		if !slices.Contains(known, t) {
			return nil, errInvalid(fmt.Sprintf("unknown tool %q; known tools: %s", t, strings.Join(known, ", ")))
		}
		out = append(out, t)
	}
	slices.Sort(out)
	out = slices.Compact(out)
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}

// checkRouting returns routing rules that routing.Parse accepts (null:
// {}), or a 400 that names the wrong field and why.
func checkRouting(raw json.RawMessage) (json.RawMessage, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return json.RawMessage("{}"), nil
	}
	if _, err := routing.Parse(raw); err != nil {
		return nil, errInvalid("routing rules: " + err.Error())
	}
	return raw, nil
}

func jsonEqual(a, b json.RawMessage) bool {
	var x, y any
	if json.Unmarshal(rawOrEmpty(a), &x) != nil || json.Unmarshal(rawOrEmpty(b), &y) != nil {
		return false
	}
	xa, _ := json.Marshal(x)
	ya, _ := json.Marshal(y)
	return bytes.Equal(xa, ya)
}

func rawOrEmpty(r json.RawMessage) json.RawMessage {
	if len(bytes.TrimSpace(r)) == 0 {
		return json.RawMessage("{}")
	}
	return r
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// createAgent handles POST /api/v1/agents.
func (a *API) createAgent(w http.ResponseWriter, r *http.Request, p Principal) error {
	var req agentFields
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	if req.Name == nil {
		return errInvalid(fmt.Sprintf("name is required, at most %d characters", maxAgentName))
	}
	ap := persistence.AgentProfile{Base: persistence.Base{TenantID: p.TenantID}, Routing: json.RawMessage("{}")}
	if _, err := req.apply(&ap, a.cfg.ToolNames); err != nil {
		return err
	}
	err := a.store.InTx(r.Context(), func(tx Tx) error {
		if err := tx.CreateAgentProfile(r.Context(), &ap); err != nil {
			return err
		}
		return audit(r.Context(), tx, p, ActionAgentCreated, TargetAgentProfile, ap.ID, map[string]any{
			"name": ap.Name, "description": ap.Description, "tools": nonNil(ap.Tools), "routing": ap.Routing})
	})
	if err != nil {
		return fmt.Errorf("create agent: %w", err)
	}
	a.log.Info().Str("tenant_id", p.TenantID).Str("agent_id", ap.ID).Str("by_user_id", p.UserID).Msg("agent created")
	writeJSON(w, http.StatusCreated, toAgentJSON(ap))
	return nil
}

type updateAgentRequest struct {
	agentFields
	// Version is the record version the change was made on.
	Version *int64 `json:"version"`
}

// updateAgent handles PATCH /api/v1/agents/{id}: the given fields change,
// if version is still the stored one (409 otherwise).
func (a *API) updateAgent(w http.ResponseWriter, r *http.Request, p Principal) error {
	var req updateAgentRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	if req.Version == nil {
		return errInvalid("version is required: the agent's version the change was made on")
	}
	var ap persistence.AgentProfile
	err := a.store.InTx(r.Context(), func(tx Tx) error {
		var err error
		if ap, err = tx.GetAgentProfile(r.Context(), p.TenantID, r.PathValue("id")); err != nil {
			return err
		}
		if ap.Version != *req.Version {
			return fmt.Errorf("agent %s at version %d, change made on %d: %w", ap.ID, ap.Version, *req.Version, persistence.ErrVersionConflict)
		}
		changes, err := req.apply(&ap, a.cfg.ToolNames)
		if err != nil || len(changes) == 0 {
			return err
		}
		if err := tx.UpdateAgentProfile(r.Context(), &ap); err != nil {
			return err
		}
		return audit(r.Context(), tx, p, ActionAgentUpdated, TargetAgentProfile, ap.ID, map[string]any{"changes": changes})
	})
	if err != nil {
		return fmt.Errorf("update agent: %w", err)
	}
	writeJSON(w, http.StatusOK, toAgentJSON(ap))
	return nil
}

type promptJSON struct {
	ID        string    `json:"id"`
	Number    int       `json:"number"`
	Prompt    string    `json:"prompt"`
	AuthorID  string    `json:"author_id"`
	Live      bool      `json:"live"`
	CreatedAt time.Time `json:"created_at"`
}

func toPromptJSON(v persistence.PromptVersion, live int) promptJSON {
	return promptJSON{ID: v.ID, Number: v.Number, Prompt: v.Prompt, AuthorID: v.AuthorID, Live: v.Number == live, CreatedAt: v.CreatedAt}
}

type promptsList struct {
	LiveVersion int          `json:"live_version"`
	Prompts     []promptJSON `json:"prompts"`
}

// listPrompts handles GET /api/v1/agents/{id}/prompts: every version,
// oldest first.
func (a *API) listPrompts(w http.ResponseWriter, r *http.Request, p Principal) error {
	ap, err := a.store.GetAgentProfile(r.Context(), p.TenantID, r.PathValue("id"))
	if err != nil {
		return fmt.Errorf("list prompts: %w", err)
	}
	vs, err := a.store.ListPromptVersions(r.Context(), p.TenantID, ap.ID)
	if err != nil {
		return fmt.Errorf("list prompts of agent %s: %w", ap.ID, err)
	}
	out := promptsList{LiveVersion: ap.LiveVersion, Prompts: make([]promptJSON, len(vs))}
	for i, v := range vs {
		out.Prompts[i] = toPromptJSON(v, ap.LiveVersion)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

type createPromptRequest struct {
	Prompt string `json:"prompt"`
	// BaseVersion, when set, is the number of the latest version the author
	// saw: a newer one makes the create a conflict (409).
	BaseVersion *int `json:"base_version"`
}

// createPrompt handles POST /api/v1/agents/{id}/prompts: version N+1,
// written by the caller.
func (a *API) createPrompt(w http.ResponseWriter, r *http.Request, p Principal) error {
	var req createPromptRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	if strings.TrimSpace(req.Prompt) == "" {
		return errInvalid("prompt is required")
	}
	var pv persistence.PromptVersion
	var live int
	err := a.store.InTx(r.Context(), func(tx Tx) error {
		ap, err := tx.GetAgentProfile(r.Context(), p.TenantID, r.PathValue("id"))
		if err != nil {
			return err
		}
		live = ap.LiveVersion
		vs, err := tx.ListPromptVersions(r.Context(), p.TenantID, ap.ID)
		if err != nil {
			return err
		}
		latest := 0
		if len(vs) > 0 {
			latest = vs[len(vs)-1].Number
		}
		if req.BaseVersion != nil && *req.BaseVersion != latest {
			return fmt.Errorf("agent %s: latest prompt version is %d, not %d: %w", ap.ID, latest, *req.BaseVersion, persistence.ErrVersionConflict)
		}
		pv = persistence.PromptVersion{Base: persistence.Base{TenantID: p.TenantID}, AgentProfileID: ap.ID,
			Number: latest + 1, Prompt: req.Prompt, AuthorID: p.UserID}
		if err := tx.CreatePromptVersion(r.Context(), &pv); err != nil {
			if errors.Is(err, persistence.ErrDuplicate) {
				// Another author's version N+1 committed first.
				return fmt.Errorf("agent %s: prompt version %d: %w: %w", ap.ID, pv.Number, persistence.ErrVersionConflict, err)
			}
			return err
		}
		return audit(r.Context(), tx, p, ActionPromptVersionCreated, TargetAgentProfile, ap.ID, map[string]any{
			"number": pv.Number, "prompt_version_id": pv.ID})
	})
	if err != nil {
		return fmt.Errorf("create prompt version: %w", err)
	}
	writeJSON(w, http.StatusCreated, toPromptJSON(pv, live))
	return nil
}

type diffJSON struct {
	From    int    `json:"from"`
	To      int    `json:"to"`
	Added   int    `json:"added"`
	Removed int    `json:"removed"`
	Diff    string `json:"diff"`
}

// diffPrompts handles GET /api/v1/agents/{id}/prompts/diff?from=N&to=M: a
// unified line diff from version N to version M.
func (a *API) diffPrompts(w http.ResponseWriter, r *http.Request, p Principal) error {
	q := r.URL.Query()
	from, err1 := strconv.Atoi(q.Get("from"))
	to, err2 := strconv.Atoi(q.Get("to"))
	if err1 != nil || err2 != nil || from < 1 || to < 1 {
		return errInvalid("from and to must be prompt version numbers (positive integers)")
	}
	ap, err := a.store.GetAgentProfile(r.Context(), p.TenantID, r.PathValue("id"))
	if err != nil {
		return fmt.Errorf("diff prompts: %w", err)
	}
	var texts [2]string
	for i, n := range []int{from, to} {
		v, err := a.store.GetPromptVersionByNumber(r.Context(), p.TenantID, ap.ID, n)
		if errors.Is(err, persistence.ErrNotFound) {
			return &Error{Status: http.StatusNotFound, Code: CodeNotFound, Message: fmt.Sprintf("no prompt version %d", n), Err: err}
		}
		if err != nil {
			return fmt.Errorf("diff prompts of agent %s: version %d: %w", ap.ID, n, err)
		}
		texts[i] = v.Prompt
	}
	d := unifiedDiff(texts[0], texts[1], "v"+strconv.Itoa(from), "v"+strconv.Itoa(to), 3)
	writeJSON(w, http.StatusOK, diffJSON{From: from, To: to, Added: d.added, Removed: d.removed, Diff: d.text})
	return nil
}

type setLiveRequest struct {
	// Version is the prompt version number to make live.
	Version int `json:"version"`
}

// setLive handles POST /api/v1/agents/{id}/live: which prompt version the
// agent uses.
func (a *API) setLive(w http.ResponseWriter, r *http.Request, p Principal) error {
	var req setLiveRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	if req.Version < 1 {
		return errInvalid("version must be a prompt version number")
	}
	var ap persistence.AgentProfile
	err := a.store.InTx(r.Context(), func(tx Tx) error {
		var err error
		if ap, err = tx.GetAgentProfile(r.Context(), p.TenantID, r.PathValue("id")); err != nil {
			return err
		}
		if _, err := tx.GetPromptVersionByNumber(r.Context(), p.TenantID, ap.ID, req.Version); err != nil {
			if errors.Is(err, persistence.ErrNotFound) {
				return errInvalid(fmt.Sprintf("agent has no prompt version %d", req.Version))
			}
			return err
		}
		if ap.LiveVersion == req.Version {
			return nil
		}
		from := ap.LiveVersion
		ap.LiveVersion = req.Version
		if err := tx.UpdateAgentProfile(r.Context(), &ap); err != nil {
			return err
		}
		return audit(r.Context(), tx, p, ActionAgentLiveChanged, TargetAgentProfile, ap.ID, map[string]any{"from": from, "to": req.Version})
	})
	if err != nil {
		return fmt.Errorf("set live prompt: %w", err)
	}
	a.log.Info().Str("tenant_id", p.TenantID).Str("agent_id", ap.ID).Int("live_version", ap.LiveVersion).
		Str("by_user_id", p.UserID).Msg("agent live prompt set")
	writeJSON(w, http.StatusOK, toAgentJSON(ap))
	return nil
}

// lineDiff is a unified diff and its counts.
type lineDiff struct {
	text           string
	added, removed int
}

// maxDiffEdits bounds the edit distance the diff searches for a minimal
// script; beyond it the rest is shown as replaced wholesale, still a
// correct diff, so that the work stays O(maxDiffEdits²).
const maxDiffEdits = 500

// op is one line of an edit script: ' ' kept, '-' removed, '+' added.
type op struct {
	kind byte
	line string
}

// splitLines splits s into lines that keep their "\n"; the last may lack
// it.
func splitLines(s string) []string {
	if s == "" {
		return nil
	}
	return strings.SplitAfter(strings.TrimSuffix(s, "\n"), "\n")
}

// unifiedDiff returns the unified diff (GNU diff -u style, context lines
// of context) that turns a into b, labelled fromName and toName; "" when
// they are equal.
func unifiedDiff(a, b, fromName, toName string, context int) lineDiff {
	al, bl := splitLines(a), splitLines(b)
	// The last line's newline matters only when it differs.
	if len(al) > 0 && strings.HasSuffix(a, "\n") {
		al[len(al)-1] += "\n"
	}
	if len(bl) > 0 && strings.HasSuffix(b, "\n") {
		bl[len(bl)-1] += "\n"
	}
	ops := editScript(al, bl)
	var d lineDiff
	for _, o := range ops {
		switch o.kind {
		case '+':
			d.added++
		case '-':
			d.removed++
		}
	}
	if d.added == 0 && d.removed == 0 {
		return d
	}
	var sb strings.Builder
	fmt.Fprintf(&sb, "--- %s\n+++ %s\n", fromName, toName)
	// Hunks: runs of changes with up to context kept lines around them,
	// merged when their contexts touch.
	for i := 0; i < len(ops); {
		if ops[i].kind == ' ' {
			i++
			continue
		}
		start := max(i-context, 0)
		end := i
		for end < len(ops) {
			if ops[end].kind != ' ' {
				end++
				continue
			}
			run := end
			for run < len(ops) && ops[run].kind == ' ' {
				run++
			}
			if run == len(ops) || run-end > 2*context {
				end = min(end+context, len(ops))
				break
			}
			end = run
		}
		// Line numbers (1-based) of the hunk's first line in a and b.
		aLine, bLine := 1, 1
		for _, o := range ops[:start] {
			if o.kind != '+' {
				aLine++
			}
			if o.kind != '-' {
				bLine++
			}
		}
		var aCount, bCount int
		for _, o := range ops[start:end] {
			if o.kind != '+' {
				aCount++
			}
			if o.kind != '-' {
				bCount++
			}
		}
		fmt.Fprintf(&sb, "@@ -%s +%s @@\n", hunkRange(aLine, aCount), hunkRange(bLine, bCount))
		for _, o := range ops[start:end] {
			sb.WriteByte(o.kind)
			sb.WriteString(o.line)
			if !strings.HasSuffix(o.line, "\n") {
				sb.WriteString("\n\\ No newline at end of file\n")
			}
		}
		i = end
	}
	d.text = sb.String()
	return d
}

// hunkRange formats a hunk's range as GNU diff does: "l,n", "l" when n is
// 1, and the line before when n is 0.
func hunkRange(line, n int) string {
	switch n {
	case 0:
		return strconv.Itoa(line-1) + ",0"
	case 1:
		return strconv.Itoa(line)
	}
	return strconv.Itoa(line) + "," + strconv.Itoa(n)
}

// editScript returns a shortest edit script from a to b (Myers' O(ND)
// algorithm) after stripping their common prefix and suffix; past
// maxDiffEdits edits the middle is replaced wholesale.
func editScript(a, b []string) []op {
	pre := 0
	for pre < len(a) && pre < len(b) && a[pre] == b[pre] {
		pre++
	}
	suf := 0
	for suf < len(a)-pre && suf < len(b)-pre && a[len(a)-1-suf] == b[len(b)-1-suf] {
		suf++
	}
	var ops []op
	for _, l := range a[:pre] {
		ops = append(ops, op{' ', l})
	}
	ops = append(ops, myers(a[pre:len(a)-suf], b[pre:len(b)-suf])...)
	for _, l := range a[len(a)-suf:] {
		ops = append(ops, op{' ', l})
	}
	return ops
}

// myers returns a shortest edit script from a to b, or a wholesale
// replacement when it needs more than maxDiffEdits edits.
func myers(a, b []string) []op {
	n, m := len(a), len(b)
	maxD := min(n+m, maxDiffEdits)
	offset := maxD + 1
	v := make([]int, 2*maxD+3)
	var trace [][]int
	found := -1
	for d := 0; d <= maxD && found < 0; d++ {
		trace = append(trace, slices.Clone(v))
		for k := -d; k <= d; k += 2 {
			var x int
			if k == -d || (k != d && v[offset+k-1] < v[offset+k+1]) {
				x = v[offset+k+1] // down: insert b's line
			} else {
				x = v[offset+k-1] + 1 // right: delete a's line
			}
			y := x - k
			for x < n && y < m && a[x] == b[y] {
				x, y = x+1, y+1
			}
			v[offset+k] = x
			if x >= n && y >= m {
				found = d
				break
			}
		}
	}
	if found < 0 {
		ops := make([]op, 0, n+m)
		for _, l := range a {
			ops = append(ops, op{'-', l})
		}
		for _, l := range b {
			ops = append(ops, op{'+', l})
		}
		return ops
	}
	// Walk back from (n, m) through the saved rows.
	var rev []op
	x, y := n, m
	for d := found; d > 0; d-- {
		vd := trace[d] // the row before step d was taken
		k := x - y
		var prevK int
		if k == -d || (k != d && vd[offset+k-1] < vd[offset+k+1]) {
			prevK = k + 1
		} else {
			prevK = k - 1
		}
		prevX := vd[offset+prevK]
		prevY := prevX - prevK
		for x > prevX && y > prevY {
			x, y = x-1, y-1
			rev = append(rev, op{' ', a[x]})
		}
		if prevK == k+1 {
			y--
			rev = append(rev, op{'+', b[y]})
		} else {
			x--
			rev = append(rev, op{'-', a[x]})
		}
	}
	for x > 0 && y > 0 {
		x, y = x-1, y-1
		rev = append(rev, op{' ', a[x]})
	}
	slices.Reverse(rev)
	return rev
}
