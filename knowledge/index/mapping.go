package index

import (
	"strings"
	"time"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/custom"
	"github.com/blevesearch/bleve/v2/analysis/char/asciifolding"
	"github.com/blevesearch/bleve/v2/analysis/lang/en"
	_ "github.com/blevesearch/bleve/v2/analysis/lang/es" // registers the "es" analyzer
	_ "github.com/blevesearch/bleve/v2/analysis/lang/it" // registers the "it" analyzer
	_ "github.com/blevesearch/bleve/v2/analysis/lang/pt" // registers the "pt" analyzer
	"github.com/blevesearch/bleve/v2/analysis/token/lowercase"
	"github.com/blevesearch/bleve/v2/analysis/tokenizer/unicode"
	"github.com/blevesearch/bleve/v2/mapping"
	index "github.com/blevesearch/bleve_index_api"

	_ "github.com/blevesearch/bleve/v2/analysis/lang/de" // registers the "de" analyzer
	_ "github.com/blevesearch/bleve/v2/analysis/lang/fr" // registers the "fr" analyzer
)

// Field names in the bleve documents.
const (
	fDoc      = "doc"
	fTitle    = "title"
	fHeading  = "heading"
	fQuestion = "question"
	fText     = "text"
	fAll      = "all" // title, heading, question and text folded: document frequencies
	fKind     = "kind"
	fTags     = "tags"
	fLang     = "lang"
	fURL      = "url"
	fFrom     = "from"    // ValidFrom in Unix milliseconds (open: minOpen)
	fUntil    = "until"   // ValidUntil in Unix milliseconds (open: maxOpen)
	fFromS    = "from_s"  // stored RFC 3339, "" when open
	fUntilS   = "until_s" // likewise
	stemField = "stem_"   // + language: the whole chunk, stemmed for its language
	noLang    = "_none"   // the lang term of an entry without a language
	aFold     = "fold"    // lowercase, accents folded, English stop words dropped
	aSurface  = "surface" // the tokenizer alone: words with their byte offsets
	openBound = 1 << 52   // ± Unix milliseconds of an open validity bound
	scoreBM25 = index.BM25Scoring
)

// stemLanguages are the languages with a stemmed field. An entry without a
// language is stemmed as English.
var stemLanguages = []string{"en", "es", "de", "fr", "it", "pt"}

// Boosts of the searchable fields in the match query.
var fieldBoosts = []struct {
	field string
	boost float64
}{{fQuestion, 2}, {fTitle, 1.5}, {fHeading, 1.2}, {fText, 1}}

// storedFields are the fields a search loads to fill Hit.Entry.
var storedFields = []string{fDoc, fTitle, fHeading, fQuestion, fText, fKind, fTags, fLang, fURL, fFromS, fUntilS}

// doc is what bleve indexes for one Entry.
type doc struct {
	Doc      string   `json:"doc"`
	Title    string   `json:"title"`
	Heading  string   `json:"heading"`
	Question string   `json:"question"`
	Text     string   `json:"text"`
	All      string   `json:"all"`
	Kind     string   `json:"kind"`
	Tags     []string `json:"tags"`
	Lang     string   `json:"lang"`
	URL      string   `json:"url"`
	From     float64  `json:"from"`
	Until    float64  `json:"until"`
	FromS    string   `json:"from_s"`
	UntilS   string   `json:"until_s"`
	StemEN   string   `json:"stem_en,omitempty"`
	StemES   string   `json:"stem_es,omitempty"`
	StemDE   string   `json:"stem_de,omitempty"`
	StemFR   string   `json:"stem_fr,omitempty"`
	StemIT   string   `json:"stem_it,omitempty"`
	StemPT   string   `json:"stem_pt,omitempty"`
}

// stemLang is the language whose stemmer an entry of language l gets.
func stemLang(l string) string {
	l = strings.ToLower(l)
	for _, s := range stemLanguages {
		if s == l {
			return s
		}
	}
	if l == "" {
		return "en"
	}
	return ""
}

func toDoc(e *Entry) doc {
	d := doc{
		Doc: e.DocumentID, Title: e.Title, Heading: e.Heading, Question: e.Question, Text: e.Text,
		All:  strings.Join([]string{e.Title, e.Heading, e.Question, e.Text}, "\n"),
		Kind: e.Kind, Tags: e.Tags, Lang: strings.ToLower(e.Language), URL: e.SourceURL,
		From: -openBound, Until: openBound,
	}
	if d.Lang == "" {
		d.Lang = noLang
	}
	if !e.ValidFrom.IsZero() {
		d.From = float64(e.ValidFrom.UnixMilli())
		d.FromS = e.ValidFrom.Format(time.RFC3339Nano)
	}
	if !e.ValidUntil.IsZero() {
		d.Until = float64(e.ValidUntil.UnixMilli())
		d.UntilS = e.ValidUntil.Format(time.RFC3339Nano)
	}
	// Text first, so that offsets in it are offsets in Text.
	stem := strings.Join([]string{e.Text, e.Question, e.Title, e.Heading}, "\n")
	switch stemLang(e.Language) {
	case "en":
		d.StemEN = stem
	case "es":
		d.StemES = stem
	case "de":
		d.StemDE = stem
	case "fr":
		d.StemFR = stem
	case "it":
		d.StemIT = stem
	case "pt":
		d.StemPT = stem
	}
	return d
}

func newMapping() (mapping.IndexMapping, error) {
	im := bleve.NewIndexMapping()
	im.ScoringModel = scoreBM25
	if err := im.AddCustomAnalyzer(aFold, map[string]any{
		"type":          custom.Name,
		"char_filters":  []string{asciifolding.Name},
		"tokenizer":     unicode.Name,
		"token_filters": []string{lowercase.Name, en.StopName},
	}); err != nil {
		return nil, err
	}
	if err := im.AddCustomAnalyzer(aSurface, map[string]any{
		"type":      custom.Name,
		"tokenizer": unicode.Name,
	}); err != nil {
		return nil, err
	}
	im.DefaultAnalyzer = aFold

	text := func(analyzer string, store bool) *mapping.FieldMapping {
		f := bleve.NewTextFieldMapping()
		f.Analyzer = analyzer
		f.Store = store
		f.IncludeTermVectors = false
		f.IncludeInAll = false
		f.DocValues = false
		return f
	}
	keyword := func(store, docValues bool) *mapping.FieldMapping {
		f := bleve.NewKeywordFieldMapping()
		f.Store = store
		f.IncludeTermVectors = false
		f.IncludeInAll = false
		f.DocValues = docValues
		return f
	}
	stored := func() *mapping.FieldMapping {
		f := bleve.NewTextFieldMapping()
		f.Index = false
		f.Store = true
		f.IncludeTermVectors = false
		f.IncludeInAll = false
		f.DocValues = false
		return f
	}
	numeric := func() *mapping.FieldMapping {
		f := bleve.NewNumericFieldMapping()
		f.Store = false
		f.IncludeInAll = false
		f.DocValues = false
		return f
	}
	dm := bleve.NewDocumentStaticMapping()
	dm.AddFieldMappingsAt(fDoc, keyword(true, true))
	for _, f := range []string{fTitle, fHeading, fQuestion, fText} {
		dm.AddFieldMappingsAt(f, text(aFold, true))
	}
	dm.AddFieldMappingsAt(fAll, text(aFold, false))
	dm.AddFieldMappingsAt(fKind, keyword(true, false))
	dm.AddFieldMappingsAt(fTags, keyword(true, false))
	dm.AddFieldMappingsAt(fLang, keyword(true, false))
	dm.AddFieldMappingsAt(fURL, stored())
	dm.AddFieldMappingsAt(fFrom, numeric())
	dm.AddFieldMappingsAt(fUntil, numeric())
	dm.AddFieldMappingsAt(fFromS, stored())
	dm.AddFieldMappingsAt(fUntilS, stored())
	for _, l := range stemLanguages {
		dm.AddFieldMappingsAt(stemField+l, text(l, false))
	}
	im.DefaultMapping = dm
	im.StoreDynamic = false
	im.IndexDynamic = false
	im.DocValuesDynamic = false
	if err := im.Validate(); err != nil {
		return nil, err
	}
	return im, nil
}
