package dashboard_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
	"go.uber.org/goleak"

	"github.com/frontdesk-ai/frontdesk/dashboard"
	"github.com/frontdesk-ai/frontdesk/persistence"
	"github.com/frontdesk-ai/frontdesk/persistence/sqlstore"
	"github.com/frontdesk-ai/frontdesk/persistence/sqlstore/sqlstoretest"
)

// stream is a live event source the tests can append to: the in-memory fake
// or the real store.
type stream interface {
	dashboard.Source
	// appendEvents appends n events of tenant in one transaction.
	appendEvents(t testing.TB, tenant string, n int) []persistence.LiveEvent
}

// fakeSource keeps live streams in memory and speaks the store's contract:
// dense ids per tenant from 1, reads oldest first.
type fakeSource struct {
	mu     sync.Mutex
	events map[string][]persistence.LiveEvent
}

var (
	_ dashboard.Source = (*fakeSource)(nil)
	_ dashboard.Source = (*sqlstore.Store)(nil)
)

func newFakeSource() *fakeSource {
	return &fakeSource{events: make(map[string][]persistence.LiveEvent)}
}

func (f *fakeSource) appendEvents(t testing.TB, tenant string, n int) []persistence.LiveEvent {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []persistence.LiveEvent
	for range n {
		id := int64(len(f.events[tenant]) + 1)
		e := persistence.LiveEvent{ID: id, TenantID: tenant, Type: persistence.LiveMessageCreated,
			ConversationID: "conv-" + tenant, Data: json.RawMessage(fmt.Sprintf(`{"n":%d}`, id)),
			CreatedAt: time.Now().UTC().Truncate(time.Microsecond)}
		f.events[tenant] = append(f.events[tenant], e)
		out = append(out, e)
	}
	return out
}

func (f *fakeSource) LiveEventsAfter(ctx context.Context, tenant string, after int64, limit int) ([]persistence.LiveEvent, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if after < 0 || limit <= 0 {
		return nil, fmt.Errorf("after %d limit %d", after, limit)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	evs := f.events[tenant]
	if after >= int64(len(evs)) {
		return nil, nil
	}
	return append([]persistence.LiveEvent(nil), evs[after:min(int64(len(evs)), after+int64(limit))]...), nil
}

func (f *fakeSource) LatestLiveEventID(ctx context.Context, tenant string) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return int64(len(f.events[tenant])), nil
}

// storeSource appends through the real store, each call in its own
// transaction as a producer would.
type storeSource struct{ *sqlstore.Store }

func (s storeSource) appendEvents(t testing.TB, tenant string, n int) []persistence.LiveEvent {
	var out []persistence.LiveEvent
	err := s.InTx(context.Background(), func(tx *sqlstore.Tx) error {
		out = out[:0]
		for range n {
			e := persistence.LiveEvent{TenantID: tenant, Type: persistence.LiveMessageCreated,
				ConversationID: "conv-" + tenant, Data: json.RawMessage(`{"n":1}`)}
			if err := tx.AppendLiveEvent(context.Background(), &e); err != nil {
				return err
			}
			out = append(out, e)
		}
		return nil
	})
	if err != nil {
		t.Errorf("append live events: %v", err)
	}
	return out
}

// countingSource counts the reads of each tenant's stream and can fail the
// next reads, to observe the pollers.
type countingSource struct {
	stream
	mu    sync.Mutex
	reads map[string]int
	fail  atomic.Int32
}

func (c *countingSource) LiveEventsAfter(ctx context.Context, tenant string, after int64, limit int) ([]persistence.LiveEvent, error) {
	c.mu.Lock()
	c.reads[tenant]++
	c.mu.Unlock()
	if c.fail.Add(-1) >= 0 {
		return nil, errors.New("injected read failure")
	}
	return c.stream.LiveEventsAfter(ctx, tenant, after, limit)
}

func (c *countingSource) readsOf(tenant string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.reads[tenant]
}

// sources lists the implementations every hub test runs against.
var sources = []struct {
	name string
	open func(t *testing.T) stream
}{
	{"fake", func(*testing.T) stream { return newFakeSource() }},
	{"sqlite", func(t *testing.T) stream { return storeSource{sqlstoretest.Open(t, "sqlite")} }},
	{"postgres", func(t *testing.T) stream { return storeSource{sqlstoretest.Open(t, "postgres")} }},
}

// leakCheck verifies, after every other cleanup of t, that t left no
// goroutine behind.
func leakCheck(t *testing.T) {
	opt := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, opt) })
}

type runningHub struct {
	*dashboard.Hub
	reg  *prometheus.Registry
	stop func() error
}

// startHub runs a hub on src until stop is called or the test ends.
func startHub(t *testing.T, cfg dashboard.Config, src dashboard.Source) *runningHub {
	t.Helper()
	h := dashboard.New(cfg, src, zerolog.Nop())
	reg := prometheus.NewRegistry()
	if err := h.RegisterMetrics(reg); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.Run(ctx) }()
	var once sync.Once
	var err error
	stop := func() error {
		once.Do(func() { cancel(); err = <-done })
		return err
	}
	t.Cleanup(func() { _ = stop() })
	return &runningHub{Hub: h, reg: reg, stop: stop}
}

// metric returns the value of the hub's gauge or counter name.
func (h *runningHub) metric(t *testing.T, name string) float64 {
	t.Helper()
	mfs, err := h.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		m := mf.GetMetric()[0]
		if g := m.GetGauge(); g != nil {
			return g.GetValue()
		}
		return m.GetCounter().GetValue()
	}
	t.Fatalf("metric %s not registered", name)
	return 0
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// receive reads events from sub until it has one with id until, failing on
// anything but a contiguous run after first-1.
func receive(sub *dashboard.Subscription, until int64) ([]persistence.LiveEvent, error) {
	var got []persistence.LiveEvent
	timeout := time.NewTimer(20 * time.Second)
	defer timeout.Stop()
	for {
		select {
		case e := <-sub.Events():
			if n := len(got); n > 0 && e.ID != got[n-1].ID+1 {
				return got, fmt.Errorf("got id %d after %d", e.ID, got[n-1].ID)
			}
			got = append(got, e)
			if e.ID >= until {
				return got, nil
			}
		case <-sub.Done():
			return got, fmt.Errorf("subscription ended: %w", sub.Err())
		case <-timeout.C:
			return got, fmt.Errorf("timed out after %d events, waiting for id %d", len(got), until)
		}
	}
}

func waitDone(t *testing.T, sub *dashboard.Subscription) {
	t.Helper()
	select {
	case <-sub.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("subscription did not end")
	}
}

func expectNothing(t *testing.T, sub *dashboard.Subscription, wait time.Duration) {
	t.Helper()
	select {
	case e := <-sub.Events():
		t.Fatalf("unexpected event %+v", e)
	case <-time.After(wait):
	}
}

// TestHub holds the hub to its delivery contract on every source.
func TestHub(t *testing.T) {
	cases := []struct {
		name string
		run  func(t *testing.T, src stream)
	}{
		{"appends racing subscribes arrive exactly once in order", testHubRacingSubscribes},
		{"resume from last id misses none", testHubResume},
		{"slow subscriber dropped while a fast one receives everything", testHubSlowConsumer},
		{"tenant isolation", testHubTenantIsolation},
		{"one poller per tenant, stopped when the last subscriber leaves", testHubPollerLifecycle},
		{"poll failures are retried", testHubPollFailure},
		{"stop ends subscriptions", testHubStop},
	}
	for _, s := range sources {
		t.Run(s.name, func(t *testing.T) {
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) {
					leakCheck(t)
					c.run(t, s.open(t))
				})
			}
		})
	}
}

func testHubRacingSubscribes(t *testing.T, src stream) {
	const pre, appends, subscribers = 40, 300, 8
	h := startHub(t, dashboard.Config{PollInterval: 5 * time.Millisecond, SubscriberBuffer: 4 * (pre + appends), BackfillLimit: 7}, src)
	src.appendEvents(t, "t", pre)
	const final = pre + appends
	ctx := context.Background()

	var writer sync.WaitGroup
	writer.Go(func() {
		for i := range appends {
			src.appendEvents(t, "t", 1)
			h.Notify("t")
			if i%2 == 0 {
				time.Sleep(100 * time.Microsecond) // spread the appends over the subscribes
			}
		}
	})
	errs := make(chan error, subscribers)
	var readers sync.WaitGroup
	for i := range subscribers {
		time.Sleep(time.Duration(rand.IntN(3000)) * time.Microsecond)
		latest, err := src.LatestLiveEventID(ctx, "t")
		if err != nil {
			t.Fatal(err)
		}
		fromLatest := i%3 == 0
		last := rand.Int64N(latest + 1)
		sub, err := h.Subscribe(ctx, "t", last, fromLatest)
		if err != nil {
			t.Fatal(err)
		}
		after, err := src.LatestLiveEventID(ctx, "t")
		if err != nil {
			t.Fatal(err)
		}
		readers.Go(func() {
			defer sub.Close()
			got, err := receive(sub, final)
			switch {
			case err != nil:
				errs <- fmt.Errorf("subscriber %d (last %d, from latest %v): %w", i, last, fromLatest, err)
			case len(got) == 0:
				errs <- fmt.Errorf("subscriber %d: nothing received", i)
			case !fromLatest && got[0].ID != last+1:
				errs <- fmt.Errorf("subscriber %d resuming after %d: first id %d", i, last, got[0].ID)
			case fromLatest && (got[0].ID <= latest || got[0].ID > after+1):
				errs <- fmt.Errorf("subscriber %d from latest (%d..%d at subscribe): first id %d", i, latest, after, got[0].ID)
			}
		})
	}
	writer.Wait()
	readers.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := h.metric(t, "frontdesk_live_slow_consumers_total"); n != 0 {
		t.Errorf("%v subscribers dropped as slow", n)
	}
}

func testHubResume(t *testing.T, src stream) {
	h := startHub(t, dashboard.Config{PollInterval: 10 * time.Millisecond, BackfillLimit: 3}, src)
	ctx := context.Background()
	src.appendEvents(t, "t", 10)
	// A client saw up to 4, went away, and comes back.
	sub, err := h.Subscribe(ctx, "t", 4, false)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	got, err := receive(sub, 10)
	if err != nil || len(got) != 6 || got[0].ID != 5 {
		t.Fatalf("resume after 4: %d events from %v, %v; want 5..10", len(got), got, err)
	}
	src.appendEvents(t, "t", 2)
	h.Notify("t")
	if got, err := receive(sub, 12); err != nil || len(got) != 2 || got[0].ID != 11 {
		t.Fatalf("live after resume: %v, %v; want 11, 12", got, err)
	}
	// A client from before any event, and one that has seen everything.
	all, err := h.Subscribe(ctx, "t", 0, false)
	if err != nil {
		t.Fatal(err)
	}
	defer all.Close()
	if got, err := receive(all, 12); err != nil || len(got) != 12 || got[0].ID != 1 {
		t.Fatalf("resume after 0: %d events, %v; want 1..12", len(got), err)
	}
	upToDate, err := h.Subscribe(ctx, "t", 12, false)
	if err != nil {
		t.Fatal(err)
	}
	defer upToDate.Close()
	expectNothing(t, upToDate, 50*time.Millisecond)
	src.appendEvents(t, "t", 1)
	h.Notify("t")
	if got, err := receive(upToDate, 13); err != nil || len(got) != 1 {
		t.Fatalf("up-to-date subscriber: %v, %v; want 13", got, err)
	}
}

func testHubSlowConsumer(t *testing.T, src stream) {
	const buffer, total = 4, 30
	h := startHub(t, dashboard.Config{PollInterval: time.Hour, SubscriberBuffer: buffer}, src)
	ctx := context.Background()
	slow, err := h.Subscribe(ctx, "t", 0, true)
	if err != nil {
		t.Fatal(err)
	}
	fast, err := h.Subscribe(ctx, "t", 0, true)
	if err != nil {
		t.Fatal(err)
	}
	defer fast.Close()
	for i := int64(1); i <= total; i++ {
		src.appendEvents(t, "t", 1)
		h.Notify("t")
		got, err := receive(fast, i)
		if err != nil || len(got) != 1 || got[0].ID != i {
			t.Fatalf("fast subscriber at %d: %v, %v", i, got, err)
		}
	}
	select {
	case <-slow.Done():
	default:
		t.Fatal("slow subscriber still open")
	}
	if !errors.Is(slow.Err(), dashboard.ErrSlowConsumer) {
		t.Fatalf("slow subscriber ended with %v, want ErrSlowConsumer", slow.Err())
	}
	for i := int64(1); i <= buffer; i++ {
		select {
		case e := <-slow.Events():
			if e.ID != i {
				t.Fatalf("slow subscriber's buffer holds %d, want %d", e.ID, i)
			}
		default:
			t.Fatalf("slow subscriber's buffer holds %d events, want %d", i-1, buffer)
		}
	}
	if n := h.metric(t, "frontdesk_live_slow_consumers_total"); n != 1 {
		t.Fatalf("slow consumers metric = %v, want 1", n)
	}
	if n := h.metric(t, "frontdesk_live_subscribers"); n != 1 {
		t.Fatalf("subscribers = %v, want 1 (the fast one)", n)
	}
}

func testHubTenantIsolation(t *testing.T, src stream) {
	h := startHub(t, dashboard.Config{PollInterval: 5 * time.Millisecond}, src)
	ctx := context.Background()
	a, err := h.Subscribe(ctx, "a", 0, false)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := h.Subscribe(ctx, "b", 0, false)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	for range 5 {
		src.appendEvents(t, "a", 1)
		src.appendEvents(t, "b", 2)
	}
	h.Notify("a") // b's poller finds its events on its own
	for _, c := range []struct {
		tenant string
		sub    *dashboard.Subscription
		n      int64
	}{{"a", a, 5}, {"b", b, 10}} {
		got, err := receive(c.sub, c.n)
		if err != nil || int64(len(got)) != c.n {
			t.Fatalf("tenant %s: %d events, %v; want %d", c.tenant, len(got), err, c.n)
		}
		for _, e := range got {
			if e.TenantID != c.tenant || e.ConversationID != "conv-"+c.tenant {
				t.Fatalf("tenant %s received %+v", c.tenant, e)
			}
		}
	}
	expectNothing(t, a, 30*time.Millisecond)
}

func testHubPollerLifecycle(t *testing.T, src stream) {
	const interval = 5 * time.Millisecond
	cs := &countingSource{stream: src, reads: make(map[string]int)}
	h := startHub(t, dashboard.Config{PollInterval: interval}, cs)
	ctx := context.Background()
	var subs []*dashboard.Subscription
	for range 3 {
		s, err := h.Subscribe(ctx, "t", 0, true)
		if err != nil {
			t.Fatal(err)
		}
		subs = append(subs, s)
	}
	other, err := h.Subscribe(ctx, "u", 0, true)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	// One poller per tenant, not one per subscriber.
	eventually(t, "two pollers", func() bool { return h.metric(t, "frontdesk_live_pollers") == 2 })
	r0 := cs.readsOf("t")
	eventually(t, "t to be polled", func() bool { return cs.readsOf("t") > r0+2 })
	if n := h.metric(t, "frontdesk_live_pollers"); n != 2 {
		t.Fatalf("pollers = %v with 3 subscribers of t and 1 of u, want 2", n)
	}
	for _, s := range subs {
		s.Close()
	}
	eventually(t, "t's poller to stop", func() bool { return h.metric(t, "frontdesk_live_pollers") == 1 })
	r1 := cs.readsOf("t")
	time.Sleep(10 * interval)
	if r := cs.readsOf("t"); r != r1 {
		t.Fatalf("tenant t read %d times after its last subscriber left", r-r1)
	}
	ru := cs.readsOf("u")
	eventually(t, "u to be polled still", func() bool { return cs.readsOf("u") > ru+2 })
	// A new subscriber starts a new poller.
	s, err := h.Subscribe(ctx, "t", 0, true)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	src.appendEvents(t, "t", 1)
	if got, err := receive(s, 1); err != nil || len(got) != 1 {
		t.Fatalf("after restart: %v, %v", got, err)
	}
	if n := h.metric(t, "frontdesk_live_pollers"); n != 2 {
		t.Fatalf("pollers = %v, want 2", n)
	}
}

func testHubPollFailure(t *testing.T, src stream) {
	cs := &countingSource{stream: src, reads: make(map[string]int)}
	h := startHub(t, dashboard.Config{PollInterval: 5 * time.Millisecond}, cs)
	sub, err := h.Subscribe(context.Background(), "t", 0, true)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	cs.fail.Store(3)
	src.appendEvents(t, "t", 3)
	h.Notify("t")
	if got, err := receive(sub, 3); err != nil || len(got) != 3 {
		t.Fatalf("after failed polls: %v, %v", got, err)
	}
	if n := h.metric(t, "frontdesk_live_poll_errors_total"); n != 3 {
		t.Fatalf("poll errors = %v, want 3", n)
	}
}

func testHubStop(t *testing.T, src stream) {
	h := startHub(t, dashboard.Config{PollInterval: 5 * time.Millisecond, SubscriberBuffer: 2, BackfillLimit: 2}, src)
	src.appendEvents(t, "t", 10)
	live, err := h.Subscribe(context.Background(), "t", 0, true)
	if err != nil {
		t.Fatal(err)
	}
	// A backfill blocked on a full buffer must end too.
	blocked, err := h.Subscribe(context.Background(), "t", 0, false)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	byCtx, err := h.Subscribe(ctx, "t", 0, true)
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	waitDone(t, byCtx)
	if !errors.Is(byCtx.Err(), context.Canceled) {
		t.Fatalf("subscription of a cancelled context ended with %v", byCtx.Err())
	}
	if err := h.stop(); err != nil {
		t.Fatalf("Run returned %v", err)
	}
	for _, s := range []*dashboard.Subscription{live, blocked} {
		waitDone(t, s)
		if !errors.Is(s.Err(), dashboard.ErrHubClosed) {
			t.Fatalf("subscription ended with %v, want ErrHubClosed", s.Err())
		}
	}
	if _, err := h.Subscribe(context.Background(), "t", 0, true); !errors.Is(err, dashboard.ErrHubClosed) {
		t.Fatalf("subscribe after stop: %v, want ErrHubClosed", err)
	}
	if n := h.metric(t, "frontdesk_live_subscribers"); n != 0 {
		t.Fatalf("subscribers after stop = %v", n)
	}
}

// TestHubSubscribeBeforeRun serves subscriptions made before Run starts.
func TestHubSubscribeBeforeRun(t *testing.T) {
	leakCheck(t)
	src := newFakeSource()
	h := dashboard.New(dashboard.Config{PollInterval: 5 * time.Millisecond}, src, zerolog.Nop())
	src.appendEvents(t, "t", 2)
	resumed, err := h.Subscribe(context.Background(), "t", 0, false)
	if err != nil {
		t.Fatal(err)
	}
	defer resumed.Close()
	// Only a poller delivers to a subscriber that starts at the latest id.
	live, err := h.Subscribe(context.Background(), "t", 0, true)
	if err != nil {
		t.Fatal(err)
	}
	defer live.Close()
	src.appendEvents(t, "t", 1)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.Run(ctx) }()
	defer func() { cancel(); <-done }()
	if got, err := receive(resumed, 3); err != nil || len(got) != 3 {
		t.Fatalf("resumed: %v, %v; want 1..3", got, err)
	}
	if got, err := receive(live, 3); err != nil || len(got) != 1 {
		t.Fatalf("live: %v, %v; want 3", got, err)
	}
	if err := h.Run(ctx); err == nil {
		t.Fatal("second Run accepted")
	}
}

// TestHubConfigValidate reports impossible settings.
func TestHubConfigValidate(t *testing.T) {
	cases := []struct {
		name string
		cfg  dashboard.Config
		ok   bool
	}{
		{"zero takes defaults", dashboard.Config{}, true},
		{"negative interval", dashboard.Config{PollInterval: -1}, false},
		{"negative buffer", dashboard.Config{SubscriberBuffer: -1}, false},
		{"negative limit", dashboard.Config{BackfillLimit: -1}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if err := c.cfg.Validate(); (err == nil) != c.ok {
				t.Fatalf("Validate = %v, want ok=%v", err, c.ok)
			}
		})
	}
}
