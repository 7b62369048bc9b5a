package index

import (
	"errors"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// randVec is a deterministic random 16-dimension vector for id.
func randVec(id string) []float32 {
	h := fnv.New64a()
	h.Write([]byte(id))
	rng := rand.New(rand.NewPCG(h.Sum64(), 3))
	v := make([]float32, 16)
	for i := range v {
		v[i] = float32(rng.NormFloat64())
	}
	return v
}

func vecEntries(doc string, version, n int) []Entry {
	es := make([]Entry, n)
	for i := range es {
		id := fmt.Sprintf("%s-v%d-%d", doc, version, i)
		es[i] = Entry{ChunkID: id, Text: "chunk " + id, Kind: "faq", Vector: randVec(id)}
	}
	return es
}

func (ix *Index) rebuildStats() rebuildStats {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	return ix.stats
}

// TestSearchDuringRebuild replaces and deletes documents and searches, all
// concurrently, while the vector graph is rebuilt in the background several
// times: no search returns a chunk deleted before it started, every chunk
// stays findable by its own vector (stable ones by searchers, new ones by
// their writer right after Replace), and afterwards the index holds exactly
// the live chunks.
func TestSearchDuringRebuild(t *testing.T) {
	ix := openTenant(t, openSet(t, t.TempDir()), "rebuild")
	ix.rebuildMin = 100 // before any concurrent use

	var stable []Entry
	for d := range 10 {
		es := vecEntries(fmt.Sprintf("stable%d", d), 0, 30)
		mustReplace(t, ix, fmt.Sprintf("stable%d", d), es...)
		stable = append(stable, es...)
	}

	var (
		seq     atomic.Int64 // bumped after each Replace or Delete returns
		deleted sync.Map     // chunk id → seq of the change that removed it
		stop    atomic.Bool
		wg      sync.WaitGroup
		errMu   sync.Mutex
		errs    []error
	)
	fail := func(err error) {
		errMu.Lock()
		errs = append(errs, err)
		errMu.Unlock()
		stop.Store(true)
	}
	// findable reports whether a search by e's own vector returns e, and
	// fails on a hit deleted before the search started.
	findable := func(e Entry, vector []float32) bool {
		before := seq.Load()
		hits, err := ix.Search(ctx, Query{Vector: vector, K: 5})
		if err != nil {
			fail(err)
			return false
		}
		for _, h := range hits {
			if at, ok := deleted.Load(h.ChunkID); ok && at.(int64) <= before {
				fail(fmt.Errorf("search returned %s, deleted before it started", h.ChunkID))
			}
		}
		return slices.ContainsFunc(hits, func(h Hit) bool { return h.ChunkID == e.ChunkID })
	}

	const writers, docsPerWriter, chunksPerDoc = 3, 5, 10
	live := make([][]Entry, writers*docsPerWriter) // per document; written by its writer only
	var recentlyDeleted atomic.Value               // []float32: a vector of a deleted chunk
	for w := range writers {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(w), 9))
			for version := 1; !stop.Load(); version++ {
				d := w*docsPerWriter + rng.IntN(docsPerWriter)
				doc := fmt.Sprintf("churn%d", d)
				var es []Entry
				if version%7 != 0 {
					es = vecEntries(doc, version, chunksPerDoc)
				}
				if err := ix.Replace(doc, es); err != nil {
					fail(err)
					return
				}
				s := seq.Add(1)
				for _, e := range live[d] {
					deleted.Store(e.ChunkID, s)
					recentlyDeleted.Store(e.Vector)
				}
				live[d] = es
				for _, e := range es[:min(2, len(es))] {
					if !findable(e, e.Vector) {
						fail(fmt.Errorf("new chunk %s not found by its vector after Replace", e.ChunkID))
					}
				}
			}
		})
	}
	for r := range 2 {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(r), 10))
			for !stop.Load() {
				e := stable[rng.IntN(len(stable))]
				if !findable(e, e.Vector) {
					fail(fmt.Errorf("stable chunk %s not found by its vector", e.ChunkID))
				}
				if v, ok := recentlyDeleted.Load().([]float32); ok {
					findable(Entry{}, v) // fails on a deleted hit
				}
			}
		})
	}

	deadline := time.Now().Add(60 * time.Second)
	for !stop.Load() {
		st := ix.rebuildStats()
		if st.swapped >= 3 && st.replayed > 0 {
			break
		}
		if time.Now().After(deadline) {
			fail(fmt.Errorf("after 60s: %d rebuilds started, %d swapped in, %d changes replayed; want 3 swapped with changes replayed", st.started, st.swapped, st.replayed))
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	stop.Store(true)
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}

	// Quiescent: every live chunk is found by its vector, the graph holds
	// exactly the live chunks, and no deleted chunk is returned.
	want := slices.Clone(stable)
	for _, es := range live {
		want = append(want, es...)
	}
	for _, e := range want {
		if !findable(e, e.Vector) {
			t.Errorf("live chunk %s not found by its vector", e.ChunkID)
		}
	}
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	ix.mu.RLock()
	if got := ix.vec.live(); got != len(want) {
		t.Errorf("vector index holds %d live vectors, want %d", got, len(want))
	}
	for _, e := range want {
		if _, ok := ix.vec.byKey[e.ChunkID]; !ok {
			t.Errorf("live chunk %s missing from the vector index", e.ChunkID)
		}
	}
	ix.mu.RUnlock()
	st := ix.rebuildStats()
	t.Logf("rebuilds: %d started, %d swapped in, %d changes replayed, longest lock hold %v", st.started, st.swapped, st.replayed, st.maxHold)
}

// TestCloseStopsRebuild closes an index while its rebuild runs: Close
// returns and the rebuild goroutine is gone (goleak in TestMain).
func TestCloseStopsRebuild(t *testing.T) {
	s, err := Open(t.TempDir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	ix := openTenant(t, s, "close")
	ix.rebuildMin = 10
	es := make([]Entry, 1200)
	for i := range es {
		id := fmt.Sprintf("c%d", i)
		es[i] = Entry{ChunkID: id, Vector: randVec(id)}
	}
	if err := ix.LoadVectors(es); err != nil {
		t.Fatal(err)
	}
	for i := range es[:500] {
		es[i].Vector = nil
	}
	if err := ix.LoadVectors(es[:500]); err != nil { // 500 tombstones > 0.5 × 700 live
		t.Fatal(err)
	}
	if st := ix.rebuildStats(); st.started != 1 {
		t.Fatalf("%d rebuilds started, want 1", st.started)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestVectorsOfAnotherDimensionAfterDeletingAll: once every vector is
// deleted the index takes vectors of another dimension, and the graph's
// tombstones of the old dimension are never compared with them.
func TestVectorsOfAnotherDimensionAfterDeletingAll(t *testing.T) {
	ix := openTenant(t, openSet(t, t.TempDir()), "dims")
	small := func(id string) []float32 { return randVec(id)[:8] }
	mustReplace(t, ix, "a", Entry{ChunkID: "a1", Text: "alpha", Vector: small("a1")}, Entry{ChunkID: "a2", Text: "alpha", Vector: small("a2")})
	mustReplace(t, ix, "a")
	mustReplace(t, ix, "b", Entry{ChunkID: "b1", Text: "beta", Vector: randVec("b1")}, Entry{ChunkID: "b2", Text: "beta", Vector: randVec("b2")})
	hits := search(t, ix, Query{Vector: randVec("b2"), K: 1})
	if len(hits) != 1 || hits[0].ChunkID != "b2" {
		t.Fatalf("hits %v, want [b2]", ids(hits))
	}
}
