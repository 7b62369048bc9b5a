package knowledge

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/frontdesk-ai/frontdesk/consume"
	"github.com/frontdesk-ai/frontdesk/events"
	"github.com/frontdesk-ai/frontdesk/knowledge/index"
	"github.com/frontdesk-ai/frontdesk/persistence"
)

// indexGroup is this member's consumer group of the knowledge topic: each
// member applies every change to its own indexes.
func (s *Service) indexGroup() string {
	return "knowledge-index-" + strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '.' {
			return r
		}
		return '-'
	}, s.cfg.Member)
}

// RunIndexer keeps this member's indexes in step with the store until ctx
// ends: first it checks every tenant's index against the store (rebuilding
// what was lost and loading the vectors, which live in memory only), then
// it applies each processed or deleted document from the knowledge topic.
func (s *Service) RunIndexer(ctx context.Context) error {
	for {
		err := s.Rebuild(ctx)
		if err == nil {
			break
		}
		s.logger.Error().Err(err).Msg("knowledge indexes not checked against the store yet; retrying")
		if !consume.Sleep(ctx, 2*time.Second) {
			return nil
		}
	}
	return consume.Run(ctx, s.log, consume.Config{Group: s.indexGroup(), Topic: persistence.TopicKnowledge, Parallel: 8,
		Failed: func(err error) { s.logger.Error().Err(err).Msg("knowledge indexer") }}, s.handleIndex)
}

func (s *Service) handleIndex(ctx context.Context, rec persistence.Record) bool {
	tenantID, ev, err := change(rec)
	if err != nil {
		return true // the processor keeps it on the dead-letter topic
	}
	if ev.Change != events.KnowledgeProcessed && ev.Change != events.KnowledgeDeleted {
		return true
	}
	for {
		err := s.sync(ctx, tenantID, ev.DocumentID)
		if err == nil {
			return true
		}
		s.logger.Warn().Err(err).Str("document_id", ev.DocumentID).Msg("knowledge index not updated yet; retrying")
		if !consume.Sleep(ctx, time.Second) {
			return false
		}
	}
}

// sync makes the index hold the document's chunks as the store has them
// now (none: the document is removed). Applying it twice changes nothing.
func (s *Service) sync(ctx context.Context, tenantID, documentID string) error {
	doc, err := s.store.GetKnowledgeDocument(ctx, tenantID, documentID)
	if errors.Is(err, persistence.ErrNotFound) {
		return s.forget(tenantID, documentID)
	}
	if err != nil {
		return err
	}
	chunks, err := s.store.ListKnowledgeChunks(ctx, tenantID, documentID)
	if err != nil {
		return err
	}
	if len(chunks) == 0 {
		return s.forget(tenantID, documentID)
	}
	ix, err := s.index(tenantID, true)
	if err != nil {
		return err
	}
	if err := ix.Replace(documentID, entries(doc, chunks)); err != nil {
		return fmt.Errorf("index %s: %w", documentID, err)
	}
	s.metrics.indexed.WithLabelValues("replace").Inc()
	return nil
}

// entries are a document's chunks as the index keeps them.
func entries(doc persistence.KnowledgeDocument, chunks []persistence.KnowledgeChunk) []index.Entry {
	out := make([]index.Entry, len(chunks))
	for i, c := range chunks {
		e := index.Entry{ChunkID: c.ID, DocumentID: doc.ID, Title: doc.Title, Heading: c.Heading, Question: c.Question, Text: c.Text,
			Kind: string(doc.Kind), Tags: doc.Tags, Language: doc.Language, SourceURL: doc.SourceURL, Vector: c.Vector}
		if doc.ValidFrom != nil {
			e.ValidFrom = *doc.ValidFrom
		}
		if doc.ValidUntil != nil {
			e.ValidUntil = *doc.ValidUntil
		}
		out[i] = e
	}
	return out
}

// Rebuild checks each tenant's index against the store: documents the
// index lacks or holds a different number of chunks of are indexed again,
// documents the store no longer has are removed, and the vectors of the
// rest are loaded (they are kept in memory only).
func (s *Service) Rebuild(ctx context.Context) error {
	tenants, err := s.store.KnowledgeTenants(ctx)
	if err != nil {
		return err
	}
	// Every tenant's index on disk serves searches at once; the checks
	// below only repair what differs.
	for _, t := range tenants {
		s.tenants.Store(t, true)
	}
	for _, t := range tenants {
		if err := s.rebuildTenant(ctx, t); err != nil {
			return fmt.Errorf("knowledge index of %s: %w", t, err)
		}
	}
	return nil
}

func (s *Service) rebuildTenant(ctx context.Context, tenantID string) error {
	ix, err := s.index(tenantID, true)
	if err != nil {
		return err
	}
	indexed, err := ix.Documents()
	if err != nil {
		return err
	}
	docs := map[string]persistence.KnowledgeDocument{}
	for _, st := range []persistence.KnowledgeStatus{persistence.KnowledgeReady, persistence.KnowledgeProcessing, persistence.KnowledgeFailed} {
		list, err := s.store.ListKnowledgeDocumentsByStatus(ctx, tenantID, st)
		if err != nil {
			return err
		}
		for _, d := range list {
			docs[d.ID] = d
		}
	}
	for id := range indexed {
		if _, ok := docs[id]; !ok {
			if err := s.forget(tenantID, id); err != nil {
				return err
			}
		}
	}
	fresh := ix.Fresh()
	replaced := 0
	for id, doc := range docs {
		if doc.ChunkCount == 0 && indexed[id] == 0 {
			continue // never processed: nothing to index
		}
		chunks, err := s.store.ListKnowledgeChunks(ctx, tenantID, id)
		if err != nil {
			return err
		}
		es := entries(doc, chunks)
		switch {
		case len(chunks) == 0:
			if err := s.forget(tenantID, id); err != nil {
				return err
			}
		case fresh || indexed[id] != len(chunks):
			if err := ix.Replace(id, es); err != nil {
				return err
			}
			replaced++
		case chunks[0].Vector != nil:
			if err := ix.LoadVectors(es); err != nil {
				return err
			}
		}
	}
	if replaced > 0 {
		s.metrics.indexed.WithLabelValues("rebuild").Add(float64(replaced))
		s.logger.Info().Str("tenant_id", tenantID).Int("documents", replaced).Bool("fresh", fresh).Msg("knowledge index rebuilt from the store")
	}
	return nil
}
