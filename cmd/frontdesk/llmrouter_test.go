package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/frontdesk-ai/frontdesk/llmrouter/llmtest"
	"github.com/frontdesk-ai/frontdesk/persistence"
	"github.com/frontdesk-ai/frontdesk/persistence/sqlstore"
	"github.com/frontdesk-ai/frontdesk/persistence/sqlstore/sqlstoretest"
)

// routerCall posts body to the llm router at addr with the bearer key.
func routerCall(t *testing.T, addr, path, key string, body any) (int, []byte) {
	t.Helper()
	raw, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest("POST", "http://"+addr+path, bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, out
}

func waitHealthy(t *testing.T, addr string, exited <-chan struct{}) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			t.Fatal("llmrouter exited before it was healthy")
		default:
		}
		if resp, err := http.Get("http://" + addr + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("llmrouter not ready within 60s")
}

// llmCalls returns the recorded LLM calls of tenantID.
func llmCalls(t *testing.T, store *sqlstore.Store, tenantID string) []persistence.LLMCall {
	t.Helper()
	cs, _, err := store.ListLLMCalls(context.Background(), tenantID, persistence.Page{Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

// waitLLMCalls returns the recorded LLM calls of tenantID once there are
// at least n: the router records them in the background, in batches.
func waitLLMCalls(t *testing.T, store *sqlstore.Store, tenantID string, n int) []persistence.LLMCall {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if cs := llmCalls(t, store, tenantID); len(cs) >= n || time.Now().After(deadline) {
			return cs
		}
	}
}

// TestLLMRouterCommand runs the frontdesk llmrouter binary against the
// fake model server: both APIs answer with the key (401 without), the model
// receives the requests with its own key, every call is recorded in the
// store, and SIGTERM stops it cleanly.
func TestLLMRouterCommand(t *testing.T) {
	for _, d := range sqlstoretest.Dialects {
		t.Run(d, func(t *testing.T) {
			storeCfg := sqlstoretest.Config(t, d)
			llm := llmtest.NewServer(t, llmtest.Text("Hello from the model").WithUsage(7, 3), llmtest.Text("Facade answer").WithUsage(2, 2))
			llm.RequireAPIKey("upstream-key")
			addr := freeAddr(t)
			cmd := exec.Command(binary, "llmrouter")
			cmd.Env = append(os.Environ(), "FRONTDESK_HTTP_ADDR="+addr, "FRONTDESK_LOG_FORMAT=json",
				"FRONTDESK_DATA_DIR="+storeCfg.DataDir, "FRONTDESK_DATABASE_URL="+storeCfg.DatabaseURL,
				"FRONTDESK_LLM_BASE_URL="+llm.BaseURL(), "FRONTDESK_LLM_MODEL="+llmtest.Model, "FRONTDESK_LLM_API_KEY=upstream-key",
				"FRONTDESK_LLMROUTER_API_KEY=router-key", "FRONTDESK_LLMROUTER_CONFIG=")
			var logs syncBuf
			cmd.Stdout, cmd.Stderr = &logs, &logs
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			exited := make(chan struct{})
			var waitErr error
			go func() { waitErr = cmd.Wait(); close(exited) }()
			t.Cleanup(func() {
				select {
				case <-exited:
				default:
					_ = cmd.Process.Kill()
					<-exited
				}
				if t.Failed() {
					t.Logf("llmrouter logs:\n%s", logs.String())
				}
			})
			waitHealthy(t, addr, exited)

			infer := map[string]any{"tenant_id": "tenant-a", "conversation_id": "conv-1",
				"messages": []map[string]any{{"role": "user", "content": "Hi"}}}
			if code, body := routerCall(t, addr, "/llm/infer", "", infer); code != http.StatusUnauthorized {
				t.Fatalf("infer without the key = %d %s", code, body)
			}
			code, body := routerCall(t, addr, "/llm/infer", "router-key", infer)
			var a struct {
				Message struct{ Content string }
				Backend string
			}
			if err := json.Unmarshal(body, &a); err != nil || code != 200 || a.Message.Content != "Hello from the model" || a.Backend != "openai" {
				t.Fatalf("infer = %d %s", code, body)
			}
			code, body = routerCall(t, addr, "/v1/chat/completions", "router-key", map[string]any{"model": "anything",
				"messages": []map[string]any{{"role": "user", "content": "Hi"}}})
			var c struct {
				Model   string
				Choices []struct{ Message struct{ Content string } }
			}
			if err := json.Unmarshal(body, &c); err != nil || code != 200 || c.Model != "anything" || c.Choices[0].Message.Content != "Facade answer" {
				t.Fatalf("chat completion = %d %s", code, body)
			}

			reqs := llm.Requests()
			if len(reqs) != 2 {
				t.Fatalf("the model received %d requests", len(reqs))
			}
			for _, r := range reqs {
				if r.Header.Get("Authorization") != "Bearer upstream-key" || r.Body.Messages[0].Text() != "Hi" || r.Body.Model != llmtest.Model {
					t.Fatalf("the model received %s with %v", r.Raw, r.Header)
				}
			}

			store := sqlstoretest.OpenConfig(t, storeCfg)
			if cs := waitLLMCalls(t, store, "tenant-a", 1); len(cs) != 1 || cs[0].Outcome != persistence.LLMOutcomeOK ||
				cs[0].ConversationID != "conv-1" || cs[0].PromptTokens != 7 || cs[0].Model != llmtest.Model {
				t.Fatalf("infer recorded %+v", cs)
			}
			def, err := store.GetTenantBySlug(context.Background(), defaultTenantSlug)
			if err != nil {
				t.Fatal(err)
			}
			if cs := waitLLMCalls(t, store, def.ID, 1); len(cs) != 1 || cs[0].PromptTokens != 2 {
				t.Fatalf("facade recorded %+v", cs)
			}

			if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
				t.Fatal(err)
			}
			select {
			case <-exited:
			case <-time.After(20 * time.Second):
				t.Fatal("llmrouter did not stop within 20s of SIGTERM")
			}
			if waitErr != nil || !strings.Contains(logs.String(), "stopped cleanly") {
				t.Fatalf("exit: %v", waitErr)
			}
		})
	}
}

// TestLLMRouterConfigFile runs llmrouter in-process with a YAML router
// configuration whose backend key comes from the environment.
func TestLLMRouterConfigFile(t *testing.T) {
	llm := llmtest.NewServer(t, llmtest.Text("routed").WithUsage(1, 1))
	llm.RequireAPIKey("yaml-key")
	dir := t.TempDir()
	path := filepath.Join(dir, "router.yaml")
	yaml := fmt.Sprintf(`backends:
  - name: gpu
    kind: openai
    base_url: %s
    model: %s
    api_key_env: GPU_KEY
routes:
  - name: everything
    candidates:
      - {backend: gpu}
embeddings:
  backend: gpu
  model: text-embedding-3-small
`, llm.BaseURL(), llmtest.Model)
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	addr := freeAddr(t)
	env := map[string]string{"FRONTDESK_HTTP_ADDR": addr, "FRONTDESK_DATA_DIR": filepath.Join(dir, "data"), "FRONTDESK_LOG_FORMAT": "json",
		"FRONTDESK_LLMROUTER_CONFIG": path, "GPU_KEY": "yaml-key"}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var logs syncBuf
	exited := make(chan struct{})
	var code int
	go func() { code = runLLMRouter(ctx, nil, func(k string) string { return env[k] }, &logs); close(exited) }()
	waitHealthy(t, addr, exited)

	status, body := routerCall(t, addr, "/llm/infer", "", map[string]any{"tenant_id": "t1", "messages": []map[string]any{{"role": "user", "content": "Hi"}}})
	var a struct{ Backend, Route string }
	if err := json.Unmarshal(body, &a); err != nil || status != 200 || a.Backend != "gpu" || a.Route != "everything" {
		t.Fatalf("infer = %d %s", status, body)
	}
	resp, err := http.Get("http://" + addr + "/v1/models")
	if err != nil {
		t.Fatal(err)
	}
	models, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(models), `"id":"`+llmtest.Model+`"`) || !strings.Contains(string(models), `"id":"text-embedding-3-small"`) {
		t.Fatalf("models %s", models)
	}
	// The embeddings section's model replaces the caller's.
	status, body = routerCall(t, addr, "/v1/embeddings", "", map[string]any{"model": "ada", "input": []string{"hello", "world"}})
	var e struct {
		Data []struct {
			Index     int
			Embedding []float32
		}
	}
	if err := json.Unmarshal(body, &e); err != nil || status != 200 || len(e.Data) != 2 || !slices.Equal(e.Data[1].Embedding, llmtest.Vector("world")) {
		t.Fatalf("embeddings = %d %s", status, body)
	}
	if reqs := llm.Requests(); len(reqs) != 2 || reqs[1].Path != llmtest.EmbeddingsPath || reqs[1].JSON["model"] != "text-embedding-3-small" ||
		reqs[1].Header.Get("Authorization") != "Bearer yaml-key" {
		t.Fatalf("the model received %d requests, the last %+v", len(reqs), reqs[len(reqs)-1])
	}
	cancel()
	select {
	case <-exited:
	case <-time.After(20 * time.Second):
		t.Fatal("llmrouter did not stop")
	}
	if code != 0 {
		t.Fatalf("exit code %d, logs:\n%s", code, logs.String())
	}
	store := sqlstoretest.OpenConfig(t, sqlstore.Config{DataDir: filepath.Join(dir, "data")})
	if cs := llmCalls(t, store, "t1"); len(cs) != 1 || cs[0].Route != "everything" || cs[0].Backend != "gpu" {
		t.Fatalf("recorded %+v", cs)
	}
}

func TestLLMRouterConfigParse(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  map[string]string
		args []string
		want string // a substring of the error; "" for none
		ok   func(c llmrouterConfig) bool
	}{
		{name: "defaults", ok: func(c llmrouterConfig) bool {
			return c.HTTPAddr == ":8080" && c.Store.DataDir == "./data" && c.LLM.RouterAPIKey == ""
		}},
		{name: "env", env: map[string]string{"FRONTDESK_LLMROUTER_API_KEY": "k", "FRONTDESK_LLM_BASE_URL": "http://m:8000/v1", "FRONTDESK_LLM_MODEL": "q"},
			ok: func(c llmrouterConfig) bool {
				return c.LLM.RouterAPIKey == "k" && c.LLM.BaseURL == "http://m:8000/v1" && c.LLM.Model == "q"
			}},
		{name: "flag wins", env: map[string]string{"FRONTDESK_HTTP_ADDR": ":1"}, args: []string{"-http-addr", ":2", "-llmrouter-config", "r.yaml"},
			ok: func(c llmrouterConfig) bool { return c.HTTPAddr == ":2" && c.LLM.ConfigPath == "r.yaml" }},
		{name: "model missing", env: map[string]string{"FRONTDESK_LLM_BASE_URL": "http://m/v1"}, want: "FRONTDESK_LLM_MODEL"},
		{name: "file and base url", env: map[string]string{"FRONTDESK_LLMROUTER_CONFIG": "r.yaml", "FRONTDESK_LLM_BASE_URL": "http://m/v1", "FRONTDESK_LLM_MODEL": "q"},
			want: "set one"},
		{name: "bad database url", env: map[string]string{"FRONTDESK_DATABASE_URL": "mysql://x"}, want: "FRONTDESK_DATABASE_URL"},
		{name: "bad log level", env: map[string]string{"FRONTDESK_LOG_LEVEL": "loud"}, want: "FRONTDESK_LOG_LEVEL"},
		{name: "stray argument", args: []string{"now"}, want: "unexpected arguments"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := parseLLMRouterConfig(tc.args, func(k string) string { return tc.env[k] }, io.Discard)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("err = %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("err = %v, want one naming %s", err, tc.want)
			case tc.ok != nil && !tc.ok(c):
				t.Fatalf("config %+v", c)
			}
		})
	}
	var out bytes.Buffer
	if code := run(context.Background(), []string{"llmrouter", "-h"}, func(string) string { return "" }, &out, &out); code != 0 ||
		!strings.Contains(out.String(), "FRONTDESK_LLMROUTER_API_KEY") {
		t.Fatalf("llmrouter -h = %d %s", code, out.String())
	}
	if code := run(context.Background(), []string{"llmrouter"}, func(k string) string {
		return map[string]string{"FRONTDESK_LLM_BASE_URL": "http://m/v1"}[k]
	}, io.Discard, io.Discard); code != 2 {
		t.Fatalf("bad configuration exits %d, want 2", code)
	}
}

// syncBuf collects a process's output from concurrent writers.
type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
