package storetest

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/frontdesk-ai/frontdesk/persistence"
	"github.com/frontdesk-ai/frontdesk/persistence/sqlstore"
)

// testKnowledge checks the store side of the knowledge base: files per
// revision, chunks replaced as a whole with their vectors, paging over a
// tenant's chunks, deletes that take files and chunks along, external keys
// unique per tenant, and coverage questions recorded once per turn.
func testKnowledge(t *testing.T, s *sqlstore.Store) {
	ctx := context.Background()
	tenant, other := newTenant(t, s), newTenant(t, s)
	doc := &persistence.KnowledgeDocument{Base: persistence.Base{TenantID: tenant}, Title: "Returns", Source: persistence.KnowledgeUpload}
	if err := s.CreateKnowledgeDocument(ctx, doc); err != nil {
		t.Fatal(err)
	}
	if doc.Status != persistence.KnowledgeProcessing || doc.Kind != persistence.KnowledgeArticle || doc.Revision != 1 {
		t.Fatalf("defaults: status %q kind %q revision %d", doc.Status, doc.Kind, doc.Revision)
	}

	t.Run("sources per revision", func(t *testing.T) {
		pdf := []byte("%PDF-1.4\x00\xff binary")
		for rev, data := range map[int][]byte{1: []byte("# Returns\n30 days."), 2: pdf} {
			if err := s.PutKnowledgeSource(ctx, tenant, doc.ID, rev, "returns.md", data); err != nil {
				t.Fatal(err)
			}
		}
		name, data, err := s.GetKnowledgeSource(ctx, tenant, doc.ID, 2)
		if err != nil || name != "returns.md" || string(data) != string(pdf) {
			t.Fatalf("source 2 = %q %q %v", name, data, err)
		}
		if _, _, err := s.GetKnowledgeSource(ctx, other, doc.ID, 2); !errors.Is(err, persistence.ErrNotFound) {
			t.Fatalf("other tenant's read = %v, want not found", err)
		}
		if err := s.DeleteKnowledgeSourcesBefore(ctx, tenant, doc.ID, 2); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.GetKnowledgeSource(ctx, tenant, doc.ID, 1); !errors.Is(err, persistence.ErrNotFound) {
			t.Fatalf("revision 1 after delete = %v", err)
		}
	})

	t.Run("chunks replaced", func(t *testing.T) {
		first := []persistence.KnowledgeChunk{{Revision: 1, Ordinal: 0, Heading: "Returns", Text: "old"}}
		if err := s.ReplaceKnowledgeChunks(ctx, tenant, doc.ID, first); err != nil {
			t.Fatal(err)
		}
		var next []persistence.KnowledgeChunk
		for i := range 150 { // more than one insert batch
			next = append(next, persistence.KnowledgeChunk{Revision: 2, Ordinal: i, Heading: "Returns › Time", Question: "How long?",
				Text: "Thirty days.", Vector: []float32{float32(i), -0.5, 1e-7}})
		}
		next[3].Vector = nil
		if err := s.ReplaceKnowledgeChunks(ctx, tenant, doc.ID, next); err != nil {
			t.Fatal(err)
		}
		got, err := s.ListKnowledgeChunks(ctx, tenant, doc.ID)
		if err != nil || len(got) != 150 {
			t.Fatalf("chunks = %d, %v", len(got), err)
		}
		for i, c := range got {
			if c.Revision != 2 || c.Ordinal != i || c.Text != "Thirty days." || c.Question != "How long?" || c.ID == "" || c.TenantID != tenant {
				t.Fatalf("chunk %d = %+v", i, c)
			}
		}
		if got[3].Vector != nil || !slices.Equal(got[7].Vector, []float32{7, -0.5, 1e-7}) {
			t.Fatalf("vectors: %v %v", got[3].Vector, got[7].Vector)
		}
		var seen int
		for after := ""; ; {
			page, err := s.ScanKnowledgeChunks(ctx, tenant, after, 64)
			if err != nil {
				t.Fatal(err)
			}
			if len(page) == 0 {
				break
			}
			seen += len(page)
			after = page[len(page)-1].ID
		}
		if seen != 150 {
			t.Fatalf("scanned %d chunks, want 150", seen)
		}
		if page, err := s.ScanKnowledgeChunks(ctx, other, "", 10); err != nil || len(page) != 0 {
			t.Fatalf("other tenant scans %d chunks, %v", len(page), err)
		}
	})

	t.Run("lists and tenants", func(t *testing.T) {
		ready := &persistence.KnowledgeDocument{Base: persistence.Base{TenantID: tenant}, Title: "FAQ", Kind: persistence.KnowledgeFAQ,
			Status: persistence.KnowledgeReady}
		if err := s.CreateKnowledgeDocument(ctx, ready); err != nil {
			t.Fatal(err)
		}
		page, _, err := s.ListKnowledgeDocumentsNewest(ctx, tenant, persistence.KnowledgeReady, "", persistence.Page{})
		if err != nil || len(page) != 1 || page[0].ID != ready.ID {
			t.Fatalf("ready = %v, %v", page, err)
		}
		page, _, err = s.ListKnowledgeDocumentsNewest(ctx, tenant, "", "", persistence.Page{})
		if err != nil || len(page) != 2 || page[0].ID != ready.ID {
			t.Fatalf("newest first = %v, %v", page, err)
		}
		processing, err := s.ListKnowledgeDocumentsByStatus(ctx, "", persistence.KnowledgeProcessing)
		if err != nil || !slices.ContainsFunc(processing, func(d persistence.KnowledgeDocument) bool { return d.ID == doc.ID }) {
			t.Fatalf("processing everywhere = %v, %v", processing, err)
		}
		tenants, err := s.KnowledgeTenants(ctx)
		if err != nil || !slices.Contains(tenants, tenant) || slices.Contains(tenants, other) {
			t.Fatalf("tenants = %v, %v", tenants, err)
		}
	})

	t.Run("external key", func(t *testing.T) {
		key := uniq("shopify:shop:product")
		for _, tn := range []string{tenant, other} {
			if err := s.CreateKnowledgeDocument(ctx, &persistence.KnowledgeDocument{Base: persistence.Base{TenantID: tn}, Title: "Hoodie",
				Kind: persistence.KnowledgeProduct, ExternalKey: key}); err != nil {
				t.Fatal(err)
			}
		}
		err := s.CreateKnowledgeDocument(ctx, &persistence.KnowledgeDocument{Base: persistence.Base{TenantID: tenant}, Title: "Hoodie", ExternalKey: key})
		if !errors.Is(err, persistence.ErrDuplicate) {
			t.Fatalf("second document with the key = %v, want duplicate", err)
		}
		got, err := s.GetKnowledgeDocumentByExternalKey(ctx, other, key)
		if err != nil || got.TenantID != other {
			t.Fatalf("by key = %+v, %v", got, err)
		}
	})

	t.Run("delete", func(t *testing.T) {
		if err := s.DeleteKnowledgeDocument(ctx, other, doc.ID); !errors.Is(err, persistence.ErrNotFound) {
			t.Fatalf("other tenant's delete = %v", err)
		}
		if err := s.DeleteKnowledgeDocument(ctx, tenant, doc.ID); err != nil {
			t.Fatal(err)
		}
		if chunks, err := s.ListKnowledgeChunks(ctx, tenant, doc.ID); err != nil || len(chunks) != 0 {
			t.Fatalf("chunks after delete = %d, %v", len(chunks), err)
		}
		if _, _, err := s.GetKnowledgeSource(ctx, tenant, doc.ID, 2); !errors.Is(err, persistence.ErrNotFound) {
			t.Fatalf("source after delete = %v", err)
		}
		if _, err := s.GetKnowledgeDocument(ctx, tenant, doc.ID); !errors.Is(err, persistence.ErrNotFound) {
			t.Fatalf("document after delete = %v", err)
		}
	})

	t.Run("questions", func(t *testing.T) {
		at := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
		q := persistence.KnowledgeQuestion{TenantID: tenant, ConversationID: "c1", TurnID: uniq("turn"), AskedAt: at,
			Question: "how long to return?", BestRelevance: 0.82, Relevant: true, AnsweredWithSources: true}
		for range 2 {
			again := q
			if err := s.RecordKnowledgeQuestion(ctx, &again); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.RecordKnowledgeQuestion(ctx, &persistence.KnowledgeQuestion{TenantID: tenant, TurnID: uniq("turn"), AskedAt: at.Add(time.Hour),
			Question: "do you sell gift cards?", BestRelevance: 0.1}); err != nil {
			t.Fatal(err)
		}
		if err := s.RecordKnowledgeQuestion(ctx, &persistence.KnowledgeQuestion{TenantID: tenant}); !errors.Is(err, persistence.ErrInvalid) {
			t.Fatalf("question without a turn = %v", err)
		}
		got, err := s.ListKnowledgeQuestions(ctx, tenant, at, at.Add(2*time.Hour), 100)
		if err != nil || len(got) != 2 {
			t.Fatalf("questions = %+v, %v", got, err)
		}
		if g := got[0]; g.Question != q.Question || g.BestRelevance != 0.82 || !g.Relevant || !g.AnsweredWithSources || !g.AskedAt.Equal(at) || g.ConversationID != "c1" {
			t.Fatalf("first question = %+v", g)
		}
		if g := got[1]; g.Relevant || g.AnsweredWithSources || g.BestRelevance != 0.1 {
			t.Fatalf("second question = %+v", g)
		}
		if got, _ := s.ListKnowledgeQuestions(ctx, tenant, at.Add(time.Minute), at.Add(2*time.Hour), 100); len(got) != 1 {
			t.Fatalf("from excludes the first: %d", len(got))
		}
		if got, _ := s.ListKnowledgeQuestions(ctx, other, at, at.Add(2*time.Hour), 100); len(got) != 0 {
			t.Fatalf("other tenant sees %d questions", len(got))
		}
	})
}
