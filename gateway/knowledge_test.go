package gateway_test

import (
	"bytes"
	"context"
	"encoding/json"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
	"golang.org/x/crypto/bcrypt"

	"github.com/frontdesk-ai/frontdesk/gateway"
	"github.com/frontdesk-ai/frontdesk/knowledge"
	"github.com/frontdesk-ai/frontdesk/persistence"
	"github.com/frontdesk-ai/frontdesk/persistence/sqlstore"
)

// newKnowledgeFixture is the API with a knowledge base whose processor and
// indexer run, limited to maxUpload bytes per file.
func newKnowledgeFixture(t *testing.T, maxUpload int64) *fixture {
	t.Helper()
	f := newFixture(t, "sqlite")
	kb, err := knowledge.New(knowledge.Config{Dir: filepath.Join(t.TempDir(), "knowledge"), MaxUploadBytes: maxUpload},
		sqlstore.For[knowledge.Tx](f.store), f.store.Log(), zerolog.Nop(), prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); _ = kb.RunProcessor(ctx) }()
	go func() { defer wg.Done(); _ = kb.RunIndexer(ctx) }()
	t.Cleanup(func() { cancel(); wg.Wait(); _ = kb.Close() })
	log := zerolog.New(f.logs)
	f.api = gateway.NewAPI(gateway.APIConfig{BcryptCost: bcrypt.MinCost, SessionTTL: sessionTTL, Now: f.clock.Now, Grains: f.rt, Knowledge: kb},
		sqlstore.For[gateway.Tx](f.store), log)
	srv := gateway.New(gateway.Config{}, log, prometheus.NewRegistry(), nil)
	f.api.Register(srv)
	f.h = srv.Handler()
	return f
}

// upload posts a multipart upload of file (named name) with fields.
func (f *fixture) upload(method, path, token, name string, file []byte, fields map[string]string) (int, []byte) {
	f.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for k, v := range fields {
		_ = mw.WriteField(k, v)
	}
	if name != "" {
		w, _ := mw.CreateFormFile("file", name)
		_, _ = w.Write(file)
	}
	_ = mw.Close()
	req := httptest.NewRequest(method, path, &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+token)
	rec := httptest.NewRecorder()
	f.h.ServeHTTP(rec, req)
	return rec.Code, rec.Body.Bytes()
}

type docView struct {
	ID, Title, Kind, Status, Error, Language, Format, Source string
	Tags                                                     []string
	Version                                                  int
	ChunkCount                                               int        `json:"chunk_count"`
	SourceURL                                                string     `json:"source_url"`
	ValidUntil                                               *time.Time `json:"valid_until"`
}

// waitReady polls GET /documents/{id} until its version is ready.
func (f *fixture) waitReady(token, id string, version int) docView {
	f.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		var d docView
		code, body := f.do("GET", "/api/v1/knowledge/documents/"+id, token, nil)
		if code == http.StatusOK && json.Unmarshal(body, &d) == nil && d.Status == "ready" && d.Version == version {
			return d
		}
		if time.Now().After(deadline) {
			f.t.Fatalf("document %s never ready at version %d: %d %s", id, version, code, body)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

type searchView struct {
	Results []struct {
		DocumentID string `json:"document_id"`
		ChunkID    string `json:"chunk_id"`
		Title      string
		Snippet    string
		Score      float64
		Relevance  float64
		SourceURL  string `json:"source_url"`
	}
	Relevant  bool
	Threshold float64
}

func (f *fixture) searchKB(token string, req any) searchView {
	f.t.Helper()
	var out searchView
	f.must("POST", "/api/v1/knowledge/search", token, req, http.StatusOK, &out)
	return out
}

// TestKnowledgeAPI: supervisors and admins upload (multipart and JSON),
// revise and delete; every role lists, reads and searches; a search finds
// an uploaded passage with its score and snippet and, after a delete, no
// longer does; tenants never see each other's documents.
func TestKnowledgeAPI(t *testing.T) {
	f := newKnowledgeFixture(t, 1<<20)
	tn, other := f.tenant("acme"), f.tenant("other")
	f.user(tn, "sup@acme.example", persistence.RoleSupervisor)
	f.user(tn, "agent@acme.example", persistence.RoleAgent)
	f.user(other, "admin@other.example", persistence.RoleAdmin)
	sup, agent, stranger := f.login("sup@acme.example"), f.login("agent@acme.example"), f.login("admin@other.example")

	md := "# Returns policy\n\n## How long do I have to return an item?\n\nYou can return any item within 30 days of delivery.\n"
	code, body := f.upload("POST", "/api/v1/knowledge/documents", sup, "returns.md", []byte(md),
		map[string]string{"kind": "policy", "tags": "returns,EU", "source_url": "https://acme.example/returns", "valid_until": "2030-01-01T00:00:00Z"})
	if code != http.StatusCreated {
		t.Fatalf("upload = %d %s", code, body)
	}
	var created struct {
		ID      string
		Status  string
		Version int
	}
	_ = json.Unmarshal(body, &created)
	if created.ID == "" || created.Status != "processing" || created.Version != 1 {
		t.Fatalf("created %s", body)
	}
	d := f.waitReady(agent, created.ID, 1)
	if d.Title != "Returns policy" || d.Kind != "policy" || d.ChunkCount != 1 || d.Format != "markdown" || d.Source != "upload" ||
		d.SourceURL != "https://acme.example/returns" || strings.Join(d.Tags, ",") != "returns,eu" || d.ValidUntil == nil || d.Language != "en" {
		t.Fatalf("document %+v", d)
	}
	var chunks struct {
		Chunks []struct{ Heading, Question, Text string }
	}
	f.get("/api/v1/knowledge/documents/"+created.ID+"/chunks", agent, &chunks)
	if len(chunks.Chunks) != 1 || chunks.Chunks[0].Question != "How long do I have to return an item?" {
		t.Fatalf("chunks %+v", chunks)
	}

	res := f.searchKB(agent, map[string]any{"query": "how long to return an item", "k": 3})
	if len(res.Results) != 1 || res.Results[0].DocumentID != created.ID || res.Results[0].Score <= 0 || !strings.Contains(res.Results[0].Snippet, "30 days") ||
		!res.Relevant || res.Threshold != knowledge.DefaultThreshold {
		t.Fatalf("search %+v", res)
	}
	if res := f.searchKB(agent, map[string]any{"query": "return an item", "filters": map[string]any{"kind": []string{"faq"}}}); len(res.Results) != 0 {
		t.Fatalf("kind filter: %+v", res)
	}
	if res := f.searchKB(agent, map[string]any{"query": "return an item", "filters": map[string]any{"at": "2031-01-01T00:00:00Z"}}); len(res.Results) != 0 {
		t.Fatalf("validity filter: %+v", res)
	}
	if res := f.searchKB(stranger, map[string]any{"query": "return an item"}); len(res.Results) != 0 {
		t.Fatalf("another tenant finds %+v", res)
	}
	if code, _ := f.do("GET", "/api/v1/knowledge/documents/"+created.ID, stranger, nil); code != http.StatusNotFound {
		t.Fatalf("another tenant reads the document: %d", code)
	}
	var list struct {
		Documents []docView
	}
	f.get("/api/v1/knowledge/documents?status=ready", agent, &list)
	if len(list.Documents) != 1 {
		t.Fatalf("list %+v", list)
	}
	f.get("/api/v1/knowledge/documents", stranger, &list)
	if len(list.Documents) != 0 {
		t.Fatalf("another tenant lists %+v", list)
	}

	// Agents read and search, but do not write.
	if code, body := f.upload("POST", "/api/v1/knowledge/documents", agent, "x.md", []byte("# X\n\ntext"), nil); code != http.StatusForbidden {
		t.Fatalf("agent upload = %d %s", code, body)
	}
	if code, _ := f.do("DELETE", "/api/v1/knowledge/documents/"+created.ID, agent, nil); code != http.StatusForbidden {
		t.Fatalf("agent delete = %d", code)
	}

	// A new version (JSON this time) replaces the passages.
	var revised struct{ Version int }
	f.must("PUT", "/api/v1/knowledge/documents/"+created.ID, sup, map[string]any{"title": "Returns", "kind": "policy",
		"content": "# Returns\n\nReturns are accepted within 60 days."}, http.StatusOK, &revised)
	if revised.Version != 2 {
		t.Fatalf("revised %+v", revised)
	}
	f.waitReady(agent, created.ID, 2)
	res = f.searchKB(agent, map[string]any{"query": "returns accepted days"})
	if len(res.Results) != 1 || !strings.Contains(res.Results[0].Snippet, "60 days") {
		t.Fatalf("after the new version: %+v", res)
	}
	if code, _ := f.do("DELETE", "/api/v1/knowledge/documents/"+created.ID, stranger, nil); code != http.StatusNotFound {
		t.Fatalf("another tenant's delete = %d", code)
	}
	if code, body := f.do("DELETE", "/api/v1/knowledge/documents/"+created.ID, sup, nil); code != http.StatusNoContent {
		t.Fatalf("delete = %d %s", code, body)
	}
	if res := f.searchKB(agent, map[string]any{"query": "returns accepted days"}); len(res.Results) != 0 {
		t.Fatalf("deleted and still found: %+v", res)
	}
	if code, _ := f.do("GET", "/api/v1/knowledge/documents/"+created.ID, agent, nil); code != http.StatusNotFound {
		t.Fatalf("deleted document = %d", code)
	}
}

// TestKnowledgeUploadErrors: every refused upload answers its status and
// code, and none leaves a document behind.
func TestKnowledgeUploadErrors(t *testing.T) {
	f := newKnowledgeFixture(t, 2048)
	tn := f.tenant("acme")
	f.user(tn, "admin@acme.example", persistence.RoleAdmin)
	tok := f.login("admin@acme.example")
	cases := []struct {
		name   string
		file   string
		data   string
		fields map[string]string
		status int
		code   string
	}{
		{"too large", "big.md", "# Big\n\n" + strings.Repeat("word ", 1000), nil, http.StatusRequestEntityTooLarge, gateway.CodeTooLarge},
		{"image", "cat.png", "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", nil, http.StatusBadRequest, gateway.CodeUnsupportedType},
		{"empty", "empty.txt", "  \n", nil, http.StatusUnprocessableEntity, gateway.CodeUnreadable},
		{"corrupt pdf", "x.pdf", "%PDF-1.7\n%%garbage", nil, http.StatusUnprocessableEntity, gateway.CodeUnreadable},
		{"csv without answer column", "faq.csv", "q,notes\nhi,there\n", nil, http.StatusUnprocessableEntity, gateway.CodeUnreadable},
		{"bad kind", "a.md", "# A\n\ntext", map[string]string{"kind": "recipe"}, http.StatusBadRequest, gateway.CodeInvalid},
		{"bad date", "a.md", "# A\n\ntext", map[string]string{"valid_from": "tomorrow"}, http.StatusBadRequest, gateway.CodeInvalid},
		{"no file", "", "", map[string]string{"title": "x"}, http.StatusBadRequest, gateway.CodeInvalid},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, body := f.upload("POST", "/api/v1/knowledge/documents", tok, c.file, []byte(c.data), c.fields)
			if code != c.status || errorCode(t, body) != c.code {
				t.Fatalf("= %d %s, want %d %s", code, body, c.status, c.code)
			}
		})
	}
	for _, c := range []struct {
		body   string
		status int
	}{
		{`{"title":"x"}`, http.StatusBadRequest},
		{`{"content":"# A\n\ntext","colour":"blue"}`, http.StatusBadRequest},
		{`{"content":` + `"` + strings.Repeat("a", 3000) + `"}`, http.StatusRequestEntityTooLarge},
		{`not json`, http.StatusBadRequest},
	} {
		if code, body := f.do("POST", "/api/v1/knowledge/documents", tok, c.body); code != c.status {
			t.Fatalf("JSON %.40s = %d %s, want %d", c.body, code, body, c.status)
		}
	}
	for _, q := range []any{map[string]any{"query": ""}, map[string]any{"query": "x", "k": 99}, map[string]any{"query": "x", "filters": map[string]any{"kind": []string{"recipe"}}}} {
		if code, body := f.do("POST", "/api/v1/knowledge/search", tok, q); code != http.StatusBadRequest {
			t.Fatalf("search %v = %d %s", q, code, body)
		}
	}
	var list struct{ Documents []docView }
	f.get("/api/v1/knowledge/documents", tok, &list)
	if len(list.Documents) != 0 {
		t.Fatalf("refused uploads left %+v", list.Documents)
	}
}

// TestKnowledgeCoverageAPI: the report and its CSV export, and the bounds
// of its range.
func TestKnowledgeCoverageAPI(t *testing.T) {
	f := newKnowledgeFixture(t, 1<<20)
	tn := f.tenant("acme")
	f.user(tn, "analyst@acme.example", persistence.RoleAnalyst)
	tok := f.login("analyst@acme.example")
	at := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	for i, q := range []string{"Do you sell gift cards?", "Gift card balance?", "How long is the return window?"} {
		if err := f.store.RecordKnowledgeQuestion(context.Background(), &persistence.KnowledgeQuestion{TenantID: tn, ConversationID: "conv-" + q[:3],
			TurnID: "turn-" + q, AskedAt: at.Add(time.Duration(i) * time.Minute), Question: q, Relevant: i == 2, AnsweredWithSources: i == 2, BestRelevance: 0.2}); err != nil {
			t.Fatal(err)
		}
	}
	var rep struct {
		Questions           int
		AnsweredWithSources int     `json:"answered_with_sources"`
		ShareAnswered       float64 `json:"share_answered"`
		NoRelevantDocs      int     `json:"no_relevant_docs"`
		Topics              []struct {
			Label           string
			Count           int
			Unanswered      int
			ConversationIDs []string `json:"conversation_ids"`
		}
	}
	f.get("/api/v1/knowledge/coverage?from=2026-12-01T00:00:00Z&to=2026-12-02T00:00:00Z", tok, &rep)
	if rep.Questions != 3 || rep.AnsweredWithSources != 1 || rep.NoRelevantDocs != 2 || len(rep.Topics) != 2 ||
		!strings.Contains(rep.Topics[0].Label, "gift") || rep.Topics[0].Unanswered != 2 || len(rep.Topics[0].ConversationIDs) != 2 {
		t.Fatalf("report %+v", rep)
	}
	req := httptest.NewRequest("GET", "/api/v1/knowledge/coverage?from=2026-12-01T00:00:00Z&to=2026-12-02T00:00:00Z&format=csv", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	rec := httptest.NewRecorder()
	f.h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/csv") ||
		!strings.Contains(rec.Header().Get("Content-Disposition"), "coverage-20261201-20261202.csv") || strings.Count(rec.Body.String(), "\n") != 4 {
		t.Fatalf("csv = %d %v\n%s", rec.Code, rec.Header(), rec.Body.String())
	}
	for _, q := range []string{"?from=yesterday", "?from=2026-12-02T00:00:00Z&to=2026-12-01T00:00:00Z", "?from=2020-01-01T00:00:00Z&to=2026-01-01T00:00:00Z", "?format=xml"} {
		if code, _ := f.do("GET", "/api/v1/knowledge/coverage"+q, tok, nil); code != http.StatusBadRequest {
			t.Fatalf("coverage%s = %d", q, code)
		}
	}
}
