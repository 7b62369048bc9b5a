package index

import (
	"sync/atomic"
	"time"
)

// Rebuilding the vector graph without stopping searches.
//
// Deleted vectors stay in the graph as tombstones. When they exceed
// Options.RebuildRatio × live ones (and rebuildMin), the writer that crossed
// the line (Replace, Delete or LoadVectors, under Index.mu held for writing)
// copies the live nodes (keys, shared vectors, metadata: an O(n) copy, no
// distance computed) and starts a rebuild goroutine owned by the Index. The
// goroutine inserts the copy into a new graph that only it sees, so it holds
// no lock while doing so; searches and writers go on with the current graph.
//
// Every vector change made while the rebuild runs is applied to the current
// graph as usual and also appended to the rebuild's change log. Once the
// copy is inserted, the goroutine takes the log (under the write lock, which
// it releases at once) and replays it on the new graph, again without the
// lock, until the log left is at most swapBatch changes; it then replays
// those under the write lock and swaps the new graph in. A search therefore
// sees the current graph, with every change up to its start, before the swap
// and the new graph, with the same changes, after it.
//
// A rebuild ends early, its work discarded, when the Index closes (Close
// waits for it) or when the vector index is emptied meanwhile (the graph is
// then reset, and a later rebuild starts from it).

const (
	// rebuildMin is the fewest tombstones that start a rebuild.
	rebuildMin = 1000
	// swapBatch is the most logged changes replayed under the write lock.
	swapBatch = 32
	// catchUpRounds bounds the lock-free replay rounds: writers faster than
	// the replay would otherwise keep the swap from ever happening.
	catchUpRounds = 16
	// checkEvery is how many insertions a rebuild makes between checks that
	// it should stop.
	checkEvery = 256
)

// rebuild is one background rebuild of the vector graph.
type rebuild struct {
	log       []vecChange // guarded by Index.mu
	cancelled atomic.Bool // set under Index.mu when the rebuild is abandoned
}

// vecChange is one logged change: vec nil removes key.
type vecChange struct {
	key  string
	vec  []float32
	meta vecMeta
}

// rebuildStats are counters of the background rebuilds, for tests and
// benchmarks.
type rebuildStats struct {
	started, swapped int
	replayed         int           // logged changes replayed on new graphs
	maxHold          time.Duration // longest write-lock hold by a rebuild (snapshot or swap)
	lastDuration     time.Duration // start to swap of the last rebuild swapped in
}

// vecUpsert adds or replaces key's vector in the current graph and logs the
// change for a running rebuild. It runs under ix.mu held for writing.
func (ix *Index) vecUpsert(key string, vec []float32, meta vecMeta) {
	ix.vec.upsert(key, vec, meta)
	if ix.rebuilding != nil {
		ix.rebuilding.log = append(ix.rebuilding.log, vecChange{key, vec, meta})
	}
}

// vecRemove removes key's vector (if any) from the current graph and logs
// the change for a running rebuild. It runs under ix.mu held for writing.
func (ix *Index) vecRemove(key string) {
	if _, ok := ix.vec.byKey[key]; !ok {
		return
	}
	ix.vec.remove(key)
	if ix.rebuilding != nil {
		ix.rebuilding.log = append(ix.rebuilding.log, vecChange{key: key})
	}
}

// vecReset empties the vector index (its dimension free again), abandoning
// a running rebuild. It runs under ix.mu held for writing.
func (ix *Index) vecReset() {
	if ix.rebuilding != nil {
		ix.rebuilding.cancelled.Store(true)
		ix.rebuilding = nil
	}
	ix.vec = newHNSW(ix.o)
}

// maybeRebuild starts a background rebuild when the current graph has too
// many tombstones and none is running. It runs under ix.mu held for writing.
func (ix *Index) maybeRebuild() {
	if ix.closed || ix.rebuilding != nil || !ix.vec.needsRebuild(ix.o.RebuildRatio, ix.rebuildMin) {
		return
	}
	t0 := time.Now()
	rb := &rebuild{}
	snap := ix.vec.snapshot()
	dim := ix.vec.dim
	ix.rebuilding = rb
	ix.stats.started++
	ix.wg.Add(1)
	go ix.runRebuild(rb, snap, dim, t0)
	ix.noteHold(time.Since(t0))
}

// noteHold records a write-lock hold of a rebuild; under ix.mu.
func (ix *Index) noteHold(d time.Duration) {
	ix.stats.maxHold = max(ix.stats.maxHold, d)
}

// runRebuild is the rebuild goroutine: see the top of this file.
func (ix *Index) runRebuild(rb *rebuild, snap []liveVec, dim int, started time.Time) {
	defer ix.wg.Done()
	g := newHNSW(ix.o)
	g.dim = dim
	for i := range snap {
		if i%checkEvery == 0 && ix.stopped(rb) {
			return
		}
		g.insert(snap[i].key, snap[i].vec, snap[i].meta)
	}
	snap = nil
	replayed := 0
	for round := 0; ; round++ {
		ix.mu.Lock()
		if ix.closed || ix.rebuilding != rb {
			ix.mu.Unlock()
			return
		}
		log := rb.log
		if len(log) <= swapBatch || round >= catchUpRounds {
			t0 := time.Now()
			replay(g, log)
			ix.vec = g
			ix.rebuilding = nil
			ix.stats.swapped++
			ix.stats.replayed += replayed + len(log)
			ix.stats.lastDuration = time.Since(started)
			ix.noteHold(time.Since(t0))
			ix.maybeRebuild() // the replayed deletions may call for another
			ix.mu.Unlock()
			return
		}
		rb.log = nil
		ix.mu.Unlock()
		for i := 0; i < len(log); i += checkEvery {
			if ix.stopped(rb) {
				return
			}
			replay(g, log[i:min(len(log), i+checkEvery)])
		}
		replayed += len(log)
	}
}

func (ix *Index) stopped(rb *rebuild) bool {
	select {
	case <-ix.done:
		return true
	default:
		return rb.cancelled.Load()
	}
}

// replay applies logged changes to g, in order.
func replay(g *hnsw, log []vecChange) {
	for _, c := range log {
		if c.vec == nil {
			g.remove(c.key)
		} else {
			g.upsert(c.key, c.vec, c.meta)
		}
	}
}
