// Package index owns the knowledge base's retrieval indexes: per tenant, a
// lexical BM25 index on disk (bleve, with accent folding and stemming for
// en, es, de, fr, it and pt) and an in-memory HNSW graph of the chunks'
// embedding vectors, searched together and fused by reciprocal rank fusion
// (k = 60) under filters on kind, tags, language and validity.
//
// The store is the source of truth. This package persists only the lexical
// index: when Index.Fresh reports that an index was created (first use, a
// lost or corrupt directory), the caller rebuilds it from the store with
// Replace; after every start the caller loads the vectors with LoadVectors.
//
// Concurrency and lock order: Set.mu (the tenant cache) is taken before
// Index.mu and never while Index.mu is held. Index.mu is a read/write lock:
// Search holds it for reading across both its lexical and vector parts,
// Replace, Delete and LoadVectors hold it for writing across the bleve batch
// and the vector swap, so that a search sees a document entirely before or
// entirely after a Replace. A background rebuild of the vector graph
// (rebuild.go) takes Index.mu for writing only briefly: to collect its
// change log and to swap the new graph in. Index.close waits for it with
// Index.mu released.
package index

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/index/scorch"
)

// Errors returned by this package.
var (
	// ErrClosed is returned by an Index or Set used after Close or Drop.
	ErrClosed = errors.New("knowledge index closed")
	// ErrDimension is returned when a vector's dimension differs from the
	// dimension of the vectors already in the index.
	ErrDimension = errors.New("vector dimension mismatch")
	// ErrInvalid is returned for an entry that cannot be indexed.
	ErrInvalid = errors.New("invalid entry")
)

// Entry is one chunk of a document as indexed.
type Entry struct {
	ChunkID, DocumentID            string
	Title, Heading, Question, Text string // Question: an FAQ chunk's question (indexed, boosted)
	Kind                           string // faq | policy | product | article
	Tags                           []string
	Language                       string // ISO 639-1 or ""
	SourceURL                      string
	ValidFrom, ValidUntil          time.Time // zero = open-ended
	Vector                         []float32 // nil when no embedding model; one dimension per Index
}

// Filters restrict a search; the zero value restricts nothing.
type Filters struct {
	Kinds    []string  // any of; empty = all
	Tags     []string  // entry has any of; empty = all
	Language string    // "" = all; else entries of that language or with no language
	At       time.Time // zero = no validity filter; else ValidFrom <= At < ValidUntil (zero bounds open)
}

// Query is one search.
type Query struct {
	Text    string
	Vector  []float32 // nil: lexical only
	K       int       // results wanted (default 5, max 50)
	Filters Filters
}

// Hit is one search result.
type Hit struct {
	Entry               // the stored fields (Vector left nil)
	Score       float64 // fused RRF score (ordering)
	Relevance   float64 // 0..1 absolute relevance, comparable across queries: max(Lexical, Cosine)
	Lexical     float64 // 0..1: IDF-weighted share of the query's distinct terms found in this chunk
	Cosine      float64 // cosine similarity to the query vector (0 when no vector)
	LexicalRank int     // 1-based rank in the lexical list, 0 = not in it
	VectorRank  int     // 1-based rank in the vector list, 0 = not in it
	Snippet     string  // up to ~240 chars of Text around the best-matching terms, "…" where cut
}

// Options tunes the indexes; the zero value gives the defaults.
type Options struct {
	// M is the HNSW graph's links per node and level (2M on level 0); default 16.
	M int
	// EfConstruction is the beam width while inserting a vector; default 100.
	EfConstruction int
	// EfSearch is the beam width of a vector search (at least the list depth); default 64.
	EfSearch int
	// RebuildRatio: the graph is rebuilt from its live vectors when deleted
	// ones exceed RebuildRatio × live ones (and 1,000); default 0.5. The
	// rebuild runs in the background: searches and writes go on meanwhile.
	RebuildRatio float64
	// SyncWrites makes Replace, Delete and LoadVectors return only once the
	// lexical change is persisted (fsync). By default they return when the
	// change is visible to searches and it is persisted in the background
	// moments later (Close waits for it): a crash can lose the last changes,
	// which a consistency check of Documents against the store finds.
	SyncWrites bool
	// Logf, when set, is told of a corrupt index directory moved aside.
	Logf func(format string, args ...any)
}

func (o Options) withDefaults() Options {
	if o.M <= 1 {
		o.M = 16
	}
	if o.EfConstruction <= 0 {
		o.EfConstruction = 100
	}
	if o.EfSearch <= 0 {
		o.EfSearch = 64
	}
	if o.RebuildRatio <= 0 {
		o.RebuildRatio = 0.5
	}
	if o.Logf == nil {
		o.Logf = func(string, ...any) {}
	}
	return o
}

// Set is the per-tenant indexes under one directory. It is safe for
// concurrent use.
type Set struct {
	dir string
	o   Options

	mu      sync.Mutex
	tenants map[string]*Index
	closed  bool
}

// Open opens (creating if needed) the directory that holds every tenant's index.
func Open(dir string, o Options) (*Set, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("open knowledge index dir: %w", err)
	}
	return &Set{dir: dir, o: o.withDefaults(), tenants: make(map[string]*Index)}, nil
}

// Close closes every open tenant index.
func (s *Set) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	var errs []error
	for id, ix := range s.tenants {
		if err := ix.close(); err != nil {
			errs = append(errs, fmt.Errorf("close knowledge index of tenant %s: %w", id, err))
		}
	}
	s.tenants = nil
	return errors.Join(errs...)
}

// tenantDir is a directory name safe on every file system for any tenant id:
// a sanitized prefix for people plus a hash for uniqueness.
func tenantDir(tenantID string) string {
	var b strings.Builder
	for _, r := range tenantID {
		if b.Len() >= 32 {
			break
		}
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-', r == '_':
			b.WriteRune(r)
		case r >= 'A' && r <= 'Z':
			b.WriteRune(r + ('a' - 'A'))
		default:
			b.WriteByte('_')
		}
	}
	sum := sha256.Sum256([]byte(tenantID))
	return "t-" + b.String() + "-" + hex.EncodeToString(sum[:8])
}

// Tenant opens or creates tenantID's index; it is cached until Drop or
// Close. A directory that bleve cannot open is moved aside (renamed with a
// ".corrupt-<time>" suffix) and the index is recreated empty; Index.Fresh
// then reports true.
func (s *Set) Tenant(tenantID string) (*Index, error) {
	if tenantID == "" {
		return nil, fmt.Errorf("knowledge index: empty tenant id: %w", ErrInvalid)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, ErrClosed
	}
	if ix, ok := s.tenants[tenantID]; ok {
		return ix, nil
	}
	path := filepath.Join(s.dir, tenantDir(tenantID))
	ix, err := openIndex(path, s.o)
	if err != nil {
		return nil, fmt.Errorf("open knowledge index of tenant %s: %w", tenantID, err)
	}
	s.tenants[tenantID] = ix
	return ix, nil
}

// Drop closes tenantID's index and deletes its directory.
func (s *Set) Drop(tenantID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	if ix, ok := s.tenants[tenantID]; ok {
		delete(s.tenants, tenantID)
		if err := ix.close(); err != nil {
			return fmt.Errorf("drop knowledge index of tenant %s: %w", tenantID, err)
		}
	}
	if err := os.RemoveAll(filepath.Join(s.dir, tenantDir(tenantID))); err != nil {
		return fmt.Errorf("drop knowledge index of tenant %s: %w", tenantID, err)
	}
	return nil
}

// Index is one tenant's index. It is safe for concurrent use.
type Index struct {
	fresh bool
	o     Options

	mu         sync.RWMutex
	bl         bleve.Index
	vec        *hnsw
	closed     bool
	rebuilding *rebuild // the running background rebuild, nil when none
	rebuildMin int      // rebuildMin; tests lower it
	stats      rebuildStats

	done chan struct{}  // closed by close: a rebuild stops
	wg   sync.WaitGroup // the rebuild goroutine
}

func openIndex(path string, o Options) (*Index, error) {
	ix := &Index{o: o, vec: newHNSW(o), rebuildMin: rebuildMin, done: make(chan struct{})}
	cfg := map[string]any{"unsafe_batch": !o.SyncWrites}
	bl, err := bleve.OpenUsing(path, cfg)
	switch {
	case err == nil:
		ix.bl = bl
		return ix, nil
	case errors.Is(err, bleve.ErrorIndexPathDoesNotExist):
	default:
		aside := fmt.Sprintf("%s.corrupt-%d", path, time.Now().UnixNano())
		if rerr := os.Rename(path, aside); rerr != nil {
			return nil, fmt.Errorf("open %s: %w; moving it aside: %w", path, err, rerr)
		}
		o.Logf("knowledge index %s could not be opened (%v): moved to %s, recreated empty", path, err, aside)
	}
	m, err := newMapping()
	if err != nil {
		return nil, fmt.Errorf("index mapping: %w", err)
	}
	if ix.bl, err = bleve.NewUsing(path, m, scorch.Name, scorch.Name, cfg); err != nil {
		return nil, err
	}
	ix.fresh = true
	return ix, nil
}

func (ix *Index) close() error {
	ix.mu.Lock()
	if ix.closed {
		ix.mu.Unlock()
		return nil
	}
	ix.closed = true
	close(ix.done)
	ix.vecReset()
	ix.mu.Unlock()
	// A rebuild takes ix.mu to swap: wait for it unlocked. Once closed, no
	// method touches ix.bl or ix.vec, so the rest needs no lock.
	ix.wg.Wait()
	ix.awaitPersisted(10 * time.Second)
	return ix.bl.Close()
}

// awaitPersisted waits (up to limit) until the changes of batches that did
// not wait for persistence (Options.SyncWrites false) are on disk: scorch's
// Close does not persist what is still in memory.
func (ix *Index) awaitPersisted(limit time.Duration) {
	adv, err := ix.bl.Advanced()
	if err != nil {
		return
	}
	sc, ok := adv.(*scorch.Scorch)
	if !ok {
		return
	}
	deadline := time.Now().Add(limit)
	for {
		m := sc.StatsMap()
		root, _ := m["CurRootEpoch"].(uint64)
		persisted, _ := m["LastPersistedEpoch"].(uint64)
		if persisted >= root || time.Now().After(deadline) {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// Fresh reports whether this open created the index (first use, or its
// directory was lost or corrupt): the caller must rebuild it from the store.
func (ix *Index) Fresh() bool { return ix.fresh }

// Len returns the number of entries in the lexical index.
func (ix *Index) Len() int {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	if ix.closed {
		return 0
	}
	n, err := ix.bl.DocCount()
	if err != nil {
		return 0
	}
	return int(n)
}

// Replace atomically replaces every entry of documentID with entries (one
// bleve batch deletes the old chunks and indexes the new; the vectors are
// swapped under the same lock): a search sees the document entirely before
// or entirely after. Entries' DocumentID must be documentID or empty.
func (ix *Index) Replace(documentID string, entries []Entry) error {
	if documentID == "" {
		return fmt.Errorf("replace: empty document id: %w", ErrInvalid)
	}
	seen := make(map[string]bool, len(entries))
	dim := 0
	for i := range entries {
		e := &entries[i]
		switch {
		case e.ChunkID == "":
			return fmt.Errorf("replace %s: entry %d has no chunk id: %w", documentID, i, ErrInvalid)
		case e.DocumentID != "" && e.DocumentID != documentID:
			return fmt.Errorf("replace %s: chunk %s belongs to document %s: %w", documentID, e.ChunkID, e.DocumentID, ErrInvalid)
		case seen[e.ChunkID]:
			return fmt.Errorf("replace %s: chunk %s twice: %w", documentID, e.ChunkID, ErrInvalid)
		}
		seen[e.ChunkID] = true
		if e.Vector != nil {
			if dim != 0 && len(e.Vector) != dim {
				return fmt.Errorf("replace %s: chunk %s has %d dimensions, others %d: %w", documentID, e.ChunkID, len(e.Vector), dim, ErrDimension)
			}
			dim = len(e.Vector)
		}
	}

	ix.mu.Lock()
	defer ix.mu.Unlock()
	if ix.closed {
		return ErrClosed
	}
	if dim != 0 && ix.vec.dim != 0 && dim != ix.vec.dim && ix.vec.live() > 0 {
		return fmt.Errorf("replace %s: vectors of %d dimensions in an index of %d: %w", documentID, dim, ix.vec.dim, ErrDimension)
	}
	old, err := ix.chunksOf(documentID)
	if err != nil {
		return fmt.Errorf("replace %s: %w", documentID, err)
	}
	b := ix.bl.NewBatch()
	for _, id := range old {
		if !seen[id] {
			b.Delete(id)
		}
	}
	for i := range entries {
		e := entries[i]
		e.DocumentID = documentID
		if err := b.Index(e.ChunkID, toDoc(&e)); err != nil {
			return fmt.Errorf("replace %s: index chunk %s: %w", documentID, e.ChunkID, err)
		}
	}
	if err := ix.bl.Batch(b); err != nil {
		return fmt.Errorf("replace %s: %w", documentID, err)
	}
	for _, id := range old {
		ix.vecRemove(id)
	}
	ix.upsertVectors(entries)
	ix.maybeRebuild()
	return nil
}

// Delete removes every entry of documentID.
func (ix *Index) Delete(documentID string) error {
	return ix.Replace(documentID, nil)
}

// LoadVectors puts entries' vectors (and what vector filters need: kind,
// tags, language, validity) in the vector index, replacing earlier vectors
// of the same chunks; the lexical index is not touched. Entries without a
// vector are skipped.
func (ix *Index) LoadVectors(entries []Entry) error {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if ix.closed {
		return ErrClosed
	}
	dim := ix.vec.dim
	if ix.vec.live() == 0 {
		dim = 0
	}
	for i := range entries {
		if v := entries[i].Vector; v != nil {
			if dim != 0 && len(v) != dim {
				return fmt.Errorf("load vectors: chunk %s has %d dimensions, the index %d: %w", entries[i].ChunkID, len(v), dim, ErrDimension)
			}
			dim = len(v)
		}
	}
	ix.upsertVectors(entries)
	ix.maybeRebuild()
	return nil
}

// upsertVectors runs under ix.mu held for writing; dimensions are checked.
func (ix *Index) upsertVectors(entries []Entry) {
	if ix.vec.live() == 0 && len(ix.vec.nodes) > 0 {
		// Only tombstones left: start afresh, so that vectors of another
		// dimension never meet old ones.
		ix.vecReset()
	}
	for i := range entries {
		e := &entries[i]
		if e.Vector == nil {
			ix.vecRemove(e.ChunkID)
			continue
		}
		v := normalize(e.Vector)
		if v == nil { // a zero vector matches nothing
			ix.vecRemove(e.ChunkID)
			continue
		}
		ix.vecUpsert(e.ChunkID, v, vecMeta{
			kind: e.Kind, language: strings.ToLower(e.Language), tags: append([]string(nil), e.Tags...),
			validFrom: e.ValidFrom, validUntil: e.ValidUntil,
		})
	}
}

// chunksOf lists documentID's chunk ids in the lexical index.
func (ix *Index) chunksOf(documentID string) ([]string, error) {
	q := bleve.NewTermQuery(documentID)
	q.SetField(fDoc)
	size := 1000
	for {
		req := bleve.NewSearchRequestOptions(q, size, 0, false)
		req.SortBy([]string{"_id"})
		res, err := ix.bl.Search(req)
		if err != nil {
			return nil, fmt.Errorf("chunks of %s: %w", documentID, err)
		}
		if int(res.Total) > size {
			size = int(res.Total)
			continue
		}
		ids := make([]string, len(res.Hits))
		for i, h := range res.Hits {
			ids[i] = h.ID
		}
		return ids, nil
	}
}

// Documents returns, for every document in the lexical index, its number
// of entries (for consistency checks against the store).
func (ix *Index) Documents() (map[string]int, error) {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	if ix.closed {
		return nil, ErrClosed
	}
	n, err := ix.bl.DocCount()
	if err != nil {
		return nil, fmt.Errorf("documents: %w", err)
	}
	out := make(map[string]int)
	if n == 0 {
		return out, nil
	}
	req := bleve.NewSearchRequestOptions(bleve.NewMatchAllQuery(), 0, 0, false)
	req.AddFacet(fDoc, bleve.NewFacetRequest(fDoc, int(n)))
	res, err := ix.bl.Search(req)
	if err != nil {
		return nil, fmt.Errorf("documents: %w", err)
	}
	if f := res.Facets[fDoc]; f != nil && f.Terms != nil {
		for _, t := range f.Terms.Terms() {
			out[t.Term] = t.Count
		}
	}
	return out, nil
}
