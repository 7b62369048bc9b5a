package gateway

// The REST API v1 of the dashboard. Every route but login and the OpenAPI
// document sits behind the bearer middleware (Protect) with the roles it
// allows, and reads only the caller's tenant: a record of another tenant is
// "not found" (404), never "forbidden", so ids of other tenants leak nothing.
// The routes are listed in one table (routes) that Register installs and
// Routes reports; openapi.json documents them and a test keeps the two equal.

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"
	"golang.org/x/crypto/bcrypt"

	"github.com/frontdesk-ai/frontdesk/dashboard/liveview"
	"github.com/frontdesk-ai/frontdesk/persistence"
)

//go:embed openapi.json
var openAPIDocument []byte

// APIConfig configures the REST API.
type APIConfig struct {
	// BcryptCost is the cost of new password hashes: DefaultBcryptCost when
	// 0. Tests use bcrypt.MinCost.
	BcryptCost int
	// SessionTTL is how long a login's token is valid: 24h when 0.
	SessionTTL time.Duration
	// SweepInterval is how often Run deletes expired sessions: 1h when 0.
	SweepInterval time.Duration
	// Now is the clock that dates sessions and decides their expiry:
	// time.Now when nil.
	Now func() time.Time
	// ToolNames are the tools an agent profile may allow (the tool
	// registry's names); a profile naming another is refused.
	ToolNames []string
	// Grains runs conversation commands (takeover, replies, notes,
	// hand-back, open) on the grains and is told of customer changes;
	// without it those commands answer 503.
	Grains Grains
	// Merges undoes customer merges (admins); without it that answers 503.
	Merges Merges
	// Approvals decides confirmations awaiting approval (supervisors,
	// admins); without it that answers 503.
	Approvals Approvals
	// Knowledge manages and searches the knowledge base; without it those
	// routes answer 503 (reading documents works).
	Knowledge Knowledge
	// Notify wakes the live hub after a change (may be nil).
	Notify func(tenantID string)
	// Demo admits demo users (persistence.User.Demo, whose password is
	// public): set only in demo mode. Otherwise they are refused like a
	// wrong password at login, and their sessions no longer authenticate.
	Demo bool
}

func (c APIConfig) notify(tenantID string) {
	if c.Notify != nil {
		c.Notify(tenantID)
	}
}

// Validate reports a configuration that cannot work.
func (c APIConfig) Validate() error {
	if c.BcryptCost != 0 && (c.BcryptCost < bcrypt.MinCost || c.BcryptCost > bcrypt.MaxCost) {
		return fmt.Errorf("bcrypt cost %d: want %d..%d", c.BcryptCost, bcrypt.MinCost, bcrypt.MaxCost)
	}
	if c.SessionTTL < 0 || c.SweepInterval < 0 {
		return fmt.Errorf("session ttl %s and sweep interval %s must not be negative", c.SessionTTL, c.SweepInterval)
	}
	return nil
}

func (c APIConfig) withDefaults() APIConfig {
	if c.BcryptCost < bcrypt.MinCost || c.BcryptCost > bcrypt.MaxCost {
		c.BcryptCost = DefaultBcryptCost
	}
	if c.SessionTTL <= 0 {
		c.SessionTTL = 24 * time.Hour
	}
	if c.SweepInterval <= 0 {
		c.SweepInterval = time.Hour
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}

// APIStore is what the API needs from the store.
type APIStore interface {
	GetUserByEmail(ctx context.Context, email string) (persistence.User, error)
	GetUser(ctx context.Context, tenantID, id string) (persistence.User, error)
	CreateUser(ctx context.Context, m *persistence.User) error
	ListUsers(ctx context.Context, tenantID string, p persistence.Page) ([]persistence.User, string, error)

	CreateSession(ctx context.Context, s persistence.Session) error
	GetSessionByTokenHash(ctx context.Context, tokenHash string) (persistence.Session, error)
	TouchSession(ctx context.Context, tokenHash string, at time.Time) error
	DeleteSession(ctx context.Context, tokenHash string) error
	DeleteExpiredSessions(ctx context.Context, now time.Time) (int64, error)

	GetConversation(ctx context.Context, tenantID, id string) (persistence.Conversation, error)
	ListConversations(ctx context.Context, tenantID string, status persistence.ConversationStatus, p persistence.Page) ([]persistence.Conversation, string, error)
	ListMessages(ctx context.Context, tenantID, conversationID string, p persistence.Page) ([]persistence.Message, string, error)
	ListNotes(ctx context.Context, tenantID, conversationID string, p persistence.Page) ([]persistence.Note, string, error)
	LiveEventsOfConversation(ctx context.Context, tenantID, conversationID, typ string, afterID int64, limit int) ([]persistence.LiveEvent, error)
	GetCustomer(ctx context.Context, tenantID, id string) (persistence.Customer, error)
	GetCustomers(ctx context.Context, tenantID string, ids []string) ([]persistence.Customer, error)
	ListIdentitiesOfCustomer(ctx context.Context, tenantID, customerID string) ([]persistence.CustomerIdentity, error)
	ListCustomers(ctx context.Context, tenantID string, p persistence.Page) ([]persistence.Customer, string, error)
	SearchCustomers(ctx context.Context, tenantID, query string, limit int) ([]persistence.Customer, error)
	ListIdentitiesOfCustomers(ctx context.Context, tenantID string, customerIDs []string) ([]persistence.CustomerIdentity, error)
	ListConversationsByCustomer(ctx context.Context, tenantID, customerID string, limit int) ([]persistence.Conversation, error)
	GetOpenConversationOfCustomer(ctx context.Context, tenantID, customerID, channel string) (persistence.Conversation, error)
	GetLatestConversationOfCustomer(ctx context.Context, tenantID, customerID, channel string) (persistence.Conversation, error)
	ListOrdersByCustomer(ctx context.Context, tenantID, customerID string, limit int) ([]persistence.Order, error)
	ListTicketsByCustomer(ctx context.Context, tenantID, customerID string, limit int) ([]persistence.Ticket, error)
	ListPaymentIntentsByCustomer(ctx context.Context, tenantID, customerID string, limit int) ([]persistence.PaymentIntent, error)
	ListCustomerOrders(ctx context.Context, tenantID, customerID string, p persistence.Page) ([]persistence.Order, string, error)
	GetOrder(ctx context.Context, tenantID, id string) (persistence.Order, error)
	ListShops(ctx context.Context, tenantID string) ([]persistence.Shop, error)
	ListCustomerMerges(ctx context.Context, tenantID, customerID string) ([]persistence.CustomerMerge, error)
	GetConfirmation(ctx context.Context, tenantID, id string) (persistence.Confirmation, error)
	ListConfirmationsByConversation(ctx context.Context, tenantID, conversationID string) ([]persistence.Confirmation, error)
	ListConfirmationsByCustomer(ctx context.Context, tenantID, customerID string, states ...persistence.ConfirmationState) ([]persistence.Confirmation, error)
	ListConfirmationsByState(ctx context.Context, tenantID string, state persistence.ConfirmationState, p persistence.Page) ([]persistence.Confirmation, string, error)
	ListAuditEventsForTargets(ctx context.Context, tenantID, targetKind string, targetIDs []string) ([]persistence.AuditEvent, error)
	GetKnowledgeDocument(ctx context.Context, tenantID, id string) (persistence.KnowledgeDocument, error)
	ListKnowledgeDocumentsNewest(ctx context.Context, tenantID string, status persistence.KnowledgeStatus, kind persistence.KnowledgeKind, p persistence.Page) ([]persistence.KnowledgeDocument, string, error)
	ListKnowledgeChunks(ctx context.Context, tenantID, documentID string) ([]persistence.KnowledgeChunk, error)

	AgentStore
}

// Route is one route of the API: Method and Pattern (a net/http pattern
// path, e.g. /api/v1/conversations/{id}) and the Roles allowed; no roles
// means the route is public.
type Route struct {
	Method  string
	Pattern string
	Roles   []persistence.Role
}

// handlerFunc handles one API request for p (the zero Principal on public
// routes); an error it returns becomes the response through WriteError.
type handlerFunc func(w http.ResponseWriter, r *http.Request, p Principal) error

type route struct {
	Route
	h handlerFunc
}

// API serves the REST API v1. It is safe for concurrent use.
type API struct {
	cfg       APIConfig
	store     APIStore
	log       zerolog.Logger
	routes    []route
	dummyHash func() []byte
	logins    loginThrottle // failed logins per account and address (throttle.go)
	tickets   tickets       // WebSocket tickets (auth.go)
}

// NewAPI builds the API on store; cfg's zero fields take their defaults
// (call cfg.Validate first to refuse bad values).
func NewAPI(cfg APIConfig, store APIStore, log zerolog.Logger) *API {
	cfg = cfg.withDefaults()
	a := &API{cfg: cfg, store: store, log: log}
	a.dummyHash = sync.OnceValue(func() []byte {
		h, err := bcrypt.GenerateFromPassword([]byte("frontdesk: no such user"), cfg.BcryptCost)
		if err != nil {
			panic(fmt.Sprintf("bcrypt at validated cost %d: %v", cfg.BcryptCost, err))
		}
		return h
	})
	all := []persistence.Role{persistence.RoleAdmin, persistence.RoleSupervisor, persistence.RoleAgent, persistence.RoleAnalyst}
	managers := []persistence.Role{persistence.RoleAdmin, persistence.RoleSupervisor}
	admins := []persistence.Role{persistence.RoleAdmin}
	// writers may take a conversation over and write in it.
	writers := []persistence.Role{persistence.RoleAdmin, persistence.RoleSupervisor, persistence.RoleAgent}
	a.routes = []route{
		{Route{"GET", "/api/v1/openapi.json", nil}, a.openAPI},
		{Route{"POST", "/api/v1/auth/login", nil}, a.login},
		{Route{"POST", "/api/v1/auth/logout", all}, a.logout},
		{Route{"GET", "/api/v1/me", all}, a.me},
		{Route{"POST", "/api/v1/ws/tickets", all}, a.createWSTicket},
		{Route{"GET", "/api/v1/conversations", all}, a.listConversations},
		{Route{"GET", "/api/v1/conversations/{id}", all}, a.getConversation},
		{Route{"GET", "/api/v1/conversations/{id}/messages", all}, a.listMessages},
		{Route{"POST", "/api/v1/conversations/{id}/takeover", writers}, a.takeover},
		{Route{"POST", "/api/v1/conversations/{id}/handback", writers}, a.handback},
		{Route{"POST", "/api/v1/conversations/{id}/replies", writers}, a.reply},
		{Route{"GET", "/api/v1/conversations/{id}/notes", all}, a.listNotes},
		{Route{"POST", "/api/v1/conversations/{id}/notes", writers}, a.createNote},
		{Route{"GET", "/api/v1/conversations/{id}/tool-calls", all}, a.listToolCalls},
		{Route{"GET", "/api/v1/customers", all}, a.listCustomers},
		{Route{"GET", "/api/v1/customers/{id}", all}, a.getCustomer},
		{Route{"GET", "/api/v1/customers/{id}/timeline", all}, a.customerTimeline},
		{Route{"POST", "/api/v1/customers/{id}/tickets", writers}, a.createCustomerTicket},
		{Route{"POST", "/api/v1/customers/{id}/conversations", writers}, a.openCustomerConversation},
		{Route{"GET", "/api/v1/customers/{id}/orders", all}, a.listCustomerOrders},
		{Route{"GET", "/api/v1/customers/{id}/merges", all}, a.listCustomerMerges},
		{Route{"POST", "/api/v1/customer-merges/{id}/undo", admins}, a.undoMerge},
		{Route{"GET", "/api/v1/orders/{id}", all}, a.getOrder},
		{Route{"GET", "/api/v1/commerce/shops", managers}, a.listShops},
		{Route{"GET", "/api/v1/conversations/{id}/confirmations", all}, a.listConversationConfirmations},
		{Route{"GET", "/api/v1/customers/{id}/confirmations", all}, a.listCustomerConfirmations},
		{Route{"GET", "/api/v1/approvals", managers}, a.listApprovals},
		{Route{"POST", "/api/v1/approvals/{id}/approve", managers}, a.decideApproval(true)},
		{Route{"POST", "/api/v1/approvals/{id}/reject", managers}, a.decideApproval(false)},
		{Route{"GET", "/api/v1/users", managers}, a.listUsers},
		{Route{"GET", "/api/v1/team", all}, a.listTeam},
		{Route{"POST", "/api/v1/users", admins}, a.createUser},
		{Route{"GET", "/api/v1/tools", all}, a.listTools},
		{Route{"GET", "/api/v1/agents", all}, a.listAgents},
		{Route{"POST", "/api/v1/agents", managers}, a.createAgent},
		{Route{"GET", "/api/v1/agents/{id}", all}, a.getAgent},
		{Route{"PATCH", "/api/v1/agents/{id}", managers}, a.updateAgent},
		{Route{"GET", "/api/v1/agents/{id}/prompts", all}, a.listPrompts},
		{Route{"POST", "/api/v1/agents/{id}/prompts", managers}, a.createPrompt},
		{Route{"GET", "/api/v1/agents/{id}/prompts/diff", all}, a.diffPrompts},
		{Route{"POST", "/api/v1/agents/{id}/live", managers}, a.setLive},
		{Route{"GET", "/api/v1/knowledge/documents", all}, a.listDocuments},
		{Route{"POST", "/api/v1/knowledge/documents", managers}, a.writeDocument(false)},
		{Route{"GET", "/api/v1/knowledge/documents/{id}", all}, a.getDocument},
		{Route{"PUT", "/api/v1/knowledge/documents/{id}", managers}, a.writeDocument(true)},
		{Route{"DELETE", "/api/v1/knowledge/documents/{id}", managers}, a.deleteDocument},
		{Route{"GET", "/api/v1/knowledge/documents/{id}/chunks", all}, a.listChunks},
		{Route{"POST", "/api/v1/knowledge/search", all}, a.searchKnowledge},
		{Route{"GET", "/api/v1/knowledge/coverage", all}, a.knowledgeCoverage},
	}
	return a
}

// Routes returns the routes that Register installs.
func (a *API) Routes() []Route {
	out := make([]Route, len(a.routes))
	for i, r := range a.routes {
		out[i] = r.Route
	}
	return out
}

// Register installs the API's routes on s, and a JSON 404 for any other
// path under /api/v1/.
func (a *API) Register(s *Server) {
	for _, rt := range a.routes {
		h := a.serve(rt.h)
		if len(rt.Roles) > 0 {
			h = a.Protect(rt.Roles, h)
		}
		s.Handle(rt.Method+" "+rt.Pattern, h)
	}
	s.Handle("/api/v1/", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		WriteError(w, a.log, &Error{Status: http.StatusNotFound, Code: CodeNotFound, Message: "no such API route"})
	}))
}

// Run deletes expired sessions every SweepInterval until ctx ends.
func (a *API) Run(ctx context.Context) error { return a.sweepSessions(ctx) }

// serve adapts h to http.Handler, writing the error it returns.
func (a *API) serve(h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, _ := PrincipalFrom(r.Context())
		if err := h(w, r, p); err != nil {
			log := a.log.With().Str("method", r.Method).Str("path", r.URL.Path).Logger()
			if p.TenantID != "" {
				log = log.With().Str("tenant_id", p.TenantID).Str("user_id", p.UserID).Logger()
			}
			WriteError(w, log, err)
		}
	})
}

func (a *API) now() time.Time { return a.cfg.Now() }

// audit writes, in tx, the audit event of the user p doing action to the
// target targetKind/targetID, with data as its JSON details.
func audit(ctx context.Context, tx Tx, p Principal, action, targetKind, targetID string, data any) error {
	raw, err := json.Marshal(data)
	if err != nil {
		return fmt.Errorf("audit %s: %w", action, err)
	}
	ev := &persistence.AuditEvent{Base: persistence.Base{TenantID: p.TenantID}, ActorKind: persistence.ActorUser,
		ActorID: p.UserID, Action: action, TargetKind: targetKind, TargetID: targetID, Data: raw}
	if err := tx.CreateAuditEvent(ctx, ev); err != nil {
		return fmt.Errorf("audit %s: %w", action, err)
	}
	return nil
}

// openAPI serves the embedded OpenAPI document.
func (a *API) openAPI(w http.ResponseWriter, _ *http.Request, _ Principal) error {
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(openAPIDocument)
	return nil
}

// decodeJSON reads r's body, at most maxBodyBytes, as one JSON value into v,
// strictly (see decodeStrictJSON): unknown fields, duplicate keys, deep
// nesting and trailing data are refused with 400.
func decodeJSON(w http.ResponseWriter, r *http.Request, v any) error {
	return readJSONBody(w, r, maxBodyBytes, v)
}

// pageOf reads ?limit= (default persistence.DefaultPageLimit, at most
// persistence.MaxPageLimit) and ?cursor=.
func pageOf(r *http.Request) (persistence.Page, error) {
	q := r.URL.Query()
	p := persistence.Page{Cursor: q.Get("cursor")}
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			return p, errInvalid("limit must be a positive integer")
		}
		p.Limit = min(n, persistence.MaxPageLimit)
	}
	return p, nil
}

// listError gives a bad cursor its own message.
func listError(what string, err error) error {
	if errors.Is(err, persistence.ErrInvalid) {
		return &Error{Status: http.StatusBadRequest, Code: CodeInvalid, Message: "cursor is not valid", Err: err}
	}
	return fmt.Errorf("%s: %w", what, err)
}

type customerRef struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Phone string `json:"phone"`
	Email string `json:"email"`
}

type conversationJSON struct {
	ID             string      `json:"id"`
	Status         string      `json:"status"`
	Channel        string      `json:"channel"`
	ChannelAccount string      `json:"channel_account"`
	Customer       customerRef `json:"customer"`
	AssignedUserID string      `json:"assigned_user_id"`
	// Writer is "ai" or "user:<id>": who answers the customer now.
	Writer string `json:"writer"`
	// AgentProfileID is the AI agent profile the routing rules chose for
	// the conversation; "" before one is chosen.
	AgentProfileID string     `json:"agent_profile_id"`
	LastMessageAt  *time.Time `json:"last_message_at"`
	CreatedAt      time.Time  `json:"created_at"`
	UpdatedAt      time.Time  `json:"updated_at"`
}

func toConversationJSON(c persistence.Conversation, cust persistence.Customer) conversationJSON {
	return conversationJSON{
		ID: c.ID, Status: string(c.Status), Channel: c.Channel, ChannelAccount: c.ChannelAccount,
		Customer:       customerRef{ID: c.CustomerID, Name: cust.Name, Phone: cust.Phone, Email: cust.Email},
		AssignedUserID: c.AssignedUserID, Writer: c.Writer(), AgentProfileID: c.AgentProfileID,
		LastMessageAt: c.LastMessageAt, CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt,
	}
}

type conversationsPage struct {
	Conversations []conversationJSON `json:"conversations"`
	NextCursor    string             `json:"next_cursor,omitempty"`
}

// listConversations handles GET /api/v1/conversations.
func (a *API) listConversations(w http.ResponseWriter, r *http.Request, p Principal) error {
	page, err := pageOf(r)
	if err != nil {
		return err
	}
	status := persistence.ConversationStatus(r.URL.Query().Get("status"))
	if status != "" && !status.Valid() {
		return errInvalid("status must be open, waiting_human or closed")
	}
	convs, next, err := a.store.ListConversations(r.Context(), p.TenantID, status, page)
	if err != nil {
		return listError("list conversations", err)
	}
	ids := make([]string, len(convs))
	for i, c := range convs {
		ids[i] = c.CustomerID
	}
	custs, err := a.store.GetCustomers(r.Context(), p.TenantID, ids)
	if err != nil {
		return fmt.Errorf("list conversations: customers: %w", err)
	}
	byID := make(map[string]persistence.Customer, len(custs))
	for _, c := range custs {
		byID[c.ID] = c
	}
	out := conversationsPage{Conversations: make([]conversationJSON, len(convs)), NextCursor: next}
	for i, c := range convs {
		out.Conversations[i] = toConversationJSON(c, byID[c.CustomerID])
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// getConversation handles GET /api/v1/conversations/{id}.
func (a *API) getConversation(w http.ResponseWriter, r *http.Request, p Principal) error {
	c, err := a.store.GetConversation(r.Context(), p.TenantID, r.PathValue("id"))
	if err != nil {
		return fmt.Errorf("get conversation: %w", err)
	}
	cust, err := a.store.GetCustomer(r.Context(), p.TenantID, c.CustomerID)
	if err != nil && !errors.Is(err, persistence.ErrNotFound) {
		return fmt.Errorf("get conversation %s: customer: %w", c.ID, err)
	}
	writeJSON(w, http.StatusOK, toConversationJSON(c, cust))
	return nil
}

type messageJSON struct {
	ID        string `json:"id"`
	Direction string `json:"direction"`
	Text      string `json:"text"`
	Kind      string `json:"kind"`
	// Status is the delivery status.
	Status           string    `json:"status"`
	ChannelMessageID string    `json:"channel_message_id"`
	Sender           string    `json:"sender"`
	Error            string    `json:"error"`
	MediaRef         string    `json:"media_ref"`
	CreatedAt        time.Time `json:"created_at"`
	// Citations are the knowledge passages an AI reply cited.
	Citations []liveview.Citation `json:"citations,omitempty"`
}

func toMessageJSON(m persistence.Message) messageJSON {
	return messageJSON{ID: m.ID, Direction: string(m.Direction), Text: m.Text, Kind: m.Kind,
		Status: string(m.DeliveryStatus), ChannelMessageID: m.ChannelMessageID, Sender: m.Sender,
		Error: m.Error, MediaRef: m.MediaRef, CreatedAt: m.CreatedAt, Citations: liveview.CitationsOf(m.Metadata)}
}

type messagesPage struct {
	Messages   []messageJSON `json:"messages"`
	NextCursor string        `json:"next_cursor,omitempty"`
}

// listMessages handles GET /api/v1/conversations/{id}/messages.
func (a *API) listMessages(w http.ResponseWriter, r *http.Request, p Principal) error {
	page, err := pageOf(r)
	if err != nil {
		return err
	}
	// The conversation must be the caller's tenant's: otherwise 404, not an
	// empty list.
	c, err := a.store.GetConversation(r.Context(), p.TenantID, r.PathValue("id"))
	if err != nil {
		return fmt.Errorf("list messages: %w", err)
	}
	msgs, next, err := a.store.ListMessages(r.Context(), p.TenantID, c.ID, page)
	if err != nil {
		return listError("list messages of conversation "+c.ID, err)
	}
	out := messagesPage{Messages: make([]messageJSON, len(msgs)), NextCursor: next}
	for i, m := range msgs {
		out.Messages[i] = toMessageJSON(m)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

type identityJSON struct {
	ID          string    `json:"id"`
	Channel     string    `json:"channel"`
	ExternalID  string    `json:"external_id"`
	DisplayName string    `json:"display_name"`
	CreatedAt   time.Time `json:"created_at"`
}

type customerJSON struct {
	ID         string         `json:"id"`
	Name       string         `json:"name"`
	Email      string         `json:"email"`
	Phone      string         `json:"phone"`
	Language   string         `json:"language"`
	LastSeenAt *time.Time     `json:"last_seen_at"`
	CreatedAt  time.Time      `json:"created_at"`
	UpdatedAt  time.Time      `json:"updated_at"`
	Identities []identityJSON `json:"identities"`
}

// toCustomerJSON returns the view of c with its identities ids.
func toCustomerJSON(c persistence.Customer, ids []persistence.CustomerIdentity) customerJSON {
	out := customerJSON{ID: c.ID, Name: c.Name, Email: c.Email, Phone: c.Phone, Language: c.Language,
		LastSeenAt: c.LastSeenAt, CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt, Identities: make([]identityJSON, len(ids))}
	for i, id := range ids {
		out.Identities[i] = identityJSON{ID: id.ID, Channel: id.Channel, ExternalID: id.ExternalID,
			DisplayName: id.DisplayName, CreatedAt: id.CreatedAt}
	}
	return out
}

// getCustomer handles GET /api/v1/customers/{id}.
func (a *API) getCustomer(w http.ResponseWriter, r *http.Request, p Principal) error {
	c, err := a.store.GetCustomer(r.Context(), p.TenantID, r.PathValue("id"))
	if err != nil {
		return fmt.Errorf("get customer: %w", err)
	}
	ids, err := a.store.ListIdentitiesOfCustomer(r.Context(), p.TenantID, c.ID)
	if err != nil {
		return fmt.Errorf("get customer %s: identities: %w", c.ID, err)
	}
	writeJSON(w, http.StatusOK, toCustomerJSON(c, ids))
	return nil
}

type userJSON struct {
	ID        string    `json:"id"`
	Email     string    `json:"email"`
	Name      string    `json:"name"`
	Role      string    `json:"role"`
	TenantID  string    `json:"tenant_id"`
	Disabled  bool      `json:"disabled"`
	CreatedAt time.Time `json:"created_at"`
}

func toUserJSON(u persistence.User) userJSON {
	return userJSON{ID: u.ID, Email: u.Email, Name: u.Name, Role: string(u.Role), TenantID: u.TenantID,
		Disabled: u.Disabled, CreatedAt: u.CreatedAt}
}

type usersPage struct {
	Users      []userJSON `json:"users"`
	NextCursor string     `json:"next_cursor,omitempty"`
}

// listTeam handles GET /api/v1/team: every user of the caller's tenant with
// id, name and role only, so any role can name who writes a conversation
// (GET /api/v1/users, with emails, is for managers).
func (a *API) listTeam(w http.ResponseWriter, r *http.Request, p Principal) error {
	type member struct {
		ID   string `json:"id"`
		Name string `json:"name"`
		Role string `json:"role"`
	}
	out := struct {
		Team []member `json:"team"`
	}{Team: []member{}}
	page := persistence.Page{Limit: persistence.MaxPageLimit}
	for {
		us, next, err := a.store.ListUsers(r.Context(), p.TenantID, page)
		if err != nil {
			return listError("list team", err)
		}
		for _, u := range us {
			out.Team = append(out.Team, member{ID: u.ID, Name: u.Name, Role: string(u.Role)})
		}
		if next == "" {
			break
		}
		page.Cursor = next
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// listUsers handles GET /api/v1/users.
func (a *API) listUsers(w http.ResponseWriter, r *http.Request, p Principal) error {
	page, err := pageOf(r)
	if err != nil {
		return err
	}
	us, next, err := a.store.ListUsers(r.Context(), p.TenantID, page)
	if err != nil {
		return listError("list users", err)
	}
	out := usersPage{Users: make([]userJSON, len(us)), NextCursor: next}
	for i, u := range us {
		out.Users[i] = toUserJSON(u)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

type createUserRequest struct {
	Email    string `json:"email"`
	Name     string `json:"name"`
	Role     string `json:"role"`
	Password string `json:"password"`
}

// ActionUserCreate audits a user an admin created.
const ActionUserCreate = "user.create"

// createUser handles POST /api/v1/users: a user of the admin's own tenant,
// audited.
func (a *API) createUser(w http.ResponseWriter, r *http.Request, p Principal) error {
	var req createUserRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	email := strings.ToLower(strings.TrimSpace(req.Email))
	local, domain, ok := strings.Cut(email, "@")
	switch {
	case !ok || local == "" || domain == "" || len(email) > 254 || strings.ContainsAny(email, " \t\r\n"):
		return errInvalid("email is not a valid address")
	case strings.TrimSpace(req.Name) == "":
		return errInvalid("name is required")
	case !persistence.Role(req.Role).Valid():
		return errInvalid("role must be admin, supervisor, agent or analyst")
	}
	hash, err := HashPassword(req.Password, a.cfg.BcryptCost)
	if errors.Is(err, persistence.ErrInvalid) {
		return errInvalid(fmt.Sprintf("password must have at least %d characters and at most %d bytes", MinPasswordLength, MaxPasswordBytes))
	}
	if err != nil {
		return fmt.Errorf("create user: %w", err)
	}
	u := &persistence.User{Base: persistence.Base{TenantID: p.TenantID}, Email: email,
		Name: strings.TrimSpace(req.Name), Role: persistence.Role(req.Role), PasswordHash: hash}
	err = a.store.InTx(r.Context(), func(tx Tx) error {
		if err := tx.CreateUser(r.Context(), u); err != nil {
			return err
		}
		return audit(r.Context(), tx, p, ActionUserCreate, "user", u.ID, map[string]any{"email": u.Email, "name": u.Name, "role": u.Role})
	})
	if err != nil {
		if errors.Is(err, persistence.ErrDuplicate) {
			return &Error{Status: http.StatusConflict, Code: CodeDuplicate, Message: "a user with this email already exists", Err: err}
		}
		return fmt.Errorf("create user: %w", err)
	}
	a.log.Info().Str("tenant_id", p.TenantID).Str("user_id", u.ID).Str("role", string(u.Role)).
		Str("by_user_id", p.UserID).Msg("user created")
	writeJSON(w, http.StatusCreated, toUserJSON(*u))
	return nil
}
