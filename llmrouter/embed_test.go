package llmrouter_test

import (
	"context"
	"errors"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/frontdesk-ai/frontdesk/llmrouter"
	"github.com/frontdesk-ai/frontdesk/llmrouter/llmtest"
)

func TestEmbed(t *testing.T) {
	inputs := []string{"How do I return shoes?", "Shipping to Portugal", "¿Dónde está mi pedido?"}
	openai := llmtest.NewServer(t)
	ollama := llmtest.NewOllama(t)
	ollama.Pull("nomic-embed-text")
	tests := []struct {
		name     string
		embedder func(t *testing.T) llmrouter.Embedder
		model    string // sent, "" for the configured one
		path     string
		records  func() []llmtest.Request
	}{
		{"openai", func(t *testing.T) llmrouter.Embedder { return newOpenAI(t, openai.OpenAIConfig()) },
			"text-embedding-3-small", llmtest.EmbeddingsPath, openai.Requests},
		{"openai default model", func(t *testing.T) llmrouter.Embedder { return newOpenAI(t, openai.OpenAIConfig()) },
			"", llmtest.EmbeddingsPath, openai.Requests},
		{"ollama", func(t *testing.T) llmrouter.Embedder { return newOllama(t, ollama) },
			"nomic-embed-text", llmtest.OllamaEmbedPath, ollama.Requests},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(tt.records())
			got, err := tt.embedder(t).Embed(context.Background(), tt.model, inputs)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(inputs) {
				t.Fatalf("%d vectors for %d inputs", len(got), len(inputs))
			}
			for i, v := range got {
				if !slices.Equal(v, llmtest.Vector(inputs[i])) {
					t.Errorf("vector %d is not the one of %q (order by index)", i, inputs[i])
				}
			}
			reqs := tt.records()
			if len(reqs) != before+1 {
				t.Fatalf("%d requests, want 1", len(reqs)-before)
			}
			r := reqs[len(reqs)-1]
			want := tt.model
			if want == "" {
				want = llmtest.Model
			}
			in, _ := r.JSON["input"].([]any)
			if r.Path != tt.path || r.JSON["model"] != want || len(in) != len(inputs) {
				t.Errorf("request %s %s, want %s with model %s and the inputs as a list", r.Path, r.Raw, tt.path, want)
			}
		})
	}
	t.Run("vectors are unit length", func(t *testing.T) {
		v := llmtest.Vector("x")
		var n float64
		for _, f := range v {
			n += float64(f) * float64(f)
		}
		if math.Abs(n-1) > 1e-5 {
			t.Errorf("norm² %v", n)
		}
	})
	t.Run("no model is not sent", func(t *testing.T) {
		cfg := openai.OpenAIConfig()
		cfg.Model = ""
		before := len(openai.Requests())
		_, err := newOpenAI(t, cfg).Embed(context.Background(), "", inputs)
		if !errors.Is(err, llmrouter.ErrInvalidRequest) || len(openai.Requests()) != before {
			t.Fatalf("err = %v after %d requests, want ErrInvalidRequest before any", err, len(openai.Requests())-before)
		}
	})
	t.Run("server down", func(t *testing.T) {
		srv := llmtest.NewServer(t)
		srv.Down()
		_, err := newOpenAI(t, srv.OpenAIConfig()).Embed(context.Background(), "", inputs)
		if !errors.Is(err, llmrouter.ErrBackendUnavailable) {
			t.Fatalf("err = %v, want ErrBackendUnavailable", err)
		}
	})
}

// TestRouterEmbed embeds through the Router built from a file or by
// NewDefault, and checks which fake received which model.
func TestRouterEmbed(t *testing.T) {
	inputs := []string{"How do I return shoes?", "Shipping to Portugal"}
	tests := []struct {
		name string
		// router returns the router and the embeddings requests its fakes
		// have received.
		router    func(t *testing.T) (*llmrouter.Router, func() []llmtest.Request)
		model     string // the caller's
		wantModel string // sent; "" when nothing may be sent
		wantErr   error
	}{
		{"file: the section's model replaces the caller's", func(t *testing.T) (*llmrouter.Router, func() []llmtest.Request) {
			ollama, gpu := llmtest.NewOllama(t), llmtest.NewServer(t)
			ollama.Pull("nomic-embed-text")
			return fromFile(t, gpu, ollama, "embeddings: {backend: local, model: nomic-embed-text}\n"), embedRequests(ollama.Requests, gpu.Requests)
		}, "text-embedding-3-small", "nomic-embed-text", nil},
		{"file: without a model, the caller's", func(t *testing.T) (*llmrouter.Router, func() []llmtest.Request) {
			ollama, gpu := llmtest.NewOllama(t), llmtest.NewServer(t)
			return fromFile(t, gpu, ollama, "embeddings: {backend: gpu}\n"), embedRequests(ollama.Requests, gpu.Requests)
		}, "BAAI/bge-m3", "BAAI/bge-m3", nil},
		{"file: without any model, the backend's", func(t *testing.T) (*llmrouter.Router, func() []llmtest.Request) {
			ollama, gpu := llmtest.NewOllama(t), llmtest.NewServer(t)
			return fromFile(t, gpu, ollama, "embeddings: {backend: gpu}\n"), embedRequests(ollama.Requests, gpu.Requests)
		}, "", llmtest.Model, nil},
		{"file without embeddings does not embed", func(t *testing.T) (*llmrouter.Router, func() []llmtest.Request) {
			ollama, gpu := llmtest.NewOllama(t), llmtest.NewServer(t)
			return fromFile(t, gpu, ollama, ""), embedRequests(ollama.Requests, gpu.Requests)
		}, "nomic-embed-text", "", llmrouter.ErrUnsupported},
		{"no fallback: an unavailable embeddings backend is an error", func(t *testing.T) (*llmrouter.Router, func() []llmtest.Request) {
			// The model is not pulled: Ollama's 404 makes the backend
			// unavailable at once, without retries.
			ollama, gpu := llmtest.NewOllama(t), llmtest.NewServer(t)
			r := fromFile(t, gpu, ollama, "embeddings: {backend: local, model: all-minilm}\n")
			return r, embedRequests(gpu.Requests) // the other backend must get none
		}, "", "", llmrouter.ErrBackendUnavailable},
		{"NewDefault embeds with its backend and the caller's model", func(t *testing.T) (*llmrouter.Router, func() []llmtest.Request) {
			srv := llmtest.NewServer(t)
			srv.RequireAPIKey("sk-1")
			r, err := llmrouter.NewDefault(srv.BaseURL(), "qwen2.5-7b", "sk-1", zerolog.Nop(), nil)
			if err != nil {
				t.Fatal(err)
			}
			return r, embedRequests(srv.Requests)
		}, "text-embedding-3-small", "text-embedding-3-small", nil},
		{"NewDefault without a base url does not embed", func(t *testing.T) (*llmrouter.Router, func() []llmtest.Request) {
			r, err := llmrouter.NewDefault("", "", "", zerolog.Nop(), nil)
			if err != nil {
				t.Fatal(err)
			}
			return r, func() []llmtest.Request { return nil }
		}, "m", "", llmrouter.ErrUnsupported},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, received := tt.router(t)
			got, err := r.Embed(context.Background(), tt.model, inputs)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) || got != nil {
					t.Fatalf("Embed = %v, %v; want %v", got, err, tt.wantErr)
				}
			} else if err != nil {
				t.Fatal(err)
			}
			reqs := received()
			if tt.wantModel == "" {
				if tt.wantErr == llmrouter.ErrUnsupported && len(reqs) != 0 {
					t.Fatalf("%d embeddings requests sent, want none", len(reqs))
				}
				if tt.wantErr == llmrouter.ErrBackendUnavailable && len(reqs) != 0 {
					t.Fatalf("another backend got %d embeddings requests; embeddings must not fall back", len(reqs))
				}
				return
			}
			if len(reqs) != 1 || reqs[0].JSON["model"] != tt.wantModel {
				t.Fatalf("embeddings requests %v, want one with model %s", reqs, tt.wantModel)
			}
			for i, v := range got {
				if !slices.Equal(v, llmtest.Vector(inputs[i])) {
					t.Errorf("vector %d is not the one of %q", i, inputs[i])
				}
			}
		})
	}
}

// fromFile builds a Router from a file with the backends gpu (vLLM on srv)
// and local (Ollama on ollama) and the extra YAML.
func fromFile(t *testing.T, srv *llmtest.Server, ollama *llmtest.Ollama, extra string) *llmrouter.Router {
	t.Helper()
	file := "backends:\n" +
		"  - {name: gpu, kind: vllm, base_url: \"" + srv.BaseURL() + "\", model: " + llmtest.Model + "}\n" +
		"  - {name: local, kind: ollama, base_url: \"" + ollama.URL() + "\", model: " + llmtest.Model + "}\n" + extra
	cfg, err := llmrouter.LoadConfig(strings.NewReader(file), nil)
	if err != nil {
		t.Fatal(err)
	}
	r, err := llmrouter.NewFromConfig(cfg, zerolog.Nop(), prometheus.NewPedanticRegistry())
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// embedRequests returns the embeddings requests of the fakes' records.
func embedRequests(records ...func() []llmtest.Request) func() []llmtest.Request {
	return func() []llmtest.Request {
		var out []llmtest.Request
		for _, rec := range records {
			for _, r := range rec() {
				if r.Path == llmtest.EmbeddingsPath || r.Path == llmtest.OllamaEmbedPath {
					out = append(out, r)
				}
			}
		}
		return out
	}
}
