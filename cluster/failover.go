package cluster

import (
	"slices"
	"sync"

	pcluster "github.com/asynkron/protoactor-go/cluster"
	"github.com/asynkron/protoactor-go/eventstream"
	"github.com/rs/zerolog"
)

// Fail-over of grain calls. After a member dies (kill -9, a crashed host),
// a request protoactor-go had already sent it is never answered and waits
// out its timeout. Measured in the kill test: every turn whose call to a
// customer grain on the dead member was in flight failed after the full
// AttemptTimeout (5 s, all of the actors' 5 s call budget) and was retried
// after a backoff, although the membership had dropped the dead member
// within about 1 s. inflight keeps each attempt with the address of the
// member it waits on and, when a topology drops that member, tells the
// attempt at once; Call then retries it, which finds the identity's new
// owner (protoactor's pid cache and disthash's placement have already
// dropped the member: they subscribe to the topology before inflight does,
// and the event stream calls subscribers in the order they subscribed).
//
// Lost peers also go to Member.Watch, which hands them to Config.PeerLost
// (serve: evict them from the Kafka consumer groups) when this member still
// sees a quorum.
//
// An abandoned attempt may still have reached its grain before the member
// died; retrying it is the same as retrying after AttemptTimeout, which
// every grain command already tolerates (checkpoints, unique ids,
// versioned writes).
//
// Lock order: inflight.mu only; nothing but map and channel work happens
// under it.

// peerLoss is a peer a topology dropped and how many members it kept.
type peerLoss struct {
	addr    string
	members int
}

// inflight tracks grain-call attempts by the member they wait on.
type inflight struct {
	log zerolog.Logger
	es  *eventstream.EventStream
	sub *eventstream.Subscription

	// lost carries the peers each topology dropped, with the number of
	// members left, to Member.Watch (sends never block: a full buffer
	// drops the news, and the group's session timeout stays the backstop).
	lost chan peerLoss

	mu      sync.Mutex
	seen    bool                 // a topology event has been applied
	members map[string]bool      // addresses of the current topology
	rdv     *pcluster.Rendezvous // owners by disthash's hash over members
	waiting map[string]map[chan string]struct{}
}

func newInflight(log zerolog.Logger) *inflight {
	return &inflight{
		log:     log,
		members: map[string]bool{},
		rdv:     pcluster.NewRendezvous(),
		waiting: map[string]map[chan string]struct{}{},
		lost:    make(chan peerLoss, 64),
	}
}

// watchTopology starts tracking c's topology. Call it after StartMember.
func watchTopology(c *pcluster.Cluster, log zerolog.Logger) *inflight {
	f := newInflight(log)
	f.es = c.ActorSystem.EventStream
	f.sub = f.es.Subscribe(func(evt any) {
		if t, ok := evt.(*pcluster.ClusterTopology); ok {
			f.update(t.Members, t.Left, t.Joined, true)
		}
	})
	// The topology StartMember already published: unless an event came
	// since, start from the member list it left.
	f.update(c.MemberList.Members().Members(), nil, nil, false)
	return f
}

// update applies a topology and abandons the attempts waiting on members
// that left. event is false for the snapshot taken at start, which must not
// override an event applied meanwhile.
func (f *inflight) update(members, left, joined []*pcluster.Member, event bool) {
	f.mu.Lock()
	if !event && f.seen {
		f.mu.Unlock()
		return
	}
	f.seen = f.seen || event
	f.members = make(map[string]bool, len(members))
	for _, m := range members {
		f.members[m.Address()] = true
	}
	f.rdv = pcluster.NewRendezvous()
	f.rdv.UpdateMembers(members)
	abandoned := 0
	var gone []string
	for _, m := range left {
		addr := m.Address()
		if f.members[addr] {
			continue // restarted at the same address: back, not lost
		}
		gone = append(gone, addr)
		for w := range f.waiting[addr] {
			w <- addr // buffered: each waiter is told once
			abandoned++
		}
		delete(f.waiting, addr)
	}
	f.mu.Unlock()
	for _, addr := range gone {
		select {
		case f.lost <- peerLoss{addr: addr, members: len(members)}:
		default:
		}
	}
	if event && (len(left) > 0 || len(joined) > 0) {
		f.log.Info().Int("members", len(members)).Strs("left", addresses(left)).Strs("joined", addresses(joined)).
			Int("calls_abandoned", abandoned).Msg("cluster membership changed")
	}
}

func addresses(ms []*pcluster.Member) []string {
	out := make([]string, 0, len(ms))
	for _, m := range ms {
		out = append(out, m.Address())
	}
	slices.Sort(out)
	return out
}

// track registers an attempt to call kind/identity. lost receives the
// address of the member the attempt waits on if that member leaves before
// untrack is called; it never fires when no member is known for the
// identity.
func (f *inflight) track(cache *pcluster.PidCacheValue, kind, identity string) (lost <-chan string, untrack func()) {
	pid, _ := cache.Get(identity, kind)
	f.mu.Lock()
	addr, stale := "", false
	if pid != nil {
		addr = pid.Address
		// Cached on a member that already left: protoactor drops it on
		// the same event; this closes the gap before it does.
		stale = len(f.members) > 0 && !f.members[addr]
	}
	if addr == "" || stale {
		addr = f.rdv.GetByClusterIdentity(pcluster.NewClusterIdentity(identity, kind))
	}
	var w chan string
	if addr != "" {
		w = make(chan string, 1)
		if f.waiting[addr] == nil {
			f.waiting[addr] = map[chan string]struct{}{}
		}
		f.waiting[addr][w] = struct{}{}
	}
	f.mu.Unlock()
	if stale {
		cache.RemoveByValue(identity, kind, pid)
	}
	if w == nil {
		return nil, func() {}
	}
	return w, func() {
		f.mu.Lock()
		if ws := f.waiting[addr]; ws != nil {
			delete(ws, w)
			if len(ws) == 0 {
				delete(f.waiting, addr)
			}
		}
		f.mu.Unlock()
	}
}

// stop stops following the topology.
func (f *inflight) stop() {
	if f.es != nil {
		f.es.Unsubscribe(f.sub)
	}
}
