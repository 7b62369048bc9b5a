package extract

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
)

// Column names of a CSV FAQ, compared case-insensitively with spaces and
// dashes read as underscores.
var (
	questionColumns = []string{"question", "q", "pregunta", "frage", "question_text", "questions", "frage_text", "texto_pregunta"}
	answerColumns   = []string{"answer", "a", "respuesta", "antwort", "answer_text", "answers", "antwort_text", "texto_respuesta"}
	categoryColumns = []string{"category", "section", "topic", "categoria", "categoría", "kategorie", "tema", "thema", "sección", "seccion"}
)

// parseCSV reads a CSV FAQ: a header row naming the question and answer
// columns (and optionally a category), then one FAQ pair per row. Comma,
// semicolon and tab separated files are read.
func parseCSV(data []byte) (Document, error) {
	s, err := readText(data, CSV, ErrCorrupt)
	if err != nil {
		return Document{}, err
	}
	if strings.TrimSpace(s) == "" {
		return Document{}, fmt.Errorf("%w: the CSV file is empty", ErrEmpty)
	}
	sep := sniffSeparator(s)
	rows, err := readCSV(s, sep, false)
	if err != nil {
		rows, err = readCSV(s, sep, true)
	}
	if err != nil {
		return Document{}, fmt.Errorf("%w: the CSV cannot be read: %v", ErrCorrupt, err)
	}
	if len(rows) == 0 {
		return Document{}, fmt.Errorf("%w: the CSV file is empty", ErrEmpty)
	}
	header := rows[0]
	qi, ai, ci := -1, -1, -1
	for i, h := range header {
		name := strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, bom)))
		name = strings.NewReplacer(" ", "_", "-", "_").Replace(name)
		switch {
		case qi < 0 && slices.Contains(questionColumns, name):
			qi = i
		case ai < 0 && slices.Contains(answerColumns, name):
			ai = i
		case ci < 0 && slices.Contains(categoryColumns, name):
			ci = i
		}
	}
	if qi < 0 || ai < 0 {
		found := make([]string, 0, len(header))
		for _, h := range header[:min(len(header), 20)] {
			found = append(found, fmt.Sprintf("%q", truncate(space(h), 40)))
		}
		return Document{}, fmt.Errorf("%w: the CSV needs a question and an answer column in its header row; found %s",
			ErrCorrupt, strings.Join(found, ", "))
	}
	b := &builder{}
	for _, row := range rows[1:] {
		if b.err != nil {
			break
		}
		q, a := cell(row, qi), cell(row, ai)
		if q == "" || a == "" {
			continue
		}
		var hs []string
		if c := space(cell(row, ci)); c != "" {
			hs = []string{c}
		}
		b.doc.Sections = append(b.doc.Sections, Section{Headings: hs, Question: space(q), Text: a, Record: true})
		b.grow(len(q) + len(a))
	}
	d, err := b.finish()
	if err != nil {
		return Document{}, err
	}
	if len(d.Sections) == 0 {
		return Document{}, fmt.Errorf("%w: no CSV row has both a question and an answer", ErrEmpty)
	}
	return d, nil
}

// sniffSeparator picks ',', ';' or tab: the one found most often outside
// quotes in the header line.
func sniffSeparator(s string) rune {
	counts := map[rune]int{}
	quoted := false
	for _, r := range s {
		if r == '"' {
			quoted = !quoted
			continue
		}
		if r == '\n' && !quoted {
			break
		}
		if !quoted && (r == ',' || r == ';' || r == '\t') {
			counts[r]++
		}
	}
	sep := ','
	for _, r := range []rune{';', '\t'} {
		if counts[r] > counts[sep] {
			sep = r
		}
	}
	return sep
}

// readCSV reads all records, at most MaxTextBytes of them.
func readCSV(s string, sep rune, lazy bool) ([][]string, error) {
	r := csv.NewReader(strings.NewReader(s))
	r.Comma = sep
	r.LazyQuotes = lazy
	r.FieldsPerRecord = -1
	var rows [][]string
	for {
		row, err := r.Read()
		if errors.Is(err, io.EOF) {
			return rows, nil
		}
		if err != nil {
			return nil, err
		}
		rows = append(rows, row)
	}
}

// cell returns the paragraphs of row[i] ("" when the row is shorter).
func cell(row []string, i int) string {
	if i < 0 || i >= len(row) {
		return ""
	}
	var paras []string
	for p := range strings.SplitSeq(strings.ReplaceAll(row[i], "\r\n", "\n"), "\n\n") {
		if t := joinLines(strings.Split(p, "\n")); t != "" {
			paras = append(paras, t)
		}
	}
	return strings.Join(paras, "\n\n")
}

// truncate cuts s to at most n runes.
func truncate(s string, n int) string {
	for i := range s {
		if n == 0 {
			return s[:i] + "…"
		}
		n--
	}
	return s
}
