package index

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/search/query"
)

// Search limits.
const (
	defaultK   = 5
	maxK       = 50
	rrfK       = 60  // reciprocal rank fusion constant
	minDepth   = 50  // each ranked list is fetched at least this deep
	snippetLen = 240 // bytes of Text in a snippet
)

// filterBoost keeps filter clauses from moving BM25 scores.
const filterBoost = 1e-9

// Search runs q: a BM25 match query (OR semantics over the plain and
// stemmed fields) and, when q.Vector is set, an approximate nearest
// neighbour search, each max(50, 4K) deep and filtered, fused by RRF. An
// empty text without a vector returns no hits and no error; a vector whose
// dimension differs from the index's returns ErrDimension.
func (ix *Index) Search(ctx context.Context, q Query) ([]Hit, error) {
	k := q.K
	if k <= 0 {
		k = defaultK
	}
	k = min(k, maxK)
	text := strings.TrimSpace(q.Text)
	if text == "" && q.Vector == nil {
		return nil, nil
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	depth := max(minDepth, 4*k)

	ix.mu.RLock()
	defer ix.mu.RUnlock()
	if ix.closed {
		return nil, ErrClosed
	}
	var qv []float32
	if q.Vector != nil {
		if len(q.Vector) == 0 || (ix.vec.live() > 0 && len(q.Vector) != ix.vec.dim) {
			return nil, fmt.Errorf("search: query vector of %d dimensions, index vectors of %d: %w", len(q.Vector), ix.vec.dim, ErrDimension)
		}
		qv = normalize(q.Vector)
	}

	byID := make(map[string]*Hit)
	loaded := make(map[string]bool)
	hitFor := func(id string) *Hit {
		h, ok := byID[id]
		if !ok {
			h = &Hit{Entry: Entry{ChunkID: id}}
			byID[id] = h
		}
		return h
	}

	var qt *queryTerms
	if text != "" {
		qt = ix.analyzeQuery(text, q.Filters.Language)
	}
	if qt != nil && len(qt.terms) > 0 {
		req := bleve.NewSearchRequestOptions(lexicalQuery(text, q.Filters), depth, 0, false)
		req.Fields = storedFields
		res, err := ix.bl.SearchInContext(ctx, req)
		if err != nil {
			return nil, fmt.Errorf("search: lexical: %w", err)
		}
		for i, dm := range res.Hits {
			h := hitFor(dm.ID)
			h.LexicalRank = i + 1
			fillEntry(&h.Entry, dm.Fields)
			loaded[dm.ID] = true
		}
	}
	if qv != nil && ix.vec.live() > 0 {
		for i, c := range ix.vec.search(qv, depth, ix.o.EfSearch, acceptFor(q.Filters)) {
			h := hitFor(ix.vec.nodes[c.id].key)
			h.VectorRank = i + 1
			h.Cosine = float64(1 - c.dist)
		}
	}

	hits := make([]*Hit, 0, len(byID))
	for _, h := range byID {
		if h.LexicalRank > 0 {
			h.Score += 1 / float64(rrfK+h.LexicalRank)
		}
		if h.VectorRank > 0 {
			h.Score += 1 / float64(rrfK+h.VectorRank)
		}
		hits = append(hits, h)
	}
	slices.SortFunc(hits, func(a, b *Hit) int {
		switch {
		case a.Score != b.Score:
			if a.Score > b.Score {
				return -1
			}
			return 1
		case rankKey(a.LexicalRank) != rankKey(b.LexicalRank):
			return rankKey(a.LexicalRank) - rankKey(b.LexicalRank)
		case rankKey(a.VectorRank) != rankKey(b.VectorRank):
			return rankKey(a.VectorRank) - rankKey(b.VectorRank)
		}
		return strings.Compare(a.ChunkID, b.ChunkID)
	})
	hits = hits[:min(k, len(hits))]

	// Vector-only hits have no stored fields yet.
	var missing []string
	for _, h := range hits {
		if !loaded[h.ChunkID] {
			missing = append(missing, h.ChunkID)
		}
	}
	if len(missing) > 0 {
		req := bleve.NewSearchRequestOptions(bleve.NewDocIDQuery(missing), len(missing), 0, false)
		req.Fields = storedFields
		res, err := ix.bl.SearchInContext(ctx, req)
		if err != nil {
			return nil, fmt.Errorf("search: load vector hits: %w", err)
		}
		for _, dm := range res.Hits {
			fillEntry(&byID[dm.ID].Entry, dm.Fields)
			loaded[dm.ID] = true
		}
	}

	out := make([]Hit, 0, len(hits))
	for _, h := range hits {
		if !loaded[h.ChunkID] { // a vector whose chunk is not in the lexical index
			continue
		}
		if qv != nil && h.VectorRank == 0 {
			if c, ok := ix.vec.cosine(qv, h.ChunkID); ok {
				h.Cosine = c
			}
		}
		var matches []span
		if qt != nil {
			h.Lexical, matches = ix.coverage(&h.Entry, qt)
		}
		h.Relevance = min(1, max(h.Lexical, h.Cosine, 0))
		h.Snippet = snippet(h.Text, matches)
		out = append(out, *h)
	}
	return out, nil
}

func rankKey(r int) int {
	if r == 0 {
		return math.MaxInt32
	}
	return r
}

// lexicalQuery is the match query over the plain fields (boosted) and the
// stemmed fields that can hold matching entries, under the filters.
func lexicalQuery(text string, f Filters) query.Query {
	var should []query.Query
	for _, fb := range fieldBoosts {
		mq := bleve.NewMatchQuery(text)
		mq.SetField(fb.field)
		mq.SetBoost(fb.boost)
		should = append(should, mq)
	}
	for _, l := range searchLanguages(f.Language) {
		mq := bleve.NewMatchQuery(text)
		mq.SetField(stemField + l)
		should = append(should, mq)
	}
	var q query.Query = bleve.NewDisjunctionQuery(should...)
	if filters := filterQueries(f); len(filters) > 0 {
		q = bleve.NewConjunctionQuery(append([]query.Query{q}, filters...)...)
	}
	return q
}

// searchLanguages are the stemmed fields a query with language filter l
// searches: all of them, or l's and English (entries without a language
// are stemmed as English and pass every language filter).
func searchLanguages(l string) []string {
	if l == "" {
		return stemLanguages
	}
	if s := stemLang(l); s != "" && s != "en" {
		return []string{s, "en"}
	}
	return []string{"en"}
}

func terms(field string, values []string) query.Query {
	qs := make([]query.Query, len(values))
	for i, v := range values {
		tq := bleve.NewTermQuery(v)
		tq.SetField(field)
		qs[i] = tq
	}
	d := bleve.NewDisjunctionQuery(qs...)
	d.SetBoost(filterBoost)
	return d
}

func filterQueries(f Filters) []query.Query {
	var qs []query.Query
	if len(f.Kinds) > 0 {
		qs = append(qs, terms(fKind, f.Kinds))
	}
	if len(f.Tags) > 0 {
		qs = append(qs, terms(fTags, f.Tags))
	}
	if f.Language != "" {
		qs = append(qs, terms(fLang, []string{strings.ToLower(f.Language), noLang}))
	}
	if !f.At.IsZero() {
		at := float64(f.At.UnixMilli())
		yes, no := true, false
		from := bleve.NewNumericRangeInclusiveQuery(nil, &at, nil, &yes)
		from.SetField(fFrom)
		from.SetBoost(filterBoost)
		until := bleve.NewNumericRangeInclusiveQuery(&at, nil, &no, nil)
		until.SetField(fUntil)
		until.SetBoost(filterBoost)
		qs = append(qs, from, until)
	}
	return qs
}

// acceptFor is Filters applied to a vector's metadata (nil: no filter).
func acceptFor(f Filters) func(*vecMeta) bool {
	if len(f.Kinds) == 0 && len(f.Tags) == 0 && f.Language == "" && f.At.IsZero() {
		return nil
	}
	lang := strings.ToLower(f.Language)
	return func(m *vecMeta) bool {
		if len(f.Kinds) > 0 && !slices.Contains(f.Kinds, m.kind) {
			return false
		}
		if len(f.Tags) > 0 && !slices.ContainsFunc(m.tags, func(t string) bool { return slices.Contains(f.Tags, t) }) {
			return false
		}
		if lang != "" && m.language != "" && m.language != lang {
			return false
		}
		if !f.At.IsZero() {
			if !m.validFrom.IsZero() && f.At.Before(m.validFrom) {
				return false
			}
			if !m.validUntil.IsZero() && !f.At.Before(m.validUntil) {
				return false
			}
		}
		return true
	}
}

func fillEntry(e *Entry, fields map[string]any) {
	str := func(k string) string {
		s, _ := fields[k].(string)
		return s
	}
	e.DocumentID = str(fDoc)
	e.Title, e.Heading, e.Question, e.Text = str(fTitle), str(fHeading), str(fQuestion), str(fText)
	e.Kind, e.SourceURL = str(fKind), str(fURL)
	if l := str(fLang); l != noLang {
		e.Language = l
	}
	switch t := fields[fTags].(type) {
	case string:
		e.Tags = []string{t}
	case []any:
		for _, v := range t {
			if s, ok := v.(string); ok {
				e.Tags = append(e.Tags, s)
			}
		}
	}
	if s := str(fFromS); s != "" {
		e.ValidFrom, _ = time.Parse(time.RFC3339Nano, s)
	}
	if s := str(fUntilS); s != "" {
		e.ValidUntil, _ = time.Parse(time.RFC3339Nano, s)
	}
}

// queryTerms are a query's distinct words after the fold analyzer (stop
// words dropped), with their BM25 IDF in the index and, per stemmed
// language, their stem.
type queryTerms struct {
	terms []qterm
	ix    *Index
}

type qterm struct {
	plain string
	word  []byte // the surface word
	idf   float64
	stems map[string]string // language → stem ("" when a stop word there)
}

func (ix *Index) analyzer(name string) analysis.Analyzer {
	return ix.bl.Mapping().AnalyzerNamed(name)
}

// analyzeQuery runs under ix.mu held for reading.
func (ix *Index) analyzeQuery(text, language string) *queryTerms {
	qt := &queryTerms{ix: ix}
	fold := ix.analyzer(aFold)
	var filterLang analysis.Analyzer
	if l := stemLang(language); language != "" && l != "" {
		filterLang = ix.analyzer(l)
	}
	seen := make(map[string]bool)
	n, _ := ix.bl.DocCount()
	for _, w := range ix.analyzer(aSurface).Analyze([]byte(text)) {
		ts := fold.Analyze(w.Term)
		if len(ts) == 0 {
			continue // an English stop word
		}
		if filterLang != nil && len(filterLang.Analyze(w.Term)) == 0 {
			continue // a stop word of the filter's language
		}
		p := string(ts[0].Term)
		if seen[p] {
			continue
		}
		seen[p] = true
		t := qterm{plain: p, word: w.Term, stems: make(map[string]string)}
		df := ix.docFreq(fAll, p)
		if df == 0 {
			df = ix.docFreq(stemField+"en", t.stem(ix, "en"))
		}
		t.idf = math.Log(1 + (float64(n)-float64(df)+0.5)/(float64(df)+0.5))
		qt.terms = append(qt.terms, t)
	}
	return qt
}

func (t *qterm) stem(ix *Index, lang string) string {
	if s, ok := t.stems[lang]; ok {
		return s
	}
	s := ""
	if ts := ix.analyzer(lang).Analyze(t.word); len(ts) > 0 {
		s = string(ts[0].Term)
	}
	t.stems[lang] = s
	return s
}

// docFreq is the number of entries with term in field (from the term
// dictionary; deletions not yet merged away may still be counted).
func (ix *Index) docFreq(field, term string) uint64 {
	if term == "" {
		return 0
	}
	d, err := ix.bl.FieldDictRange(field, []byte(term), []byte(term))
	if err != nil {
		return 0
	}
	defer d.Close()
	var n uint64
	for {
		e, err := d.Next()
		if err != nil || e == nil {
			return n
		}
		if e.Term == term {
			n += e.Count
		}
	}
}

// span is a matched word in Text: byte offsets and the query term's index.
type span struct{ start, end, term int }

// coverage returns the IDF-weighted share of the query's terms found in e
// (plain or stemmed for e's language) and the matched words of e.Text.
func (ix *Index) coverage(e *Entry, qt *queryTerms) (float64, []span) {
	if len(qt.terms) == 0 {
		return 0, nil
	}
	lang := stemLang(e.Language)
	fold := ix.analyzer(aFold)
	plain := make(map[string]bool)
	for _, s := range []string{e.Title, e.Heading, e.Question} {
		for _, t := range fold.Analyze([]byte(s)) {
			plain[string(t.Term)] = true
		}
	}
	// Text: surface words by position, to find their offsets.
	surface := ix.analyzer(aSurface).Analyze([]byte(e.Text))
	byPos := make(map[int]*analysis.Token, len(surface))
	for _, t := range surface {
		byPos[t.Position] = t
	}
	plainAt := make(map[string][]int)
	for _, t := range fold.Analyze([]byte(e.Text)) {
		plain[string(t.Term)] = true
		plainAt[string(t.Term)] = append(plainAt[string(t.Term)], t.Position)
	}
	stem := make(map[string]bool)
	stemAt := make(map[string][]int)
	if lang != "" {
		a := ix.analyzer(lang)
		for _, s := range []string{e.Title, e.Heading, e.Question} {
			for _, t := range a.Analyze([]byte(s)) {
				stem[string(t.Term)] = true
			}
		}
		for _, t := range a.Analyze([]byte(e.Text)) {
			stem[string(t.Term)] = true
			stemAt[string(t.Term)] = append(stemAt[string(t.Term)], t.Position)
		}
	}
	var got, total float64
	var spans []span
	for i := range qt.terms {
		t := &qt.terms[i]
		total += t.idf
		s := ""
		if lang != "" {
			s = t.stem(ix, lang)
		}
		if plain[t.plain] || (s != "" && stem[s]) {
			got += t.idf
		}
		positions := plainAt[t.plain]
		if s != "" {
			positions = append(positions, stemAt[s]...)
		}
		for _, p := range positions {
			if w, ok := byPos[p]; ok {
				spans = append(spans, span{w.Start, w.End, i})
			}
		}
	}
	if total == 0 {
		return 0, spans
	}
	return got / total, spans
}

// snippet cuts about snippetLen bytes of text around the window with the
// most distinct matched terms, at word boundaries, with "…" where cut.
func snippet(text string, matches []span) string {
	if len(text) <= snippetLen {
		return text
	}
	start := 0
	if len(matches) > 0 {
		slices.SortFunc(matches, func(a, b span) int { return a.start - b.start })
		best, bestN := 0, -1
		for i := range matches {
			seen := map[int]bool{}
			for j := i; j < len(matches) && matches[j].end <= matches[i].start+snippetLen-40; j++ {
				seen[matches[j].term] = true
			}
			if len(seen) > bestN {
				best, bestN = i, len(seen)
			}
		}
		start = max(0, matches[best].start-40)
	}
	end := min(len(text), start+snippetLen)
	if end == len(text) {
		start = max(0, end-snippetLen)
	}
	if start > 0 {
		if i := strings.IndexAny(text[start:end], " \n\t"); i >= 0 && i < 40 {
			start += i + 1
		}
		for start < end && !utf8.RuneStart(text[start]) {
			start++
		}
	}
	if end < len(text) {
		if i := strings.LastIndexAny(text[start:end], " \n\t"); i > snippetLen/2 {
			end = start + i
		}
		for end > start && !utf8.RuneStart(text[end]) {
			end--
		}
	}
	s := strings.TrimSpace(text[start:end])
	if start > 0 {
		s = "…" + s
	}
	if end < len(text) {
		s += "…"
	}
	return s
}
