// Package language owns telling which language a customer writes in:
// Detect names it as an ISO 639-1 code, or "" when the text is too short or
// too mixed to tell ("ok", "👍", an order number).
//
// Detection is pure Go and offline. A text's letters are first sorted by
// script: a script that only one supported language uses decides alone
// (Greek el, Hebrew he, Hangul ko, kana ja, Han zh, Thai th, Devanagari hi,
// Georgian ka, Armenian hy). The Latin (en, de, fr, es, it, pt, nl, pl, tr,
// sv), Cyrillic (ru, uk) and Arabic (ar, fa) languages are told apart by a
// naive Bayes score over the text's words and their character trigrams,
// each model interpolated with a shared background so that a word or
// trigram no corpus knows (a name, a product) speaks for no language. The
// models are built on first use from the small corpora under corpus/:
// support-desk sentences written for this package, not copied from
// anywhere. Adding a language is adding its corpus file.
//
// Why not a library: the small pure-Go one (whatlanggo, unchanged since
// 2019) named "Quiero un reembolso" Italian, "Can you help me?" Indonesian
// and "Kannst du mir helfen?" Turkish, the short messages support is made
// of; lingua-go gets them right but is a 128 MB module whose models would
// dwarf the binary.
//
// Customer messages are short, so Detect is built to abstain: tokens with
// digits, links, e-mail addresses and chat fillers ("ok", "lol") are
// dropped, texts with fewer than MinLetters letters are "", and so is a
// text whose best language has a posterior below MinPosterior. The
// confidence Detect returns is that posterior scaled down for short texts,
// so a caller can tell a greeting ("danke") from a sentence: a detection
// with a confidence of at least Sure rests on a sentence.
package language

import (
	"embed"
	"fmt"
	"io/fs"
	"math"
	"path"
	"slices"
	"strings"
	"sync"
	"unicode"
)

// Thresholds of Detect.
const (
	// MinLetters is the fewest letters (after dropping digits, links and
	// fillers) Detect tries to name a language for; for Han, kana and
	// Hangul, which write a word in one or two characters, it is 2.
	MinLetters = 4
	// MinPosterior is the lowest posterior of the best language that
	// Detect names; below it, Detect returns "".
	MinPosterior = 0.75
	// Sure is the confidence from which a detection rests on a sentence,
	// not a word or two: enough to replace a language known before.
	Sure = 0.9
	// sentenceLetters is the number of letters (dense scripts: characters)
	// from which a text counts in full; a shorter text's confidence is its
	// posterior scaled by its share of it.
	sentenceLetters, sentenceDense = 16, 4
)

// Detect returns the ISO 639-1 code of the language text is written in and
// a confidence between 0 and 1 (see Sure), or ("", 0) when the text is too
// short or too uncertain to tell.
func Detect(text string) (code string, confidence float64) {
	return models().detect(text)
}

// Languages returns the ISO 639-1 codes Detect may return, sorted.
func Languages() []string {
	d := models()
	var out []string
	for _, ms := range d.byScript {
		for _, m := range ms {
			out = append(out, m.code)
		}
	}
	for _, code := range scriptOnly {
		out = append(out, code)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

//go:embed corpus/*.txt
var corpora embed.FS

// models are the corpora's models, built once on first use; they are never
// changed after.
var models = sync.OnceValue(func() *detector {
	d, err := build(corpora)
	if err != nil {
		panic(fmt.Sprintf("language: embedded corpora: %v", err)) // caught by the package's tests
	}
	return d
})

// script is a writing system a rune belongs to.
type script string

// scripts are the scripts Detect recognizes, in the order runes are tested.
var scripts = []struct {
	name  script
	table *unicode.RangeTable
}{
	{"Latin", unicode.Latin}, {"Cyrillic", unicode.Cyrillic}, {"Arabic", unicode.Arabic},
	{"Han", unicode.Han}, {"Hiragana", unicode.Hiragana}, {"Katakana", unicode.Katakana},
	{"Hangul", unicode.Hangul}, {"Greek", unicode.Greek}, {"Hebrew", unicode.Hebrew},
	{"Devanagari", unicode.Devanagari}, {"Thai", unicode.Thai}, {"Georgian", unicode.Georgian},
	{"Armenian", unicode.Armenian},
}

// scriptOnly maps a script that one supported language uses to that
// language. Kana (with or without Han) is Japanese; Han alone is Chinese.
var scriptOnly = map[script]string{
	"Han": "zh", "Hiragana": "ja", "Katakana": "ja", "Hangul": "ko", "Greek": "el", "Hebrew": "he",
	"Devanagari": "hi", "Thai": "th", "Georgian": "ka", "Armenian": "hy",
}

// denseScripts write a word in one or two characters.
var denseScripts = map[script]bool{"Han": true, "Hiragana": true, "Katakana": true, "Hangul": true}

func scriptOf(r rune) script {
	for _, s := range scripts {
		if unicode.Is(s.table, r) {
			return s.name
		}
	}
	return ""
}

// fillers are tokens every language's chats use; they speak for none.
var fillers = map[string]bool{
	"ok": true, "okay": true, "okey": true, "oki": true, "okk": true, "kk": true, "k": true,
	"lol": true, "xd": true, "haha": true, "hahaha": true, "hehe": true, "jaja": true, "jajaja": true,
	"hmm": true, "hm": true, "mmm": true, "ah": true, "oh": true, "eh": true, "uh": true, "wow": true,
}

// tokens splits text into lower-case words of letters, dropping fields with
// digits (order numbers, dates, prices), links, e-mail addresses, handles
// and fillers.
func tokens(text string) []string {
	var out []string
	for _, field := range strings.Fields(text) {
		lf := strings.ToLower(field)
		if strings.Contains(lf, "://") || strings.HasPrefix(lf, "www.") || strings.ContainsAny(lf, "@#/\\") ||
			strings.IndexFunc(lf, unicode.IsDigit) >= 0 {
			continue
		}
		word := make([]rune, 0, len(field))
		flush := func() {
			if w := string(word); len(word) > 0 && !fillers[w] {
				out = append(out, w)
			}
			word = word[:0]
		}
		for _, r := range field {
			switch {
			case r == 'İ': // Turkish capital dotted I; ToLower adds a combining dot
				word = append(word, 'i')
			case unicode.IsLetter(r):
				word = append(word, unicode.ToLower(r))
			case unicode.Is(unicode.Mn, r): // diacritics written as marks (Arabic vowels)
			default:
				flush()
			}
		}
		flush()
	}
	return out
}

// trigrams returns the character trigrams of a word padded with spaces:
// " ab", "abc", "bc ".
func trigrams(word string) []string {
	rs := []rune(" " + word + " ")
	out := make([]string, 0, len(rs)-2)
	for i := 0; i+3 <= len(rs); i++ {
		out = append(out, string(rs[i:i+3]))
	}
	return out
}

// Weights of the score.
const (
	// lambda is the share of a language's own counts in its interpolated
	// probabilities; the rest is the shared background.
	lambda = 0.5
	// trigramWeight scales a word's mean trigram log-probability against
	// its word log-probability.
	trigramWeight = 2.0
)

// model is one language's word and trigram log-probabilities.
type model struct {
	code   string
	script script
	words  map[string]float64
	// unseenWord is the log-probability of a word the corpus lacks.
	unseenWord float64
	tris       map[string]float64
	unseenTri  float64
}

// detector holds the models of the languages that share a script.
type detector struct {
	byScript map[script][]*model
}

// build makes a model of each corpus/<code>.txt in fsys.
func build(fsys fs.FS) (*detector, error) {
	files, err := fs.Glob(fsys, "corpus/*.txt")
	if err != nil {
		return nil, err
	}
	type counts struct {
		code          string
		script        script
		words, tris   map[string]int
		nWords, nTris int
	}
	var all []*counts
	vocab, triVocab := map[string]bool{}, map[string]bool{}
	for _, f := range files {
		b, err := fs.ReadFile(fsys, f)
		if err != nil {
			return nil, err
		}
		c := &counts{code: strings.TrimSuffix(path.Base(f), ".txt"), words: map[string]int{}, tris: map[string]int{}}
		perScript := map[script]int{}
		for _, w := range tokens(string(b)) {
			c.words[w]++
			c.nWords++
			vocab[w] = true
			for _, t := range trigrams(w) {
				c.tris[t]++
				c.nTris++
				triVocab[t] = true
			}
			for _, r := range w {
				perScript[scriptOf(r)]++
			}
		}
		c.script = majority(perScript)
		if c.nWords < 100 || c.script == "" {
			return nil, fmt.Errorf("%s: %d words in script %q; a corpus needs at least 100", f, c.nWords, c.script)
		}
		all = append(all, c)
	}
	d := &detector{byScript: map[script][]*model{}}
	bgWord, bgTri := (1-lambda)/float64(len(vocab)), (1-lambda)/float64(len(triVocab))
	for _, c := range all {
		m := &model{code: c.code, script: c.script, words: map[string]float64{}, tris: map[string]float64{},
			unseenWord: math.Log(bgWord), unseenTri: math.Log(bgTri)}
		for w, n := range c.words {
			m.words[w] = math.Log(lambda*float64(n)/float64(c.nWords) + bgWord)
		}
		for t, n := range c.tris {
			m.tris[t] = math.Log(lambda*float64(n)/float64(c.nTris) + bgTri)
		}
		d.byScript[c.script] = append(d.byScript[c.script], m)
	}
	for _, ms := range d.byScript {
		slices.SortFunc(ms, func(a, b *model) int { return strings.Compare(a.code, b.code) })
	}
	return d, nil
}

// majority returns the script with the most letters; ties go to the first
// in scripts order.
func majority(n map[script]int) script {
	var best script
	for _, s := range scripts {
		if n[s.name] > n[best] {
			best = s.name
		}
	}
	return best
}

func (d *detector) detect(text string) (string, float64) {
	toks := tokens(text)
	perScript := map[script]int{}
	for _, w := range toks {
		for _, r := range w {
			perScript[scriptOf(r)]++
		}
	}
	s := majority(perScript)
	// Japanese mixes kana with Han; any kana makes Han text Japanese.
	if kana := perScript["Hiragana"] + perScript["Katakana"]; kana > 0 && (s == "Han" || s == "Hiragana" || s == "Katakana") {
		perScript["Hiragana"] = perScript["Han"] + kana
		s = "Hiragana"
	}
	letters := perScript[s]
	if s == "" || letters < MinLetters && !(denseScripts[s] && letters >= 2) {
		return "", 0
	}
	full := sentenceLetters
	if denseScripts[s] {
		full = sentenceDense
	}
	length := min(1, float64(letters)/float64(full))
	if code, ok := scriptOnly[s]; ok {
		return code, length
	}
	ms := d.byScript[s]
	if len(ms) == 0 {
		return "", 0
	}
	// Score each language on the words of the text's script.
	scores := make([]float64, len(ms))
	for _, w := range toks {
		if scriptOf([]rune(w)[0]) != s {
			continue
		}
		tris := trigrams(w)
		for i, m := range ms {
			lw, ok := m.words[w]
			if !ok {
				lw = m.unseenWord
			}
			var lt float64
			for _, t := range tris {
				p, ok := m.tris[t]
				if !ok {
					p = m.unseenTri
				}
				lt += p
			}
			scores[i] += lw + trigramWeight*lt/float64(len(tris))
		}
	}
	best := 0
	for i := range scores {
		if scores[i] > scores[best] {
			best = i
		}
	}
	// The posterior of the best language under a uniform prior.
	var sum float64
	for _, sc := range scores {
		sum += math.Exp(sc - scores[best])
	}
	posterior := 1 / sum
	if posterior < MinPosterior {
		return "", 0
	}
	return ms[best].code, posterior * length
}
