package extract

import (
	"errors"
	"testing"
	"unicode/utf8"
)

// fuzzParse holds what Parse and Chunk promise on any input: no panic, an
// error wraps one of the sentinels, and every chunk is non-empty valid
// UTF-8 within MaxChars (unless a single word).
func fuzzParse(t *testing.T, f Format, data []byte) {
	d, err := Parse(f, data)
	if err != nil {
		if !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrEmpty) && !errors.Is(err, ErrUnsupported) {
			t.Fatalf("error wraps no sentinel: %v", err)
		}
		return
	}
	if !utf8.ValidString(d.Title) {
		t.Fatalf("title %q is not UTF-8", d.Title)
	}
	for _, o := range []ChunkOptions{{}, {MaxChars: 60, Overlap: 20}} {
		chunks := d.Chunk(o)
		checkChunks(t, chunks, o.withDefaults().MaxChars)
	}
}

func FuzzParseMarkdown(f *testing.F) {
	f.Add(fixture(f, "return-policy.md"))
	f.Add([]byte("Title\n===\n\n**Q:** a?\n**A:** b\n\n```\ncode\n"))
	f.Add([]byte("> > > quote\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n<div>\n<script>x</script>"))
	f.Fuzz(func(t *testing.T, data []byte) { fuzzParse(t, Markdown, data) })
}

func FuzzParseHTML(f *testing.F) {
	f.Add(fixture(f, "help-centre.html"))
	f.Add([]byte("<dl><dt>q<dd>a<div><dt>q2</dt><dd>a2</dd></div></dl><details><summary>s</summary>x</details>"))
	f.Add([]byte("<table><tr><td>a<td>b</table><pre>x\n y</pre><h1>t</h1><h7>u</h7>"))
	f.Fuzz(func(t *testing.T, data []byte) { fuzzParse(t, HTML, data) })
}

func FuzzParseCSV(f *testing.F) {
	f.Add(fixture(f, "faq-en.csv"))
	f.Add(fixture(f, "faq-es.csv"))
	f.Add([]byte("q\ta\n\"x\"\"\ty\n"))
	f.Fuzz(func(t *testing.T, data []byte) { fuzzParse(t, CSV, data) })
}

func FuzzParseText(f *testing.F) {
	f.Add([]byte("HEADING\n\nbody text\n\nnext:\n\n- a\n- b\n"))
	f.Add([]byte("caf\xe9 cr\xe8me"))
	f.Fuzz(func(t *testing.T, data []byte) { fuzzParse(t, Text, data) })
}

func FuzzParsePDF(f *testing.F) {
	f.Add(textPDF(f))
	f.Add(imagePDF(f))
	f.Add([]byte("%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n2 0 obj << /Type /Pages /Kids [2 0 R 3 0 R] >> endobj\n" +
		"3 0 obj << /Type /Page /Resources << /Font << /F1 5 0 R >> /XObject << /X 6 0 R >> >> /Contents 4 0 R >> endobj\n" +
		"4 0 obj << /Length 44 >> stream\nBT /F1 12 Tf [(A) -300 (B)] TJ T* (C) ' ET /X Do\nendstream endobj\n" +
		"5 0 obj << /Type /Font /Subtype /Type1 /Encoding << /Differences [65 /eacute /uni00FC] >> >> endobj\n" +
		"6 0 obj << /Subtype /Form /Length 16 >> stream\nBT (form) Tj ET /X Do\nendstream endobj\n" +
		"7 0 obj << /Type /Font /Subtype /Type0 /ToUnicode 8 0 R >> endobj\n" +
		"8 0 obj << /Length 90 >> stream\n1 begincodespacerange <0000> <FFFF> endcodespacerange 1 beginbfrange <0001> <0005> <0041> endbfrange\nendstream endobj\n" +
		"trailer << /Root 1 0 R >>\n%%EOF"))
	f.Fuzz(func(t *testing.T, data []byte) { fuzzParse(t, PDF, data) })
}
