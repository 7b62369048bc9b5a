package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"
)

// The default tenant's WhatsApp channel the load generator configures.
const (
	phoneNumberID = "106540352242922"
	appSecret     = "loadgen-app-secret"
	accessToken   = "EAAG-loadgen-token"
	verifyToken   = "loadgen-verify"
)

// frontdesk is one `frontdesk serve` child process with its own data
// directory.
type frontdesk struct {
	cmd     *exec.Cmd
	addr    string
	dir     string
	logPath string
	keep    bool
	exited  chan struct{}
	waitErr error
}

// startOptions are what a scenario's frontdesk is started with.
type startOptions struct {
	bin      string
	graphURL string // FRONTDESK_GRAPH_API_URL
	modelURL string // FRONTDESK_LLM_BASE_URL
	// extra are the scenario's variables; user (-env) overrides them and
	// everything else.
	extra, user []string
	keep        bool
	readyWithin time.Duration
}

// startFrontdesk launches `bin serve` on a fresh data directory and a free
// port, wired to the fakes, and waits for /readyz.
func startFrontdesk(ctx context.Context, o startOptions) (*frontdesk, error) {
	dir, err := os.MkdirTemp("", "loadgen-frontdesk-")
	if err != nil {
		return nil, fmt.Errorf("data dir: %w", err)
	}
	addr, err := freeAddr()
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	f := &frontdesk{addr: addr, dir: dir, logPath: filepath.Join(dir, "frontdesk.log"), keep: o.keep, exited: make(chan struct{})}
	logFile, err := os.Create(f.logPath)
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, fmt.Errorf("log file: %w", err)
	}
	defer logFile.Close()
	env := []string{
		"FRONTDESK_DATA_DIR=" + filepath.Join(dir, "data"),
		"FRONTDESK_HTTP_ADDR=" + addr,
		"FRONTDESK_LOG_FORMAT=json",
		"FRONTDESK_WHATSAPP_PHONE_NUMBER_ID=" + phoneNumberID,
		"FRONTDESK_WHATSAPP_APP_SECRET=" + appSecret,
		"FRONTDESK_WHATSAPP_ACCESS_TOKEN=" + accessToken,
		"FRONTDESK_WHATSAPP_VERIFY_TOKEN=" + verifyToken,
		// The per-number send limiter (80/s by default) would be what the
		// benchmark measures; lift it.
		"FRONTDESK_WHATSAPP_RATE=1000000",
		"FRONTDESK_GRAPH_API_URL=" + o.graphURL,
		"FRONTDESK_LLM_BASE_URL=" + o.modelURL,
		"FRONTDESK_LLM_MODEL=" + modelName,
	}
	f.cmd = exec.Command(o.bin, "serve")
	f.cmd.Env = childEnv(os.Environ(), env, o.extra, o.user)
	f.cmd.Stdout, f.cmd.Stderr = logFile, logFile
	dieWithParent(f.cmd)
	if err := f.cmd.Start(); err != nil {
		_ = os.RemoveAll(dir)
		return nil, fmt.Errorf("start %s serve: %w", o.bin, err)
	}
	go func() {
		f.waitErr = f.cmd.Wait()
		close(f.exited)
	}()
	if err := f.waitReady(ctx, o.readyWithin); err != nil {
		tail := f.logTail(20)
		f.stop()
		return nil, fmt.Errorf("%s serve: %w; its log ends:\n%s", o.bin, err, tail)
	}
	return f, nil
}

// childEnv is the parent's environment without FRONTDESK_* variables (a
// developer's shell must not change what is measured), then layers, each
// overriding the ones before it.
func childEnv(parent []string, layers ...[]string) []string {
	var keys []string
	vals := map[string]string{}
	set := func(kv string) {
		k, v, _ := strings.Cut(kv, "=")
		if _, ok := vals[k]; !ok {
			keys = append(keys, k)
		}
		vals[k] = v
	}
	for _, kv := range parent {
		if !strings.HasPrefix(kv, "FRONTDESK_") {
			set(kv)
		}
	}
	for _, l := range layers {
		for _, kv := range l {
			set(kv)
		}
	}
	out := make([]string, 0, len(keys))
	for _, k := range keys {
		out = append(out, k+"="+vals[k])
	}
	return out
}

func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

func (f *frontdesk) url(path string) string { return "http://" + f.addr + path }

func (f *frontdesk) waitReady(ctx context.Context, within time.Duration) error {
	deadline := time.Now().Add(within)
	client := &http.Client{Timeout: 2 * time.Second}
	for {
		select {
		case <-f.exited:
			return fmt.Errorf("exited before it was ready (%v)", f.waitErr)
		case <-ctx.Done():
			return ctx.Err()
		default:
		}
		resp, err := client.Get(f.url("/readyz"))
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("/readyz not 200 within %s", within)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// alive reports whether the process still runs.
func (f *frontdesk) alive() bool {
	select {
	case <-f.exited:
		return false
	default:
		return true
	}
}

// stop ends the process (SIGTERM, then SIGKILL after 15 s) and removes its
// data directory unless it is kept.
func (f *frontdesk) stop() {
	if f.alive() {
		_ = f.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-f.exited:
		case <-time.After(15 * time.Second):
			_ = f.cmd.Process.Kill()
			<-f.exited
		}
	}
	if f.keep {
		fmt.Fprintf(os.Stderr, "loadgen: kept %s\n", f.dir)
		return
	}
	_ = os.RemoveAll(f.dir)
}

// cpu returns the CPU time the process has used so far.
func (f *frontdesk) cpu() (time.Duration, error) { return processCPU(f.cmd.Process.Pid) }

// metrics reads the unlabelled series of /metrics.
func (f *frontdesk) metrics(ctx context.Context) (map[string]float64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, f.url("/metrics"), nil)
	if err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("metrics: HTTP %d", resp.StatusCode)
	}
	return parseMetrics(string(raw)), nil
}

// logTail returns the last n lines of the process's output.
func (f *frontdesk) logTail(n int) string {
	raw, err := os.ReadFile(f.logPath)
	if err != nil {
		return "(no log: " + err.Error() + ")"
	}
	lines := bytes.Split(bytes.TrimRight(raw, "\n"), []byte("\n"))
	lines = lines[max(0, len(lines)-n):]
	return string(bytes.Join(lines, []byte("\n")))
}

// logProblems returns up to n distinct warn- and error-level log lines,
// for a failure report.
func (f *frontdesk) logProblems(n int) []string {
	raw, err := os.ReadFile(f.logPath)
	if err != nil {
		return nil
	}
	var out []string
	for line := range strings.Lines(string(raw)) {
		if !strings.Contains(line, `"level":"error"`) && !strings.Contains(line, `"level":"warn"`) {
			continue
		}
		line = strings.TrimSpace(line)
		if len(line) > 300 {
			line = line[:300] + "…"
		}
		if !slices.Contains(out, line) {
			out = append(out, line)
		}
		if len(out) == n {
			break
		}
	}
	return out
}

// version runs `bin version`.
func version(bin string) (string, error) {
	out, err := exec.Command(bin, "version").Output()
	if err != nil {
		return "", fmt.Errorf("%s version: %w", bin, err)
	}
	return strings.TrimSpace(string(out)), nil
}
