package cluster

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	pcluster "github.com/asynkron/protoactor-go/cluster"
	"github.com/rs/zerolog"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// flaky ignores the first request of each activation's identity "drop-1",
// never answers "silent", and echoes everything else.
type flaky struct {
	identity string
	seen     *atomic.Int32
}

func (f *flaky) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *pcluster.ClusterInit:
		f.identity = m.Identity.Identity
	case *wrapperspb.StringValue:
		n := f.seen.Add(1)
		switch {
		case f.identity == "silent":
		case f.identity == "drop-1" && n == 1:
		default:
			ctx.Respond(wrapperspb.String("echo:" + m.Value))
		}
	}
}

func TestCallDeadlineAndRetry(t *testing.T) {
	var seen atomic.Int32
	m, err := Start(Config{AttemptTimeout: 300 * time.Millisecond, BackoffBase: 10 * time.Millisecond}, zerolog.Nop(),
		Kind{Name: "flaky", Producer: func() actor.Actor { return &flaky{seen: &seen} }})
	if err != nil {
		t.Fatal(err)
	}
	// Stopping races inside protoactor-go (shared notes, defect 4); the
	// process ends with the test binary.

	t.Run("a lost attempt is retried with backoff", func(t *testing.T) {
		seen.Store(0)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		res, err := m.Call(ctx, "flaky", "drop-1", wrapperspb.String("hi"))
		if err != nil {
			t.Fatal(err)
		}
		if v := res.(*wrapperspb.StringValue).Value; v != "echo:hi" {
			t.Fatalf("answer = %q", v)
		}
		if n := seen.Load(); n != 2 {
			t.Fatalf("grain saw %d attempts, want 2", n)
		}
	})
	t.Run("the caller's deadline bounds the whole call", func(t *testing.T) {
		seen.Store(0)
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_, err := m.Call(ctx, "flaky", "silent", wrapperspb.String("hi"))
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("err = %v, want the caller's deadline", err)
		}
		if n := seen.Load(); n < 2 {
			t.Fatalf("grain saw %d attempts before the deadline, want retries", n)
		}
	})
}

func TestConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
		ok   bool
	}{
		{"single member", Config{}, true},
		{"peers", Config{Addr: "127.0.0.1:7001", Peers: []string{"127.0.0.1:7001", "127.0.0.1:7002"}}, true},
		{"peers without addr", Config{Peers: []string{"a:1"}}, false},
		{"bad port", Config{Addr: "127.0.0.1:99999"}, false},
		{"bad peer", Config{Addr: "127.0.0.1:7001", Peers: []string{"nope"}}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.cfg.Validate(); (err == nil) != tc.ok {
				t.Fatalf("Validate() = %v, want ok=%v", err, tc.ok)
			}
		})
	}
}
