package gateway

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/frontdesk-ai/frontdesk/knowledge"
	"github.com/frontdesk-ai/frontdesk/knowledge/extract"
	"github.com/frontdesk-ai/frontdesk/persistence"
)

// Knowledge is the knowledge base the API manages and searches
// (knowledge.Service).
type Knowledge interface {
	Upload(ctx context.Context, tenantID string, by knowledge.Actor, in knowledge.Input) (persistence.KnowledgeDocument, error)
	Revise(ctx context.Context, tenantID, id string, by knowledge.Actor, in knowledge.Input) (persistence.KnowledgeDocument, error)
	Delete(ctx context.Context, tenantID, id string, by knowledge.Actor) error
	Search(ctx context.Context, tenantID, query string, k int, f knowledge.Filters) (knowledge.Results, error)
	Coverage(ctx context.Context, tenantID string, from, to time.Time) (knowledge.Report, error)
	MaxUploadBytes() int64
}

// Error codes of the knowledge API.
const (
	CodeUnsupportedType = "unsupported_type"
	CodeUnreadable      = "unreadable"
)

// knowledgeError maps the knowledge base's refusals to statuses: a field
// that breaks a rule or a type frontdesk does not read is 400, a file too
// large 413, a file that cannot be read or holds no text 422.
func knowledgeError(err error) error {
	switch {
	case errors.Is(err, knowledge.ErrInvalid):
		return &Error{Status: http.StatusBadRequest, Code: CodeInvalid, Message: err.Error(), Err: err}
	case errors.Is(err, extract.ErrUnsupported):
		return &Error{Status: http.StatusBadRequest, Code: CodeUnsupportedType, Message: err.Error(), Err: err}
	case errors.Is(err, knowledge.ErrTooLarge):
		return &Error{Status: http.StatusRequestEntityTooLarge, Code: CodeTooLarge, Message: err.Error(), Err: err}
	case errors.Is(err, extract.ErrCorrupt), errors.Is(err, extract.ErrEmpty):
		return &Error{Status: http.StatusUnprocessableEntity, Code: CodeUnreadable, Message: err.Error(), Err: err}
	}
	return err
}

func (a *API) knowledgeBase() (Knowledge, error) {
	if a.cfg.Knowledge == nil {
		return nil, &Error{Status: http.StatusServiceUnavailable, Code: CodeInternal, Message: "the knowledge base is not running"}
	}
	return a.cfg.Knowledge, nil
}

type documentJSON struct {
	ID         string     `json:"id"`
	Title      string     `json:"title"`
	Kind       string     `json:"kind"`
	Tags       []string   `json:"tags"`
	Language   string     `json:"language"`
	SourceURL  string     `json:"source_url"`
	ValidFrom  *time.Time `json:"valid_from"`
	ValidUntil *time.Time `json:"valid_until"`
	Format     string     `json:"format"`
	Source     string     `json:"source"`
	SizeBytes  int64      `json:"size_bytes"`
	Status     string     `json:"status"`
	Error      string     `json:"error"`
	// Version is the document's revision (1, then +1 per new version).
	Version    int       `json:"version"`
	ChunkCount int       `json:"chunk_count"`
	CreatedAt  time.Time `json:"created_at"`
	UpdatedAt  time.Time `json:"updated_at"`
}

func toDocumentJSON(d persistence.KnowledgeDocument) documentJSON {
	tags := d.Tags
	if tags == nil {
		tags = []string{}
	}
	return documentJSON{ID: d.ID, Title: d.Title, Kind: string(d.Kind), Tags: tags, Language: d.Language, SourceURL: d.SourceURL,
		ValidFrom: d.ValidFrom, ValidUntil: d.ValidUntil, Format: d.Format, Source: d.Source, SizeBytes: d.SizeBytes,
		Status: string(d.Status), Error: d.Error, Version: d.Revision, ChunkCount: d.ChunkCount, CreatedAt: d.CreatedAt, UpdatedAt: d.UpdatedAt}
}

// documentInput is a document's fields as JSON (content is the text).
type documentInput struct {
	Title      string     `json:"title"`
	Content    *string    `json:"content"`
	Format     string     `json:"format"`
	Kind       string     `json:"kind"`
	Tags       []string   `json:"tags"`
	Language   string     `json:"language"`
	SourceURL  string     `json:"source_url"`
	ValidFrom  *time.Time `json:"valid_from"`
	ValidUntil *time.Time `json:"valid_until"`
}

// readDocument reads an upload: multipart/form-data with the file in
// "file" and the fields beside it, or JSON with the text in "content"
// (markdown unless "format" says otherwise).
func (a *API) readDocument(w http.ResponseWriter, r *http.Request, kb Knowledge) (knowledge.Input, error) {
	limit := kb.MaxUploadBytes()
	mt, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt != "multipart/form-data" {
		// JSON escapes can double a text's size; the content's own size is
		// checked against the limit after decoding.
		var in documentInput
		if err := readJSONBody(w, r, 2*limit+64<<10, &in); err != nil {
			if e := overLimit(err, "the body is over twice the %d-byte upload limit", limit); e != nil {
				return knowledge.Input{}, e
			}
			return knowledge.Input{}, err
		}
		if in.Content == nil {
			return knowledge.Input{}, errInvalid("content is required (or upload a file as multipart/form-data)")
		}
		format := in.Format
		if format == "" {
			format = string(extract.Markdown)
		}
		return knowledge.Input{Title: in.Title, Format: format, Kind: persistence.KnowledgeKind(in.Kind), Tags: in.Tags, Language: in.Language,
			SourceURL: in.SourceURL, ValidFrom: in.ValidFrom, ValidUntil: in.ValidUntil, Data: []byte(*in.Content), ContentType: "text/plain"}, nil
	}
	if params["boundary"] == "" {
		return knowledge.Input{}, errBadRequest("multipart/form-data without a boundary", nil)
	}
	r.Body = http.MaxBytesReader(w, r.Body, limit+1<<20)
	mr, err := r.MultipartReader()
	if err != nil {
		return knowledge.Input{}, errBadRequest("malformed multipart body", err)
	}
	var in knowledge.Input
	fields := map[string]string{}
	seenFile := false
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			if e := overLimit(err, "the file is over the %d-byte upload limit", limit); e != nil {
				return in, e
			}
			return in, errBadRequest("malformed multipart body", err)
		}
		name := part.FormName()
		if name == "file" {
			data, err := io.ReadAll(io.LimitReader(part, limit+1))
			if err != nil {
				if e := overLimit(err, "the file is over the %d-byte upload limit", limit); e != nil {
					return in, e
				}
				return in, errBadRequest("reading the file failed", err)
			}
			in.Data, in.FileName, in.ContentType, seenFile = data, part.FileName(), part.Header.Get("Content-Type"), true
			continue
		}
		v, err := io.ReadAll(io.LimitReader(part, 64<<10))
		if err != nil {
			return in, errBadRequest("malformed multipart body", err)
		}
		fields[name] = string(v)
	}
	if !seenFile {
		return in, errInvalid(`the multipart body has no "file" part`)
	}
	in.Title, in.Format, in.Kind, in.Language, in.SourceURL = fields["title"], fields["format"], persistence.KnowledgeKind(fields["kind"]), fields["language"], fields["source_url"]
	if t := fields["tags"]; t != "" {
		in.Tags = strings.Split(t, ",")
	}
	for name, dst := range map[string]**time.Time{"valid_from": &in.ValidFrom, "valid_until": &in.ValidUntil} {
		if v := strings.TrimSpace(fields[name]); v != "" {
			t, err := time.Parse(time.RFC3339, v)
			if err != nil {
				return in, errInvalid(name + " is not an RFC 3339 time")
			}
			*dst = &t
		}
	}
	return in, nil
}

// overLimit is the 413 of a body cut by http.MaxBytesReader (nil for any
// other error).
func overLimit(err error, format string, limit int64) error {
	var tooLarge *http.MaxBytesError
	if !errors.As(err, &tooLarge) {
		return nil
	}
	return knowledgeError(fmt.Errorf("%w: "+format, knowledge.ErrTooLarge, limit))
}

func actorOf(p Principal) knowledge.Actor {
	return knowledge.Actor{Kind: persistence.ActorUser, ID: p.UserID}
}

// writeDocument handles POST /api/v1/knowledge/documents (201) and, with
// revise, PUT /api/v1/knowledge/documents/{id} (200): the file is accepted
// for processing.
func (a *API) writeDocument(revise bool) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, p Principal) error {
		kb, err := a.knowledgeBase()
		if err != nil {
			return err
		}
		in, err := a.readDocument(w, r, kb)
		if err != nil {
			return err
		}
		status, doc := http.StatusCreated, persistence.KnowledgeDocument{}
		if revise {
			status = http.StatusOK
			doc, err = kb.Revise(r.Context(), p.TenantID, r.PathValue("id"), actorOf(p), in)
		} else {
			doc, err = kb.Upload(r.Context(), p.TenantID, actorOf(p), in)
		}
		if err != nil {
			return knowledgeError(err)
		}
		writeJSON(w, status, map[string]any{"id": doc.ID, "status": doc.Status, "version": doc.Revision})
		return nil
	}
}

// deleteDocument handles DELETE /api/v1/knowledge/documents/{id}.
func (a *API) deleteDocument(w http.ResponseWriter, r *http.Request, p Principal) error {
	kb, err := a.knowledgeBase()
	if err != nil {
		return err
	}
	if err := kb.Delete(r.Context(), p.TenantID, r.PathValue("id"), actorOf(p)); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// getDocument handles GET /api/v1/knowledge/documents/{id}.
func (a *API) getDocument(w http.ResponseWriter, r *http.Request, p Principal) error {
	doc, err := a.store.GetKnowledgeDocument(r.Context(), p.TenantID, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toDocumentJSON(doc))
	return nil
}

// listDocuments handles GET /api/v1/knowledge/documents (newest first).
func (a *API) listDocuments(w http.ResponseWriter, r *http.Request, p Principal) error {
	page, err := pageOf(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	status, kind := persistence.KnowledgeStatus(q.Get("status")), persistence.KnowledgeKind(q.Get("kind"))
	if status != "" && !status.Valid() {
		return errInvalid("status must be processing, ready or failed")
	}
	if kind != "" && !kind.Valid() {
		return errInvalid("kind must be faq, policy, product or article")
	}
	docs, next, err := a.store.ListKnowledgeDocumentsNewest(r.Context(), p.TenantID, status, kind, page)
	if err != nil {
		return listError("list knowledge documents", err)
	}
	out := make([]documentJSON, len(docs))
	for i, d := range docs {
		out[i] = toDocumentJSON(d)
	}
	writeJSON(w, http.StatusOK, map[string]any{"documents": out, "next_cursor": next})
	return nil
}

type chunkJSON struct {
	ID       string `json:"id"`
	Ordinal  int    `json:"ordinal"`
	Heading  string `json:"heading"`
	Question string `json:"question"`
	Text     string `json:"text"`
}

// listChunks handles GET /api/v1/knowledge/documents/{id}/chunks.
func (a *API) listChunks(w http.ResponseWriter, r *http.Request, p Principal) error {
	doc, err := a.store.GetKnowledgeDocument(r.Context(), p.TenantID, r.PathValue("id"))
	if err != nil {
		return err
	}
	chunks, err := a.store.ListKnowledgeChunks(r.Context(), p.TenantID, doc.ID)
	if err != nil {
		return err
	}
	out := make([]chunkJSON, len(chunks))
	for i, c := range chunks {
		out[i] = chunkJSON{ID: c.ID, Ordinal: c.Ordinal, Heading: c.Heading, Question: c.Question, Text: c.Text}
	}
	writeJSON(w, http.StatusOK, map[string]any{"chunks": out})
	return nil
}

type searchRequest struct {
	Query   string `json:"query"`
	K       int    `json:"k"`
	Filters struct {
		Kind     []string   `json:"kind"`
		Tags     []string   `json:"tags"`
		Language string     `json:"language"`
		At       *time.Time `json:"at"`
	} `json:"filters"`
}

type searchResultJSON struct {
	DocumentID string  `json:"document_id"`
	ChunkID    string  `json:"chunk_id"`
	Title      string  `json:"title"`
	Heading    string  `json:"heading"`
	Question   string  `json:"question"`
	Kind       string  `json:"kind"`
	Score      float64 `json:"score"`
	Relevance  float64 `json:"relevance"`
	Lexical    float64 `json:"lexical"`
	Cosine     float64 `json:"cosine"`
	Snippet    string  `json:"snippet"`
	Text       string  `json:"text"`
	SourceURL  string  `json:"source_url"`
}

// searchKnowledge handles POST /api/v1/knowledge/search.
func (a *API) searchKnowledge(w http.ResponseWriter, r *http.Request, p Principal) error {
	kb, err := a.knowledgeBase()
	if err != nil {
		return err
	}
	var req searchRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	req.Query = strings.TrimSpace(req.Query)
	switch {
	case req.Query == "":
		return errInvalid("query is required")
	case len(req.Query) > 2000:
		return errInvalid("query has more than 2000 bytes")
	case req.K < 0 || req.K > 50:
		return errInvalid("k must be between 1 and 50")
	}
	for _, k := range req.Filters.Kind {
		if !persistence.KnowledgeKind(k).Valid() {
			return errInvalid("filters.kind: " + strconv.Quote(k) + " is not faq, policy, product or article")
		}
	}
	res, err := kb.Search(r.Context(), p.TenantID, req.Query, req.K, knowledge.Filters{Kinds: req.Filters.Kind, Tags: req.Filters.Tags,
		Language: strings.ToLower(req.Filters.Language), At: req.Filters.At})
	if err != nil {
		return err
	}
	out := make([]searchResultJSON, len(res.Results))
	for i, h := range res.Results {
		out[i] = searchResultJSON{DocumentID: h.DocumentID, ChunkID: h.ChunkID, Title: h.Title, Heading: h.Heading, Question: h.Question,
			Kind: h.Kind, Score: h.Score, Relevance: h.Relevance, Lexical: h.Lexical, Cosine: h.Cosine, Snippet: h.Snippet, Text: h.Text,
			SourceURL: h.SourceURL}
	}
	writeJSON(w, http.StatusOK, map[string]any{"results": out, "relevant": res.Relevant, "best": res.Best, "threshold": res.Threshold, "mode": res.Mode})
	return nil
}

type topicJSON struct {
	Label           string   `json:"label"`
	Count           int      `json:"count"`
	Unanswered      int      `json:"unanswered"`
	Coverage        float64  `json:"coverage"`
	Examples        []string `json:"examples"`
	ConversationIDs []string `json:"conversation_ids"`
}

// knowledgeCoverage handles GET /api/v1/knowledge/coverage (JSON, or CSV
// with format=csv).
func (a *API) knowledgeCoverage(w http.ResponseWriter, r *http.Request, p Principal) error {
	kb, err := a.knowledgeBase()
	if err != nil {
		return err
	}
	q := r.URL.Query()
	to := time.Now().UTC()
	if v := q.Get("to"); v != "" {
		if to, err = time.Parse(time.RFC3339, v); err != nil {
			return errInvalid("to is not an RFC 3339 time")
		}
	}
	from := to.Add(-7 * 24 * time.Hour)
	if v := q.Get("from"); v != "" {
		if from, err = time.Parse(time.RFC3339, v); err != nil {
			return errInvalid("from is not an RFC 3339 time")
		}
	}
	switch {
	case !to.After(from):
		return errInvalid("to must be after from")
	case to.Sub(from) > 366*24*time.Hour:
		return errInvalid("a coverage report spans at most 366 days")
	}
	rep, err := kb.Coverage(r.Context(), p.TenantID, from, to)
	if err != nil {
		return err
	}
	switch q.Get("format") {
	case "csv":
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="coverage-%s-%s.csv"`, from.UTC().Format("20060102"), to.UTC().Format("20060102")))
		w.Header().Set("Cache-Control", "no-store")
		return rep.WriteCSV(w)
	case "", "json":
	default:
		return errInvalid("format must be json or csv")
	}
	topics := make([]topicJSON, len(rep.Topics))
	for i, t := range rep.Topics {
		topics[i] = topicJSON{Label: t.Label, Count: t.Count, Unanswered: t.Unanswered, Coverage: t.Coverage, Examples: t.Examples,
			ConversationIDs: t.ConversationIDs}
	}
	writeJSON(w, http.StatusOK, map[string]any{"from": rep.From, "to": rep.To, "threshold": rep.Threshold, "questions": rep.Questions,
		"answered_with_sources": rep.AnsweredWithSources, "share_answered": rep.ShareAnswered, "no_relevant_docs": rep.NoRelevantDocs,
		"truncated": rep.Truncated, "topics": topics})
	return nil
}
