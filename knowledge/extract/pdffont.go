package extract

import (
	"strings"
	"unicode/utf8"
)

// pdfFont maps a font's character codes to text.
type pdfFont struct {
	twoByte   bool      // Type0 font: 2-byte codes unless its CMap says otherwise
	ucs2      bool      // a predefined UCS-2/UTF-16 CMap: the codes are the text
	toUnicode *pdfCMap  // the font's ToUnicode CMap
	simple    [256]rune // a simple font's encoding (0: none)
	widths    map[int]float64
	firstChar int
	undecoded bool // no way to map its codes
	defaultW  float64
	hasWidths bool
}

// pdfCMap is a parsed ToUnicode CMap.
type pdfCMap struct {
	spaces []codespace
	chars  map[string]string // code bytes → text
	ranges []bfrange
}

// codespace is a range of valid codes of one byte length.
type codespace struct{ lo, hi []byte }

// bfrange maps codes lo..hi to consecutive text starting at dst, or to
// the strings of list.
type bfrange struct {
	lo, hi []byte
	dst    []uint16
	list   []string
}

// font returns the decoder of a font dictionary (cached).
func (r *pdfReader) font(v any) *pdfFont {
	key := ""
	if ref, ok := v.(pdfRef); ok {
		key = "r" + itoa(ref.num)
		if f := r.fontDicts[key]; f != nil {
			return f
		}
	}
	d := r.dict(v)
	f := &pdfFont{defaultW: 500}
	if d == nil {
		for i := range f.simple {
			f.simple[i] = rune(i)
		}
		return f
	}
	sub := d[pdfName("Subtype")]
	if tu, ok := r.resolve(d[pdfName("ToUnicode")]).(*pdfStream); ok {
		if body, err := r.decode(tu); err == nil {
			f.toUnicode = parseCMap(body)
		}
	}
	if sub == pdfName("Type0") {
		f.twoByte = true
		enc, _ := r.resolve(d[pdfName("Encoding")]).(pdfName)
		if strings.Contains(string(enc), "UCS2") || strings.Contains(string(enc), "UTF16") {
			f.ucs2 = true
		}
		if f.toUnicode == nil && !f.ucs2 {
			f.undecoded = true
		}
	} else {
		f.simple = simpleEncoding(r, d)
		if fc, ok := r.resolve(d[pdfName("FirstChar")]).(int64); ok && fc >= 0 && fc < 256 {
			f.firstChar = int(fc)
		}
		if ws, ok := r.resolve(d[pdfName("Widths")]).(pdfArray); ok {
			f.widths = map[int]float64{}
			for i, w := range ws[:min(len(ws), 256)] {
				switch x := r.resolve(w).(type) {
				case int64:
					f.widths[f.firstChar+i] = float64(x)
				case float64:
					f.widths[f.firstChar+i] = x
				}
			}
			f.hasWidths = true
		}
	}
	if key != "" {
		r.fontDicts[key] = f
	}
	return f
}

// itoa formats n.
func itoa(n int) string {
	var b [20]byte
	i := len(b)
	neg := n < 0
	if neg {
		n = -n
	}
	for {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			break
		}
	}
	if neg {
		i--
		b[i] = '-'
	}
	return string(b[i:])
}

// decode returns the text of a shown string and its width in thousandths
// of an em.
func (f *pdfFont) decode(raw string, r *pdfReader) (string, float64) {
	if f == nil {
		f = &pdfFont{defaultW: 500}
		for i := range f.simple {
			f.simple[i] = rune(i)
		}
	}
	var b strings.Builder
	width := 0.0
	if f.undecoded {
		r.undecoded++
		return "", float64(len(raw)/2) * f.defaultW
	}
	if f.ucs2 && f.toUnicode == nil {
		s := decodeUTF16BE([]byte(raw))
		return s, float64(len(raw)/2) * f.defaultW
	}
	for i := 0; i < len(raw); {
		n := 1
		if f.toUnicode != nil {
			n = f.toUnicode.codeLen(raw[i:], f.twoByte)
		} else if f.twoByte {
			n = 2
		}
		n = min(n, len(raw)-i)
		code := raw[i : i+n]
		i += n
		if f.twoByte {
			width += f.defaultW
		} else if w, ok := f.widths[int(code[0])]; ok && f.hasWidths {
			width += w
		} else {
			width += f.defaultW
		}
		if f.toUnicode != nil {
			if s, ok := f.toUnicode.lookup(code); ok {
				b.WriteString(s)
				continue
			}
		}
		if f.twoByte {
			continue
		}
		if rn := f.simple[code[0]]; rn != 0 {
			b.WriteRune(rn)
		}
	}
	return b.String(), width
}

// codeLen returns the byte length of the code at the start of s by the
// CMap's codespace ranges.
func (m *pdfCMap) codeLen(s string, twoByte bool) int {
	for _, cs := range m.spaces {
		n := len(cs.lo)
		if n == 0 || n > len(s) || len(cs.hi) != n {
			continue
		}
		in := true
		for k := range n {
			if s[k] < cs.lo[k] || s[k] > cs.hi[k] {
				in = false
				break
			}
		}
		if in {
			return n
		}
	}
	if twoByte {
		return 2
	}
	return 1
}

// lookup returns the text of one code.
func (m *pdfCMap) lookup(code string) (string, bool) {
	if s, ok := m.chars[code]; ok {
		return s, true
	}
	for _, r := range m.ranges {
		if len(r.lo) != len(code) || code < string(r.lo) || code > string(r.hi) {
			continue
		}
		off := codeValue(code) - codeValue(string(r.lo))
		if r.list != nil {
			if off < uint32(len(r.list)) {
				return r.list[off], true
			}
			return "", false
		}
		if len(r.dst) == 0 {
			return "", false
		}
		dst := append([]uint16(nil), r.dst...)
		dst[len(dst)-1] += uint16(off)
		return utf16String(dst), true
	}
	return "", false
}

// codeValue reads code bytes as a big-endian number.
func codeValue(s string) uint32 {
	var v uint32
	for i := 0; i < len(s) && i < 4; i++ {
		v = v<<8 | uint32(s[i])
	}
	return v
}

// utf16String decodes UTF-16 code units, leaving out what is no text.
func utf16String(u []uint16) string {
	b := make([]byte, 0, 2*len(u))
	for _, c := range u {
		b = append(b, byte(c>>8), byte(c))
	}
	return strings.Map(func(r rune) rune {
		if r == utf8.RuneError || r < 0x20 && r != '\t' {
			return -1
		}
		return r
	}, decodeUTF16BE(b))
}

// parseCMap reads the codespace ranges, bfchar and bfrange sections of a
// ToUnicode CMap.
func parseCMap(body []byte) *pdfCMap {
	m := &pdfCMap{chars: map[string]string{}}
	l := &pdfLexer{data: body}
	var stack []any
	mode := ""
	for !l.eof() {
		v := l.object(0)
		op, isOp := v.(pdfOp)
		if !isOp {
			if mode == "" {
				continue
			}
			stack = append(stack, v)
			if len(stack) > 1<<16 {
				return m
			}
			continue
		}
		switch op {
		case "begincodespacerange", "beginbfchar", "beginbfrange":
			mode, stack = string(op), nil
		case "endcodespacerange":
			for i := 0; i+1 < len(stack); i += 2 {
				lo, _ := stack[i].(pdfString)
				hi, _ := stack[i+1].(pdfString)
				if len(lo) > 0 && len(lo) == len(hi) && len(lo) <= 4 {
					m.spaces = append(m.spaces, codespace{[]byte(lo), []byte(hi)})
				}
			}
			mode, stack = "", nil
		case "endbfchar":
			for i := 0; i+1 < len(stack); i += 2 {
				src, _ := stack[i].(pdfString)
				dst, _ := stack[i+1].(pdfString)
				if len(src) > 0 && len(m.chars) < 1<<16 {
					m.chars[string(src)] = utf16String(units16(string(dst)))
				}
			}
			mode, stack = "", nil
		case "endbfrange":
			for i := 0; i+2 < len(stack); i += 3 {
				lo, _ := stack[i].(pdfString)
				hi, _ := stack[i+1].(pdfString)
				if len(lo) == 0 || len(lo) != len(hi) || len(lo) > 4 || len(m.ranges) >= 1<<14 {
					continue
				}
				br := bfrange{lo: []byte(lo), hi: []byte(hi)}
				switch dst := stack[i+2].(type) {
				case pdfString:
					br.dst = units16(string(dst))
				case pdfArray:
					for _, e := range dst {
						s, _ := e.(pdfString)
						br.list = append(br.list, utf16String(units16(string(s))))
					}
					if br.list == nil {
						br.list = []string{}
					}
				default:
					continue
				}
				m.ranges = append(m.ranges, br)
			}
			mode, stack = "", nil
		}
	}
	return m
}

// units16 reads bytes as big-endian UTF-16 code units.
func units16(s string) []uint16 {
	u := make([]uint16, 0, len(s)/2)
	for i := 0; i+1 < len(s); i += 2 {
		u = append(u, uint16(s[i])<<8|uint16(s[i+1]))
	}
	if len(s)%2 == 1 {
		u = append(u, uint16(s[len(s)-1]))
	}
	return u
}

// macRoman is the upper half of MacRomanEncoding.
const macRoman = "ÄÅÇÉÑÖÜáàâäãåçéèêëíìîïñóòôöõúùûü†°¢£§•¶ß®©™´¨≠ÆØ∞±≤≥¥µ∂∑∏π∫ªºΩæø¿¡¬√ƒ≈∆«»… ÀÃÕŒœ–—“”‘’÷◊ÿŸ⁄€‹›ﬁﬂ‡·‚„‰ÂÊÁËÈÍÎÏÌÓÔ\uf8ffÒÚÛÙıˆ˜¯˘˙˚¸˝˛ˇ"

// simpleEncoding builds a simple font's code → rune table: its base
// encoding (WinAnsi, MacRoman, Standard) and its Differences.
func simpleEncoding(r *pdfReader, d pdfDict) [256]rune {
	var t [256]rune
	base := pdfName("StandardEncoding")
	var diffs pdfArray
	switch e := r.resolve(d[pdfName("Encoding")]).(type) {
	case pdfName:
		base = e
	case pdfDict:
		if b, ok := r.resolve(e[pdfName("BaseEncoding")]).(pdfName); ok {
			base = b
		}
		diffs, _ = r.resolve(e[pdfName("Differences")]).(pdfArray)
	}
	switch base {
	case "MacRomanEncoding":
		for i := range 128 {
			t[i] = rune(i)
		}
		i := 128
		for _, rn := range macRoman {
			if i < 256 {
				t[i] = rn
			}
			i++
		}
	case "WinAnsiEncoding", "PDFDocEncoding":
		for i := range 256 {
			s, _ := decodeCP1252(string([]byte{byte(i)}))
			if rn, _ := utf8.DecodeRuneInString(s); rn != utf8.RuneError {
				t[i] = rn
			}
		}
	default: // StandardEncoding, close enough for text
		for i := range 128 {
			t[i] = rune(i)
		}
		t['\''], t['`'] = '’', '‘'
		for code, rn := range map[int]rune{0xa1: '¡', 0xa2: '¢', 0xa3: '£', 0xa5: '¥', 0xa7: '§', 0xa9: '\'', 0xaa: '“',
			0xab: '«', 0xae: 'ﬁ', 0xaf: 'ﬂ', 0xb1: '–', 0xb7: '•', 0xb9: '‚', 0xba: '„', 0xbb: '”', 0xbc: '…',
			0xbd: '‰', 0xbf: '¿', 0xd0: '—', 0xe1: 'Æ', 0xe8: 'Ł', 0xe9: 'Ø', 0xea: 'Œ', 0xf1: 'æ', 0xf5: 'ı',
			0xf8: 'ł', 0xf9: 'ø', 0xfa: 'œ', 0xfb: 'ß'} {
			t[code] = rn
		}
	}
	code := 0
	for _, e := range diffs {
		switch x := r.resolve(e).(type) {
		case int64:
			code = int(x)
		case pdfName:
			if code >= 0 && code < 256 {
				t[code] = glyphRune(string(x))
			}
			code++
		}
	}
	return t
}

// glyphNames maps the Adobe glyph names of Latin text to runes (single
// letters name themselves; uniXXXX and uXXXX are read too).
var glyphNames = func() map[string]rune {
	m := map[string]rune{
		"space": ' ', "exclam": '!', "quotedbl": '"', "numbersign": '#', "dollar": '$', "percent": '%',
		"ampersand": '&', "quotesingle": '\'', "quoteright": '’', "parenleft": '(', "parenright": ')',
		"asterisk": '*', "plus": '+', "comma": ',', "hyphen": '-', "period": '.', "slash": '/', "zero": '0',
		"one": '1', "two": '2', "three": '3', "four": '4', "five": '5', "six": '6', "seven": '7', "eight": '8',
		"nine": '9', "colon": ':', "semicolon": ';', "less": '<', "equal": '=', "greater": '>', "question": '?',
		"at": '@', "bracketleft": '[', "backslash": '\\', "bracketright": ']', "asciicircum": '^',
		"underscore": '_', "grave": '`', "quoteleft": '‘', "braceleft": '{', "bar": '|', "braceright": '}',
		"asciitilde": '~', "quotedblleft": '“', "quotedblright": '”', "quotesinglbase": '‚',
		"quotedblbase": '„', "endash": '–', "emdash": '—', "bullet": '•', "ellipsis": '…', "minus": '−',
		"fi": 'ﬁ', "fl": 'ﬂ', "ff": 'ﬀ', "ffi": 'ﬃ', "ffl": 'ﬄ', "Euro": '€', "euro": '€', "trademark": '™',
		"dagger": '†', "daggerdbl": '‡', "perthousand": '‰', "guilsinglleft": '‹', "guilsinglright": '›',
		"florin": 'ƒ', "circumflex": 'ˆ', "tilde": '˜', "Scaron": 'Š', "scaron": 'š', "Zcaron": 'Ž',
		"zcaron": 'ž', "OE": 'Œ', "oe": 'œ', "Ydieresis": 'Ÿ', "dotlessi": 'ı', "fraction": '⁄',
		"nbspace": '\u00a0', "sfthyphen": '\u00ad', "Lslash": 'Ł', "lslash": 'ł',
	}
	latin1 := []string{"space", "exclamdown", "cent", "sterling", "currency", "yen", "brokenbar", "section",
		"dieresis", "copyright", "ordfeminine", "guillemotleft", "logicalnot", "hyphen", "registered", "macron",
		"degree", "plusminus", "twosuperior", "threesuperior", "acute", "mu", "paragraph", "periodcentered",
		"cedilla", "onesuperior", "ordmasculine", "guillemotright", "onequarter", "onehalf", "threequarters",
		"questiondown", "Agrave", "Aacute", "Acircumflex", "Atilde", "Adieresis", "Aring", "AE", "Ccedilla",
		"Egrave", "Eacute", "Ecircumflex", "Edieresis", "Igrave", "Iacute", "Icircumflex", "Idieresis", "Eth",
		"Ntilde", "Ograve", "Oacute", "Ocircumflex", "Otilde", "Odieresis", "multiply", "Oslash", "Ugrave",
		"Uacute", "Ucircumflex", "Udieresis", "Yacute", "Thorn", "germandbls", "agrave", "aacute",
		"acircumflex", "atilde", "adieresis", "aring", "ae", "ccedilla", "egrave", "eacute", "ecircumflex",
		"edieresis", "igrave", "iacute", "icircumflex", "idieresis", "eth", "ntilde", "ograve", "oacute",
		"ocircumflex", "otilde", "odieresis", "divide", "oslash", "ugrave", "uacute", "ucircumflex",
		"udieresis", "yacute", "thorn", "ydieresis"}
	for i, n := range latin1 {
		if _, ok := m[n]; !ok {
			m[n] = rune(0xa0 + i)
		}
	}
	return m
}()

// glyphRune returns the rune of a glyph name (0 when unknown).
func glyphRune(name string) rune {
	if rn, ok := glyphNames[name]; ok {
		return rn
	}
	if len(name) == 1 && (name[0] >= 'a' && name[0] <= 'z' || name[0] >= 'A' && name[0] <= 'Z') {
		return rune(name[0])
	}
	base, _, _ := strings.Cut(name, ".") // "a.sc", "one.oldstyle"
	if base != name {
		return glyphRune(base)
	}
	for _, p := range []string{"uni", "u"} {
		if h, ok := strings.CutPrefix(name, p); ok && len(h) >= 4 && len(h) <= 6 {
			var v rune
			for _, c := range []byte(h[:min(len(h), 6)]) {
				d, ok := unhex(c)
				if !ok {
					return 0
				}
				v = v<<4 | rune(d)
			}
			if utf8.ValidRune(v) {
				return v
			}
		}
	}
	return 0
}
