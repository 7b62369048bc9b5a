package gateway_test

import (
	"context"
	"crypto/tls"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
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

func TestMetricsAddr(t *testing.T) {
	t.Run("empty: on the main address", func(t *testing.T) {
		srv := gateway.New(gateway.Config{}, zerolog.Nop(), prometheus.NewRegistry(), nil)
		rec := httptest.NewRecorder()
		srv.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
		if rec.Code != 200 {
			t.Fatalf("main /metrics = %d, want 200", rec.Code)
		}
		if srv.MetricsHandler() != nil {
			t.Fatal("a metrics handler without a metrics address")
		}
	})
	t.Run("set: only there", func(t *testing.T) {
		reg := prometheus.NewRegistry()
		c := prometheus.NewCounter(prometheus.CounterOpts{Name: "frontdesk_test_total", Help: "t"})
		reg.MustRegister(c)
		c.Inc()
		srv := gateway.New(gateway.Config{Addr: "127.0.0.1:0", MetricsAddr: "127.0.0.1:0"}, zerolog.Nop(), reg, nil)
		// A catch-all like the web app's must not answer /metrics.
		srv.Handle("GET /", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("app")) }))
		if err := srv.Listen(); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- srv.Run(ctx) }()
		defer func() {
			cancel()
			if err := <-done; err != nil {
				t.Error(err)
			}
		}()
		get := func(addr, path string) (int, string) {
			t.Helper()
			resp, err := http.Get("http://" + addr + path)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			return resp.StatusCode, string(b)
		}
		if code, _ := get(srv.Addr(), "/metrics"); code != http.StatusNotFound {
			t.Errorf("main /metrics = %d, want 404", code)
		}
		if code, _ := get(srv.Addr(), "/healthz"); code != 200 {
			t.Errorf("main /healthz = %d, want 200", code)
		}
		code, body := get(srv.MetricsAddr(), "/metrics")
		if code != 200 || !strings.Contains(body, "frontdesk_test_total 1") {
			t.Errorf("metrics address /metrics = %d %q", code, body)
		}
		if code, _ := get(srv.MetricsAddr(), "/healthz"); code != http.StatusNotFound {
			t.Errorf("metrics address /healthz = %d, want 404", code)
		}
	})
}
