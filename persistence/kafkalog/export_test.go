package kafkalog

import "github.com/frontdesk-ai/frontdesk/persistence"

// Crash stops sub's client the way a killed process does: no leave group,
// no commit; the group keeps the member until its session times out or a
// peer evicts it.
func Crash(sub persistence.Subscription) {
	s := sub.(*subscription)
	s.closeOnce.Do(func() {
		s.cancel()
		s.pollMu.Lock()
		s.cl.AllowRebalance()
		s.cl.Close()
		s.pollMu.Unlock()
		s.l.mu.Lock()
		delete(s.l.subs, s)
		s.l.mu.Unlock()
	})
}
