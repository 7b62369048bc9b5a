package llmrouter_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/rs/zerolog"

	"github.com/frontdesk-ai/frontdesk/llmrouter"
	"github.com/frontdesk-ai/frontdesk/llmrouter/llmtest"
)

// TestEgressAllowList: a configured backend that redirects the router to
// another host cannot make it send anything there.
func TestEgressAllowList(t *testing.T) {
	var elsewhere atomic.Int64
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		elsewhere.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"choices":[{"message":{"role":"assistant","content":"exfiltrated"},"finish_reason":"stop"}]}`)
	}))
	t.Cleanup(other.Close)
	var asked atomic.Int64
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		asked.Add(1)
		http.Redirect(w, r, other.URL+r.URL.Path, http.StatusTemporaryRedirect)
	}))
	t.Cleanup(backend.Close)

	r, err := llmrouter.NewFromConfig(llmrouter.FileConfig{Backends: []llmrouter.BackendConfig{
		{Name: "gpu", Kind: llmrouter.KindOpenAI, BaseURL: backend.URL + "/v1", Model: "m"},
	}}, zerolog.Nop(), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := r.Complete(context.Background(), customerTurn("hi"))
	if err != nil || !resp.Offline {
		t.Fatalf("Complete = %+v, %v; want the offline answer", resp, err)
	}
	if n := elsewhere.Load(); n != 0 {
		t.Errorf("the other host got %d requests, want none", n)
	}
	if n := asked.Load(); n != 1 {
		t.Errorf("the backend got %d requests, want 1 (a refused host is not retried)", n)
	}
	b, _ := r.Backend("gpu")
	if _, err := b.(llmrouter.Embedder).Embed(context.Background(), "", []string{"x"}); err == nil {
		t.Error("Embed followed the redirect")
	}
	if n := elsewhere.Load(); n != 0 {
		t.Errorf("the other host got %d requests, want none", n)
	}
}

// TestEgressAllowsConfiguredHosts: every configured backend is reachable
// through the same guarded client.
func TestEgressAllowsConfiguredHosts(t *testing.T) {
	a := llmtest.NewServer(t)
	a.RequireAPIKey("sk-other") // 401: unavailable without retries
	b := llmtest.NewOllama(t, llmtest.Text("from ollama"))
	r, err := llmrouter.NewFromConfig(llmrouter.FileConfig{Backends: []llmrouter.BackendConfig{
		{Name: "a", Kind: llmrouter.KindOpenAI, BaseURL: a.BaseURL(), Model: "m"},
		{Name: "b", Kind: llmrouter.KindOllama, BaseURL: b.URL(), Model: llmtest.Model},
	}}, zerolog.Nop(), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := r.Complete(context.Background(), customerTurn("hi"))
	if err != nil || resp.Backend != "b" || resp.Message.Content != "from ollama" {
		t.Fatalf("Complete = %+v, %v", resp, err)
	}
	if len(a.Requests()) == 0 {
		t.Error("backend a was not tried")
	}
}
