package cluster

import (
	"context"
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

// Watch runs the fencing watchdog until ctx ends. A single member is never
// fenced.
func (m *Member) Watch(ctx context.Context) error {
	if m.quorum() <= 1 {
		return nil
	}
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
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
		}
	}
}
