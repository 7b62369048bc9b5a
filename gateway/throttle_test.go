package gateway_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/frontdesk-ai/frontdesk/gateway"
	"github.com/frontdesk-ai/frontdesk/persistence"
	"github.com/frontdesk-ai/frontdesk/persistence/sqlstore/sqlstoretest"
)

// loginFrom posts a login of email with pw from the client address addr.
func (f *fixture) loginFrom(addr, email, pw string) *httptest.ResponseRecorder {
	f.t.Helper()
	raw, _ := json.Marshal(map[string]string{"email": email, "password": pw})
	req := httptest.NewRequest("POST", "/api/v1/auth/login", bytes.NewReader(raw))
	req.RemoteAddr = addr + ":40000"
	rec := httptest.NewRecorder()
	f.h.ServeHTTP(rec, req)
	return rec
}

// TestLoginThrottleAccount: 100 wrong passwords lock the account from the
// 6th attempt on, with Retry-After; the right password is refused too until
// the window passes, and then it works.
func TestLoginThrottleAccount(t *testing.T) {
	f := newFixture(t, sqlstoretest.Dialects[0])
	tn := f.tenant("acme")
	f.user(tn, "ana@example.com", persistence.RoleAgent)
	for i := 1; i <= 100; i++ {
		// Each attempt from its own address: only the account's count matters.
		rec := f.loginFrom(fmt.Sprintf("198.51.100.%d", i), "ana@example.com", "guess-"+strconv.Itoa(i)+"-secret")
		want := http.StatusUnauthorized
		if i > gateway.LoginFailuresPerAccount {
			want = http.StatusTooManyRequests
		}
		if rec.Code != want {
			t.Fatalf("attempt %d: status %d %s, want %d", i, rec.Code, rec.Body, want)
		}
		if want == http.StatusTooManyRequests {
			if got := errorCode(t, rec.Body.Bytes()); got != gateway.CodeTooManyAttempts {
				t.Fatalf("attempt %d: code %q", i, got)
			}
			secs, err := strconv.Atoi(rec.Header().Get("Retry-After"))
			if err != nil || secs < 1 || secs > int(gateway.LoginWindow/time.Second) {
				t.Fatalf("attempt %d: Retry-After %q", i, rec.Header().Get("Retry-After"))
			}
		}
	}
	// The right password, in another case, from a fresh address: still locked.
	before := sessionHashes(t, f)
	if rec := f.loginFrom("203.0.113.9", " ANA@example.com", password); rec.Code != http.StatusTooManyRequests {
		t.Fatalf("right password while locked: %d %s", rec.Code, rec.Body)
	}
	if after := sessionHashes(t, f); len(after) != len(before) {
		t.Fatal("a locked login stored a session")
	}
	f.clock.Advance(gateway.LoginWindow - time.Second)
	if rec := f.loginFrom("203.0.113.9", "ana@example.com", password); rec.Code != http.StatusTooManyRequests {
		t.Fatalf("right password a second before the lock ends: %d %s", rec.Code, rec.Body)
	}
	f.clock.Advance(time.Second)
	if rec := f.loginFrom("203.0.113.9", "ana@example.com", password); rec.Code != http.StatusOK {
		t.Fatalf("right password after the window: %d %s", rec.Code, rec.Body)
	}
	logs := f.logs.String()
	if !strings.Contains(logs, "login locked for account") {
		t.Fatalf("lockout not logged:\n%s", logs)
	}
	if strings.Contains(logs, password) || strings.Contains(logs, "-secret") {
		t.Fatalf("logs hold a password:\n%s", logs)
	}
}

// TestLoginThrottleAddress: 20 failures from one address across different
// emails lock the address for any email, right password included; other
// addresses are not affected.
func TestLoginThrottleAddress(t *testing.T) {
	f := newFixture(t, sqlstoretest.Dialects[0])
	tn := f.tenant("acme")
	f.user(tn, "ana@example.com", persistence.RoleAgent)
	const addr = "192.0.2.77"
	for i := 1; i <= gateway.LoginFailuresPerAddress; i++ {
		if rec := f.loginFrom(addr, fmt.Sprintf("user%d@example.com", i), "whatever-123"); rec.Code != http.StatusUnauthorized {
			t.Fatalf("attempt %d: %d %s", i, rec.Code, rec.Body)
		}
	}
	rec := f.loginFrom(addr, "ana@example.com", password)
	if rec.Code != http.StatusTooManyRequests || rec.Header().Get("Retry-After") == "" {
		t.Fatalf("locked address: %d %s %v", rec.Code, rec.Body, rec.Header())
	}
	if rec := f.loginFrom("192.0.2.78", "ana@example.com", password); rec.Code != http.StatusOK {
		t.Fatalf("other address: %d %s", rec.Code, rec.Body)
	}
	f.clock.Advance(gateway.LoginWindow)
	if rec := f.loginFrom(addr, "ana@example.com", password); rec.Code != http.StatusOK {
		t.Fatalf("after the window: %d %s", rec.Code, rec.Body)
	}
}

// TestLoginThrottleWindow: failures spread wider than the window never lock.
func TestLoginThrottleWindow(t *testing.T) {
	f := newFixture(t, sqlstoretest.Dialects[0])
	tn := f.tenant("acme")
	f.user(tn, "ana@example.com", persistence.RoleAgent)
	for i := range 3 * gateway.LoginFailuresPerAccount {
		if rec := f.loginFrom("192.0.2.1", "ana@example.com", "nope-nope-nope"); rec.Code != http.StatusUnauthorized {
			t.Fatalf("attempt %d: %d %s", i, rec.Code, rec.Body)
		}
		f.clock.Advance(gateway.LoginWindow / (gateway.LoginFailuresPerAccount - 1))
	}
}

// TestMemoryLimiter covers the in-process limiter: locking, expiry, and its
// bound on keys (oldest evicted).
func TestMemoryLimiter(t *testing.T) {
	ctx := context.Background()
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	t.Run("locks at max for one window", func(t *testing.T) {
		l := gateway.NewMemoryLimiter(gateway.LimiterConfig{Max: 3, Window: time.Minute})
		for i := 1; i <= 3; i++ {
			until, locked, err := l.Fail(ctx, "k", t0)
			if err != nil || locked != (i == 3) || (i == 3) != !until.IsZero() {
				t.Fatalf("fail %d: %v %v %v", i, until, locked, err)
			}
		}
		if until, _ := l.Locked(ctx, "k", t0.Add(59*time.Second)); !until.Equal(t0.Add(time.Minute)) {
			t.Fatalf("locked until %v", until)
		}
		// Failures while locked neither count nor extend the lock.
		if until, locked, _ := l.Fail(ctx, "k", t0.Add(30*time.Second)); locked || !until.Equal(t0.Add(time.Minute)) {
			t.Fatalf("fail while locked: %v %v", until, locked)
		}
		if until, _ := l.Locked(ctx, "k", t0.Add(time.Minute)); !until.IsZero() {
			t.Fatalf("still locked after the window: %v", until)
		}
		if l.Len() != 0 {
			t.Fatalf("expired key kept: %d", l.Len())
		}
	})
	t.Run("bounded", func(t *testing.T) {
		l := gateway.NewMemoryLimiter(gateway.LimiterConfig{Max: 1, Window: time.Hour, MaxKeys: 100})
		for i := range 100_000 {
			if _, _, err := l.Fail(ctx, "key"+strconv.Itoa(i), t0); err != nil {
				t.Fatal(err)
			}
		}
		if n := l.Len(); n != 100 {
			t.Fatalf("holds %d keys, want 100", n)
		}
		if until, _ := l.Locked(ctx, "key0", t0); !until.IsZero() {
			t.Fatal("oldest key not evicted")
		}
		if until, _ := l.Locked(ctx, "key99999", t0); until.IsZero() {
			t.Fatal("newest key evicted")
		}
	})
}
