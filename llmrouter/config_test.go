package llmrouter_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/frontdesk-ai/frontdesk/llmrouter"
	"github.com/frontdesk-ai/frontdesk/llmrouter/llmtest"
)

func env(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

func TestLoadConfig(t *testing.T) {
	f, err := os.Open(filepath.Join("testdata", "config", "router.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cfg, err := llmrouter.LoadConfig(f, env(map[string]string{"VLLM_API_KEY": "sk-from-env"}))
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Backends) != 4 || len(cfg.Routes) != 3 {
		t.Fatalf("%d backends, %d routes", len(cfg.Backends), len(cfg.Routes))
	}
	gpu := cfg.Backends[0]
	if gpu.Kind != llmrouter.KindVLLM || gpu.APIKey != "sk-from-env" || gpu.Timeout != 20*time.Second || gpu.MaxConcurrency != 16 ||
		gpu.Circuit != (llmrouter.CircuitConfig{Failures: 5, Cooldown: 30 * time.Second}) || gpu.ToolParser != "hermes" || !gpu.StrictTools {
		t.Errorf("gpu backend %+v", gpu)
	}
	if cfg.Backends[3].APIKey != "sk-literal" || cfg.Backends[1].HealthURL != "http://llama.internal:8080/health" {
		t.Errorf("backends %+v", cfg.Backends)
	}
	r := cfg.Routes[0]
	if r.When.Tools != "any" || r.When.Languages[0] != "es" || *r.Candidates[0].Weight != 90 || *r.Candidates[0].Temperature != 0.3 ||
		r.Candidates[0].MaxTokens != 512 || r.Candidates[1].Model != "Qwen/Qwen2.5-14B-Instruct" || r.Candidates[2].Weight != nil {
		t.Errorf("route %+v", r)
	}
	if e := cfg.Embeddings; e == nil || *e != (llmrouter.EmbeddingsConfig{Backend: "local", Model: "nomic-embed-text"}) {
		t.Errorf("embeddings %+v", e)
	}
	if _, err := llmrouter.NewFromConfig(cfg, zerolog.Nop(), prometheus.NewPedanticRegistry()); err != nil {
		t.Errorf("NewFromConfig: %v", err)
	}
}

// TestLoadConfigErrors checks each invalid file is refused with an error
// naming the field.
func TestLoadConfigErrors(t *testing.T) {
	const backend = "backends:\n  - {name: gpu, kind: openai, base_url: http://gpu:8000/v1}\n"
	tests := []struct {
		name, yaml string
		want       []string // substrings of the error
	}{
		{"empty", ``, []string{"empty document"}},
		{"not yaml", "backends: [", []string{"llm router config"}},
		{"unknown top-level key", backend + "fallback: offline\n", []string{"fallback: line 3: unknown key"}},
		{"unknown backend key", "backends:\n  - {name: gpu, kind: openai, base_url: http://gpu/v1, max_concurency: 3}\n",
			[]string{"backends[0].max_concurency: line 2: unknown key"}},
		{"unknown circuit key", "backends:\n  - name: gpu\n    kind: openai\n    base_url: http://gpu/v1\n    circuit: {failure: 3}\n",
			[]string{"backends[0].circuit.failure", "unknown key"}},
		{"repeated key", "backends:\n  - {name: gpu, name: cpu, kind: openai, base_url: http://gpu/v1}\n", []string{"backends[0].name"}},
		{"wrong type", "backends:\n  - {name: gpu, kind: openai, base_url: http://gpu/v1, max_concurrency: many}\n",
			[]string{"backends[0].max_concurrency", "cannot unmarshal"}},
		{"duration without unit", "backends:\n  - {name: gpu, kind: openai, base_url: http://gpu/v1, timeout: 30}\n",
			[]string{"backends[0].timeout"}},
		{"backends not a list", "backends: {name: gpu}\n", []string{"backends: line 1: want a list"}},
		{"missing name", "backends:\n  - {kind: openai, base_url: http://gpu/v1}\n", []string{"backends[0].name: required"}},
		{"duplicate backend", backend + "  - {name: gpu, kind: ollama, base_url: http://other:11434}\n", []string{`backends[1].name: duplicate backend "gpu"`}},
		{"reserved name", "backends:\n  - {name: offline, kind: openai, base_url: http://gpu/v1}\n", []string{"backends[0].name", "reserved"}},
		{"unknown kind", "backends:\n  - {name: gpu, kind: tgi, base_url: http://gpu/v1}\n", []string{`backends[0].kind: "tgi"`}},
		{"bad url", "backends:\n  - {name: gpu, kind: openai, base_url: 'gpu:8000/v1'}\n", []string{"backends[0].base_url", "not an absolute http(s) url"}},
		{"ftp url", "backends:\n  - {name: gpu, kind: openai, base_url: 'ftp://gpu/v1'}\n", []string{"backends[0].base_url"}},
		{"negative concurrency", "backends:\n  - {name: gpu, kind: openai, base_url: http://gpu/v1, max_concurrency: -1}\n", []string{"backends[0].max_concurrency: negative"}},
		{"tool parser on openai", "backends:\n  - {name: gpu, kind: openai, base_url: http://gpu/v1, tool_parser: hermes}\n", []string{"backends[0].tool_parser: only for kind vllm"}},
		{"api key twice", "backends:\n  - {name: gpu, kind: openai, base_url: http://gpu/v1, api_key: a, api_key_env: KEY}\n", []string{"backends[0].api_key_env: set together with api_key"}},
		{"api key env unset", "backends:\n  - {name: gpu, kind: openai, base_url: http://gpu/v1, api_key_env: NOPE}\n", []string{"backends[0].api_key_env: NOPE is empty or unset"}},
		{"unknown backend in a route", backend + "routes:\n  - {name: r, candidates: [{backend: gpux}]}\n", []string{`routes[0].candidates[0].backend: unknown backend "gpux"`}},
		{"zero weight", backend + "routes:\n  - {name: r, candidates: [{backend: gpu, weight: 0}]}\n", []string{"routes[0].candidates[0].weight: must be > 0, got 0"}},
		{"negative weight", backend + "routes:\n  - {name: r, candidates: [{backend: gpu, weight: -5}]}\n", []string{"routes[0].candidates[0].weight: must be > 0, got -5"}},
		{"duplicate route", backend + "routes:\n  - {name: r, candidates: [{backend: gpu}]}\n  - {name: r, candidates: [{backend: gpu}]}\n", []string{`routes[1].name: duplicate route "r"`}},
		{"route without candidates", backend + "routes:\n  - {name: r}\n", []string{"routes[0].candidates: at least one required"}},
		{"bad tools condition", backend + "routes:\n  - {name: r, when: {tools: maybe}, candidates: [{backend: gpu}]}\n", []string{`routes[0].when.tools: "maybe"`}},
		{"unknown condition key", backend + "routes:\n  - {name: r, when: {tenant: [a]}, candidates: [{backend: gpu}]}\n", []string{"routes[0].when.tenant", "unknown key"}},
		{"temperature out of range", backend + "routes:\n  - {name: r, candidates: [{backend: gpu, temperature: 3}]}\n", []string{"routes[0].candidates[0].temperature"}},
		{"embeddings without a backend", backend + "embeddings: {model: bge-m3}\n", []string{"embeddings.backend: required"}},
		{"embeddings of an unknown backend", backend + "embeddings: {backend: cpu}\n", []string{`embeddings.backend: unknown backend "cpu"`}},
		{"unknown embeddings key", backend + "embeddings: {backend: gpu, dimensions: 8}\n", []string{"embeddings.dimensions", "unknown key"}},
		{"every problem reported", "backends:\n  - {name: gpu, kind: tgi, base_url: nowhere}\nroutes:\n  - {name: r, candidates: [{backend: cpu}]}\n",
			[]string{"backends[0].kind", "backends[0].base_url", "routes[0].candidates[0].backend"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := llmrouter.LoadConfig(strings.NewReader(tt.yaml), env(nil))
			if err == nil {
				t.Fatal("LoadConfig accepted the file")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

// TestNewFromConfigFallbackChain builds a router from a file over three
// fakes and follows one request down the chain to Offline as backends go
// down.
func TestNewFromConfigFallbackChain(t *testing.T) {
	vllm := llmtest.NewServer(t)
	ollama := llmtest.NewOllama(t)
	cloud := llmtest.NewServer(t)
	cloud.RequireAPIKey("sk-cloud")
	file := `
backends:
  - {name: gpu, kind: vllm, base_url: "` + vllm.BaseURL() + `", model: ` + llmtest.Model + `, tool_parser: hermes}
  - {name: local, kind: ollama, base_url: "` + ollama.URL() + `", model: ` + llmtest.Model + `}
  - {name: cloud, kind: openai, base_url: "` + cloud.BaseURL() + `", model: gpt-4o-mini, api_key_env: CLOUD_KEY}
routes:
  - name: support
    candidates: [{backend: gpu}, {backend: local}, {backend: cloud}]
`
	cfg, err := llmrouter.LoadConfig(strings.NewReader(file), env(map[string]string{"CLOUD_KEY": "sk-cloud"}))
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewPedanticRegistry()
	r, err := llmrouter.NewFromConfig(cfg, zerolog.Nop(), reg)
	if err != nil {
		t.Fatal(err)
	}
	ask := func() llmrouter.Response {
		t.Helper()
		resp, err := r.Complete(context.Background(), customerTurn("where is my parcel"))
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	down := func(status int) llmtest.Step { return llmtest.Error(status, "not now") }

	vllm.Script(llmtest.Text("from vllm").WithUsage(30, 4))
	if resp := ask(); resp.Backend != "gpu" || resp.Route != "support" || resp.Message.Content != "from vllm" {
		t.Fatalf("answer %+v, want vllm", resp)
	}
	vllm.Script(down(401)) // misconfigured: unavailable at once
	ollama.Script(llmtest.Text("from ollama"))
	if resp := ask(); resp.Backend != "local" || resp.Message.Content != "from ollama" {
		t.Fatalf("answer %+v, want ollama", resp)
	}
	vllm.Script(down(401))
	ollama.Script(down(404)) // model gone: unavailable at once
	cloud.Script(llmtest.Text("from the cloud"))
	if resp := ask(); resp.Backend != "cloud" || resp.Model != "gpt-4o-mini" {
		t.Fatalf("answer %+v, want the cloud", resp)
	}
	vllm.Script(down(401))
	ollama.Script(down(404))
	cloud.RequireAPIKey("sk-rotated")
	if resp := ask(); !resp.Offline || resp.Route != "support" {
		t.Fatalf("answer %+v, want offline on route support", resp)
	}
	if v, _ := metricValue(t, reg, "frontdesk_llm_tokens_total", map[string]string{"backend": "gpu", "model": llmtest.Model, "direction": "in"}); v != 30 {
		t.Errorf("tokens in %v, want 30", v)
	}
	if v, _ := metricValue(t, reg, "frontdesk_llm_tokens_total", map[string]string{"backend": "gpu", "model": llmtest.Model, "direction": "out"}); v != 4 {
		t.Errorf("tokens out %v, want 4", v)
	}
	if v, _ := metricValue(t, reg, "frontdesk_llm_call_duration_seconds", map[string]string{"backend": "cloud", "model": "gpt-4o-mini"}); v != 2 {
		t.Errorf("cloud latency observations %v, want 2", v)
	}
	if v, _ := metricValue(t, reg, "frontdesk_llm_calls_total", map[string]string{"backend": "offline", "model": "offline", "outcome": "ok"}); v != 1 {
		t.Errorf("offline calls %v, want 1", v)
	}
}
