package extract

import (
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// HeadingSeparator joins a section's headings in Chunk.Heading.
const HeadingSeparator = " › "

// Chunk is a piece of a Document stored in the search index.
type Chunk struct {
	// Ordinal is 0, 1, 2… in document order.
	Ordinal int
	// Heading is the section's headings joined with " › " (for merged
	// sibling sections: their parent's headings).
	Heading string
	// Question is the FAQ question when the chunk is (part of) an FAQ
	// answer.
	Question string
	// Text is the chunk's text (for FAQ chunks: the answer).
	Text string
}

// ChunkOptions says how big chunks are. Sizes count characters (runes).
type ChunkOptions struct {
	// MaxChars is the target maximum characters per chunk (0: 1200). Only a
	// single word longer than MaxChars makes a longer chunk.
	MaxChars int
	// Overlap is how many characters of the previous chunk are repeated at
	// the start of the next one when a section is split (0: 150; negative:
	// none; at most a third of MaxChars). The repeated text starts at a
	// sentence or word boundary, never mid-word.
	Overlap int
}

// Default chunk sizes.
const (
	DefaultMaxChars = 1200
	DefaultOverlap  = 150
)

// withDefaults fills in the defaults and clamps the overlap.
func (o ChunkOptions) withDefaults() ChunkOptions {
	if o.MaxChars <= 0 {
		o.MaxChars = DefaultMaxChars
	}
	switch {
	case o.Overlap == 0:
		o.Overlap = DefaultOverlap
	case o.Overlap < 0:
		o.Overlap = 0
	}
	o.Overlap = min(o.Overlap, o.MaxChars/3)
	return o
}

// Chunk splits d structure-aware. (A method, not the package function
// Chunk(d, o) first planned: Go cannot have a function and a type both
// named Chunk in one package.) A chunk never spans two headings, except
// that small consecutive sections that are siblings under the same parent
// heading (or share all their headings) are merged up to MaxChars; the
// chunk's Heading is then the parent's, and each merged section's text is
// led by its own heading. Record and FAQ (Question) sections are always
// chunks of their own. A section longer than MaxChars is split at
// paragraph, then sentence, then word boundaries, each piece after the first
// led by Overlap characters of the one before; the pieces of an FAQ answer
// all keep the Question. Sections without text give no chunk. The same input
// gives the same chunks.
func (d Document) Chunk(o ChunkOptions) []Chunk {
	o = o.withDefaults()
	var (
		out   []Chunk
		group []Section
	)
	emit := func(heading, question, text string) {
		for _, piece := range split(text, o.MaxChars, o.Overlap) {
			out = append(out, Chunk{Ordinal: len(out), Heading: heading, Question: question, Text: piece})
		}
	}
	flush := func() {
		if len(group) > 0 {
			heading, text := merge(group)
			emit(heading, "", text)
		}
		group = nil
	}
	for _, s := range d.Sections {
		s.Text = strings.TrimSpace(strings.ToValidUTF8(s.Text, "\uFFFD"))
		s.Question = strings.ToValidUTF8(s.Question, "\uFFFD")
		for i, h := range s.Headings {
			if !utf8.ValidString(h) {
				s.Headings = slices.Clone(s.Headings)
				s.Headings[i] = strings.ToValidUTF8(h, "\uFFFD")
			}
		}
		if s.Text == "" {
			continue
		}
		if s.Record || s.Question != "" || runes(s.Text) > o.MaxChars {
			flush()
			emit(strings.Join(s.Headings, HeadingSeparator), s.Question, s.Text)
			continue
		}
		if len(group) > 0 && mergeable(group[0], s) {
			if _, text := merge(append(slices.Clip(group), s)); runes(text) <= o.MaxChars {
				group = append(group, s)
				continue
			}
		}
		flush()
		group = []Section{s}
	}
	flush()
	return out
}

// mergeable reports whether b may share a chunk with a: the same headings,
// or siblings under the same (non-empty) parent heading.
func mergeable(a, b Section) bool {
	if slices.Equal(a.Headings, b.Headings) {
		return true
	}
	n := len(a.Headings)
	return n >= 2 && len(b.Headings) == n && slices.Equal(a.Headings[:n-1], b.Headings[:n-1])
}

// merge returns the heading and text of a chunk made of several sections.
func merge(group []Section) (heading, text string) {
	same := true
	for _, s := range group[1:] {
		same = same && slices.Equal(s.Headings, group[0].Headings)
	}
	if same {
		texts := make([]string, len(group))
		for i, s := range group {
			texts[i] = s.Text
		}
		return strings.Join(group[0].Headings, HeadingSeparator), strings.Join(texts, "\n\n")
	}
	hs := group[0].Headings
	var b strings.Builder
	last := ""
	for _, s := range group {
		if b.Len() > 0 {
			b.WriteString("\n\n")
		}
		if own := s.Headings[len(s.Headings)-1]; own != last {
			b.WriteString(own + "\n\n")
			last = own
		}
		b.WriteString(s.Text)
	}
	return strings.Join(hs[:len(hs)-1], HeadingSeparator), b.String()
}

// runes counts the characters of s.
func runes(s string) int { return utf8.RuneCountInString(s) }

// unit is a piece of text that is never cut, with the separator that comes
// before it in the original.
type unit struct {
	sep, text string
}

// split cuts text into pieces of at most max characters (a single longer
// word alone excepted), each after the first led by up to overlap
// characters of the piece before.
func split(text string, max, overlap int) []string {
	if runes(text) <= max {
		return []string{text}
	}
	var (
		pieces  []string
		cur     strings.Builder
		n       int  // characters in cur
		content bool // cur holds a unit, not only overlap
	)
	for _, u := range units(text, max-overlap) {
		need := runes(u.sep) + runes(u.text)
		if content && n+need > max {
			pieces = append(pieces, cur.String())
			cur.Reset()
			n, content = 0, false
			if tail := overlapTail(pieces[len(pieces)-1], overlap); tail != "" {
				cur.WriteString(tail)
				n = runes(tail)
			}
		}
		if !content && n > 0 && n+need > max {
			cur.Reset() // the overlap does not fit before this unit
			n = 0
		}
		if n > 0 {
			cur.WriteString(u.sep)
			n += runes(u.sep)
		}
		cur.WriteString(u.text)
		n += runes(u.text)
		content = true
	}
	if content {
		pieces = append(pieces, cur.String())
	}
	return pieces
}

// units cuts text into paragraphs; a paragraph over budget characters into
// sentences (and lines); a sentence over budget into words.
func units(text string, budget int) []unit {
	budget = max(budget, 1)
	var out []unit
	for p := range strings.SplitSeq(text, "\n\n") {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		first := true
		add := func(sep, t string) {
			if first {
				sep, first = "\n\n", false
			}
			out = append(out, unit{sep, t})
		}
		if runes(p) <= budget {
			add("", p)
			continue
		}
		for _, s := range sentences(p) {
			if runes(s.text) <= budget {
				add(s.sep, s.text)
				continue
			}
			for j, w := range strings.Fields(s.text) {
				sep := " "
				if j == 0 {
					sep = s.sep
				}
				add(sep, w)
			}
		}
	}
	if len(out) > 0 {
		out[0].sep = ""
	}
	return out
}

// sentences cuts a paragraph at line breaks and after sentence ends
// (. ! ? … followed by white space).
func sentences(p string) []unit {
	var out []unit
	start, sep := 0, ""
	rs := []rune(p)
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		end := r == '\n' || strings.ContainsRune(".!?…", r) && i+1 < len(rs) && unicode.IsSpace(rs[i+1])
		if !end {
			continue
		}
		if t := strings.TrimSpace(string(rs[start : i+1])); t != "" {
			out = append(out, unit{sep, t})
		}
		sep = " "
		if r == '\n' || i+1 < len(rs) && rs[i+1] == '\n' {
			sep = "\n"
		}
		start = i + 1
	}
	if t := strings.TrimSpace(string(rs[start:])); t != "" {
		out = append(out, unit{sep, t})
	}
	if len(out) > 0 {
		out[0].sep = ""
	}
	return out
}

// overlapTail returns the end of piece to repeat at the start of the next
// one: at most n characters, starting at a sentence start when that keeps at
// least a third of n, else at a word start; "" when no boundary is in reach.
func overlapTail(piece string, n int) string {
	if n <= 0 {
		return ""
	}
	rs := []rune(piece)
	from := max(len(rs)-n, 1)
	word, sentence := -1, -1
	for i := from; i < len(rs); i++ {
		if unicode.IsSpace(rs[i]) || !unicode.IsSpace(rs[i-1]) {
			continue
		}
		if word < 0 {
			word = i
		}
		j := i - 1
		for j > 0 && unicode.IsSpace(rs[j]) && rs[j] != '\n' {
			j--
		}
		if sentence < 0 && (rs[j] == '\n' || strings.ContainsRune(".!?…", rs[j])) && len(rs)-i >= n/3 {
			sentence = i
		}
	}
	switch {
	case sentence >= 0:
		return strings.TrimSpace(string(rs[sentence:]))
	case word >= 0:
		return strings.TrimSpace(string(rs[word:]))
	}
	return ""
}
