package language

import (
	"strings"
	"testing"
	"testing/fstest"
)

// TestBuildRefusesThinCorpus: a corpus too small to model a language is an
// error, not a model that names it at random.
func TestBuildRefusesThinCorpus(t *testing.T) {
	_, err := build(fstest.MapFS{"corpus/xx.txt": {Data: []byte("a few words only")}})
	if err == nil || !strings.Contains(err.Error(), "corpus/xx.txt") {
		t.Fatalf("build = %v, want an error naming the corpus", err)
	}
}

// TestCorporaScripts: every embedded corpus is modelled under its script.
func TestCorporaScripts(t *testing.T) {
	want := map[string]script{"en": "Latin", "de": "Latin", "tr": "Latin", "ru": "Cyrillic", "uk": "Cyrillic", "ar": "Arabic", "fa": "Arabic"}
	for s, ms := range models().byScript {
		for _, m := range ms {
			if w, ok := want[m.code]; ok && w != s {
				t.Errorf("%s modelled under %s, want %s", m.code, s, w)
			}
		}
	}
}
