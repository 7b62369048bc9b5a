package actors

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/rs/zerolog"

	"github.com/frontdesk-ai/frontdesk/actors/grainpb"
	"github.com/frontdesk-ai/frontdesk/clock/clocktest"
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
	kb     *fakeKnowledge
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
// bound to one runtime, so every test shares it and uses its own threads
// (and tenants: reads counts the grains' store reads per tenant). The
// runtime runs on a fake clock that tests advance.
type harness struct {
	store   *sqlstore.Store
	rt      *Runtime
	clock   *clocktest.Fake
	reads   *readCounter
	actions *fakeActions
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
	store.SetTxLog(store.Log())
	reg, err := tools.New(sqlstore.For[tools.Tx](store))
	if err != nil {
		panic(err)
	}
	offline := llmrouter.NewOffline()
	model = &switchModel{def: offline}
	fake := clocktest.New(time.Now())
	reads := &readCounter{Store: sqlstore.For[Tx](store), n: map[string]int{}}
	actions := &fakeActions{done: map[string]int{}}
	kb = &fakeKnowledge{by: map[string]func(query string) tools.KnowledgeFound{}}
	reg.SetKnowledge(kb)
	rt, err := New(Config{IdleTimeout: 5 * time.Minute, SummaryEvery: 3, Clock: fake},
		Deps{Store: reads, Model: model, Offline: offline, Tools: reg, Actions: map[string]ActionFunc{"fake_refund": actions.run, tools.RefundOrder: actions.run},
			Buttons: func(channel string) bool { return channel != "sms" }, Knowledge: kb}, log, prometheus.NewRegistry())
	if err != nil {
		panic(err)
	}
	reg.SetProposer(rt, tools.RefundOrder)
	reg.SetScheduler(rt)
	// A long attempt: on a busy machine a first attempt that times out
	// after it applied is retried and answered "duplicate", which the
	// tests that count applications would read as a failure.
	member, err = cluster.Start(cluster.Config{AttemptTimeout: 10 * time.Second}, log, rt.Kinds()...)
	if err != nil {
		panic(err)
	}
	rt.SetCaller(member)
	env = &harness{store: store, rt: rt, clock: fake, reads: reads, actions: actions}
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
		Channel: "whatsapp", ChannelAccount: "1555", ExternalUserID: user, ProfileName: "Ada " + user, Phone: "+" + user,
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
	env.clock.Advance(4 * time.Minute)
	time.Sleep(50 * time.Millisecond)
	if testutil.ToFloat64(active) == 0 {
		t.Fatal("grains passivated before the idle timeout")
	}
	eventually(t, "passivation after the idle timeout", func() bool {
		env.clock.Advance(time.Minute)
		return testutil.ToFloat64(active) == 0
	})

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
	a, err := loadThread(ctx, env.rt, r1.Key)
	if err != nil {
		t.Fatal(err)
	}
	b, err := loadThread(ctx, env.rt, r1.Key)
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
	b, err = loadThread(ctx, env.rt, r1.Key)
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

// readCounter counts the grains' store reads (outside transactions) per
// tenant, to prove that a warm turn builds its context from memory.
type readCounter struct {
	Store
	mu sync.Mutex
	n  map[string]int
	// summary counts, apart, the reads only a memory summary makes (the
	// customer's conversations and their messages).
	summary map[string]int
	// failSends makes the appends of message.send records of these thread
	// keys fail: a turn whose commit keeps failing.
	failSends map[string]bool
}

// InTx runs fn with a transaction whose log appends fail for failSends.
func (r *readCounter) InTx(ctx context.Context, fn func(tx Tx) error) error {
	return r.Store.InTx(ctx, func(tx Tx) error { return fn(failingTx{Tx: tx, r: r}) })
}

func (r *readCounter) failSendsOf(key string, fail bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.failSends == nil {
		r.failSends = map[string]bool{}
	}
	r.failSends[key] = fail
}

type failingTx struct {
	Tx
	r *readCounter
}

func (f failingTx) AppendLog(ctx context.Context, recs ...persistence.Record) ([]persistence.Record, error) {
	f.r.mu.Lock()
	defer f.r.mu.Unlock()
	for _, rec := range recs {
		if f.r.failSends[rec.Key] && strings.Contains(string(rec.Value), `"message.send"`) {
			return nil, errors.New("injected: the log refuses this append")
		}
	}
	return f.Tx.AppendLog(ctx, recs...)
}

func (r *readCounter) count(tenantID string) {
	r.mu.Lock()
	r.n[tenantID]++
	r.mu.Unlock()
}

func (r *readCounter) of(tenantID string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.n[tenantID]
}

func (r *readCounter) countSummary(tenantID string) {
	r.mu.Lock()
	if r.summary == nil {
		r.summary = map[string]int{}
	}
	r.summary[tenantID]++
	r.mu.Unlock()
}

func (r *readCounter) summaryOf(tenantID string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.summary[tenantID]
}

func (r *readCounter) GetCheckpoint(ctx context.Context, kind, identity string) (persistence.Checkpoint, error) {
	tenant, _, _ := strings.Cut(identity, "/")
	r.count(tenant)
	return r.Store.GetCheckpoint(ctx, kind, identity)
}

func (r *readCounter) GetTenant(ctx context.Context, id string) (persistence.Tenant, error) {
	r.count(id)
	return r.Store.GetTenant(ctx, id)
}

func (r *readCounter) GetCustomer(ctx context.Context, tenantID, id string) (persistence.Customer, error) {
	r.count(tenantID)
	return r.Store.GetCustomer(ctx, tenantID, id)
}

func (r *readCounter) GetConversation(ctx context.Context, tenantID, id string) (persistence.Conversation, error) {
	r.count(tenantID)
	return r.Store.GetConversation(ctx, tenantID, id)
}

func (r *readCounter) ListAgentProfiles(ctx context.Context, tenantID string, p persistence.Page) ([]persistence.AgentProfile, string, error) {
	r.count(tenantID)
	return r.Store.ListAgentProfiles(ctx, tenantID, p)
}

func (r *readCounter) GetPromptVersionByNumber(ctx context.Context, tenantID, agentProfileID string, number int) (persistence.PromptVersion, error) {
	r.count(tenantID)
	return r.Store.GetPromptVersionByNumber(ctx, tenantID, agentProfileID, number)
}

func (r *readCounter) GetUserMemorySummary(ctx context.Context, tenantID, customerID string) (persistence.UserMemorySummary, error) {
	r.count(tenantID)
	return r.Store.GetUserMemorySummary(ctx, tenantID, customerID)
}

func (r *readCounter) ListOpenTickets(ctx context.Context, tenantID, customerID string, limit int) ([]persistence.Ticket, error) {
	r.count(tenantID)
	return r.Store.ListOpenTickets(ctx, tenantID, customerID, limit)
}

func (r *readCounter) ListOrdersByCustomer(ctx context.Context, tenantID, customerID string, limit int) ([]persistence.Order, error) {
	r.count(tenantID)
	return r.Store.ListOrdersByCustomer(ctx, tenantID, customerID, limit)
}

func (r *readCounter) RecentMessages(ctx context.Context, tenantID, conversationID string, n int) ([]persistence.Message, error) {
	r.count(tenantID)
	r.countSummary(tenantID)
	return r.Store.RecentMessages(ctx, tenantID, conversationID, n)
}

func (r *readCounter) ListConversationsByCustomer(ctx context.Context, tenantID, customerID string, limit int) ([]persistence.Conversation, error) {
	r.count(tenantID)
	r.countSummary(tenantID)
	return r.Store.ListConversationsByCustomer(ctx, tenantID, customerID, limit)
}

func (r *readCounter) ListConfirmationsByCustomer(ctx context.Context, tenantID, customerID string, states ...persistence.ConfirmationState) ([]persistence.Confirmation, error) {
	r.count(tenantID)
	return r.Store.ListConfirmationsByCustomer(ctx, tenantID, customerID, states...)
}

// fakeActions is an executor of confirmed actions that counts effects per
// idempotency key (the confirmation id), as a payment provider would.
type fakeActions struct {
	mu    sync.Mutex
	done  map[string]int
	calls int
	// failing makes the executions of these confirmations fail this many
	// more times (the provider is down).
	failing map[string]int
}

func (f *fakeActions) failNext(id string, n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.failing == nil {
		f.failing = map[string]int{}
	}
	f.failing[id] = n
}

func (f *fakeActions) run(_ context.Context, c persistence.Confirmation) (json.RawMessage, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if f.failing[c.ID] > 0 {
		f.failing[c.ID]--
		return nil, errors.New("payment provider unavailable")
	}
	f.done[c.ID]++
	return json.RawMessage(fmt.Sprintf(`{"refund_id":"re_%s"}`, c.ID[:8])), nil
}

func (f *fakeActions) effects(id string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.done[id]
}

// A new channel identity whose verified phone a customer of the tenant
// already has (a shop's customer) joins that customer, audited; the grain
// then serves that customer's orders. A phone nobody has makes a new one.
func TestFirstContactJoinsTheCustomerWithItsPhone(t *testing.T) {
	tenant := newTenant(t)
	ctx := context.Background()
	shopper := &persistence.Customer{Base: persistence.Base{TenantID: tenant}, Name: "Grace Hopper", Phone: "+4915550077", Email: "grace@example.com"}
	if err := env.store.CreateCustomer(ctx, shopper); err != nil {
		t.Fatal(err)
	}
	placed := time.Now().UTC().Add(-time.Hour)
	o := &persistence.Order{Base: persistence.Base{TenantID: tenant}, CustomerID: shopper.ID, Source: "shopify", ExternalID: "9", Number: "1009",
		Status: "open", FinancialStatus: "paid", TotalMinor: 1200, Currency: "EUR", PlacedAt: &placed}
	if err := env.store.CreateOrder(ctx, o); err != nil {
		t.Fatal(err)
	}
	if ack := deliver(t, received(t, tenant, "4915550077", "wamid.link1", "where is my order?")); !ack.Applied {
		t.Fatalf("delivery: %+v", ack)
	}
	ident, err := env.store.GetCustomerIdentity(ctx, tenant, "whatsapp", "4915550077")
	if err != nil || ident.CustomerID != shopper.ID {
		t.Fatalf("identity %+v, %v: want it on the shop's customer %s", ident, err, shopper.ID)
	}
	audits, _, err := env.store.ListAuditEventsForTarget(ctx, tenant, "customer", shopper.ID, persistence.Page{})
	if err != nil {
		t.Fatal(err)
	}
	linked := false
	for _, a := range audits {
		linked = linked || a.Action == ActionCustomerLinked
	}
	if !linked {
		t.Fatalf("no %s audit event: %+v", ActionCustomerLinked, audits)
	}
	cc, err := env.rt.customerContext(ctx, tenant, shopper.ID)
	if err != nil || len(cc.RecentOrders) != 1 || cc.RecentOrders[0].Number != "1009" {
		t.Fatalf("customer context %+v, %v: want the shop's order", cc, err)
	}

	if ack := deliver(t, received(t, tenant, "4915550078", "wamid.link2", "hi")); !ack.Applied {
		t.Fatalf("delivery: %+v", ack)
	}
	other, err := env.store.GetCustomerIdentity(ctx, tenant, "whatsapp", "4915550078")
	if err != nil || other.CustomerID == shopper.ID {
		t.Fatalf("a phone nobody has joined %+v, %v", other, err)
	}
}

// After a merge moved a thread's identity and conversation to another
// customer, Relink makes the hot grain take them up: its state names the
// new customer and its next write passes the conversation's version check.
func TestRelinkAfterACustomerMerge(t *testing.T) {
	tenant := newTenant(t)
	ctx := context.Background()
	rec := received(t, tenant, "4915550091", "wamid.relink1", "hello")
	if ack := deliver(t, rec); !ack.Applied {
		t.Fatalf("delivery: %+v", ack)
	}
	_, st := checkpointState(t, rec.Key)
	kept := &persistence.Customer{Base: persistence.Base{TenantID: tenant}, Name: "Kept"}
	if err := env.store.CreateCustomer(ctx, kept); err != nil {
		t.Fatal(err)
	}
	moved, err := env.store.MoveCustomerRecords(ctx, tenant, st.CustomerID, kept.ID)
	if err != nil || len(moved.Conversations) != 1 || len(moved.Identities) != 1 {
		t.Fatalf("moved %+v, %v", moved, err)
	}
	if err := env.rt.Relink(ctx, tenant, moved.Conversations[0]); err != nil {
		t.Fatal(err)
	}
	if _, st := checkpointState(t, rec.Key); st.CustomerID != kept.ID {
		t.Fatalf("grain state after relink: customer %s, want %s", st.CustomerID, kept.ID)
	}
	if ack := deliver(t, received(t, tenant, "4915550091", "wamid.relink2", "still there?")); !ack.Applied {
		t.Fatalf("delivery after relink: %+v", ack)
	}
	if msgs := messages(t, tenant, rec.Key); len(msgs) != 2 {
		t.Fatalf("messages after relink: %d, want 2 in the one conversation", len(msgs))
	}
	if c, err := env.store.GetConversation(ctx, tenant, moved.Conversations[0]); err != nil || c.CustomerID != kept.ID {
		t.Fatalf("the grain's write took the conversation back: %+v, %v", c, err)
	}
}
