package extract

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// bom is the byte order mark as UTF-8.
const bom = "\uFEFF"

// cp1252 maps the bytes 0x80–0x9F of Windows-1252 (the other high bytes
// are Latin-1); 0 marks a byte that code page leaves undefined.
var cp1252 = [32]rune{
	'€', 0, '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', 0, 'Ž', 0,
	0, '‘', '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', 0, 'ž', 'Ÿ',
}

// decodeText turns file bytes into a string: a UTF-8 BOM is dropped,
// UTF-16 with a BOM is decoded, bytes that are not UTF-8 at all (no valid
// multi-byte sequence anywhere) are read as Windows-1252 (spreadsheets and
// old editors write it), and otherwise invalid bytes become U+FFFD. bad
// counts the bytes that could not be decoded.
func decodeText(data []byte) (s string, bad int) {
	switch {
	case len(data) >= 2 && data[0] == 0xFF && data[1] == 0xFE:
		return decodeUTF16(data[2:], false), 0
	case len(data) >= 2 && data[0] == 0xFE && data[1] == 0xFF:
		return decodeUTF16(data[2:], true), 0
	}
	s = strings.TrimPrefix(string(data), bom)
	if utf8.ValidString(s) {
		return s, 0
	}
	multi := 0
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			bad++
		} else if n > 1 {
			multi++
		}
		i += n
	}
	if multi == 0 {
		return decodeCP1252(s)
	}
	return strings.ToValidUTF8(s, "\uFFFD"), bad
}

// decodeCP1252 reads s as Windows-1252.
func decodeCP1252(s string) (string, int) {
	var b strings.Builder
	b.Grow(len(s) + len(s)/4)
	bad := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c < 0x80:
			b.WriteByte(c)
		case c < 0xA0:
			r := cp1252[c-0x80]
			if r == 0 {
				bad++
				r = utf8.RuneError
			}
			b.WriteRune(r)
		default:
			b.WriteRune(rune(c))
		}
	}
	return b.String(), bad
}

// decodeUTF16 decodes UTF-16 without its BOM.
func decodeUTF16(data []byte, bigEndian bool) string {
	u := make([]uint16, 0, len(data)/2)
	for i := 0; i+1 < len(data); i += 2 {
		if bigEndian {
			u = append(u, uint16(data[i])<<8|uint16(data[i+1]))
		} else {
			u = append(u, uint16(data[i+1])<<8|uint16(data[i]))
		}
	}
	return string(utf16.Decode(u))
}

// readText decodes a text file of format f: CRLF and CR become LF; a file
// of binary bytes, or one with more than 10% undecodable bytes, is refused
// with refuse (ErrUnsupported for plain text, ErrCorrupt for a declared
// markup format).
func readText(data []byte, f Format, refuse error) (string, error) {
	if binaryControls(data) {
		return "", fmt.Errorf("%w: the %s file holds binary bytes", refuse, f)
	}
	s, bad := decodeText(data)
	if bad*10 > len(data) {
		return "", fmt.Errorf("%w: the %s file is not text (%d of %d bytes are not UTF-8)", refuse, f, bad, len(data))
	}
	if len(s) > 4*MaxTextBytes {
		return "", fmt.Errorf("%w: too much text (over %d MiB)", ErrCorrupt, 4*MaxTextBytes>>20)
	}
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	return s, nil
}

// binaryControls reports NUL bytes or many control characters in the first
// 8 KiB of data.
func binaryControls(data []byte) bool {
	if len(data) >= 2 && (data[0] == 0xFF && data[1] == 0xFE || data[0] == 0xFE && data[1] == 0xFF) {
		return false // UTF-16 holds NULs
	}
	sample := data[:min(len(data), 8192)]
	controls := 0
	for _, c := range sample {
		if c == 0 {
			return true
		}
		if c < 0x20 && c != '\n' && c != '\r' && c != '\t' && c != '\f' {
			controls++
		}
	}
	return controls*10 > len(sample)
}

// space collapses every run of white space (NBSP included) into one
// space, drops control and zero-width characters, and trims the ends.
func space(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	pending := false
	for _, r := range s {
		switch {
		case unicode.IsSpace(r) || r == '\u00a0':
			pending = b.Len() > 0
			continue
		case r == '\u200b' || r == '\u200c' || r == '\u200d' || r == '\ufeff' || r == '\u00ad':
			continue
		case unicode.IsControl(r):
			continue
		}
		if pending {
			b.WriteByte(' ')
			pending = false
		}
		b.WriteRune(r)
	}
	return b.String()
}

// heading is one heading of the current path.
type heading struct {
	level int
	text  string
}

// builder collects a Document's sections as a parser walks a file: the
// heading path, the paragraphs of the current section, and the text size.
type builder struct {
	doc   Document
	path  []heading
	paras []string
	size  int
	// faqHeadings: a section whose innermost heading ends with "?" is an
	// FAQ pair.
	faqHeadings bool
	err         error
}

// grow counts n more bytes of text, and records the error once the file
// yields more than MaxTextBytes.
func (b *builder) grow(n int) {
	b.size += n
	if b.size > MaxTextBytes && b.err == nil {
		b.err = fmt.Errorf("%w: too much text (over %d MiB)", ErrCorrupt, MaxTextBytes>>20)
	}
}

// heading starts a section under a heading of level (1 outermost).
func (b *builder) heading(level int, text string) {
	text = space(text)
	if text == "" {
		return
	}
	b.flush()
	for len(b.path) > 0 && b.path[len(b.path)-1].level >= level {
		b.path = b.path[:len(b.path)-1]
	}
	if len(b.path) >= maxDepth {
		return
	}
	b.path = append(b.path, heading{level, text})
	b.grow(len(text))
}

// para adds a paragraph (already normalized) to the current section.
func (b *builder) para(text string) {
	text = strings.TrimSpace(text)
	if text == "" {
		return
	}
	b.paras = append(b.paras, text)
	b.grow(len(text) + 2)
}

// faq adds an FAQ pair under the current headings.
func (b *builder) faq(q, a string) {
	q, a = space(q), strings.TrimSpace(a)
	b.flush()
	if q == "" || a == "" {
		if a != "" {
			b.para(a)
		}
		return
	}
	b.doc.Sections = append(b.doc.Sections, Section{Headings: b.headings(len(b.path)), Question: q, Text: a})
	b.grow(len(q) + len(a))
}

// headings returns the texts of the first n headings of the path.
func (b *builder) headings(n int) []string {
	hs := make([]string, 0, n)
	for _, h := range b.path[:n] {
		hs = append(hs, h.text)
	}
	return hs
}

// flush ends the current section.
func (b *builder) flush() {
	if len(b.paras) == 0 {
		return
	}
	s := Section{Headings: b.headings(len(b.path)), Text: strings.Join(b.paras, "\n\n")}
	if n := len(b.path); b.faqHeadings && n > 0 && strings.HasSuffix(b.path[n-1].text, "?") {
		s.Question = b.path[n-1].text
		s.Headings = s.Headings[:n-1]
	}
	b.doc.Sections = append(b.doc.Sections, s)
	b.paras = nil
}

// finish ends the document.
func (b *builder) finish() (Document, error) {
	b.flush()
	if b.err != nil {
		return Document{}, b.err
	}
	return b.doc, nil
}

// parseText reads plain text: paragraphs by blank lines; a short line
// standing alone before text, in capitals or ending with ":", is a heading.
func parseText(data []byte) (Document, error) {
	s, err := readText(data, Text, ErrUnsupported)
	if err != nil {
		return Document{}, err
	}
	var blocks [][]string
	var cur []string
	for line := range strings.SplitSeq(s, "\n") {
		if strings.TrimSpace(line) == "" {
			if len(cur) > 0 {
				blocks = append(blocks, cur)
				cur = nil
			}
			continue
		}
		cur = append(cur, line)
	}
	if len(cur) > 0 {
		blocks = append(blocks, cur)
	}
	b := &builder{}
	for i, block := range blocks {
		if b.err != nil {
			break
		}
		if len(block) == 1 && i+1 < len(blocks) && textHeading(block[0]) {
			h := strings.TrimSuffix(space(block[0]), ":")
			if i == 0 {
				b.doc.Title = h
			}
			b.heading(1, h)
			continue
		}
		b.para(joinLines(block))
	}
	return b.finish()
}

// textHeading reports whether a line of plain text reads as a heading:
// at most 80 characters, no final period, and in capitals or ending
// with ":".
func textHeading(line string) bool {
	line = space(line)
	if line == "" || utf8.RuneCountInString(line) > 80 || strings.HasSuffix(line, ".") {
		return false
	}
	if strings.HasSuffix(line, ":") {
		return utf8.RuneCountInString(line) > 1 && !listItem(line)
	}
	letters := 0
	for _, r := range line {
		if unicode.IsLower(r) {
			return false
		}
		if unicode.IsLetter(r) {
			letters++
		}
	}
	return letters >= 3
}

// listItem reports whether a line starts with a list marker.
func listItem(line string) bool {
	t := strings.TrimLeft(line, " \t")
	for _, m := range []string{"- ", "* ", "+ ", "• ", "· ", "– "} {
		if strings.HasPrefix(t, m) {
			return true
		}
	}
	i := 0
	for i < len(t) && i < 4 && t[i] >= '0' && t[i] <= '9' {
		i++
	}
	return i > 0 && i+1 < len(t) && (t[i] == '.' || t[i] == ')') && t[i+1] == ' '
}

// joinLines joins the lines of a paragraph: wrapped lines with a space,
// list items each on their own line.
func joinLines(lines []string) string {
	var b strings.Builder
	for i, l := range lines {
		l = space(l)
		if l == "" {
			continue
		}
		if b.Len() > 0 {
			if listItem(lines[i]) {
				b.WriteByte('\n')
			} else {
				b.WriteByte(' ')
			}
		}
		b.WriteString(l)
	}
	return b.String()
}
