package actors

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

// Past the hot budget the least recently used conversation grain passivates
// (its next message activates it again), and the recently used ones stay.
func TestHotBudgetPassivatesTheLeastRecentlyUsed(t *testing.T) {
	env.rt.hot.max.Store(2)
	t.Cleanup(func() { env.rt.hot.max.Store(0) })
	tenant := newTenant(t)
	activations := env.rt.metrics.activations.WithLabelValues(KindConversation)
	users := []string{"4915551001", "4915551002", "4915551003"}
	keys := make([]string, len(users))
	for i, u := range users {
		r := received(t, tenant, u, "wamid.hot"+u, "hello")
		keys[i] = r.Key
		if ack := deliver(t, r); !ack.Applied {
			t.Fatalf("deliver %s: %+v", u, ack)
		}
	}
	eventually(t, "the least recently used grain passivated", func() bool { return !env.rt.hot.has(keys[0]) })
	if !env.rt.hot.has(keys[1]) || !env.rt.hot.has(keys[2]) {
		t.Fatal("a recently used grain passivated")
	}
	before := testutil.ToFloat64(activations)
	if ack := deliver(t, received(t, tenant, users[2], "wamid.hot2b", "again")); !ack.Applied {
		t.Fatalf("deliver: %+v", ack)
	}
	if got := testutil.ToFloat64(activations) - before; got != 0 {
		t.Fatalf("a hot grain was activated again (%v activations)", got)
	}
	if ack := deliver(t, received(t, tenant, users[0], "wamid.hot0b", "back")); !ack.Applied {
		t.Fatalf("deliver after passivation: %+v", ack)
	}
	if got := testutil.ToFloat64(activations) - before; got != 1 {
		t.Fatalf("activations = %v, want 1: the passivated grain comes back", got)
	}
	_, st := checkpointState(t, keys[0])
	if st.MessagesApplied != 2 {
		t.Fatalf("state after re-activation: %d messages applied, want 2", st.MessagesApplied)
	}
}

// has reports whether the grain identity is tracked as active.
func (h *hotSet) has(identity string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	_, ok := h.by[identity]
	return ok
}
