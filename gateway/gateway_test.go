package gateway_test

import (
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/frontdesk-ai/frontdesk/gateway"
)

func TestSecurityHeaders(t *testing.T) {
	srv := gateway.New(gateway.Config{}, zerolog.Nop(), prometheus.NewRegistry(), nil)
	srv.Handle("GET /app", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Security-Policy", "default-src 'self'")
		_, _ = w.Write([]byte("<html></html>"))
	}))
	h := srv.Handler()
	for _, tc := range []struct {
		name, path string
		tls        bool
		code       int
		csp        string
	}{
		{"healthz", "/healthz", false, 200, "frame-ancestors 'none'"},
		{"metrics", "/metrics", false, 200, "frame-ancestors 'none'"},
		{"not found", "/nope", false, 404, "frame-ancestors 'none'"},
		{"over TLS", "/healthz", true, 200, "frame-ancestors 'none'"},
		{"a handler's own policy wins", "/app", false, 200, "default-src 'self'"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest("GET", tc.path, nil)
			if tc.tls {
				req.TLS = &tls.ConnectionState{}
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tc.code {
				t.Fatalf("status = %d, want %d", rec.Code, tc.code)
			}
			want := map[string]string{
				"X-Content-Type-Options":  "nosniff",
				"Referrer-Policy":         "no-referrer",
				"X-Frame-Options":         "DENY",
				"Content-Security-Policy": tc.csp,
			}
			if tc.tls {
				want["Strict-Transport-Security"] = "max-age=31536000"
			} else {
				want["Strict-Transport-Security"] = ""
			}
			for k, v := range want {
				if got := rec.Header().Get(k); got != v {
					t.Errorf("%s = %q, want %q", k, got, v)
				}
			}
		})
	}
}
