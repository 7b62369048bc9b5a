package cluster

import (
	"context"
	"fmt"
	"testing"

	"github.com/asynkron/protoactor-go/actor"
	pcluster "github.com/asynkron/protoactor-go/cluster"
	"github.com/rs/zerolog"
)

func members(addrs ...string) []*pcluster.Member {
	var ms []*pcluster.Member
	for _, a := range addrs {
		host, port, err := splitHostPort(a)
		if err != nil {
			panic(err)
		}
		ms = append(ms, &pcluster.Member{Id: "id-" + a, Host: host, Port: int32(port), Kinds: []string{"conversation"}})
	}
	return ms
}

// ownedBy returns an identity the rendezvous hash of f places on addr.
func ownedBy(t *testing.T, f *inflight, addr string) string {
	t.Helper()
	for i := range 1000 {
		id := fmt.Sprintf("conv-%d", i)
		if f.rdv.GetByClusterIdentity(pcluster.NewClusterIdentity(id, "conversation")) == addr {
			return id
		}
	}
	t.Fatalf("no identity placed on %s", addr)
	return ""
}

// TestAttemptsOnALostMemberAreAbandoned: when a topology drops a member,
// the attempts waiting on it (by placement, or by a cached activation) are
// told at once, and no others; the loss is passed on with the members left.
func TestAttemptsOnALostMemberAreAbandoned(t *testing.T) {
	const a, b, c = "10.0.0.1:7001", "10.0.0.2:7001", "10.0.0.3:7001"
	f := newInflight(zerolog.Nop())
	f.update(members(a, b, c), nil, members(a, b, c), true)
	cache := pcluster.NewPidCache()

	onC, onA := ownedBy(t, f, c), ownedBy(t, f, a)
	lostC, untrackC := f.track(cache, "conversation", onC)
	defer untrackC()
	lostA, untrackA := f.track(cache, "conversation", onA)
	defer untrackA()
	// An activation cached on c although placement says a (activated
	// under an older topology).
	cache.Set(onA, "conversation", actor.NewPID(c, "partition-activator/"+onA))
	lostCached, untrackCached := f.track(cache, "conversation", onA)
	defer untrackCached()
	// An attempt that ended before the loss is not told.
	lostDone, untrackDone := f.track(cache, "conversation", onC)
	untrackDone()

	f.update(members(a, b), members(c), nil, true)
	for name, ch := range map[string]<-chan string{"placed on c": lostC, "cached on c": lostCached} {
		select {
		case got := <-ch:
			if got != c {
				t.Errorf("%s: told %q left, want %q", name, got, c)
			}
		default:
			t.Errorf("%s: not abandoned when c left", name)
		}
	}
	for name, ch := range map[string]<-chan string{"placed on a": lostA, "ended before": lostDone} {
		select {
		case got := <-ch:
			t.Errorf("%s: told %q left", name, got)
		default:
		}
	}
	select {
	case p := <-f.lost:
		if p != (peerLoss{addr: c, members: 2}) {
			t.Errorf("loss passed on as %+v, want c with 2 members left", p)
		}
	default:
		t.Error("loss of c not passed on")
	}

	t.Run("a stale cached activation is dropped and the attempt waits on the new owner", func(t *testing.T) {
		cache.Set(onC, "conversation", actor.NewPID(c, "partition-activator/"+onC))
		lost, untrack := f.track(cache, "conversation", onC)
		defer untrack()
		if pid, ok := cache.Get(onC, "conversation"); ok {
			t.Errorf("activation %v on a member that left still cached", pid)
		}
		owner := f.rdv.GetByClusterIdentity(pcluster.NewClusterIdentity(onC, "conversation"))
		f.update(members(a, b, c), nil, members(c), true) // c back: nobody left
		f.update(members(a, b), members(c), nil, true)    // c gone again: not what this attempt waits on
		select {
		case got := <-lost:
			t.Errorf("attempt waiting on %s told %q left", owner, got)
		default:
		}
		other := a
		if owner == a {
			other = b
		}
		f.update(members(other), members(owner), nil, true)
		select {
		case got := <-lost:
			if got != owner {
				t.Errorf("told %q left, want %q", got, owner)
			}
		default:
			t.Errorf("not abandoned when its new owner %s left", owner)
		}
	})
}

func TestOnlyAMemberWithAQuorumReportsLostPeers(t *testing.T) {
	peers := []string{"10.0.0.1:7001", "10.0.0.2:7001", "10.0.0.3:7001"}
	evict := func(context.Context, string) error { return nil }
	for _, tc := range []struct {
		name     string
		cfg      Config
		loss     peerLoss
		reported bool
	}{
		{"two of three left", Config{Peers: peers, PeerLost: evict}, peerLoss{addr: peers[2], members: 2}, true},
		{"cut off: one of three left", Config{Peers: peers, PeerLost: evict}, peerLoss{addr: peers[2], members: 1}, false},
		{"nobody to tell", Config{Peers: peers}, peerLoss{addr: peers[2], members: 2}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := &Member{cfg: tc.cfg}
			if got := m.reports(tc.loss); got != tc.reported {
				t.Fatalf("reports(%+v) = %v, want %v", tc.loss, got, tc.reported)
			}
		})
	}
}
