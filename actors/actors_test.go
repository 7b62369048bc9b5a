package actors

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/rs/zerolog"

	"github.com/frontdesk-ai/frontdesk/actors/grainpb"
	"github.com/frontdesk-ai/frontdesk/cluster"
	"github.com/frontdesk-ai/frontdesk/events"
	"github.com/frontdesk-ai/frontdesk/llmrouter"
	"github.com/frontdesk-ai/frontdesk/persistence"
	"github.com/frontdesk-ai/frontdesk/persistence/sqlstore"
	"github.com/frontdesk-ai/frontdesk/tools"
)

// One cluster member per test binary: protoactor-go has process-wide state
// that races when several members start in one process (shared notes).
var (
	env    *harness
	member *cluster.Member
	model  *switchModel
)

// switchModel answers with the offline responder unless a test installs its
// own answer function for a tenant.
type switchModel struct {
	def Completer
	mu  sync.Mutex
	by  map[string]func(context.Context, llmrouter.Request) (llmrouter.Response, error)
}

func (m *switchModel) set(tenant string, f func(context.Context, llmrouter.Request) (llmrouter.Response, error)) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.by == nil {
		m.by = map[string]func(context.Context, llmrouter.Request) (llmrouter.Response, error){}
	}
	m.by[tenant] = f
}

func (m *switchModel) Complete(ctx context.Context, req llmrouter.Request) (llmrouter.Response, error) {
	m.mu.Lock()
	f := m.by[req.TenantID]
	m.mu.Unlock()
	if f == nil {
		return m.def.Complete(ctx, req)
	}
	return f(ctx, req)
}

// harness is the member's runtime and the store it runs on. Grain kinds are
// bound to one runtime, so every test shares it and uses its own threads.
type harness struct {
	store *sqlstore.Store
	rt    *Runtime
}

func TestMain(m *testing.M) { os.Exit(runWithMember(m)) }

func runWithMember(m *testing.M) int {
	dir, err := os.MkdirTemp("", "actors-test")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	ctx := context.Background()
	store, err := sqlstore.Open(ctx, sqlstore.Config{DataDir: dir})
	if err != nil {
		panic(err)
	}
	defer store.Close()
	if _, err := store.Migrate(ctx); err != nil {
		panic(err)
	}
	log := zerolog.Nop()
	// Tests watch grains passivate; benchmarks keep them active.
	idle := 300 * time.Millisecond
	flag.Parse()
	if f := flag.Lookup("test.bench"); f != nil && f.Value.String() != "" {
		idle = 10 * time.Minute
	}
	reg, err := tools.New(sqlstore.For[tools.Tx](store))
	if err != nil {
		panic(err)
	}
	offline := llmrouter.NewOffline()
	model = &switchModel{def: offline}
	rt, err := New(Config{IdleTimeout: idle, SummaryEvery: 3}, Deps{Store: store, Model: model, Offline: offline, Tools: reg, Outbox: store.Log()}, log, prometheus.NewRegistry())
	if err != nil {
		panic(err)
	}
	member, err = cluster.Start(cluster.Config{AttemptTimeout: 2 * time.Second}, log, rt.Kinds()...)
	if err != nil {
		panic(err)
	}
	rt.SetCaller(member)
	env = &harness{store: store, rt: rt}
	// The member is not stopped: protoactor-go's Shutdown races with its
	// own placement actor (shared notes, defect 4) and -race would report
	// it; the process ends here anyway.
	return m.Run()
}

// newTenant creates a tenant for one test.
func newTenant(t *testing.T) string {
	t.Helper()
	tn := &persistence.Tenant{Name: t.Name(), Slug: fmt.Sprintf("t-%d", time.Now().UnixNano())}
	if err := env.store.CreateTenant(context.Background(), tn); err != nil {
		t.Fatal(err)
	}
	return tn.ID
}

// received appends a message.received event for thread user of tenant and
// returns the appended record. The wamid is made unique per tenant so tests
// can run again (-count) on the same store.
func received(t *testing.T, tenant, user, wamid, text string) persistence.Record {
	t.Helper()
	wamid = tenant + ":" + wamid
	return appendEvent(t, tenant, user, events.TypeMessageReceived, 1, events.MessageReceived{
		Channel: "whatsapp", ChannelAccount: "1555", ExternalUserID: user, ProfileName: "Ada " + user,
		ChannelMessageID: wamid, Kind: "text", Text: text, SentAt: time.Now().UTC(),
	})
}

func appendEvent(t *testing.T, tenant, user, typ string, version int, payload any) persistence.Record {
	t.Helper()
	env1, err := events.New(typ, version, tenant, events.ThreadKey(tenant, "whatsapp", user), time.Now(), payload)
	if err != nil {
		t.Fatal(err)
	}
	rec, err := env1.Record(persistence.TopicInbound)
	if err != nil {
		t.Fatal(err)
	}
	out, err := env.store.Log().Append(context.Background(), rec)
	if err != nil {
		t.Fatal(err)
	}
	return out[0]
}

func deliver(t *testing.T, rec persistence.Record) *grainpb.DeliverAck {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	res, err := member.Call(ctx, KindConversation, rec.Key, &grainpb.Deliver{Topic: rec.Topic, Partition: rec.Partition, Offset: rec.Offset, Envelope: rec.Value})
	if err != nil {
		t.Fatalf("deliver offset %d: %v", rec.Offset, err)
	}
	return res.(*grainpb.DeliverAck)
}

// messages returns the inbound messages of the thread's open conversation.
func messages(t *testing.T, tenant, identity string) []persistence.Message {
	t.Helper()
	ctx := context.Background()
	conv, err := env.store.GetOpenConversation(ctx, tenant, identity)
	if errors.Is(err, persistence.ErrNotFound) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	all, _, err := env.store.ListMessages(ctx, tenant, conv.ID, persistence.Page{Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	var msgs []persistence.Message
	for _, m := range all {
		if m.Direction == persistence.DirectionInbound {
			msgs = append(msgs, m)
		}
	}
	return msgs
}

func checkpointState(t *testing.T, identity string) (persistence.Checkpoint, threadState) {
	t.Helper()
	cp, err := env.store.GetCheckpoint(context.Background(), KindConversation, identity)
	if err != nil {
		t.Fatal(err)
	}
	var st threadState
	if err := json.Unmarshal(cp.State, &st); err != nil {
		t.Fatal(err)
	}
	return cp, st
}

// eventually polls cond until it holds or the deadline passes. It waits for
// asynchronous effects; it asserts nothing about speed.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestDuplicateDeliveryAppliedOnce(t *testing.T) {
	tenant := newTenant(t)
	rec := received(t, tenant, "4915550001", "wamid.dup1", "hello")
	first := deliver(t, rec)
	second := deliver(t, rec)
	if !first.Applied || first.Duplicate {
		t.Fatalf("first delivery: %+v, want applied", first)
	}
	if !second.Duplicate || second.Applied {
		t.Fatalf("second delivery: %+v, want duplicate", second)
	}
	// The channel sending the same message again (new log record, same wamid).
	again := received(t, tenant, "4915550001", "wamid.dup1", "hello")
	if ack := deliver(t, again); !ack.Duplicate {
		t.Fatalf("redelivered wamid: %+v, want duplicate", ack)
	}
	msgs := messages(t, tenant, rec.Key)
	if len(msgs) != 1 || msgs[0].Text != "hello" || msgs[0].ChannelMessageID != tenant+":wamid.dup1" || msgs[0].Direction != persistence.DirectionInbound {
		t.Fatalf("messages = %+v, want the one inbound hello", msgs)
	}
	cp, st := checkpointState(t, rec.Key)
	if st.MessagesApplied != 1 || cp.Offset != again.Offset {
		t.Fatalf("checkpoint offset %d applied %d, want offset %d applied 1", cp.Offset, st.MessagesApplied, again.Offset)
	}
	// Identity resolution made one customer with the WhatsApp identity and
	// the customer grain recorded the activity.
	ident, err := env.store.GetCustomerIdentity(context.Background(), tenant, "whatsapp", "4915550001")
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "customer last seen", func() bool {
		c, err := env.store.GetCustomer(context.Background(), tenant, ident.CustomerID)
		return err == nil && c.LastSeenAt != nil && c.Name == "Ada 4915550001" && c.Phone == "+4915550001"
	})
}

func TestPassivationAndReactivationKeepState(t *testing.T) {
	tenant := newTenant(t)
	active := env.rt.metrics.activeGrains.WithLabelValues(KindConversation)
	activations := env.rt.metrics.activations.WithLabelValues(KindConversation)
	r1 := received(t, tenant, "4915550002", "wamid.p1", "first")
	before := testutil.ToFloat64(activations)
	if ack := deliver(t, r1); !ack.Applied {
		t.Fatalf("deliver: %+v", ack)
	}
	if got := testutil.ToFloat64(activations) - before; got != 1 {
		t.Fatalf("activations = %v, want 1", got)
	}
	_, st1 := checkpointState(t, r1.Key)
	eventually(t, "passivation after the idle timeout", func() bool { return testutil.ToFloat64(active) == 0 })

	r2 := received(t, tenant, "4915550002", "wamid.p2", "second")
	if ack := deliver(t, r2); !ack.Applied {
		t.Fatalf("deliver after passivation: %+v", ack)
	}
	if got := testutil.ToFloat64(activations) - before; got != 2 {
		t.Fatalf("activations = %v, want 2 (re-activated)", got)
	}
	// A record from before passivation is still known as applied.
	if ack := deliver(t, r1); !ack.Duplicate {
		t.Fatalf("old record after re-activation: %+v, want duplicate", ack)
	}
	_, st2 := checkpointState(t, r2.Key)
	if st2.ConversationID != st1.ConversationID || st2.CustomerID != st1.CustomerID || st2.MessagesApplied != 2 {
		t.Fatalf("state after re-activation = %+v, want same conversation and customer, 2 messages (before: %+v)", st2, st1)
	}
	var inbound []string
	for _, m := range st2.Recent {
		if m.Direction == "inbound" {
			inbound = append(inbound, m.Text)
		}
	}
	if len(inbound) != 2 || inbound[0] != "first" || inbound[1] != "second" {
		t.Fatalf("hot context = %+v, want first, second", st2.Recent)
	}
}

func TestStaleActivationWriteRejected(t *testing.T) {
	tenant := newTenant(t)
	ctx := context.Background()
	r1 := received(t, tenant, "4915550003", "wamid.s1", "one")
	r2 := received(t, tenant, "4915550003", "wamid.s2", "two")
	// Two activations of one grain (a cluster split) load the same state.
	a, err := loadThread(ctx, env.store, r1.Key)
	if err != nil {
		t.Fatal(err)
	}
	b, err := loadThread(ctx, env.store, r1.Key)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.apply(ctx, env.rt, r1); err != nil {
		t.Fatalf("first activation: %v", err)
	}
	_, err = b.apply(ctx, env.rt, r2)
	if !errors.Is(err, persistence.ErrVersionConflict) {
		t.Fatalf("stale activation write: err = %v, want ErrVersionConflict", err)
	}
	if msgs := messages(t, tenant, r1.Key); len(msgs) != 1 || msgs[0].Text != "one" {
		t.Fatalf("messages after rejected write = %+v, want only the first activation's", msgs)
	}
	// The stale activation reloads and then applies on top of the winner.
	b, err = loadThread(ctx, env.store, r1.Key)
	if err != nil {
		t.Fatal(err)
	}
	if res, err := b.apply(ctx, env.rt, r1); err != nil || !res.duplicate {
		t.Fatalf("reloaded activation re-applying r1: %+v %v, want duplicate", res, err)
	}
	if _, err := b.apply(ctx, env.rt, r2); err != nil {
		t.Fatalf("reloaded activation: %v", err)
	}
	if msgs := messages(t, tenant, r1.Key); len(msgs) != 2 {
		t.Fatalf("messages = %d, want 2", len(msgs))
	}
}

func TestUnknownEventVersionIsPermanent(t *testing.T) {
	tenant := newTenant(t)
	rec := appendEvent(t, tenant, "4915550004", events.TypeMessageReceived, 99, map[string]string{"text": "from the future"})
	ack := deliver(t, rec)
	if ack.Applied || !ack.Permanent || ack.Error == "" {
		t.Fatalf("ack = %+v, want a permanent error", ack)
	}
	if msgs := messages(t, tenant, rec.Key); len(msgs) != 0 {
		t.Fatalf("messages = %+v, want none", msgs)
	}
}
