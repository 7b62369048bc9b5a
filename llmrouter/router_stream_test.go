package llmrouter_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/frontdesk-ai/frontdesk/llmrouter"
	"github.com/frontdesk-ai/frontdesk/llmrouter/llmtest"
)

func TestRouterStream(t *testing.T) {
	t.Run("falls back before any delta", func(t *testing.T) {
		primary := llmtest.NewServer(t)
		primary.RequireAPIKey("sk-other")
		secondary := llmtest.NewOllama(t, llmtest.Text("streamed from ollama"))
		cfg := primary.OpenAIConfig()
		cfg.Name = "primary"
		r := newRouter(t, nil, newOpenAI(t, cfg), newOllama(t, secondary))
		var deltas []llmrouter.Delta
		resp, err := r.Stream(context.Background(), customerTurn("hi"), collect(&deltas))
		if err != nil || resp.Backend != "ollama" || resp.Route != llmrouter.DefaultRoute {
			t.Fatalf("Stream = %+v, %v", resp, err)
		}
		if text, _ := replay(deltas); text != "streamed from ollama" || len(deltas) < 2 {
			t.Errorf("%d deltas adding up to %q", len(deltas), text)
		}
	})
	t.Run("does not fall back after a delta", func(t *testing.T) {
		cut := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/event-stream")
			_, _ = io.WriteString(w, "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hel\"}}]}\n\n")
		}))
		t.Cleanup(cut.Close)
		secondary := &recorder{name: "secondary"}
		r := newRouter(t, nil, newOpenAI(t, llmrouter.OpenAIConfig{BaseURL: cut.URL + "/v1", Model: "m"}), secondary)
		var deltas []llmrouter.Delta
		_, err := r.Stream(context.Background(), customerTurn("hi"), collect(&deltas))
		if !errors.Is(err, llmrouter.ErrBackendUnavailable) || len(deltas) != 1 || secondary.count() != 0 {
			t.Fatalf("err = %v after %d deltas and %d fallback calls; want the error, 1 delta, no fallback", err, len(deltas), secondary.count())
		}
	})
	t.Run("a backend that does not stream answers in one delta", func(t *testing.T) {
		r := newRouter(t, nil, &recorder{name: "plain"})
		var deltas []llmrouter.Delta
		resp, err := r.Stream(context.Background(), customerTurn("hi"), collect(&deltas))
		if err != nil || len(deltas) != 1 || deltas[0].Content != "plain" || resp.Message.Content != "plain" {
			t.Fatalf("Stream = %+v, %v with deltas %+v", resp, err, deltas)
		}
	})
	t.Run("offline answers in one delta", func(t *testing.T) {
		r := newRouter(t, nil)
		var deltas []llmrouter.Delta
		resp, err := r.Stream(context.Background(), customerTurn("hi"), collect(&deltas))
		if err != nil || !resp.Offline || len(deltas) != 1 || len(deltas[0].ToolCalls) != len(resp.Message.ToolCalls) {
			t.Fatalf("Stream = %+v, %v with deltas %+v", resp, err, deltas)
		}
	})
}
