package index

import (
	"cmp"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"time"
)

// hnsw is an in-memory hierarchical navigable small world graph (Malkov &
// Yashunin) over L2-normalized float32 vectors, with distance 1 − dot
// product (1 − cosine). Deletion marks a node as a tombstone: it still
// routes searches but is never returned; when tombstones exceed
// Options.RebuildRatio × live nodes the Index rebuilds the graph from a snapshot of
// the live nodes in the background (rebuild.go).
//
// It has no lock of its own: Index.mu guards the graph that Index.vec points
// to (search under the read lock is read-only; every method that changes it
// runs under the write lock); a graph being rebuilt belongs to the rebuild
// goroutine alone until it is swapped in.
type hnsw struct {
	m, m0, efConstruction int
	levelMult             float64
	dim                   int

	nodes    []hnswNode
	byKey    map[string]int32
	entry    int32 // -1 when empty
	maxLevel int
	dead     int
	rng      *rand.Rand

	visited sync.Pool // *visitSet
}

type hnswNode struct {
	key   string
	vec   []float32
	meta  vecMeta
	links [][]int32 // per level, 0 = bottom
	dead  bool
}

// vecMeta is what vector-side filters need of an entry.
type vecMeta struct {
	kind, language        string
	tags                  []string
	validFrom, validUntil time.Time
}

type cand struct {
	id   int32
	dist float32
}

type visitSet struct {
	mark  []uint32
	epoch uint32
}

func newHNSW(o Options) *hnsw {
	h := &hnsw{
		m:              o.M,
		m0:             2 * o.M,
		efConstruction: o.EfConstruction,
		levelMult:      1 / math.Log(float64(o.M)),
		byKey:          make(map[string]int32),
		entry:          -1,
		rng:            rand.New(rand.NewPCG(1, 2)),
	}
	h.visited.New = func() any { return &visitSet{} }
	return h
}

func (h *hnsw) live() int { return len(h.byKey) }

func dot(a, b []float32) float32 {
	var s0, s1, s2, s3, s4, s5, s6, s7 float32
	n := len(a)
	b = b[:n]
	i := 0
	for ; i+8 <= n; i += 8 {
		x, y := a[i:i+8:i+8], b[i:i+8:i+8]
		s0 += x[0] * y[0]
		s1 += x[1] * y[1]
		s2 += x[2] * y[2]
		s3 += x[3] * y[3]
		s4 += x[4] * y[4]
		s5 += x[5] * y[5]
		s6 += x[6] * y[6]
		s7 += x[7] * y[7]
	}
	for ; i < n; i++ {
		s0 += a[i] * b[i]
	}
	return (s0 + s1) + (s2 + s3) + (s4 + s5) + (s6 + s7)
}

// normalize returns v scaled to unit length (a copy), or nil for a zero vector.
func normalize(v []float32) []float32 {
	var s float64
	for _, x := range v {
		s += float64(x) * float64(x)
	}
	if s == 0 || math.IsNaN(s) || math.IsInf(s, 0) {
		return nil
	}
	inv := float32(1 / math.Sqrt(s))
	out := make([]float32, len(v))
	for i, x := range v {
		out[i] = x * inv
	}
	return out
}

func (h *hnsw) dist(q []float32, id int32) float32 { return 1 - dot(q, h.nodes[id].vec) }

// upsert adds key with the normalized vector vec, replacing an earlier one.
func (h *hnsw) upsert(key string, vec []float32, meta vecMeta) {
	if old, ok := h.byKey[key]; ok {
		h.kill(old)
	}
	if h.dim == 0 {
		h.dim = len(vec)
	}
	h.insert(key, vec, meta)
}

// remove tombstones key (a no-op when absent).
func (h *hnsw) remove(key string) {
	if id, ok := h.byKey[key]; ok {
		h.kill(id)
	}
}

func (h *hnsw) kill(id int32) {
	n := &h.nodes[id]
	delete(h.byKey, n.key)
	n.dead = true
	n.meta = vecMeta{}
	h.dead++
}

// needsRebuild reports whether tombstones exceed ratio × live nodes and
// minDead (so that small indexes don't churn).
func (h *hnsw) needsRebuild(ratio float64, minDead int) bool {
	return h.dead >= minDead && float64(h.dead) > ratio*float64(h.live())
}

// liveVec is a live node as a rebuild copies it: the vector is shared (it
// is never written after insertion), the metadata copied.
type liveVec struct {
	key  string
	vec  []float32
	meta vecMeta
}

// snapshot copies the live nodes, in insertion order.
func (h *hnsw) snapshot() []liveVec {
	out := make([]liveVec, 0, h.live())
	for i := range h.nodes {
		if n := &h.nodes[i]; !n.dead {
			out = append(out, liveVec{n.key, n.vec, n.meta})
		}
	}
	return out
}

func (h *hnsw) randomLevel() int {
	return int(math.Floor(-math.Log(1-h.rng.Float64()) * h.levelMult))
}

func (h *hnsw) insert(key string, vec []float32, meta vecMeta) {
	level := h.randomLevel()
	id := int32(len(h.nodes))
	h.nodes = append(h.nodes, hnswNode{key: key, vec: vec, meta: meta, links: make([][]int32, level+1)})
	h.byKey[key] = id
	if h.entry < 0 {
		h.entry, h.maxLevel = id, level
		return
	}
	ep := h.entry
	epDist := h.dist(vec, ep)
	for l := h.maxLevel; l > level; l-- {
		ep, epDist = h.greedy(vec, ep, epDist, l)
	}
	eps := []cand{{ep, epDist}}
	for l := min(level, h.maxLevel); l >= 0; l-- {
		w := h.searchLayer(vec, eps, h.efConstruction, l)
		maxLinks := h.m
		if l == 0 {
			maxLinks = h.m0
		}
		nb := h.selectNeighbors(w, h.m)
		links := make([]int32, len(nb), maxLinks)
		for i, c := range nb {
			links[i] = c.id
		}
		h.nodes[id].links[l] = links
		for _, c := range nb {
			h.link(c.id, id, c.dist, l, maxLinks)
		}
		eps = w
	}
	if level > h.maxLevel {
		h.entry, h.maxLevel = id, level
	}
}

// link adds to from's level-l list, shrinking it with the heuristic when full.
func (h *hnsw) link(from, to int32, d float32, l, maxLinks int) {
	n := &h.nodes[from]
	if len(n.links[l]) < maxLinks {
		n.links[l] = append(n.links[l], to)
		return
	}
	cs := make([]cand, 0, len(n.links[l])+1)
	cs = append(cs, cand{to, d})
	for _, o := range n.links[l] {
		cs = append(cs, cand{o, 1 - dot(n.vec, h.nodes[o].vec)})
	}
	slices.SortFunc(cs, func(a, b cand) int { return cmp.Compare(a.dist, b.dist) })
	nb := h.selectNeighbors(cs, maxLinks)
	n.links[l] = n.links[l][:0]
	for _, c := range nb {
		n.links[l] = append(n.links[l], c.id)
	}
}

// selectNeighbors is the paper's heuristic (algorithm 4, keeping pruned
// candidates to fill up): cs sorted by distance to the new element.
func (h *hnsw) selectNeighbors(cs []cand, m int) []cand {
	if len(cs) <= m {
		return cs
	}
	out := make([]cand, 0, m)
	var pruned []cand
	for _, c := range cs {
		if len(out) >= m {
			break
		}
		good := true
		for _, r := range out {
			if 1-dot(h.nodes[c.id].vec, h.nodes[r.id].vec) < c.dist {
				good = false
				break
			}
		}
		if good {
			out = append(out, c)
		} else {
			pruned = append(pruned, c)
		}
	}
	for _, c := range pruned {
		if len(out) >= m {
			break
		}
		out = append(out, c)
	}
	return out
}

func (h *hnsw) greedy(q []float32, ep int32, epDist float32, l int) (int32, float32) {
	for changed := true; changed; {
		changed = false
		for _, nb := range h.nodes[ep].links[l] {
			if d := h.dist(q, nb); d < epDist {
				ep, epDist, changed = nb, d, true
			}
		}
	}
	return ep, epDist
}

// searchLayer is the beam search of width ef on level l; it returns the
// closest nodes found (tombstones included), sorted by distance.
func (h *hnsw) searchLayer(q []float32, eps []cand, ef, l int) []cand {
	vs := h.visited.Get().(*visitSet)
	defer h.visited.Put(vs)
	if len(vs.mark) < len(h.nodes) {
		vs.mark = make([]uint32, len(h.nodes)+len(h.nodes)/4)
		vs.epoch = 0
	}
	vs.epoch++
	if vs.epoch == 0 {
		clear(vs.mark)
		vs.epoch = 1
	}
	var candidates minHeap
	var results maxHeap
	for _, e := range eps {
		vs.mark[e.id] = vs.epoch
		candidates.push(e)
		results.push(e)
	}
	for candidates.len() > 0 {
		c := candidates.pop()
		if results.len() >= ef && c.dist > results.top().dist {
			break
		}
		for _, nb := range h.nodes[c.id].links[l] {
			if vs.mark[nb] == vs.epoch {
				continue
			}
			vs.mark[nb] = vs.epoch
			d := h.dist(q, nb)
			if results.len() < ef || d < results.top().dist {
				candidates.push(cand{nb, d})
				results.push(cand{nb, d})
				if results.len() > ef {
					results.pop()
				}
			}
		}
	}
	out := make([]cand, results.len())
	for i := len(out) - 1; i >= 0; i-- {
		out[i] = results.pop()
	}
	return out
}

// search returns up to k live nodes nearest to q that accept allows (nil:
// all), nearest first. It widens the beam while too few pass the filter and
// falls back to an exact scan when the beam would cover the graph.
func (h *hnsw) search(q []float32, k, ef int, accept func(*vecMeta) bool) []cand {
	if h.entry < 0 || k <= 0 {
		return nil
	}
	ef = max(ef, k)
	for {
		if ef >= len(h.nodes) {
			return h.scan(q, k, accept)
		}
		ep := h.entry
		epDist := h.dist(q, ep)
		for l := h.maxLevel; l > 0; l-- {
			ep, epDist = h.greedy(q, ep, epDist, l)
		}
		w := h.searchLayer(q, []cand{{ep, epDist}}, ef, 0)
		out := make([]cand, 0, k)
		for _, c := range w {
			n := &h.nodes[c.id]
			if n.dead || (accept != nil && !accept(&n.meta)) {
				continue
			}
			out = append(out, c)
			if len(out) == k {
				return out
			}
		}
		if len(w) < ef { // the beam saw every reachable node
			return out
		}
		ef *= 4
	}
}

func (h *hnsw) scan(q []float32, k int, accept func(*vecMeta) bool) []cand {
	var results maxHeap
	for i := range h.nodes {
		n := &h.nodes[i]
		if n.dead || (accept != nil && !accept(&n.meta)) {
			continue
		}
		d := 1 - dot(q, n.vec)
		if results.len() < k || d < results.top().dist {
			results.push(cand{int32(i), d})
			if results.len() > k {
				results.pop()
			}
		}
	}
	out := make([]cand, results.len())
	for i := len(out) - 1; i >= 0; i-- {
		out[i] = results.pop()
	}
	return out
}

// cosine returns the cosine of q with key's vector, and whether key has one.
func (h *hnsw) cosine(q []float32, key string) (float64, bool) {
	id, ok := h.byKey[key]
	if !ok {
		return 0, false
	}
	return float64(dot(q, h.nodes[id].vec)), true
}

type minHeap struct{ a []cand }

func (h *minHeap) len() int { return len(h.a) }
func (h *minHeap) push(c cand) {
	h.a = append(h.a, c)
	for i := len(h.a) - 1; i > 0; {
		p := (i - 1) / 2
		if h.a[p].dist <= h.a[i].dist {
			break
		}
		h.a[p], h.a[i] = h.a[i], h.a[p]
		i = p
	}
}
func (h *minHeap) pop() cand {
	top := h.a[0]
	last := len(h.a) - 1
	h.a[0] = h.a[last]
	h.a = h.a[:last]
	for i := 0; ; {
		l, r, s := 2*i+1, 2*i+2, i
		if l < last && h.a[l].dist < h.a[s].dist {
			s = l
		}
		if r < last && h.a[r].dist < h.a[s].dist {
			s = r
		}
		if s == i {
			break
		}
		h.a[s], h.a[i] = h.a[i], h.a[s]
		i = s
	}
	return top
}

type maxHeap struct{ a []cand }

func (h *maxHeap) len() int  { return len(h.a) }
func (h *maxHeap) top() cand { return h.a[0] }
func (h *maxHeap) push(c cand) {
	h.a = append(h.a, c)
	for i := len(h.a) - 1; i > 0; {
		p := (i - 1) / 2
		if h.a[p].dist >= h.a[i].dist {
			break
		}
		h.a[p], h.a[i] = h.a[i], h.a[p]
		i = p
	}
}
func (h *maxHeap) pop() cand {
	top := h.a[0]
	last := len(h.a) - 1
	h.a[0] = h.a[last]
	h.a = h.a[:last]
	for i := 0; ; {
		l, r, s := 2*i+1, 2*i+2, i
		if l < last && h.a[l].dist > h.a[s].dist {
			s = l
		}
		if r < last && h.a[r].dist > h.a[s].dist {
			s = r
		}
		if s == i {
			break
		}
		h.a[s], h.a[i] = h.a[i], h.a[s]
		i = s
	}
	return top
}
