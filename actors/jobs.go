package actors

import (
	"context"
	"sync"
	"time"

	"github.com/asynkron/protoactor-go/actor"
)

// job is work a grain runs off its receive loop: run does the I/O on a
// goroutine; finish runs back on the actor with run's result.
type job struct {
	run    func(ctx context.Context) any
	finish func(ctx actor.Context, res any)
}

// jobDone carries a job's result back to the grain (a local message).
type jobDone struct {
	finish func(ctx actor.Context, res any)
	res    any
}

// jobs runs a grain's jobs one at a time, in the order they were added.
// It is used only from the grain's receive loop, so it needs no lock; the
// shared WaitGroup lets the runtime drain work in flight at shutdown.
type jobs struct {
	busy     bool
	pending  []job
	inflight *sync.WaitGroup
	timeout  time.Duration
}

func (j *jobs) add(ctx actor.Context, jb job) {
	j.pending = append(j.pending, jb)
	j.next(ctx)
}

func (j *jobs) next(ctx actor.Context) {
	if j.busy || len(j.pending) == 0 {
		return
	}
	jb := j.pending[0]
	j.pending[0] = job{}
	j.pending = j.pending[1:]
	j.busy = true
	self, root := ctx.Self(), ctx.ActorSystem().Root
	j.inflight.Add(1)
	go func() {
		defer j.inflight.Done()
		jctx, cancel := context.WithTimeout(context.Background(), j.timeout)
		res := jb.run(jctx)
		cancel()
		root.Send(self, &jobDone{finish: jb.finish, res: res})
	}()
}

// done finishes the running job and starts the next.
func (j *jobs) done(ctx actor.Context, m *jobDone) {
	j.busy = false
	m.finish(ctx, m.res)
	j.next(ctx)
}

func (j *jobs) idle() bool { return !j.busy && len(j.pending) == 0 }
