package extract

import (
	"bytes"
	"testing"

	"codeberg.org/go-pdf/fpdf"
)

// textPDF builds a two-page PDF with a title, wrapped paragraphs and a word
// hyphenated across a line end.
func textPDF(t testing.TB) []byte {
	t.Helper()
	p := fpdf.New("P", "mm", "A4", "")
	p.SetTitle("Warranty Terms", true)
	p.SetFont("Helvetica", "", 12)
	p.AddPage()
	p.Text(20, 20, "Warranty Terms")
	p.Text(20, 30, "Every jacket carries a two-year warranty against manufacturing")
	p.Text(20, 36, "defects. Keep your receipt as proof of purchase; the infor-")
	p.Text(20, 42, "mation on it is needed for a claim.")
	p.Text(20, 60, "Wear and tear is not covered.")
	p.AddPage()
	p.Text(20, 20, "To claim, write to warranty@nordhaus.example with photos.")
	var buf bytes.Buffer
	if err := p.Output(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// imagePDF builds a PDF whose only page holds a filled rectangle: no text.
func imagePDF(t testing.TB) []byte {
	t.Helper()
	p := fpdf.New("P", "mm", "A4", "")
	p.AddPage()
	p.SetFillColor(200, 30, 30)
	p.Rect(20, 20, 100, 60, "F")
	var buf bytes.Buffer
	if err := p.Output(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
