package index

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

var ctx = context.Background()

func search(t testing.TB, ix *Index, q Query) []Hit {
	t.Helper()
	hits, err := ix.Search(ctx, q)
	if err != nil {
		t.Fatalf("search %q: %v", q.Text, err)
	}
	return hits
}

func mustReplace(t testing.TB, ix *Index, doc string, es ...Entry) {
	t.Helper()
	if err := ix.Replace(doc, es); err != nil {
		t.Fatalf("replace %s: %v", doc, err)
	}
}

var (
	t2024 = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	t2025 = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
)

// shop is a small policy corpus in several languages.
func shop() []Entry {
	return []Entry{
		{ChunkID: "refund-en", DocumentID: "refunds", Title: "Refund policy", Text: "You can ask for a refund within 30 days of delivery. The refund is paid to the original payment method.", Kind: "policy", Tags: []string{"returns"}, Language: "en"},
		{ChunkID: "refund-es", DocumentID: "refunds-es", Title: "Política de devolución", Text: "Puede solicitar la devolución del importe en un plazo de 30 días desde la entrega.", Kind: "policy", Tags: []string{"returns"}, Language: "es"},
		{ChunkID: "shipping", DocumentID: "shipping", Title: "Shipping", Question: "How long does shipping take?", Text: "Orders ship within two business days; delivery takes three to five days.", Kind: "faq", Tags: []string{"shipping"}, Language: "en"},
		{ChunkID: "sale-2024", DocumentID: "sale", Title: "Winter sale", Text: "Every jacket is 20% off during the winter sale.", Kind: "article", Tags: []string{"promo"}, ValidFrom: t2024, ValidUntil: t2025},
		{ChunkID: "jacket", DocumentID: "jacket", Title: "Down jacket", Text: "A warm down jacket, machine washable, in sizes S to XL.", Kind: "product", Tags: []string{"outerwear", "winter"}, Language: "de"},
	}
}

func shopIndex(t *testing.T) *Index {
	t.Helper()
	ix := openTenant(t, openSet(t, t.TempDir()), "shop")
	if !ix.Fresh() {
		t.Fatal("a new index is not Fresh")
	}
	for _, e := range shop() {
		mustReplace(t, ix, e.DocumentID, e)
	}
	return ix
}

func TestLexicalMatching(t *testing.T) {
	ix := shopIndex(t)
	cases := []struct {
		name, q string
		lang    string
		want    string
	}{
		{"exact", "refund policy", "", "refund-en"},
		{"english plural stemmed", "refunds", "", "refund-en"},
		{"case folded", "REFUND", "", "refund-en"},
		{"spanish plural stemmed", "devoluciones", "", "refund-es"},
		{"spanish accent folded", "devolucion", "", "refund-es"},
		{"spanish with language filter", "devoluciones", "es", "refund-es"},
		{"question field", "how long does shipping take", "", "shipping"},
		{"inflected verb", "shipped orders", "", "shipping"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			hits := search(t, ix, Query{Text: c.q, Filters: Filters{Language: c.lang}})
			if len(hits) == 0 || hits[0].ChunkID != c.want {
				t.Fatalf("%q: got %v, want %s first", c.q, ids(hits), c.want)
			}
			h := hits[0]
			if h.LexicalRank != 1 || h.VectorRank != 0 || h.Lexical <= 0 || h.Relevance != h.Lexical || h.Score <= 0 {
				t.Fatalf("%q: hit scores %+v", c.q, h)
			}
			if h.Snippet == "" || h.Title == "" || h.DocumentID == "" || h.Kind == "" {
				t.Fatalf("%q: stored fields missing: %+v", c.q, h)
			}
		})
	}
}

func TestLexicalCoverage(t *testing.T) {
	ix := shopIndex(t)
	full := search(t, ix, Query{Text: "refund within 30 days"})
	if full[0].ChunkID != "refund-en" || full[0].Lexical < 0.999 {
		t.Fatalf("every term present: %v %.3f", ids(full), full[0].Lexical)
	}
	part := search(t, ix, Query{Text: "refund for my broken telescope"})
	if part[0].ChunkID != "refund-en" || part[0].Lexical <= 0 || part[0].Lexical >= 0.5 {
		t.Fatalf("one common term of three: %v %.3f", ids(part), part[0].Lexical)
	}
	if got := search(t, ix, Query{Text: "the of and"}); len(got) != 0 {
		t.Fatalf("stop words only: %v", ids(got))
	}
}

func TestSnippet(t *testing.T) {
	long := ""
	for i := range 40 {
		long += fmt.Sprintf("Filler sentence number %d about nothing. ", i)
	}
	long += "The warranty covers manufacturing defects for two years. "
	long += long
	ix := openTenant(t, openSet(t, t.TempDir()), "s")
	mustReplace(t, ix, "d", Entry{ChunkID: "c", Text: long})
	h := search(t, ix, Query{Text: "warranty defects"})[0]
	if !containsAll(h.Snippet, "warranty", "defects") || len(h.Snippet) > 260 || h.Snippet[:3] != "…" {
		t.Fatalf("snippet %q", h.Snippet)
	}
}

func containsAll(s string, subs ...string) bool {
	for _, x := range subs {
		if !strings.Contains(s, x) {
			return false
		}
	}
	return true
}

func TestFilters(t *testing.T) {
	ix := shopIndex(t)
	for _, e := range shop() {
		e.Vector = hashEmbed(e.Title + " " + e.Text)
		mustReplace(t, ix, e.DocumentID, e)
	}
	all := []string{"jacket", "refund-en", "refund-es", "sale-2024", "shipping"}
	cases := []struct {
		name string
		f    Filters
		want []string
	}{
		{"none", Filters{}, all},
		{"kind", Filters{Kinds: []string{"policy"}}, []string{"refund-en", "refund-es"}},
		{"kinds any of", Filters{Kinds: []string{"faq", "product"}}, []string{"jacket", "shipping"}},
		{"tags any of", Filters{Tags: []string{"winter", "promo"}}, []string{"jacket", "sale-2024"}},
		{"language or none", Filters{Language: "es"}, []string{"refund-es", "sale-2024"}},
		{"language upper case", Filters{Language: "DE"}, []string{"jacket", "sale-2024"}},
		{"valid inside", Filters{At: t2024.Add(time.Hour)}, all},
		{"valid from is inclusive", Filters{At: t2024}, all},
		{"valid until is exclusive", Filters{At: t2025}, []string{"jacket", "refund-en", "refund-es", "shipping"}},
		{"before", Filters{At: t2024.Add(-time.Hour)}, []string{"jacket", "refund-en", "refund-es", "shipping"}},
		{"combined", Filters{Kinds: []string{"policy"}, Language: "en"}, []string{"refund-en"}},
		{"nothing passes", Filters{Kinds: []string{"nope"}}, nil},
	}
	// A query that matches every entry lexically and by vector.
	text := "refund devolución shipping jacket sale"
	for _, c := range cases {
		for _, mode := range []string{"lexical", "vector", "hybrid"} {
			t.Run(c.name+"/"+mode, func(t *testing.T) {
				q := Query{Text: text, K: 50, Filters: c.f}
				switch mode {
				case "vector":
					q.Text, q.Vector = "", hashEmbed(text)
				case "hybrid":
					q.Vector = hashEmbed(text)
				}
				got := ids(search(t, ix, q))
				slices.Sort(got)
				if !slices.Equal(got, c.want) && !(len(got) == 0 && len(c.want) == 0) {
					t.Fatalf("got %v, want %v", got, c.want)
				}
			})
		}
	}
}

func TestReplaceAndDelete(t *testing.T) {
	ix := shopIndex(t)
	mustReplace(t, ix, "refunds",
		Entry{ChunkID: "refund-v2-a", Title: "Refund policy", Text: "Refunds are accepted within 60 days.", Kind: "policy"},
		Entry{ChunkID: "refund-v2-b", Title: "Refund policy", Text: "Store credit is offered instead of a refund after 60 days.", Kind: "policy"})
	got := ids(search(t, ix, Query{Text: "refund", K: 50, Filters: Filters{Language: "en"}}))
	slices.Sort(got)
	if want := []string{"refund-v2-a", "refund-v2-b"}; !slices.Equal(got, want) {
		t.Fatalf("after replace: %v, want %v", got, want)
	}
	docs, err := ix.Documents()
	if err != nil {
		t.Fatal(err)
	}
	if docs["refunds"] != 2 || len(docs) != 5 || ix.Len() != 6 {
		t.Fatalf("documents %v, len %d", docs, ix.Len())
	}
	if err := ix.Delete("refunds"); err != nil {
		t.Fatal(err)
	}
	if got := search(t, ix, Query{Text: "store credit"}); len(got) != 0 {
		t.Fatalf("after delete: %v", ids(got))
	}
	docs, _ = ix.Documents()
	if _, ok := docs["refunds"]; ok || ix.Len() != 4 {
		t.Fatalf("after delete: documents %v, len %d", docs, ix.Len())
	}
}

func TestReplaceRefusesBadEntries(t *testing.T) {
	ix := shopIndex(t)
	cases := []struct {
		name string
		es   []Entry
		want error
	}{
		{"no chunk id", []Entry{{Text: "x"}}, ErrInvalid},
		{"other document", []Entry{{ChunkID: "a", DocumentID: "other"}}, ErrInvalid},
		{"chunk twice", []Entry{{ChunkID: "a"}, {ChunkID: "a"}}, ErrInvalid},
		{"mixed dimensions", []Entry{{ChunkID: "a", Vector: []float32{1, 0}}, {ChunkID: "b", Vector: []float32{1, 0, 0}}}, ErrDimension},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if err := ix.Replace("refunds", c.es); !errors.Is(err, c.want) {
				t.Fatalf("got %v, want %v", err, c.want)
			}
			if got := ids(search(t, ix, Query{Text: "refund", Filters: Filters{Language: "en"}})); !slices.Equal(got, []string{"refund-en"}) {
				t.Fatalf("a refused replace changed the index: %v", got)
			}
		})
	}
}

// TestReplaceIsAtomic hammers Replace of one document between two versions
// while searches run: each search sees exactly one version, whole.
func TestReplaceIsAtomic(t *testing.T) {
	ix := openTenant(t, openSet(t, t.TempDir()), "atomic")
	version := func(v string, n int) []Entry {
		es := make([]Entry, n)
		for i := range es {
			es[i] = Entry{ChunkID: fmt.Sprintf("%s-%d", v, i), Title: "warranty terms " + v, Text: fmt.Sprintf("warranty clause %d of version %s", i, v), Vector: hashEmbed("warranty " + v)}
		}
		return es
	}
	a, b := version("alpha", 4), version("beta", 6)
	mustReplace(t, ix, "doc", a...)
	mustReplace(t, ix, "other", Entry{ChunkID: "other", Text: "unrelated shipping text", Vector: hashEmbed("shipping")})

	var stop atomic.Bool
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for w := range 4 {
		wg.Go(func() {
			for !stop.Load() {
				q := Query{Text: "warranty", K: 20}
				if w%2 == 1 {
					q.Vector = hashEmbed("warranty alpha beta")
				}
				hits, err := ix.Search(ctx, q)
				if err != nil {
					errs <- err
					return
				}
				var na, nb int
				for _, h := range hits {
					switch {
					case len(h.ChunkID) > 5 && h.ChunkID[:5] == "alpha":
						na++
					case len(h.ChunkID) > 4 && h.ChunkID[:4] == "beta":
						nb++
					}
				}
				if !(na == 4 && nb == 0) && !(na == 0 && nb == 6) {
					errs <- fmt.Errorf("search saw %d alpha and %d beta chunks", na, nb)
					return
				}
			}
		})
	}
	for i := range 40 {
		es := a
		if i%2 == 0 {
			es = b
		}
		if err := ix.Replace("doc", es); err != nil {
			t.Fatal(err)
		}
	}
	stop.Store(true)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

func TestTenantIsolation(t *testing.T) {
	s := openSet(t, t.TempDir())
	a, b := openTenant(t, s, "acme"), openTenant(t, s, "Acme") // ids differ only by case
	mustReplace(t, a, "d", Entry{ChunkID: "a1", Text: "acme return policy", Vector: []float32{1, 0}})
	mustReplace(t, b, "d", Entry{ChunkID: "b1", Text: "globex return policy", Vector: []float32{1, 0, 0}})
	for _, c := range []struct {
		ix   *Index
		want string
	}{{a, "a1"}, {b, "b1"}} {
		if got := ids(search(t, c.ix, Query{Text: "return policy", K: 50})); !slices.Equal(got, []string{c.want}) {
			t.Fatalf("got %v, want only %s", got, c.want)
		}
	}
	if again := openTenant(t, s, "acme"); again != a {
		t.Fatal("Tenant did not return the cached index")
	}
	if err := s.Drop("acme"); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Search(ctx, Query{Text: "x"}); !errors.Is(err, ErrClosed) {
		t.Fatalf("dropped index searched: %v", err)
	}
	if got := ids(search(t, b, Query{Text: "return policy"})); !slices.Equal(got, []string{"b1"}) {
		t.Fatalf("drop of another tenant: %v", got)
	}
	if a2 := openTenant(t, s, "acme"); !a2.Fresh() || a2.Len() != 0 {
		t.Fatal("a dropped tenant reopens with entries")
	}
}

func TestTenantDirNames(t *testing.T) {
	for _, id := range []string{"acme", "../../etc", "a/b\\c:d", "ünïcode", "", string(make([]byte, 300))} {
		d := tenantDir(id)
		if filepath.Base(d) != d || d == "." || d == ".." || len(d) > 60 {
			t.Fatalf("tenant %q: unsafe dir %q", id, d)
		}
	}
	if tenantDir("acme") == tenantDir("Acme") {
		t.Fatal("tenant ids differing by case share a dir")
	}
}

func TestReopenKeepsLexicalIndex(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ix := openTenant(t, s, "t")
	e := Entry{ChunkID: "c", DocumentID: "d", Text: "gift cards never expire", Tags: []string{"gifts"}, Vector: []float32{0, 1}, ValidFrom: t2024}
	mustReplace(t, ix, "d", e)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := ix.Search(ctx, Query{Text: "gift"}); !errors.Is(err, ErrClosed) {
		t.Fatalf("closed index searched: %v", err)
	}

	s = openSet(t, dir)
	ix = openTenant(t, s, "t")
	if ix.Fresh() {
		t.Fatal("reopened index is Fresh")
	}
	hits := search(t, ix, Query{Text: "gift card"})
	if len(hits) != 1 || hits[0].ChunkID != "c" || hits[0].Tags[0] != "gifts" || !hits[0].ValidFrom.Equal(t2024) || hits[0].Vector != nil {
		t.Fatalf("after reopen: %+v", hits)
	}
	// Vectors are not persisted: a vector query finds nothing until LoadVectors.
	if got := search(t, ix, Query{Vector: []float32{0, 1}}); len(got) != 0 {
		t.Fatalf("vectors before LoadVectors: %v", ids(got))
	}
	if err := ix.LoadVectors([]Entry{e}); err != nil {
		t.Fatal(err)
	}
	if got := search(t, ix, Query{Vector: []float32{0, 2}}); len(got) != 1 || got[0].VectorRank != 1 || got[0].Cosine < 0.999 || got[0].Text == "" {
		t.Fatalf("vectors after LoadVectors: %+v", got)
	}
}

func TestFreshAfterDirDeleted(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	mustReplace(t, openTenant(t, s, "t"), "d", Entry{ChunkID: "c", Text: "hello"})
	s.Close()
	if err := os.RemoveAll(filepath.Join(dir, tenantDir("t"))); err != nil {
		t.Fatal(err)
	}
	ix := openTenant(t, openSet(t, dir), "t")
	if !ix.Fresh() || ix.Len() != 0 {
		t.Fatalf("fresh %v len %d", ix.Fresh(), ix.Len())
	}
}

func TestCorruptDirIsMovedAside(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	mustReplace(t, openTenant(t, s, "t"), "d", Entry{ChunkID: "c", Text: "hello"})
	s.Close()
	path := filepath.Join(dir, tenantDir("t"))
	if err := os.WriteFile(filepath.Join(path, "index_meta.json"), []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	var logged []string
	s, err = Open(dir, Options{Logf: func(f string, a ...any) { logged = append(logged, fmt.Sprintf(f, a...)) }})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ix := openTenant(t, s, "t")
	if !ix.Fresh() || ix.Len() != 0 || len(logged) != 1 {
		t.Fatalf("fresh %v len %d logged %v", ix.Fresh(), ix.Len(), logged)
	}
	mustReplace(t, ix, "d", Entry{ChunkID: "c", Text: "hello again"})
	if got := search(t, ix, Query{Text: "hello"}); len(got) != 1 {
		t.Fatalf("recreated index: %v", ids(got))
	}
	aside, _ := filepath.Glob(path + ".corrupt-*")
	if len(aside) != 1 {
		t.Fatalf("moved aside: %v", aside)
	}
}

func TestBadInput(t *testing.T) {
	ix := shopIndex(t)
	mustReplace(t, ix, "v", Entry{ChunkID: "v", Text: "vector entry", Vector: []float32{1, 2, 3}})
	if hits, err := ix.Search(ctx, Query{}); err != nil || len(hits) != 0 {
		t.Fatalf("empty query: %v %v", hits, err)
	}
	if hits, err := ix.Search(ctx, Query{Text: "   "}); err != nil || len(hits) != 0 {
		t.Fatalf("blank query: %v %v", hits, err)
	}
	if _, err := ix.Search(ctx, Query{Text: "x", Vector: []float32{1, 2}}); !errors.Is(err, ErrDimension) {
		t.Fatalf("wrong dimension: %v", err)
	}
	if err := ix.Replace("w", []Entry{{ChunkID: "w", Vector: []float32{1}}}); !errors.Is(err, ErrDimension) {
		t.Fatalf("replace with wrong dimension: %v", err)
	}
	if err := ix.LoadVectors([]Entry{{ChunkID: "w", Vector: []float32{1}}}); !errors.Is(err, ErrDimension) {
		t.Fatalf("load with wrong dimension: %v", err)
	}
	many := make([]Entry, 80)
	for i := range many {
		many[i] = Entry{ChunkID: fmt.Sprint("m", i), Text: "gift wrapping"}
	}
	mustReplace(t, ix, "many", many...)
	if got := search(t, ix, Query{Text: "gift wrapping", K: 500}); len(got) != 50 {
		t.Fatalf("K over 50: %d hits", len(got))
	}
	if got := search(t, ix, Query{Text: "gift wrapping"}); len(got) != 5 {
		t.Fatalf("default K: %d hits", len(got))
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := ix.Search(cctx, Query{Text: "gift"}); !errors.Is(err, context.Canceled) {
		t.Fatalf("canceled context: %v", err)
	}
}
