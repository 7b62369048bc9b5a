package sqlstore

import (
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/frontdesk-ai/frontdesk/persistence"
)

var knowledgeDocuments = table[persistence.KnowledgeDocument]{
	name: "knowledge_documents",
	cols: []string{"title", "source", "content_type", "body", "tags", "status", "format", "kind", "language", "source_url",
		"valid_from", "valid_until", "revision", "size_bytes", "error", "chunk_count", "external_key"},
	fields: func(m *persistence.KnowledgeDocument) []any {
		return []any{&m.Title, &m.Source, &m.ContentType, &m.Body, &m.Tags, &m.Status, &m.Format, &m.Kind, &m.Language, &m.SourceURL,
			&m.ValidFrom, &m.ValidUntil, &m.Revision, &m.SizeBytes, &m.Error, &m.ChunkCount, &m.ExternalKey}
	},
	check: func(m *persistence.KnowledgeDocument) error {
		orDefault(&m.Status, persistence.KnowledgeProcessing)
		orDefault(&m.Kind, persistence.KnowledgeArticle)
		if m.Revision == 0 {
			m.Revision = 1
		}
		return errors.Join(need(m.Title != "", "title", m.Title), need(m.Status.Valid(), "status", m.Status),
			need(m.Kind.Valid(), "kind", m.Kind), need(m.Revision > 0, "revision", m.Revision))
	},
}

// CreateKnowledgeDocument stores a new knowledge document. An ExternalKey
// the tenant already has fails with persistence.ErrDuplicate.
func (q q) CreateKnowledgeDocument(ctx context.Context, m *persistence.KnowledgeDocument) error {
	return create(ctx, q, knowledgeDocuments, m)
}

// GetKnowledgeDocument returns the tenant's knowledge document id, or
// persistence.ErrNotFound.
func (q q) GetKnowledgeDocument(ctx context.Context, tenantID, id string) (persistence.KnowledgeDocument, error) {
	return get(ctx, q, knowledgeDocuments, tenantID, id)
}

// GetKnowledgeDocumentByExternalKey returns the tenant's document generated
// from key (a shop's product), or persistence.ErrNotFound.
func (q q) GetKnowledgeDocumentByExternalKey(ctx context.Context, tenantID, key string) (persistence.KnowledgeDocument, error) {
	return byKey(ctx, q, knowledgeDocuments, tenantID, "external_key", key)
}

// UpdateKnowledgeDocument writes m if m.Version is still the stored version
// (else persistence.ErrVersionConflict) and bumps m's Version and UpdatedAt.
func (q q) UpdateKnowledgeDocument(ctx context.Context, m *persistence.KnowledgeDocument) error {
	return update(ctx, q, knowledgeDocuments, m)
}

// ListKnowledgeDocuments returns one page of the tenant's knowledge
// documents, oldest first, and the next cursor ("" on the last page).
func (q q) ListKnowledgeDocuments(ctx context.Context, tenantID string, p persistence.Page) ([]persistence.KnowledgeDocument, string, error) {
	return list(ctx, q, knowledgeDocuments, p, "tenant_id = ?", tenantID)
}

// ListKnowledgeDocumentsNewest returns one page of the tenant's documents,
// newest first, of status and kind when not empty.
func (q q) ListKnowledgeDocumentsNewest(ctx context.Context, tenantID string, status persistence.KnowledgeStatus, kind persistence.KnowledgeKind, p persistence.Page) ([]persistence.KnowledgeDocument, string, error) {
	where, args := "tenant_id = ?", []any{tenantID}
	if status != "" {
		where, args = where+" AND status = ?", append(args, string(status))
	}
	if kind != "" {
		where, args = where+" AND kind = ?", append(args, string(kind))
	}
	return listNewest(ctx, q, knowledgeDocuments, p, where, args...)
}

// ListKnowledgeDocumentsByStatus returns every document of the tenant in
// status (all tenants when tenantID is empty), oldest first.
func (q q) ListKnowledgeDocumentsByStatus(ctx context.Context, tenantID string, status persistence.KnowledgeStatus) ([]persistence.KnowledgeDocument, error) {
	if tenantID == "" {
		return all(ctx, q, knowledgeDocuments, "WHERE status = ? ORDER BY created_at, id", string(status))
	}
	return all(ctx, q, knowledgeDocuments, "WHERE tenant_id = ? AND status = ? ORDER BY created_at, id", tenantID, string(status))
}

// KnowledgeTenants returns the tenants that have knowledge documents.
func (q q) KnowledgeTenants(ctx context.Context) ([]string, error) {
	rows, err := q.ex.QueryContext(ctx, "SELECT DISTINCT tenant_id FROM knowledge_documents ORDER BY tenant_id")
	if err != nil {
		return nil, fmt.Errorf("knowledge tenants: %w", mapErr(err))
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("knowledge tenants: %w", err)
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

// DeleteKnowledgeDocument removes the tenant's document id with its files
// and chunks; persistence.ErrNotFound when there is none.
func (q q) DeleteKnowledgeDocument(ctx context.Context, tenantID, id string) error {
	for _, stmt := range []string{"DELETE FROM knowledge_chunks WHERE tenant_id = ? AND document_id = ?",
		"DELETE FROM knowledge_sources WHERE tenant_id = ? AND document_id = ?"} {
		if _, err := q.ex.ExecContext(ctx, q.d.rebind(stmt), tenantID, id); err != nil {
			return fmt.Errorf("delete knowledge document %s: %w", id, mapErr(err))
		}
	}
	res, err := q.ex.ExecContext(ctx, q.d.rebind("DELETE FROM knowledge_documents WHERE tenant_id = ? AND id = ?"), tenantID, id)
	if err != nil {
		return fmt.Errorf("delete knowledge document %s: %w", id, mapErr(err))
	}
	if n, err := res.RowsAffected(); err == nil && n == 0 {
		return fmt.Errorf("delete knowledge document %s: %w", id, persistence.ErrNotFound)
	}
	return nil
}

// PutKnowledgeSource stores the file of revision of the tenant's document
// (replacing one stored for that revision before).
func (q q) PutKnowledgeSource(ctx context.Context, tenantID, documentID string, revision int, fileName string, data []byte) error {
	_, err := q.ex.ExecContext(ctx, q.d.rebind(`INSERT INTO knowledge_sources (document_id, revision, tenant_id, file_name, data, created_at)
		VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (document_id, revision) DO UPDATE SET file_name = excluded.file_name, data = excluded.data`),
		documentID, revision, tenantID, fileName, data, normTime(time.Now()))
	if err != nil {
		return fmt.Errorf("put knowledge source %s/%d: %w", documentID, revision, mapErr(err))
	}
	return nil
}

// GetKnowledgeSource returns the file name and bytes of revision of the
// tenant's document, or persistence.ErrNotFound.
func (q q) GetKnowledgeSource(ctx context.Context, tenantID, documentID string, revision int) (string, []byte, error) {
	var name string
	var data []byte
	err := q.ex.QueryRowContext(ctx, q.d.rebind("SELECT file_name, data FROM knowledge_sources WHERE tenant_id = ? AND document_id = ? AND revision = ?"),
		tenantID, documentID, revision).Scan(&name, &data)
	if err != nil {
		return "", nil, fmt.Errorf("get knowledge source %s/%d: %w", documentID, revision, mapErr(err))
	}
	return name, data, nil
}

// DeleteKnowledgeSourcesBefore removes the files of the document's
// revisions older than revision.
func (q q) DeleteKnowledgeSourcesBefore(ctx context.Context, tenantID, documentID string, revision int) error {
	_, err := q.ex.ExecContext(ctx, q.d.rebind("DELETE FROM knowledge_sources WHERE tenant_id = ? AND document_id = ? AND revision < ?"),
		tenantID, documentID, revision)
	if err != nil {
		return fmt.Errorf("delete knowledge sources of %s: %w", documentID, mapErr(err))
	}
	return nil
}

// ReplaceKnowledgeChunks makes chunks the document's passages: every chunk
// stored for it before is removed. Chunks without an ID get one.
func (q q) ReplaceKnowledgeChunks(ctx context.Context, tenantID, documentID string, chunks []persistence.KnowledgeChunk) error {
	if _, err := q.ex.ExecContext(ctx, q.d.rebind("DELETE FROM knowledge_chunks WHERE tenant_id = ? AND document_id = ?"), tenantID, documentID); err != nil {
		return fmt.Errorf("replace knowledge chunks of %s: %w", documentID, mapErr(err))
	}
	const cols = 9
	for start := 0; start < len(chunks); start += 100 {
		batch := chunks[start:min(start+100, len(chunks))]
		var sb strings.Builder
		sb.WriteString("INSERT INTO knowledge_chunks (id, tenant_id, document_id, revision, ordinal, heading, question, text, vector) VALUES ")
		args := make([]any, 0, cols*len(batch))
		for i := range batch {
			c := &batch[i]
			if c.ID == "" {
				c.ID = uuid.NewString()
			}
			c.TenantID, c.DocumentID = tenantID, documentID
			if i > 0 {
				sb.WriteString(", ")
			}
			sb.WriteString("(?, ?, ?, ?, ?, ?, ?, ?, ?)")
			args = append(args, c.ID, tenantID, documentID, c.Revision, c.Ordinal, c.Heading, c.Question, c.Text, encodeVector(c.Vector))
		}
		if _, err := q.ex.ExecContext(ctx, q.d.rebind(sb.String()), args...); err != nil {
			return fmt.Errorf("replace knowledge chunks of %s: %w", documentID, mapErr(err))
		}
	}
	return nil
}

const chunkColumns = "id, tenant_id, document_id, revision, ordinal, heading, question, text, vector"

func scanChunks(rows *sql.Rows) ([]persistence.KnowledgeChunk, error) {
	defer rows.Close()
	var out []persistence.KnowledgeChunk
	for rows.Next() {
		var c persistence.KnowledgeChunk
		var vec []byte
		if err := rows.Scan(&c.ID, &c.TenantID, &c.DocumentID, &c.Revision, &c.Ordinal, &c.Heading, &c.Question, &c.Text, &vec); err != nil {
			return nil, fmt.Errorf("scan knowledge chunk: %w", err)
		}
		var err error
		if c.Vector, err = decodeVector(vec); err != nil {
			return nil, fmt.Errorf("knowledge chunk %s: %w", c.ID, err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// ListKnowledgeChunks returns the document's chunks in order.
func (q q) ListKnowledgeChunks(ctx context.Context, tenantID, documentID string) ([]persistence.KnowledgeChunk, error) {
	rows, err := q.ex.QueryContext(ctx, q.d.rebind("SELECT "+chunkColumns+" FROM knowledge_chunks WHERE tenant_id = ? AND document_id = ? ORDER BY ordinal"),
		tenantID, documentID)
	if err != nil {
		return nil, fmt.Errorf("list knowledge chunks of %s: %w", documentID, mapErr(err))
	}
	return scanChunks(rows)
}

// ScanKnowledgeChunks returns up to limit of the tenant's chunks with ids
// after afterID, by id: the whole knowledge base, page by page (rebuilding
// an index).
func (q q) ScanKnowledgeChunks(ctx context.Context, tenantID, afterID string, limit int) ([]persistence.KnowledgeChunk, error) {
	rows, err := q.ex.QueryContext(ctx, q.d.rebind("SELECT "+chunkColumns+" FROM knowledge_chunks WHERE tenant_id = ? AND id > ? ORDER BY id LIMIT ?"),
		tenantID, afterID, limit)
	if err != nil {
		return nil, fmt.Errorf("scan knowledge chunks: %w", mapErr(err))
	}
	return scanChunks(rows)
}

// encodeVector stores v as little-endian float32s (nil stays NULL).
func encodeVector(v []float32) []byte {
	if v == nil {
		return nil
	}
	b := make([]byte, 4*len(v))
	for i, f := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(f))
	}
	return b
}

func decodeVector(b []byte) ([]float32, error) {
	if b == nil {
		return nil, nil
	}
	if len(b)%4 != 0 {
		return nil, fmt.Errorf("vector of %d bytes is not float32s", len(b))
	}
	v := make([]float32, len(b)/4)
	for i := range v {
		v[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return v, nil
}

// RecordKnowledgeQuestion stores m (an ID is made when empty); a second
// question of the same turn changes nothing.
func (q q) RecordKnowledgeQuestion(ctx context.Context, m *persistence.KnowledgeQuestion) error {
	if m.ID == "" {
		m.ID = uuid.NewString()
	}
	if m.TenantID == "" || m.TurnID == "" {
		return fmt.Errorf("record knowledge question: tenant and turn are required: %w", persistence.ErrInvalid)
	}
	_, err := q.ex.ExecContext(ctx, q.d.rebind(`INSERT INTO knowledge_questions (id, tenant_id, conversation_id, turn_id, asked_at, question,
		best_relevance, relevant, answered_with_sources) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (tenant_id, turn_id) DO NOTHING`),
		m.ID, m.TenantID, m.ConversationID, m.TurnID, normTime(m.AskedAt), m.Question, m.BestRelevance, m.Relevant, m.AnsweredWithSources)
	if err != nil {
		return fmt.Errorf("record knowledge question: %w", mapErr(err))
	}
	return nil
}

// ListKnowledgeQuestions returns the tenant's questions asked in [from, to),
// oldest first, at most limit.
func (q q) ListKnowledgeQuestions(ctx context.Context, tenantID string, from, to time.Time, limit int) ([]persistence.KnowledgeQuestion, error) {
	rows, err := q.ex.QueryContext(ctx, q.d.rebind(`SELECT id, tenant_id, conversation_id, turn_id, asked_at, question, best_relevance, relevant,
		answered_with_sources FROM knowledge_questions WHERE tenant_id = ? AND asked_at >= ? AND asked_at < ? ORDER BY asked_at, id LIMIT ?`),
		tenantID, normTime(from), normTime(to), limit)
	if err != nil {
		return nil, fmt.Errorf("list knowledge questions: %w", mapErr(err))
	}
	defer rows.Close()
	var out []persistence.KnowledgeQuestion
	for rows.Next() {
		var m persistence.KnowledgeQuestion
		if err := rows.Scan(&m.ID, &m.TenantID, &m.ConversationID, &m.TurnID, field{&m.AskedAt}, &m.Question, &m.BestRelevance,
			&m.Relevant, &m.AnsweredWithSources); err != nil {
			return nil, fmt.Errorf("list knowledge questions: %w", err)
		}
		out = append(out, m)
	}
	return out, rows.Err()
}
