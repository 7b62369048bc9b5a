package main

import (
	"bytes"
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func envOf(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestConfigDefaultsAndFlags(t *testing.T) {
	cfg, err := parseConfig("serve", nil, envOf(nil))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.HTTPAddr != ":8080" || cfg.Store.DataDir != "./data" || cfg.Store.DatabaseURL != "" {
		t.Fatalf("defaults = %+v", cfg)
	}
	cfg, err = parseConfig("serve", []string{"-http-addr", "127.0.0.1:9999"}, envOf(map[string]string{
		"FRONTDESK_HTTP_ADDR": ":7000", "FRONTDESK_DATA_DIR": "/var/lib/fd", "FRONTDESK_GRAIN_IDLE_TIMEOUT": "90s",
		"FRONTDESK_MAX_HOT_CONVERSATIONS": "1000", "FRONTDESK_WHATSAPP_RECEIPT_RATE": "5",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.HTTPAddr != "127.0.0.1:9999" || cfg.Store.DataDir != "/var/lib/fd" || cfg.Actors.IdleTimeout.Seconds() != 90 ||
		cfg.Actors.MaxHotConversations != 1000 || cfg.WhatsApp.ReceiptsPerSecond != 5 {
		t.Fatalf("env + flag = %+v", cfg)
	}
	// Every Kafka client setting kafkalog.Config documents is read.
	cfg, err = parseConfig("serve", []string{"-kafka-max-poll-records", "100"}, envOf(map[string]string{
		"FRONTDESK_KAFKA_HEARTBEAT_INTERVAL": "2s", "FRONTDESK_KAFKA_REBALANCE_TIMEOUT": "15s", "FRONTDESK_KAFKA_DIAL_TIMEOUT": "3s",
		"FRONTDESK_KAFKA_CLIENT_ID": "fd-eu-1", "FRONTDESK_KAFKA_TLS_INSECURE_SKIP_VERIFY": "true",
	}))
	if err != nil {
		t.Fatal(err)
	}
	k := cfg.Kafka
	if k.HeartbeatInterval != 2*time.Second || k.RebalanceTimeout != 15*time.Second || k.DialTimeout != 3*time.Second ||
		k.MaxPollRecords != 100 || k.ClientID != "fd-eu-1" || !k.TLS.InsecureSkipVerify {
		t.Fatalf("kafka settings = %+v", k)
	}
}

func TestConfigErrorsNameTheVariable(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  map[string]string
		want string
	}{
		{"database url scheme", map[string]string{"FRONTDESK_DATABASE_URL": "mysql://root@localhost/db"}, "FRONTDESK_DATABASE_URL: scheme \"mysql\""},
		{"database url host", map[string]string{"FRONTDESK_DATABASE_URL": "postgres:///db"}, "FRONTDESK_DATABASE_URL: missing host"},
		{"database url garbage", map[string]string{"FRONTDESK_DATABASE_URL": "::not a url"}, "FRONTDESK_DATABASE_URL"},
		{"idle timeout", map[string]string{"FRONTDESK_GRAIN_IDLE_TIMEOUT": "soon"}, "FRONTDESK_GRAIN_IDLE_TIMEOUT: want a duration"},
		{"partitions", map[string]string{"FRONTDESK_LOG_PARTITIONS": "0"}, "FRONTDESK_LOG_PARTITIONS: want a positive integer"},
		{"hot conversations", map[string]string{"FRONTDESK_MAX_HOT_CONVERSATIONS": "-1"}, "FRONTDESK_MAX_HOT_CONVERSATIONS: want a whole number"},
		{"receipt rate", map[string]string{"FRONTDESK_WHATSAPP_RECEIPT_RATE": "fast"}, "FRONTDESK_WHATSAPP_RECEIPT_RATE: want a number"},
		{"log level", map[string]string{"FRONTDESK_LOG_LEVEL": "loud"}, "FRONTDESK_LOG_LEVEL"},
		{"cluster addr", map[string]string{"FRONTDESK_CLUSTER_ADDR": "nohost"}, "FRONTDESK_CLUSTER_ADDR"},
		{"peers without addr", map[string]string{"FRONTDESK_CLUSTER_PEERS": "a:1,b:2"}, "FRONTDESK_CLUSTER_ADDR is empty"},
		{"peers without kafka", map[string]string{"FRONTDESK_CLUSTER_ADDR": "127.0.0.1:7001", "FRONTDESK_CLUSTER_PEERS": "127.0.0.1:7001,127.0.0.1:7002"}, "FRONTDESK_KAFKA_BROKERS"},
		{"peers without postgres", map[string]string{"FRONTDESK_CLUSTER_ADDR": "127.0.0.1:7001", "FRONTDESK_CLUSTER_PEERS": "127.0.0.1:7001,127.0.0.1:7002", "FRONTDESK_KAFKA_BROKERS": "127.0.0.1:9092"}, "FRONTDESK_DATABASE_URL"},
		{"kafka sasl without user", map[string]string{"FRONTDESK_KAFKA_BROKERS": "127.0.0.1:9092", "FRONTDESK_KAFKA_SASL_MECHANISM": "PLAIN"}, "FRONTDESK_KAFKA_SASL"},
		{"kafka partitions", map[string]string{"FRONTDESK_KAFKA_PARTITIONS": "none"}, "FRONTDESK_KAFKA_PARTITIONS"},
		{"kafka rebalance timeout", map[string]string{"FRONTDESK_KAFKA_REBALANCE_TIMEOUT": "-1s"}, "FRONTDESK_KAFKA_REBALANCE_TIMEOUT"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseConfig("serve", nil, envOf(tc.env))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

// runCmd runs the binary's entry point in-process and returns its exit code
// and stderr.
func runCmd(t *testing.T, env map[string]string, args ...string) (int, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), args, envOf(env), &stdout, &stderr)
	return code, stderr.String()
}

func TestBadInputGivesOneClearLine(t *testing.T) {
	corrupt := t.TempDir()
	junk := bytes.Repeat([]byte("this is not a database "), 400)
	if err := os.WriteFile(filepath.Join(corrupt, "frontdesk.db"), junk, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		env  map[string]string
		code int
		want string
	}{
		{"bad database url", map[string]string{"FRONTDESK_DATABASE_URL": "mysql://x"}, 2, "FRONTDESK_DATABASE_URL"},
		{"unreachable database", map[string]string{"FRONTDESK_DATABASE_URL": "postgres://postgres@127.0.0.1:1/none?connect_timeout=2"}, 1, "connect postgres"},
		{"corrupt data dir", map[string]string{"FRONTDESK_DATA_DIR": corrupt, "FRONTDESK_LOG_FORMAT": "json"}, 1, "corrupt data dir"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, stderr := runCmd(t, tc.env, "migrate")
			lines := strings.Split(strings.TrimSpace(stderr), "\n")
			if code != tc.code || len(lines) != 1 || !strings.Contains(lines[0], tc.want) {
				t.Fatalf("exit %d, stderr:\n%s\nwant exit %d and one line containing %q", code, stderr, tc.code, tc.want)
			}
		})
	}
	// The corrupt file is left as it was: nothing stored is rewritten.
	got, err := os.ReadFile(filepath.Join(corrupt, "frontdesk.db"))
	if err != nil || !bytes.Equal(got, junk) {
		t.Fatalf("corrupt data dir was modified (err %v)", err)
	}
}

func TestVersionAndUnknownCommand(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"version"}, envOf(nil), &out, &errb); code != 0 || !strings.HasPrefix(out.String(), "frontdesk ") {
		t.Fatalf("version: exit %d, out %q", code, out.String())
	}
	if code, stderr := runCmd(t, nil, "frobnicate"); code != 2 || !strings.Contains(stderr, `unknown command "frobnicate"`) {
		t.Fatalf("unknown command: exit %d, %q", code, stderr)
	}
}

// TestDemoModeListensOnLoopback checks that demo mode, whose credentials
// are public, listens on loopback unless FRONTDESK_HTTP_ADDR (or its flag)
// says otherwise, and that other modes keep the contract's :8080.
func TestDemoModeListensOnLoopback(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"demo", map[string]string{"FRONTDESK_DEMO": "1"}, nil, "127.0.0.1:8080"},
		{"demo flag", nil, []string{"-demo", "true"}, "127.0.0.1:8080"},
		{"demo with address", map[string]string{"FRONTDESK_DEMO": "1", "FRONTDESK_HTTP_ADDR": ":9000"}, nil, ":9000"},
		{"demo with address flag", map[string]string{"FRONTDESK_DEMO": "1"}, []string{"-http-addr", "0.0.0.0:9001"}, "0.0.0.0:9001"},
		{"not demo", nil, nil, ":8080"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := parseConfig("serve", tc.args, envOf(tc.env))
			if err != nil {
				t.Fatal(err)
			}
			if cfg.HTTPAddr != tc.want {
				t.Fatalf("HTTPAddr = %q, want %q", cfg.HTTPAddr, tc.want)
			}
			if tc.name == "demo" {
				host, _, err := net.SplitHostPort(cfg.HTTPAddr)
				if ip := net.ParseIP(host); err != nil || ip == nil || !ip.IsLoopback() {
					t.Fatalf("demo mode listens on %q: not a loopback address", cfg.HTTPAddr)
				}
			}
		})
	}
}
