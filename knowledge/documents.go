package knowledge

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"path"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/frontdesk-ai/frontdesk/events"
	"github.com/frontdesk-ai/frontdesk/knowledge/extract"
	"github.com/frontdesk-ai/frontdesk/persistence"
)

// Input is one document's file and what it is.
type Input struct {
	Title string
	// FileName and ContentType are the upload's; Format, when set
	// ("markdown", "html", "text", "pdf", "csv"), overrides detection.
	FileName, ContentType, Format string
	// Kind defaults to article (faq for a CSV).
	Kind                  persistence.KnowledgeKind
	Tags                  []string
	Language              string
	SourceURL             string
	ValidFrom, ValidUntil *time.Time
	Data                  []byte
}

// Actor is who changes a document: persistence.ActorUser with the user id,
// or persistence.ActorSystem (the catalogue).
type Actor struct{ Kind, ID string }

// Audit actions of documents.
const (
	ActionUploaded = "knowledge.document.uploaded"
	ActionRevised  = "knowledge.document.revised"
	ActionDeleted  = "knowledge.document.deleted"
)

// Limits of a document's fields.
const (
	maxTitle = 200
	maxTags  = 20
	maxTag   = 50
	maxURL   = 2048
)

// checked is an input that passed every check, with its format.
type checked struct {
	Input
	format extract.Format
	chunks int
}

// check validates in, detects its format and parses and chunks it, so that
// an upload that could never be processed is refused at once and nothing
// of it is stored.
func (s *Service) check(in Input) (checked, error) {
	c := checked{Input: in}
	if int64(len(in.Data)) > s.cfg.MaxUploadBytes {
		return c, fmt.Errorf("%w: the file has %d bytes, at most %d are accepted", ErrTooLarge, len(in.Data), s.cfg.MaxUploadBytes)
	}
	var err error
	if in.Format != "" {
		c.format, err = extract.ParseFormat(in.Format)
	} else {
		c.format, err = extract.Detect(in.FileName, in.ContentType, in.Data)
	}
	if err != nil {
		return c, err
	}
	if c.Kind == "" {
		c.Kind = persistence.KnowledgeArticle
		if c.format == extract.CSV {
			c.Kind = persistence.KnowledgeFAQ
		}
	}
	c.Title = strings.TrimSpace(c.Title)
	c.Language = strings.ToLower(strings.TrimSpace(c.Language))
	c.SourceURL = strings.TrimSpace(c.SourceURL)
	c.Tags, err = cleanTags(c.Tags)
	if err != nil {
		return c, err
	}
	if err := errors.Join(checkKind(c.Kind), checkLanguage(c.Language), checkURL(c.SourceURL), checkValidity(c.ValidFrom, c.ValidUntil),
		checkTitle(c.Title)); err != nil {
		return c, err
	}
	doc, err := extract.Parse(c.format, in.Data)
	if err != nil {
		return c, err
	}
	c.chunks = len(doc.Chunk(s.cfg.Chunk))
	if c.chunks == 0 {
		return c, fmt.Errorf("%w: nothing in the document can be searched", extract.ErrEmpty)
	}
	if c.Title == "" {
		c.Title = cut(firstOf(doc.Title, strings.TrimSuffix(path.Base(in.FileName), path.Ext(in.FileName)), "Untitled document"), maxTitle)
	}
	return c, nil
}

func firstOf(vs ...string) string {
	for _, v := range vs {
		if v = strings.TrimSpace(v); v != "" && v != "." && v != "/" {
			return v
		}
	}
	return ""
}

func checkTitle(t string) error {
	if utf8.RuneCountInString(t) > maxTitle {
		return fmt.Errorf("%w: the title has more than %d characters", ErrInvalid, maxTitle)
	}
	return nil
}

func checkKind(k persistence.KnowledgeKind) error {
	if !k.Valid() {
		return fmt.Errorf("%w: kind %q is not one of faq, policy, product, article", ErrInvalid, k)
	}
	return nil
}

func checkLanguage(l string) error {
	if l == "" {
		return nil
	}
	if len(l) != 2 || l[0] < 'a' || l[0] > 'z' || l[1] < 'a' || l[1] > 'z' {
		return fmt.Errorf("%w: language %q is not an ISO 639-1 code (en, es, …)", ErrInvalid, l)
	}
	return nil
}

func checkURL(u string) error {
	if u == "" {
		return nil
	}
	p, err := url.Parse(u)
	if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" || len(u) > maxURL {
		return fmt.Errorf("%w: source_url %q is not an http(s) URL", ErrInvalid, cut(u, 100))
	}
	return nil
}

func checkValidity(from, until *time.Time) error {
	if from != nil && until != nil && !until.After(*from) {
		return fmt.Errorf("%w: valid_until must be after valid_from", ErrInvalid)
	}
	return nil
}

// cleanTags trims and lower-cases tags and drops repeats.
func cleanTags(tags []string) ([]string, error) {
	var out []string
	for _, t := range tags {
		t = strings.ToLower(strings.TrimSpace(t))
		if t == "" || slices.Contains(out, t) {
			continue
		}
		if utf8.RuneCountInString(t) > maxTag {
			return nil, fmt.Errorf("%w: tag %q has more than %d characters", ErrInvalid, cut(t, 60), maxTag)
		}
		out = append(out, t)
	}
	if len(out) > maxTags {
		return nil, fmt.Errorf("%w: %d tags, at most %d", ErrInvalid, len(out), maxTags)
	}
	return out, nil
}

func cut(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n])
}

// Upload stores a new document with its file and queues its processing:
// it comes back in status processing, and the knowledge topic's processor
// makes it ready (or failed, with the reason).
func (s *Service) Upload(ctx context.Context, tenantID string, by Actor, in Input) (persistence.KnowledgeDocument, error) {
	c, err := s.check(in)
	if err != nil {
		return persistence.KnowledgeDocument{}, err
	}
	doc := persistence.KnowledgeDocument{Base: persistence.Base{TenantID: tenantID}, Source: persistence.KnowledgeUpload, Revision: 1,
		Status: persistence.KnowledgeProcessing}
	c.apply(&doc)
	err = s.store.InTx(ctx, func(tx Tx) error {
		if err := tx.CreateKnowledgeDocument(ctx, &doc); err != nil {
			return err
		}
		return s.stored(ctx, tx, by, &doc, c, ActionUploaded)
	})
	return doc, err
}

// Revise stores a new version of the tenant's document id: its file and
// fields replace the old ones once processed; until then the old chunks
// keep answering.
func (s *Service) Revise(ctx context.Context, tenantID, id string, by Actor, in Input) (persistence.KnowledgeDocument, error) {
	c, err := s.check(in)
	if err != nil {
		return persistence.KnowledgeDocument{}, err
	}
	var doc persistence.KnowledgeDocument
	err = s.store.InTx(ctx, func(tx Tx) error {
		if doc, err = tx.GetKnowledgeDocument(ctx, tenantID, id); err != nil {
			return err
		}
		doc.Revision++
		doc.Status, doc.Error = persistence.KnowledgeProcessing, ""
		c.apply(&doc)
		if err := tx.UpdateKnowledgeDocument(ctx, &doc); err != nil {
			return err
		}
		return s.stored(ctx, tx, by, &doc, c, ActionRevised)
	})
	return doc, err
}

// apply writes the checked fields onto doc.
func (c checked) apply(doc *persistence.KnowledgeDocument) {
	doc.Title, doc.Kind, doc.Tags, doc.Language, doc.SourceURL = c.Title, c.Kind, c.Tags, c.Language, c.SourceURL
	doc.ValidFrom, doc.ValidUntil = utcOrNil(c.ValidFrom), utcOrNil(c.ValidUntil)
	doc.ContentType, doc.Format, doc.SizeBytes = c.ContentType, string(c.format), int64(len(c.Data))
}

func utcOrNil(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

// stored writes the revision's file, the audit event and the uploaded
// event in tx.
func (s *Service) stored(ctx context.Context, tx Tx, by Actor, doc *persistence.KnowledgeDocument, c checked, action string) error {
	if err := tx.PutKnowledgeSource(ctx, doc.TenantID, doc.ID, doc.Revision, c.FileName, c.Data); err != nil {
		return err
	}
	if err := audit(ctx, tx, by, doc, action, map[string]any{"revision": doc.Revision, "format": c.format, "size_bytes": len(c.Data),
		"file_name": c.FileName, "title": doc.Title}); err != nil {
		return err
	}
	return s.appendChange(ctx, tx, doc.TenantID, events.KnowledgeDocument{DocumentID: doc.ID, Revision: doc.Revision, Change: events.KnowledgeUploaded})
}

// Delete removes the tenant's document id, its files and chunks; this
// member's index forgets it at once, the others when they read the
// knowledge topic.
func (s *Service) Delete(ctx context.Context, tenantID, id string, by Actor) error {
	err := s.store.InTx(ctx, func(tx Tx) error {
		doc, err := tx.GetKnowledgeDocument(ctx, tenantID, id)
		if err != nil {
			return err
		}
		return s.deleteIn(ctx, tx, by, doc)
	})
	if err != nil {
		return err
	}
	return s.forget(tenantID, id)
}

func (s *Service) deleteIn(ctx context.Context, tx Tx, by Actor, doc persistence.KnowledgeDocument) error {
	if err := tx.DeleteKnowledgeDocument(ctx, doc.TenantID, doc.ID); err != nil {
		return err
	}
	if err := audit(ctx, tx, by, &doc, ActionDeleted, map[string]any{"revision": doc.Revision, "title": doc.Title}); err != nil {
		return err
	}
	return s.appendChange(ctx, tx, doc.TenantID, events.KnowledgeDocument{DocumentID: doc.ID, Revision: doc.Revision, Change: events.KnowledgeDeleted})
}

// forget removes a deleted document from this member's index (a writer
// has none: the members' indexers apply the deleted event).
func (s *Service) forget(tenantID, id string) error {
	if s.indexes == nil {
		return nil
	}
	ix, err := s.index(tenantID, false)
	if err != nil || ix == nil {
		return err
	}
	if err := ix.Delete(id); err != nil {
		return fmt.Errorf("knowledge: remove %s from the index: %w", id, err)
	}
	s.metrics.indexed.WithLabelValues("delete").Inc()
	return nil
}

func audit(ctx context.Context, tx Tx, by Actor, doc *persistence.KnowledgeDocument, action string, data map[string]any) error {
	raw, err := json.Marshal(data)
	if err != nil {
		return err
	}
	return tx.CreateAuditEvent(ctx, &persistence.AuditEvent{Base: persistence.Base{TenantID: doc.TenantID}, ActorKind: by.Kind, ActorID: by.ID,
		Action: action, TargetKind: "knowledge_document", TargetID: doc.ID, Data: raw})
}

// appendChange appends a document change to the knowledge topic in tx.
func (s *Service) appendChange(ctx context.Context, tx Tx, tenantID string, ev events.KnowledgeDocument) error {
	env, err := events.New(events.TypeKnowledgeDocument, 1, tenantID, events.KnowledgeKey(tenantID, ev.DocumentID), s.now(), ev)
	if err != nil {
		return err
	}
	rec, err := env.Record(persistence.TopicKnowledge)
	if err != nil {
		return err
	}
	_, err = tx.AppendLog(ctx, rec)
	return err
}
