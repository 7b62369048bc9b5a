package index

import (
	"bufio"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"math"
	"os"
	"strings"
	"testing"
	"unicode"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	code := m.Run()
	closeBig()
	// bleve starts its shared analysis workers once per process (package
	// state of bleve, not of an index).
	if err := goleak.Find(goleak.IgnoreTopFunction("github.com/blevesearch/bleve_index_api.AnalysisWorker")); err != nil && code == 0 {
		fmt.Fprintln(os.Stderr, "goleak:", err)
		code = 1
	}
	os.Exit(code)
}

// passage is one FAQ entry of testdata/faq.
type passage struct {
	ID       string `json:"id"`
	Source   string `json:"source"`
	Title    string `json:"title"`
	Heading  string `json:"heading"`
	Question string `json:"question"`
	Text     string `json:"text"`
}

// question is a test question and the passages that answer it (none: the
// corpus does not answer it).
type question struct {
	Q   string   `json:"q"`
	IDs []string `json:"ids"`
}

func readJSONL[T any](t testing.TB, path string) []T {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []T
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var v T
		if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		out = append(out, v)
	}
	return out
}

func faqEntries(t testing.TB, withVectors bool) []Entry {
	ps := readJSONL[passage](t, "testdata/faq/passages.jsonl")
	es := make([]Entry, len(ps))
	for i, p := range ps {
		es[i] = Entry{
			ChunkID: p.ID, DocumentID: "faq-" + p.ID, Title: p.Title, Heading: p.Heading, Question: p.Question,
			Text: p.Text, Kind: "faq", Tags: []string{strings.SplitN(p.ID, "-", 2)[0]}, Language: "en",
			SourceURL: "https://docs.python.org/3/faq/" + strings.SplitN(p.ID, "-", 2)[0] + ".html",
		}
		if withVectors {
			es[i].Vector = hashEmbed(p.Question + " " + p.Title + " " + p.Heading + " " + p.Text)
		}
	}
	return es
}

func faqQuestions(t testing.TB) (answerable, unanswerable []question) {
	for _, q := range readJSONL[question](t, "testdata/faq/questions.jsonl") {
		if len(q.IDs) == 0 {
			unanswerable = append(unanswerable, q)
		} else {
			answerable = append(answerable, q)
		}
	}
	return answerable, unanswerable
}

// hashEmbed is a deterministic stand-in for an embedding model: lowercase
// words and their character trigrams feature-hashed (signed) into 256
// dimensions, L2-normalized. It is lexical hashing, not a neural model: it
// exercises the vector index and fusion, not semantic retrieval.
func hashEmbed(text string) []float32 {
	const dim = 256
	v := make([]float32, dim)
	add := func(s string, w float32) {
		h := fnv.New64a()
		h.Write([]byte(s))
		x := h.Sum64()
		sign := float32(1)
		if x>>63 == 1 {
			sign = -1
		}
		v[x%dim] += sign * w
	}
	for _, word := range strings.FieldsFunc(strings.ToLower(text), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	}) {
		if len(word) < 3 || hashStop[word] {
			continue
		}
		add("w:"+word, 1)
		padded := " " + word + " "
		for i := 0; i+3 <= len(padded); i++ {
			add("t:"+padded[i:i+3], 0.5)
		}
	}
	var s float64
	for _, x := range v {
		s += float64(x) * float64(x)
	}
	if s == 0 {
		v[0] = 1
		return v
	}
	inv := float32(1 / math.Sqrt(s))
	for i := range v {
		v[i] *= inv
	}
	return v
}

var hashStop = map[string]bool{
	"the": true, "and": true, "for": true, "are": true, "how": true, "what": true, "why": true, "can": true,
	"you": true, "your": true, "with": true, "that": true, "this": true, "there": true, "does": true, "not": true,
	"from": true, "have": true, "into": true, "its": true, "which": true, "use": true, "python": true,
}

func openTenant(t testing.TB, s *Set, tenant string) *Index {
	t.Helper()
	ix, err := s.Tenant(tenant)
	if err != nil {
		t.Fatal(err)
	}
	return ix
}

func openSet(t testing.TB, dir string) *Set {
	t.Helper()
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func ids(hits []Hit) []string {
	out := make([]string, len(hits))
	for i, h := range hits {
		out[i] = h.ChunkID
	}
	return out
}
