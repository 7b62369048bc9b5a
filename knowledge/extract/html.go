package extract

import (
	"bytes"
	"fmt"
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// htmlMaxDepth bounds how deep the HTML walk recurses; text below it is
// still read, without structure.
const htmlMaxDepth = 256

// dropped are elements whose content is never text of the page.
var dropped = map[atom.Atom]bool{
	atom.Script: true, atom.Style: true, atom.Noscript: true, atom.Template: true, atom.Iframe: true,
	atom.Svg: true, atom.Math: true, atom.Nav: true, atom.Header: true, atom.Footer: true, atom.Aside: true,
	atom.Form: true, atom.Button: true, atom.Select: true, atom.Textarea: true, atom.Input: true,
	atom.Object: true, atom.Embed: true, atom.Canvas: true, atom.Video: true, atom.Audio: true,
	atom.Head: true, atom.Dialog: true,
}

// droppedRoles are ARIA roles of page furniture.
var droppedRoles = map[string]bool{
	"navigation": true, "banner": true, "contentinfo": true, "dialog": true, "alertdialog": true,
	"search": true, "complementary": true,
}

// blocks are elements that break paragraphs.
var blocks = map[atom.Atom]bool{
	atom.P: true, atom.Div: true, atom.Section: true, atom.Article: true, atom.Main: true, atom.Ul: true,
	atom.Ol: true, atom.Table: true, atom.Thead: true, atom.Tbody: true, atom.Tfoot: true, atom.Caption: true,
	atom.Blockquote: true, atom.Figure: true, atom.Figcaption: true, atom.Address: true, atom.Hr: true,
	atom.Body: true, atom.Html: true, atom.Center: true, atom.Fieldset: true, atom.Legend: true,
}

// headingLevels are the heading elements and their levels.
var headingLevels = map[atom.Atom]int{atom.H1: 1, atom.H2: 2, atom.H3: 3, atom.H4: 4, atom.H5: 5, atom.H6: 6}

// parseHTML reads an HTML page: its main content only (<main>, else
// <article>, else [role=main], else <body>), without scripts, styles,
// navigation, headers, footers, forms or hidden elements.
func parseHTML(data []byte) (Document, error) {
	s, err := readText(data, HTML, ErrCorrupt)
	if err != nil {
		return Document{}, err
	}
	root, err := html.Parse(strings.NewReader(s))
	if err != nil {
		return Document{}, fmt.Errorf("%w: the HTML cannot be parsed: %v", ErrCorrupt, err)
	}
	b := &builder{faqHeadings: true}
	w := &htmlWalker{b: b}
	w.walk(mainContent(root), 0)
	w.breakPara()
	if b.doc.Title == "" {
		if t := find(root, func(n *html.Node) bool { return n.DataAtom == atom.Title }); t != nil {
			b.doc.Title = space(textOf(t))
		}
	}
	return b.finish()
}

// htmlInto adds the text of an HTML fragment (a block inside Markdown) to
// b.
func htmlInto(b *builder, fragment string) {
	body := &html.Node{Type: html.ElementNode, Data: "body", DataAtom: atom.Body}
	nodes, err := html.ParseFragment(strings.NewReader(fragment), body)
	if err != nil {
		return
	}
	w := &htmlWalker{b: b, noTitle: true}
	for _, n := range nodes {
		w.walk(n, 0)
	}
	w.breakPara()
}

// mainContent picks the element holding the page's main content.
func mainContent(root *html.Node) *html.Node {
	for _, match := range []func(*html.Node) bool{
		func(n *html.Node) bool { return n.DataAtom == atom.Main },
		func(n *html.Node) bool { return n.DataAtom == atom.Article },
		func(n *html.Node) bool { return strings.EqualFold(attr(n, "role"), "main") },
		func(n *html.Node) bool { return n.DataAtom == atom.Body },
	} {
		if n := find(root, func(n *html.Node) bool { return n.Type == html.ElementNode && match(n) && !skip(n) }); n != nil {
			return n
		}
	}
	return root
}

// find returns the first node in document order for which match is true,
// not looking inside dropped elements (an explicit stack: no recursion).
func find(root *html.Node, match func(*html.Node) bool) *html.Node {
	stack := []*html.Node{root}
	for len(stack) > 0 {
		n := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if match(n) {
			return n
		}
		if n.Type == html.ElementNode && skip(n) && n.DataAtom != atom.Head {
			continue
		}
		for c := n.LastChild; c != nil; c = c.PrevSibling {
			stack = append(stack, c)
		}
	}
	return nil
}

// attr returns the value of n's attribute key.
func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Namespace == "" && a.Key == key {
			return a.Val
		}
	}
	return ""
}

// hasAttr reports whether n has attribute key.
func hasAttr(n *html.Node, key string) bool {
	for _, a := range n.Attr {
		if a.Namespace == "" && a.Key == key {
			return true
		}
	}
	return false
}

// skip reports whether an element and its content are left out.
func skip(n *html.Node) bool {
	if n.Type != html.ElementNode {
		return false
	}
	if dropped[n.DataAtom] || n.Namespace != "" {
		return true
	}
	if hasAttr(n, "hidden") || strings.EqualFold(strings.TrimSpace(attr(n, "aria-hidden")), "true") {
		return true
	}
	if droppedRoles[strings.ToLower(strings.TrimSpace(attr(n, "role")))] {
		return true
	}
	style := strings.ToLower(strings.Join(strings.Fields(attr(n, "style")), ""))
	return strings.Contains(style, "display:none") || strings.Contains(style, "visibility:hidden")
}

// textOf returns the text inside n (dropped elements left out), without
// recursion; <br> and block boundaries become spaces.
func textOf(n *html.Node) string {
	var buf bytes.Buffer
	stack := []*html.Node{n}
	for len(stack) > 0 {
		c := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		switch {
		case c.Type == html.TextNode:
			buf.WriteString(c.Data)
		case c.Type == html.ElementNode && c != n && (skip(c) || c.DataAtom == atom.Title):
			continue
		case c.Type == html.ElementNode || c.Type == html.DocumentNode:
			if c.DataAtom == atom.Br || blocks[c.DataAtom] || c.DataAtom == atom.Li || c.DataAtom == atom.Td || c.DataAtom == atom.Th {
				buf.WriteByte(' ')
			}
			for k := c.LastChild; k != nil; k = k.PrevSibling {
				stack = append(stack, k)
			}
		}
		if buf.Len() > MaxTextBytes {
			break
		}
	}
	return buf.String()
}

// htmlWalker turns an element tree into the builder's sections.
type htmlWalker struct {
	b       *builder
	cur     strings.Builder // the current line, white space not yet collapsed
	lines   []string        // the current paragraph's lines
	pre     int             // inside <pre>
	noTitle bool            // a fragment: its h1 is no document title
}

// breakLine ends the current line.
func (w *htmlWalker) breakLine() {
	if w.pre > 0 {
		for l := range strings.SplitSeq(w.cur.String(), "\n") {
			if l = space(l); l != "" {
				w.lines = append(w.lines, l)
			}
		}
	} else if l := space(w.cur.String()); l != "" {
		w.lines = append(w.lines, l)
	}
	w.cur.Reset()
}

// breakPara ends the current paragraph.
func (w *htmlWalker) breakPara() {
	w.breakLine()
	if len(w.lines) > 0 {
		w.b.para(strings.Join(w.lines, "\n"))
		w.lines = nil
	}
}

// walk adds n and its content.
func (w *htmlWalker) walk(n *html.Node, depth int) {
	if w.b.err != nil {
		return
	}
	switch n.Type {
	case html.TextNode:
		w.cur.WriteString(n.Data)
		return
	case html.ElementNode:
	case html.DocumentNode:
	default:
		return
	}
	if skip(n) {
		return
	}
	if depth > htmlMaxDepth {
		w.cur.WriteString(" " + textOf(n) + " ")
		return
	}
	if level, ok := headingLevels[n.DataAtom]; ok {
		w.breakPara()
		t := space(textOf(n))
		if level == 1 && w.b.doc.Title == "" && !w.noTitle {
			w.b.doc.Title = t
		}
		w.b.heading(level, t)
		return
	}
	switch n.DataAtom {
	case atom.Br:
		w.breakLine()
		return
	case atom.Tr:
		w.breakLine()
		var cells []string
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			if c.DataAtom == atom.Td || c.DataAtom == atom.Th {
				if t := space(textOf(c)); t != "" {
					cells = append(cells, t)
				}
			}
		}
		if len(cells) > 0 {
			w.lines = append(w.lines, strings.Join(cells, " | "))
		}
		return
	case atom.Dl:
		w.breakPara()
		w.definitions(n, depth)
		return
	case atom.Details:
		w.breakPara()
		w.details(n, depth)
		return
	case atom.Pre:
		w.breakPara()
		w.pre++
		w.children(n, depth)
		w.breakPara()
		w.pre--
		return
	case atom.Li, atom.Dt, atom.Dd:
		w.breakLine()
		w.children(n, depth)
		w.breakLine()
		return
	}
	if blocks[n.DataAtom] {
		w.breakPara()
		w.children(n, depth)
		w.breakPara()
		return
	}
	w.children(n, depth)
}

// children walks n's children.
func (w *htmlWalker) children(n *html.Node, depth int) {
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		w.walk(c, depth+1)
	}
}

// blockText returns the paragraphs of the nodes from first on (until
// stop), as a section body.
func (w *htmlWalker) blockText(first, stop *html.Node, depth int) string {
	sub := &builder{size: w.b.size}
	sw := &htmlWalker{b: sub, noTitle: true}
	for c := first; c != nil && c != stop; c = c.NextSibling {
		sw.walk(c, depth+1)
	}
	sw.breakPara()
	sub.flush()
	w.b.grow(sub.size - w.b.size)
	var parts []string
	for _, s := range sub.doc.Sections {
		if s.Question != "" {
			parts = append(parts, s.Question)
		}
		parts = append(parts, s.Text)
	}
	return strings.Join(parts, "\n\n")
}

// definitions reads a <dl>: each <dt> is a question, the <dd>s after it
// its answer.
func (w *htmlWalker) definitions(dl *html.Node, depth int) {
	if depth > htmlMaxDepth {
		return
	}
	var q string
	var answers []string
	emit := func() {
		if q != "" || len(answers) > 0 {
			w.b.faq(q, strings.Join(answers, "\n\n"))
		}
		q, answers = "", nil
	}
	for c := dl.FirstChild; c != nil; c = c.NextSibling {
		if c.Type != html.ElementNode || skip(c) {
			continue
		}
		switch c.DataAtom {
		case atom.Dt:
			emit()
			q = space(textOf(c))
		case atom.Dd:
			if t := w.blockText(c.FirstChild, nil, depth+1); t != "" {
				answers = append(answers, t)
			}
		case atom.Div: // <div> groups of dt/dd are allowed
			w.definitions(c, depth+1)
		}
	}
	emit()
}

// details reads a <details>: its <summary> is the question, the rest the
// answer.
func (w *htmlWalker) details(d *html.Node, depth int) {
	var q string
	var answers []string
	for c := d.FirstChild; c != nil; c = c.NextSibling {
		if c.Type == html.ElementNode && c.DataAtom == atom.Summary {
			if q == "" {
				q = space(textOf(c))
			}
			continue
		}
		if t := w.blockText(c, c.NextSibling, depth+1); t != "" {
			answers = append(answers, t)
		}
	}
	w.b.faq(q, strings.Join(answers, "\n\n"))
}
