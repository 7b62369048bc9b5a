package gateway_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"golang.org/x/crypto/bcrypt"

	"github.com/frontdesk-ai/frontdesk/gateway"
	"github.com/frontdesk-ai/frontdesk/persistence"
	"github.com/frontdesk-ai/frontdesk/persistence/sqlstore/sqlstoretest"
)

type conversationOut struct {
	ID             string
	Status         string
	Channel        string
	ChannelAccount string `json:"channel_account"`
	Customer       struct{ ID, Name, Phone, Email string }
	AssignedUserID string `json:"assigned_user_id"`
	Writer         string
	LastMessageAt  *time.Time `json:"last_message_at"`
}

type conversationsOut struct {
	Conversations []conversationOut
	NextCursor    *string `json:"next_cursor"`
}

type messagesOut struct {
	Messages []struct {
		ID, Direction, Text, Kind, Status, Sender string
	}
	NextCursor *string `json:"next_cursor"`
}

// TestAPIRoles checks that each route admits exactly the roles it declares
// (403 for the others) and that an admin's new user is created in the
// admin's tenant.
func TestAPIRoles(t *testing.T) {
	f := newFixture(t, "sqlite")
	tn := f.tenant("acme")
	tokens := map[persistence.Role]string{}
	for _, r := range []persistence.Role{persistence.RoleAdmin, persistence.RoleSupervisor, persistence.RoleAgent, persistence.RoleAnalyst} {
		f.user(tn, string(r)+"@example.com", r)
		tokens[r] = f.login(string(r) + "@example.com")
	}
	cust := f.customer(tn, "Zoe")
	conv := f.conversation(tn, cust.ID, time.Now())

	n := 0
	newUser := func() map[string]string {
		n++
		return map[string]string{"email": fmt.Sprintf("new%d@example.com", n), "name": "New", "role": "agent", "password": password}
	}
	for _, tc := range []struct {
		method, path string
		body         func() map[string]string
		allowed      []persistence.Role
		okStatus     int
	}{
		{"GET", "/api/v1/me", nil, []persistence.Role{"admin", "supervisor", "agent", "analyst"}, 200},
		{"GET", "/api/v1/conversations", nil, []persistence.Role{"admin", "supervisor", "agent", "analyst"}, 200},
		{"GET", "/api/v1/conversations/" + conv.ID, nil, []persistence.Role{"admin", "supervisor", "agent", "analyst"}, 200},
		{"GET", "/api/v1/conversations/" + conv.ID + "/messages", nil, []persistence.Role{"admin", "supervisor", "agent", "analyst"}, 200},
		{"GET", "/api/v1/customers/" + cust.ID, nil, []persistence.Role{"admin", "supervisor", "agent", "analyst"}, 200},
		{"GET", "/api/v1/users", nil, []persistence.Role{"admin", "supervisor"}, 200},
		{"GET", "/api/v1/team", nil, []persistence.Role{"admin", "supervisor", "agent", "analyst"}, 200},
		{"POST", "/api/v1/users", newUser, []persistence.Role{"admin"}, 201},
	} {
		for role, token := range tokens {
			t.Run(tc.method+" "+tc.path+" as "+string(role), func(t *testing.T) {
				var body any
				if tc.body != nil {
					body = tc.body()
				}
				code, resp := f.do(tc.method, tc.path, token, body)
				want := http.StatusForbidden
				if slices.Contains(tc.allowed, role) {
					want = tc.okStatus
				}
				if code != want {
					t.Fatalf("status = %d %s, want %d", code, resp, want)
				}
				if code == http.StatusForbidden && errorCode(t, resp) != gateway.CodeForbidden {
					t.Fatalf("body = %s", resp)
				}
			})
		}
	}
	// The team directory names every user for every role, without emails.
	other := f.tenant("other")
	f.user(other, "eve@other.example", persistence.RoleAgent)
	code, body := f.do("GET", "/api/v1/team", tokens[persistence.RoleAnalyst], nil)
	var team struct {
		Team []map[string]string
	}
	if err := json.Unmarshal(body, &team); code != http.StatusOK || err != nil {
		t.Fatalf("team = %d %s", code, body)
	}
	if len(team.Team) != 5 || strings.Contains(string(body), "@") || team.Team[0]["name"] == "" || team.Team[0]["role"] == "" {
		t.Fatalf("team = %s, want the tenant's 5 users (4 and the one the admin created) with names and roles, no emails", body)
	}

	// Only the admin's POST got through, and it created a user of its tenant.
	users, _, err := f.store.ListUsers(context.Background(), tn, persistence.Page{})
	if err != nil {
		t.Fatal(err)
	}
	var created []string
	for _, u := range users {
		if strings.HasPrefix(u.Email, "new") {
			created = append(created, u.Email)
		}
	}
	if len(created) != 1 {
		t.Fatalf("users created through the API: %v, want exactly the admin's", created)
	}
}

// TestAPITenantIsolation checks on both dialects that a user of tenant A
// sees only A's records and gets 404 for B's, by id or through a list.
func TestAPITenantIsolation(t *testing.T) {
	for _, d := range sqlstoretest.Dialects {
		t.Run(d, func(t *testing.T) {
			f := newFixture(t, d)
			a, b := f.tenant("a"), f.tenant("b")
			f.user(a, "ana@a.example", persistence.RoleAdmin)
			f.user(b, "bob@b.example", persistence.RoleAdmin)
			tokA := f.login("ana@a.example")
			custA, custB := f.customer(a, "Alice"), f.customer(b, "Bruno")
			now := time.Now()
			convA := f.conversation(a, custA.ID, now)
			convB := f.conversation(b, custB.ID, now)
			f.message(convA, "hello from A", now)
			f.message(convB, "secret of B", now)

			for _, path := range []string{
				"/api/v1/conversations/" + convB.ID,
				"/api/v1/conversations/" + convB.ID + "/messages",
				"/api/v1/customers/" + custB.ID,
			} {
				t.Run(path, func(t *testing.T) {
					code, body := f.do("GET", path, tokA, nil)
					if code != http.StatusNotFound || errorCode(t, body) != gateway.CodeNotFound {
						t.Fatalf("status = %d %s, want 404", code, body)
					}
					if strings.Contains(string(body), "Bruno") || strings.Contains(string(body), "secret") {
						t.Fatalf("404 body leaks B's data: %s", body)
					}
				})
			}
			var convs conversationsOut
			f.get("/api/v1/conversations", tokA, &convs)
			if len(convs.Conversations) != 1 || convs.Conversations[0].ID != convA.ID {
				t.Fatalf("A's list = %+v, want only %s", convs.Conversations, convA.ID)
			}
			var users struct{ Users []struct{ Email string } }
			f.get("/api/v1/users", tokA, &users)
			if len(users.Users) != 1 || users.Users[0].Email != "ana@a.example" {
				t.Fatalf("A's users = %+v", users.Users)
			}
			var msgs messagesOut
			f.get("/api/v1/conversations/"+convA.ID+"/messages", tokA, &msgs)
			if len(msgs.Messages) != 1 || msgs.Messages[0].Text != "hello from A" {
				t.Fatalf("A's messages = %+v", msgs.Messages)
			}
		})
	}
}

// walk follows next_cursor from path (which has a query) and returns the
// ids in order and the number of pages.
func walk[P any](t *testing.T, f *fixture, token, path string, ids func(P) []string, next func(P) *string) ([]string, int) {
	t.Helper()
	var all []string
	cursor := ""
	for pages := 1; ; pages++ {
		p := path
		if cursor != "" {
			p += "&cursor=" + url.QueryEscape(cursor)
		}
		var page P
		f.get(p, token, &page)
		all = append(all, ids(page)...)
		nc := next(page)
		if nc == nil || *nc == "" {
			return all, pages
		}
		if pages > 100 {
			t.Fatal("pagination does not end")
		}
		cursor = *nc
	}
}

// TestAPIPagination checks on both dialects that following next_cursor
// visits every conversation and message exactly once, in order, including
// rows that share a creation time, and that bad paging input answers 400.
func TestAPIPagination(t *testing.T) {
	for _, d := range sqlstoretest.Dialects {
		t.Run(d, func(t *testing.T) {
			f := newFixture(t, d)
			tn := f.tenant("acme")
			f.user(tn, "ana@example.com", persistence.RoleAnalyst)
			tok := f.login("ana@example.com")
			cust := f.customer(tn, "Zoe")
			t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

			var wantConvs []persistence.Conversation
			for i := range 7 {
				// Pairs share a created_at, so the cursor must break ties by id.
				wantConvs = append(wantConvs, f.conversation(tn, cust.ID, t0.Add(time.Duration(i/2)*time.Second)))
			}
			closed := wantConvs[3]
			closed.Status = persistence.ConversationClosed
			if err := f.store.UpdateConversation(context.Background(), &closed); err != nil {
				t.Fatal(err)
			}
			slices.SortFunc(wantConvs, func(x, y persistence.Conversation) int {
				if c := x.CreatedAt.Compare(y.CreatedAt); c != 0 {
					return c
				}
				return strings.Compare(x.ID, y.ID)
			})
			var wantConvIDs []string
			for _, c := range wantConvs {
				wantConvIDs = append(wantConvIDs, c.ID)
			}
			var wantMsgIDs []string
			conv := wantConvs[0]
			for i := range 9 {
				wantMsgIDs = append(wantMsgIDs, f.message(conv, fmt.Sprint("m", i), t0.Add(time.Duration(i)*time.Second)).ID)
			}

			convIDs := func(p conversationsOut) []string {
				var out []string
				for _, c := range p.Conversations {
					out = append(out, c.ID)
				}
				return out
			}
			convNext := func(p conversationsOut) *string { return p.NextCursor }
			msgIDs := func(p messagesOut) []string {
				var out []string
				for _, m := range p.Messages {
					out = append(out, m.ID)
				}
				return out
			}
			msgNext := func(p messagesOut) *string { return p.NextCursor }

			for _, limit := range []int{1, 2, 3, 7, 50, 1000} {
				t.Run(fmt.Sprint("limit ", limit), func(t *testing.T) {
					got, pages := walk(t, f, tok, fmt.Sprint("/api/v1/conversations?limit=", limit), convIDs, convNext)
					if !slices.Equal(got, wantConvIDs) {
						t.Fatalf("conversations = %v, want %v", got, wantConvIDs)
					}
					if want := max(1, (7+limit-1)/limit); pages != want && pages != want+1 {
						t.Fatalf("%d pages for limit %d", pages, limit)
					}
					got, _ = walk(t, f, tok, fmt.Sprintf("/api/v1/conversations/%s/messages?limit=%d", conv.ID, limit), msgIDs, msgNext)
					if !slices.Equal(got, wantMsgIDs) {
						t.Fatalf("messages = %v, want %v", got, wantMsgIDs)
					}
				})
			}
			t.Run("status filter", func(t *testing.T) {
				got, _ := walk(t, f, tok, "/api/v1/conversations?status=closed&limit=1", convIDs, convNext)
				if !slices.Equal(got, []string{closed.ID}) {
					t.Fatalf("closed = %v, want [%s]", got, closed.ID)
				}
				got, _ = walk(t, f, tok, "/api/v1/conversations?status=open&limit=2", convIDs, convNext)
				if len(got) != 6 || slices.Contains(got, closed.ID) {
					t.Fatalf("open = %v", got)
				}
			})
			t.Run("last page has no next_cursor", func(t *testing.T) {
				code, body := f.do("GET", "/api/v1/conversations?limit=50", tok, nil)
				if code != 200 || strings.Contains(string(body), "next_cursor") {
					t.Fatalf("%d %s", code, body)
				}
			})
			for _, q := range []string{"limit=0", "limit=-1", "limit=ten", "cursor=not-a-cursor", "status=pending"} {
				t.Run("bad "+q, func(t *testing.T) {
					code, body := f.do("GET", "/api/v1/conversations?"+q, tok, nil)
					if code != http.StatusBadRequest || errorCode(t, body) != gateway.CodeInvalid {
						t.Fatalf("status = %d %s, want 400", code, body)
					}
				})
			}
		})
	}
}

// TestAPIConversationFields checks what a conversation, its messages and its
// customer look like on the wire.
func TestAPIConversationFields(t *testing.T) {
	f := newFixture(t, "sqlite")
	ctx := context.Background()
	tn := f.tenant("acme")
	agent := f.user(tn, "ana@example.com", persistence.RoleAgent)
	tok := f.login("ana@example.com")
	cust := f.customer(tn, "Zoe")
	for _, id := range []persistence.CustomerIdentity{
		{Base: persistence.Base{TenantID: tn}, CustomerID: cust.ID, Channel: "whatsapp", ExternalID: "4915100000", DisplayName: "Zoë"},
		{Base: persistence.Base{TenantID: tn}, CustomerID: cust.ID, Channel: "messenger", ExternalID: "psid-1", DisplayName: "Zoe B"},
	} {
		if err := f.store.CreateCustomerIdentity(ctx, &id); err != nil {
			t.Fatal(err)
		}
	}
	ai := f.conversation(tn, cust.ID, time.Now())
	human := f.conversation(tn, cust.ID, time.Now())
	last := time.Date(2025, 5, 6, 7, 8, 9, 0, time.UTC)
	human.AssignedUserID, human.Status, human.LastMessageAt = agent.ID, persistence.ConversationWaitingHuman, &last
	if err := f.store.UpdateConversation(ctx, &human); err != nil {
		t.Fatal(err)
	}
	out := persistence.Message{Base: persistence.Base{TenantID: tn}, ConversationID: human.ID, Direction: persistence.DirectionOutbound,
		Channel: "whatsapp", ChannelMessageID: "wamid.1", Sender: persistence.SenderUser(agent.ID), Text: "hi", DeliveryStatus: persistence.DeliveryDelivered}
	if err := f.store.CreateMessage(ctx, &out); err != nil {
		t.Fatal(err)
	}

	var c conversationOut
	f.get("/api/v1/conversations/"+ai.ID, tok, &c)
	if c.Writer != "ai" || c.AssignedUserID != "" || c.LastMessageAt != nil || c.Status != "open" {
		t.Fatalf("AI conversation = %+v", c)
	}
	f.get("/api/v1/conversations/"+human.ID, tok, &c)
	wantCust := struct{ ID, Name, Phone, Email string }{cust.ID, cust.Name, cust.Phone, cust.Email}
	if c.Writer != "user:"+agent.ID || c.AssignedUserID != agent.ID || c.Status != "waiting_human" ||
		c.LastMessageAt == nil || !c.LastMessageAt.Equal(last) || c.Customer != wantCust || c.ChannelAccount != "pn-1" || c.Channel != "whatsapp" {
		t.Fatalf("human conversation = %+v", c)
	}
	var list conversationsOut
	f.get("/api/v1/conversations", tok, &list)
	if len(list.Conversations) != 2 || list.Conversations[1].Customer != wantCust {
		t.Fatalf("list = %+v", list)
	}

	var msgs struct {
		Messages []struct {
			Direction, Status, Sender, Kind, Text string
			ChannelMessageID                      string `json:"channel_message_id"`
		}
	}
	f.get("/api/v1/conversations/"+human.ID+"/messages", tok, &msgs)
	if len(msgs.Messages) != 1 || msgs.Messages[0].Direction != "outbound" || msgs.Messages[0].Status != "delivered" ||
		msgs.Messages[0].ChannelMessageID != "wamid.1" || msgs.Messages[0].Sender != "user:"+agent.ID || msgs.Messages[0].Kind != "text" {
		t.Fatalf("messages = %+v", msgs.Messages)
	}

	var cu struct {
		ID, Name   string
		Identities []struct {
			Channel    string
			ExternalID string `json:"external_id"`
		}
	}
	f.get("/api/v1/customers/"+cust.ID, tok, &cu)
	if cu.ID != cust.ID || len(cu.Identities) != 2 || cu.Identities[0].ExternalID != "4915100000" || cu.Identities[1].Channel != "messenger" {
		t.Fatalf("customer = %+v", cu)
	}
}

// TestAPICreateUser checks POST /api/v1/users: what it refuses, and that a
// created user is stored with a bcrypt hash and can sign in.
func TestAPICreateUser(t *testing.T) {
	f := newFixture(t, "sqlite")
	tn := f.tenant("acme")
	f.user(tn, "admin@example.com", persistence.RoleAdmin)
	tok := f.login("admin@example.com")
	other := f.tenant("other")
	f.user(other, "taken@example.com", persistence.RoleAgent)

	for _, tc := range []struct {
		name     string
		body     any
		want     int
		wantCode string
	}{
		{"short password", map[string]string{"email": "a@example.com", "name": "A", "role": "agent", "password": "elevenchars"}, 400, gateway.CodeInvalid},
		{"password over 72 bytes", map[string]string{"email": "a@example.com", "name": "A", "role": "agent", "password": strings.Repeat("x", 73)}, 400, gateway.CodeInvalid},
		{"unknown role", map[string]string{"email": "a@example.com", "name": "A", "role": "owner", "password": password}, 400, gateway.CodeInvalid},
		{"bad email", map[string]string{"email": "not-an-email", "name": "A", "role": "agent", "password": password}, 400, gateway.CodeInvalid},
		{"no name", map[string]string{"email": "a@example.com", "name": " ", "role": "agent", "password": password}, 400, gateway.CodeInvalid},
		{"malformed JSON", `{"email":`, 400, gateway.CodeBadRequest},
		{"email taken in another tenant", map[string]string{"email": "Taken@example.com", "name": "T", "role": "agent", "password": password}, 409, gateway.CodeDuplicate},
		{"ok", map[string]string{"email": "New.Agent@example.com", "name": "New Agent", "role": "supervisor", "password": password}, 201, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, body := f.do("POST", "/api/v1/users", tok, tc.body)
			if code != tc.want {
				t.Fatalf("status = %d %s, want %d", code, body, tc.want)
			}
			if tc.wantCode != "" {
				if got := errorCode(t, body); got != tc.wantCode {
					t.Fatalf("code = %q, want %q", got, tc.wantCode)
				}
				if _, err := f.store.GetUserByEmail(context.Background(), "a@example.com"); !errors.Is(err, persistence.ErrNotFound) {
					t.Fatalf("refused user was stored (%v)", err)
				}
				return
			}
			var u struct{ ID, Email, Role, TenantID string }
			if err := json.Unmarshal(body, &u); err != nil {
				t.Fatal(err)
			}
			stored, err := f.store.GetUser(context.Background(), tn, u.ID)
			if err != nil {
				t.Fatalf("created user not in the admin's tenant: %v", err)
			}
			if stored.Email != "new.agent@example.com" || stored.Role != persistence.RoleSupervisor || stored.Name != "New Agent" {
				t.Fatalf("stored = %+v", stored)
			}
			evs, _, err := f.store.ListAuditEventsForTarget(context.Background(), tn, "user", u.ID, persistence.Page{})
			if err != nil || len(evs) != 1 || evs[0].Action != gateway.ActionUserCreate || strings.Contains(string(evs[0].Data), password) {
				t.Fatalf("audit of the created user = %+v, %v; want one user.create without the password", evs, err)
			}
			if stored.PasswordHash == password || strings.Contains(stored.PasswordHash, password) ||
				bcrypt.CompareHashAndPassword([]byte(stored.PasswordHash), []byte(password)) != nil {
				t.Fatalf("password not stored as a bcrypt hash: %q", stored.PasswordHash)
			}
			if strings.Contains(string(body), "$2") || strings.Contains(string(body), "password") {
				t.Fatalf("response leaks the password hash: %s", body)
			}
			f.login("new.agent@example.com")
		})
	}
	if logs := f.logs.String(); strings.Contains(logs, password) {
		t.Fatalf("logs hold a password:\n%s", logs)
	}
}

// TestAPIErrors checks the mapping from errors to responses: sentinels to
// their statuses, and anything else to a generic 500 whose cause is logged
// and not sent.
func TestAPIErrors(t *testing.T) {
	for _, tc := range []struct {
		name     string
		err      error
		status   int
		code     string
		exposeOK bool
	}{
		{"not found", fmt.Errorf("get x: %w", persistence.ErrNotFound), 404, gateway.CodeNotFound, false},
		{"invalid", fmt.Errorf("x: %w", persistence.ErrInvalid), 400, gateway.CodeInvalid, false},
		{"duplicate", fmt.Errorf("x: %w", persistence.ErrDuplicate), 409, gateway.CodeDuplicate, false},
		{"version conflict", fmt.Errorf("x: %w", persistence.ErrVersionConflict), 409, gateway.CodeVersionConflict, false},
		{"too large", fmt.Errorf("read: %w", &http.MaxBytesError{Limit: 1}), 413, gateway.CodeTooLarge, false},
		{"typed, wrapped", fmt.Errorf("ctx: %w", &gateway.Error{Status: 418, Code: "teapot", Message: "short and stout"}), 418, "teapot", true},
		{"other", errors.New("dial tcp 10.0.0.1:5432: connection refused"), 500, gateway.CodeInternal, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var logs syncBuffer
			rec := httptest.NewRecorder()
			gateway.WriteError(rec, zerolog.New(&logs), tc.err)
			if rec.Code != tc.status || errorCode(t, rec.Body.Bytes()) != tc.code {
				t.Fatalf("response = %d %s, want %d %s", rec.Code, rec.Body, tc.status, tc.code)
			}
			if rec.Header().Get("Content-Type") != "application/json" {
				t.Fatalf("content type = %q", rec.Header().Get("Content-Type"))
			}
			if !tc.exposeOK && strings.Contains(rec.Body.String(), "x:") || strings.Contains(rec.Body.String(), "10.0.0.1") {
				t.Fatalf("response exposes the cause: %s", rec.Body)
			}
			logged := strings.Contains(logs.String(), tc.err.Error())
			if logged != (tc.status >= 500) {
				t.Fatalf("cause logged = %v for status %d: %q", logged, tc.status, logs.String())
			}
		})
	}
}

// TestAPIUnknownRoute checks that a path under /api/v1/ that no route owns
// answers a JSON 404.
func TestAPIUnknownRoute(t *testing.T) {
	f := newFixture(t, "sqlite")
	code, body := f.do("GET", "/api/v1/nope", "", nil)
	if code != 404 || errorCode(t, body) != gateway.CodeNotFound {
		t.Fatalf("%d %s", code, body)
	}
}
