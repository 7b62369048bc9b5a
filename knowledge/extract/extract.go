// Package extract owns turning a file a brand uploads to its knowledge base
// (a return policy, shipping rules, an FAQ) into structured text: Detect
// picks its format, Parse reads it into a Document of Sections under their
// headings (FAQ pairs and self-contained records marked as such), and Chunk
// cuts a Document into the structure-aware pieces a search index stores.
//
// The package is pure: no store, no network, no goroutines. Everything it
// reads is outside input, so no parser panics (the PDF reader also converts
// a panic into ErrCorrupt), none recurses without a fixed bound, and the
// text one file may yield is bounded by MaxTextBytes.
package extract

import (
	"errors"
	"fmt"
	"strings"
)

// Format is a kind of file the package reads.
type Format string

// The formats Parse reads.
const (
	Markdown Format = "markdown"
	HTML     Format = "html"
	Text     Format = "text"
	PDF      Format = "pdf"
	CSV      Format = "csv"
)

// Sentinel errors. Every error the package returns wraps exactly one of
// them with a reason a person can act on ("the PDF has no text layer
// (scanned pages?)").
var (
	// ErrUnsupported is a type the package does not read (a .docx, an
	// image, a zip, binary bytes).
	ErrUnsupported = errors.New("unsupported file type")
	// ErrCorrupt is a file of a type we read that cannot be read (a broken
	// PDF, a CSV without question and answer columns, too much text).
	ErrCorrupt = errors.New("unreadable file")
	// ErrEmpty is a file that was read but holds no text at all (an empty
	// file, a scanned PDF without a text layer, HTML with only scripts).
	ErrEmpty = errors.New("no text in file")
)

// Limits on what one file may yield.
const (
	// MaxTextBytes is the most extracted text (UTF-8 bytes) one file may
	// yield; past it Parse fails with ErrCorrupt.
	MaxTextBytes = 8 << 20
	// MaxPDFPages is the most pages Parse reads from a PDF; past it Parse
	// fails with ErrCorrupt.
	MaxPDFPages = 5000
	// maxDepth bounds every nesting the parsers follow (HTML elements,
	// PDF objects, page trees, block quotes).
	maxDepth = 64
)

// Section is a run of text under its headings.
type Section struct {
	// Headings are the headings above this text, outermost first (may be
	// empty).
	Headings []string
	// Text is the body text, whitespace normalized, paragraphs separated
	// by "\n\n" (lines of a list, a table or code by "\n").
	Text string
	// Question is set for an FAQ pair: the question (Text is then the
	// answer).
	Question string
	// Record marks a self-contained record (a CSV FAQ row): chunked alone,
	// never merged with its neighbours.
	Record bool
}

// Document is a parsed file.
type Document struct {
	// Title is the first H1 (Markdown, HTML), the front matter's title,
	// the HTML <title>, the PDF's Info Title or its first line; may be
	// empty.
	Title    string
	Sections []Section
}

// ParseFormat reads a format name from an API field ("markdown", "md",
// "html", "text", "txt", "pdf", "csv", any case); other names are
// ErrUnsupported.
func ParseFormat(s string) (Format, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "markdown", "md":
		return Markdown, nil
	case "html", "htm":
		return HTML, nil
	case "text", "txt":
		return Text, nil
	case "pdf":
		return PDF, nil
	case "csv":
		return CSV, nil
	}
	return "", fmt.Errorf("%w: format %q (want markdown, html, text, pdf or csv)", ErrUnsupported, s)
}

// Parse reads data in format f. It yields at most MaxTextBytes of text and
// reads at most MaxPDFPages pages; a file past either is ErrCorrupt. A file
// with no text is ErrEmpty. Sections without text are left out.
func Parse(f Format, data []byte) (Document, error) {
	var (
		d   Document
		err error
	)
	switch f {
	case Markdown:
		d, err = parseMarkdown(data)
	case HTML:
		d, err = parseHTML(data)
	case Text:
		d, err = parseText(data)
	case PDF:
		d, err = parsePDF(data)
	case CSV:
		d, err = parseCSV(data)
	default:
		return Document{}, fmt.Errorf("%w: format %q", ErrUnsupported, f)
	}
	if err != nil {
		return Document{}, err
	}
	if len(d.Sections) == 0 {
		return Document{}, fmt.Errorf("%w: the %s file has no text", ErrEmpty, f)
	}
	return d, nil
}
