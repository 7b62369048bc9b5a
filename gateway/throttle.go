package gateway

// Login throttling.
//
// Failed logins are counted per account (the email as typed, lower-cased)
// and per client address (the host of the connection's remote address; a
// proxy in front must be one per client or the limit is shared). When a key
// reaches its limit within the window it is locked for one window from that
// failure: attempts answer 429 with Retry-After before any password is
// checked, a right password included, and a correct login does not unlock
// it. Attempts refused while locked do not count.
//
// LoginLimiter is what the login needs from the counting; MemoryLimiter
// keeps the counts in this process (a cluster's members each count on their
// own); a shared implementation (Redis) can follow behind the same interface.

import (
	"container/list"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// CodeTooManyAttempts is the error code of a login refused because its
// account or address is locked after too many failures.
const CodeTooManyAttempts = "too_many_attempts"

// Login throttling defaults.
const (
	// LoginFailuresPerAccount is how many failed logins of one email within
	// LoginWindow lock it.
	LoginFailuresPerAccount = 5
	// LoginFailuresPerAddress is how many failed logins from one client
	// address within LoginWindow lock it.
	LoginFailuresPerAddress = 20
	// LoginWindow is the window failures are counted in and how long a lock
	// lasts.
	LoginWindow = 15 * time.Minute
	// DefaultLimiterKeys bounds the keys a MemoryLimiter holds.
	DefaultLimiterKeys = 10000
)

// LoginLimiter counts failed attempts per key. Implementations are safe for
// concurrent use.
type LoginLimiter interface {
	// Locked returns until when key is locked at now, or the zero time when
	// it is not.
	Locked(ctx context.Context, key string, now time.Time) (time.Time, error)
	// Fail records a failed attempt of key at now and returns until when the
	// key is locked (the zero time when it is not) and whether this failure
	// locked it.
	Fail(ctx context.Context, key string, now time.Time) (until time.Time, locked bool, err error)
}

var _ LoginLimiter = (*MemoryLimiter)(nil)

// LimiterConfig configures a MemoryLimiter.
type LimiterConfig struct {
	// Max is how many failures within Window lock a key (at least 1).
	Max int
	// Window is the span failures are counted in and how long a lock lasts.
	Window time.Duration
	// MaxKeys bounds the keys held: DefaultLimiterKeys when 0. When full, a
	// new key evicts the oldest one.
	MaxKeys int
}

// MemoryLimiter is a LoginLimiter in this process's memory, bounded to
// MaxKeys keys (oldest evicted first). Its one mutex guards everything.
type MemoryLimiter struct {
	cfg LimiterConfig

	mu    sync.Mutex
	keys  map[string]*list.Element // of *limiterEntry
	order *list.List               // oldest first
}

type limiterEntry struct {
	key   string
	start time.Time // first failure of the current window
	n     int       // failures since start
	until time.Time // end of the lock; zero when not locked
}

// NewMemoryLimiter returns an empty MemoryLimiter; cfg's zero fields take
// their defaults (Max 1, Window LoginWindow, MaxKeys DefaultLimiterKeys).
func NewMemoryLimiter(cfg LimiterConfig) *MemoryLimiter {
	if cfg.Max < 1 {
		cfg.Max = 1
	}
	if cfg.Window <= 0 {
		cfg.Window = LoginWindow
	}
	if cfg.MaxKeys <= 0 {
		cfg.MaxKeys = DefaultLimiterKeys
	}
	return &MemoryLimiter{cfg: cfg, keys: make(map[string]*list.Element), order: list.New()}
}

// Len returns how many keys l holds.
func (l *MemoryLimiter) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.keys)
}

// Locked implements LoginLimiter.
func (l *MemoryLimiter) Locked(_ context.Context, key string, now time.Time) (time.Time, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	el, ok := l.keys[key]
	if !ok {
		return time.Time{}, nil
	}
	e := el.Value.(*limiterEntry)
	if l.expired(e, now) {
		l.remove(el)
		return time.Time{}, nil
	}
	if now.Before(e.until) {
		return e.until, nil
	}
	return time.Time{}, nil
}

// Fail implements LoginLimiter.
func (l *MemoryLimiter) Fail(_ context.Context, key string, now time.Time) (time.Time, bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	el, ok := l.keys[key]
	if ok && l.expired(l.entry(el), now) {
		l.remove(el)
		ok = false
	}
	if !ok {
		for len(l.keys) >= l.cfg.MaxKeys {
			l.remove(l.order.Front())
		}
		el = l.order.PushBack(&limiterEntry{key: key, start: now})
		l.keys[key] = el
	}
	e := l.entry(el)
	if now.Before(e.until) {
		return e.until, false, nil
	}
	e.n++
	if e.n >= l.cfg.Max {
		e.until = now.Add(l.cfg.Window)
		return e.until, true, nil
	}
	return time.Time{}, false, nil
}

func (l *MemoryLimiter) entry(el *list.Element) *limiterEntry { return el.Value.(*limiterEntry) }

// expired reports whether e no longer matters at now: its window has passed
// and it is not locked.
func (l *MemoryLimiter) expired(e *limiterEntry, now time.Time) bool {
	if !e.until.IsZero() {
		return !now.Before(e.until)
	}
	return now.Sub(e.start) >= l.cfg.Window
}

func (l *MemoryLimiter) remove(el *list.Element) {
	delete(l.keys, l.entry(el).key)
	l.order.Remove(el)
}

// loginThrottle holds the API's two limiters, made on first use.
type loginThrottle struct {
	once             sync.Once
	account, address LoginLimiter
}

func (t *loginThrottle) limiters() (account, address LoginLimiter) {
	t.once.Do(func() {
		t.account = NewMemoryLimiter(LimiterConfig{Max: LoginFailuresPerAccount, Window: LoginWindow})
		t.address = NewMemoryLimiter(LimiterConfig{Max: LoginFailuresPerAddress, Window: LoginWindow})
	})
	return t.account, t.address
}

// clientAddress returns the host of r's remote address.
func clientAddress(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// accountKey is the limiter key of a login's email.
func accountKey(email string) string { return strings.ToLower(strings.TrimSpace(email)) }

// emailRef names an email in logs without writing it.
func emailRef(email string) string {
	sum := sha256.Sum256([]byte(email))
	return hex.EncodeToString(sum[:6])
}

// errTooManyAttempts is the 429 of a locked login; it sets Retry-After on w
// to the seconds until until.
func (a *API) errTooManyAttempts(w http.ResponseWriter, until time.Time) *Error {
	secs := int(math.Ceil(until.Sub(a.now()).Seconds()))
	w.Header().Set("Retry-After", strconv.Itoa(max(secs, 1)))
	return &Error{Status: http.StatusTooManyRequests, Code: CodeTooManyAttempts,
		Message: "too many failed logins; try again later"}
}

// checkLoginLock returns the 429 of a login whose account or address is
// locked, or nil.
func (a *API) checkLoginLock(w http.ResponseWriter, r *http.Request, email string) error {
	account, address := a.logins.limiters()
	now := a.now()
	var until time.Time
	for _, c := range []struct {
		l   LoginLimiter
		key string
	}{{account, accountKey(email)}, {address, clientAddress(r)}} {
		u, err := c.l.Locked(r.Context(), c.key, now)
		if err != nil {
			return fmt.Errorf("login throttle: %w", err)
		}
		if u.After(until) {
			until = u
		}
	}
	if until.IsZero() {
		return nil
	}
	return a.errTooManyAttempts(w, until)
}

// loginFailed counts a failed login of email from r's address and logs a
// lockout it causes.
func (a *API) loginFailed(r *http.Request, email, userID string) {
	account, address := a.logins.limiters()
	now := a.now()
	addr := clientAddress(r)
	if until, locked, err := account.Fail(r.Context(), accountKey(email), now); err != nil {
		a.log.Warn().Err(err).Msg("login throttle: count account failure")
	} else if locked {
		a.log.Warn().Str("email_ref", emailRef(accountKey(email))).Str("user_id", userID).Str("remote", addr).
			Time("until", until).Msg("login locked for account after too many failures")
	}
	if until, locked, err := address.Fail(r.Context(), addr, now); err != nil {
		a.log.Warn().Err(err).Msg("login throttle: count address failure")
	} else if locked {
		a.log.Warn().Str("remote", addr).Time("until", until).Msg("login locked for address after too many failures")
	}
}
