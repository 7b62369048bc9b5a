package extract

import (
	"bytes"
	"strconv"
)

// PDF values as the lexer reads them: nil, bool, int64, float64, pdfName,
// pdfString, pdfArray, pdfDict, pdfRef, *pdfStream and pdfOp (a bare
// keyword: a content stream operator).
type (
	pdfName   string
	pdfString string
	pdfOp     string
	pdfArray  []any
	pdfDict   map[pdfName]any
	pdfRef    struct{ num, gen int }
	pdfStream struct {
		dict pdfDict
		raw  []byte
	}
)

// pdfLexer reads PDF tokens and objects from data.
type pdfLexer struct {
	data []byte
	pos  int
	refs bool // read "n g R" as a reference (objects, not content streams)
}

// isPDFSpace reports PDF white space.
func isPDFSpace(c byte) bool {
	return c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == '\f' || c == 0
}

// isPDFDelim reports PDF delimiters.
func isPDFDelim(c byte) bool {
	return bytes.IndexByte([]byte("()<>[]{}/%"), c) >= 0
}

// skipSpace skips white space and comments.
func (l *pdfLexer) skipSpace() {
	for l.pos < len(l.data) {
		c := l.data[l.pos]
		if isPDFSpace(c) {
			l.pos++
			continue
		}
		if c == '%' {
			for l.pos < len(l.data) && l.data[l.pos] != '\n' && l.data[l.pos] != '\r' {
				l.pos++
			}
			continue
		}
		return
	}
}

// eof reports the end of data (after white space).
func (l *pdfLexer) eof() bool {
	l.skipSpace()
	return l.pos >= len(l.data)
}

// object reads one value; depth bounds nesting (past it the value is nil
// and the rest of the nested text is skipped as tokens).
func (l *pdfLexer) object(depth int) any {
	l.skipSpace()
	if l.pos >= len(l.data) {
		return nil
	}
	c := l.data[l.pos]
	if depth > maxDepth && (c == '[' || c == '<') {
		l.pos++ // too deep: the opening is skipped, what follows read flat
		return nil
	}
	switch {
	case c == '/':
		return l.name()
	case c == '(':
		return l.literal()
	case c == '<' && l.pos+1 < len(l.data) && l.data[l.pos+1] == '<':
		l.pos += 2
		d := pdfDict{}
		for {
			l.skipSpace()
			if l.pos >= len(l.data) {
				return d
			}
			if bytes.HasPrefix(l.data[l.pos:], []byte(">>")) {
				l.pos += 2
				return d
			}
			k := l.object(depth + 1)
			name, ok := k.(pdfName)
			if !ok {
				if op, isOp := k.(pdfOp); isOp && (op == "endobj" || op == "stream") {
					return d // an unclosed dictionary
				}
				continue
			}
			if depth >= maxDepth {
				continue
			}
			d[name] = l.object(depth + 1)
		}
	case c == '<':
		return l.hex()
	case c == '[':
		l.pos++
		var a pdfArray
		for {
			l.skipSpace()
			if l.pos >= len(l.data) {
				return a
			}
			if l.data[l.pos] == ']' {
				l.pos++
				return a
			}
			v := l.object(depth + 1)
			if op, isOp := v.(pdfOp); isOp && (op == "endobj" || op == "stream" || op == ">") {
				return a
			}
			if depth < maxDepth && len(a) < 1<<20 {
				a = append(a, v)
			}
		}
	case c == '+' || c == '-' || c == '.' || c >= '0' && c <= '9':
		return l.number()
	case isPDFDelim(c):
		l.pos++
		return pdfOp(string(c))
	}
	start := l.pos
	for l.pos < len(l.data) && !isPDFSpace(l.data[l.pos]) && !isPDFDelim(l.data[l.pos]) {
		l.pos++
	}
	switch kw := string(l.data[start:l.pos]); kw {
	case "true":
		return true
	case "false":
		return false
	case "null":
		return nil
	default:
		return pdfOp(kw)
	}
}

// name reads /Name.
func (l *pdfLexer) name() pdfName {
	l.pos++
	var b []byte
	for l.pos < len(l.data) && !isPDFSpace(l.data[l.pos]) && !isPDFDelim(l.data[l.pos]) {
		c := l.data[l.pos]
		if c == '#' && l.pos+2 < len(l.data) {
			if v, err := strconv.ParseUint(string(l.data[l.pos+1:l.pos+3]), 16, 8); err == nil {
				b = append(b, byte(v))
				l.pos += 3
				continue
			}
		}
		b = append(b, c)
		l.pos++
	}
	return pdfName(b)
}

// literal reads a (string) with its escapes.
func (l *pdfLexer) literal() pdfString {
	l.pos++
	var b []byte
	nest := 0
	for l.pos < len(l.data) {
		c := l.data[l.pos]
		l.pos++
		switch c {
		case '(':
			nest++
		case ')':
			if nest == 0 {
				return pdfString(b)
			}
			nest--
		case '\\':
			if l.pos >= len(l.data) {
				return pdfString(b)
			}
			e := l.data[l.pos]
			l.pos++
			switch e {
			case 'n':
				c = '\n'
			case 'r':
				c = '\r'
			case 't':
				c = '\t'
			case 'b':
				c = '\b'
			case 'f':
				c = '\f'
			case '\r':
				if l.pos < len(l.data) && l.data[l.pos] == '\n' {
					l.pos++
				}
				continue
			case '\n':
				continue
			default:
				if e >= '0' && e <= '7' {
					v := int(e - '0')
					for k := 0; k < 2 && l.pos < len(l.data) && l.data[l.pos] >= '0' && l.data[l.pos] <= '7'; k++ {
						v = v*8 + int(l.data[l.pos]-'0')
						l.pos++
					}
					c = byte(v)
				} else {
					c = e
				}
			}
		}
		b = append(b, c)
	}
	return pdfString(b)
}

// hex reads a <hex string>.
func (l *pdfLexer) hex() pdfString {
	l.pos++
	var b []byte
	hi, half := byte(0), false
	for l.pos < len(l.data) {
		c := l.data[l.pos]
		l.pos++
		if c == '>' {
			break
		}
		v, ok := unhex(c)
		if !ok {
			continue
		}
		if half {
			b = append(b, hi<<4|v)
		} else {
			hi = v
		}
		half = !half
	}
	if half {
		b = append(b, hi<<4)
	}
	return pdfString(b)
}

// unhex reads a hex digit.
func unhex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// number reads an integer, a real, or (with refs) a reference "n g R".
func (l *pdfLexer) number() any {
	start := l.pos
	l.pos++
	for l.pos < len(l.data) && (l.data[l.pos] >= '0' && l.data[l.pos] <= '9' || l.data[l.pos] == '.') {
		l.pos++
	}
	s := string(l.data[start:l.pos])
	if i, err := strconv.ParseInt(s, 10, 64); err == nil {
		if l.refs && i >= 0 {
			save := l.pos
			l.skipSpace()
			gs := l.pos
			for l.pos < len(l.data) && l.data[l.pos] >= '0' && l.data[l.pos] <= '9' && l.pos-gs < 6 {
				l.pos++
			}
			if l.pos > gs {
				gen, _ := strconv.Atoi(string(l.data[gs:l.pos]))
				l.skipSpace()
				if l.pos < len(l.data) && l.data[l.pos] == 'R' && (l.pos+1 == len(l.data) || isPDFSpace(l.data[l.pos+1]) || isPDFDelim(l.data[l.pos+1])) {
					l.pos++
					if i < 1<<30 {
						return pdfRef{int(i), gen}
					}
					return nil
				}
			}
			l.pos = save
		}
		return i
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return int64(0)
	}
	return f
}
