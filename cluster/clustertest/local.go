// Package clustertest runs grains in one process without cluster
// membership, for tests of packages that call grains (the gateway's
// conversation commands): protoactor-go allows one cluster member per
// process, but any number of Local grain hosts.
package clustertest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	pcluster "github.com/asynkron/protoactor-go/cluster"

	"github.com/frontdesk-ai/frontdesk/cluster"
)

// Local hosts grains of the given kinds in a plain actor system: a call
// activates the grain (sending it ClusterInit as the cluster would) and a
// grain that stops itself (passivation) is activated afresh by the next.
type Local struct {
	system *actor.ActorSystem
	kinds  map[string]actor.Producer
	mu     sync.Mutex
	pids   map[string]*actor.PID
}

// NewLocal returns a host for kinds.
func NewLocal(kinds ...cluster.Kind) *Local {
	system := actor.NewActorSystemWithConfig(actor.Configure(
		actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) })))
	l := &Local{system: system, kinds: map[string]actor.Producer{}, pids: map[string]*actor.PID{}}
	for _, k := range kinds {
		l.kinds[k.Name] = k.Producer
	}
	return l
}

// Call sends msg to the grain kind/identity and waits for its answer until
// ctx ends (5 s when ctx has no deadline).
func (l *Local) Call(ctx context.Context, kind, identity string, msg any) (any, error) {
	timeout := 5 * time.Second
	if d, ok := ctx.Deadline(); ok {
		timeout = time.Until(d)
	}
	for attempt := 0; ; attempt++ {
		pid, err := l.pid(kind, identity)
		if err != nil {
			return nil, err
		}
		res, err := l.system.Root.RequestFuture(pid, msg, timeout).Result()
		if err == nil {
			if _, dead := res.(*actor.DeadLetterResponse); !dead {
				return res, nil
			}
			err = errors.New("grain stopped")
		}
		// The grain passivated meanwhile: activate it again, once.
		l.forget(kind, identity, pid)
		if attempt > 0 || ctx.Err() != nil {
			return nil, fmt.Errorf("call %s/%s: %w", kind, identity, err)
		}
	}
}

func (l *Local) pid(kind, identity string) (*actor.PID, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	key := kind + "/" + identity
	if pid, ok := l.pids[key]; ok {
		return pid, nil
	}
	produce, ok := l.kinds[kind]
	if !ok {
		return nil, fmt.Errorf("no grain kind %q", kind)
	}
	props := actor.PropsFromProducer(func() actor.Actor {
		return &grain{inner: produce(), stopped: func(pid *actor.PID) { l.forget(kind, identity, pid) }}
	})
	pid := l.system.Root.Spawn(props)
	l.system.Root.Send(pid, &pcluster.ClusterInit{Identity: &pcluster.ClusterIdentity{Kind: kind, Identity: identity}})
	l.pids[key] = pid
	return pid, nil
}

func (l *Local) forget(kind, identity string, pid *actor.PID) {
	l.mu.Lock()
	defer l.mu.Unlock()
	key := kind + "/" + identity
	if cur, ok := l.pids[key]; ok && cur.Equal(pid) {
		delete(l.pids, key)
	}
}

// grain forwards to the grain and tells the host when it stops.
type grain struct {
	inner   actor.Actor
	stopped func(pid *actor.PID)
}

func (g *grain) Receive(ctx actor.Context) {
	if _, ok := ctx.Message().(*actor.Stopping); ok {
		g.stopped(ctx.Self())
	}
	g.inner.Receive(ctx)
}
