package index

import (
	"testing"
)

// TestFrenchPassages indexes the English FAQ and its French translation
// (testdata/faq/passages_fr.jsonl) in one tenant: French questions with
// inflected or unaccented words find the French passage, and a French
// language filter keeps the English ones out.
func TestFrenchPassages(t *testing.T) {
	ix := openTenant(t, openSet(t, t.TempDir()), "bilingual")
	for _, e := range faqEntries(t, false) {
		mustReplace(t, ix, e.DocumentID, e)
	}
	for _, p := range readJSONL[passage](t, "testdata/faq/passages_fr.jsonl") {
		mustReplace(t, ix, p.ID, Entry{ChunkID: p.ID, Title: p.Title, Heading: p.Heading, Question: p.Question, Text: p.Text, Kind: "faq", Language: "fr"})
	}
	cases := []struct{ q, want string }{
		{"où signaler les bogues", "general-10-fr"}, // bogues → bogue
		{"livres pour apprendre", "general-12-fr"},  // livres → livre
		{"stabilite des versions", "general-16-fr"}, // no accent
		{"combien d'utilisateurs", "general-17-fr"}, // elision
	}
	for _, c := range cases {
		t.Run(c.q, func(t *testing.T) {
			hits := search(t, ix, Query{Text: c.q, K: 5, Filters: Filters{Language: "fr"}})
			if len(hits) == 0 || hits[0].ChunkID != c.want {
				t.Fatalf("got %v, want %s first", ids(hits), c.want)
			}
			for _, h := range hits {
				if h.Language != "fr" {
					t.Fatalf("language filter let %s (%q) through", h.ChunkID, h.Language)
				}
			}
		})
	}
}
