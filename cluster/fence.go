package cluster

import (
	"context"
	"sync"
	"time"
)

// Self-fencing. protoactor-go lets a member that was cut off (paused,
// partitioned) keep serving grains that the others have re-activated
// (shared notes, defect 1). Versioned writes already make such a member's
// writes fail; the watchdog also stops it from taking work: a member started
// with peers that sees fewer than a quorum of members (itself included) for
// longer than FenceAfter is fenced until it sees a quorum again. Consumers
// ask Fenced before and while they take work.

// quorum is the number of members a member must see to serve.
func (m *Member) quorum() int {
	if len(m.cfg.Peers) <= 1 {
		return 1
	}
	return len(m.cfg.Peers)/2 + 1
}

// Fenced reports whether this member must not take work now.
func (m *Member) Fenced() bool { return m.fenced.Load() }

// Members returns how many members this member sees, itself included.
func (m *Member) Members() int { return m.cluster.MemberList.Length() }

// Watch runs the fencing watchdog until ctx ends, and reports lost peers
// to Config.PeerLost. A single member is never fenced.
func (m *Member) Watch(ctx context.Context) error {
	if m.quorum() <= 1 {
		return nil
	}
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	var lost sync.WaitGroup
	defer lost.Wait()
	var short time.Time // since when fewer than a quorum were seen
	for {
		seen := m.Members()
		switch {
		case seen >= m.quorum():
			short = time.Time{}
			if m.fenced.Swap(false) {
				m.log.Warn().Int("members", seen).Msg("quorum seen again: serving")
			}
		case short.IsZero():
			short = time.Now()
		case time.Since(short) > m.cfg.FenceAfter && !m.fenced.Load():
			m.fenced.Store(true)
			m.log.Error().Int("members", seen).Int("quorum", m.quorum()).Msg("cut off from the cluster: fenced, taking no work until a quorum is seen")
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		case p := <-m.calls.lost:
			if m.reports(p) {
				lost.Go(func() { m.peerLost(ctx, p.addr) })
			}
		}
	}
}

// reports reports whether a lost peer goes to Config.PeerLost: only a
// member that still sees a quorum without the peer speaks for the cluster;
// one cut off from the others must not evict them.
func (m *Member) reports(p peerLoss) bool {
	return m.cfg.PeerLost != nil && p.members >= m.quorum()
}

// peerLost hands a peer the membership dropped to Config.PeerLost.
func (m *Member) peerLost(ctx context.Context, addr string) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := m.cfg.PeerLost(ctx, addr); err != nil {
		m.log.Warn().Err(err).Str("peer", addr).Msg("lost peer not evicted from the consumer groups; its partitions move when its Kafka session times out")
	}
}
