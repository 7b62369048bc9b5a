// Package storetest is the conformance suite of frontdesk's store: every
// model's create, read, version-checked update and paginated list, the
// unique keys that make effects idempotent, tenant scoping, metadata round
// trips and the append-only audit trail. sqlstore runs it on SQLite and on
// PostgreSQL (sqlstore's store_test.go).
package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/frontdesk-ai/frontdesk/persistence"
	"github.com/frontdesk-ai/frontdesk/persistence/sqlstore"
)

// Run runs the suite against the store that open returns. open is called
// once; the suite isolates its cases with fresh tenants.
func Run(t *testing.T, open func(t *testing.T) *sqlstore.Store) {
	s := open(t)
	t.Run("Models", func(t *testing.T) { testModels(t, s) })
	t.Run("Uniques", func(t *testing.T) { testUniques(t, s) })
	t.Run("Validation", func(t *testing.T) { testValidation(t, s) })
	t.Run("Pagination", func(t *testing.T) { testPagination(t, s) })
	t.Run("Metadata", func(t *testing.T) { testMetadata(t, s) })
	t.Run("TenantScoping", func(t *testing.T) { testTenantScoping(t, s) })
	t.Run("Conversations", func(t *testing.T) { testConversations(t, s) })
	t.Run("Lookups", func(t *testing.T) { testLookups(t, s) })
	t.Run("CustomerTimeline", func(t *testing.T) { testCustomerTimeline(t, s) })
	t.Run("Immutable", func(t *testing.T) { testImmutable(t, s) })
	t.Run("Transactions", func(t *testing.T) { testTransactions(t, s) })
	t.Run("Notes", func(t *testing.T) { testNotes(t, s) })
	t.Run("Confirmations", func(t *testing.T) { testConfirmations(t, s) })
	t.Run("Knowledge", func(t *testing.T) { testKnowledge(t, s) })
}

// record is a pointer to a model.
type record[T any] interface {
	*T
	BaseFields() *persistence.Base
}

// model drives the common checks of one model type through the store's
// methods.
type model[T any, P record[T]] struct {
	name string
	// build returns a valid, unsaved record of the tenant, creating the
	// parents it needs.
	build  func(t *testing.T, s *sqlstore.Store, tenantID string) T
	create func(*sqlstore.Store, context.Context, P) error
	get    func(s *sqlstore.Store, ctx context.Context, tenantID, id string) (T, error)
	// update and change are nil for immutable models; change must alter an
	// own field.
	update func(*sqlstore.Store, context.Context, P) error
	change func(P)
	list   func(s *sqlstore.Store, ctx context.Context, tenantID string, p persistence.Page) ([]T, string, error)
	// global marks the one model that is not scoped by a tenant (tenants).
	global bool
}

func (m model[T, P]) caseName() string { return m.name }

func (m model[T, P]) check(t *testing.T, s *sqlstore.Store) {
	ctx := context.Background()
	tenantA, tenantB := newTenant(t, s), newTenant(t, s)
	start := time.Now()
	rec := m.build(t, s, tenantA)
	if err := m.create(s, ctx, &rec); err != nil {
		t.Fatalf("create: %v", err)
	}
	b := P(&rec).BaseFields()
	if u, err := uuid.Parse(b.ID); err != nil || u.Version() != 4 {
		t.Errorf("ID %q: want a UUID v4 (%v)", b.ID, err)
	}
	if b.Version != 1 || !b.UpdatedAt.Equal(b.CreatedAt) || b.CreatedAt.Before(start.Add(-time.Second)) || b.CreatedAt.After(time.Now()) {
		t.Errorf("after create: version %d, created %v, updated %v; want 1 and both now", b.Version, b.CreatedAt, b.UpdatedAt)
	}
	if b.CreatedAt.Location() != time.UTC || b.CreatedAt.Nanosecond()%1000 != 0 {
		t.Errorf("CreatedAt %v: want UTC in whole microseconds", b.CreatedAt)
	}
	mustEqual(t, "get", rec, m.mustGet(t, s, tenantA, b.ID))
	if _, err := m.get(s, ctx, tenantA, uuid.NewString()); !errors.Is(err, persistence.ErrNotFound) {
		t.Errorf("get unknown id: err %v, want ErrNotFound", err)
	}
	again := m.build(t, s, tenantA)
	P(&again).BaseFields().ID = b.ID
	if err := m.create(s, ctx, &again); !errors.Is(err, persistence.ErrDuplicate) {
		t.Errorf("create with a taken id: err %v, want ErrDuplicate", err)
	}
	if m.list != nil {
		if got := m.find(t, s, tenantA, b.ID); got == nil {
			t.Errorf("list of tenant A lacks %s", b.ID)
		} else {
			mustEqual(t, "list", rec, *got)
		}
	}
	if !m.global {
		m.checkScoped(t, s, rec, tenantB)
	}
	if m.update != nil {
		m.checkUpdate(t, s, rec)
	}
}

// checkScoped checks that tenant B neither reads, lists nor updates rec of
// tenant A.
func (m model[T, P]) checkScoped(t *testing.T, s *sqlstore.Store, rec T, tenantB string) {
	ctx := context.Background()
	id := P(&rec).BaseFields().ID
	if _, err := m.get(s, ctx, tenantB, id); !errors.Is(err, persistence.ErrNotFound) {
		t.Errorf("get from tenant B: err %v, want ErrNotFound", err)
	}
	if m.list != nil && m.find(t, s, tenantB, id) != nil {
		t.Errorf("list of tenant B returns tenant A's %s", id)
	}
	if m.update != nil {
		other := rec
		P(&other).BaseFields().TenantID = tenantB
		m.change(&other)
		if err := m.update(s, ctx, &other); !errors.Is(err, persistence.ErrNotFound) {
			t.Errorf("update from tenant B: err %v, want ErrNotFound", err)
		}
	}
}

// checkUpdate checks a versioned update, a stale one and one of a missing
// row.
func (m model[T, P]) checkUpdate(t *testing.T, s *sqlstore.Store, rec T) {
	ctx := context.Background()
	b := P(&rec).BaseFields()
	stale := rec
	m.change(&rec)
	if err := m.update(s, ctx, &rec); err != nil {
		t.Fatalf("update: %v", err)
	}
	if b.Version != 2 || b.UpdatedAt.Before(b.CreatedAt) {
		t.Errorf("after update: version %d, updated %v; want 2, not before %v", b.Version, b.UpdatedAt, b.CreatedAt)
	}
	got := m.mustGet(t, s, b.TenantID, b.ID)
	mustEqual(t, "get after update", rec, got)
	unchanged := stale
	*P(&unchanged).BaseFields() = *P(&got).BaseFields()
	if diff(unchanged, got) == "" {
		t.Errorf("change altered no field that a read shows")
	}
	m.change(&stale)
	if err := m.update(s, ctx, &stale); !errors.Is(err, persistence.ErrVersionConflict) {
		t.Errorf("stale update: err %v, want ErrVersionConflict", err)
	}
	if P(&stale).BaseFields().Version != 1 {
		t.Errorf("a failed update bumped the version in the struct")
	}
	mustEqual(t, "get after stale update", rec, m.mustGet(t, s, b.TenantID, b.ID))
	ghost := rec
	P(&ghost).BaseFields().ID = uuid.NewString()
	if err := m.update(s, ctx, &ghost); !errors.Is(err, persistence.ErrNotFound) {
		t.Errorf("update of a missing row: err %v, want ErrNotFound", err)
	}
}

func (m model[T, P]) mustGet(t *testing.T, s *sqlstore.Store, tenantID, id string) T {
	t.Helper()
	got, err := m.get(s, context.Background(), tenantID, id)
	if err != nil {
		t.Fatalf("get %s: %v", id, err)
	}
	return got
}

// find walks every page of the tenant's list and returns the row id.
func (m model[T, P]) find(t *testing.T, s *sqlstore.Store, tenantID, id string) *T {
	t.Helper()
	p := persistence.Page{Limit: persistence.MaxPageLimit}
	for {
		rows, next, err := m.list(s, context.Background(), tenantID, p)
		if err != nil {
			t.Fatalf("list: %v", err)
		}
		for i := range rows {
			if P(&rows[i]).BaseFields().ID == id {
				return &rows[i]
			}
		}
		if next == "" {
			return nil
		}
		p.Cursor = next
	}
}

func testModels(t *testing.T, s *sqlstore.Store) {
	soon := time.Now().Add(time.Hour + 123*time.Nanosecond)
	cases := []interface {
		caseName() string
		check(*testing.T, *sqlstore.Store)
	}{
		model[persistence.Tenant, *persistence.Tenant]{
			name: "Tenant", global: true,
			build: func(*testing.T, *sqlstore.Store, string) persistence.Tenant {
				return persistence.Tenant{Name: "Acme", Slug: uniq("acme")}
			},
			create: (*sqlstore.Store).CreateTenant,
			get: func(s *sqlstore.Store, ctx context.Context, _, id string) (persistence.Tenant, error) {
				return s.GetTenant(ctx, id)
			},
			update: (*sqlstore.Store).UpdateTenant,
			change: func(m *persistence.Tenant) { m.Name = "Acme Europe" },
			list: func(s *sqlstore.Store, ctx context.Context, _ string, p persistence.Page) ([]persistence.Tenant, string, error) {
				return s.ListTenants(ctx, p)
			},
		},
		model[persistence.User, *persistence.User]{
			name: "User",
			build: func(_ *testing.T, _ *sqlstore.Store, tenantID string) persistence.User {
				return persistence.User{Base: persistence.Base{TenantID: tenantID}, Email: uniq("ana") + "@example.com",
					Name: "Ana", Role: persistence.RoleAgent, PasswordHash: "$2a$10$hash"}
			},
			create: (*sqlstore.Store).CreateUser, get: (*sqlstore.Store).GetUser,
			update: (*sqlstore.Store).UpdateUser, list: (*sqlstore.Store).ListUsers,
			change: func(m *persistence.User) { m.Role, m.Disabled = persistence.RoleSupervisor, true },
		},
		model[persistence.Customer, *persistence.Customer]{
			name: "Customer",
			build: func(_ *testing.T, _ *sqlstore.Store, tenantID string) persistence.Customer {
				return persistence.Customer{Base: persistence.Base{TenantID: tenantID}, Name: "Zoë", Email: "zoe@example.com",
					Phone: "+4915112345678", Language: "de", LastSeenAt: &soon}
			},
			create: (*sqlstore.Store).CreateCustomer, get: (*sqlstore.Store).GetCustomer,
			update: (*sqlstore.Store).UpdateCustomer, list: (*sqlstore.Store).ListCustomers,
			change: func(m *persistence.Customer) { m.Language, m.LastSeenAt = "fr", nil },
		},
		model[persistence.CustomerIdentity, *persistence.CustomerIdentity]{
			name: "CustomerIdentity",
			build: func(t *testing.T, s *sqlstore.Store, tenantID string) persistence.CustomerIdentity {
				return persistence.CustomerIdentity{Base: persistence.Base{TenantID: tenantID},
					CustomerID: newCustomer(t, s, tenantID).ID, Channel: "whatsapp", ExternalID: uniq("4915"), DisplayName: "Zoë"}
			},
			create: (*sqlstore.Store).CreateCustomerIdentity, get: (*sqlstore.Store).GetCustomerIdentityByID,
			update: (*sqlstore.Store).UpdateCustomerIdentity, list: (*sqlstore.Store).ListCustomerIdentities,
			change: func(m *persistence.CustomerIdentity) { m.DisplayName = "Zoë B." },
		},
		model[persistence.Conversation, *persistence.Conversation]{
			name: "Conversation",
			build: func(t *testing.T, s *sqlstore.Store, tenantID string) persistence.Conversation {
				return persistence.Conversation{Base: persistence.Base{TenantID: tenantID}, CustomerID: newCustomer(t, s, tenantID).ID,
					Channel: "whatsapp", ChannelAccount: "pn-1", ThreadKey: uniq("thread"), LastMessageAt: &soon}
			},
			create: (*sqlstore.Store).CreateConversation, get: (*sqlstore.Store).GetConversation,
			update: (*sqlstore.Store).UpdateConversation,
			change: func(m *persistence.Conversation) {
				m.Status, m.AssignedUserID, m.ClosedAt = persistence.ConversationWaitingHuman, "user-1", &soon
			},
			list: func(s *sqlstore.Store, ctx context.Context, tenantID string, p persistence.Page) ([]persistence.Conversation, string, error) {
				return s.ListConversations(ctx, tenantID, "", p)
			},
		},
		model[persistence.Message, *persistence.Message]{
			name: "Message",
			build: func(t *testing.T, s *sqlstore.Store, tenantID string) persistence.Message {
				return persistence.Message{Base: persistence.Base{TenantID: tenantID}, ConversationID: newConversation(t, s, tenantID, "").ID,
					Direction: persistence.DirectionOutbound, Channel: "whatsapp", ChannelMessageID: uniq("wamid"),
					Sender: persistence.SenderAI, Kind: persistence.KindText, Text: "Hallo 👋"}
			},
			create: (*sqlstore.Store).CreateMessage, get: (*sqlstore.Store).GetMessage,
			update: (*sqlstore.Store).UpdateMessage,
			change: func(m *persistence.Message) { m.DeliveryStatus = persistence.DeliveryDelivered },
			// ListMessages is per conversation: see testConversations.
		},
		model[persistence.AgentProfile, *persistence.AgentProfile]{
			name: "AgentProfile",
			build: func(_ *testing.T, _ *sqlstore.Store, tenantID string) persistence.AgentProfile {
				return persistence.AgentProfile{Base: persistence.Base{TenantID: tenantID}, Name: "Support", Description: "first line",
					Tools: []string{"get_customer_profile", "create_ticket"}, Routing: json.RawMessage(`{"model": "small"}`)}
			},
			create: (*sqlstore.Store).CreateAgentProfile, get: (*sqlstore.Store).GetAgentProfile,
			update: (*sqlstore.Store).UpdateAgentProfile, list: (*sqlstore.Store).ListAgentProfiles,
			change: func(m *persistence.AgentProfile) { m.LiveVersion, m.Tools = 2, append(m.Tools, "refund_order") },
		},
		model[persistence.PromptVersion, *persistence.PromptVersion]{
			name: "PromptVersion",
			build: func(t *testing.T, s *sqlstore.Store, tenantID string) persistence.PromptVersion {
				return persistence.PromptVersion{Base: persistence.Base{TenantID: tenantID}, AgentProfileID: newAgentProfile(t, s, tenantID).ID,
					Number: 1, Prompt: "You are helpful.", AuthorID: "user-1"}
			},
			create: (*sqlstore.Store).CreatePromptVersion, get: (*sqlstore.Store).GetPromptVersion,
		},
		model[persistence.Order, *persistence.Order]{
			name: "Order",
			build: func(t *testing.T, s *sqlstore.Store, tenantID string) persistence.Order {
				return persistence.Order{Base: persistence.Base{TenantID: tenantID}, CustomerID: newCustomer(t, s, tenantID).ID,
					Source: "shopify", ExternalID: uniq("1001"), Status: "paid", TotalMinor: 4599, Currency: "EUR",
					PlacedAt: &soon, Items: json.RawMessage(`[{"sku": "TEE-M", "qty": 2}]`)}
			},
			create: (*sqlstore.Store).CreateOrder, get: (*sqlstore.Store).GetOrder,
			update: (*sqlstore.Store).UpdateOrder, list: (*sqlstore.Store).ListOrders,
			change: func(m *persistence.Order) { m.Status = "refunded" },
		},
		model[persistence.Ticket, *persistence.Ticket]{
			name: "Ticket",
			build: func(t *testing.T, s *sqlstore.Store, tenantID string) persistence.Ticket {
				return persistence.Ticket{Base: persistence.Base{TenantID: tenantID}, CustomerID: newCustomer(t, s, tenantID).ID,
					Subject: "Parcel missing", Description: "Order 1001", IdempotencyKey: uniq("conv-call")}
			},
			create: (*sqlstore.Store).CreateTicket, get: (*sqlstore.Store).GetTicket,
			update: (*sqlstore.Store).UpdateTicket, list: (*sqlstore.Store).ListTickets,
			change: func(m *persistence.Ticket) { m.Status, m.Priority = persistence.TicketSolved, persistence.PriorityHigh },
		},
		model[persistence.PaymentIntent, *persistence.PaymentIntent]{
			name: "PaymentIntent",
			build: func(t *testing.T, s *sqlstore.Store, tenantID string) persistence.PaymentIntent {
				return newPaymentIntent(t, s, tenantID, false)
			},
			create: (*sqlstore.Store).CreatePaymentIntent, get: (*sqlstore.Store).GetPaymentIntent,
			update: (*sqlstore.Store).UpdatePaymentIntent, list: (*sqlstore.Store).ListPaymentIntents,
			change: func(m *persistence.PaymentIntent) { m.Status, m.ProviderRef = "succeeded", "pi_123" },
		},
		model[persistence.Transaction, *persistence.Transaction]{
			name: "Transaction",
			build: func(t *testing.T, s *sqlstore.Store, tenantID string) persistence.Transaction {
				return persistence.Transaction{Base: persistence.Base{TenantID: tenantID}, PaymentIntentID: newPaymentIntent(t, s, tenantID, true).ID,
					Kind: persistence.TransactionRefund, AmountCents: 1500, Currency: "EUR", Status: "pending", IdempotencyKey: uniq("refund")}
			},
			create: (*sqlstore.Store).CreateTransaction, get: (*sqlstore.Store).GetTransaction,
			update: (*sqlstore.Store).UpdateTransaction, list: (*sqlstore.Store).ListTransactions,
			change: func(m *persistence.Transaction) { m.Status, m.ProviderRef = "succeeded", "re_1" },
		},
		model[persistence.KnowledgeDocument, *persistence.KnowledgeDocument]{
			name: "KnowledgeDocument",
			build: func(_ *testing.T, _ *sqlstore.Store, tenantID string) persistence.KnowledgeDocument {
				return persistence.KnowledgeDocument{Base: persistence.Base{TenantID: tenantID}, Title: "Returns", Source: "upload",
					ContentType: "text/markdown", Body: "# Returns\nWithin 30 days.", Tags: []string{"faq", "returns"}, Status: persistence.KnowledgeReady,
					Kind: persistence.KnowledgePolicy, Format: "markdown", Language: "en", SourceURL: "https://brand.example/returns",
					ValidFrom: ptr(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)), Revision: 2, SizeBytes: 27, ChunkCount: 1}
			},
			create: (*sqlstore.Store).CreateKnowledgeDocument, get: (*sqlstore.Store).GetKnowledgeDocument,
			update: (*sqlstore.Store).UpdateKnowledgeDocument, list: (*sqlstore.Store).ListKnowledgeDocuments,
			change: func(m *persistence.KnowledgeDocument) {
				m.Tags, m.Status, m.Error, m.ValidFrom = nil, persistence.KnowledgeFailed, "no text", nil
			},
		},
		model[persistence.UserMemorySummary, *persistence.UserMemorySummary]{
			name: "UserMemorySummary",
			build: func(t *testing.T, s *sqlstore.Store, tenantID string) persistence.UserMemorySummary {
				return persistence.UserMemorySummary{Base: persistence.Base{TenantID: tenantID},
					CustomerID: newCustomer(t, s, tenantID).ID, Summary: "Prefers German.", MessagesCovered: 12}
			},
			create: (*sqlstore.Store).CreateUserMemorySummary, get: (*sqlstore.Store).GetUserMemorySummaryByID,
			update: (*sqlstore.Store).UpdateUserMemorySummary, list: (*sqlstore.Store).ListUserMemorySummaries,
			change: func(m *persistence.UserMemorySummary) { m.Summary, m.MessagesCovered = "Prefers German; VIP.", 30 },
		},
		model[persistence.FollowUpTask, *persistence.FollowUpTask]{
			name: "FollowUpTask",
			build: func(t *testing.T, s *sqlstore.Store, tenantID string) persistence.FollowUpTask {
				return persistence.FollowUpTask{Base: persistence.Base{TenantID: tenantID}, CustomerID: newCustomer(t, s, tenantID).ID,
					DueAt: soon, Note: "Ask about the parcel", IdempotencyKey: uniq("followup")}
			},
			create: (*sqlstore.Store).CreateFollowUpTask, get: (*sqlstore.Store).GetFollowUpTask,
			update: (*sqlstore.Store).UpdateFollowUpTask, list: (*sqlstore.Store).ListFollowUpTasks,
			change: func(m *persistence.FollowUpTask) { m.Status = persistence.FollowUpDone },
		},
		model[persistence.AuditEvent, *persistence.AuditEvent]{
			name: "AuditEvent",
			build: func(_ *testing.T, _ *sqlstore.Store, tenantID string) persistence.AuditEvent {
				return persistence.AuditEvent{Base: persistence.Base{TenantID: tenantID}, ActorKind: persistence.ActorAI,
					Action: "tool.create_ticket", TargetKind: "ticket", TargetID: uuid.NewString(), Data: json.RawMessage(`{"subject": "Parcel"}`)}
			},
			create: (*sqlstore.Store).CreateAuditEvent, get: (*sqlstore.Store).GetAuditEvent,
			list: (*sqlstore.Store).ListAuditEvents,
		},
		model[persistence.ChannelAccount, *persistence.ChannelAccount]{
			name: "ChannelAccount",
			build: func(_ *testing.T, _ *sqlstore.Store, tenantID string) persistence.ChannelAccount {
				return persistence.ChannelAccount{Base: persistence.Base{TenantID: tenantID}, Channel: "whatsapp",
					ExternalID: uniq("pnid"), Name: "Shop line", Config: json.RawMessage(`{"display_phone": "+49 30 1234"}`)}
			},
			create: (*sqlstore.Store).CreateChannelAccount, get: (*sqlstore.Store).GetChannelAccountByID,
			update: (*sqlstore.Store).UpdateChannelAccount, list: (*sqlstore.Store).ListChannelAccounts,
			change: func(m *persistence.ChannelAccount) { m.Name = "Support line" },
		},
	}
	for _, c := range cases {
		t.Run(c.caseName(), func(t *testing.T) { c.check(t, s) })
	}
}

// uniqueCase creates a record of tenantID whose unique key is key.
type uniqueCase struct {
	name   string
	create func(t *testing.T, s *sqlstore.Store, tenantID, key string) error
	// global: the key is unique across tenants, not per tenant.
	global bool
	// optional: records with an empty key never collide.
	optional bool
	// fold: the key is compared case-insensitively.
	fold bool
}

func testUniques(t *testing.T, s *sqlstore.Store) {
	ctx := context.Background()
	cases := []uniqueCase{
		{name: "identity per tenant, channel and external id", create: func(t *testing.T, s *sqlstore.Store, tenantID, key string) error {
			return s.CreateCustomerIdentity(ctx, &persistence.CustomerIdentity{Base: persistence.Base{TenantID: tenantID},
				CustomerID: newCustomer(t, s, tenantID).ID, Channel: "whatsapp", ExternalID: key})
		}},
		{name: "channel message id per tenant and channel", optional: true, create: func(t *testing.T, s *sqlstore.Store, tenantID, key string) error {
			return s.CreateMessage(ctx, &persistence.Message{Base: persistence.Base{TenantID: tenantID},
				ConversationID: newConversation(t, s, tenantID, "").ID, Direction: persistence.DirectionInbound, Channel: "whatsapp", ChannelMessageID: key})
		}},
		{name: "inbound dedupe key per tenant and channel", create: func(_ *testing.T, s *sqlstore.Store, tenantID, key string) error {
			var fresh bool
			err := s.InTx(ctx, func(tx *sqlstore.Tx) (err error) {
				fresh, err = tx.ClaimDedupeKey(ctx, tenantID, "whatsapp", key)
				return err
			})
			if err == nil && !fresh {
				err = persistence.ErrDuplicate
			}
			return err
		}},
		{name: "ticket idempotency key", optional: true, create: func(t *testing.T, s *sqlstore.Store, tenantID, key string) error {
			return s.CreateTicket(ctx, &persistence.Ticket{Base: persistence.Base{TenantID: tenantID},
				CustomerID: newCustomer(t, s, tenantID).ID, Subject: "s", IdempotencyKey: key})
		}},
		{name: "payment intent idempotency key", optional: true, create: func(t *testing.T, s *sqlstore.Store, tenantID, key string) error {
			m := newPaymentIntent(t, s, tenantID, false)
			m.IdempotencyKey = key
			return s.CreatePaymentIntent(ctx, &m)
		}},
		{name: "transaction idempotency key", optional: true, create: func(t *testing.T, s *sqlstore.Store, tenantID, key string) error {
			return s.CreateTransaction(ctx, &persistence.Transaction{Base: persistence.Base{TenantID: tenantID},
				PaymentIntentID: newPaymentIntent(t, s, tenantID, true).ID, Kind: persistence.TransactionCharge, IdempotencyKey: key})
		}},
		{name: "follow-up idempotency key", optional: true, create: func(t *testing.T, s *sqlstore.Store, tenantID, key string) error {
			return s.CreateFollowUpTask(ctx, &persistence.FollowUpTask{Base: persistence.Base{TenantID: tenantID},
				CustomerID: newCustomer(t, s, tenantID).ID, DueAt: time.Now(), IdempotencyKey: key})
		}},
		{name: "order external id per tenant and source", optional: true, create: func(t *testing.T, s *sqlstore.Store, tenantID, key string) error {
			return s.CreateOrder(ctx, &persistence.Order{Base: persistence.Base{TenantID: tenantID},
				CustomerID: newCustomer(t, s, tenantID).ID, Source: "shopify", ExternalID: key})
		}},
		{name: "user email across tenants", global: true, fold: true, create: func(_ *testing.T, s *sqlstore.Store, tenantID, key string) error {
			return s.CreateUser(ctx, &persistence.User{Base: persistence.Base{TenantID: tenantID}, Email: key + "@example.com", Role: persistence.RoleAdmin})
		}},
		{name: "channel account across tenants", global: true, create: func(_ *testing.T, s *sqlstore.Store, tenantID, key string) error {
			return s.CreateChannelAccount(ctx, &persistence.ChannelAccount{Base: persistence.Base{TenantID: tenantID}, Channel: "whatsapp", ExternalID: key})
		}},
		{name: "tenant slug", global: true, create: func(_ *testing.T, s *sqlstore.Store, _, key string) error {
			return s.CreateTenant(ctx, &persistence.Tenant{Slug: key})
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { c.check(t, s) })
	}
	t.Run("prompt version number per profile", func(t *testing.T) {
		tenantID := newTenant(t, s)
		profile, other := newAgentProfile(t, s, tenantID), newAgentProfile(t, s, tenantID)
		pv := func(profileID string) error {
			return s.CreatePromptVersion(ctx, &persistence.PromptVersion{Base: persistence.Base{TenantID: tenantID}, AgentProfileID: profileID, Number: 1})
		}
		mustNil(t, pv(profile.ID))
		mustNil(t, pv(other.ID))
		mustIs(t, pv(profile.ID), persistence.ErrDuplicate)
	})
	t.Run("memory summary per customer", func(t *testing.T) {
		tenantID := newTenant(t, s)
		c := newCustomer(t, s, tenantID)
		sum := func() error {
			return s.CreateUserMemorySummary(ctx, &persistence.UserMemorySummary{Base: persistence.Base{TenantID: tenantID}, CustomerID: c.ID})
		}
		mustNil(t, sum())
		mustIs(t, sum(), persistence.ErrDuplicate)
	})
}

func (c uniqueCase) check(t *testing.T, s *sqlstore.Store) {
	tenantA, tenantB := newTenant(t, s), newTenant(t, s)
	key := uniq("key")
	mustNil(t, c.create(t, s, tenantA, key))
	again := key
	if c.fold {
		again = strings.ToUpper(key)
	}
	mustIs(t, c.create(t, s, tenantA, again), persistence.ErrDuplicate)
	if c.global {
		mustIs(t, c.create(t, s, tenantB, key), persistence.ErrDuplicate)
	} else {
		mustNil(t, c.create(t, s, tenantB, key))
	}
	mustNil(t, c.create(t, s, tenantA, uniq("other")))
	if c.optional {
		mustNil(t, c.create(t, s, tenantA, ""))
		mustNil(t, c.create(t, s, tenantA, ""))
	}
}

func testValidation(t *testing.T, s *sqlstore.Store) {
	ctx := context.Background()
	tenantID := newTenant(t, s)
	customer := newCustomer(t, s, tenantID)
	cases := []struct {
		name  string
		table string
		write func(id string) error
	}{
		{"unknown role", "users", func(id string) error {
			return s.CreateUser(ctx, &persistence.User{Base: persistence.Base{ID: id, TenantID: tenantID}, Email: uniq("x") + "@x.io", Role: "owner"})
		}},
		{"user without email", "users", func(id string) error {
			return s.CreateUser(ctx, &persistence.User{Base: persistence.Base{ID: id, TenantID: tenantID}, Role: persistence.RoleAgent})
		}},
		{"unknown conversation status", "conversations", func(id string) error {
			return s.CreateConversation(ctx, &persistence.Conversation{Base: persistence.Base{ID: id, TenantID: tenantID}, CustomerID: customer.ID, Status: "archived"})
		}},
		{"message without direction", "messages", func(id string) error {
			return s.CreateMessage(ctx, &persistence.Message{Base: persistence.Base{ID: id, TenantID: tenantID}, ConversationID: newConversation(t, s, tenantID, "").ID})
		}},
		{"unknown delivery status", "messages", func(id string) error {
			return s.CreateMessage(ctx, &persistence.Message{Base: persistence.Base{ID: id, TenantID: tenantID},
				ConversationID: newConversation(t, s, tenantID, "").ID, Direction: persistence.DirectionInbound, DeliveryStatus: "lost"})
		}},
		{"unknown ticket priority", "tickets", func(id string) error {
			return s.CreateTicket(ctx, &persistence.Ticket{Base: persistence.Base{ID: id, TenantID: tenantID}, CustomerID: customer.ID, Priority: "asap"})
		}},
		{"unknown transaction kind", "transactions", func(id string) error {
			return s.CreateTransaction(ctx, &persistence.Transaction{Base: persistence.Base{ID: id, TenantID: tenantID},
				PaymentIntentID: newPaymentIntent(t, s, tenantID, true).ID, Kind: "chargeback"})
		}},
		{"follow-up without due time", "follow_up_tasks", func(id string) error {
			return s.CreateFollowUpTask(ctx, &persistence.FollowUpTask{Base: persistence.Base{ID: id, TenantID: tenantID}, CustomerID: customer.ID})
		}},
		{"missing tenant", "customers", func(id string) error {
			return s.CreateCustomer(ctx, &persistence.Customer{Base: persistence.Base{ID: id}, Name: "x"})
		}},
		{"malformed metadata", "customers", func(id string) error {
			return s.CreateCustomer(ctx, &persistence.Customer{Base: persistence.Base{ID: id, TenantID: tenantID, Metadata: json.RawMessage(`{"a":`)}})
		}},
		{"malformed JSON field", "orders", func(id string) error {
			return s.CreateOrder(ctx, &persistence.Order{Base: persistence.Base{ID: id, TenantID: tenantID}, CustomerID: customer.ID, Items: json.RawMessage(`[1,`)})
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			id := uuid.NewString()
			mustIs(t, c.write(id), persistence.ErrInvalid)
			if n := countRows(t, s, c.table, id); n != 0 {
				t.Errorf("invalid record was written: %d rows", n)
			}
		})
	}
	t.Run("invalid update", func(t *testing.T) {
		c := newConversation(t, s, tenantID, "")
		c.Status = "archived"
		mustIs(t, s.UpdateConversation(ctx, &c), persistence.ErrInvalid)
		got, err := s.GetConversation(ctx, tenantID, c.ID)
		mustNil(t, err)
		if got.Status != persistence.ConversationOpen || got.Version != 1 {
			t.Errorf("invalid update was written: status %q, version %d", got.Status, got.Version)
		}
	})
}

func testPagination(t *testing.T, s *sqlstore.Store) {
	ctx := context.Background()
	tenantID := newTenant(t, s)
	const n = persistence.MaxPageLimit + 1
	want := map[string]bool{}
	tied := time.Now().Add(-time.Hour)
	mustNil(t, s.InTx(ctx, func(tx *sqlstore.Tx) error {
		for i := range n {
			c := persistence.Customer{Base: persistence.Base{TenantID: tenantID}, Name: fmt.Sprint("c", i)}
			if i%3 == 0 {
				c.CreatedAt = tied // rows sharing created_at are ordered by id
			}
			if err := tx.CreateCustomer(ctx, &c); err != nil {
				return err
			}
			want[c.ID] = true
		}
		return nil
	}))
	sizes := []struct {
		name  string
		limit int
		want  int
	}{
		{"default", 0, persistence.DefaultPageLimit},
		{"negative", -1, persistence.DefaultPageLimit},
		{"above max", 10 * persistence.MaxPageLimit, persistence.MaxPageLimit},
		{"small", 7, 7},
	}
	for _, c := range sizes {
		t.Run(c.name, func(t *testing.T) {
			rows, next, err := s.ListCustomers(ctx, tenantID, persistence.Page{Limit: c.limit})
			mustNil(t, err)
			if len(rows) != c.want || next == "" {
				t.Errorf("first page: %d rows, next %q; want %d and a cursor", len(rows), next, c.want)
			}
		})
	}
	for _, limit := range []int{7, 200, persistence.MaxPageLimit} {
		t.Run(fmt.Sprint("walk by ", limit), func(t *testing.T) {
			seen := map[string]bool{}
			var last *persistence.Customer
			p := persistence.Page{Limit: limit}
			for {
				rows, next, err := s.ListCustomers(ctx, tenantID, p)
				mustNil(t, err)
				for i := range rows {
					r := &rows[i]
					if seen[r.ID] {
						t.Fatalf("%s listed twice", r.ID)
					}
					if last != nil && (r.CreatedAt.Before(last.CreatedAt) || r.CreatedAt.Equal(last.CreatedAt) && r.ID < last.ID) {
						t.Fatalf("%s (%v) listed after %s (%v): not oldest first", r.ID, r.CreatedAt, last.ID, last.CreatedAt)
					}
					seen[r.ID], last = true, r
				}
				if next == "" {
					break
				}
				p.Cursor = next
			}
			if !reflect.DeepEqual(seen, want) {
				t.Errorf("listed %d distinct rows, want the %d created", len(seen), len(want))
			}
		})
	}
	t.Run("bad cursor", func(t *testing.T) {
		for _, cur := range []string{"!!", "Zm9v", "MjAyNC0wMS0wMVQwMDowMDowMFo", "MjAyNC0wMS0wMVQwMDowMDowMFog"} {
			_, _, err := s.ListCustomers(ctx, tenantID, persistence.Page{Cursor: cur})
			mustIs(t, err, persistence.ErrInvalid)
		}
	})
	t.Run("empty", func(t *testing.T) {
		rows, next, err := s.ListCustomers(ctx, newTenant(t, s), persistence.Page{})
		if err != nil || len(rows) != 0 || next != "" {
			t.Errorf("empty tenant: %d rows, next %q, err %v", len(rows), next, err)
		}
	})
}

func testMetadata(t *testing.T, s *sqlstore.Store) {
	ctx := context.Background()
	tenantID := newTenant(t, s)
	cases := []struct {
		name string
		in   string
		want string
	}{
		{"unicode", `{"name":"Zoë Ångström","greeting":"こんにちは 👋","escaped":"\u00e9\n\"q\"","nested":{"a":[1,2.5,true,null]}}`, ""},
		{"nil", "", `{}`},
		{"blank", "  ", `{}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			want := c.want
			if want == "" {
				want = c.in
			}
			m := persistence.Customer{Base: persistence.Base{TenantID: tenantID}}
			if c.in != "" {
				m.Metadata = json.RawMessage(c.in)
			}
			mustNil(t, s.CreateCustomer(ctx, &m))
			got, err := s.GetCustomer(ctx, tenantID, m.ID)
			mustNil(t, err)
			if !jsonEqual(got.Metadata, []byte(want)) {
				t.Errorf("metadata read back %s, want %s", got.Metadata, want)
			}
			got.Metadata = json.RawMessage(`{"updated":"✓ ß"}`)
			mustNil(t, s.UpdateCustomer(ctx, &got))
			again, err := s.GetCustomer(ctx, tenantID, m.ID)
			mustNil(t, err)
			if !jsonEqual(again.Metadata, got.Metadata) {
				t.Errorf("metadata after update %s, want %s", again.Metadata, got.Metadata)
			}
		})
	}
	t.Run("JSON fields", func(t *testing.T) {
		o := persistence.Order{Base: persistence.Base{TenantID: tenantID}, CustomerID: newCustomer(t, s, tenantID).ID, Source: "manual"}
		mustNil(t, s.CreateOrder(ctx, &o))
		got, err := s.GetOrder(ctx, tenantID, o.ID)
		mustNil(t, err)
		if !jsonEqual(got.Items, []byte(`[]`)) || !jsonEqual(got.Metadata, []byte(`{}`)) {
			t.Errorf("order without items: items %s, metadata %s; want [] and {}", got.Items, got.Metadata)
		}
	})
}

func testTenantScoping(t *testing.T, s *sqlstore.Store) {
	ctx := context.Background()
	tenantA, tenantB := newTenant(t, s), newTenant(t, s)
	// The same names, numbers, thread and keys exist in both tenants.
	made, convs := map[string]persistence.Customer{}, map[string]persistence.Conversation{}
	for _, tenantID := range []string{tenantA, tenantB} {
		c := persistence.Customer{Base: persistence.Base{TenantID: tenantID}, Name: "Mia Twin", Phone: "+4917000"}
		mustNil(t, s.CreateCustomer(ctx, &c))
		mustNil(t, s.CreateCustomerIdentity(ctx, &persistence.CustomerIdentity{Base: persistence.Base{TenantID: tenantID},
			CustomerID: c.ID, Channel: "whatsapp", ExternalID: "4917000"}))
		conv := persistence.Conversation{Base: persistence.Base{TenantID: tenantID}, CustomerID: c.ID, ThreadKey: "whatsapp:4917000"}
		mustNil(t, s.CreateConversation(ctx, &conv))
		mustNil(t, s.CreateMessage(ctx, &persistence.Message{Base: persistence.Base{TenantID: tenantID}, ConversationID: conv.ID,
			Direction: persistence.DirectionInbound}))
		convs[tenantID] = conv
		mustNil(t, s.CreateTicket(ctx, &persistence.Ticket{Base: persistence.Base{TenantID: tenantID}, CustomerID: c.ID, IdempotencyKey: "k1"}))
		mustNil(t, s.CreateUserMemorySummary(ctx, &persistence.UserMemorySummary{Base: persistence.Base{TenantID: tenantID}, CustomerID: c.ID}))
		made[tenantID] = c
	}
	a := made[tenantA]
	lookups := []struct {
		name string
		// tenant returns the tenant of what the lookup found in tenant A.
		tenant func() ([]string, error)
	}{
		{"SearchCustomers", func() ([]string, error) {
			rows, err := s.SearchCustomers(ctx, tenantA, "mia", 10)
			return tenants(rows, err)
		}},
		{"SearchCustomers by identity", func() ([]string, error) {
			rows, err := s.SearchCustomers(ctx, tenantA, "4917000", 10)
			return tenants(rows, err)
		}},
		{"GetOpenConversation", func() ([]string, error) {
			return one(s.GetOpenConversation(ctx, tenantA, "whatsapp:4917000"))
		}},
		{"GetCustomerIdentity", func() ([]string, error) {
			return one(s.GetCustomerIdentity(ctx, tenantA, "whatsapp", "4917000"))
		}},
		{"GetTicketByIdempotencyKey", func() ([]string, error) {
			return one(s.GetTicketByIdempotencyKey(ctx, tenantA, "k1"))
		}},
		{"ListOpenTickets", func() ([]string, error) {
			rows, err := s.ListOpenTickets(ctx, tenantA, a.ID, 10)
			return tenants(rows, err)
		}},
		{"GetUserMemorySummary", func() ([]string, error) {
			return one(s.GetUserMemorySummary(ctx, tenantA, a.ID))
		}},
		{"ListMessages", func() ([]string, error) {
			rows, _, err := s.ListMessages(ctx, tenantA, convs[tenantA].ID, persistence.Page{})
			return tenants(rows, err)
		}},
		{"RecentMessages", func() ([]string, error) {
			return tenants(s.RecentMessages(ctx, tenantA, convs[tenantA].ID, 10))
		}},
		{"ListConversations", func() ([]string, error) {
			rows, _, err := s.ListConversations(ctx, tenantA, persistence.ConversationOpen, persistence.Page{})
			return tenants(rows, err)
		}},
	}
	for _, l := range lookups {
		t.Run(l.name, func(t *testing.T) {
			got, err := l.tenant()
			mustNil(t, err)
			if len(got) != 1 || got[0] != tenantA {
				t.Errorf("tenant A's lookup found rows of tenants %v, want exactly one of %s", got, tenantA)
			}
		})
	}
	t.Run("other tenant's customer", func(t *testing.T) {
		b := made[tenantB]
		if _, err := s.GetUserMemorySummary(ctx, tenantA, b.ID); !errors.Is(err, persistence.ErrNotFound) {
			t.Errorf("memory summary of tenant B's customer through tenant A: err %v", err)
		}
		if rows, err := s.ListOpenTickets(ctx, tenantA, b.ID, 10); err != nil || len(rows) != 0 {
			t.Errorf("tickets of tenant B's customer through tenant A: %d, err %v", len(rows), err)
		}
		if rows, _, err := s.ListMessages(ctx, tenantA, convs[tenantB].ID, persistence.Page{}); err != nil || len(rows) != 0 {
			t.Errorf("messages of tenant B's conversation through tenant A: %d, err %v", len(rows), err)
		}
	})
}

func testConversations(t *testing.T, s *sqlstore.Store) {
	ctx := context.Background()
	tenantID := newTenant(t, s)
	t.Run("GetOpenConversation", func(t *testing.T) {
		const thread = "whatsapp:491"
		if _, err := s.GetOpenConversation(ctx, tenantID, thread); !errors.Is(err, persistence.ErrNotFound) {
			t.Errorf("no conversation yet: err %v, want ErrNotFound", err)
		}
		old := newConversation(t, s, tenantID, thread)
		old.Status = persistence.ConversationClosed
		mustNil(t, s.UpdateConversation(ctx, &old))
		if _, err := s.GetOpenConversation(ctx, tenantID, thread); !errors.Is(err, persistence.ErrNotFound) {
			t.Errorf("only a closed conversation: err %v, want ErrNotFound", err)
		}
		first := newConversation(t, s, tenantID, thread)
		newer := newConversation(t, s, tenantID, thread)
		newer.Status = persistence.ConversationWaitingHuman
		mustNil(t, s.UpdateConversation(ctx, &newer))
		got, err := s.GetOpenConversation(ctx, tenantID, thread)
		if err != nil || got.ID != newer.ID {
			t.Errorf("got %s (err %v), want the newest not closed %s (older open %s)", got.ID, err, newer.ID, first.ID)
		}
	})
	t.Run("ListConversations by status", func(t *testing.T) {
		tenantID := newTenant(t, s)
		open, closed := newConversation(t, s, tenantID, ""), newConversation(t, s, tenantID, "")
		closed.Status = persistence.ConversationClosed
		mustNil(t, s.UpdateConversation(ctx, &closed))
		for status, want := range map[persistence.ConversationStatus][]string{
			"":                             {open.ID, closed.ID},
			persistence.ConversationOpen:   {open.ID},
			persistence.ConversationClosed: {closed.ID},
		} {
			rows, _, err := s.ListConversations(ctx, tenantID, status, persistence.Page{})
			mustNil(t, err)
			if got := ids(rows); !slices.Equal(got, want) {
				t.Errorf("status %q: %v, want %v", status, got, want)
			}
		}
	})
	conv, other := newConversation(t, s, tenantID, ""), newConversation(t, s, tenantID, "")
	base := time.Now().Add(-time.Minute)
	var msgs []string
	for i := range 5 {
		m := persistence.Message{Base: persistence.Base{TenantID: tenantID, CreatedAt: base.Add(time.Duration(i) * time.Millisecond)},
			ConversationID: conv.ID, Direction: persistence.DirectionInbound, Channel: "whatsapp", ChannelMessageID: uniq("wamid"), Text: fmt.Sprint(i)}
		mustNil(t, s.CreateMessage(ctx, &m))
		if m.DeliveryStatus != persistence.DeliveryReceived || m.Kind != persistence.KindText {
			t.Errorf("inbound defaults: status %q kind %q", m.DeliveryStatus, m.Kind)
		}
		msgs = append(msgs, m.ID)
	}
	mustNil(t, s.CreateMessage(ctx, &persistence.Message{Base: persistence.Base{TenantID: tenantID}, ConversationID: other.ID,
		Direction: persistence.DirectionOutbound}))
	t.Run("ListMessages", func(t *testing.T) {
		rows, _, err := s.ListMessages(ctx, tenantID, conv.ID, persistence.Page{})
		mustNil(t, err)
		if got := ids(rows); !slices.Equal(got, msgs) {
			t.Errorf("messages %v, want %v oldest first", got, msgs)
		}
	})
	t.Run("RecentMessages", func(t *testing.T) {
		rows, err := s.RecentMessages(ctx, tenantID, conv.ID, 3)
		mustNil(t, err)
		if got := ids(rows); !slices.Equal(got, msgs[2:]) {
			t.Errorf("recent %v, want the newest three in order %v", got, msgs[2:])
		}
	})
	t.Run("GetMessageByChannelID", func(t *testing.T) {
		m, err := s.GetMessage(ctx, tenantID, msgs[1])
		mustNil(t, err)
		got, err := s.GetMessageByChannelID(ctx, tenantID, "whatsapp", m.ChannelMessageID)
		if err != nil || got.ID != m.ID {
			t.Errorf("got %s (err %v), want %s", got.ID, err, m.ID)
		}
		// Another tenant holding the same provider id finds its own message.
		otherTenant := newTenant(t, s)
		theirs := persistence.Message{Base: persistence.Base{TenantID: otherTenant}, ConversationID: newConversation(t, s, otherTenant, "").ID,
			Direction: persistence.DirectionInbound, Channel: "whatsapp", ChannelMessageID: m.ChannelMessageID}
		mustNil(t, s.CreateMessage(ctx, &theirs))
		for tenant, want := range map[string]string{tenantID: m.ID, otherTenant: theirs.ID} {
			if got, err := s.GetMessageByChannelID(ctx, tenant, "whatsapp", m.ChannelMessageID); err != nil || got.ID != want {
				t.Errorf("tenant %s: got %s (err %v), want %s", tenant, got.ID, err, want)
			}
		}
		for _, key := range [][3]string{{tenantID, "messenger", m.ChannelMessageID}, {tenantID, "whatsapp", ""}, {tenantID, "whatsapp", "wamid.unknown"},
			{newTenant(t, s), "whatsapp", m.ChannelMessageID}} {
			if _, err := s.GetMessageByChannelID(ctx, key[0], key[1], key[2]); !errors.Is(err, persistence.ErrNotFound) {
				t.Errorf("%v: err %v, want ErrNotFound", key, err)
			}
		}
	})
}

func testLookups(t *testing.T, s *sqlstore.Store) {
	ctx := context.Background()
	tenantID := newTenant(t, s)
	t.Run("GetTenantBySlug", func(t *testing.T) {
		tn := persistence.Tenant{Name: "Slugged", Slug: uniq("slug")}
		mustNil(t, s.CreateTenant(ctx, &tn))
		got, err := s.GetTenantBySlug(ctx, tn.Slug)
		if err != nil || got.ID != tn.ID || got.TenantID != tn.ID {
			t.Errorf("got %+v (err %v), want %s with TenantID = ID", got, err, tn.ID)
		}
		mustIs(t, second(s.GetTenantBySlug(ctx, "no-such-slug")), persistence.ErrNotFound)
	})
	t.Run("GetUserByEmail", func(t *testing.T) {
		local := uniq("Ana.Lopez")
		u := persistence.User{Base: persistence.Base{TenantID: tenantID}, Email: " " + local + "@Example.COM", Role: persistence.RoleAdmin}
		mustNil(t, s.CreateUser(ctx, &u))
		want := strings.ToLower(local) + "@example.com"
		if u.Email != want {
			t.Errorf("stored email %q, want %q", u.Email, want)
		}
		got, err := s.GetUserByEmail(ctx, strings.ToUpper(want))
		if err != nil || got.ID != u.ID {
			t.Errorf("got %s (err %v), want %s", got.ID, err, u.ID)
		}
	})
	t.Run("GetChannelAccount", func(t *testing.T) {
		a := persistence.ChannelAccount{Base: persistence.Base{TenantID: tenantID}, Channel: "whatsapp", ExternalID: uniq("pnid")}
		mustNil(t, s.CreateChannelAccount(ctx, &a))
		got, err := s.GetChannelAccount(ctx, "whatsapp", a.ExternalID)
		if err != nil || got.ID != a.ID || got.TenantID != tenantID {
			t.Errorf("got %s of %s (err %v), want %s of %s", got.ID, got.TenantID, err, a.ID, tenantID)
		}
		mustIs(t, second(s.GetChannelAccount(ctx, "messenger", a.ExternalID)), persistence.ErrNotFound)
	})
	t.Run("SearchCustomers", func(t *testing.T) {
		tenantID := newTenant(t, s)
		zoe := persistence.Customer{Base: persistence.Base{TenantID: tenantID}, Name: "Zoe Ward", Email: "ZW@example.com", Phone: "+44 20 7946"}
		bob := persistence.Customer{Base: persistence.Base{TenantID: tenantID}, Name: "Bob 100%", Email: "bob@example.org"}
		mustNil(t, s.CreateCustomer(ctx, &zoe))
		mustNil(t, s.CreateCustomer(ctx, &bob))
		mustNil(t, s.CreateCustomerIdentity(ctx, &persistence.CustomerIdentity{Base: persistence.Base{TenantID: tenantID},
			CustomerID: bob.ID, Channel: "messenger", ExternalID: "PSID-77"}))
		cases := []struct {
			query string
			limit int
			want  []string
		}{
			{"zoe", 10, []string{zoe.ID}},
			{"zw@EXAMPLE", 10, []string{zoe.ID}},
			{"7946", 10, []string{zoe.ID}},
			{"psid-77", 10, []string{bob.ID}},
			{"example", 10, []string{zoe.ID, bob.ID}},
			{"example", 1, []string{zoe.ID}},
			{"100%", 10, []string{bob.ID}},
			{"0%", 10, []string{bob.ID}},
			{"_", 10, nil},
			{"nobody", 10, nil},
		}
		for _, c := range cases {
			rows, err := s.SearchCustomers(ctx, tenantID, c.query, c.limit)
			mustNil(t, err)
			if got := ids(rows); !slices.Equal(got, c.want) {
				t.Errorf("search %q limit %d: %v, want %v", c.query, c.limit, got, c.want)
			}
		}
	})
	t.Run("ListOpenTickets", func(t *testing.T) {
		c := newCustomer(t, s, tenantID)
		var want []string
		for _, st := range []persistence.TicketStatus{persistence.TicketOpen, persistence.TicketSolved, persistence.TicketPending, persistence.TicketClosed} {
			tk := persistence.Ticket{Base: persistence.Base{TenantID: tenantID}, CustomerID: c.ID, Status: st}
			mustNil(t, s.CreateTicket(ctx, &tk))
			if st == persistence.TicketOpen || st == persistence.TicketPending {
				want = append(want, tk.ID)
			}
		}
		mustNil(t, s.CreateTicket(ctx, &persistence.Ticket{Base: persistence.Base{TenantID: tenantID}, CustomerID: newCustomer(t, s, tenantID).ID}))
		rows, err := s.ListOpenTickets(ctx, tenantID, c.ID, 10)
		mustNil(t, err)
		if got := ids(rows); !slices.Equal(got, want) {
			t.Errorf("open tickets %v, want %v", got, want)
		}
	})
	t.Run("GetByIdempotencyKey", func(t *testing.T) {
		tk := persistence.Ticket{Base: persistence.Base{TenantID: tenantID}, CustomerID: newCustomer(t, s, tenantID).ID, IdempotencyKey: uniq("idem")}
		mustNil(t, s.CreateTicket(ctx, &tk))
		pi := newPaymentIntent(t, s, tenantID, true)
		tx := persistence.Transaction{Base: persistence.Base{TenantID: tenantID}, PaymentIntentID: pi.ID, Kind: persistence.TransactionCharge, IdempotencyKey: uniq("idem")}
		mustNil(t, s.CreateTransaction(ctx, &tx))
		fu := persistence.FollowUpTask{Base: persistence.Base{TenantID: tenantID}, CustomerID: tk.CustomerID, DueAt: time.Now(), IdempotencyKey: uniq("idem")}
		mustNil(t, s.CreateFollowUpTask(ctx, &fu))
		// A record with an empty key exists; an empty key still finds nothing.
		mustNil(t, s.CreateTicket(ctx, &persistence.Ticket{Base: persistence.Base{TenantID: tenantID}, CustomerID: tk.CustomerID}))
		cases := []struct {
			name    string
			get     func(key string) (string, error)
			key, id string
		}{
			{"ticket", func(k string) (string, error) { return idOf(s.GetTicketByIdempotencyKey(ctx, tenantID, k)) }, tk.IdempotencyKey, tk.ID},
			{"payment intent", func(k string) (string, error) { return idOf(s.GetPaymentIntentByIdempotencyKey(ctx, tenantID, k)) }, pi.IdempotencyKey, pi.ID},
			{"transaction", func(k string) (string, error) { return idOf(s.GetTransactionByIdempotencyKey(ctx, tenantID, k)) }, tx.IdempotencyKey, tx.ID},
			{"follow-up", func(k string) (string, error) { return idOf(s.GetFollowUpTaskByIdempotencyKey(ctx, tenantID, k)) }, fu.IdempotencyKey, fu.ID},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				if got, err := c.get(c.key); err != nil || got != c.id {
					t.Errorf("got %s (err %v), want %s", got, err, c.id)
				}
				for _, k := range []string{"", "unknown"} {
					_, err := c.get(k)
					mustIs(t, err, persistence.ErrNotFound)
				}
			})
		}
	})
	t.Run("Orders", func(t *testing.T) {
		c := newCustomer(t, s, tenantID)
		now := time.Now()
		var byPlaced []string
		for _, placed := range []*time.Time{nil, ptr(now.Add(-48 * time.Hour)), ptr(now.Add(-time.Hour)), ptr(now.Add(-24 * time.Hour))} {
			o := persistence.Order{Base: persistence.Base{TenantID: tenantID}, CustomerID: c.ID, Source: "shopify", ExternalID: uniq("o"), PlacedAt: placed}
			mustNil(t, s.CreateOrder(ctx, &o))
			byPlaced = append(byPlaced, o.ID)
		}
		want := []string{byPlaced[2], byPlaced[3], byPlaced[1], byPlaced[0]}
		rows, err := s.ListOrdersByCustomer(ctx, tenantID, c.ID, 10)
		mustNil(t, err)
		if got := ids(rows); !slices.Equal(got, want) {
			t.Errorf("orders %v, want most recently placed first %v", got, want)
		}
		rows, err = s.ListOrdersByCustomer(ctx, tenantID, c.ID, 2)
		mustNil(t, err)
		if !slices.Equal(ids(rows), want[:2]) {
			t.Fatalf("limit 2: %v, want %v", ids(rows), want[:2])
		}
		got, err := s.GetOrderByExternalID(ctx, tenantID, "shopify", rows[0].ExternalID)
		if err != nil || got.ID != rows[0].ID {
			t.Errorf("by external id: %s (err %v), want %s", got.ID, err, rows[0].ID)
		}
		mustIs(t, second(s.GetOrderByExternalID(ctx, tenantID, "magento", rows[0].ExternalID)), persistence.ErrNotFound)
	})
	t.Run("PromptVersions", func(t *testing.T) {
		p := newAgentProfile(t, s, tenantID)
		var want []string
		for _, n := range []int{2, 1, 3} {
			v := persistence.PromptVersion{Base: persistence.Base{TenantID: tenantID}, AgentProfileID: p.ID, Number: n, Prompt: fmt.Sprint("v", n)}
			mustNil(t, s.CreatePromptVersion(ctx, &v))
			want = append(want, v.ID)
		}
		want = []string{want[1], want[0], want[2]}
		rows, err := s.ListPromptVersions(ctx, tenantID, p.ID)
		mustNil(t, err)
		if got := ids(rows); !slices.Equal(got, want) {
			t.Errorf("versions %v, want by number %v", got, want)
		}
		v, err := s.GetPromptVersionByNumber(ctx, tenantID, p.ID, 3)
		if err != nil || v.Prompt != "v3" {
			t.Errorf("version 3: %q (err %v)", v.Prompt, err)
		}
	})
	t.Run("ListDueFollowUpTasks", func(t *testing.T) {
		now := time.Now().Add(24 * 365 * time.Hour) // after every task other cases made
		c := newCustomer(t, s, tenantID)
		mk := func(due time.Time, st persistence.FollowUpStatus) string {
			f := persistence.FollowUpTask{Base: persistence.Base{TenantID: tenantID}, CustomerID: c.ID, DueAt: due, Status: st}
			mustNil(t, s.CreateFollowUpTask(ctx, &f))
			return f.ID
		}
		late, dueNow := mk(now.Add(time.Hour), persistence.FollowUpScheduled), mk(now, persistence.FollowUpScheduled)
		mk(now.Add(-time.Hour), persistence.FollowUpDone)
		rows, err := s.ListDueFollowUpTasks(ctx, now, persistence.MaxPageLimit)
		mustNil(t, err)
		got := ids(rows)
		if !slices.Contains(got, dueNow) || slices.Contains(got, late) {
			t.Errorf("due tasks %v: want %s and not %s", got, dueNow, late)
		}
		for _, r := range rows {
			if r.Status != persistence.FollowUpScheduled || r.DueAt.After(now) {
				t.Errorf("task %s: status %s, due %v; want scheduled and due by %v", r.ID, r.Status, r.DueAt, now)
			}
		}
	})
}

// testImmutable checks that audit events are append-only and prompt
// versions immutable: the store offers no update and the database refuses
// one.
func testImmutable(t *testing.T, s *sqlstore.Store) {
	ctx := context.Background()
	tenantID := newTenant(t, s)
	if _, ok := any(s).(interface {
		UpdateAuditEvent(context.Context, *persistence.AuditEvent) error
	}); ok {
		t.Error("the store can update audit events")
	}
	if _, ok := any(s).(interface {
		UpdatePromptVersion(context.Context, *persistence.PromptVersion) error
	}); ok {
		t.Error("the store can update prompt versions")
	}
	target := uuid.NewString()
	var want []string
	for i, action := range []string{"tool.create_ticket", "conversation.takeover", "tool.refund_order"} {
		e := persistence.AuditEvent{Base: persistence.Base{TenantID: tenantID}, ActorKind: persistence.ActorAI, Action: action,
			TargetKind: "conversation", TargetID: target, Data: json.RawMessage(fmt.Sprintf(`{"step":%d}`, i))}
		mustNil(t, s.CreateAuditEvent(ctx, &e))
		want = append(want, e.ID)
	}
	mustNil(t, s.CreateAuditEvent(ctx, &persistence.AuditEvent{Base: persistence.Base{TenantID: tenantID}, TargetKind: "conversation", TargetID: uuid.NewString()}))
	rows, _, err := s.ListAuditEventsForTarget(ctx, tenantID, "conversation", target, persistence.Page{})
	mustNil(t, err)
	if got := ids(rows); !slices.Equal(got, want) {
		t.Errorf("events of the target %v, want %v in order", got, want)
	}
	p := newAgentProfile(t, s, tenantID)
	pv := persistence.PromptVersion{Base: persistence.Base{TenantID: tenantID}, AgentProfileID: p.ID, Number: 1, Prompt: "v1"}
	mustNil(t, s.CreatePromptVersion(ctx, &pv))
	for _, c := range []struct{ table, set, id string }{
		{"audit_events", "action = 'forged'", want[0]},
		{"prompt_versions", "prompt = 'forged'", pv.ID},
	} {
		t.Run(c.table, func(t *testing.T) {
			if _, err := s.DB().ExecContext(ctx, "UPDATE "+c.table+" SET "+c.set+" WHERE id = '"+c.id+"'"); err == nil {
				t.Errorf("the database let an UPDATE of %s through", c.table)
			}
		})
	}
	got, err := s.GetAuditEvent(ctx, tenantID, want[0])
	if err != nil || got.Action != "tool.create_ticket" {
		t.Errorf("audit event after refused update: %q (err %v)", got.Action, err)
	}
}

func testTransactions(t *testing.T, s *sqlstore.Store) {
	ctx := context.Background()
	tenantID := newTenant(t, s)
	var c persistence.Customer
	boom := errors.New("boom")
	err := s.InTx(ctx, func(tx *sqlstore.Tx) error {
		c = persistence.Customer{Base: persistence.Base{TenantID: tenantID}, Name: "rolled back"}
		if err := tx.CreateCustomer(ctx, &c); err != nil {
			return err
		}
		if _, err := tx.GetCustomer(ctx, tenantID, c.ID); err != nil {
			return err
		}
		return boom
	})
	mustIs(t, err, boom)
	mustIs(t, second(s.GetCustomer(ctx, tenantID, c.ID)), persistence.ErrNotFound)
	mustNil(t, s.InTx(ctx, func(tx *sqlstore.Tx) error {
		c = persistence.Customer{Base: persistence.Base{TenantID: tenantID}, Name: "committed"}
		if err := tx.CreateCustomer(ctx, &c); err != nil {
			return err
		}
		c.Name = "committed twice"
		return tx.UpdateCustomer(ctx, &c)
	}))
	got, err := s.GetCustomer(ctx, tenantID, c.ID)
	if err != nil || got.Name != "committed twice" || got.Version != 2 {
		t.Errorf("after commit: %q version %d (err %v)", got.Name, got.Version, err)
	}
}

// Fixtures.

func newTenant(t *testing.T, s *sqlstore.Store) string {
	t.Helper()
	tn := persistence.Tenant{Name: "Tenant", Slug: uniq("tenant")}
	mustNil(t, s.CreateTenant(context.Background(), &tn))
	return tn.ID
}

func newCustomer(t *testing.T, s *sqlstore.Store, tenantID string) persistence.Customer {
	t.Helper()
	c := persistence.Customer{Base: persistence.Base{TenantID: tenantID}, Name: "Customer"}
	mustNil(t, s.CreateCustomer(context.Background(), &c))
	return c
}

func newConversation(t *testing.T, s *sqlstore.Store, tenantID, thread string) persistence.Conversation {
	t.Helper()
	if thread == "" {
		thread = uniq("thread")
	}
	c := persistence.Conversation{Base: persistence.Base{TenantID: tenantID}, CustomerID: newCustomer(t, s, tenantID).ID, Channel: "whatsapp", ThreadKey: thread}
	mustNil(t, s.CreateConversation(context.Background(), &c))
	return c
}

func newAgentProfile(t *testing.T, s *sqlstore.Store, tenantID string) persistence.AgentProfile {
	t.Helper()
	p := persistence.AgentProfile{Base: persistence.Base{TenantID: tenantID}, Name: "Agent"}
	mustNil(t, s.CreateAgentProfile(context.Background(), &p))
	return p
}

// newPaymentIntent builds a payment intent of a new customer, stored when
// save is set.
func newPaymentIntent(t *testing.T, s *sqlstore.Store, tenantID string, save bool) persistence.PaymentIntent {
	t.Helper()
	p := persistence.PaymentIntent{Base: persistence.Base{TenantID: tenantID}, CustomerID: newCustomer(t, s, tenantID).ID,
		AmountCents: 2500, Currency: "EUR", Status: "pending", Provider: "stripe", IdempotencyKey: uniq("pay")}
	if save {
		mustNil(t, s.CreatePaymentIntent(context.Background(), &p))
	}
	return p
}

// Helpers.

func uniq(prefix string) string { return prefix + "-" + uuid.NewString()[:8] }

func ptr[T any](v T) *T { return &v }

func second[T any](_ T, err error) error { return err }

func idOf[T any, P record[T]](m T, err error) (string, error) { return P(&m).BaseFields().ID, err }

func one[T any, P record[T]](m T, err error) ([]string, error) {
	return []string{P(&m).BaseFields().TenantID}, err
}

func tenants[T any, P record[T]](rows []T, err error) ([]string, error) {
	var out []string
	for i := range rows {
		out = append(out, P(&rows[i]).BaseFields().TenantID)
	}
	return out, err
}

func ids[T any, P record[T]](rows []T) []string {
	var out []string
	for i := range rows {
		out = append(out, P(&rows[i]).BaseFields().ID)
	}
	return out
}

func countRows(t *testing.T, s *sqlstore.Store, table, id string) int {
	t.Helper()
	var n int
	if err := s.DB().QueryRowContext(context.Background(), "SELECT COUNT(*) FROM "+table+" WHERE id = '"+id+"'").Scan(&n); err != nil {
		t.Fatalf("count %s: %v", table, err)
	}
	return n
}

func mustNil(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func mustIs(t *testing.T, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Errorf("err %v, want %v", err, want)
	}
}

func mustEqual(t *testing.T, what string, want, got any) {
	t.Helper()
	if d := diff(want, got); d != "" {
		t.Errorf("%s: %s", what, d)
	}
}

// diff lists the fields in which got differs from want. JSON fields compare
// as JSON values and times with Equal; got's times must be UTC.
func diff(want, got any) string {
	var out []string
	var walk func(path string, w, g reflect.Value)
	walk = func(path string, w, g reflect.Value) {
		switch v := w.Interface().(type) {
		case json.RawMessage:
			if !jsonEqual(v, g.Bytes()) {
				out = append(out, fmt.Sprintf("%s: %s, want %s", path, g.Bytes(), v))
			}
			return
		case time.Time:
			gt := g.Interface().(time.Time)
			if !v.Equal(gt) || gt.Location() != time.UTC {
				out = append(out, fmt.Sprintf("%s: %v, want %v in UTC", path, gt, v))
			}
			return
		case *time.Time:
			if v == nil || g.IsNil() {
				if v != nil || !g.IsNil() {
					out = append(out, fmt.Sprintf("%s: %v, want %v", path, g.Interface(), v))
				}
				return
			}
			walk(path, w.Elem(), g.Elem())
			return
		}
		if w.Kind() == reflect.Struct {
			for i := range w.NumField() {
				walk(path+"."+w.Type().Field(i).Name, w.Field(i), g.Field(i))
			}
			return
		}
		if !reflect.DeepEqual(w.Interface(), g.Interface()) {
			out = append(out, fmt.Sprintf("%s: %#v, want %#v", path, g.Interface(), w.Interface()))
		}
	}
	walk(reflect.TypeOf(want).Name(), reflect.ValueOf(want), reflect.ValueOf(got))
	return strings.Join(out, "; ")
}

func jsonEqual(a, b []byte) bool {
	var x, y any
	return json.Unmarshal(a, &x) == nil && json.Unmarshal(b, &y) == nil && reflect.DeepEqual(x, y)
}

// testNotes checks that private notes are stored per conversation, listed
// oldest first with pagination, scoped by tenant and validated.
func testNotes(t *testing.T, s *sqlstore.Store) {
	ctx := context.Background()
	tenantA, tenantB := newTenant(t, s), newTenant(t, s)
	conv := newConversation(t, s, tenantA, "")
	other := newConversation(t, s, tenantA, "")
	var want []string
	for i := range 3 {
		n := persistence.Note{Base: persistence.Base{TenantID: tenantA}, ConversationID: conv.ID, AuthorID: "u1", Text: fmt.Sprintf("note %d", i)}
		mustNil(t, s.CreateNote(ctx, &n))
		want = append(want, n.ID)
	}
	mustNil(t, s.CreateNote(ctx, &persistence.Note{Base: persistence.Base{TenantID: tenantA}, ConversationID: other.ID, AuthorID: "u1", Text: "elsewhere"}))
	page, next, err := s.ListNotes(ctx, tenantA, conv.ID, persistence.Page{Limit: 2})
	mustNil(t, err)
	rest, last, err := s.ListNotes(ctx, tenantA, conv.ID, persistence.Page{Limit: 2, Cursor: next})
	mustNil(t, err)
	if got := append(ids(page), ids(rest)...); !slices.Equal(got, want) || next == "" || last != "" {
		t.Fatalf("notes = %v (cursors %q, %q), want %v in two pages", got, next, last, want)
	}
	if page[0].Text != "note 0" || page[0].AuthorID != "u1" || page[0].CreatedAt.IsZero() {
		t.Errorf("first note = %+v", page[0])
	}
	if foreign, _, err := s.ListNotes(ctx, tenantB, conv.ID, persistence.Page{}); err != nil || len(foreign) != 0 {
		t.Errorf("another tenant lists %d notes (%v), want none", len(foreign), err)
	}
	for _, bad := range []persistence.Note{
		{Base: persistence.Base{TenantID: tenantA}, ConversationID: conv.ID, AuthorID: "u1"},
		{Base: persistence.Base{TenantID: tenantA}, ConversationID: conv.ID, Text: "x"},
		{Base: persistence.Base{TenantID: tenantA}, AuthorID: "u1", Text: "x"},
	} {
		mustIs(t, s.CreateNote(ctx, &bad), persistence.ErrInvalid)
	}
}
