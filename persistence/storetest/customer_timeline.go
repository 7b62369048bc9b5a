package storetest

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/frontdesk-ai/frontdesk/persistence"
	"github.com/frontdesk-ai/frontdesk/persistence/sqlstore"
)

// testCustomerTimeline checks the per-customer reads behind the customer
// view: newest first, bounded by limit, and never another tenant's or
// another customer's rows, even when both share ids of customers.
func testCustomerTimeline(t *testing.T, s *sqlstore.Store) {
	ctx := context.Background()
	tenantA, tenantB := newTenant(t, s), newTenant(t, s)
	cust := newCustomer(t, s, tenantA)
	otherCust := newCustomer(t, s, tenantA)
	t0 := time.Now().Add(-10 * time.Hour).UTC().Truncate(time.Second)
	at := func(h int) time.Time { return t0.Add(time.Duration(h) * time.Hour) }
	// noise writes a newer row of the same kind for another customer of
	// tenant A and one of tenant B under the same customer id: foreign keys
	// do not check tenants, so the query alone must scope them.
	noise := func(create func(tenantID, customerID string)) {
		create(tenantA, otherCust.ID)
		create(tenantB, cust.ID)
	}
	// onlyTenantB fails unless the lookup found exactly tenant B's row.
	onlyTenantB := func(t *testing.T) func(tenantIDs []string, err error) {
		return func(tenantIDs []string, err error) {
			t.Helper()
			mustNil(t, err)
			if len(tenantIDs) != 1 || tenantIDs[0] != tenantB {
				t.Errorf("tenant B's lookup found rows of tenants %v, want exactly its own one", tenantIDs)
			}
		}
	}

	t.Run("ListConversationsByCustomer", func(t *testing.T) {
		mk := func(tenantID, customerID, channel string, created time.Time, last *time.Time, status persistence.ConversationStatus) persistence.Conversation {
			c := persistence.Conversation{Base: persistence.Base{TenantID: tenantID, CreatedAt: created}, CustomerID: customerID,
				Channel: channel, ThreadKey: uniq("thread"), LastMessageAt: last, Status: status}
			mustNil(t, s.CreateConversation(ctx, &c))
			return c
		}
		// Created oldest to newest, but active in another order.
		quiet := mk(tenantA, cust.ID, "whatsapp", at(0), nil, persistence.ConversationClosed)        // active at 0
		busy := mk(tenantA, cust.ID, "messenger", at(1), ptr(at(8)), persistence.ConversationClosed) // active at 8
		recent := mk(tenantA, cust.ID, "whatsapp", at(5), ptr(at(6)), persistence.ConversationOpen)  // active at 6
		fresh := mk(tenantA, cust.ID, "whatsapp", at(7), nil, persistence.ConversationClosed)        // active at 7
		noise(func(tenantID, customerID string) {
			mk(tenantID, customerID, "whatsapp", at(9), ptr(at(9)), persistence.ConversationOpen)
		})
		want := []string{busy.ID, fresh.ID, recent.ID, quiet.ID}
		rows, err := s.ListConversationsByCustomer(ctx, tenantA, cust.ID, 10)
		mustNil(t, err)
		if got := ids(rows); !slices.Equal(got, want) {
			t.Errorf("conversations %v, want most recently active first %v", got, want)
		}
		rows, err = s.ListConversationsByCustomer(ctx, tenantA, cust.ID, 2)
		mustNil(t, err)
		if got := ids(rows); !slices.Equal(got, want[:2]) {
			t.Errorf("limit 2: %v, want %v", got, want[:2])
		}
		onlyTenantB(t)(tenants(s.ListConversationsByCustomer(ctx, tenantB, cust.ID, 10)))

		for _, c := range []struct {
			name, channel string
			get           func(ctx context.Context, tenantID, customerID, channel string) (persistence.Conversation, error)
			want          string
		}{
			{"latest", "", s.GetLatestConversationOfCustomer, busy.ID},
			{"latest on whatsapp", "whatsapp", s.GetLatestConversationOfCustomer, fresh.ID},
			{"open", "", s.GetOpenConversationOfCustomer, recent.ID},
			{"open on whatsapp", "whatsapp", s.GetOpenConversationOfCustomer, recent.ID},
		} {
			t.Run(c.name, func(t *testing.T) {
				got, err := c.get(ctx, tenantA, cust.ID, c.channel)
				if err != nil || got.ID != c.want {
					t.Errorf("got %s (err %v), want %s", got.ID, err, c.want)
				}
			})
		}
		t.Run("not found", func(t *testing.T) {
			mustIs(t, second(s.GetOpenConversationOfCustomer(ctx, tenantA, cust.ID, "messenger")), persistence.ErrNotFound)
			mustIs(t, second(s.GetLatestConversationOfCustomer(ctx, tenantA, cust.ID, "telegram")), persistence.ErrNotFound)
			mustIs(t, second(s.GetOpenConversationOfCustomer(ctx, tenantA, otherCust.ID, "messenger")), persistence.ErrNotFound)
			onlyTenantB(t)(one(s.GetLatestConversationOfCustomer(ctx, tenantB, cust.ID, "")))
			onlyTenantB(t)(one(s.GetOpenConversationOfCustomer(ctx, tenantB, cust.ID, "")))
		})
	})

	t.Run("ListTicketsByCustomer", func(t *testing.T) {
		var want []string
		for i, st := range []persistence.TicketStatus{persistence.TicketClosed, persistence.TicketOpen, persistence.TicketSolved, persistence.TicketPending} {
			tk := persistence.Ticket{Base: persistence.Base{TenantID: tenantA, CreatedAt: at(i)}, CustomerID: cust.ID, Subject: string(st), Status: st}
			mustNil(t, s.CreateTicket(ctx, &tk))
			want = append([]string{tk.ID}, want...)
		}
		noise(func(tenantID, customerID string) {
			mustNil(t, s.CreateTicket(ctx, &persistence.Ticket{Base: persistence.Base{TenantID: tenantID, CreatedAt: at(9)}, CustomerID: customerID}))
		})
		rows, err := s.ListTicketsByCustomer(ctx, tenantA, cust.ID, 10)
		mustNil(t, err)
		if got := ids(rows); !slices.Equal(got, want) {
			t.Errorf("tickets %v, want every status, newest first %v", got, want)
		}
		rows, err = s.ListTicketsByCustomer(ctx, tenantA, cust.ID, 3)
		mustNil(t, err)
		if got := ids(rows); !slices.Equal(got, want[:3]) {
			t.Errorf("limit 3: %v, want %v", got, want[:3])
		}
		onlyTenantB(t)(tenants(s.ListTicketsByCustomer(ctx, tenantB, cust.ID, 10)))
	})

	t.Run("ListPaymentIntentsByCustomer", func(t *testing.T) {
		var want []string
		for i := range 4 {
			p := persistence.PaymentIntent{Base: persistence.Base{TenantID: tenantA, CreatedAt: at(i)}, CustomerID: cust.ID,
				AmountCents: int64(100 * (i + 1)), Currency: "EUR", Status: "pending", Provider: "stripe"}
			mustNil(t, s.CreatePaymentIntent(ctx, &p))
			want = append([]string{p.ID}, want...)
		}
		// Two intents created at the same moment are ordered by id, newest
		// (largest) first.
		tiedAt := at(6)
		var tied []string
		for range 2 {
			p := persistence.PaymentIntent{Base: persistence.Base{TenantID: tenantA, CreatedAt: tiedAt}, CustomerID: cust.ID, Currency: "EUR"}
			mustNil(t, s.CreatePaymentIntent(ctx, &p))
			tied = append(tied, p.ID)
		}
		slices.Sort(tied)
		slices.Reverse(tied)
		want = append(tied, want...)
		noise(func(tenantID, customerID string) {
			mustNil(t, s.CreatePaymentIntent(ctx, &persistence.PaymentIntent{Base: persistence.Base{TenantID: tenantID, CreatedAt: at(9)}, CustomerID: customerID}))
		})
		rows, err := s.ListPaymentIntentsByCustomer(ctx, tenantA, cust.ID, 10)
		mustNil(t, err)
		if got := ids(rows); !slices.Equal(got, want) {
			t.Errorf("payment intents %v, want newest first %v", got, want)
		}
		rows, err = s.ListPaymentIntentsByCustomer(ctx, tenantA, cust.ID, 1)
		mustNil(t, err)
		if got := ids(rows); !slices.Equal(got, want[:1]) {
			t.Errorf("limit 1: %v, want %v", got, want[:1])
		}
		onlyTenantB(t)(tenants(s.ListPaymentIntentsByCustomer(ctx, tenantB, cust.ID, 10)))
	})

	t.Run("ListIdentitiesOfCustomers", func(t *testing.T) {
		tenantID := newTenant(t, s)
		a, b, c := newCustomer(t, s, tenantID), newCustomer(t, s, tenantID), newCustomer(t, s, tenantID)
		made := map[string][]string{}
		for i, cu := range []persistence.Customer{a, a, b, c} {
			id := persistence.CustomerIdentity{Base: persistence.Base{TenantID: tenantID, CreatedAt: at(i)}, CustomerID: cu.ID,
				Channel: "whatsapp", ExternalID: uniq("49")}
			mustNil(t, s.CreateCustomerIdentity(ctx, &id))
			made[cu.ID] = append(made[cu.ID], id.ID)
		}
		// The same external id in tenant B, under a customer id of tenant A.
		mustNil(t, s.CreateCustomerIdentity(ctx, &persistence.CustomerIdentity{Base: persistence.Base{TenantID: tenantB},
			CustomerID: a.ID, Channel: "whatsapp", ExternalID: uniq("49")}))
		rows, err := s.ListIdentitiesOfCustomers(ctx, tenantID, []string{b.ID, a.ID, a.ID, "missing"})
		mustNil(t, err)
		got := map[string][]string{}
		for _, r := range rows {
			if r.TenantID != tenantID {
				t.Errorf("identity %s of tenant %s", r.ID, r.TenantID)
			}
			got[r.CustomerID] = append(got[r.CustomerID], r.ID)
		}
		if len(got) != 2 || !slices.Equal(got[a.ID], made[a.ID]) || !slices.Equal(got[b.ID], made[b.ID]) {
			t.Errorf("identities %v, want those of a and b, oldest first: %v", got, made)
		}
		if rows, err := s.ListIdentitiesOfCustomers(ctx, tenantID, nil); err != nil || len(rows) != 0 {
			t.Errorf("no ids: %d rows, err %v", len(rows), err)
		}
	})
}
