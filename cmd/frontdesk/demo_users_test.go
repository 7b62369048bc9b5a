package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"testing"
)

// do sends method path with an optional JSON body and bearer token to s and
// returns the status and body.
func (s *server) do(t *testing.T, method, path, token string, body any) (int, string) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, "http://"+s.addr+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestDemoAdminDoesNotOutliveDemoMode restarts a demo mode data dir without
// FRONTDESK_DEMO: the demo admin (public password) can no longer sign in,
// and the token it got in demo mode no longer works.
func TestDemoAdminDoesNotOutliveDemoMode(t *testing.T) {
	dir := t.TempDir()
	demoLogin := map[string]string{"email": demoAdminEmail, "password": demoAdminPassword}

	demo := startServer(t, "FRONTDESK_DATA_DIR="+dir, "FRONTDESK_DEMO=1")
	demo.waitReady(t)
	code, body := demo.do(t, "POST", "/api/v1/auth/login", "", demoLogin)
	var login struct{ Token string }
	if code != http.StatusOK || json.Unmarshal([]byte(body), &login) != nil || login.Token == "" {
		t.Fatalf("demo mode: demo login = %d %s, want 200 with a token", code, body)
	}
	if code, body := demo.do(t, "GET", "/api/v1/me", login.Token, nil); code != http.StatusOK {
		t.Fatalf("demo mode: GET /api/v1/me = %d %s, want 200", code, body)
	}
	demo.stop(t)

	// The same data dir, demo mode off (set empty: an inherited value must
	// not turn it back on).
	prod := startServer(t, "FRONTDESK_DATA_DIR="+dir, "FRONTDESK_DEMO=")
	prod.waitReady(t)
	if code, body := prod.do(t, "POST", "/api/v1/auth/login", "", demoLogin); code != http.StatusUnauthorized {
		t.Fatalf("after demo mode: demo login = %d %s, want 401", code, body)
	}
	if code, body := prod.do(t, "GET", "/api/v1/me", login.Token, nil); code != http.StatusUnauthorized {
		t.Fatalf("after demo mode: GET /api/v1/me with the demo token = %d %s, want 401", code, body)
	}
	prod.stop(t)
}
