// Package gateway owns frontdesk's HTTP edge: health and readiness probes,
// Prometheus metrics, and (with the channel issues) the channel webhooks,
// the REST API with its authentication, and the WebSocket endpoint. HTTP
// status codes are chosen here and nowhere else.
package gateway

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/rs/zerolog"
)

// Check is one readiness condition: nil when the part it checks is usable.
type Check func(ctx context.Context) error

// Config configures the HTTP server.
type Config struct {
	// Addr is the listen address (FRONTDESK_HTTP_ADDR).
	Addr string
	// MetricsAddr, when set, is a separate listen address that serves
	// /metrics (FRONTDESK_METRICS_ADDR); the main address then answers 404
	// there. Empty: /metrics is on the main address.
	MetricsAddr string
	// ShutdownTimeout bounds how long in-flight requests may finish on stop.
	ShutdownTimeout time.Duration
}

// Server is the HTTP server.
type Server struct {
	cfg    Config
	log    zerolog.Logger
	mux    *http.ServeMux
	checks map[string]Check
	ln     net.Listener
	// metrics serves /metrics on cfg.MetricsAddr (nil when that is empty).
	metrics   *http.ServeMux
	metricsLn net.Listener
	// draining is closed when Run starts shutting down.
	draining chan struct{}
}

// New builds the server; gatherer serves /metrics, checks decide /readyz.
func New(cfg Config, log zerolog.Logger, gatherer prometheus.Gatherer, checks map[string]Check) *Server {
	if cfg.ShutdownTimeout <= 0 {
		cfg.ShutdownTimeout = 15 * time.Second
	}
	s := &Server{cfg: cfg, log: log, mux: http.NewServeMux(), checks: checks, draining: make(chan struct{})}
	s.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok\n"))
	})
	s.mux.HandleFunc("GET /readyz", s.readyz)
	metrics := promhttp.HandlerFor(gatherer, promhttp.HandlerOpts{})
	if cfg.MetricsAddr == "" {
		s.mux.Handle("GET /metrics", metrics)
		return s
	}
	// Held here so that no later route (the web app's "GET /") answers it.
	s.mux.Handle("GET /metrics", http.NotFoundHandler())
	s.metrics = http.NewServeMux()
	s.metrics.Handle("GET /metrics", metrics)
	return s
}

// Draining returns a channel that is closed when the server starts shutting
// down: handlers that hold a request open (long polls) end it then, since
// shutdown waits for requests in flight.
func (s *Server) Draining() <-chan struct{} { return s.draining }

// Handle registers an extra route (channels, API) on the server's mux.
func (s *Server) Handle(pattern string, h http.Handler) { s.mux.Handle(pattern, h) }

// Handler returns the server's root handler (for in-process tests): the
// routes behind the security headers.
func (s *Server) Handler() http.Handler { return securityHeaders(s.mux) }

// MetricsHandler returns the handler of the metrics address, nil when
// Config.MetricsAddr is empty (for in-process tests).
func (s *Server) MetricsHandler() http.Handler {
	if s.metrics == nil {
		return nil
	}
	return securityHeaders(s.metrics)
}

// securityHeaders sets the headers every response carries: no MIME
// sniffing, no referrer, never framed (X-Frame-Options and CSP
// frame-ancestors), and HSTS when the request came over TLS. A handler may
// set a fuller Content-Security-Policy (the web app does for its HTML).
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Content-Security-Policy", "frame-ancestors 'none'")
		if r.TLS != nil {
			h.Set("Strict-Transport-Security", "max-age=31536000")
		}
		next.ServeHTTP(w, r)
	})
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	var failed []string
	for name, check := range s.checks {
		if err := check(ctx); err != nil {
			failed = append(failed, fmt.Sprintf("%s: %v", name, err))
		}
	}
	if len(failed) > 0 {
		w.WriteHeader(http.StatusServiceUnavailable)
		for _, f := range failed {
			_, _ = fmt.Fprintln(w, f)
		}
		return
	}
	_, _ = w.Write([]byte("ready\n"))
}

// Listen binds the listen address, so a busy port fails start-up before
// anything else starts.
func (s *Server) Listen() error {
	ln, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on FRONTDESK_HTTP_ADDR %s: %w", s.cfg.Addr, err)
	}
	s.ln = ln
	if s.metrics != nil {
		mln, err := net.Listen("tcp", s.cfg.MetricsAddr)
		if err != nil {
			_ = ln.Close()
			return fmt.Errorf("listen on FRONTDESK_METRICS_ADDR %s: %w", s.cfg.MetricsAddr, err)
		}
		s.metricsLn = mln
	}
	return nil
}

// MetricsAddr returns the bound metrics address (after Listen), empty when
// metrics are served on the main address.
func (s *Server) MetricsAddr() string {
	if s.metricsLn == nil {
		return s.cfg.MetricsAddr
	}
	return s.metricsLn.Addr().String()
}

// Addr returns the bound address (after Listen).
func (s *Server) Addr() string {
	if s.ln == nil {
		return s.cfg.Addr
	}
	return s.ln.Addr().String()
}

// Run serves until ctx ends, then stops accepting and lets requests in
// flight finish within ShutdownTimeout.
func (s *Server) Run(ctx context.Context) error {
	if s.ln == nil {
		if err := s.Listen(); err != nil {
			return err
		}
	}
	srv := &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       120 * time.Second,
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	errc := make(chan error, 2)
	go func() { errc <- srv.Serve(s.ln) }()
	s.log.Info().Str("addr", s.Addr()).Msg("http server listening")
	var msrv *http.Server
	if s.metricsLn != nil {
		msrv = &http.Server{Handler: s.MetricsHandler(), ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 120 * time.Second}
		go func() { errc <- msrv.Serve(s.metricsLn) }()
		s.log.Info().Str("addr", s.MetricsAddr()).Msg("metrics server listening")
	}
	var serveErr error
	select {
	case err := <-errc:
		serveErr = fmt.Errorf("http server: %w", err)
	case <-ctx.Done():
	}
	close(s.draining)
	sctx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
	defer cancel()
	if msrv != nil {
		_ = msrv.Shutdown(sctx)
	}
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) && serveErr == nil {
		return fmt.Errorf("http server shutdown: %w", err)
	}
	return serveErr
}
