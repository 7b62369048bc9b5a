package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/frontdesk-ai/frontdesk/persistence"
	"github.com/frontdesk-ai/frontdesk/persistence/sqlstore"
	"github.com/frontdesk-ai/frontdesk/persistence/sqlstore/sqlstoretest"
)

// testConfirmations checks the store side of the customer grain's pending
// confirmations (version-checked, idempotent per tenant, validated, listed
// per customer) and of the durable grain reminders that expire them.
func testConfirmations(t *testing.T, s *sqlstore.Store) {
	ctx := context.Background()
	soon := time.Now().Add(10*time.Minute + 123*time.Nanosecond)
	newConfirmation := func(tenantID, customerID string) persistence.Confirmation {
		return persistence.Confirmation{Base: persistence.Base{TenantID: tenantID}, CustomerID: customerID,
			ConversationID: uuid.NewString(), Action: "refund_order", Arguments: json.RawMessage(`{"order_id": "1001", "amount": 1500}`),
			AmountMinor: 1500, Currency: "EUR", ExpiresAt: soon}
	}

	t.Run("Model", func(t *testing.T) {
		model[persistence.Confirmation, *persistence.Confirmation]{
			name: "Confirmation",
			build: func(t *testing.T, s *sqlstore.Store, tenantID string) persistence.Confirmation {
				c := newConfirmation(tenantID, newCustomer(t, s, tenantID).ID)
				c.IdempotencyKey = uniq("conv-call")
				return c
			},
			create: (*sqlstore.Store).CreateConfirmation, get: (*sqlstore.Store).GetConfirmation,
			update: (*sqlstore.Store).UpdateConfirmation,
			change: func(m *persistence.Confirmation) {
				m.State, m.ResolvedAt = persistence.ConfirmationConfirmed, ptr(soon.Add(-time.Minute))
			},
		}.check(t, s)
	})

	t.Run("Defaults", func(t *testing.T) {
		tenantID := newTenant(t, s)
		c := persistence.Confirmation{Base: persistence.Base{TenantID: tenantID}, CustomerID: newCustomer(t, s, tenantID).ID,
			Action: "cancel_order", ExpiresAt: soon}
		mustNil(t, s.CreateConfirmation(ctx, &c))
		got, err := s.GetConfirmation(ctx, tenantID, c.ID)
		mustNil(t, err)
		if got.State != persistence.ConfirmationPending || got.ResolvedAt != nil || got.Currency != "" || got.AmountMinor != 0 || !jsonEqual(got.Arguments, []byte("{}")) {
			t.Errorf("stored %+v; want pending, unresolved, no money and {} arguments", got)
		}
		mustEqual(t, "get", c, got)
	})

	t.Run("IdempotencyKey", func(t *testing.T) {
		uniqueCase{name: "confirmation idempotency key", optional: true, create: func(t *testing.T, s *sqlstore.Store, tenantID, key string) error {
			c := newConfirmation(tenantID, newCustomer(t, s, tenantID).ID)
			c.IdempotencyKey = key
			return s.CreateConfirmation(ctx, &c)
		}}.check(t, s)

		tenantA, tenantB := newTenant(t, s), newTenant(t, s)
		key := uniq("call")
		a := newConfirmation(tenantA, newCustomer(t, s, tenantA).ID)
		a.IdempotencyKey = key
		mustNil(t, s.CreateConfirmation(ctx, &a))
		got, err := s.GetConfirmationByIdempotencyKey(ctx, tenantA, key)
		mustNil(t, err)
		mustEqual(t, "by idempotency key", a, got)
		mustIs(t, second(s.GetConfirmationByIdempotencyKey(ctx, tenantB, key)), persistence.ErrNotFound)
		mustIs(t, second(s.GetConfirmationByIdempotencyKey(ctx, tenantA, uniq("call"))), persistence.ErrNotFound)
		mustIs(t, second(s.GetConfirmationByIdempotencyKey(ctx, tenantA, "")), persistence.ErrNotFound)
	})

	t.Run("Validation", func(t *testing.T) {
		tenantID := newTenant(t, s)
		customerID := newCustomer(t, s, tenantID).ID
		for _, c := range []struct {
			name   string
			breaks func(*persistence.Confirmation)
		}{
			{"unknown state", func(c *persistence.Confirmation) { c.State = "maybe" }},
			{"no customer", func(c *persistence.Confirmation) { c.CustomerID = "" }},
			{"no action", func(c *persistence.Confirmation) { c.Action = "" }},
			{"no expiry", func(c *persistence.Confirmation) { c.ExpiresAt = time.Time{} }},
			{"negative amount", func(c *persistence.Confirmation) { c.AmountMinor = -1 }},
			{"amount without currency", func(c *persistence.Confirmation) { c.Currency = "" }},
			{"lower-case currency", func(c *persistence.Confirmation) { c.Currency = "eur" }},
			{"currency not three letters", func(c *persistence.Confirmation) { c.Currency = "EURO" }},
			{"malformed arguments", func(c *persistence.Confirmation) { c.Arguments = json.RawMessage(`{"order_id":`) }},
			{"missing tenant", func(c *persistence.Confirmation) { c.TenantID = "" }},
		} {
			t.Run(c.name, func(t *testing.T) {
				m := newConfirmation(tenantID, customerID)
				m.ID = uuid.NewString()
				c.breaks(&m)
				mustIs(t, s.CreateConfirmation(ctx, &m), persistence.ErrInvalid)
				if n := countRows(t, s, "confirmations", m.ID); n != 0 {
					t.Errorf("invalid confirmation was written: %d rows", n)
				}
			})
		}
		t.Run("invalid update", func(t *testing.T) {
			m := newConfirmation(tenantID, customerID)
			mustNil(t, s.CreateConfirmation(ctx, &m))
			m.State = "approved"
			mustIs(t, s.UpdateConfirmation(ctx, &m), persistence.ErrInvalid)
			got, err := s.GetConfirmation(ctx, tenantID, m.ID)
			mustNil(t, err)
			if got.State != persistence.ConfirmationPending || got.Version != 1 {
				t.Errorf("invalid update was written: state %q, version %d", got.State, got.Version)
			}
		})
	})

	t.Run("ListByCustomer", func(t *testing.T) {
		tenantA, tenantB := newTenant(t, s), newTenant(t, s)
		cust, otherCust := newCustomer(t, s, tenantA), newCustomer(t, s, tenantA)
		t0 := time.Now().Add(-time.Hour)
		mk := func(tenantID, customerID string, created time.Time, st persistence.ConfirmationState) persistence.Confirmation {
			c := newConfirmation(tenantID, customerID)
			c.CreatedAt, c.State = created, st
			mustNil(t, s.CreateConfirmation(ctx, &c))
			return c
		}
		// Created out of order: the list orders by creation time.
		third := mk(tenantA, cust.ID, t0.Add(3*time.Minute), persistence.ConfirmationPending)
		first := mk(tenantA, cust.ID, t0.Add(1*time.Minute), persistence.ConfirmationPending)
		middle := mk(tenantA, cust.ID, t0.Add(2*time.Minute), persistence.ConfirmationConfirmed)
		expired := mk(tenantA, cust.ID, t0.Add(4*time.Minute), persistence.ConfirmationExpired)
		mk(tenantA, otherCust.ID, t0, persistence.ConfirmationPending)
		// Tenant B's row under the same customer id: only the query scopes it.
		foreign := mk(tenantB, cust.ID, t0, persistence.ConfirmationPending)

		for _, c := range []struct {
			name   string
			states []persistence.ConfirmationState
			want   []persistence.Confirmation
		}{
			{"pending", []persistence.ConfirmationState{persistence.ConfirmationPending}, []persistence.Confirmation{first, third}},
			{"pending or confirmed", []persistence.ConfirmationState{persistence.ConfirmationConfirmed, persistence.ConfirmationPending},
				[]persistence.Confirmation{first, middle, third}},
			{"any state", nil, []persistence.Confirmation{first, middle, third, expired}},
			{"executed", []persistence.ConfirmationState{persistence.ConfirmationExecuted}, nil},
		} {
			t.Run(c.name, func(t *testing.T) {
				got, err := s.ListConfirmationsByCustomer(ctx, tenantA, cust.ID, c.states...)
				mustNil(t, err)
				if !slices.Equal(ids(got), ids(c.want)) {
					t.Fatalf("confirmations %v, want oldest first %v", ids(got), ids(c.want))
				}
				for i := range got {
					mustEqual(t, "listed", c.want[i], got[i])
				}
			})
		}
		got, err := s.ListConfirmationsByCustomer(ctx, tenantB, cust.ID)
		mustNil(t, err)
		if !slices.Equal(ids(got), []string{foreign.ID}) {
			t.Errorf("tenant B lists %v, want only its own %s", ids(got), foreign.ID)
		}
		mustIs(t, second(s.ListConfirmationsByCustomer(ctx, tenantA, cust.ID, "maybe")), persistence.ErrInvalid)
	})

	t.Run("ListByCustomerBounded", func(t *testing.T) {
		tenantID := newTenant(t, s)
		customerID := newCustomer(t, s, tenantID).ID
		const n, bound = 205, 200
		t0 := time.Now().Add(-time.Hour)
		var all []string
		mustNil(t, s.InTx(ctx, func(tx *sqlstore.Tx) error {
			for i := range n {
				c := newConfirmation(tenantID, customerID)
				c.CreatedAt = t0.Add(time.Duration(i) * time.Second)
				if err := tx.CreateConfirmation(ctx, &c); err != nil {
					return err
				}
				all = append(all, c.ID)
			}
			return nil
		}))
		got, err := s.ListConfirmationsByCustomer(ctx, tenantID, customerID)
		mustNil(t, err)
		if !slices.Equal(ids(got), all[n-bound:]) {
			t.Errorf("listed %d confirmations; want the newest %d, oldest first", len(got), bound)
		}
	})

	t.Run("Reminders", func(t *testing.T) { testReminders(t, s) })
}

// testReminders checks that grain reminders are saved once per (kind,
// identity, name), listed when due soonest first, deleted idempotently and
// kept across a restart of the store.
func testReminders(t *testing.T, s *sqlstore.Store) {
	ctx := context.Background()
	tenantID := newTenant(t, s)
	// Due times long past, so that the due list of this shared store starts
	// with this test's reminders.
	t0 := time.Date(2001, 2, 3, 4, 5, 6, 789_123_456, time.Local)
	at := func(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }
	grain, other := uniq("customer"), uniq("customer")
	rem := func(identity, name string, due time.Time, payload string) persistence.Reminder {
		return persistence.Reminder{TenantID: tenantID, Kind: "customer", Identity: identity, Name: name, DueAt: due,
			Payload: json.RawMessage(payload)}
	}
	// want returns r as a read returns it.
	want := func(r persistence.Reminder) persistence.Reminder {
		r.DueAt = r.DueAt.UTC().Truncate(time.Microsecond)
		if len(r.Payload) == 0 {
			r.Payload = json.RawMessage("{}")
		}
		return r
	}
	mustList := func(t *testing.T, what string, got []persistence.Reminder, err error, want ...persistence.Reminder) {
		t.Helper()
		mustNil(t, err)
		if len(got) != len(want) {
			t.Fatalf("%s: %d reminders %+v, want %d %+v", what, len(got), got, len(want), want)
		}
		for i := range got {
			mustEqual(t, what, want[i], got[i])
		}
	}

	late := rem(grain, "confirmation:b", at(20), `{"confirmation_id": "b"}`)
	early := rem(grain, "confirmation:a", at(10), `{"confirmation_id": "a"}`)
	later := rem(grain, "follow-up", at(90), "")
	now := rem(other, "confirmation:c", at(30), `{"confirmation_id": "c"}`)
	soonest := rem(other, "confirmation:d", at(5), `[1, 2]`)
	for _, r := range []persistence.Reminder{late, early, later, now, soonest} {
		mustNil(t, s.SaveReminder(ctx, r))
	}

	t.Run("due soonest first", func(t *testing.T) {
		got, err := s.ListDueReminders(ctx, at(30), 10)
		mustList(t, "due at +30m", got, err, want(soonest), want(early), want(late), want(now))
		got, err = s.ListDueReminders(ctx, at(30), 2)
		mustList(t, "due at +30m, limit 2", got, err, want(soonest), want(early))
		got, err = s.ListDueReminders(ctx, at(4), 10)
		mustList(t, "due at +4m", got, err)
	})
	t.Run("of a grain", func(t *testing.T) {
		got, err := s.ListRemindersOf(ctx, "customer", grain)
		mustList(t, "grain", got, err, want(early), want(late), want(later))
		got, err = s.ListRemindersOf(ctx, "conversation", grain)
		mustList(t, "same identity, other kind", got, err)
	})
	t.Run("save again moves it", func(t *testing.T) {
		moved := early
		moved.DueAt, moved.Payload = at(60), json.RawMessage(`{"confirmation_id": "a", "try": 2}`)
		mustNil(t, s.SaveReminder(ctx, moved))
		got, err := s.ListRemindersOf(ctx, "customer", grain)
		mustList(t, "after moving", got, err, want(late), want(moved), want(later))
		got, err = s.ListDueReminders(ctx, at(30), 10)
		mustList(t, "due after moving", got, err, want(soonest), want(late), want(now))
	})
	t.Run("delete", func(t *testing.T) {
		mustNil(t, s.DeleteReminder(ctx, "customer", grain, late.Name))
		mustNil(t, s.DeleteReminder(ctx, "customer", grain, late.Name))
		mustNil(t, s.DeleteReminder(ctx, "customer", uniq("customer"), "never-saved"))
		got, err := s.ListDueReminders(ctx, at(30), 10)
		mustList(t, "due after delete", got, err, want(soonest), want(now))
		got, err = s.ListRemindersOf(ctx, "customer", other)
		mustList(t, "other grain after delete", got, err, want(soonest), want(now))
	})
	t.Run("rolled back", func(t *testing.T) {
		name := uniq("rolled-back")
		errRollback := errors.New("roll back")
		err := s.InTx(ctx, func(tx *sqlstore.Tx) error {
			if err := tx.SaveReminder(ctx, rem(grain, name, at(1), "")); err != nil {
				return err
			}
			return errRollback
		})
		mustIs(t, err, errRollback)
		got, err := s.ListRemindersOf(ctx, "customer", grain)
		mustNil(t, err)
		for _, r := range got {
			if r.Name == name {
				t.Errorf("a reminder saved in a rolled-back transaction is stored")
			}
		}
	})
	t.Run("validation", func(t *testing.T) {
		for _, c := range []struct {
			name   string
			breaks func(*persistence.Reminder)
		}{
			{"no tenant", func(r *persistence.Reminder) { r.TenantID = "" }},
			{"no kind", func(r *persistence.Reminder) { r.Kind = "" }},
			{"no identity", func(r *persistence.Reminder) { r.Identity = "" }},
			{"no name", func(r *persistence.Reminder) { r.Name = "" }},
			{"no due time", func(r *persistence.Reminder) { r.DueAt = time.Time{} }},
			{"malformed payload", func(r *persistence.Reminder) { r.Payload = json.RawMessage(`{"a":`) }},
		} {
			t.Run(c.name, func(t *testing.T) {
				identity := uniq("customer")
				r := rem(identity, "x", at(1), "")
				c.breaks(&r)
				mustIs(t, s.SaveReminder(ctx, r), persistence.ErrInvalid)
				got, err := s.ListRemindersOf(ctx, "customer", identity)
				mustList(t, "after an invalid save", got, err)
			})
		}
	})
	t.Run("survive a restart", func(t *testing.T) {
		cfg := sqlstoretest.Config(t, s.Dialect())
		first, err := sqlstore.Open(ctx, cfg)
		mustNil(t, err)
		if _, err := first.Migrate(ctx); err != nil {
			first.Close()
			t.Fatalf("migrate: %v", err)
		}
		r := rem(grain, "confirmation:a", at(10), `{"confirmation_id": "a"}`)
		err = first.SaveReminder(ctx, r)
		first.Close()
		mustNil(t, err)
		restarted := sqlstoretest.OpenConfig(t, cfg)
		got, err := restarted.ListRemindersOf(ctx, "customer", grain)
		mustList(t, "after restart", got, err, want(r))
		got, err = restarted.ListDueReminders(ctx, at(10), 10)
		mustList(t, "due after restart", got, err, want(r))
	})
}
