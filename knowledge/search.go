package knowledge

import (
	"context"
	"strconv"
	"time"

	"github.com/frontdesk-ai/frontdesk/knowledge/index"
	"github.com/frontdesk-ai/frontdesk/tools"
)

// Filters narrow a search.
type Filters struct {
	Kinds []string
	Tags  []string
	// Language keeps passages of that language or of none.
	Language string
	// At keeps passages valid at that time (nil: now).
	At *time.Time
}

// Result is one passage found.
type Result struct {
	DocumentID, ChunkID string
	Title, Heading      string
	Question, Text      string
	Snippet, SourceURL  string
	Kind                string
	// Score orders the results (fused rank); Relevance says how well the
	// passage answers (0..1), from the share of the query's terms it holds
	// (Lexical) or its vector's cosine (Cosine), whichever is higher.
	Score, Relevance, Lexical, Cosine float64
}

// Results are a search's passages, best first.
type Results struct {
	Results []Result
	// Best is the best relevance; Relevant whether it reaches Threshold.
	Best      float64
	Relevant  bool
	Threshold float64
	// Mode is "hybrid" when the query had a vector, else "lexical".
	Mode string
}

// maxK bounds the passages of one search.
const maxK = 50

// Search finds the k passages of the tenant's knowledge base that best
// answer query (k ≤ 0: 5; at most 50). With an embedding model the query's
// vector joins the keywords; when the model fails or is slow the search is
// lexical only.
func (s *Service) Search(ctx context.Context, tenantID, query string, k int, f Filters) (Results, error) {
	start := time.Now()
	out := Results{Threshold: s.cfg.Threshold, Mode: "lexical"}
	ix, err := s.index(tenantID, false)
	if err != nil || ix == nil {
		return out, err
	}
	if k <= 0 {
		k = 5
	}
	k = min(k, maxK)
	q := index.Query{Text: query, K: k, Filters: index.Filters{Kinds: f.Kinds, Tags: f.Tags, Language: f.Language, At: s.now()}}
	if f.At != nil {
		q.Filters.At = *f.At
	}
	if s.cfg.Embedder != nil && ix.Len() > 0 && query != "" {
		ectx, cancel := context.WithTimeout(ctx, s.cfg.EmbedTimeout)
		vecs, err := s.cfg.Embedder.Embed(ectx, s.cfg.EmbedModel, []string{cut(query, 4000)})
		cancel()
		if err == nil && len(vecs) == 1 {
			q.Vector, out.Mode = vecs[0], "hybrid"
		} else if err != nil {
			s.logger.Debug().Err(err).Msg("knowledge: query not embedded; keywords only")
		}
	}
	hits, err := ix.Search(ctx, q)
	if err != nil && q.Vector != nil {
		// A vector of another dimension (the model changed): keywords.
		q.Vector, out.Mode = nil, "lexical"
		hits, err = ix.Search(ctx, q)
	}
	if err != nil {
		return out, err
	}
	for _, h := range hits {
		out.Results = append(out.Results, Result{DocumentID: h.DocumentID, ChunkID: h.ChunkID, Title: h.Title, Heading: h.Heading,
			Question: h.Question, Text: h.Text, Snippet: h.Snippet, SourceURL: h.SourceURL, Kind: h.Kind, Score: h.Score,
			Relevance: h.Relevance, Lexical: h.Lexical, Cosine: h.Cosine})
		out.Best = max(out.Best, h.Relevance)
	}
	out.Relevant = len(out.Results) > 0 && out.Best >= s.cfg.Threshold
	s.metrics.searches.WithLabelValues(out.Mode, strconv.FormatBool(out.Relevant)).Observe(time.Since(start).Seconds())
	return out, nil
}

// SearchKnowledge serves turns and the search_knowledge tool
// (tools.KnowledgeSearcher): k passages (0: the configured number per
// turn) valid now, in any language.
func (s *Service) SearchKnowledge(ctx context.Context, tenantID, query string, k int, kinds []string) (tools.KnowledgeFound, error) {
	ix, err := s.index(tenantID, false)
	if err != nil || ix == nil {
		return tools.KnowledgeFound{}, err
	}
	if ix.Len() == 0 {
		return tools.KnowledgeFound{}, nil
	}
	if k <= 0 {
		k = s.cfg.Passages
	}
	res, err := s.Search(ctx, tenantID, query, k, Filters{Kinds: kinds})
	if err != nil {
		return tools.KnowledgeFound{}, err
	}
	out := tools.KnowledgeFound{Best: res.Best, Relevant: res.Relevant, Indexed: true}
	for _, r := range res.Results {
		out.Passages = append(out.Passages, tools.KnowledgePassage{DocumentID: r.DocumentID, ChunkID: r.ChunkID, Title: r.Title,
			Heading: r.Heading, Question: r.Question, Text: r.Text, SourceURL: r.SourceURL, Relevance: r.Relevance})
	}
	return out, nil
}
