package actors

import (
	"container/list"
	"sync"
	"sync/atomic"

	"github.com/asynkron/protoactor-go/actor"
)

// hotSet bounds the conversation grains active on this member: past the
// budget, the least recently used one is asked to passivate (evict). A grain
// with work in hand (a job, a turn, messages waiting) finishes it first and
// passivates at its next idle moment. Safe for concurrent use; grains touch
// it from their receive loops.
type hotSet struct {
	max atomic.Int64

	mu    sync.Mutex
	order *list.List // of *hotEntry, most recently used first
	by    map[string]*list.Element
}

type hotEntry struct {
	identity string
	pid      *actor.PID
	// asked is set once the grain was asked to passivate.
	asked bool
}

// evict asks a conversation grain to passivate as soon as it is idle.
type evict struct{}

func newHotSet(max int) *hotSet {
	h := &hotSet{order: list.New(), by: map[string]*list.Element{}}
	h.max.Store(int64(max))
	return h
}

// touch records that the grain identity (at pid) was just used, and asks the
// least recently used grains past the budget to passivate.
func (h *hotSet) touch(identity string, pid *actor.PID, root *actor.RootContext) {
	limit := int(h.max.Load())
	if limit <= 0 {
		return
	}
	var victims []*actor.PID
	h.mu.Lock()
	if el, ok := h.by[identity]; ok {
		e := el.Value.(*hotEntry)
		e.pid, e.asked = pid, false
		h.order.MoveToFront(el)
	} else {
		h.by[identity] = h.order.PushFront(&hotEntry{identity: identity, pid: pid})
	}
	over := h.order.Len() - limit
	for el := h.order.Back(); over > 0 && el != nil; el = el.Prev() {
		if e := el.Value.(*hotEntry); !e.asked {
			e.asked = true
			victims = append(victims, e.pid)
		}
		over--
	}
	h.mu.Unlock()
	if len(victims) == 0 {
		return
	}
	for _, pid := range victims {
		root.Send(pid, &evict{})
	}
}

// gone forgets a grain that stopped.
func (h *hotSet) gone(identity string, pid *actor.PID) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if el, ok := h.by[identity]; ok && el.Value.(*hotEntry).pid.Equal(pid) {
		h.order.Remove(el)
		delete(h.by, identity)
	}
}
