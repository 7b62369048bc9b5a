package llmrouter

import (
	"fmt"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
)

// maxIdleConnsPerHost is how many idle connections to one backend host
// NewFromConfig's client keeps for reuse.
const maxIdleConnsPerHost = 64

// NewFromConfig validates cfg and returns its Router: a backend of each
// configured kind, the routes as its Policy (one catch-all route over the
// backends in order when there are none), each backend's timeout,
// concurrency limit and circuit breaker as its Limits, the Offline
// responder last, and the embeddings section as its EmbeddingRoute. Every
// backend sends through one HTTP client whose transport refuses any host
// that is not a configured backend's (see ErrEgressDenied), redirects
// included. Metrics go to reg (none when nil).
func NewFromConfig(cfg FileConfig, log zerolog.Logger, reg prometheus.Registerer) (*Router, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	var allowed []string
	for _, b := range cfg.Backends {
		allowed = append(allowed, b.BaseURL)
		if b.HealthURL != "" {
			allowed = append(allowed, b.HealthURL)
		}
	}
	var base http.RoundTripper = http.DefaultTransport
	if t, ok := base.(*http.Transport); ok {
		t = t.Clone()
		// Keep a connection for every call in flight: with net/http's
		// default of 2 idle connections per host, concurrent calls to one
		// model server dial (and leave TIME_WAIT sockets) on most requests.
		t.MaxIdleConnsPerHost = maxIdleConnsPerHost
		base = t
	}
	transport, err := newEgress(base, allowed...)
	if err != nil {
		return nil, fmt.Errorf("llm router: %w", err)
	}
	client := &http.Client{Transport: transport}
	rc := Config{Policy: cfg.policy(), Limits: map[string]Limits{}}
	if e := cfg.Embeddings; e != nil {
		rc.Embeddings = EmbeddingRoute{Backend: e.Backend, Model: e.Model}
	}
	for _, bc := range cfg.Backends {
		b, err := buildBackend(bc, client)
		if err != nil {
			return nil, fmt.Errorf("llm router: backend %s: %w", bc.Name, err)
		}
		rc.Backends = append(rc.Backends, b)
		rc.Limits[bc.Name] = Limits{MaxConcurrency: bc.MaxConcurrency, Deadline: bc.Timeout, Circuit: bc.Circuit}
	}
	return New(rc, log, reg)
}

func buildBackend(bc BackendConfig, client *http.Client) (Backend, error) {
	oc := OpenAIConfig{Name: bc.Name, BaseURL: bc.BaseURL, Model: bc.Model, APIKey: bc.APIKey, HTTPClient: client, Timeout: bc.Timeout}
	switch bc.Kind {
	case KindOpenAI:
		return NewOpenAI(oc)
	case KindVLLM:
		return NewVLLM(VLLMConfig{OpenAIConfig: oc, ToolParser: bc.ToolParser, StrictTools: bc.StrictTools})
	case KindLlamaCpp:
		return NewLlamaCpp(LlamaCppConfig{OpenAIConfig: oc, HealthURL: bc.HealthURL})
	case KindOllama:
		return NewOllama(OllamaConfig{Name: bc.Name, BaseURL: bc.BaseURL, Model: bc.Model, APIKey: bc.APIKey, HTTPClient: client, Timeout: bc.Timeout})
	}
	return nil, fmt.Errorf("unknown kind %q", bc.Kind)
}
