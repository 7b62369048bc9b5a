package sqlstore_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"testing"
	"time"

	"github.com/frontdesk-ai/frontdesk/persistence"
	"github.com/frontdesk-ai/frontdesk/persistence/sqlstore"
	"github.com/frontdesk-ai/frontdesk/persistence/sqlstore/sqlstoretest"
)

func tokenHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

func sessionUser(t *testing.T, s *sqlstore.Store) persistence.User {
	t.Helper()
	u := persistence.User{Base: persistence.Base{TenantID: "tenant-a"}, Email: "ana@example.com", Name: "Ana",
		Role: persistence.RoleAgent, PasswordHash: "$2a$04$x"}
	if err := s.CreateUser(context.Background(), &u); err != nil {
		t.Fatalf("create user: %v", err)
	}
	return u
}

// TestSessions holds both dialects to the session methods: create, read,
// touch, delete, the expiry sweep, and the rules of CreateSession.
func TestSessions(t *testing.T) {
	for _, d := range sqlstoretest.Dialects {
		t.Run(d, func(t *testing.T) {
			s := sqlstoretest.Open(t, d)
			ctx := context.Background()
			u := sessionUser(t, s)
			t0 := time.Date(2025, 3, 1, 10, 0, 0, 123456789, time.UTC)

			live := persistence.Session{TokenHash: tokenHash("live"), TenantID: u.TenantID, UserID: u.ID,
				CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}
			if err := s.CreateSession(ctx, live); err != nil {
				t.Fatalf("create: %v", err)
			}
			got, err := s.GetSessionByTokenHash(ctx, live.TokenHash)
			if err != nil {
				t.Fatalf("get: %v", err)
			}
			want := live
			want.CreatedAt = t0.Truncate(time.Microsecond)
			want.ExpiresAt = want.CreatedAt.Add(time.Hour)
			want.LastUsedAt = want.CreatedAt
			if got != want {
				t.Fatalf("get = %+v, want %+v", got, want)
			}
			if err := s.CreateSession(ctx, live); !errors.Is(err, persistence.ErrDuplicate) {
				t.Fatalf("create twice: err = %v, want ErrDuplicate", err)
			}

			later := t0.Add(10 * time.Minute)
			if err := s.TouchSession(ctx, live.TokenHash, later); err != nil {
				t.Fatalf("touch: %v", err)
			}
			if got, _ := s.GetSessionByTokenHash(ctx, live.TokenHash); !got.LastUsedAt.Equal(later.Truncate(time.Microsecond)) {
				t.Fatalf("last used = %v, want %v", got.LastUsedAt, later)
			}

			// The sweep removes sessions expired at "now" and keeps the others.
			for _, tok := range []string{"old1", "old2"} {
				if err := s.CreateSession(ctx, persistence.Session{TokenHash: tokenHash(tok), TenantID: u.TenantID, UserID: u.ID,
					CreatedAt: t0.Add(-2 * time.Hour), ExpiresAt: t0.Add(-time.Minute)}); err != nil {
					t.Fatalf("create %s: %v", tok, err)
				}
			}
			n, err := s.DeleteExpiredSessions(ctx, t0)
			if err != nil || n != 2 {
				t.Fatalf("sweep = %d, %v; want 2", n, err)
			}
			if _, err := s.GetSessionByTokenHash(ctx, tokenHash("old1")); !errors.Is(err, persistence.ErrNotFound) {
				t.Fatalf("expired session after sweep: err = %v, want ErrNotFound", err)
			}
			if _, err := s.GetSessionByTokenHash(ctx, live.TokenHash); err != nil {
				t.Fatalf("live session after sweep: %v", err)
			}

			if err := s.DeleteSession(ctx, live.TokenHash); err != nil {
				t.Fatalf("delete: %v", err)
			}
			for name, err := range map[string]error{
				"get":    func() error { _, err := s.GetSessionByTokenHash(ctx, live.TokenHash); return err }(),
				"delete": s.DeleteSession(ctx, live.TokenHash),
				"touch":  s.TouchSession(ctx, live.TokenHash, later),
			} {
				if !errors.Is(err, persistence.ErrNotFound) {
					t.Errorf("%s after delete: err = %v, want ErrNotFound", name, err)
				}
			}
		})
	}
}

// TestSessionRules checks what CreateSession refuses.
func TestSessionRules(t *testing.T) {
	s := sqlstoretest.Open(t, "sqlite")
	u := sessionUser(t, s)
	t0 := time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)
	valid := persistence.Session{TokenHash: tokenHash("x"), TenantID: u.TenantID, UserID: u.ID, CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}
	for _, tc := range []struct {
		name   string
		change func(*persistence.Session)
		want   error
	}{
		{"raw token instead of hash", func(s *persistence.Session) { s.TokenHash = "plain-token" }, persistence.ErrInvalid},
		{"no tenant", func(s *persistence.Session) { s.TenantID = "" }, persistence.ErrInvalid},
		{"no user", func(s *persistence.Session) { s.UserID = "" }, persistence.ErrInvalid},
		{"expires before created", func(s *persistence.Session) { s.ExpiresAt = t0.Add(-time.Second) }, persistence.ErrInvalid},
		{"unknown user", func(s *persistence.Session) { s.UserID = "nobody" }, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ss := valid
			tc.change(&ss)
			err := s.CreateSession(context.Background(), ss)
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if tc.want == nil && err == nil {
				t.Fatal("session of an unknown user was stored")
			}
			if _, err := s.GetSessionByTokenHash(context.Background(), ss.TokenHash); !errors.Is(err, persistence.ErrNotFound) {
				t.Fatalf("refused session is readable: err = %v", err)
			}
		})
	}
}

// TestDeleteDemoSessions holds both dialects to ending demo users' sessions:
// the demo user's go, everyone else's stay, and the flag round-trips.
func TestDeleteDemoSessions(t *testing.T) {
	for _, d := range sqlstoretest.Dialects {
		t.Run(d, func(t *testing.T) {
			s := sqlstoretest.Open(t, d)
			ctx := context.Background()
			member := sessionUser(t, s)
			demo := persistence.User{Base: persistence.Base{TenantID: member.TenantID}, Email: "admin@demo.local", Name: "Demo",
				Role: persistence.RoleAdmin, PasswordHash: "$2a$04$x", Demo: true}
			if err := s.CreateUser(ctx, &demo); err != nil {
				t.Fatalf("create demo user: %v", err)
			}
			if got, err := s.GetUser(ctx, demo.TenantID, demo.ID); err != nil || !got.Demo {
				t.Fatalf("demo user read back as %+v (err %v), want Demo", got, err)
			}
			if got, err := s.GetUser(ctx, member.TenantID, member.ID); err != nil || got.Demo {
				t.Fatalf("user read back as %+v (err %v), want not Demo", got, err)
			}
			now := time.Now()
			for _, sess := range []persistence.Session{
				{TokenHash: tokenHash("demo-1"), TenantID: demo.TenantID, UserID: demo.ID, CreatedAt: now, ExpiresAt: now.Add(time.Hour)},
				{TokenHash: tokenHash("demo-2"), TenantID: demo.TenantID, UserID: demo.ID, CreatedAt: now, ExpiresAt: now.Add(time.Hour)},
				{TokenHash: tokenHash("member"), TenantID: member.TenantID, UserID: member.ID, CreatedAt: now, ExpiresAt: now.Add(time.Hour)},
			} {
				if err := s.CreateSession(ctx, sess); err != nil {
					t.Fatalf("create session: %v", err)
				}
			}
			if n, err := s.DeleteDemoSessions(ctx); err != nil || n != 2 {
				t.Fatalf("DeleteDemoSessions = %d, %v; want 2", n, err)
			}
			for token, want := range map[string]error{"demo-1": persistence.ErrNotFound, "demo-2": persistence.ErrNotFound, "member": nil} {
				if _, err := s.GetSessionByTokenHash(ctx, tokenHash(token)); !errors.Is(err, want) {
					t.Errorf("session %s: err %v, want %v", token, err, want)
				}
			}
		})
	}
}
