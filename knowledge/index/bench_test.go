package index

import (
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func BenchmarkRetrievalQuality(b *testing.B) {
	for _, mode := range []string{"bm25", "hybrid"} {
		b.Run(mode, func(b *testing.B) {
			ix := faqIndex(b, mode == "hybrid")
			var q quality
			for b.Loop() {
				q = measure(b, ix, mode == "hybrid")
			}
			th, acc := separation(q)
			b.ReportMetric(q.recall5, "recall@5")
			b.ReportMetric(q.mrr, "MRR")
			b.ReportMetric(th, "threshold")
			b.ReportMetric(acc, "threshold-accuracy")
		})
	}
}

const bigN = 100_000

// big is the shared 100k-chunk index of the Search100k and Replace
// benchmarks, built once per process.
var big struct {
	once                  sync.Once
	dir                   string
	set                   *Set
	ix                    *Index
	lexical, vectors      time.Duration
	heapLexical, heapVecs float64
	entries               []Entry
	err                   error
}

// synthetic makes n chunks: the real FAQ passages, then variants of them
// (sentences of two passages mixed and shuffled, 40% of the words swapped
// for words of other passages or a shop vocabulary, a question of random
// corpus words), 20 chunks per
// document, with varied kinds, tags and languages.
func synthetic(real []Entry, n int) []Entry {
	rng := rand.New(rand.NewPCG(7, 11))
	var vocab []string
	for _, e := range real {
		vocab = append(vocab, strings.Fields(e.Text)...)
	}
	vocab = append(vocab, strings.Fields("order orders shipping delivery refund refunds return returns warranty invoice payment card discount coupon size colour jacket shoes parcel courier tracking account password subscription cancel exchange store pickup price stock backorder gift voucher")...)
	sentences := func(s string) []string { return strings.SplitAfter(s, ". ") }
	kinds := []string{"faq", "policy", "product", "article"}
	langs := []string{"en", "en", "en", "", "es", "de"}
	out := make([]Entry, 0, n)
	for _, e := range real {
		out = append(out, e)
	}
	for i := len(out); i < n; i++ {
		a, c := real[rng.IntN(len(real))], real[rng.IntN(len(real))]
		ss := append(sentences(a.Text), sentences(c.Text)...)
		rng.Shuffle(len(ss), func(i, j int) { ss[i], ss[j] = ss[j], ss[i] })
		words := strings.Fields(strings.Join(ss[:min(len(ss), 3+rng.IntN(4))], " "))
		for j := range words {
			if rng.IntN(5) < 2 {
				words[j] = vocab[rng.IntN(len(vocab))]
			}
		}
		qw := make([]string, 4+rng.IntN(5))
		for j := range qw {
			qw[j] = vocab[rng.IntN(len(vocab))]
		}
		doc := fmt.Sprintf("syn-%d", i/20)
		out = append(out, Entry{
			ChunkID: fmt.Sprintf("%s-%d", doc, i%20), DocumentID: doc,
			Title: a.Title, Heading: c.Heading, Question: strings.Join(qw, " "), Text: strings.Join(words, " "),
			Kind: kinds[rng.IntN(len(kinds))], Tags: []string{a.Tags[0], c.Tags[0]}, Language: langs[rng.IntN(len(langs))],
		})
	}
	return out
}

func heapMB() float64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return float64(m.HeapAlloc) / (1 << 20)
}

func bigIndex(b *testing.B) *Index {
	big.once.Do(func() {
		if big.dir, big.err = osMkdirTemp(); big.err != nil {
			return
		}
		big.set, big.err = Open(big.dir, Options{})
		if big.err != nil {
			return
		}
		big.ix, big.err = big.set.Tenant("big")
		if big.err != nil {
			return
		}
		big.entries = synthetic(faqEntries(b, false), bigN)
		h0 := heapMB()
		t0 := time.Now()
		byDoc := map[string][]Entry{}
		var order []string
		for _, e := range big.entries {
			if _, ok := byDoc[e.DocumentID]; !ok {
				order = append(order, e.DocumentID)
			}
			byDoc[e.DocumentID] = append(byDoc[e.DocumentID], e)
		}
		for _, d := range order {
			if big.err = big.ix.Replace(d, byDoc[d]); big.err != nil {
				return
			}
		}
		big.lexical = time.Since(t0)
		h1 := heapMB()
		big.heapLexical = h1 - h0
		for i := range big.entries {
			e := &big.entries[i]
			e.Vector = hashEmbed(e.Question + " " + e.Title + " " + e.Heading + " " + e.Text)
		}
		t0 = time.Now()
		big.err = big.ix.LoadVectors(big.entries)
		big.vectors = time.Since(t0)
		for i := range big.entries {
			big.entries[i].Vector = nil // the index holds its own normalized copy
		}
		big.heapVecs = heapMB() - h1
	})
	if big.err != nil {
		b.Fatal(big.err)
	}
	return big.ix
}

func BenchmarkSearch100k(b *testing.B) {
	answerable, unanswerable := faqQuestions(b)
	qs := append(answerable, unanswerable...)
	for _, mode := range []string{"bm25", "hybrid"} {
		b.Run(mode, func(b *testing.B) {
			ix := bigIndex(b)
			queries := make([]Query, len(qs))
			for i, q := range qs {
				queries[i] = Query{Text: q.Q, K: 5}
				if mode == "hybrid" {
					queries[i].Vector = hashEmbed(q.Q)
				}
			}
			var lat []time.Duration
			found := 0
			for b.Loop() {
				lat, found = lat[:0], 0
				for round := range 3 {
					for i, q := range queries {
						t0 := time.Now()
						hits := search(b, ix, q)
						lat = append(lat, time.Since(t0))
						if round == 0 && i < len(answerable) && slices.ContainsFunc(hits, func(h Hit) bool { return slices.Contains(qs[i].IDs, h.ChunkID) }) {
							found++
						}
					}
				}
			}
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
			b.ReportMetric(float64(found)/float64(len(answerable)), "recall@5")
			b.ReportMetric(big.lexical.Seconds(), "build-lexical-s")
			b.ReportMetric(big.vectors.Seconds(), "build-vectors-s")
			b.ReportMetric(big.heapLexical, "heap-lexical-MB")
			b.ReportMetric(big.heapVecs, "heap-vectors-MB")
			b.ReportMetric(0, "ns/op")
		})
	}
}

// BenchmarkReplace replaces one 20-chunk document (with vectors) in the
// 100k index, 20 times per iteration; p50/p99 per Replace.
func BenchmarkReplace(b *testing.B) {
	ix := bigIndex(b)
	var lat []time.Duration
	for b.Loop() {
		lat = lat[:0]
		for r := range 20 {
			doc := fmt.Sprintf("syn-%d", 100+r)
			es := make([]Entry, 20)
			for i := range es {
				text := fmt.Sprintf("Revised paragraph %d of the returns policy, version %d: items can be returned within %d days.", i, r, 30+r)
				es[i] = Entry{ChunkID: fmt.Sprintf("%s-%d", doc, i), Title: "Returns policy", Text: text, Kind: "policy", Language: "en", Vector: hashEmbed(text)}
			}
			t0 := time.Now()
			if err := ix.Replace(doc, es); err != nil {
				b.Fatal(err)
			}
			lat = append(lat, time.Since(t0))
		}
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(lat[len(lat)-1].Microseconds()), "max-µs")
	b.ReportMetric(0, "ns/op")
}

// closeBig closes the shared index and removes its directory (TestMain).
func closeBig() {
	if big.set != nil {
		big.set.Close()
		os.RemoveAll(big.dir)
	}
}

func osMkdirTemp() (string, error) { return os.MkdirTemp("", "knowledge-index-bench-") }

// BenchmarkRebuild100k deletes the vectors of 35% of the shared 100k
// index's chunks, which starts a background rebuild of the vector graph, and
// searches (hybrid) and replaces documents until the new graph is swapped
// in: the latencies of both during the rebuild, the rebuild's duration and
// its longest hold of the index's write lock. It runs last: it leaves the
// shared index with fewer vectors.
func BenchmarkRebuild100k(b *testing.B) {
	ix := bigIndex(b)
	answerable, _ := faqQuestions(b)
	var searches, replaces []time.Duration
	var st rebuildStats
	for b.Loop() {
		gone := make([]Entry, 0, bigN*35/100)
		for _, e := range big.entries[bigN-cap(gone):] {
			gone = append(gone, Entry{ChunkID: e.ChunkID}) // no vector: removed
		}
		t0 := time.Now()
		if err := ix.LoadVectors(gone); err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(time.Since(t0).Microseconds())/1000, "delete-call-ms")
		if s := ix.rebuildStats(); s.started != 1 || s.swapped != 0 {
			b.Fatalf("rebuilds started %d, swapped %d; want 1 running", s.started, s.swapped)
		}
		var stop atomic.Bool
		var wg sync.WaitGroup
		wg.Go(func() {
			for i := 0; !stop.Load(); i++ {
				q := answerable[i%len(answerable)].Q
				t0 := time.Now()
				search(b, ix, Query{Text: q, Vector: hashEmbed(q), K: 5})
				searches = append(searches, time.Since(t0))
			}
		})
		wg.Go(func() {
			for r := 0; !stop.Load(); r++ {
				doc := fmt.Sprintf("syn-%d", 200+r%50)
				es := make([]Entry, 20)
				for i := range es {
					text := fmt.Sprintf("Revised paragraph %d of the exchange policy, version %d.", i, r)
					es[i] = Entry{ChunkID: fmt.Sprintf("%s-%d", doc, i), Text: text, Kind: "policy", Vector: hashEmbed(text)}
				}
				t0 := time.Now()
				if err := ix.Replace(doc, es); err != nil {
					b.Error(err)
					return
				}
				replaces = append(replaces, time.Since(t0))
				time.Sleep(20 * time.Millisecond) // a busy shop, not a bulk load
			}
		})
		for st = ix.rebuildStats(); st.swapped == 0; st = ix.rebuildStats() {
			time.Sleep(50 * time.Millisecond)
		}
		stop.Store(true)
		wg.Wait()
	}
	slices.Sort(searches)
	slices.Sort(replaces)
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	b.ReportMetric(st.lastDuration.Seconds(), "rebuild-s")
	b.ReportMetric(ms(st.maxHold), "max-lock-hold-ms")
	b.ReportMetric(float64(st.replayed), "replayed")
	b.ReportMetric(ms(searches[len(searches)/2]), "search-p50-ms")
	b.ReportMetric(ms(searches[len(searches)*99/100]), "search-p99-ms")
	b.ReportMetric(ms(searches[len(searches)-1]), "search-max-ms")
	b.ReportMetric(ms(replaces[len(replaces)/2]), "replace-p50-ms")
	b.ReportMetric(ms(replaces[len(replaces)-1]), "replace-max-ms")
	b.ReportMetric(0, "ns/op")
}
