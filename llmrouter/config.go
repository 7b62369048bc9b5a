package llmrouter

import (
	"errors"
	"fmt"
	"io"
	"regexp"
	"time"
)

// Kinds of BackendConfig.
const (
	KindOpenAI   = "openai"
	KindVLLM     = "vllm"
	KindLlamaCpp = "llamacpp"
	KindOllama   = "ollama"
)

// FileConfig is the router's configuration file (YAML), as LoadConfig
// reads it and NewFromConfig builds it:
//
//	backends:
//	  - name: gpu
//	    kind: vllm                  # openai | vllm | llamacpp | ollama
//	    base_url: http://vllm:8000/v1
//	    model: Qwen/Qwen2.5-7B-Instruct
//	    api_key_env: VLLM_API_KEY   # or api_key: literal
//	    timeout: 20s                # per call, retries included
//	    max_concurrency: 16
//	    circuit: {failures: 5, cooldown: 30s}
//	    tool_parser: hermes         # vllm only
//	routes:
//	  - name: spanish-whatsapp
//	    when: {channels: [whatsapp], languages: [es], tools: any}
//	    candidates:
//	      - {backend: gpu, weight: 90, temperature: 0.3, max_tokens: 512}
//	      - {backend: gpu, model: Qwen/Qwen2.5-14B-Instruct, weight: 10}
//	      - {backend: cloud, model: gpt-4o-mini}   # fallback only
//	embeddings:
//	  backend: gpu                  # one backend, no fallback
//	  model: BAAI/bge-m3            # empty: the caller's, else the backend's
//
// Without routes, one route matches every request and tries the backends
// in order. Without embeddings, the router does not embed.
type FileConfig struct {
	Backends   []BackendConfig   `yaml:"backends"`
	Routes     []RouteConfig     `yaml:"routes"`
	Embeddings *EmbeddingsConfig `yaml:"embeddings"`
}

// EmbeddingsConfig is the embeddings section of a FileConfig: the backend
// (any kind) that embeds texts, and the model it is sent.
type EmbeddingsConfig struct {
	// Backend is the name of a backend of the file.
	Backend string `yaml:"backend"`
	// Model, when set, replaces the caller's model; empty leaves the
	// caller's, else the backend's model.
	Model string `yaml:"model"`
}

// BackendConfig is one backend of a FileConfig.
type BackendConfig struct {
	// Name identifies the backend in routes, responses, logs and metrics.
	Name string `yaml:"name"`
	// Kind is KindOpenAI, KindVLLM, KindLlamaCpp or KindOllama.
	Kind string `yaml:"kind"`
	// BaseURL is the API base: with /v1 for the OpenAI-compatible kinds,
	// the server's root for Ollama.
	BaseURL string `yaml:"base_url"`
	// Model is sent when neither the request nor the candidate names one.
	Model string `yaml:"model"`
	// APIKey is the bearer token; LoadConfig sets it from APIKeyEnv, the
	// name of the environment variable that holds it.
	APIKey    string `yaml:"api_key"`
	APIKeyEnv string `yaml:"api_key_env"`
	// Timeout bounds one call, retries included (each attempt too); zero
	// means attempts of DefaultTimeout and only the caller's deadline.
	Timeout time.Duration `yaml:"timeout"`
	// MaxConcurrency bounds the calls in flight; zero means no bound.
	MaxConcurrency int           `yaml:"max_concurrency"`
	Circuit        CircuitConfig `yaml:"circuit"`
	// ToolParser and StrictTools are VLLMConfig's (kind vllm only).
	ToolParser  string `yaml:"tool_parser"`
	StrictTools bool   `yaml:"strict_tools"`
	// HealthURL is LlamaCppConfig's (kind llamacpp only).
	HealthURL string `yaml:"health_url"`
}

// RouteConfig is one route of a FileConfig.
type RouteConfig struct {
	Name       string            `yaml:"name"`
	When       Condition         `yaml:"when"`
	Candidates []CandidateConfig `yaml:"candidates"`
}

// CandidateConfig is one candidate of a RouteConfig; see Candidate.
type CandidateConfig struct {
	Backend string `yaml:"backend"`
	Model   string `yaml:"model"`
	// Weight, when given, must be positive and puts the candidate in the
	// route's weighted split.
	Weight      *int     `yaml:"weight"`
	Temperature *float64 `yaml:"temperature"`
	MaxTokens   int      `yaml:"max_tokens"`
}

// maxConfigSize bounds a configuration file.
const maxConfigSize = 1 << 20

// backendName is what a backend's name may look like (it is a metric
// label and a log field).
var backendName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$`)

// LoadConfig reads a FileConfig from r (YAML), fills each api_key_env in
// through getenv, and validates it. Unknown keys, wrong types and invalid
// values are errors naming the field's path ("backends[1].base_url: …"),
// all of them joined.
func LoadConfig(r io.Reader, getenv func(string) string) (FileConfig, error) {
	raw, err := io.ReadAll(io.LimitReader(r, maxConfigSize+1))
	if err != nil {
		return FileConfig{}, fmt.Errorf("llm router config: read: %w", err)
	}
	if len(raw) > maxConfigSize {
		return FileConfig{}, fmt.Errorf("llm router config: larger than %d bytes", maxConfigSize)
	}
	var cfg FileConfig
	if err := decodeYAML(raw, &cfg); err != nil {
		return FileConfig{}, fmt.Errorf("llm router config: %w", err)
	}
	var errs []error
	for i := range cfg.Backends {
		b := &cfg.Backends[i]
		if b.APIKeyEnv == "" {
			continue
		}
		at := fmt.Sprintf("backends[%d].api_key_env", i)
		switch {
		case b.APIKey != "":
			errs = append(errs, fmt.Errorf("%s: set together with api_key", at))
		case getenv == nil:
			errs = append(errs, fmt.Errorf("%s: no environment to read %s from", at, b.APIKeyEnv))
		default:
			if b.APIKey = getenv(b.APIKeyEnv); b.APIKey == "" {
				errs = append(errs, fmt.Errorf("%s: %s is empty or unset", at, b.APIKeyEnv))
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return FileConfig{}, fmt.Errorf("llm router config: %w", err)
	}
	if err := cfg.Validate(); err != nil {
		return FileConfig{}, err
	}
	return cfg, nil
}

// Validate reports every problem of c, each naming its field's path.
func (c FileConfig) Validate() error {
	var errs []error
	names := map[string]bool{}
	for i, b := range c.Backends {
		at := fmt.Sprintf("backends[%d]", i)
		switch {
		case b.Name == "":
			errs = append(errs, fmt.Errorf("%s.name: required", at))
		case b.Name == OfflineName:
			errs = append(errs, fmt.Errorf("%s.name: %q is reserved for the offline responder", at, b.Name))
		case !backendName.MatchString(b.Name):
			errs = append(errs, fmt.Errorf("%s.name: %q must be letters, digits, '_', '.' or '-'", at, b.Name))
		case names[b.Name]:
			errs = append(errs, fmt.Errorf("%s.name: duplicate backend %q", at, b.Name))
		}
		names[b.Name] = true
		switch b.Kind {
		case KindOpenAI, KindVLLM, KindLlamaCpp, KindOllama:
		case "":
			errs = append(errs, fmt.Errorf("%s.kind: required (openai, vllm, llamacpp or ollama)", at))
		default:
			errs = append(errs, fmt.Errorf("%s.kind: %q is not openai, vllm, llamacpp or ollama", at, b.Kind))
		}
		if err := checkBaseURL(b.BaseURL); err != nil {
			errs = append(errs, fmt.Errorf("%s.base_url: %w", at, err))
		}
		if b.Timeout < 0 {
			errs = append(errs, fmt.Errorf("%s.timeout: negative", at))
		}
		if b.MaxConcurrency < 0 {
			errs = append(errs, fmt.Errorf("%s.max_concurrency: negative", at))
		}
		if b.Circuit.Failures < 0 {
			errs = append(errs, fmt.Errorf("%s.circuit.failures: negative", at))
		}
		if b.Circuit.Cooldown < 0 {
			errs = append(errs, fmt.Errorf("%s.circuit.cooldown: negative", at))
		}
		if b.Kind != KindVLLM && (b.ToolParser != "" || b.StrictTools) {
			errs = append(errs, fmt.Errorf("%s.tool_parser: only for kind vllm", at))
		}
		if b.HealthURL != "" {
			if b.Kind != KindLlamaCpp {
				errs = append(errs, fmt.Errorf("%s.health_url: only for kind llamacpp", at))
			} else if err := checkBaseURL(b.HealthURL); err != nil {
				errs = append(errs, fmt.Errorf("%s.health_url: %w", at, err))
			}
		}
	}
	for i, r := range c.Routes {
		for j, cand := range r.Candidates {
			if cand.Weight != nil && *cand.Weight <= 0 {
				errs = append(errs, fmt.Errorf("routes[%d].candidates[%d].weight: must be > 0, got %d", i, j, *cand.Weight))
			}
		}
	}
	if err := c.policy().validate(func(n string) bool { return names[n] }); err != nil {
		errs = append(errs, err)
	}
	if e := c.Embeddings; e != nil {
		switch {
		case e.Backend == "":
			errs = append(errs, errors.New("embeddings.backend: required"))
		case !names[e.Backend]:
			errs = append(errs, fmt.Errorf("embeddings.backend: unknown backend %q", e.Backend))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("llm router config: %w", err)
	}
	return nil
}

// policy returns the routes of c as a Policy.
func (c FileConfig) policy() Policy {
	var p Policy
	for _, r := range c.Routes {
		route := Route{Name: r.Name, When: r.When}
		for _, cand := range r.Candidates {
			w := 0
			if cand.Weight != nil {
				w = max(*cand.Weight, 0)
			}
			route.Candidates = append(route.Candidates, Candidate{Backend: cand.Backend, Model: cand.Model, Weight: w,
				Params: Params{Temperature: cand.Temperature, MaxTokens: cand.MaxTokens}})
		}
		p.Routes = append(p.Routes, route)
	}
	return p
}
