package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/frontdesk-ai/frontdesk/events"
	"github.com/frontdesk-ai/frontdesk/persistence"
	"github.com/frontdesk-ai/frontdesk/persistence/sqlstore"
)

// binary is the frontdesk binary built once for the subprocess tests.
var binary string

func TestMain(m *testing.M) {
	os.Exit(func() int {
		dir, err := os.MkdirTemp("", "frontdesk-bin")
		if err != nil {
			panic(err)
		}
		defer os.RemoveAll(dir)
		binary = filepath.Join(dir, "frontdesk")
		out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput()
		if err != nil {
			fmt.Fprintf(os.Stderr, "build frontdesk: %v\n%s", err, out)
			return 1
		}
		return m.Run()
	}())
}

// server is one frontdesk serve subprocess.
type server struct {
	cmd  *exec.Cmd
	addr string
	mu   sync.Mutex
	logs bytes.Buffer
	done chan error
	// alive is cleared by tests that kill or pause the process.
	alive atomic.Bool
}

// httpClient bounds test requests, so a paused server cannot hang a test.
var httpClient = &http.Client{Timeout: 10 * time.Second}

func jsonUnmarshal(s string, v any) error { return json.Unmarshal([]byte(s), v) }

func freeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func startServer(t testing.TB, env ...string) *server {
	t.Helper()
	s := &server{addr: freeAddr(t), done: make(chan error, 1)}
	s.alive.Store(true)
	s.cmd = exec.Command(binary, "serve")
	s.cmd.Env = append(os.Environ(), append([]string{"FRONTDESK_HTTP_ADDR=" + s.addr, "FRONTDESK_LOG_FORMAT=json"}, env...)...)
	pr, pw := io.Pipe()
	s.cmd.Stdout, s.cmd.Stderr = pw, pw
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			s.mu.Lock()
			s.logs.WriteString(sc.Text() + "\n")
			s.mu.Unlock()
		}
	}()
	go func() { err := s.cmd.Wait(); pw.Close(); s.done <- err }()
	t.Cleanup(func() {
		if s.cmd.ProcessState == nil {
			_ = s.cmd.Process.Kill()
			<-s.done
		}
		if t.Failed() {
			t.Logf("server %s logs:\n%s", s.addr, s.output())
		}
	})
	return s
}

func (s *server) output() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.logs.String()
}

func (s *server) get(path string) (int, string) {
	resp, err := http.Get("http://" + s.addr + path)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func (s *server) waitReady(t testing.TB) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		code, _ := s.get("/readyz")
		if code == http.StatusOK {
			return
		}
		select {
		case err := <-s.done:
			t.Fatalf("server exited before ready: %v\n%s", err, s.output())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("server not ready (last /readyz %d)\n%s", code, s.output())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// stop sends SIGTERM and waits for a clean exit.
func (s *server) stop(t testing.TB) {
	t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-s.done:
		if err != nil {
			t.Fatalf("server exit after SIGTERM: %v\n%s", err, s.output())
		}
	case <-time.After(60 * time.Second):
		t.Fatalf("server did not stop after SIGTERM\n%s", s.output())
	}
	if !strings.Contains(s.output(), "stopped cleanly") {
		t.Fatalf("no clean stop in logs:\n%s", s.output())
	}
}

func TestServeEmptyDataDirStartsAndServesProbes(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "fresh")
	s := startServer(t, "FRONTDESK_DATA_DIR="+dir)
	if code, body := s.get("/healthz"); code != http.StatusOK {
		// healthz answers as soon as the HTTP server is up
		_ = body
	}
	s.waitReady(t)
	if code, _ := s.get("/healthz"); code != http.StatusOK {
		t.Fatalf("/healthz = %d", code)
	}
	code, body := s.get("/metrics")
	for _, want := range []string{"frontdesk_log_lag", "frontdesk_active_grains", "go_goroutines"} {
		if code != http.StatusOK || !strings.Contains(body, want) {
			t.Fatalf("/metrics (%d) lacks %s", code, want)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "frontdesk.db")); err != nil {
		t.Fatalf("data dir not created: %v", err)
	}
	s.stop(t)
}

// TestSIGTERMDuringBurstLosesNothing sends SIGTERM while events stream in,
// restarts on the same data dir and checks that every event was applied
// exactly once: one message per event, and each grain's own count of applied
// messages (not idempotent by itself) matches.
func TestSIGTERMDuringBurstLosesNothing(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	s := startServer(t, "FRONTDESK_DATA_DIR="+dir)
	s.waitReady(t)

	store, err := sqlstore.Open(ctx, sqlstore.Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	tenant := &persistence.Tenant{Name: "burst", Slug: "burst"}
	if err := store.CreateTenant(ctx, tenant); err != nil {
		t.Fatal(err)
	}
	const threads, perThread = 20, 15
	total := threads * perThread
	appendOne := func(i int) {
		th, n := i%threads, i/threads
		user := fmt.Sprintf("4917000%03d", th)
		e, err := events.New(events.TypeMessageReceived, 1, tenant.ID, events.ThreadKey(tenant.ID, "whatsapp", user), time.Now(), events.MessageReceived{
			Channel: "whatsapp", ExternalUserID: user, ChannelMessageID: fmt.Sprintf("wamid.burst.%d.%d", th, n),
			Kind: "text", Text: fmt.Sprintf("%d", n), SentAt: time.Now().UTC(),
		})
		if err != nil {
			t.Error(err)
			return
		}
		rec, _ := e.Record(persistence.TopicInbound)
		if _, err := store.Log().Append(ctx, rec); err != nil {
			t.Errorf("append %d: %v", i, err)
		}
	}
	// Half the burst, SIGTERM while the rest keeps arriving.
	for i := 0; i < total/2; i++ {
		appendOne(i)
	}
	stopped := make(chan struct{})
	go func() { defer close(stopped); s.stop(t) }()
	for i := total / 2; i < total; i++ {
		appendOne(i)
	}
	<-stopped
	if t.Failed() {
		return
	}

	s2 := startServer(t, "FRONTDESK_DATA_DIR="+dir)
	s2.waitReady(t)
	// Wait for the effect itself, every event's message stored, not for the
	// lag gauge (which reads 0 before the dispatcher's first poll).
	var n, distinct int
	for deadline := time.Now().Add(90 * time.Second); ; {
		if err := store.DB().QueryRowContext(ctx, `SELECT COUNT(*), COUNT(DISTINCT channel_message_id) FROM messages WHERE tenant_id = ? AND direction = 'inbound'`, tenant.ID).Scan(&n, &distinct); err != nil {
			t.Fatal(err)
		}
		if distinct >= total || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if n != total || distinct != total {
		t.Fatalf("messages = %d (%d distinct), want %d", n, distinct, total)
	}
	// With no model configured, the offline responder answers each thread
	// once (acknowledge, open a ticket, hand over): one reply and one ticket
	// per thread, whatever the SIGTERM interrupted.
	var replies, tickets, threadsReplied int
	for wait := time.Now().Add(60 * time.Second); ; {
		if err := store.DB().QueryRowContext(ctx, `SELECT COUNT(*), COUNT(DISTINCT conversation_id) FROM messages WHERE tenant_id = ? AND direction = 'outbound'`, tenant.ID).Scan(&replies, &threadsReplied); err != nil {
			t.Fatal(err)
		}
		if replies >= threads || time.Now().After(wait) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err := store.DB().QueryRowContext(ctx, `SELECT COUNT(*) FROM tickets WHERE tenant_id = ?`, tenant.ID).Scan(&tickets); err != nil {
		t.Fatal(err)
	}
	if replies != threads || threadsReplied != threads || tickets != threads {
		t.Fatalf("replies %d in %d threads, tickets %d; want one reply and one ticket per thread (%d)", replies, threadsReplied, tickets, threads)
	}
	for th := range threads {
		key := events.ThreadKey(tenant.ID, "whatsapp", fmt.Sprintf("4917000%03d", th))
		cp, err := store.GetCheckpoint(ctx, "conversation", key)
		if err != nil {
			t.Fatal(err)
		}
		var st struct {
			MessagesApplied int `json:"messages_applied"`
		}
		if err := json.Unmarshal(cp.State, &st); err != nil {
			t.Fatal(err)
		}
		if st.MessagesApplied != perThread {
			t.Fatalf("thread %s applied %d messages, want exactly %d", key, st.MessagesApplied, perThread)
		}
	}
	s2.stop(t)
}

// TestDemoMode is the README's demo: `make run` (demo mode) and
// `frontdesk demo-message`, answered by the offline responder over /ws.
func TestDemoMode(t *testing.T) {
	s := startServer(t, "FRONTDESK_DATA_DIR="+t.TempDir(), "FRONTDESK_DEMO=1")
	s.waitReady(t)
	var out, errb bytes.Buffer
	code := run(context.Background(), []string{"demo-message", "-addr", s.addr, "-text", "Is anyone there?", "-watch", "3s"}, envOf(nil), &out, &errb)
	if code != 0 {
		t.Fatalf("demo-message: exit %d: %s", code, errb.String())
	}
	got := out.String()
	for _, want := range []string{`"type":"message.created"`, `"text":"Is anyone there?"`, `"direction":"outbound"`, `"tool":"create_ticket"`, `"status":"waiting_human"`} {
		if !strings.Contains(got, want) {
			t.Fatalf("demo output lacks %s:\n%s", want, got)
		}
	}
	s.stop(t)
}
