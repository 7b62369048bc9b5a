package extract

import (
	"bytes"
	"compress/flate"
	"compress/zlib"
	"encoding/ascii85"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// Bounds of the PDF reader.
const (
	pdfMaxObjects     = 1 << 20   // objects in one file
	pdfMaxStream      = 64 << 20  // bytes one stream may inflate to
	pdfMaxInflated    = 256 << 20 // bytes all streams of a file may inflate to
	pdfMaxOps         = 20 << 20  // content stream operators interpreted per file
	pdfMaxFormNesting = 8         // form XObjects inside form XObjects
)

// errPDFBudget stops a file that inflates or interprets past the bounds.
var errPDFBudget = errors.New("the PDF holds more data than we read")

// parsePDF reads the text layer of a PDF: pages become paragraphs. It is
// its own minimal reader (objects found by scanning, so a broken xref table
// does not matter; object streams; Flate, ASCIIHex and ASCII85 filters;
// simple fonts in WinAnsi, MacRoman or Standard encoding with Differences;
// ToUnicode CMaps; form XObjects). It does not decrypt, and reads no text
// from fonts that map codes to glyphs without a ToUnicode CMap.
func parsePDF(data []byte) (d Document, err error) {
	defer func() {
		if r := recover(); r != nil {
			d, err = Document{}, fmt.Errorf("%w: the PDF could not be read (%v)", ErrCorrupt, r)
		}
	}()
	if !bytes.Contains(data[:min(len(data), 1024)], []byte("%PDF-")) {
		return Document{}, fmt.Errorf("%w: not a PDF (no %%PDF- header)", ErrCorrupt)
	}
	r := &pdfReader{data: data, objects: map[int]any{}, fontDicts: map[string]*pdfFont{}}
	if err := r.scan(); err != nil {
		return Document{}, err
	}
	if r.trailer[pdfName("Encrypt")] != nil {
		return Document{}, fmt.Errorf("%w: the PDF is encrypted", ErrCorrupt)
	}
	pages, err := r.pages()
	if err != nil {
		return Document{}, err
	}
	if len(pages) == 0 {
		return Document{}, fmt.Errorf("%w: the PDF has no pages (a broken or truncated file?)", ErrCorrupt)
	}
	b := &builder{}
	for _, p := range pages {
		paras, err := r.pageText(p)
		if err != nil {
			return Document{}, fmt.Errorf("%w: %v", ErrCorrupt, err)
		}
		for _, para := range paras {
			b.para(para)
		}
		if b.err != nil {
			return Document{}, b.err
		}
	}
	d, err = b.finish()
	if err != nil {
		return Document{}, err
	}
	if len(d.Sections) == 0 {
		if r.undecoded > 0 {
			return Document{}, fmt.Errorf("%w: the PDF's fonts have no Unicode mapping, its text cannot be read", ErrCorrupt)
		}
		return Document{}, fmt.Errorf("%w: the PDF has no text layer (scanned pages?)", ErrEmpty)
	}
	if info, ok := r.resolve(r.trailer[pdfName("Info")]).(pdfDict); ok {
		if t, ok := r.resolve(info[pdfName("Title")]).(pdfString); ok {
			d.Title = space(pdfTextString(string(t)))
		}
	}
	if d.Title == "" {
		first, _, _ := strings.Cut(d.Sections[0].Text, "\n")
		if runes(first) <= 200 {
			d.Title = first
		}
	}
	return d, nil
}

// pdfReader holds one file's objects.
type pdfReader struct {
	data      []byte
	objects   map[int]any
	trailer   pdfDict
	inflated  int
	ops       int
	undecoded int // text shown in fonts we cannot map to Unicode
	fontDicts map[string]*pdfFont
}

// scan finds every "n g obj … endobj" in the file (the last definition of a
// number wins, as incremental updates append), the trailer (or the
// cross-reference stream's dictionary), and the objects inside object
// streams.
func (r *pdfReader) scan() error {
	data := r.data
	var objStms []*pdfStream
	direct := map[int]bool{}
	for pos := 0; pos < len(data); {
		i := bytes.Index(data[pos:], []byte("obj"))
		if i < 0 {
			break
		}
		at := pos + i
		pos = at + 3
		if pos < len(data) && !isPDFSpace(data[pos]) && !isPDFDelim(data[pos]) {
			continue
		}
		num, ok := objNumberBefore(data, at)
		if !ok {
			continue
		}
		l := &pdfLexer{data: data, pos: pos, refs: true}
		v := l.object(0)
		l.skipSpace()
		if d, isDict := v.(pdfDict); isDict && bytes.HasPrefix(data[l.pos:], []byte("stream")) {
			s := &pdfStream{dict: d}
			start := l.pos + len("stream")
			if start < len(data) && data[start] == '\r' {
				start++
			}
			if start < len(data) && data[start] == '\n' {
				start++
			}
			end := -1
			if n, isInt := d[pdfName("Length")].(int64); isInt && n >= 0 && int64(start)+n <= int64(len(data)) {
				after := bytes.TrimLeft(data[start+int(n):min(len(data), start+int(n)+32)], "\r\n \t")
				if bytes.HasPrefix(after, []byte("endstream")) {
					end = start + int(n)
				}
			}
			if end < 0 {
				k := bytes.Index(data[start:], []byte("endstream"))
				if k < 0 {
					k = len(data) - start
				}
				end = start + k
				for end > start && (data[end-1] == '\n' || data[end-1] == '\r') {
					end--
				}
			}
			s.raw = data[start:end]
			pos = end
			v = s
			switch d[pdfName("Type")] {
			case pdfName("ObjStm"):
				objStms = append(objStms, s)
			case pdfName("XRef"):
				r.trailer = d
			}
		} else {
			pos = max(pos, l.pos)
		}
		r.objects[num] = v
		direct[num] = true
		if len(r.objects) > pdfMaxObjects {
			return fmt.Errorf("%w: the PDF has more than %d objects", ErrCorrupt, pdfMaxObjects)
		}
	}
	if i := bytes.LastIndex(data, []byte("trailer")); i >= 0 {
		l := &pdfLexer{data: data, pos: i + len("trailer"), refs: true}
		if d, ok := l.object(0).(pdfDict); ok && (r.trailer == nil || d[pdfName("Root")] != nil) {
			r.trailer = d
		}
	}
	for _, s := range objStms {
		body, err := r.decode(s)
		if err != nil {
			if errors.Is(err, errPDFBudget) {
				return fmt.Errorf("%w: %v", ErrCorrupt, err)
			}
			continue
		}
		n, _ := s.dict[pdfName("N")].(int64)
		first, _ := s.dict[pdfName("First")].(int64)
		if first < 0 || first > int64(len(body)) || n < 0 {
			continue
		}
		l := &pdfLexer{data: body, refs: true}
		type entry struct{ num, off int64 }
		var entries []entry
		for k := int64(0); k < n && !l.eof(); k++ {
			num, ok1 := l.object(0).(int64)
			off, ok2 := l.object(0).(int64)
			if !ok1 || !ok2 {
				break
			}
			entries = append(entries, entry{num, off})
		}
		for _, e := range entries {
			if e.num < 0 || e.num >= 1<<30 || direct[int(e.num)] || e.off < 0 || first+e.off >= int64(len(body)) {
				continue
			}
			ol := &pdfLexer{data: body, pos: int(first + e.off), refs: true}
			r.objects[int(e.num)] = ol.object(0)
			if len(r.objects) > pdfMaxObjects {
				return fmt.Errorf("%w: the PDF has more than %d objects", ErrCorrupt, pdfMaxObjects)
			}
		}
	}
	if r.trailer == nil {
		r.trailer = pdfDict{}
	}
	return nil
}

// objNumberBefore reads "n g " before data[at:] ("obj"): the object number.
func objNumberBefore(data []byte, at int) (int, bool) {
	i := at
	digits := func() (int, int, bool) {
		for i > 0 && isPDFSpace(data[i-1]) {
			i--
		}
		end := i
		for i > 0 && data[i-1] >= '0' && data[i-1] <= '9' && end-i < 10 {
			i--
		}
		if i == end {
			return 0, 0, false
		}
		v, err := strconv.Atoi(string(data[i:end]))
		return v, end - i, err == nil
	}
	if _, _, ok := digits(); !ok {
		return 0, false
	}
	num, _, ok := digits()
	if !ok || num >= 1<<30 {
		return 0, false
	}
	return num, true
}

// resolve follows references.
func (r *pdfReader) resolve(v any) any {
	for range maxDepth {
		ref, ok := v.(pdfRef)
		if !ok {
			return v
		}
		v = r.objects[ref.num]
	}
	return nil
}

// dict resolves v as a dictionary (a stream's dictionary too).
func (r *pdfReader) dict(v any) pdfDict {
	switch x := r.resolve(v).(type) {
	case pdfDict:
		return x
	case *pdfStream:
		return x.dict
	}
	return nil
}

// pdfPage is a page dictionary with its inherited resources.
type pdfPage struct {
	dict      pdfDict
	resources pdfDict
}

// pages walks the page tree from the catalog (or, when the file has none
// we can find, takes every /Type /Page object in number order).
func (r *pdfReader) pages() ([]pdfPage, error) {
	var out []pdfPage
	root := r.dict(r.trailer[pdfName("Root")])
	if root == nil {
		for _, v := range r.sortedObjects() {
			if d, ok := v.(pdfDict); ok && d[pdfName("Type")] == pdfName("Catalog") {
				root = d
			}
		}
	}
	seen := map[int]bool{}
	var walk func(v any, res pdfDict, depth int) error
	walk = func(v any, res pdfDict, depth int) error {
		if ref, ok := v.(pdfRef); ok {
			if seen[ref.num] {
				return nil
			}
			seen[ref.num] = true
		}
		d := r.dict(v)
		if d == nil || depth > maxDepth {
			return nil
		}
		if rd := r.dict(d[pdfName("Resources")]); rd != nil {
			res = rd
		}
		kids, isTree := r.resolve(d[pdfName("Kids")]).(pdfArray)
		if !isTree || d[pdfName("Type")] == pdfName("Page") {
			if len(out) >= MaxPDFPages {
				return fmt.Errorf("%w: the PDF has more than %d pages", ErrCorrupt, MaxPDFPages)
			}
			out = append(out, pdfPage{d, res})
			return nil
		}
		for _, k := range kids {
			if err := walk(k, res, depth+1); err != nil {
				return err
			}
		}
		return nil
	}
	if root != nil {
		if err := walk(root[pdfName("Pages")], nil, 0); err != nil {
			return nil, err
		}
	}
	if len(out) > 0 {
		return out, nil
	}
	for _, v := range r.sortedObjects() {
		if d, ok := v.(pdfDict); ok && d[pdfName("Type")] == pdfName("Page") {
			if len(out) >= MaxPDFPages {
				return nil, fmt.Errorf("%w: the PDF has more than %d pages", ErrCorrupt, MaxPDFPages)
			}
			out = append(out, pdfPage{d, r.dict(d[pdfName("Resources")])})
		}
	}
	return out, nil
}

// sortedObjects returns the objects in number order.
func (r *pdfReader) sortedObjects() []any {
	nums := make([]int, 0, len(r.objects))
	for n := range r.objects {
		nums = append(nums, n)
	}
	slices.Sort(nums)
	out := make([]any, len(nums))
	for i, n := range nums {
		out[i] = r.objects[n]
	}
	return out
}

// decode returns a stream's data with its filters undone.
func (r *pdfReader) decode(s *pdfStream) ([]byte, error) {
	var filters []any
	switch f := r.resolve(s.dict[pdfName("Filter")]).(type) {
	case pdfName:
		filters = []any{f}
	case pdfArray:
		filters = f
	}
	data := s.raw
	for _, f := range filters {
		var rd io.Reader
		switch r.resolve(f) {
		case pdfName("FlateDecode"), pdfName("Fl"):
			zr, err := zlib.NewReader(bytes.NewReader(data))
			if err != nil {
				rd = flate.NewReader(bytes.NewReader(data))
			} else {
				rd = zr
			}
		case pdfName("ASCIIHexDecode"), pdfName("AHx"):
			l := &pdfLexer{data: append(append([]byte("<"), data...), '>')}
			data = []byte(l.hex())
			continue
		case pdfName("ASCII85Decode"), pdfName("A85"):
			body := bytes.TrimPrefix(bytes.TrimSpace(data), []byte("<~"))
			if k := bytes.Index(body, []byte("~>")); k >= 0 {
				body = body[:k]
			}
			rd = ascii85.NewDecoder(bytes.NewReader(body))
		default:
			return nil, fmt.Errorf("filter %v not read", f)
		}
		out, err := io.ReadAll(io.LimitReader(rd, pdfMaxStream+1))
		if len(out) > pdfMaxStream {
			return nil, errPDFBudget
		}
		if err != nil && len(out) == 0 {
			return nil, err
		}
		data = out // a truncated or checksum-broken stream keeps what inflated
	}
	r.inflated += len(data)
	if r.inflated > pdfMaxInflated {
		return nil, errPDFBudget
	}
	return data, nil
}

// pageText returns a page's paragraphs.
func (r *pdfReader) pageText(p pdfPage) ([]string, error) {
	var content []byte
	switch c := r.resolve(p.dict[pdfName("Contents")]).(type) {
	case *pdfStream:
		b, err := r.decode(c)
		if errors.Is(err, errPDFBudget) {
			return nil, err
		}
		content = b
	case pdfArray:
		for _, part := range c {
			if s, ok := r.resolve(part).(*pdfStream); ok {
				b, err := r.decode(s)
				if errors.Is(err, errPDFBudget) {
					return nil, err
				}
				content = append(append(content, b...), '\n')
			}
		}
	}
	t := &pdfText{r: r}
	if err := t.run(content, p.resources, 0, map[*pdfStream]bool{}); err != nil {
		return nil, err
	}
	t.endLine()
	t.endPara()
	return t.paras, nil
}

// pdfText is the text state of one page's content interpretation.
type pdfText struct {
	r     *pdfReader
	font  *pdfFont
	size  float64
	tm    [6]float64 // text matrix
	tlm   [6]float64 // text line matrix
	lead  float64
	line  strings.Builder
	lines []string
	paras []string

	hasLast      bool
	lastY, lastX float64 // where the last shown text ended
}

var identity = [6]float64{1, 0, 0, 1, 0, 0}

// run interprets a content stream.
func (t *pdfText) run(content []byte, res pdfDict, depth int, forms map[*pdfStream]bool) error {
	l := &pdfLexer{data: content}
	var stack []any
	fonts := t.r.dict(res[pdfName("Font")])
	for !l.eof() {
		v := l.object(0)
		op, isOp := v.(pdfOp)
		if !isOp {
			if len(stack) >= 64 {
				stack = stack[1:]
			}
			stack = append(stack, v)
			continue
		}
		t.r.ops++
		if t.r.ops > pdfMaxOps {
			return errPDFBudget
		}
		num := func(i int) float64 {
			if i < 0 || i >= len(stack) {
				return 0
			}
			switch x := stack[i].(type) {
			case int64:
				return float64(x)
			case float64:
				if math.IsNaN(x) || math.IsInf(x, 0) {
					return 0
				}
				return x
			}
			return 0
		}
		n := len(stack)
		switch op {
		case "BT":
			t.tm, t.tlm = identity, identity
		case "Tf":
			if n >= 2 {
				if name, ok := stack[n-2].(pdfName); ok {
					t.font = t.r.font(fonts[name])
				}
				t.size = num(n - 1)
			}
		case "TL":
			t.lead = num(n - 1)
		case "Td", "TD":
			if n >= 2 {
				if op == "TD" {
					t.lead = -num(n - 1)
				}
				t.tlm[4] += num(n-2)*t.tlm[0] + num(n-1)*t.tlm[2]
				t.tlm[5] += num(n-2)*t.tlm[1] + num(n-1)*t.tlm[3]
				t.tm = t.tlm
			}
		case "Tm":
			if n >= 6 {
				for i := range 6 {
					t.tm[i] = num(n - 6 + i)
				}
				t.tlm = t.tm
			}
		case "T*":
			t.nextLine()
		case "Tj":
			if n >= 1 {
				t.show(stack[n-1])
			}
		case "'", "\"":
			t.nextLine()
			if n >= 1 {
				t.show(stack[n-1])
			}
		case "TJ":
			if n >= 1 {
				if a, ok := stack[n-1].(pdfArray); ok {
					for _, e := range a {
						switch x := e.(type) {
						case pdfString:
							t.show(x)
						case int64:
							t.kern(float64(x))
						case float64:
							t.kern(x)
						}
					}
				}
			}
		case "Do":
			if n >= 1 && depth < pdfMaxFormNesting {
				name, _ := stack[n-1].(pdfName)
				xo, ok := t.r.resolve(t.r.dict(res[pdfName("XObject")])[name]).(*pdfStream)
				if ok && xo.dict[pdfName("Subtype")] == pdfName("Form") && !forms[xo] {
					forms[xo] = true
					body, err := t.r.decode(xo)
					if errors.Is(err, errPDFBudget) {
						return err
					}
					fres := t.r.dict(xo.dict[pdfName("Resources")])
					if fres == nil {
						fres = res
					}
					saved := *t
					if err := t.run(body, fres, depth+1, forms); err != nil {
						return err
					}
					t.font, t.size, t.tm, t.tlm = saved.font, saved.size, saved.tm, saved.tlm
				}
			}
		case "ID": // inline image data up to EI
			if k := bytes.Index(l.data[l.pos:], []byte("EI")); k >= 0 {
				l.pos += k + 2
			} else {
				l.pos = len(l.data)
			}
		}
		stack = stack[:0]
	}
	return nil
}

// kern moves the position by a TJ number (thousandths of an em); a large
// gap is a word space.
func (t *pdfText) kern(f float64) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return
	}
	if f < -180 {
		t.space()
	}
	t.tm[4] -= f / 1000 * t.size * t.tm[0]
	t.lastX = t.tm[4]
}

// scale is the vertical scale of the text matrix.
func (t *pdfText) scale() float64 {
	s := math.Hypot(t.tm[2], t.tm[3])
	if s == 0 || math.IsNaN(s) || math.IsInf(s, 0) {
		return 1
	}
	return s
}

// nextLine moves to the next line (T*).
func (t *pdfText) nextLine() {
	lead := t.lead
	if lead == 0 {
		lead = t.size * 1.2
	}
	t.tlm[4] += -lead * t.tlm[2]
	t.tlm[5] += -lead * t.tlm[3]
	t.tm = t.tlm
}

// space adds a word space unless the line ends with one.
func (t *pdfText) space() {
	if s := t.line.String(); s != "" && !strings.HasSuffix(s, " ") {
		t.line.WriteByte(' ')
	}
}

// show adds a shown string at the current position: a new line (or
// paragraph) when the position moved down, a space when it jumped right.
func (t *pdfText) show(v any) {
	raw, ok := v.(pdfString)
	if !ok {
		return
	}
	x, y := t.tm[4], t.tm[5]
	lh := math.Abs(t.size * t.scale())
	if lh == 0 {
		lh = 10
	}
	if t.hasLast {
		dy := t.lastY - y
		switch {
		case math.Abs(dy) > 0.5*lh:
			t.endLine()
			if dy > 2*lh || dy < -4*lh {
				t.endPara()
			}
		case x > t.lastX+0.2*lh:
			t.space()
		}
	}
	text, width := t.font.decode(string(raw), t.r)
	t.line.WriteString(text)
	adv := width / 1000 * t.size
	t.tm[4] += adv * t.tm[0]
	t.tm[5] += adv * t.tm[1]
	t.hasLast, t.lastX, t.lastY = true, t.tm[4], y
	if t.line.Len() > MaxTextBytes {
		t.endLine()
	}
}

// endLine ends the current line.
func (t *pdfText) endLine() {
	if l := space(t.line.String()); l != "" {
		t.lines = append(t.lines, l)
	}
	t.line.Reset()
}

// endPara joins the lines so far into a paragraph, a hyphen at a line's
// end joined with the next line's word.
func (t *pdfText) endPara() {
	var b strings.Builder
	for i, l := range t.lines {
		if i > 0 {
			prev := t.lines[i-1]
			first, _ := utf8.DecodeRuneInString(l)
			before, _ := utf8.DecodeLastRuneInString(strings.TrimSuffix(prev, "-"))
			if strings.HasSuffix(prev, "-") && unicode.IsLetter(before) && unicode.IsLower(first) {
				s := b.String()
				b.Reset()
				b.WriteString(strings.TrimSuffix(s, "-"))
			} else {
				b.WriteByte(' ')
			}
		}
		b.WriteString(l)
	}
	if s := space(b.String()); s != "" {
		t.paras = append(t.paras, s)
	}
	t.lines = nil
}

// pdfTextString decodes a PDF text string (UTF-16BE or UTF-8 with a BOM,
// else PDFDocEncoding, read as Windows-1252).
func pdfTextString(s string) string {
	switch {
	case strings.HasPrefix(s, "\xfe\xff"):
		return decodeUTF16([]byte(s[2:]), true)
	case strings.HasPrefix(s, "\xef\xbb\xbf"):
		return strings.ToValidUTF8(s[3:], "\uFFFD")
	}
	out, _ := decodeCP1252(s)
	return out
}

// decodeUTF16BE decodes big-endian UTF-16 bytes.
func decodeUTF16BE(b []byte) string {
	u := make([]uint16, 0, len(b)/2)
	for i := 0; i+1 < len(b); i += 2 {
		u = append(u, uint16(b[i])<<8|uint16(b[i+1]))
	}
	return string(utf16.Decode(u))
}
