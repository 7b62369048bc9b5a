package channels_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/frontdesk-ai/frontdesk/channels"
	"github.com/frontdesk-ai/frontdesk/channels/whatsapp"
	"github.com/frontdesk-ai/frontdesk/channels/whatsapp/whatsapptest"
	"github.com/frontdesk-ai/frontdesk/events"
	"github.com/frontdesk-ai/frontdesk/persistence"
	"github.com/frontdesk-ai/frontdesk/persistence/sqlstore"
	"github.com/frontdesk-ai/frontdesk/persistence/sqlstore/sqlstoretest"
)

const (
	pnid        = "106540352242922"
	accessToken = "EAAG-test-token"
	waID        = "4915550001234"
)

// fakeClock is the sender's injected clock: Sleep advances Now at once,
// and calls onSleep first (a status report arriving meanwhile).
type fakeClock struct {
	mu      sync.Mutex
	now     time.Time
	slept   time.Duration
	onSleep func(n int)
	sleeps  int
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) bool {
	c.mu.Lock()
	c.sleeps++
	n, hook := c.sleeps, c.onSleep
	c.now = c.now.Add(d)
	c.slept += d
	c.mu.Unlock()
	if hook != nil {
		hook(n)
	}
	return ctx.Err() == nil
}

// env is a store with one pending outbound reply, a fake Graph API behind
// the WhatsApp channel, and a sender on both; the sender's store work is
// counted.
type env struct {
	t      *testing.T
	store  *sqlstore.Store
	work   *countingStore
	graph  *whatsapptest.Graph
	clock  *fakeClock
	sender *channels.Sender
	conv   persistence.Conversation
}

func newEnv(t *testing.T, extra ...channels.Channel) *env {
	t.Helper()
	return newEnvOn(t, "sqlite", extra...)
}

func newEnvOn(t *testing.T, dialect string, extra ...channels.Channel) *env {
	t.Helper()
	ctx := context.Background()
	store := sqlstoretest.Open(t, dialect)
	store.SetTxLog(store.Log())
	tn := &persistence.Tenant{Name: "Shop", Slug: "shop"}
	if err := store.CreateTenant(ctx, tn); err != nil {
		t.Fatal(err)
	}
	cust := &persistence.Customer{Base: persistence.Base{TenantID: tn.ID}, Name: "Ada"}
	if err := store.CreateCustomer(ctx, cust); err != nil {
		t.Fatal(err)
	}
	conv := persistence.Conversation{Base: persistence.Base{TenantID: tn.ID}, CustomerID: cust.ID, Channel: whatsapp.Name,
		ChannelAccount: pnid, ThreadKey: events.ThreadKey(tn.ID, whatsapp.Name, waID)}
	if err := store.CreateConversation(ctx, &conv); err != nil {
		t.Fatal(err)
	}
	graph := whatsapptest.NewGraph(t)
	graph.AcceptTokens(accessToken)
	client, err := whatsapp.NewClient(whatsapp.Config{BaseURL: graph.BaseURL(), HTTPClient: graph.HTTPClient(), Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	wa := whatsapp.NewChannel(whatsapp.ChannelConfig{AccessTokens: map[string]string{pnid: accessToken}}, client, nil)
	set, err := channels.NewSet(append([]channels.Channel{wa}, extra...)...)
	if err != nil {
		t.Fatal(err)
	}
	clock := &fakeClock{now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	work := &countingStore{SenderStore: sqlstore.For[channels.SenderTx](store)}
	sender, err := channels.NewSender(channels.SenderConfig{Now: clock.Now, Sleep: clock.Sleep}, set,
		work, store.Log(), zerolog.Nop(), prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	return &env{t: t, store: store, work: work, graph: graph, clock: clock, sender: sender, conv: conv}
}

// countingStore records the sender's store work, one entry per
// transaction: "claim" and "get" are single statements (each its own
// transaction), "tx[...]" a transaction with the calls made in it. With
// failOutcomes > 0 that many outcome transactions fail before they commit,
// as a crash between the provider's answer and the commit leaves them.
type countingStore struct {
	channels.SenderStore
	mu           sync.Mutex
	log          []string
	failOutcomes int
}

var (
	_ channels.SenderStore = (*countingStore)(nil)
	_ channels.SenderTx    = (*countingTx)(nil)
)

func (c *countingStore) note(s string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.log = append(c.log, s)
}

// take returns the work recorded since the last take.
func (c *countingStore) take() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := c.log
	c.log = nil
	return out
}

func (c *countingStore) GetMessage(ctx context.Context, tenantID, id string) (persistence.Message, error) {
	c.note("get")
	return c.SenderStore.GetMessage(ctx, tenantID, id)
}

func (c *countingStore) ClaimMessageSend(ctx context.Context, tenantID, id, key string, at time.Time) (persistence.Message, bool, error) {
	c.note("claim")
	return c.SenderStore.ClaimMessageSend(ctx, tenantID, id, key, at)
}

func (c *countingStore) InTx(ctx context.Context, fn func(tx channels.SenderTx) error) error {
	tx := &countingTx{}
	err := c.SenderStore.InTx(ctx, func(inner channels.SenderTx) error {
		tx.SenderTx, tx.calls = inner, nil
		if err := fn(tx); err != nil {
			return err
		}
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.failOutcomes > 0 && slices.ContainsFunc(tx.calls, func(s string) bool { return s == "sent" || s == "failed" }) {
			c.failOutcomes--
			return errors.New("crash before commit")
		}
		return nil
	})
	c.note("tx[" + strings.Join(tx.calls, " ") + "]")
	return err
}

// countingTx records the calls made in one transaction.
type countingTx struct {
	channels.SenderTx
	calls []string
}

func (t *countingTx) RecordMessageSent(ctx context.Context, tenantID, id, providerID string) (persistence.Message, error) {
	t.calls = append(t.calls, "sent")
	return t.SenderTx.RecordMessageSent(ctx, tenantID, id, providerID)
}

func (t *countingTx) FailMessageSend(ctx context.Context, tenantID, id, reason string) (persistence.Message, bool, error) {
	t.calls = append(t.calls, "failed")
	return t.SenderTx.FailMessageSend(ctx, tenantID, id, reason)
}

func (t *countingTx) UpdateMessage(ctx context.Context, m *persistence.Message) error {
	t.calls = append(t.calls, "update")
	return t.SenderTx.UpdateMessage(ctx, m)
}

func (t *countingTx) AppendLiveEvent(ctx context.Context, e *persistence.LiveEvent) error {
	t.calls = append(t.calls, "live")
	return t.SenderTx.AppendLiveEvent(ctx, e)
}

func (t *countingTx) AppendLog(ctx context.Context, recs ...persistence.Record) ([]persistence.Record, error) {
	t.calls = append(t.calls, fmt.Sprintf("log:%d", len(recs)))
	return t.SenderTx.AppendLog(ctx, recs...)
}

// reply stores a pending outbound message with metadata and returns it
// with its message.send record.
func (e *env) reply(text string, metadata map[string]any) (persistence.Message, persistence.Record) {
	e.t.Helper()
	msg := persistence.Message{Base: persistence.Base{TenantID: e.conv.TenantID}, ConversationID: e.conv.ID, Direction: persistence.DirectionOutbound,
		Channel: e.conv.Channel, Sender: persistence.SenderAI, Kind: "text", Text: text, DeliveryStatus: persistence.DeliveryPending}
	if metadata != nil {
		msg.Metadata, _ = json.Marshal(metadata)
	}
	if err := e.store.CreateMessage(context.Background(), &msg); err != nil {
		e.t.Fatal(err)
	}
	return msg, e.record(events.TypeMessageSend, e.clock.Now(), events.MessageSend{MessageID: msg.ID, ConversationID: e.conv.ID,
		Channel: e.conv.Channel, ChannelAccount: pnid, To: waID, Text: text})
}

func (e *env) record(typ string, at time.Time, payload any) persistence.Record {
	e.t.Helper()
	ev, err := events.New(typ, events.Version(typ), e.conv.TenantID, e.conv.ThreadKey, at, payload)
	if err != nil {
		e.t.Fatal(err)
	}
	rec, err := ev.Record(persistence.TopicOutbound)
	if err != nil {
		e.t.Fatal(err)
	}
	return rec
}

func (e *env) message(id string) persistence.Message {
	e.t.Helper()
	m, err := e.store.GetMessage(context.Background(), e.conv.TenantID, id)
	if err != nil {
		e.t.Fatal(err)
	}
	return m
}

// deadLetters counts the records on the outbound dead-letter topic.
func (e *env) deadLetters() int {
	e.t.Helper()
	n := 0
	for p := range int32(sqlstore.DefaultLogPartitions) {
		recs, err := e.store.Log().Read(context.Background(), persistence.DeadLetterTopic(persistence.TopicOutbound), p, 0, 100)
		if err != nil {
			e.t.Fatal(err)
		}
		n += len(recs)
	}
	return n
}

func (e *env) handle(rec persistence.Record) {
	e.t.Helper()
	if !e.sender.Handle(context.Background(), rec) {
		e.t.Fatal("Handle gave up")
	}
}

// textPosts counts the Graph API sends of text.
func (e *env) textPosts(text string) int {
	n := 0
	for _, r := range e.graph.Requests() {
		if body, ok := r.Body["text"].(map[string]any); ok && body["body"] == text {
			n++
		}
	}
	return n
}

func metadata(t *testing.T, m persistence.Message) map[string]any {
	t.Helper()
	meta := map[string]any{}
	if len(m.Metadata) > 0 {
		if err := json.Unmarshal(m.Metadata, &meta); err != nil {
			t.Fatal(err)
		}
	}
	return meta
}

func TestSenderSendsOnceAndRecordsTheWamid(t *testing.T) {
	e := newEnv(t)
	msg, rec := e.reply("Your parcel left today.", nil)
	e.handle(rec)
	sent := e.graph.Sent()
	if len(sent) != 1 || e.textPosts("Your parcel left today.") != 1 {
		t.Fatalf("graph sent %+v, want one message", sent)
	}
	if sent[0].To != waID || sent[0].PhoneNumberID != pnid {
		t.Errorf("sent %+v", sent[0])
	}
	if key := e.graph.Requests()[0].Body["biz_opaque_callback_data"]; key != msg.ID {
		t.Errorf("client key %v, want the message id %s", key, msg.ID)
	}
	got := e.message(msg.ID)
	if got.ChannelMessageID != sent[0].WAMID || got.DeliveryStatus != persistence.DeliverySent {
		t.Fatalf("row: provider id %q status %q, want %q sent", got.ChannelMessageID, got.DeliveryStatus, sent[0].WAMID)
	}
	if _, ok := metadata(t, got)[channels.MetaSendAttemptedAt]; !ok {
		t.Errorf("no attempt recorded: %s", got.Metadata)
	}
	live, err := e.store.LiveEventsOfConversation(context.Background(), e.conv.TenantID, e.conv.ID, persistence.LiveMessageStatus, 0, 10)
	if err != nil || len(live) != 1 {
		t.Fatalf("message.status live events %d (%v), want 1", len(live), err)
	}

	t.Run("a redelivery sends nothing", func(t *testing.T) {
		e.handle(rec)
		if n := len(e.graph.Requests()); n != 1 {
			t.Fatalf("graph got %d requests, want still 1", n)
		}
		if e.clock.slept != 0 {
			t.Errorf("slept %s for a settled message", e.clock.slept)
		}
	})
}

// TestSenderStoreWorkPerSend holds the sender to its store work, on both
// dialects: a send is one statement before the call (it checks the message
// is still pending and records the attempt) and one transaction after it
// (the provider id with its live event, or the failure with its dead
// letter and live event), with no read; a redelivery of a settled message
// is the claim that does not take plus one read.
func TestSenderStoreWorkPerSend(t *testing.T) {
	for _, d := range sqlstoretest.Dialects {
		t.Run(d, func(t *testing.T) {
			t.Run("sent, then redelivered", func(t *testing.T) {
				e := newEnvOn(t, d)
				msg, rec := e.reply("Your parcel left today.", nil)
				e.handle(rec)
				if got, want := e.work.take(), []string{"claim", "tx[sent live]"}; !slices.Equal(got, want) {
					t.Errorf("store work per send %q, want %q", got, want)
				}
				if got := e.message(msg.ID); got.DeliveryStatus != persistence.DeliverySent || got.ChannelMessageID != e.graph.Sent()[0].WAMID {
					t.Fatalf("row %q %q", got.DeliveryStatus, got.ChannelMessageID)
				}
				e.handle(rec)
				if got, want := e.work.take(), []string{"claim", "get"}; !slices.Equal(got, want) {
					t.Errorf("store work per redelivery %q, want %q", got, want)
				}
				if n := len(e.graph.Requests()); n != 1 {
					t.Errorf("graph got %d requests, want 1", n)
				}
			})
			t.Run("failed", func(t *testing.T) {
				e := newEnvOn(t, d)
				e.graph.FailNext(1, whatsapptest.ReEngagement())
				msg, rec := e.reply("Late answer.", nil)
				e.handle(rec)
				if got, want := e.work.take(), []string{"claim", "tx[failed log:1 live]"}; !slices.Equal(got, want) {
					t.Errorf("store work per failed send %q, want %q", got, want)
				}
				if got := e.message(msg.ID); got.DeliveryStatus != persistence.DeliveryFailed {
					t.Errorf("row %q", got.DeliveryStatus)
				}
				if n := e.deadLetters(); n != 1 {
					t.Errorf("dead letters %d, want 1", n)
				}
				live, err := e.store.LiveEventsOfConversation(context.Background(), e.conv.TenantID, e.conv.ID, persistence.LiveMessageStatus, 0, 10)
				if err != nil || len(live) != 1 {
					t.Errorf("message.status live events %d (%v), want 1", len(live), err)
				}
			})
		})
	}
}

// TestSenderCrashBetweenSendAndRecord: the provider took the reply, but
// its outcome never committed (the process died before the commit). The
// redelivered record finds the attempt, and the reply reaches the customer
// once: the status report names it while the sender waits; only when none
// comes within the bound is it sent again, once, and flagged.
func TestSenderCrashBetweenSendAndRecord(t *testing.T) {
	crash := func(t *testing.T, text string) (*env, persistence.Message, persistence.Record) {
		e := newEnv(t)
		e.work.failOutcomes = 1
		msg, rec := e.reply(text, nil)
		e.handle(rec)
		got := e.message(msg.ID)
		if _, tried := metadata(t, got)[channels.MetaSendAttemptedAt]; !tried || got.DeliveryStatus != persistence.DeliveryPending || got.ChannelMessageID != "" {
			t.Fatalf("after the crash: row %q %q %s, want pending with the attempt and no provider id", got.DeliveryStatus, got.ChannelMessageID, got.Metadata)
		}
		if n := e.textPosts(text); n != 1 {
			t.Fatalf("graph got %d sends, want 1", n)
		}
		return e, msg, rec
	}
	t.Run("the status report comes", func(t *testing.T) {
		e, msg, rec := crash(t, "Your order shipped.")
		wamid := e.graph.Sent()[0].WAMID
		e.clock.onSleep = func(n int) {
			if n != 2 {
				return
			}
			// The conversation grain records the status whose client key
			// is the message id.
			m := e.message(msg.ID)
			m.ChannelMessageID, m.DeliveryStatus = wamid, persistence.DeliverySent
			if err := e.store.UpdateMessage(context.Background(), &m); err != nil {
				t.Error(err)
			}
		}
		e.handle(rec)
		if n := e.textPosts("Your order shipped."); n != 1 {
			t.Fatalf("graph got %d sends, want 1", n)
		}
		if got := e.message(msg.ID); got.ChannelMessageID != wamid {
			t.Errorf("row has %q, want %q", got.ChannelMessageID, wamid)
		}
	})
	t.Run("no status report within the bound", func(t *testing.T) {
		e, msg, rec := crash(t, "Your refund is on its way.")
		e.handle(rec)
		if n := e.textPosts("Your refund is on its way."); n != 2 {
			t.Fatalf("graph got %d sends, want 2 (one resend after the wait)", n)
		}
		if e.clock.slept != 20*time.Second {
			t.Errorf("waited %s before resending, want 20s", e.clock.slept)
		}
		got := e.message(msg.ID)
		if got.ChannelMessageID != e.graph.Sent()[1].WAMID || metadata(t, got)[channels.MetaResent] != true {
			t.Errorf("row %q %s, want the resend's id and the resent flag", got.ChannelMessageID, got.Metadata)
		}
		e.handle(rec)
		if n := len(e.graph.Requests()); n != 2 {
			t.Errorf("a redelivery after the resend sent again: %d requests", n)
		}
	})
}

// An attempt was recorded, then the process died before recording the
// outcome. The message did go out: its status report (with the message id
// as client key) arrives while the sender waits, and the grain records the
// wamid on the row. Nothing is sent again.
func TestSenderWaitsForTheStatusOfAnAttemptWithoutOutcome(t *testing.T) {
	e := newEnv(t)
	attempted := e.clock.Now().Add(-2 * time.Second)
	msg, rec := e.reply("Sorry for the wait.", map[string]any{channels.MetaSendAttemptedAt: attempted})
	e.clock.onSleep = func(n int) {
		if n != 3 {
			return
		}
		// What the conversation grain does with a status whose ClientKey
		// is the message id.
		m := e.message(msg.ID)
		m.ChannelMessageID, m.DeliveryStatus = "wamid.FIRST", persistence.DeliveryDelivered
		if err := e.store.UpdateMessage(context.Background(), &m); err != nil {
			t.Error(err)
		}
	}
	e.handle(rec)
	if n := len(e.graph.Requests()); n != 0 {
		t.Fatalf("graph got %d requests, want none: the first attempt went out", n)
	}
	got := e.message(msg.ID)
	if got.ChannelMessageID != "wamid.FIRST" || got.DeliveryStatus != persistence.DeliveryDelivered {
		t.Errorf("row %q %q, want the reported wamid", got.ChannelMessageID, got.DeliveryStatus)
	}
	if _, resent := metadata(t, got)[channels.MetaResent]; resent {
		t.Errorf("flagged as resent: %s", got.Metadata)
	}
}

// The same crash, but no status report names the message within the bound:
// the first attempt never reached the provider. It is sent exactly once
// more, after the wait, and flagged.
func TestSenderResendsOnceWhenNoStatusCameWithinTheBound(t *testing.T) {
	e := newEnv(t)
	attempted := e.clock.Now().Add(-2 * time.Second)
	msg, rec := e.reply("Here is your refund.", map[string]any{channels.MetaSendAttemptedAt: attempted})
	e.handle(rec)
	if n := e.textPosts("Here is your refund."); n != 1 {
		t.Fatalf("graph got %d sends, want exactly 1 resend", n)
	}
	if want := 18 * time.Second; e.clock.slept != want {
		t.Errorf("waited %s before resending, want %s (20 s after the attempt)", e.clock.slept, want)
	}
	got := e.message(msg.ID)
	if got.ChannelMessageID != e.graph.Sent()[0].WAMID || got.DeliveryStatus != persistence.DeliverySent {
		t.Errorf("row %q %q", got.ChannelMessageID, got.DeliveryStatus)
	}
	if metadata(t, got)[channels.MetaResent] != true {
		t.Errorf("not flagged as resent: %s", got.Metadata)
	}
	e.handle(rec)
	if n := len(e.graph.Requests()); n != 1 {
		t.Fatalf("a redelivery after the resend sent again: %d requests", n)
	}
}

func TestSenderFailures(t *testing.T) {
	t.Run("permanent error fails the message and dead-letters the record", func(t *testing.T) {
		e := newEnv(t)
		e.graph.FailNext(1, whatsapptest.ReEngagement())
		msg, rec := e.reply("Late answer.", nil)
		e.handle(rec)
		got := e.message(msg.ID)
		if got.DeliveryStatus != persistence.DeliveryFailed || got.Error != "131047 (#131047) Re-engagement message" {
			t.Errorf("row %q %q", got.DeliveryStatus, got.Error)
		}
		if n := len(e.graph.Requests()); n != 1 {
			t.Errorf("graph got %d requests, want 1 (not retried)", n)
		}
		if n := e.deadLetters(); n != 1 {
			t.Fatalf("dead letters %d, want 1", n)
		}
	})
	t.Run("transient errors are retried", func(t *testing.T) {
		e := newEnv(t)
		e.graph.FailNext(2, whatsapptest.ServerError())
		msg, rec := e.reply("Third time lucky.", nil)
		e.handle(rec)
		if n := e.textPosts("Third time lucky."); n != 3 {
			t.Errorf("graph got %d sends, want 3", n)
		}
		if got := e.message(msg.ID); got.DeliveryStatus != persistence.DeliverySent || got.ChannelMessageID == "" {
			t.Errorf("row %q %q", got.DeliveryStatus, got.ChannelMessageID)
		}
	})
	t.Run("a channel that is not configured fails the message", func(t *testing.T) {
		e := newEnv(t)
		msg, _ := e.reply("hello", nil)
		rec := e.record(events.TypeMessageSend, e.clock.Now(), events.MessageSend{MessageID: msg.ID, ConversationID: e.conv.ID,
			Channel: "carrier-pigeon", ChannelAccount: pnid, To: waID, Text: "hello"})
		e.handle(rec)
		if got := e.message(msg.ID); got.DeliveryStatus != persistence.DeliveryFailed {
			t.Errorf("row %q", got.DeliveryStatus)
		}
		if n := len(e.graph.Requests()); n != 0 {
			t.Errorf("graph got %d requests", n)
		}
	})
}

// quiet is a channel without read receipts that records its calls.
type quiet struct {
	mu    sync.Mutex
	calls []string
}

var _ channels.Channel = (*quiet)(nil)

func (q *quiet) note(s string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.calls = append(q.calls, s)
}

func (q *quiet) Name() string                                         { return "quiet" }
func (q *quiet) Capabilities() channels.Capabilities                  { return channels.Capabilities{} }
func (q *quiet) Verify(http.Header, []byte) error                     { return nil }
func (q *quiet) Parse([]byte) ([]channels.Item, error)                { return nil, nil }
func (q *quiet) Retry(error, int) (time.Duration, bool)               { return 0, false }
func (q *quiet) Handshake(url.Values) (string, error)                 { return "", channels.ErrForbidden }
func (q *quiet) Typing(context.Context, string, string, string) error { q.note("typing"); return nil }
func (q *quiet) MarkRead(context.Context, string, string) error {
	q.note("mark_read")
	return errors.New("not supported")
}
func (q *quiet) Send(_ context.Context, m channels.Outgoing) (string, error) {
	q.note("send " + m.Text)
	return "q-1", nil
}

func TestSenderMarkRead(t *testing.T) {
	q := &quiet{}
	e := newEnv(t, q)
	now := e.clock.Now()
	mark := func(channel, wamid string, at time.Time) persistence.Record {
		return e.record(events.TypeMarkRead, at, events.MarkRead{Channel: channel, ChannelAccount: pnid, ChannelMessageID: wamid})
	}
	e.handle(mark(whatsapp.Name, "wamid.IN1", now.Add(-time.Second)))
	e.handle(mark(whatsapp.Name, "wamid.OLD", now.Add(-time.Hour)))
	e.handle(mark("quiet", "q-in-1", now))
	e.handle(mark("nowhere", "x", now))
	reqs := e.graph.Requests()
	if len(reqs) != 1 || reqs[0].Body["status"] != "read" || reqs[0].Body["message_id"] != "wamid.IN1" {
		t.Fatalf("graph requests %+v, want one read receipt for wamid.IN1 (a stale one is skipped)", reqs)
	}
	if len(q.calls) != 0 {
		t.Errorf("a channel without read receipts was called: %v", q.calls)
	}
}

// Run consumes the outbound topic from the log as its consumer group.
func TestSenderRunConsumesTheOutboundTopic(t *testing.T) {
	q := &quiet{}
	e := newEnv(t, q)
	msg, rec := e.reply("From the log.", nil)
	if _, err := e.store.Log().Append(context.Background(), rec); err != nil {
		t.Fatal(err)
	}
	other, _ := e.reply("To the quiet channel.", nil)
	qrec := e.record(events.TypeMessageSend, e.clock.Now(), events.MessageSend{MessageID: other.ID, ConversationID: e.conv.ID,
		Channel: "quiet", To: "someone", Text: "To the quiet channel."})
	if _, err := e.store.Log().Append(context.Background(), qrec); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.sender.Run(ctx) }()
	deadline := time.Now().Add(10 * time.Second)
	for (e.message(msg.ID).ChannelMessageID == "" || e.message(other.ID).ChannelMessageID == "") && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got := e.message(msg.ID); got.ChannelMessageID != e.graph.Sent()[0].WAMID {
		t.Errorf("whatsapp reply: provider id %q", got.ChannelMessageID)
	}
	if got := e.message(other.ID); got.ChannelMessageID != "q-1" {
		t.Errorf("quiet reply: provider id %q", got.ChannelMessageID)
	}
}

// timeouts is a channel whose first send times out after the request went
// out (the provider may have the message); later sends succeed.
type timeouts struct {
	mu    sync.Mutex
	sends int
}

var _ channels.Channel = (*timeouts)(nil)

func (c *timeouts) Name() string                                         { return "timeouts" }
func (c *timeouts) Capabilities() channels.Capabilities                  { return channels.Capabilities{} }
func (c *timeouts) Verify(http.Header, []byte) error                     { return nil }
func (c *timeouts) Parse([]byte) ([]channels.Item, error)                { return nil, nil }
func (c *timeouts) Retry(error, int) (time.Duration, bool)               { return time.Second, true }
func (c *timeouts) Typing(context.Context, string, string, string) error { return nil }
func (c *timeouts) MarkRead(context.Context, string, string) error       { return nil }
func (c *timeouts) Send(_ context.Context, m channels.Outgoing) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sends++
	if c.sends == 1 {
		return "", fmt.Errorf("post: read timeout: %w", channels.ErrOutcomeUnknown)
	}
	return fmt.Sprintf("t-%d", c.sends), nil
}

func (c *timeouts) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sends
}

// TestSenderWaitsForTheStatusAfterATimeout: a send whose outcome is
// unknown (a timeout after the request went out) is not retried until its
// status report had time to come: when it comes, nothing is sent again;
// when none comes within the bound, the send is retried once.
func TestSenderWaitsForTheStatusAfterATimeout(t *testing.T) {
	send := func(e *env, text string) (persistence.Message, persistence.Record) {
		msg := persistence.Message{Base: persistence.Base{TenantID: e.conv.TenantID}, ConversationID: e.conv.ID, Direction: persistence.DirectionOutbound,
			Channel: "timeouts", Sender: persistence.SenderAI, Kind: "text", Text: text, DeliveryStatus: persistence.DeliveryPending}
		if err := e.store.CreateMessage(context.Background(), &msg); err != nil {
			t.Fatal(err)
		}
		return msg, e.record(events.TypeMessageSend, e.clock.Now(), events.MessageSend{MessageID: msg.ID, ConversationID: e.conv.ID,
			Channel: "timeouts", ChannelAccount: "acct", To: waID, Text: text})
	}
	t.Run("status came", func(t *testing.T) {
		ch := &timeouts{}
		e := newEnv(t, ch)
		msg, rec := send(e, "Your refund is on its way.")
		e.clock.onSleep = func(n int) {
			if n != 2 {
				return
			}
			// The status report of the first send, recorded by the grain.
			m := e.message(msg.ID)
			m.ChannelMessageID, m.DeliveryStatus = "t-1", persistence.DeliverySent
			if err := e.store.UpdateMessage(context.Background(), &m); err != nil {
				t.Error(err)
			}
		}
		e.handle(rec)
		if n := ch.count(); n != 1 {
			t.Fatalf("sends = %d, want 1: the timed-out send was delivered", n)
		}
		if got := e.message(msg.ID); got.ChannelMessageID != "t-1" {
			t.Fatalf("row has %q, want the reported t-1", got.ChannelMessageID)
		}
	})
	t.Run("no status within the bound", func(t *testing.T) {
		ch := &timeouts{}
		e := newEnv(t, ch)
		msg, rec := send(e, "Your refund is on its way.")
		e.handle(rec)
		if n := ch.count(); n != 2 {
			t.Fatalf("sends = %d, want 2 (one retry after the wait)", n)
		}
		if got := e.message(msg.ID); got.ChannelMessageID != "t-2" || got.DeliveryStatus != persistence.DeliverySent {
			t.Fatalf("row = %q %s, want t-2 sent", got.ChannelMessageID, got.DeliveryStatus)
		}
		if e.clock.slept < 15*time.Second {
			t.Fatalf("waited %s before retrying, want the outcome wait", e.clock.slept)
		}
	})
}

// gate is a channel whose sends all wait until n of them have arrived, so
// that their outcomes are recorded at the same time.
type gate struct {
	n       int
	mu      sync.Mutex
	arrived int
	open    chan struct{}
}

var _ channels.Channel = (*gate)(nil)

func (g *gate) Name() string                                         { return "gate" }
func (g *gate) Capabilities() channels.Capabilities                  { return channels.Capabilities{} }
func (g *gate) Verify(http.Header, []byte) error                     { return nil }
func (g *gate) Parse([]byte) ([]channels.Item, error)                { return nil, nil }
func (g *gate) Retry(error, int) (time.Duration, bool)               { return 0, false }
func (g *gate) Handshake(url.Values) (string, error)                 { return "", channels.ErrForbidden }
func (g *gate) Typing(context.Context, string, string, string) error { return nil }
func (g *gate) MarkRead(context.Context, string, string) error       { return nil }
func (g *gate) Send(ctx context.Context, m channels.Outgoing) (string, error) {
	g.mu.Lock()
	g.arrived++
	if g.arrived == g.n {
		close(g.open)
	}
	g.mu.Unlock()
	select {
	case <-g.open:
		return "g-" + m.Key, nil
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

// TestSenderRunSendsConversationsAtOnce: replies to several conversations
// are sent in parallel; each is sent once and recorded, in at most one
// outcome transaction each (outcomes finishing together share one).
func TestSenderRunSendsConversationsAtOnce(t *testing.T) {
	const n = 8
	g := &gate{n: n, open: make(chan struct{})}
	e := newEnv(t, g)
	var ids []string
	for i := range n {
		msg, _ := e.reply(fmt.Sprintf("Reply %d.", i), nil)
		ev, err := events.New(events.TypeMessageSend, events.Version(events.TypeMessageSend), e.conv.TenantID, fmt.Sprintf("thread-%d", i),
			e.clock.Now(), events.MessageSend{MessageID: msg.ID, ConversationID: e.conv.ID, Channel: "gate", To: "someone", Text: msg.Text})
		if err != nil {
			t.Fatal(err)
		}
		rec, err := ev.Record(persistence.TopicOutbound)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.store.Log().Append(context.Background(), rec); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, msg.ID)
	}
	e.work.take()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.sender.Run(ctx) }()
	deadline := time.Now().Add(20 * time.Second)
	for _, id := range ids {
		for e.message(id).ChannelMessageID == "" && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		if got := e.message(id); got.ChannelMessageID != "g-"+id || got.DeliveryStatus != persistence.DeliverySent {
			t.Errorf("message %s: %q %q", id, got.ChannelMessageID, got.DeliveryStatus)
		}
	}
	claims, outcomeTxs, recorded := 0, 0, 0
	for _, w := range e.work.take() {
		switch {
		case w == "claim":
			claims++
		case strings.HasPrefix(w, "tx["):
			outcomeTxs++
			recorded += strings.Count(w, "sent")
		default:
			t.Errorf("unexpected store work %q", w)
		}
	}
	if claims != n || recorded != n || outcomeTxs < 1 || outcomeTxs > n {
		t.Errorf("%d claims, %d outcomes in %d transactions; want %d claims, %d outcomes in 1 to %d", claims, recorded, outcomeTxs, n, n, n)
	}
	t.Logf("%d sends: %d outcome transactions", n, outcomeTxs)
}
