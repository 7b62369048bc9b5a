package gateway

// Authentication of dashboard users.
//
// Passwords are hashed with bcrypt (APIConfig.BcryptCost, DefaultBcryptCost
// in production); bcrypt reads at most 72 bytes, so longer passwords are
// refused rather than silently cut. A login creates a session: 32 random
// bytes, base64url-encoded, given to the client once; the store keeps only
// their SHA-256. Requests carry the token as "Authorization: Bearer …"
// (the WebSocket passes a single-use ?ticket=, see Authenticate). Failed logins
// are throttled per account and per client address (throttle.go).

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"golang.org/x/crypto/bcrypt"

	"github.com/frontdesk-ai/frontdesk/persistence"
)

// Password rules and hashing cost.
const (
	// DefaultBcryptCost is the bcrypt cost of new password hashes in
	// production.
	DefaultBcryptCost = 12
	// MinPasswordLength is the fewest characters a password may have.
	MinPasswordLength = 12
	// MaxPasswordBytes is the longest password bcrypt hashes in full.
	MaxPasswordBytes = 72
)

// maxBodyBytes bounds every JSON request body of the API.
const maxBodyBytes = 64 << 10

// touchEvery is how stale a session's LastUsedAt may get before a request
// writes it again; it keeps reads from writing on every request.
const touchEvery = time.Minute

// msgBadLogin is the one answer to a wrong email or a wrong password, so the
// login does not tell which accounts exist.
const msgBadLogin = "invalid email or password"

// Principal is the signed-in user a request acts for; the bearer middleware
// puts it in the request's context (see PrincipalFrom).
type Principal struct {
	UserID   string
	TenantID string
	Role     persistence.Role
	Email    string
	Name     string

	// tokenHash names the session, for logout.
	tokenHash string
}

type principalKey struct{}

// PrincipalFrom returns the principal that the bearer middleware put in ctx.
func PrincipalFrom(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(Principal)
	return p, ok
}

// HashPassword checks password against the rules (MinPasswordLength
// characters, at most MaxPasswordBytes bytes) and returns its bcrypt hash at
// cost (DefaultBcryptCost when 0). A password that breaks a rule fails with
// an error wrapping persistence.ErrInvalid.
func HashPassword(password string, cost int) (string, error) {
	if n := utf8.RuneCountInString(password); n < MinPasswordLength {
		return "", fmt.Errorf("password has %d characters, fewer than %d: %w", n, MinPasswordLength, persistence.ErrInvalid)
	}
	if len(password) > MaxPasswordBytes {
		return "", fmt.Errorf("password is longer than %d bytes: %w", MaxPasswordBytes, persistence.ErrInvalid)
	}
	if cost == 0 {
		cost = DefaultBcryptCost
	}
	h, err := bcrypt.GenerateFromPassword([]byte(password), cost)
	if err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	return string(h), nil
}

// AdminStore is what EnsureAdmin needs from the store.
type AdminStore interface {
	GetUserByEmail(ctx context.Context, email string) (persistence.User, error)
	CreateUser(ctx context.Context, m *persistence.User) error
}

// EnsureAdmin creates the admin user email of tenantID with password
// (hashed at cost; DefaultBcryptCost when 0) unless a user with that email
// exists, in any tenant; an existing user is left as it is, password
// included. It reports whether it created the user. Members that start
// together may all call it: the store's unique email lets exactly one
// create the user and the others see persistence.ErrDuplicate, which
// EnsureAdmin treats as "exists".
func EnsureAdmin(ctx context.Context, store AdminStore, tenantID, email, password string, cost int) (bool, error) {
	return ensureAdmin(ctx, store, tenantID, email, password, cost, false)
}

// EnsureDemoAdmin is EnsureAdmin for demo mode's admin, whose password is
// public: the user it creates is a demo user (persistence.User.Demo), which
// an API not in demo mode (APIConfig.Demo) refuses.
func EnsureDemoAdmin(ctx context.Context, store AdminStore, tenantID, email, password string, cost int) (bool, error) {
	return ensureAdmin(ctx, store, tenantID, email, password, cost, true)
}

func ensureAdmin(ctx context.Context, store AdminStore, tenantID, email, password string, cost int, demo bool) (bool, error) {
	email = strings.ToLower(strings.TrimSpace(email))
	if tenantID == "" || email == "" {
		return false, fmt.Errorf("ensure admin: tenant %q and email must not be empty: %w", tenantID, persistence.ErrInvalid)
	}
	_, err := store.GetUserByEmail(ctx, email)
	if err == nil {
		return false, nil
	}
	if !errors.Is(err, persistence.ErrNotFound) {
		return false, fmt.Errorf("ensure admin: %w", err)
	}
	hash, err := HashPassword(password, cost)
	if err != nil {
		return false, fmt.Errorf("ensure admin: %w", err)
	}
	u := &persistence.User{Base: persistence.Base{TenantID: tenantID}, Email: email, Name: "Administrator",
		Role: persistence.RoleAdmin, PasswordHash: hash, Demo: demo}
	switch err := store.CreateUser(ctx, u); {
	case errors.Is(err, persistence.ErrDuplicate):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("ensure admin: %w", err)
	}
	return true, nil
}

// newToken returns a fresh session token and its hash.
func newToken() (token, hash string) {
	var b [32]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	token = base64.RawURLEncoding.EncodeToString(b[:])
	return token, hashToken(token)
}

// hashToken returns the hex SHA-256 of token, the session's key in the store.
func hashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// bearerToken returns the token of an "Authorization: Bearer" header, or "".
func bearerToken(r *http.Request) string {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(token)
}

// Authenticate resolves the request's session, from the Authorization
// header or, for the WebSocket whose browser API cannot set headers, a
// single-use ?ticket= (POST /api/v1/ws/tickets, see the tickets below) or the
// deprecated ?token= parameter, and returns the signed-in user's tenant and
// id. A ticket is spent by the first call; it sets r's Authorization header
// to its session, so that calling again with r re-checks that session. A
// missing, unknown or expired token or ticket or a disabled user fails with
// a 401 *Error (write it with WriteError).
func (a *API) Authenticate(r *http.Request) (tenantID, userID string, err error) {
	token := bearerToken(r)
	if t := r.URL.Query().Get("ticket"); token == "" && t != "" {
		token = a.tickets.redeem(t, a.now())
		if token == "" {
			return "", "", errUnauthorized("invalid, used or expired ticket", nil)
		}
		// The ticket is spent: later calls for this request (the
		// connection's session re-checks) authenticate by its session.
		r.Header.Set("Authorization", "Bearer "+token)
	}
	if token == "" {
		// Deprecated: tokens in URLs reach logs; use a ticket.
		token = r.URL.Query().Get("token")
	}
	p, err := a.authenticate(r.Context(), token)
	if err != nil {
		return "", "", err
	}
	return p.TenantID, p.UserID, nil
}

// authenticate resolves token to its principal.
func (a *API) authenticate(ctx context.Context, token string) (Principal, error) {
	if token == "" {
		return Principal{}, errUnauthorized("missing bearer token", nil)
	}
	hash := hashToken(token)
	s, err := a.store.GetSessionByTokenHash(ctx, hash)
	if errors.Is(err, persistence.ErrNotFound) {
		return Principal{}, errUnauthorized("invalid or expired token", nil)
	}
	if err != nil {
		return Principal{}, fmt.Errorf("authenticate: %w", err)
	}
	now := a.now()
	if !now.Before(s.ExpiresAt) {
		return Principal{}, errUnauthorized("invalid or expired token", nil)
	}
	u, err := a.store.GetUser(ctx, s.TenantID, s.UserID)
	if errors.Is(err, persistence.ErrNotFound) {
		return Principal{}, errUnauthorized("invalid or expired token", nil)
	}
	if err != nil {
		return Principal{}, fmt.Errorf("authenticate user %s: %w", s.UserID, err)
	}
	if u.Disabled {
		return Principal{}, errUnauthorized("user is disabled", nil)
	}
	if u.Demo && !a.cfg.Demo {
		return Principal{}, errUnauthorized("invalid or expired token", nil)
	}
	if now.Sub(s.LastUsedAt) >= touchEvery {
		if err := a.store.TouchSession(ctx, hash, now); err != nil {
			// The request may go on: LastUsedAt is informational.
			a.log.Warn().Err(err).Str("user_id", u.ID).Msg("could not record session use")
		}
	}
	return Principal{UserID: u.ID, TenantID: u.TenantID, Role: u.Role, Email: u.Email, Name: u.Name, tokenHash: hash}, nil
}

// Protect returns h behind the bearer middleware: the request needs a valid
// "Authorization: Bearer" token (401 otherwise) of a user whose role is one
// of roles (403 otherwise); h finds the user with PrincipalFrom.
func (a *API) Protect(roles []persistence.Role, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := a.authenticate(r.Context(), bearerToken(r))
		if err != nil {
			WriteError(w, a.log, err)
			return
		}
		if !slices.Contains(roles, p.Role) {
			WriteError(w, a.log, errForbidden())
			return
		}
		h.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), principalKey{}, p)))
	})
}

type loginRequest struct {
	Email    string `json:"email"`
	Password string `json:"password"`
}

type loginResponse struct {
	Token     string    `json:"token"`
	ExpiresAt time.Time `json:"expires_at"`
	User      userJSON  `json:"user"`
}

// login handles POST /api/v1/auth/login.
func (a *API) login(w http.ResponseWriter, r *http.Request, _ Principal) error {
	var req loginRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	if req.Email == "" || req.Password == "" {
		return errInvalid("email and password are required")
	}
	// A locked account or address is refused before any password is
	// checked (see throttle.go).
	if err := a.checkLoginLock(w, r, req.Email); err != nil {
		return err
	}
	u, err := a.store.GetUserByEmail(r.Context(), req.Email)
	if errors.Is(err, persistence.ErrNotFound) {
		// Spend the time a real comparison takes, so response times do not
		// tell which emails have accounts.
		_ = bcrypt.CompareHashAndPassword(a.dummyHash(), []byte(req.Password))
		a.loginFailed(r, req.Email, "")
		return errUnauthorized(msgBadLogin, nil)
	}
	if err != nil {
		return fmt.Errorf("login: %w", err)
	}
	if bcrypt.CompareHashAndPassword([]byte(u.PasswordHash), []byte(req.Password)) != nil {
		a.loginFailed(r, req.Email, u.ID)
		a.log.Info().Str("tenant_id", u.TenantID).Str("user_id", u.ID).Msg("login refused: wrong password")
		return errUnauthorized(msgBadLogin, nil)
	}
	if u.Demo && !a.cfg.Demo {
		// Its password is public: refused exactly like a wrong one.
		a.log.Warn().Str("tenant_id", u.TenantID).Str("user_id", u.ID).Msg("login refused: demo user outside demo mode")
		return errUnauthorized(msgBadLogin, nil)
	}
	if u.Disabled {
		a.log.Info().Str("tenant_id", u.TenantID).Str("user_id", u.ID).Msg("login refused: user disabled")
		return errUnauthorized("user is disabled", nil)
	}
	token, hash := newToken()
	now := a.now()
	s := persistence.Session{TokenHash: hash, TenantID: u.TenantID, UserID: u.ID,
		CreatedAt: now, ExpiresAt: now.Add(a.cfg.SessionTTL), LastUsedAt: now}
	if err := a.store.CreateSession(r.Context(), s); err != nil {
		return fmt.Errorf("login user %s: %w", u.ID, err)
	}
	a.log.Info().Str("tenant_id", u.TenantID).Str("user_id", u.ID).Msg("user logged in")
	writeJSON(w, http.StatusOK, loginResponse{Token: token, ExpiresAt: s.ExpiresAt.UTC().Truncate(time.Microsecond), User: toUserJSON(u)})
	return nil
}

// logout handles POST /api/v1/auth/logout: it ends the caller's session.
func (a *API) logout(w http.ResponseWriter, r *http.Request, p Principal) error {
	if err := a.store.DeleteSession(r.Context(), p.tokenHash); err != nil && !errors.Is(err, persistence.ErrNotFound) {
		return fmt.Errorf("logout user %s: %w", p.UserID, err)
	}
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// me handles GET /api/v1/me.
func (a *API) me(w http.ResponseWriter, r *http.Request, p Principal) error {
	u, err := a.store.GetUser(r.Context(), p.TenantID, p.UserID)
	if err != nil {
		return fmt.Errorf("me %s: %w", p.UserID, err)
	}
	writeJSON(w, http.StatusOK, toUserJSON(u))
	return nil
}

// sweepSessions deletes expired sessions every SweepInterval until ctx ends.
func (a *API) sweepSessions(ctx context.Context) error {
	t := time.NewTicker(a.cfg.SweepInterval)
	defer t.Stop()
	for {
		n, err := a.store.DeleteExpiredSessions(ctx, a.now())
		switch {
		case ctx.Err() != nil:
			return nil
		case err != nil:
			a.log.Warn().Err(err).Msg("sweep expired sessions")
		case n > 0:
			a.log.Debug().Int64("deleted", n).Msg("swept expired sessions")
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// WebSocket tickets. A browser cannot set headers on a WebSocket, and a
// session token in a URL ends up in proxy and server logs. Instead the
// client asks POST /api/v1/ws/tickets (with its bearer header) for a ticket:
// random, single use, valid ticketTTL, bound to the caller's session. /ws
// and /ws/poll accept ?ticket= once; the long poll can also send the bearer
// header, as any HTTP request. The ?token= parameter still works for one
// release and is deprecated.
//
// Tickets live in this process (a bounded map, oldest evicted); behind a
// load balancer the client's connect must reach the member that issued it,
// or a shared store must follow.

// ticketTTL is how long a WebSocket ticket may be used.
const ticketTTL = 30 * time.Second

// maxTickets bounds the tickets held at once.
const maxTickets = 10000

type ticket struct {
	token   string // the session's token, to authenticate the connection and its re-checks
	expires time.Time
}

// tickets holds the unused tickets, keyed by the hash of the ticket. The
// zero value is ready to use; mu guards everything.
type tickets struct {
	mu    sync.Mutex
	m     map[string]ticket
	order []string // hashes, oldest first; may name used ones
}

// issue stores a new ticket for token, valid until now+ticketTTL, and
// returns it.
func (ts *tickets) issue(token string, now time.Time) string {
	var b [32]byte
	_, _ = rand.Read(b[:]) // never fails (Go 1.24+)
	t := base64.RawURLEncoding.EncodeToString(b[:])
	h := hashToken(t)
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if ts.m == nil {
		ts.m = make(map[string]ticket)
	}
	// Drop used and expired tickets from the front, then the oldest while full.
	for len(ts.order) > 0 {
		old, ok := ts.m[ts.order[0]]
		if ok && now.Before(old.expires) && len(ts.m) < maxTickets {
			break
		}
		delete(ts.m, ts.order[0])
		ts.order = ts.order[1:]
	}
	ts.m[h] = ticket{token: token, expires: now.Add(ticketTTL)}
	ts.order = append(ts.order, h)
	return t
}

// redeem consumes ticket t and returns its session token, or "" when t is
// unknown, used or expired.
func (ts *tickets) redeem(t string, now time.Time) string {
	h := hashToken(t)
	ts.mu.Lock()
	defer ts.mu.Unlock()
	tk, ok := ts.m[h]
	if !ok {
		return ""
	}
	delete(ts.m, h)
	if !now.Before(tk.expires) {
		return ""
	}
	return tk.token
}

type ticketResponse struct {
	Ticket    string `json:"ticket"`
	ExpiresIn int    `json:"expires_in"`
}

// createWSTicket handles POST /api/v1/ws/tickets.
func (a *API) createWSTicket(w http.ResponseWriter, r *http.Request, _ Principal) error {
	t := a.tickets.issue(bearerToken(r), a.now())
	writeJSON(w, http.StatusOK, ticketResponse{Ticket: t, ExpiresIn: int(ticketTTL / time.Second)})
	return nil
}
