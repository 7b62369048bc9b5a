// Package service owns the LLM router as a network service (frontdesk
// llmrouter): an http.Handler that serves frontdesk's own completion API
// (POST /llm/infer) and an OpenAI-compatible facade (/v1/chat/completions,
// /v1/embeddings, /v1/models) over any Completer, usually an
// llmrouter.Router wrapped in an Accountant; the Accountant, which records
// every call in the store through a bounded background writer, in batches,
// never on the request path; and the Client, which speaks /llm/infer to a
// remote service with the same Complete method as the Router, so callers
// (FRONTDESK_LLMROUTER_URL) need not know where the router runs. HTTP
// status codes of the service are chosen here, from one typed error.
//
// Concurrency: Service and Client hold no mutable state after construction.
// The Accountant owns one writer goroutine fed by a bounded channel; its
// protocol is written at the top of accountant.go. All three are safe for
// concurrent use.
package service

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	_ "embed"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/rs/zerolog"

	"github.com/frontdesk-ai/frontdesk/llmrouter"
)

//go:embed openapi.json
var openAPIDocument []byte

// Completer answers a completion request: an *llmrouter.Router, an
// Accountant, or a Client.
type Completer interface {
	Complete(ctx context.Context, req llmrouter.Request) (llmrouter.Response, error)
}

// Streamer is a Completer that can also hand over an answer while it is
// generated (see llmrouter.Streamer). Stream returns an error wrapping
// ErrStreamingUnsupported, before calling onDelta, when it cannot stream
// after all (an Accountant around a Completer that does not stream).
type Streamer interface {
	Completer
	Stream(ctx context.Context, req llmrouter.Request, onDelta func(llmrouter.Delta)) (llmrouter.Response, error)
}

// ErrStreamingUnsupported means the router behind the service cannot
// stream; the service answers a streaming request with a 400.
var ErrStreamingUnsupported = errors.New("streaming not supported by this router")

// Defaults of Config.
const (
	DefaultMaxBodyBytes = 4 << 20
	DefaultTimeout      = 2 * time.Minute
)

// Config configures a Service.
type Config struct {
	// APIKey, when set, is the bearer key every /llm and /v1 request must
	// carry (FRONTDESK_LLMROUTER_API_KEY); empty leaves the service open to
	// loopback clients only.
	APIKey string
	// Models are the model names GET /v1/models lists.
	Models []string
	// DefaultTenantID is the tenant of facade calls that carry no
	// X-Frontdesk-Tenant-ID header; it keys their accounting.
	DefaultTenantID string
	// MaxBodyBytes bounds a request body; DefaultMaxBodyBytes when 0.
	MaxBodyBytes int64
	// Timeout bounds one completion; DefaultTimeout when 0.
	Timeout time.Duration
	// Ready, when set, decides GET /readyz (the store, say); nil means
	// always ready.
	Ready func(ctx context.Context) error
}

// Validate reports a configuration that cannot work.
func (c Config) Validate() error {
	if c.MaxBodyBytes < 0 || c.Timeout < 0 {
		return fmt.Errorf("llm router service: negative body limit %d or timeout %s", c.MaxBodyBytes, c.Timeout)
	}
	return nil
}

// Route is one route of the service: Method and Pattern (a net/http
// pattern) and whether it needs the bearer key.
type Route struct {
	Method  string
	Pattern string
	Keyed   bool
}

type route struct {
	Route
	name string
	h    func(w http.ResponseWriter, r *http.Request) error
}

// Service serves the LLM router over HTTP; it is an http.Handler.
type Service struct {
	cfg      Config
	c        Completer
	e        Embedder
	log      zerolog.Logger
	mux      *http.ServeMux
	routes   []route
	requests *prometheus.CounterVec
	keyHash  [sha256.Size]byte
	now      func() time.Time
}

var _ http.Handler = (*Service)(nil)

// New returns a Service completing with c and embedding with e (nil, or an
// e that fails with llmrouter.ErrUnsupported: POST /v1/embeddings answers
// 501). It registers its metrics with reg (none
// when nil) and serves gatherer's at GET /metrics (an empty registry's when
// nil).
func New(cfg Config, c Completer, e Embedder, log zerolog.Logger, reg prometheus.Registerer, gatherer prometheus.Gatherer) (*Service, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if c == nil {
		return nil, errors.New("llm router service: nil completer")
	}
	if cfg.MaxBodyBytes == 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultTimeout
	}
	if gatherer == nil {
		gatherer = prometheus.NewRegistry()
	}
	s := &Service{cfg: cfg, c: c, e: e, log: log, mux: http.NewServeMux(), now: time.Now}
	if cfg.APIKey != "" {
		s.keyHash = sha256.Sum256([]byte(cfg.APIKey))
	}
	s.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "frontdesk_llmrouter_requests_total",
		Help: "Requests served by the LLM router service, by endpoint and HTTP status.",
	}, []string{"endpoint", "code"})
	if reg != nil {
		if err := reg.Register(s.requests); err != nil {
			return nil, fmt.Errorf("register llm router service metrics: %w", err)
		}
	}
	metrics := promhttp.HandlerFor(gatherer, promhttp.HandlerOpts{})
	s.routes = []route{
		{Route{"GET", "/healthz", false}, "healthz", s.healthz},
		{Route{"GET", "/readyz", false}, "readyz", s.readyz},
		{Route{"GET", "/metrics", false}, "metrics", func(w http.ResponseWriter, r *http.Request) error {
			metrics.ServeHTTP(w, r)
			return nil
		}},
		{Route{"GET", "/openapi.json", false}, "openapi", s.openAPI},
		{Route{"POST", "/llm/infer", true}, "infer", s.infer},
		{Route{"POST", "/v1/chat/completions", true}, "chat_completions", s.chatCompletions},
		{Route{"POST", "/v1/embeddings", true}, "embeddings", s.embeddings},
		{Route{"GET", "/v1/models", true}, "models", s.models},
	}
	for _, rt := range s.routes {
		s.mux.Handle(rt.Method+" "+rt.Pattern, s.serve(rt))
	}
	s.mux.Handle("/", s.serve(route{Route{"", "/", false}, "unknown", func(http.ResponseWriter, *http.Request) error {
		return &Error{Status: http.StatusNotFound, Type: typeInvalidRequest, Code: "unknown_url", Message: "no such route"}
	}}))
	return s, nil
}

// Routes returns the routes the service serves.
func (s *Service) Routes() []Route {
	out := make([]Route, len(s.routes))
	for i, r := range s.routes {
		out[i] = r.Route
	}
	return out
}

// ServeHTTP serves one request.
func (s *Service) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// serve adapts rt's handler: the bearer key, the metrics, and the error it
// returns written through WriteError.
func (s *Service) serve(rt route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := &statusWriter{ResponseWriter: w}
		var err error
		if rt.Keyed && !s.authorized(r) {
			err = &Error{Status: http.StatusUnauthorized, Type: "authentication_error", Code: "invalid_api_key",
				Message: "missing or wrong bearer key"}
		} else {
			r.Body = http.MaxBytesReader(sw, r.Body, s.cfg.MaxBodyBytes)
			err = rt.h(sw, r)
		}
		if err != nil {
			if sw.status != 0 {
				// The answer has begun (a stream); the handler reported the
				// failure in it.
				s.log.Warn().Err(err).Str("path", r.URL.Path).Msg("llm router request failed mid-answer")
			} else {
				s.writeError(sw, r, err)
			}
		}
		code := sw.status
		if code == 0 {
			code = http.StatusOK
		}
		s.requests.WithLabelValues(rt.name, strconv.Itoa(code)).Inc()
	})
}

// authorized reports whether r carries the configured bearer key. With no
// key configured the service is open to loopback clients only. Hashing
// first keeps the comparison's time independent of the key's length.
func (s *Service) authorized(r *http.Request) bool {
	if s.cfg.APIKey == "" {
		host, _, err := net.SplitHostPort(r.RemoteAddr)
		if err != nil {
			host = r.RemoteAddr
		}
		ip := net.ParseIP(host)
		return ip != nil && ip.IsLoopback()
	}
	got := sha256.Sum256([]byte(bearerToken(r)))
	return subtle.ConstantTimeCompare(got[:], s.keyHash[:]) == 1
}

func (s *Service) healthz(w http.ResponseWriter, _ *http.Request) error {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write([]byte("ok\n"))
	return nil
}

func (s *Service) readyz(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if s.cfg.Ready != nil {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := s.cfg.Ready(ctx); err != nil {
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = fmt.Fprintf(w, "not ready: %v\n", err)
			return nil
		}
	}
	_, _ = w.Write([]byte("ready\n"))
	return nil
}

func (s *Service) openAPI(w http.ResponseWriter, _ *http.Request) error {
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(openAPIDocument)
	return nil
}

// statusWriter remembers the status written, so that the metrics and the
// error path know whether an answer has begun.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Flush flushes a stream's pieces to the client.
func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap lets http.ResponseController reach the connection.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
