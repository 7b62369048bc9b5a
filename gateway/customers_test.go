package gateway_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
	"golang.org/x/crypto/bcrypt"

	"github.com/frontdesk-ai/frontdesk/dashboard/liveview"
	"github.com/frontdesk-ai/frontdesk/gateway"
	"github.com/frontdesk-ai/frontdesk/persistence"
	"github.com/frontdesk-ai/frontdesk/persistence/sqlstore"
	"github.com/frontdesk-ai/frontdesk/persistence/sqlstore/sqlstoretest"
)

type identityOut struct {
	ID          string
	Channel     string
	ExternalID  string `json:"external_id"`
	DisplayName string `json:"display_name"`
}

type customerOut struct {
	ID, Name, Email, Phone string
	Identities             []identityOut
}

type customersOut struct {
	Customers  []customerOut
	NextCursor string `json:"next_cursor"`
}

type ticketOut struct {
	ID             string
	CustomerID     string `json:"customer_id"`
	ConversationID string `json:"conversation_id"`
	Subject        string
	Description    string
	Priority       string
	Status         string
	CreatedAt      time.Time `json:"created_at"`
}

// makeCustomer stores c (of tenantID) with the identities externalIDs on
// whatsapp.
func (f *fixture) makeCustomer(tenantID string, c persistence.Customer, externalIDs ...string) persistence.Customer {
	f.t.Helper()
	ctx := context.Background()
	c.TenantID = tenantID
	if err := f.store.CreateCustomer(ctx, &c); err != nil {
		f.t.Fatalf("create customer: %v", err)
	}
	for _, ext := range externalIDs {
		id := persistence.CustomerIdentity{Base: persistence.Base{TenantID: tenantID}, CustomerID: c.ID, Channel: "whatsapp",
			ExternalID: ext, DisplayName: c.Name}
		if err := f.store.CreateCustomerIdentity(ctx, &id); err != nil {
			f.t.Fatalf("create identity: %v", err)
		}
	}
	return c
}

// requestWith sends a request with extra headers; body is marshalled to
// JSON unless nil.
func (f *fixture) requestWith(method, path, token string, header map[string]string, body any) (int, []byte) {
	f.t.Helper()
	var rd *strings.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		if err != nil {
			f.t.Fatal(err)
		}
		rd = strings.NewReader(string(raw))
	}
	var req *http.Request
	if rd != nil {
		req = httptest.NewRequest(method, path, rd)
	} else {
		req = httptest.NewRequest(method, path, nil)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	f.h.ServeHTTP(rec, req)
	return rec.Code, rec.Body.Bytes()
}

func customerIDs(cs []customerOut) []string {
	out := []string{}
	for _, c := range cs {
		out = append(out, c.ID)
	}
	return out
}

func TestCustomerSearch(t *testing.T) {
	for _, d := range sqlstoretest.Dialects {
		t.Run(d, func(t *testing.T) {
			f := newFixture(t, d)
			tn, other := f.tenant("shop"), f.tenant("other")
			f.user(tn, "ana@shop.test", persistence.RoleAnalyst)
			f.user(other, "eve@other.test", persistence.RoleAdmin)
			ana, eve := f.login("ana@shop.test"), f.login("eve@other.test")
			t0 := time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)
			at := func(i int) persistence.Base {
				return persistence.Base{CreatedAt: t0.Add(time.Duration(i) * time.Minute)}
			}
			ada := f.makeCustomer(tn, persistence.Customer{Base: at(0), Name: "Ada Lovelace", Email: "ada@math.org", Phone: "+44 20 1000"})
			bob := f.makeCustomer(tn, persistence.Customer{Base: at(1), Name: "Bob Stone", Email: "bob@stone.io", Phone: "+49 151 222"})
			cyd := f.makeCustomer(tn, persistence.Customer{Base: at(2), Name: "Cyd"}, "4917612345")
			// The other tenant has look-alikes of each.
			twin := f.makeCustomer(other, persistence.Customer{Base: at(0), Name: "Ada Twin", Email: "ada@math.org", Phone: "+44 20 1000"}, "4917612345")

			search := func(token, query string) customersOut {
				t.Helper()
				var out customersOut
				f.get("/api/v1/customers?query="+url.QueryEscape(query), token, &out)
				if out.NextCursor != "" {
					t.Errorf("search %q: next_cursor %q, want none", query, out.NextCursor)
				}
				return out
			}
			for _, c := range []struct {
				name, query string
				want        []string
			}{
				{"name", "lovelace", []string{ada.ID}},
				{"name, any case, trimmed", "  ADA ", []string{ada.ID}},
				{"email", "stone.io", []string{bob.ID}},
				{"phone", "+49 151", []string{bob.ID}},
				{"identity external id", "4917612345", []string{cyd.ID}},
				{"several", "o", []string{ada.ID, bob.ID}},
				{"nobody", "zzz", []string{}},
			} {
				t.Run(c.name, func(t *testing.T) {
					if got := customerIDs(search(ana, c.query).Customers); !slices.Equal(got, c.want) {
						t.Errorf("search %q = %v, want %v", c.query, got, c.want)
					}
				})
			}
			t.Run("identities come along", func(t *testing.T) {
				got := search(ana, "4917612345").Customers
				if len(got) != 1 || len(got[0].Identities) != 1 || got[0].Identities[0].ExternalID != "4917612345" || got[0].Identities[0].Channel != "whatsapp" {
					t.Fatalf("customers = %+v, want cyd with its whatsapp identity", got)
				}
				if ids := search(ana, "lovelace").Customers[0].Identities; ids == nil || len(ids) != 0 {
					t.Fatalf("identities of a customer without any = %#v, want []", ids)
				}
			})
			t.Run("other tenant", func(t *testing.T) {
				if got := customerIDs(search(eve, "ada").Customers); !slices.Equal(got, []string{twin.ID}) {
					t.Errorf("other tenant's search = %v, want only its own %s", got, twin.ID)
				}
			})
			t.Run("limit", func(t *testing.T) {
				var out customersOut
				f.get("/api/v1/customers?limit=1&query=o", ana, &out)
				if got := customerIDs(out.Customers); !slices.Equal(got, []string{ada.ID}) {
					t.Errorf("limit 1 = %v", got)
				}
			})
			t.Run("invalid", func(t *testing.T) {
				for _, q := range []string{
					"query=" + url.QueryEscape(strings.Repeat("é", 201)),
					"query=ada&cursor=abc",
					"limit=0",
					"cursor=!!",
				} {
					code, body := f.do("GET", "/api/v1/customers?"+q, ana, nil)
					if code != http.StatusBadRequest || errorCode(t, body) != gateway.CodeInvalid {
						t.Errorf("?%.40s = %d %s, want 400 invalid", q, code, body)
					}
				}
				var out customersOut
				f.get("/api/v1/customers?query="+url.QueryEscape(strings.Repeat("é", 200)), ana, &out)
			})
			t.Run("empty query pages", func(t *testing.T) {
				var seen []string
				path := "/api/v1/customers?limit=2&query=%20"
				for pages := 0; ; pages++ {
					if pages > 3 {
						t.Fatal("too many pages")
					}
					var out customersOut
					f.get(path, ana, &out)
					if len(out.Customers) > 2 {
						t.Fatalf("page of %d, want at most 2", len(out.Customers))
					}
					seen = append(seen, customerIDs(out.Customers)...)
					if out.NextCursor == "" {
						break
					}
					path = "/api/v1/customers?limit=2&cursor=" + url.QueryEscape(out.NextCursor)
				}
				if want := []string{ada.ID, bob.ID, cyd.ID}; !slices.Equal(seen, want) {
					t.Errorf("pages = %v, want every customer of the tenant oldest first %v", seen, want)
				}
				var out customersOut
				f.get("/api/v1/customers", ana, &out)
				if len(out.Customers) != 3 || len(out.Customers[2].Identities) != 1 {
					t.Errorf("default page = %+v", out.Customers)
				}
			})
		})
	}
}

func TestCustomerTimeline(t *testing.T) {
	for _, d := range sqlstoretest.Dialects {
		t.Run(d, func(t *testing.T) {
			f := newFixture(t, d)
			ctx := context.Background()
			tn, other := f.tenant("shop"), f.tenant("other")
			agent := f.user(tn, "ann@shop.test", persistence.RoleAgent)
			f.user(other, "eve@other.test", persistence.RoleAdmin)
			ann, eve := f.login("ann@shop.test"), f.login("eve@other.test")
			now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
			ago := func(h int) time.Time { return now.Add(-time.Duration(h) * time.Hour) }
			cust := f.makeCustomer(tn, persistence.Customer{Name: "Zoe"}, "4915000")
			someone := f.customer(tn, "Someone")

			mustCreate := func(err error) {
				t.Helper()
				if err != nil {
					t.Fatal(err)
				}
			}
			wa := persistence.Conversation{Base: persistence.Base{TenantID: tn, CreatedAt: ago(5)}, CustomerID: cust.ID, Channel: "whatsapp",
				ThreadKey: tn + "/whatsapp/t-wa", LastMessageAt: ptrTime(ago(1)), AssignedUserID: agent.ID}
			mustCreate(f.store.CreateConversation(ctx, &wa))
			ms := persistence.Conversation{Base: persistence.Base{TenantID: tn, CreatedAt: ago(10)}, CustomerID: cust.ID, Channel: "messenger",
				ThreadKey: tn + "/messenger/t-ms", Status: persistence.ConversationClosed}
			mustCreate(f.store.CreateConversation(ctx, &ms))
			shop := persistence.Order{Base: persistence.Base{TenantID: tn, CreatedAt: ago(20)}, CustomerID: cust.ID, Source: "shopify",
				ExternalID: "1001", Status: "paid", TotalMinor: 4599, Currency: "EUR", PlacedAt: ptrTime(ago(3))}
			mustCreate(f.store.CreateOrder(ctx, &shop))
			manual := persistence.Order{Base: persistence.Base{TenantID: tn, CreatedAt: ago(9)}, CustomerID: cust.ID, Source: "manual", Status: "open"}
			mustCreate(f.store.CreateOrder(ctx, &manual))
			tk := persistence.Ticket{Base: persistence.Base{TenantID: tn, CreatedAt: ago(2)}, CustomerID: cust.ID, ConversationID: wa.ID,
				Subject: "Parcel missing", Description: "Order 1001 never came", Priority: persistence.PriorityHigh}
			mustCreate(f.store.CreateTicket(ctx, &tk))
			pay := persistence.PaymentIntent{Base: persistence.Base{TenantID: tn, CreatedAt: ago(4)}, CustomerID: cust.ID, ConversationID: wa.ID,
				OrderID: shop.ID, AmountCents: 1250, Currency: "EUR", Status: "pending", Provider: "stripe"}
			mustCreate(f.store.CreatePaymentIntent(ctx, &pay))
			// Another customer's rows, newer than all of the above.
			mustCreate(f.store.CreateTicket(ctx, &persistence.Ticket{Base: persistence.Base{TenantID: tn, CreatedAt: now}, CustomerID: someone.ID, Subject: "not Zoe's"}))
			f.conversation(tn, someone.ID, now)

			var out struct {
				Customer customerOut
				Items    []map[string]any
			}
			f.get("/api/v1/customers/"+cust.ID+"/timeline", ann, &out)
			if out.Customer.ID != cust.ID || out.Customer.Name != "Zoe" || len(out.Customer.Identities) != 1 {
				t.Fatalf("customer = %+v", out.Customer)
			}
			type row struct{ kind, id, title, status, at string }
			var got []row
			for _, it := range out.Items {
				got = append(got, row{fmt.Sprint(it["kind"]), fmt.Sprint(it["id"]), fmt.Sprint(it["title"]), fmt.Sprint(it["status"]), fmt.Sprint(it["at"])})
			}
			rfc := func(t time.Time) string { return t.Format(time.RFC3339) }
			want := []row{
				{"conversation", wa.ID, "WhatsApp conversation", "open", rfc(ago(1))},
				{"ticket", tk.ID, "Parcel missing", "open", rfc(ago(2))},
				{"order", shop.ID, "Order #1001", "paid", rfc(ago(3))},
				{"payment", pay.ID, "Payment via stripe", "pending", rfc(ago(4))},
				{"order", manual.ID, "Order #" + manual.ID, "open", rfc(ago(9))},
				{"conversation", ms.ID, "Messenger conversation", "closed", rfc(ago(10))},
			}
			if !slices.Equal(got, want) {
				t.Fatalf("timeline:\n got  %v\n want %v", got, want)
			}
			// Each kind carries its own fields.
			for i, fields := range []map[string]any{
				{"channel": "whatsapp", "writer": "user:" + agent.ID, "conversation_id": wa.ID},
				{"priority": "high", "description": "Order 1001 never came", "conversation_id": wa.ID},
				{"source": "shopify", "external_id": "1001", "number": "", "total_cents": 4599.0, "currency": "EUR"},
				{"amount_cents": 1250.0, "currency": "EUR", "provider": "stripe", "order_id": shop.ID, "conversation_id": wa.ID},
				{"source": "manual", "external_id": "", "number": "", "total_cents": 0.0, "currency": ""},
				{"channel": "messenger", "writer": "ai", "conversation_id": ms.ID},
			} {
				for k, v := range fields {
					if out.Items[i][k] != v {
						t.Errorf("item %d (%s) %s = %#v, want %#v", i, want[i].kind, k, out.Items[i][k], v)
					}
				}
				if len(out.Items[i]) != 5+len(fields) {
					t.Errorf("item %d has fields %v, want the 5 common and %d of its kind", i, out.Items[i], len(fields))
				}
			}

			t.Run("other tenant", func(t *testing.T) {
				if code, body := f.do("GET", "/api/v1/customers/"+cust.ID+"/timeline", eve, nil); code != http.StatusNotFound || errorCode(t, body) != gateway.CodeNotFound {
					t.Fatalf("other tenant's timeline = %d %s, want 404", code, body)
				}
				if code, _ := f.do("GET", "/api/v1/customers/nope/timeline", ann, nil); code != http.StatusNotFound {
					t.Fatalf("unknown customer's timeline = %d, want 404", code)
				}
			})
			t.Run("empty", func(t *testing.T) {
				var empty struct{ Items []any }
				f.get("/api/v1/customers/"+f.customer(tn, "New").ID+"/timeline", ann, &empty)
				if empty.Items == nil || len(empty.Items) != 0 {
					t.Fatalf("items of a new customer = %#v, want []", empty.Items)
				}
			})
		})
	}
}

func TestCustomerTickets(t *testing.T) {
	for _, d := range sqlstoretest.Dialects {
		t.Run(d, func(t *testing.T) {
			f := newFixture(t, d)
			ctx := context.Background()
			tn, other := f.tenant("shop"), f.tenant("other")
			agent := f.user(tn, "ann@shop.test", persistence.RoleAgent)
			f.user(tn, "ana@shop.test", persistence.RoleAnalyst)
			f.user(other, "eve@other.test", persistence.RoleAdmin)
			ann, ana, eve := f.login("ann@shop.test"), f.login("ana@shop.test"), f.login("eve@other.test")
			cust, someone := f.customer(tn, "Zoe"), f.customer(tn, "Someone")
			conv := f.conversation(tn, cust.ID, time.Now())
			theirs := f.conversation(tn, someone.ID, time.Now().Add(time.Second))
			foreign := f.conversation(other, f.customer(other, "Far").ID, time.Now())
			path := "/api/v1/customers/" + cust.ID + "/tickets"
			count := func() int {
				t.Helper()
				rows, err := f.store.ListTicketsByCustomer(ctx, tn, cust.ID, 500)
				if err != nil {
					t.Fatal(err)
				}
				return len(rows)
			}

			t.Run("create", func(t *testing.T) {
				var out ticketOut
				f.must("POST", path, ann, map[string]any{"subject": "  Parcel missing ", "description": "Never came", "conversation_id": conv.ID}, http.StatusCreated, &out)
				stored, err := f.store.GetTicket(ctx, tn, out.ID)
				if err != nil {
					t.Fatal(err)
				}
				if stored.CustomerID != cust.ID || stored.ConversationID != conv.ID || stored.Subject != "Parcel missing" || stored.Description != "Never came" ||
					stored.Priority != persistence.PriorityNormal || stored.Status != persistence.TicketOpen || stored.IdempotencyKey != "" {
					t.Fatalf("stored ticket = %+v", stored)
				}
				if out.CustomerID != cust.ID || out.Subject != "Parcel missing" || out.Priority != "normal" || out.Status != "open" || !out.CreatedAt.Equal(stored.CreatedAt) {
					t.Fatalf("answer = %+v", out)
				}
				evs, _, err := f.store.ListAuditEventsForTarget(ctx, tn, "ticket", out.ID, persistence.Page{})
				if err != nil || len(evs) != 1 {
					t.Fatalf("audit events = %+v, %v; want one", evs, err)
				}
				ev := evs[0]
				if ev.Action != gateway.ActionTicketCreate || ev.ActorKind != persistence.ActorUser || ev.ActorID != agent.ID {
					t.Fatalf("audit event = %+v", ev)
				}
				if data := auditData(t, ev); data["customer_id"] != cust.ID || data["conversation_id"] != conv.ID {
					t.Fatalf("audit data = %v", data)
				}
			})
			t.Run("idempotent", func(t *testing.T) {
				before := count()
				hdr := map[string]string{"Idempotency-Key": "click-42"}
				body := map[string]any{"subject": "Refund", "priority": "urgent"}
				code, raw := f.requestWith("POST", path, ann, hdr, body)
				var first, again ticketOut
				if code != http.StatusCreated || json.Unmarshal(raw, &first) != nil {
					t.Fatalf("first = %d %s", code, raw)
				}
				code, raw = f.requestWith("POST", path, ann, hdr, body)
				if code != http.StatusOK || json.Unmarshal(raw, &again) != nil || again.ID != first.ID || again.Priority != "urgent" {
					t.Fatalf("repeat = %d %s, want 200 with %s", code, raw, first.ID)
				}
				if n := count(); n != before+1 {
					t.Fatalf("tickets after a repeat = %d, want %d", n, before+1)
				}
				if evs, _, _ := f.store.ListAuditEventsForTarget(ctx, tn, "ticket", first.ID, persistence.Page{}); len(evs) != 1 {
					t.Fatalf("audit events after a repeat = %d, want 1", len(evs))
				}
				stored, err := f.store.GetTicketByIdempotencyKey(ctx, tn, "dashboard:click-42")
				if err != nil || stored.ID != first.ID {
					t.Fatalf("by key = %s, %v", stored.ID, err)
				}
				// The same key for another customer's ticket is a conflict.
				code, raw = f.requestWith("POST", "/api/v1/customers/"+someone.ID+"/tickets", ann, hdr, body)
				if code != http.StatusConflict {
					t.Fatalf("key reused for another customer = %d %s, want 409", code, raw)
				}
				code, raw = f.requestWith("POST", path, ann, map[string]string{"Idempotency-Key": strings.Repeat("k", 201)}, body)
				if code != http.StatusBadRequest {
					t.Fatalf("long key = %d %s, want 400", code, raw)
				}
			})
			t.Run("idempotent when concurrent", func(t *testing.T) {
				before := count()
				const n = 8
				codes := make([]int, n)
				ids := make([]string, n)
				var wg sync.WaitGroup
				for i := range n {
					wg.Add(1)
					go func() {
						defer wg.Done()
						code, raw := f.requestWith("POST", path, ann, map[string]string{"Idempotency-Key": "race-1"}, map[string]any{"subject": "Race"})
						var out ticketOut
						_ = json.Unmarshal(raw, &out)
						codes[i], ids[i] = code, out.ID
					}()
				}
				wg.Wait()
				created := 0
				for i := range n {
					switch {
					case codes[i] == http.StatusCreated:
						created++
					case codes[i] != http.StatusOK:
						t.Fatalf("request %d = %d, want 200 or 201", i, codes[i])
					}
					if ids[i] != ids[0] || ids[i] == "" {
						t.Fatalf("ids = %v, want one ticket", ids)
					}
				}
				if created != 1 || count() != before+1 {
					t.Fatalf("%d answered 201, %d tickets written; want 1 and 1", created, count()-before)
				}
			})
			t.Run("idempotent when the key commits meanwhile", func(t *testing.T) {
				// Another transaction holds an uncommitted ticket with the key
				// while the request runs: on PostgreSQL the request finds no
				// ticket, its insert waits on the unique key and then fails,
				// and it answers the other ticket; SQLite serialises the two.
				before := count()
				inserted, commit := make(chan string), make(chan struct{})
				var release sync.Once
				t.Cleanup(func() { release.Do(func() { close(commit) }) }) // a failing test must not leave the transaction waiting
				held := make(chan error, 1)
				go func() {
					held <- f.store.InTx(ctx, func(tx *sqlstore.Tx) error {
						tk := persistence.Ticket{Base: persistence.Base{TenantID: tn}, CustomerID: cust.ID, Subject: "Held", IdempotencyKey: "dashboard:held-1"}
						if err := tx.CreateTicket(ctx, &tk); err != nil {
							close(inserted)
							return err
						}
						inserted <- tk.ID
						<-commit
						return nil
					})
				}()
				heldID := <-inserted
				type answer struct {
					code int
					raw  []byte
				}
				answered := make(chan answer, 1)
				go func() {
					code, raw := f.requestWith("POST", path, ann, map[string]string{"Idempotency-Key": "held-1"}, map[string]any{"subject": "Race"})
					answered <- answer{code, raw}
				}()
				if d == "postgres" {
					waitForLockWaiter(t, f.store.DB())
				}
				release.Do(func() { close(commit) })
				if err := <-held; err != nil {
					t.Fatal(err)
				}
				a := <-answered
				var out ticketOut
				if a.code != http.StatusOK || json.Unmarshal(a.raw, &out) != nil || out.ID != heldID {
					t.Fatalf("request = %d %s, want 200 with the held ticket %s", a.code, a.raw, heldID)
				}
				if n := count(); n != before+1 {
					t.Fatalf("tickets written = %d, want 1", n-before)
				}
			})
			t.Run("refused", func(t *testing.T) {
				before := count()
				for _, c := range []struct {
					name, path, token string
					body              any
					want              int
				}{
					{"analyst", path, ana, map[string]any{"subject": "x"}, http.StatusForbidden},
					{"other tenant's customer", path, eve, map[string]any{"subject": "x"}, http.StatusNotFound},
					{"unknown customer", "/api/v1/customers/nope/tickets", ann, map[string]any{"subject": "x"}, http.StatusNotFound},
					{"no subject", path, ann, map[string]any{"subject": "  "}, http.StatusBadRequest},
					{"long subject", path, ann, map[string]any{"subject": strings.Repeat("s", 201)}, http.StatusBadRequest},
					{"long description", path, ann, map[string]any{"subject": "x", "description": strings.Repeat("d", 10001)}, http.StatusBadRequest},
					{"unknown priority", path, ann, map[string]any{"subject": "x", "priority": "asap"}, http.StatusBadRequest},
					{"another customer's conversation", path, ann, map[string]any{"subject": "x", "conversation_id": theirs.ID}, http.StatusBadRequest},
					{"other tenant's conversation", path, ann, map[string]any{"subject": "x", "conversation_id": foreign.ID}, http.StatusNotFound},
					{"malformed", path, ann, "{", http.StatusBadRequest},
				} {
					t.Run(c.name, func(t *testing.T) {
						if code, body := f.do("POST", c.path, c.token, c.body); code != c.want {
							t.Fatalf("= %d %s, want %d", code, body, c.want)
						}
					})
				}
				if n := count(); n != before {
					t.Fatalf("refused requests wrote %d tickets", n-before)
				}
				var ok ticketOut
				f.must("POST", path, ann, map[string]any{"subject": strings.Repeat("é", 200), "description": strings.Repeat("d", 10000)}, http.StatusCreated, &ok)
			})
		})
	}
}

func TestOpenCustomerConversation(t *testing.T) {
	for _, d := range sqlstoretest.Dialects {
		t.Run(d, func(t *testing.T) {
			f := newFixture(t, d)
			// The fixture's API without Notify: serve one that counts.
			var notified atomic.Int32
			api := gateway.NewAPI(gateway.APIConfig{BcryptCost: bcrypt.MinCost, Now: f.clock.Now, Grains: f.rt,
				Notify: func(string) { notified.Add(1) }}, sqlstore.For[gateway.Tx](f.store), zerolog.Nop())
			srv := gateway.New(gateway.Config{}, zerolog.Nop(), prometheus.NewRegistry(), nil)
			api.Register(srv)
			f.h = srv.Handler()

			ctx := context.Background()
			tn, other := f.tenant("shop"), f.tenant("other")
			agent := f.user(tn, "ann@shop.test", persistence.RoleAgent)
			f.user(tn, "ana@shop.test", persistence.RoleAnalyst)
			f.user(other, "eve@other.test", persistence.RoleAdmin)
			ann, ana, eve := f.login("ann@shop.test"), f.login("ana@shop.test"), f.login("eve@other.test")
			cust := f.customer(tn, "Zoe")
			now := time.Now().UTC()
			closed := func(channel, account, thread string, created time.Time) persistence.Conversation {
				t.Helper()
				c := persistence.Conversation{Base: persistence.Base{TenantID: tn, CreatedAt: created}, CustomerID: cust.ID, Channel: channel,
					ChannelAccount: account, ThreadKey: thread, AgentProfileID: "profile-1", LastMessageAt: ptrTime(created.Add(time.Minute)),
					Status: persistence.ConversationClosed, ClosedAt: ptrTime(created.Add(time.Hour))}
				if err := f.store.CreateConversation(ctx, &c); err != nil {
					t.Fatal(err)
				}
				return c
			}
			oldMs := closed("messenger", "page-1", tn+"/messenger/psid-9", now.Add(-48*time.Hour))
			lastWa := closed("whatsapp", "pn-1", tn+"/whatsapp/4915000", now.Add(-24*time.Hour))
			path := "/api/v1/customers/" + cust.ID + "/conversations"
			convCount := func() int {
				t.Helper()
				rows, err := f.store.ListConversationsByCustomer(ctx, tn, cust.ID, 500)
				if err != nil {
					t.Fatal(err)
				}
				return len(rows)
			}
			liveEvents := func() []persistence.LiveEvent {
				t.Helper()
				evs, err := f.store.LiveEventsAfter(ctx, tn, 0, 100)
				if err != nil {
					t.Fatal(err)
				}
				return evs
			}

			t.Run("refused", func(t *testing.T) {
				if code, _ := f.do("POST", path, ana, nil); code != http.StatusForbidden {
					t.Fatalf("analyst = %d, want 403", code)
				}
				if code, _ := f.do("POST", path, eve, nil); code != http.StatusNotFound {
					t.Fatalf("other tenant = %d, want 404", code)
				}
				if code, body := f.do("POST", path, ann, map[string]string{"channel": "telegram"}); code != http.StatusConflict || errorCode(t, body) != gateway.CodeNoChannel {
					t.Fatalf("unused channel = %d %s, want 409 no_channel", code, body)
				}
				quiet := f.customer(tn, "Quiet")
				code, body := f.do("POST", "/api/v1/customers/"+quiet.ID+"/conversations", ann, nil)
				if code != http.StatusConflict || errorCode(t, body) != gateway.CodeNoChannel || !strings.Contains(string(body), "never written") {
					t.Fatalf("customer who never wrote = %d %s, want 409 no_channel", code, body)
				}
				if n := convCount(); n != 2 || len(liveEvents()) != 0 || notified.Load() != 0 {
					t.Fatalf("refused requests changed something: %d conversations, %d live events, %d notifications", n, len(liveEvents()), notified.Load())
				}
			})

			var opened conversationOut
			t.Run("creates", func(t *testing.T) {
				f.must("POST", path, ann, nil, http.StatusCreated, &opened)
				if opened.Status != "open" || opened.Channel != "whatsapp" || opened.ChannelAccount != "pn-1" || opened.Writer != "user:"+agent.ID ||
					opened.AssignedUserID != agent.ID || opened.Customer.ID != cust.ID || opened.ID == lastWa.ID {
					t.Fatalf("opened = %+v", opened)
				}
				stored, err := f.store.GetConversation(ctx, tn, opened.ID)
				if err != nil {
					t.Fatal(err)
				}
				if stored.ThreadKey != lastWa.ThreadKey || stored.AssignedUserID != agent.ID || stored.AgentProfileID != "profile-1" || stored.Status != persistence.ConversationOpen {
					t.Fatalf("stored = %+v", stored)
				}
				// The next inbound message of the thread lands in it.
				if got, err := f.store.GetOpenConversation(ctx, tn, lastWa.ThreadKey); err != nil || got.ID != opened.ID {
					t.Fatalf("open conversation of the thread = %s, %v; want %s", got.ID, err, opened.ID)
				}
				evs, _, err := f.store.ListAuditEventsForTarget(ctx, tn, "conversation", opened.ID, persistence.Page{})
				if err != nil || len(evs) != 1 || evs[0].Action != gateway.ActionConversationOpen || evs[0].ActorID != agent.ID {
					t.Fatalf("audit = %+v, %v", evs, err)
				}
				live := liveEvents()
				if len(live) != 1 || live[0].Type != persistence.LiveConversationUpdated || live[0].ConversationID != opened.ID {
					t.Fatalf("live events = %+v", live)
				}
				var view liveview.Conversation
				if err := json.Unmarshal(live[0].Data, &view); err != nil {
					t.Fatal(err)
				}
				if view.Change != gateway.ActionConversationOpen || view.By != agent.ID || view.Writer != "user:"+agent.ID || view.CustomerID != cust.ID {
					t.Fatalf("live view = %+v", view)
				}
				if notified.Load() != 1 {
					t.Fatalf("notifications = %d, want 1", notified.Load())
				}
			})
			t.Run("returns the open one", func(t *testing.T) {
				for _, body := range []any{nil, map[string]string{"channel": "whatsapp"}} {
					var again conversationOut
					f.must("POST", path, ann, body, http.StatusOK, &again)
					if again.ID != opened.ID {
						t.Fatalf("again = %s, want %s", again.ID, opened.ID)
					}
				}
				if n := convCount(); n != 3 || len(liveEvents()) != 1 || notified.Load() != 1 {
					t.Fatalf("a repeat changed something: %d conversations, %d live events, %d notifications", n, len(liveEvents()), notified.Load())
				}
				// One the AI writes is answered as it is: opening is not a takeover.
				aiCust := f.customer(tn, "Ai")
				aiConv := f.conversation(tn, aiCust.ID, now)
				var got conversationOut
				f.must("POST", "/api/v1/customers/"+aiCust.ID+"/conversations", ann, nil, http.StatusOK, &got)
				if got.ID != aiConv.ID || got.Writer != "ai" {
					t.Fatalf("open conversation written by the AI = %+v", got)
				}
			})
			t.Run("two agents opening at once get one conversation", func(t *testing.T) {
				// The thread's grain is the single writer of its
				// conversations: the second open answers the first one's.
				racer := f.customer(tn, "Racer")
				closedConv := persistence.Conversation{Base: persistence.Base{TenantID: tn}, CustomerID: racer.ID, Channel: "whatsapp",
					ChannelAccount: "pn-1", ThreadKey: tn + "/whatsapp/4915999", Status: persistence.ConversationClosed}
				if err := f.store.CreateConversation(ctx, &closedConv); err != nil {
					t.Fatal(err)
				}
				type answer struct {
					code int
					out  conversationOut
				}
				answered := make(chan answer, 2)
				for range 2 {
					go func() {
						code, raw := f.do("POST", "/api/v1/customers/"+racer.ID+"/conversations", ann, nil)
						var out conversationOut
						_ = json.Unmarshal(raw, &out)
						answered <- answer{code, out}
					}()
				}
				a, b := <-answered, <-answered
				if a.out.ID == "" || a.out.ID != b.out.ID || a.code+b.code != http.StatusCreated+http.StatusOK {
					t.Fatalf("answers = %d %s and %d %s, want one 201 and one 200 with the same conversation", a.code, a.out.ID, b.code, b.out.ID)
				}
				rows, err := f.store.ListConversationsByCustomer(ctx, tn, racer.ID, 50)
				if err != nil {
					t.Fatal(err)
				}
				if len(rows) != 2 {
					t.Fatalf("%d conversations, want the closed one and one opened", len(rows))
				}
			})
			t.Run("on a channel", func(t *testing.T) {
				var ms conversationOut
				f.must("POST", path, ann, map[string]string{"channel": "messenger"}, http.StatusCreated, &ms)
				stored, err := f.store.GetConversation(ctx, tn, ms.ID)
				if err != nil || stored.Channel != "messenger" || stored.ThreadKey != oldMs.ThreadKey || stored.ChannelAccount != "page-1" || stored.AssignedUserID != agent.ID {
					t.Fatalf("messenger conversation = %+v, %v", stored, err)
				}
			})
		})
	}
}

func ptrTime(t time.Time) *time.Time { return &t }

// TestOpenAPICustomerResponses checks the customer routes' answers against
// the schemas openapi.json gives them.
func TestOpenAPICustomerResponses(t *testing.T) {
	f := newFixture(t, "sqlite")
	doc := loadOpenAPI(t, f)
	ctx := context.Background()
	tn, other := f.tenant("acme"), f.tenant("other")
	f.user(tn, "agent@example.com", persistence.RoleAgent)
	f.user(tn, "ana@example.com", persistence.RoleAnalyst)
	tok, ana := f.login("agent@example.com"), f.login("ana@example.com")
	cust := f.makeCustomer(tn, persistence.Customer{Name: "Zoe", Email: "zoe@example.com"}, "4915000")
	someone := f.customer(tn, "Someone")
	quiet := f.customer(tn, "Quiet")
	foreign := f.customer(other, "Far")
	conv := f.conversation(tn, cust.ID, time.Now())
	conv.Status = persistence.ConversationClosed
	if err := f.store.UpdateConversation(ctx, &conv); err != nil {
		t.Fatal(err)
	}
	for _, err := range []error{
		f.store.CreateOrder(ctx, &persistence.Order{Base: persistence.Base{TenantID: tn}, CustomerID: cust.ID, Source: "shopify", ExternalID: "1", TotalMinor: 100, Currency: "EUR"}),
		f.store.CreateTicket(ctx, &persistence.Ticket{Base: persistence.Base{TenantID: tn}, CustomerID: cust.ID, Subject: "s"}),
		f.store.CreatePaymentIntent(ctx, &persistence.PaymentIntent{Base: persistence.Base{TenantID: tn}, CustomerID: cust.ID, AmountCents: 5, Currency: "EUR"}),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	base, pat := "/api/v1/customers/"+cust.ID, "/api/v1/customers/{id}"
	key := map[string]string{"Idempotency-Key": "k1"}
	for _, ex := range []struct {
		method, path, pattern, token string
		header                       map[string]string
		body                         any
		want                         int
	}{
		{"GET", "/api/v1/customers?query=zoe", "/api/v1/customers", tok, nil, nil, 200},
		{"GET", "/api/v1/customers?limit=1", "/api/v1/customers", ana, nil, nil, 200},
		{"GET", "/api/v1/customers?limit=x", "/api/v1/customers", tok, nil, nil, 400},
		{"GET", "/api/v1/customers", "/api/v1/customers", "nope", nil, nil, 401},
		{"GET", base, pat, tok, nil, nil, 200},
		{"GET", base + "/timeline", pat + "/timeline", ana, nil, nil, 200},
		{"GET", "/api/v1/customers/" + foreign.ID + "/timeline", pat + "/timeline", tok, nil, nil, 404},
		{"POST", base + "/tickets", pat + "/tickets", tok, key, map[string]any{"subject": "Refund", "conversation_id": conv.ID}, 201},
		{"POST", base + "/tickets", pat + "/tickets", tok, key, map[string]any{"subject": "Refund"}, 200},
		{"POST", "/api/v1/customers/" + someone.ID + "/tickets", pat + "/tickets", tok, key, map[string]any{"subject": "Refund"}, 409},
		{"POST", base + "/tickets", pat + "/tickets", tok, nil, map[string]any{"subject": ""}, 400},
		{"POST", base + "/tickets", pat + "/tickets", ana, nil, map[string]any{"subject": "x"}, 403},
		{"POST", "/api/v1/customers/" + foreign.ID + "/tickets", pat + "/tickets", tok, nil, map[string]any{"subject": "x"}, 404},
		{"POST", base + "/conversations", pat + "/conversations", tok, nil, nil, 201},
		{"POST", base + "/conversations", pat + "/conversations", tok, nil, map[string]string{"channel": "whatsapp"}, 200},
		{"POST", "/api/v1/customers/" + quiet.ID + "/conversations", pat + "/conversations", tok, nil, nil, 409},
		{"POST", base + "/conversations", pat + "/conversations", ana, nil, nil, 403},
		{"POST", "/api/v1/customers/" + foreign.ID + "/conversations", pat + "/conversations", tok, nil, nil, 404},
	} {
		t.Run(fmt.Sprint(ex.method, " ", ex.path, " ", ex.want), func(t *testing.T) {
			code, body := f.requestWith(ex.method, ex.path, ex.token, ex.header, ex.body)
			if code != ex.want {
				t.Fatalf("status = %d %s, want %d", code, body, ex.want)
			}
			doc.CheckResponse(t, ex.method, ex.pattern, code, body)
		})
	}
}

// waitForLockWaiter waits until a PostgreSQL session waits on a lock (a
// request blocked behind a transaction the test holds), for at most 10s.
func waitForLockWaiter(t *testing.T, db *sql.DB) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		var n int
		if err := db.QueryRow("SELECT COUNT(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()").Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatal("no request came to wait on the held transaction's lock")
}
