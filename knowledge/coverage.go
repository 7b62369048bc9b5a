package knowledge

import (
	"context"
	"encoding/csv"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/frontdesk-ai/frontdesk/persistence"
)

// maxCoverageQuestions bounds the questions one report reads.
const maxCoverageQuestions = 20000

// Topic is a group of similar customer questions.
type Topic struct {
	// Label is the topic's most telling words.
	Label string
	Count int
	// Unanswered counts its questions without a relevant passage.
	Unanswered int
	// Coverage is the share of its questions with a relevant passage.
	Coverage float64
	// Examples are up to three of its questions, most recent first.
	Examples []string
	// ConversationIDs are the conversations it was asked in, most recent
	// first, at most 50.
	ConversationIDs []string
}

// Report is what customers asked in [From, To) and how much of it the
// knowledge base answered.
type Report struct {
	From, To  time.Time
	Threshold float64
	Questions int
	// AnsweredWithSources counts replies that cited a passage;
	// NoRelevantDocs questions whose best passage was below Threshold.
	AnsweredWithSources, NoRelevantDocs int
	// ShareAnswered is AnsweredWithSources / Questions (0 without
	// questions).
	ShareAnswered float64
	// Topics are ranked by unanswered questions, then by count.
	Topics []Topic
	// Truncated reports that the range held more questions than a report
	// reads (the oldest were left out).
	Truncated bool

	questions []persistence.KnowledgeQuestion
	topicOf   []int
}

// Coverage reports the tenant's questions in [from, to).
func (s *Service) Coverage(ctx context.Context, tenantID string, from, to time.Time) (Report, error) {
	qs, err := s.store.ListKnowledgeQuestions(ctx, tenantID, from, to, maxCoverageQuestions+1)
	if err != nil {
		return Report{}, err
	}
	r := Report{From: from.UTC(), To: to.UTC(), Threshold: s.cfg.Threshold}
	if len(qs) > maxCoverageQuestions {
		qs, r.Truncated = qs[len(qs)-maxCoverageQuestions:], true
	}
	r.questions = qs
	r.Questions = len(qs)
	for _, q := range qs {
		if q.AnsweredWithSources {
			r.AnsweredWithSources++
		}
		if !q.Relevant {
			r.NoRelevantDocs++
		}
	}
	if r.Questions > 0 {
		r.ShareAnswered = float64(r.AnsweredWithSources) / float64(r.Questions)
	}
	r.Topics, r.topicOf = topics(qs)
	return r, nil
}

// WriteCSV writes the report's questions, one row each: asked_at,
// conversation_id, question, best_relevance, answered_with_sources, topic.
func (r Report) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"asked_at", "conversation_id", "question", "best_relevance", "relevant", "answered_with_sources", "topic"})
	for i, q := range r.questions {
		label := ""
		if t := r.topicOf[i]; t >= 0 {
			label = r.Topics[t].Label
		}
		_ = cw.Write([]string{q.AskedAt.UTC().Format(time.RFC3339), q.ConversationID, csvSafe(q.Question),
			strconv.FormatFloat(q.BestRelevance, 'f', 3, 64), strconv.FormatBool(q.Relevant), strconv.FormatBool(q.AnsweredWithSources), csvSafe(label)})
	}
	cw.Flush()
	return cw.Error()
}

// csvSafe keeps a customer's text from being read as a formula by a
// spreadsheet.
func csvSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// cluster is a topic being grown.
type cluster struct {
	terms   map[string]int
	members []int
}

// topicSimilarity is the share of a question's terms that must be among a
// topic's leading terms for the question to join it.
const topicSimilarity = 0.5

// topics groups questions by the words they share: each question joins the
// topic whose leading terms cover at least half of its own, else starts
// one. It returns the topics ranked and each question's topic (-1: none,
// a question without a telling word).
func topics(qs []persistence.KnowledgeQuestion) ([]Topic, []int) {
	var cs []*cluster
	of := make([]int, len(qs))
	for i, q := range qs {
		terms := termsOf(q.Question)
		of[i] = -1
		if len(terms) == 0 {
			continue
		}
		best, bestSim := -1, 0.0
		for ci, c := range cs {
			lead := leading(c.terms, 8)
			shared := 0
			for _, t := range terms {
				if lead[t] {
					shared++
				}
			}
			if sim := float64(shared) / float64(len(terms)); sim >= topicSimilarity && sim > bestSim {
				best, bestSim = ci, sim
			}
		}
		if best < 0 {
			cs = append(cs, &cluster{terms: map[string]int{}})
			best = len(cs) - 1
		}
		for _, t := range terms {
			cs[best].terms[t]++
		}
		cs[best].members = append(cs[best].members, i)
		of[i] = best
	}
	out := make([]Topic, len(cs))
	for ci, c := range cs {
		t := Topic{Count: len(c.members)}
		var words []string
		for w := range leading(c.terms, 3) {
			words = append(words, w)
		}
		sort.Slice(words, func(a, b int) bool {
			if c.terms[words[a]] != c.terms[words[b]] {
				return c.terms[words[a]] > c.terms[words[b]]
			}
			return words[a] < words[b]
		})
		t.Label = strings.Join(words, " · ")
		seen := map[string]bool{}
		for j := len(c.members) - 1; j >= 0; j-- {
			q := qs[c.members[j]]
			if !q.Relevant {
				t.Unanswered++
			}
			if len(t.Examples) < 3 && !seen[strings.ToLower(q.Question)] {
				seen[strings.ToLower(q.Question)] = true
				t.Examples = append(t.Examples, cut(q.Question, 300))
			}
			if q.ConversationID != "" && len(t.ConversationIDs) < 50 && !seen["c:"+q.ConversationID] {
				seen["c:"+q.ConversationID] = true
				t.ConversationIDs = append(t.ConversationIDs, q.ConversationID)
			}
		}
		t.Coverage = float64(t.Count-t.Unanswered) / float64(t.Count)
		out[ci] = t
	}
	order := make([]int, len(out))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool {
		x, y := out[order[a]], out[order[b]]
		if x.Unanswered != y.Unanswered {
			return x.Unanswered > y.Unanswered
		}
		return x.Count > y.Count
	})
	rank := make([]int, len(out))
	ranked := make([]Topic, len(out))
	for r, i := range order {
		ranked[r], rank[i] = out[i], r
	}
	for i, t := range of {
		if t >= 0 {
			of[i] = rank[t]
		}
	}
	return ranked, of
}

// leading returns the n most frequent terms (ties by the term).
func leading(terms map[string]int, n int) map[string]bool {
	type tc struct {
		t string
		c int
	}
	all := make([]tc, 0, len(terms))
	for t, c := range terms {
		all = append(all, tc{t, c})
	}
	sort.Slice(all, func(a, b int) bool {
		if all[a].c != all[b].c {
			return all[a].c > all[b].c
		}
		return all[a].t < all[b].t
	})
	out := map[string]bool{}
	for _, x := range all[:min(n, len(all))] {
		out[x.t] = true
	}
	return out
}

// termsOf returns a question's telling words: lower case, at least three
// letters, not a stop word, a plural's final s dropped; each once.
func termsOf(q string) []string {
	var out []string
	seen := map[string]bool{}
	for _, w := range strings.FieldsFunc(strings.ToLower(q), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
		if len([]rune(w)) < 3 || stopWords[w] {
			continue
		}
		if len(w) > 4 && strings.HasSuffix(w, "s") && !strings.HasSuffix(w, "ss") {
			w = strings.TrimSuffix(w, "s")
		}
		if !seen[w] {
			seen[w] = true
			out = append(out, w)
		}
	}
	return out
}

// stopWords are words that tell nothing of a topic, in the languages the
// runtime detects most (en, es, de, fr, pt, it).
var stopWords = func() map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(`the and for you your are can how what when where which who why does did have has had was were will would could should
	this that these those with from about into there their them they our ours not but any all get got just like want need please thanks thank hello
	hi hey yes okay its it's i'm don't can't is do my me an of to in on at by or be if so as we us ok also still more much very some
	que los las del por para con una uno como cuando donde cual quien porque tiene tengo hay esta este esto eso ese son mis sus por favor gracias hola
	der die das und ist nicht ein eine mit für auf wie was wann wo warum ich sie wir ihr mein bitte danke hallo habe haben kann können
	les des une pour avec est pas que qui quoi comment quand où pourquoi mon mes vous nous bonjour merci sil plait
	uma com não para como quando onde por que meu minha olá obrigado você
	che per con una non come quando dove perché mio mia ciao grazie sono`) {
		m[w] = true
	}
	return m
}()
