package knowledge

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/frontdesk-ai/frontdesk/consume"
	"github.com/frontdesk-ai/frontdesk/events"
	"github.com/frontdesk-ai/frontdesk/knowledge/extract"
	"github.com/frontdesk-ai/frontdesk/language"
	"github.com/frontdesk-ai/frontdesk/persistence"
)

// ProcessGroup is the consumer group that processes uploaded revisions
// (once per cluster).
const ProcessGroup = "knowledge"

// embedBatch is how many chunks one embeddings call carries.
const embedBatch = 64

// RunProcessor processes uploaded revisions from the knowledge topic until
// ctx ends: parse, chunk, embed, and store the chunks with the document
// ready, in one transaction. A revision that cannot be parsed fails with
// the reason; a store or model that fails is retried.
func (s *Service) RunProcessor(ctx context.Context) error {
	return consume.Run(ctx, s.log, consume.Config{Group: ProcessGroup, Topic: persistence.TopicKnowledge, Parallel: 4,
		Failed: func(err error) { s.logger.Error().Err(err).Msg("knowledge processor") }}, s.handleProcess)
}

// change decodes a knowledge topic record.
func change(rec persistence.Record) (string, events.KnowledgeDocument, error) {
	env, err := events.Parse(rec.Value)
	if err != nil {
		return "", events.KnowledgeDocument{}, err
	}
	p, err := events.Decode(env)
	if err != nil {
		return "", events.KnowledgeDocument{}, err
	}
	ev, ok := p.(*events.KnowledgeDocument)
	if !ok || ev.DocumentID == "" {
		return "", events.KnowledgeDocument{}, fmt.Errorf("event %s: %s is not a knowledge document change", env.ID, env.Type)
	}
	return env.TenantID, *ev, nil
}

func (s *Service) handleProcess(ctx context.Context, rec persistence.Record) bool {
	tenantID, ev, err := change(rec)
	if err != nil {
		s.logger.Error().Err(err).Msg("knowledge record kept on the dead-letter topic")
		return consume.AppendDeadLetter(ctx, s.log, rec, err)
	}
	if ev.Change != events.KnowledgeUploaded {
		return true
	}
	backoff := 200 * time.Millisecond
	for {
		err := s.process(ctx, tenantID, ev)
		if err == nil {
			return true
		}
		if ctx.Err() != nil {
			return false
		}
		s.metrics.processed.WithLabelValues("retried").Inc()
		s.logger.Warn().Err(err).Str("document_id", ev.DocumentID).Int("revision", ev.Revision).Msg("knowledge document not processed yet; retrying")
		if !consume.Sleep(ctx, backoff) {
			return false
		}
		backoff = min(2*backoff, 30*time.Second)
	}
}

// process makes revision ev.Revision of the document ready (or failed).
// It returns an error only for what a retry may cure.
func (s *Service) process(ctx context.Context, tenantID string, ev events.KnowledgeDocument) error {
	doc, err := s.store.GetKnowledgeDocument(ctx, tenantID, ev.DocumentID)
	if errors.Is(err, persistence.ErrNotFound) || (err == nil && (doc.Revision != ev.Revision || doc.Status != persistence.KnowledgeProcessing)) {
		s.metrics.processed.WithLabelValues("superseded").Inc()
		return nil // deleted, or a newer revision (or this one) was handled
	}
	if err != nil {
		return err
	}
	var parsed parsedRevision
	name, data, err := s.store.GetKnowledgeSource(ctx, tenantID, doc.ID, doc.Revision)
	switch {
	case errors.Is(err, persistence.ErrNotFound):
		return s.fail(ctx, doc, "the file of this version is missing")
	case err != nil:
		return err
	default:
		if parsed, err = s.parse(doc, name, data); err != nil {
			return s.fail(ctx, doc, err.Error())
		}
	}
	warning := s.embed(ctx, parsed.chunks)
	// Ready must mean searchable here: the chunks are indexed on this
	// member before the commit that says so; when the commit fails or the
	// revision was superseded, the index is set back to what the store
	// holds.
	shown := doc
	if shown.Language == "" {
		shown.Language = parsed.language
	}
	for i := range parsed.chunks {
		parsed.chunks[i].ID = uuid.NewString()
	}
	ix, err := s.index(tenantID, true)
	if err != nil {
		return err
	}
	if err := ix.Replace(doc.ID, entries(shown, parsed.chunks)); err != nil {
		return fmt.Errorf("index %s: %w", doc.ID, err)
	}
	ready := false
	err = s.store.InTx(ctx, func(tx Tx) error {
		cur, err := tx.GetKnowledgeDocument(ctx, tenantID, doc.ID)
		if errors.Is(err, persistence.ErrNotFound) || (err == nil && (cur.Revision != doc.Revision || cur.Status != persistence.KnowledgeProcessing)) {
			s.metrics.processed.WithLabelValues("superseded").Inc()
			return nil
		}
		if err != nil {
			return err
		}
		if err := tx.ReplaceKnowledgeChunks(ctx, tenantID, doc.ID, parsed.chunks); err != nil {
			return err
		}
		cur.Status, cur.Error, cur.ChunkCount, cur.Body = persistence.KnowledgeReady, warning, len(parsed.chunks), parsed.body
		if cur.Language == "" {
			cur.Language = parsed.language
		}
		if cur.Title == "" {
			cur.Title = parsed.title
		}
		if err := tx.UpdateKnowledgeDocument(ctx, &cur); err != nil {
			return err
		}
		if err := tx.DeleteKnowledgeSourcesBefore(ctx, tenantID, doc.ID, doc.Revision); err != nil {
			return err
		}
		ready = true
		return s.appendChange(ctx, tx, tenantID, events.KnowledgeDocument{DocumentID: doc.ID, Revision: doc.Revision, Change: events.KnowledgeProcessed})
	})
	if err != nil || !ready {
		if serr := s.sync(ctx, tenantID, doc.ID); serr != nil {
			s.logger.Warn().Err(serr).Str("document_id", doc.ID).Msg("knowledge: index not set back to the store yet; the indexer will")
		}
		return err
	}
	s.metrics.processed.WithLabelValues("ready").Inc()
	s.metrics.indexed.WithLabelValues("replace").Inc()
	return nil
}

// parsedRevision is a revision's chunks and what was learnt reading it.
type parsedRevision struct {
	chunks   []persistence.KnowledgeChunk
	body     string
	language string
	title    string
}

// parse reads a revision's file into chunks.
func (s *Service) parse(doc persistence.KnowledgeDocument, name string, data []byte) (parsedRevision, error) {
	var d extract.Document
	var err error
	if doc.Format == FormatProduct {
		d, err = productDocument(data)
	} else {
		var f extract.Format
		if f, err = extract.ParseFormat(doc.Format); err != nil {
			f, err = extract.Detect(name, doc.ContentType, data)
		}
		if err == nil {
			d, err = extract.Parse(f, data)
		}
	}
	if err != nil {
		return parsedRevision{}, err
	}
	out := parsedRevision{title: d.Title}
	var body strings.Builder
	for _, c := range d.Chunk(s.cfg.Chunk) {
		out.chunks = append(out.chunks, persistence.KnowledgeChunk{Revision: doc.Revision, Ordinal: c.Ordinal, Heading: c.Heading,
			Question: c.Question, Text: c.Text})
		if body.Len() < 1<<20 {
			if c.Question != "" {
				body.WriteString(c.Question + "\n")
			}
			body.WriteString(c.Text + "\n\n")
		}
	}
	if len(out.chunks) == 0 {
		return out, fmt.Errorf("%w: nothing in the document can be searched", extract.ErrEmpty)
	}
	out.body = strings.TrimSpace(body.String())
	sample := out.body
	if len(sample) > 4000 {
		sample = sample[:4000]
	}
	out.language, _ = language.Detect(sample)
	return out, nil
}

// embed adds vectors to chunks when an embedding model is configured. It
// tries each batch 3 times; when the model keeps failing the chunks stay
// without vectors (found by keywords) and the returned warning says so.
func (s *Service) embed(ctx context.Context, chunks []persistence.KnowledgeChunk) string {
	if s.cfg.Embedder == nil {
		return ""
	}
	for start := 0; start < len(chunks); start += embedBatch {
		batch := chunks[start:min(start+embedBatch, len(chunks))]
		inputs := make([]string, len(batch))
		for i, c := range batch {
			inputs[i] = embedText(c.Heading, c.Question, c.Text)
		}
		var vecs [][]float32
		var err error
		for attempt := range 3 {
			if vecs, err = s.cfg.Embedder.Embed(ctx, s.cfg.EmbedModel, inputs); err == nil || ctx.Err() != nil {
				break
			}
			consume.Sleep(ctx, time.Duration(attempt+1)*500*time.Millisecond)
		}
		if err == nil && len(vecs) != len(batch) {
			err = fmt.Errorf("%d vectors for %d passages", len(vecs), len(batch))
		}
		if err != nil {
			for i := range chunks {
				chunks[i].Vector = nil
			}
			s.logger.Warn().Err(err).Msg("knowledge: embeddings failed; the document is searched by keywords only")
			return "embeddings failed (" + cut(err.Error(), 300) + "): found by keywords only until a new version is processed"
		}
		for i := range batch {
			batch[i].Vector = vecs[i]
		}
	}
	return ""
}

// embedText is what a chunk's vector is computed from.
func embedText(heading, question, text string) string {
	var parts []string
	for _, p := range []string{heading, question, text} {
		if p != "" {
			parts = append(parts, p)
		}
	}
	return cut(strings.Join(parts, "\n"), 4000)
}

// fail marks the revision failed with why, and tells the topic.
func (s *Service) fail(ctx context.Context, doc persistence.KnowledgeDocument, why string) error {
	return s.store.InTx(ctx, func(tx Tx) error {
		cur, err := tx.GetKnowledgeDocument(ctx, doc.TenantID, doc.ID)
		if errors.Is(err, persistence.ErrNotFound) || (err == nil && cur.Revision != doc.Revision) {
			return nil
		}
		if err != nil {
			return err
		}
		cur.Status, cur.Error = persistence.KnowledgeFailed, cut(why, 1000)
		if err := tx.UpdateKnowledgeDocument(ctx, &cur); err != nil {
			return err
		}
		s.metrics.processed.WithLabelValues("failed").Inc()
		return s.appendChange(ctx, tx, doc.TenantID, events.KnowledgeDocument{DocumentID: doc.ID, Revision: doc.Revision,
			Change: events.KnowledgeFailed, Error: cur.Error})
	})
}
