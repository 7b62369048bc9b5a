package llmrouter_test

import (
	"context"
	"errors"
	"math"
	"slices"
	"testing"

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
