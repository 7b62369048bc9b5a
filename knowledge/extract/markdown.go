package extract

import (
	stdhtml "html"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

var (
	mdATX        = regexp.MustCompile(`^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$`)
	mdSetext     = regexp.MustCompile(`^ {0,3}(=+|-+)[ \t]*$`)
	mdBreak      = regexp.MustCompile(`^ {0,3}(?:(?:\*[ \t]*){3,}|(?:-[ \t]*){3,}|(?:_[ \t]*){3,})$`)
	mdFence      = regexp.MustCompile("^ {0,3}(`{3,}|~{3,})")
	mdRefDef     = regexp.MustCompile(`^ {0,3}\[[^\]]+\]:[ \t]*\S+`)
	mdTableDelim = regexp.MustCompile(`^[ \t]*\|?[ \t]*:?-+:?[ \t]*(?:\|[ \t]*:?-+:?[ \t]*)*\|?[ \t]*$`)
	mdListMarker = regexp.MustCompile(`^[ \t]*(?:[-*+•]|\d{1,9}[.)])[ \t]+(?:\[[ xX]\][ \t]+)?`)
	mdQuestion   = regexp.MustCompile(`(?i)^(?:\*\*|__)?[ \t]*(?:q|question)[ \t]*[:.](?:\*\*|__)?[ \t]*(?:\*\*|__)?(.*)$`)
	mdAnswer     = regexp.MustCompile(`(?i)^(?:\*\*|__)?[ \t]*(?:a|answer)[ \t]*[:.](?:\*\*|__)?[ \t]*(?:\*\*|__)?(.*)$`)
	mdRawBlock   = regexp.MustCompile(`(?i)^ {0,3}<(script|style|pre|textarea)(?:[\s>]|$)`)
	mdHTMLBlock  = regexp.MustCompile(`^ {0,3}<(?:[A-Za-z][A-Za-z0-9-]*|/[A-Za-z][A-Za-z0-9-]*|!--|!\[CDATA\[|\?|![A-Z])`)
	mdInlineRaw  = regexp.MustCompile(`(?is)<(?:script|style)\b.*?</(?:script|style)\s*>`)
	mdImage      = regexp.MustCompile(`!\[([^\]]*)\](?:\([^)]*\)|\[[^\]]*\])`)
	mdLink       = regexp.MustCompile(`\[([^\]]*)\](?:\([^)]*\)|\[[^\]]*\])`)
	mdAutolink   = regexp.MustCompile(`<((?:https?://|mailto:)[^>\s]+)>`)
	mdTag        = regexp.MustCompile(`</?[A-Za-z][A-Za-z0-9-]*(?:\s[^<>]*)?/?>|<!--.*?-->`)
)

// parseMarkdown reads Markdown: ATX and setext headings build the heading
// path, markup is stripped for indexing, fenced code is kept as text,
// front matter is skipped (its title: is the Title), a section under a
// heading ending with "?" and "Q: … A: …" pairs are FAQ pairs.
func parseMarkdown(data []byte) (Document, error) {
	s, err := readText(data, Markdown, ErrCorrupt)
	if err != nil {
		return Document{}, err
	}
	lines := strings.Split(s, "\n")
	p := &mdParser{b: &builder{faqHeadings: true}}
	lines = p.frontMatter(lines)
	p.run(lines)
	p.endPara()
	p.endFAQ()
	if p.b.doc.Title == "" {
		p.b.doc.Title = p.h1
	}
	return p.b.finish()
}

// mdParser is the state of one Markdown parse.
type mdParser struct {
	b    *builder
	h1   string
	para []string // lines of the current paragraph, block quote markers stripped

	// A "Q: … A: …" pair being read.
	q        string
	answer   []string
	inAnswer bool
}

// frontMatter skips YAML front matter, taking its title.
func (p *mdParser) frontMatter(lines []string) []string {
	if len(lines) == 0 || strings.TrimSpace(lines[0]) != "---" {
		return lines
	}
	for i := 1; i < len(lines) && i < 500; i++ {
		l := strings.TrimSpace(lines[i])
		if l != "---" && l != "..." {
			continue
		}
		for _, fm := range lines[1:i] {
			if k, v, ok := strings.Cut(fm, ":"); ok && strings.TrimSpace(k) == "title" {
				p.b.doc.Title = space(strings.Trim(strings.TrimSpace(v), `"'`))
			}
		}
		return lines[i+1:]
	}
	return lines
}

// run reads the lines of the document.
func (p *mdParser) run(lines []string) {
	for i := 0; i < len(lines) && p.b.err == nil; i++ {
		line := lines[i]
		if m := mdFence.FindStringSubmatch(line); m != nil {
			p.endPara()
			fence := m[1]
			var code []string
			for i++; i < len(lines); i++ {
				if t := strings.TrimSpace(lines[i]); strings.HasPrefix(t, fence) && strings.Trim(t, fence[:1]) == "" {
					break
				}
				if l := space(lines[i]); l != "" {
					code = append(code, l)
				}
			}
			p.block(strings.Join(code, "\n"))
			continue
		}
		if strings.TrimSpace(line) == "" {
			p.endPara()
			continue
		}
		if m := mdATX.FindStringSubmatch(line); m != nil {
			p.endPara()
			p.heading(len(m[1]), m[2])
			continue
		}
		if len(p.para) > 0 && mdSetext.MatchString(line) && !p.listOrTable() {
			level := 1
			if strings.Contains(line, "-") {
				level = 2
			}
			text := strings.Join(p.para, " ")
			p.para = nil
			p.heading(level, text)
			continue
		}
		if mdBreak.MatchString(line) {
			p.endPara()
			continue
		}
		if len(p.para) == 0 && mdRefDef.MatchString(line) {
			continue
		}
		if len(p.para) == 0 && mdHTMLBlock.MatchString(line) {
			i = p.htmlBlock(lines, i)
			continue
		}
		for d := 0; d < maxDepth; d++ { // block quotes
			t := strings.TrimLeft(line, " \t")
			if !strings.HasPrefix(t, ">") {
				break
			}
			line = strings.TrimPrefix(t[1:], " ")
		}
		if strings.TrimSpace(line) == "" {
			p.endPara()
			continue
		}
		p.para = append(p.para, line)
	}
}

// htmlBlock reads an HTML block starting at lines[i] and returns the index
// of its last line.
func (p *mdParser) htmlBlock(lines []string, i int) int {
	p.endFAQ()
	start := i
	if m := mdRawBlock.FindStringSubmatch(lines[i]); m != nil {
		closing := "</" + strings.ToLower(m[1])
		for ; i < len(lines) && !strings.Contains(strings.ToLower(lines[i]), closing); i++ {
		}
	} else if strings.HasPrefix(strings.TrimSpace(lines[i]), "<!--") {
		for ; i < len(lines) && !strings.Contains(lines[i], "-->"); i++ {
		}
	} else {
		for ; i+1 < len(lines) && strings.TrimSpace(lines[i+1]) != ""; i++ {
		}
	}
	i = min(i, len(lines)-1)
	htmlInto(p.b, strings.Join(lines[start:i+1], "\n"))
	return i
}

// heading starts a section.
func (p *mdParser) heading(level int, raw string) {
	p.endFAQ()
	text := inline(raw)
	if level == 1 && p.h1 == "" {
		p.h1 = text
	}
	p.b.heading(level, text)
}

// listOrTable reports whether the current paragraph is a list or a table
// (a following --- is then no setext underline).
func (p *mdParser) listOrTable() bool {
	return mdListMarker.MatchString(p.para[0]) || strings.Contains(p.para[0], "|")
}

// endPara ends the current paragraph: a table, a list, a Q/A line pair or
// wrapped text.
func (p *mdParser) endPara() {
	lines := p.para
	p.para = nil
	if len(lines) == 0 {
		return
	}
	if len(lines) >= 2 && strings.Contains(lines[0], "|") && mdTableDelim.MatchString(lines[1]) {
		var rows []string
		for j, l := range lines {
			if j == 1 {
				continue
			}
			if row := tableRow(l); row != "" {
				rows = append(rows, row)
			}
		}
		p.block(strings.Join(rows, "\n"))
		return
	}
	var out []string
	var cur strings.Builder
	flush := func() {
		if t := inline(cur.String()); t != "" {
			out = append(out, t)
		}
		cur.Reset()
	}
	for _, l := range lines {
		if m := mdQuestion.FindStringSubmatch(l); m != nil {
			flush()
			p.emit(out)
			out = nil
			p.endFAQ()
			p.q = m[1]
			continue
		}
		if m := mdAnswer.FindStringSubmatch(l); m != nil && p.q != "" && !p.inAnswer {
			flush()
			p.emit(out) // question text that wrapped onto more lines
			out = nil
			p.inAnswer = true
			cur.WriteString(m[1])
			continue
		}
		if loc := mdListMarker.FindStringIndex(l); loc != nil {
			flush()
			cur.WriteString(l[loc[1]:])
			continue
		}
		if p.q != "" && !p.inAnswer && len(out) == 0 && cur.Len() == 0 {
			p.q += " " + l
			continue
		}
		cur.WriteString(" " + l)
	}
	flush()
	p.emit(out)
}

// emit adds the lines of a paragraph: to the answer being read, or to the
// section.
func (p *mdParser) emit(lines []string) {
	if len(lines) == 0 {
		return
	}
	text := strings.Join(lines, "\n")
	if p.q != "" && p.inAnswer {
		p.answer = append(p.answer, text)
		return
	}
	p.endFAQ()
	p.b.para(text)
}

// block adds a paragraph that is no part of a Q/A pair's question.
func (p *mdParser) block(text string) {
	p.emit([]string{text})
}

// endFAQ ends the Q/A pair being read.
func (p *mdParser) endFAQ() {
	if p.q == "" {
		return
	}
	q := inline(p.q)
	if !p.inAnswer {
		p.b.para(q)
	} else {
		p.b.faq(q, strings.Join(p.answer, "\n\n"))
	}
	p.q, p.answer, p.inAnswer = "", nil, false
}

// tableRow returns the cells of a table line as "a | b".
func tableRow(l string) string {
	l = strings.TrimSpace(l)
	l = strings.TrimPrefix(l, "|")
	if !strings.HasSuffix(l, `\|`) {
		l = strings.TrimSuffix(l, "|")
	}
	l = strings.ReplaceAll(l, `\|`, "\x00")
	var cells []string
	for c := range strings.SplitSeq(l, "|") {
		if t := inline(strings.ReplaceAll(c, "\x00", "|")); t != "" {
			cells = append(cells, t)
		}
	}
	return strings.Join(cells, " | ")
}

// inline strips inline markup: links and images keep their text, HTML tags
// go (scripts and styles with their content), emphasis and code markers go,
// entities are decoded, white space is collapsed.
func inline(s string) string {
	s = mdInlineRaw.ReplaceAllString(s, " ")
	s = mdImage.ReplaceAllString(s, "$1")
	s = mdLink.ReplaceAllString(s, "$1")
	s = mdAutolink.ReplaceAllString(s, "$1")
	s = mdTag.ReplaceAllString(s, " ")
	s = emphasis(s)
	s = stdhtml.UnescapeString(s)
	return space(s)
}

// emphasis drops emphasis and code markers (* _ ~~ `) and backslash
// escapes. An _ inside a word and a * between spaces stay.
func emphasis(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	prev := ' '
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		next, _ := utf8.DecodeRuneInString(s[i+n:])
		if i+n >= len(s) {
			next = ' '
		}
		switch {
		case r == '\\' && i+n < len(s) && unicode.IsPunct(next) || r == '\\' && strings.ContainsRune("*_`~#[]()<>|", next):
			_, m := utf8.DecodeRuneInString(s[i+n:])
			b.WriteString(s[i+n : i+n+m])
			prev = next
			i += n + m
			continue
		case r == '`':
			i += n
			continue
		case r == '~' && next == '~':
			i += 2
			continue
		case r == '*' && !(unicode.IsSpace(prev) && unicode.IsSpace(next)):
			i += n
			continue
		case r == '_' && !(wordRune(prev) && wordRune(next)):
			i += n
			continue
		}
		b.WriteRune(r)
		prev = r
		i += n
	}
	return b.String()
}

// wordRune reports whether r is a letter or digit.
func wordRune(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }
