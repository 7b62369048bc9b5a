package actors

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	pcluster "github.com/asynkron/protoactor-go/cluster"
	"github.com/rs/zerolog"

	"github.com/frontdesk-ai/frontdesk/actors/grainpb"
	"github.com/frontdesk-ai/frontdesk/clock"
	"github.com/frontdesk-ai/frontdesk/persistence"
)

// conversationGrain is the actor of one customer thread. Its fields are
// touched only from its receive loop; I/O runs in jobs on a copy of the
// thread, and the result replaces the thread when the job finishes.
type conversationGrain struct {
	rt     *Runtime
	thread thread
	loaded bool
	jobs   jobs
	// waiting holds messages that arrived before the thread was loaded.
	waiting []request
	// turning is set while a turn runs (model and tools, off the actor);
	// deliveries keep being applied meanwhile and are answered by the next
	// turn. cancelTurn stops it (a human took over). turnFailures counts
	// turns in a row that failed; commitFailures commits of one result.
	turning        bool
	cancelTurn     context.CancelFunc
	turnFailures   int
	commitFailures int
	retryTimer     clock.Timer
	idle           idleTimer
	// evicted is set when the hot budget asked the grain to passivate.
	evicted bool
}

// quiet reports whether the grain has no work in hand and may passivate.
func (g *conversationGrain) quiet() bool {
	return g.jobs.idle() && len(g.waiting) == 0 && !g.turning
}

// turnDone carries a finished turn back to the grain.
type turnDone struct{ res turnResult }

// retryTurn asks the grain to try a failed turn again.
type retryTurn struct{}

// retryCommit asks the grain to commit a turn's result again.
type retryCommit struct{ res turnResult }

type loaded struct {
	thread thread
	err    error
}

type applied struct {
	thread thread
	res    applyResult
	err    error
}

type commanded struct {
	thread thread
	res    CommandResult
	err    error
}

func newConversationGrain(rt *Runtime) *conversationGrain {
	return &conversationGrain{rt: rt, jobs: rt.newJobs()}
}

// Receive implements actor.Actor.
func (g *conversationGrain) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *pcluster.ClusterInit:
		g.activate(ctx, m.Identity.Identity)
	case *grainpb.Deliver, *grainpb.Command:
		g.idle.touch(g.rt.clock)
		g.evicted = false
		g.rt.hot.touch(g.thread.identity, ctx.Self(), ctx.ActorSystem().Root)
		r := request{msg: m, sender: ctx.Sender()}
		if !g.loaded {
			g.waiting = append(g.waiting, r)
			return
		}
		g.handle(ctx, r)
	case *grainpb.Remind:
		// A follow-up the AI scheduled: run as a command (after
		// activation, in the job lane).
		cmd, ok := followUpCommand(g.tenantOf(), m.Name, m.Payload)
		if !ok {
			ctx.Respond(&grainpb.Reply{})
			return
		}
		payload, _ := json.Marshal(cmd)
		r := request{msg: &grainpb.Command{Kind: string(cmd.Kind), Payload: payload}, sender: ctx.Sender()}
		if !g.loaded {
			g.waiting = append(g.waiting, r)
			return
		}
		g.handle(ctx, r)
	case *jobDone:
		g.jobs.done(ctx, m)
		g.maybeTurn(ctx)
		if g.evicted && g.quiet() {
			ctx.Poison(ctx.Self())
		}
	case *turnDone:
		g.turnFinished(ctx, m.res)
	case *retryFired:
		g.retryTimer = nil
		switch r := m.msg.(type) {
		case *retryTurn:
			g.maybeTurn(ctx)
		case *retryCommit:
			g.commit(ctx, r.res)
		}
	case *idleCheck:
		if (g.evicted || g.idle.due(g.rt.clock, g.rt.cfg.IdleTimeout)) && g.quiet() {
			ctx.Poison(ctx.Self())
			return
		}
		g.idle.arm(ctx, g.rt.clock, g.rt.cfg.IdleTimeout)
	case *evict:
		// Past the hot budget: passivate now if idle, else once the work
		// in hand is done (jobDone).
		g.evicted = true
		if g.quiet() {
			ctx.Poison(ctx.Self())
		}
	case *actor.Stopped:
		g.idle.stop()
		g.rt.hot.gone(g.thread.identity, ctx.Self())
		if g.retryTimer != nil {
			g.retryTimer.Stop()
		}
		if g.thread.identity != "" {
			g.rt.metrics.activeGrains.WithLabelValues(KindConversation).Dec()
			g.log().Debug().Msg("conversation grain passivated")
		}
	}
}

// tenantOf is the tenant of the grain's identity.
func (g *conversationGrain) tenantOf() string {
	tenant, _, _, _ := parseThreadKey(g.thread.identity)
	return tenant
}

// log returns the grain's logger. It is built when a line is written, not
// kept: a logger per active grain costs memory on every hot conversation.
func (g *conversationGrain) log() *zerolog.Logger {
	l := g.rt.log.With().Str("grain", KindConversation).Str("thread", redactKey(g.thread.identity)).Logger()
	return &l
}

func (g *conversationGrain) handle(ctx actor.Context, r request) {
	switch m := r.msg.(type) {
	case *grainpb.Deliver:
		g.deliver(ctx, m, r.sender)
	case *grainpb.Command:
		g.command(ctx, m, r.sender)
	}
}

func (g *conversationGrain) activate(ctx actor.Context, identity string) {
	g.thread.identity = identity
	g.rt.metrics.activeGrains.WithLabelValues(KindConversation).Inc()
	g.rt.metrics.activations.WithLabelValues(KindConversation).Inc()
	g.idle.touch(g.rt.clock)
	g.idle.arm(ctx, g.rt.clock, g.rt.cfg.IdleTimeout)
	g.jobs.add(ctx, job{
		run: func(jctx context.Context) any {
			t, err := loadThread(jctx, g.rt, identity)
			return loaded{thread: t, err: err}
		},
		finish: func(ctx actor.Context, res any) {
			l := res.(loaded)
			if l.err != nil {
				// Without its state the grain cannot apply anything: fail the
				// waiting requests (the dispatcher retries) and stop, so the
				// next one activates afresh.
				g.log().Error().Err(l.err).Msg("conversation grain could not load its state")
				g.rt.metrics.errors.WithLabelValues("grain_load").Inc()
				for _, r := range g.waiting {
					switch r.msg.(type) {
					case *grainpb.Deliver:
						ctx.Send(r.sender, &grainpb.DeliverAck{Error: l.err.Error()})
					default:
						ctx.Send(r.sender, replyOf(nil, l.err))
					}
				}
				g.waiting = nil
				ctx.Poison(ctx.Self())
				return
			}
			g.thread = l.thread
			g.loaded = true
			for _, r := range g.waiting {
				g.handle(ctx, r)
			}
			g.waiting = nil
			// Messages applied before a crash may still wait for their
			// answer: the turn runs again (tools are idempotent per turn).
		},
	})
}

// reloadOnConflict runs op on a copy of the thread; when another activation
// wrote first it reloads the state once and runs op again.
func (g *conversationGrain) reloadOnConflict(jctx context.Context, op func(t *thread) error) (thread, error) {
	t := g.thread.clone()
	err := op(&t)
	if errors.Is(err, persistence.ErrVersionConflict) {
		g.log().Warn().Err(err).Msg("stale conversation state; reloading")
		g.rt.metrics.storeReads.WithLabelValues(KindConversation, "reload").Inc()
		if t, err = loadThread(jctx, g.rt, g.thread.identity); err == nil {
			err = op(&t)
		}
	}
	return t, err
}

func (g *conversationGrain) deliver(ctx actor.Context, m *grainpb.Deliver, sender *actor.PID) {
	rec := persistence.Record{Topic: m.Topic, Partition: m.Partition, Offset: m.Offset, Value: m.Envelope}
	g.jobs.add(ctx, job{
		run: func(jctx context.Context) any {
			// Jobs run one at a time and only a job's finish replaces
			// g.thread, so reading it here does not race.
			var res applyResult
			t, err := g.reloadOnConflict(jctx, func(t *thread) error {
				var err error
				res, err = t.apply(jctx, g.rt, rec)
				return err
			})
			if err == nil && res.message != nil {
				g.rt.notify(t.st.TenantID)
			}
			return applied{thread: t, res: res, err: err}
		},
		finish: func(ctx actor.Context, res any) {
			a := res.(applied)
			ack := &grainpb.DeliverAck{}
			switch {
			case a.err != nil:
				ack.Error = a.err.Error()
				var p errPermanent
				ack.Permanent = errors.As(a.err, &p)
				g.rt.metrics.applied.WithLabelValues("rejected").Inc()
				g.log().Warn().Err(a.err).Int64("offset", rec.Offset).Bool("permanent", ack.Permanent).Msg("event not applied")
			case a.res.duplicate:
				g.thread = a.thread
				ack.Duplicate = true
				g.rt.metrics.applied.WithLabelValues("duplicate").Inc()
			default:
				g.thread = a.thread
				ack.Applied = true
				g.rt.metrics.applied.WithLabelValues("applied").Inc()
				if msg := a.res.message; msg != nil && msg.Direction == persistence.DirectionInbound {
					// Not part of the event's effect (last seen is monotonic;
					// the customer grain counts messages for its summary):
					// told after the ack, never waited for.
					g.rt.tellCustomerSeen(a.thread.st, msg.CreatedAt)
				}
			}
			ctx.Send(sender, ack)
		},
	})
}

// command runs a conversation command in the job lane and answers it.
func (g *conversationGrain) command(ctx actor.Context, m *grainpb.Command, sender *actor.PID) {
	var cmd Command
	if err := json.Unmarshal(m.Payload, &cmd); err != nil {
		ctx.Send(sender, replyOf(nil, invalid("malformed command: "+err.Error())))
		return
	}
	g.jobs.add(ctx, job{
		run: func(jctx context.Context) any {
			var res CommandResult
			t, err := g.reloadOnConflict(jctx, func(t *thread) error {
				var err error
				res, err = t.command(jctx, g.rt, cmd)
				return err
			})
			if err == nil {
				g.rt.notify(t.st.TenantID)
			}
			return commanded{thread: t, res: res, err: err}
		},
		finish: func(ctx actor.Context, r any) {
			c := r.(commanded)
			if c.err == nil {
				g.thread = c.thread
				if g.turning && g.cancelTurn != nil && aiMayWrite(g.thread.st.Conv) != "" {
					// The AI stops at once: its turn is cancelled and its
					// commit finds the human writer in the grain's state.
					g.cancelTurn()
				}
			}
			ctx.Send(sender, replyOf(c.res, c.err))
		},
	})
}

// maybeTurn starts a turn when inbound messages wait for an answer, no
// turn runs, and no delivery is queued (queued messages are folded into the
// turn instead of answered one by one).
func (g *conversationGrain) maybeTurn(ctx actor.Context) {
	if !g.loaded || g.turning || g.retryTimer != nil || !g.jobs.idle() || !g.thread.st.turnDue() || g.thread.st.ConversationID == "" {
		return
	}
	g.turning = true
	in := turnInput{st: g.thread.st.clone(), through: g.thread.st.PendingThrough}
	self, root := ctx.Self(), ctx.ActorSystem().Root
	tctx, cancel := context.WithTimeout(context.Background(), g.rt.cfg.TurnTimeout)
	g.cancelTurn = cancel
	g.rt.inflight.Add(1)
	go func() {
		defer g.rt.inflight.Done()
		res := g.rt.runTurn(tctx, in)
		cancel()
		root.Send(self, &turnDone{res: res})
	}()
}

// turnFinished retries a failed turn with capped exponential backoff (the
// model is called again) and gives up after MaxTurnFailures: the messages
// are then left for a human (a ticket, the conversation waiting for one,
// and a dead letter). A turn that ran is committed.
func (g *conversationGrain) turnFinished(ctx actor.Context, res turnResult) {
	g.cancelTurn = nil
	if res.err != nil && aiMayWrite(g.thread.st.Conv) == "" {
		g.turnFailures++
		g.rt.metrics.turns.WithLabelValues("failed").Inc()
		g.log().Error().Err(res.err).Int("failures", g.turnFailures).Msg("turn failed")
		if g.turnFailures < g.rt.cfg.MaxTurnFailures {
			g.turning = false
			g.retryAfter(ctx, backoff(g.turnFailures, g.rt.cfg.RetryBackoff, g.rt.cfg.MaxRetryBackoff), &retryTurn{})
			return
		}
	}
	g.commitFailures = 0
	g.commit(ctx, res)
}

// commit records a finished turn through the job lane, so it serializes with
// deliveries and commands; then the next turn may start for messages that
// came meanwhile. A commit that fails is retried with the same result
// (never by calling the model again), with capped exponential backoff;
// after MaxCommitFailures the turn is given up.
func (g *conversationGrain) commit(ctx actor.Context, res turnResult) {
	g.turning = true
	g.jobs.add(ctx, job{
		run: func(jctx context.Context) any {
			t, err := g.reloadOnConflict(jctx, func(t *thread) error { return t.commitTurn(jctx, g.rt, res) })
			if err == nil {
				g.rt.notify(t.st.TenantID)
			}
			return applied{thread: t, err: err}
		},
		finish: func(ctx actor.Context, r any) {
			a := r.(applied)
			if a.err != nil {
				g.commitFailures++
				g.rt.metrics.errors.WithLabelValues("turn_commit").Inc()
				g.log().Error().Err(a.err).Int("failures", g.commitFailures).Msg("turn not committed")
				if g.commitFailures >= g.rt.cfg.MaxCommitFailures && res.err == nil {
					// Give up on this reply: what is left is recording that
					// a human must answer (retried like any commit).
					res = turnResult{in: res.in, calls: res.calls, err: errors.New("its reply could not be recorded: " + a.err.Error())}
				}
				g.retryAfter(ctx, backoff(g.commitFailures, g.rt.cfg.RetryBackoff, g.rt.cfg.MaxRetryBackoff), &retryCommit{res: res})
				return
			}
			g.turning = false
			g.thread = a.thread
			g.commitFailures = 0
			outcome := "answered"
			switch {
			case res.err != nil:
				outcome = "given_up"
				g.turnFailures = 0
			case res.skip != "":
				outcome = "skipped"
			case res.offline:
				outcome = "offline"
			}
			if res.err == nil {
				g.turnFailures = 0
			}
			g.rt.metrics.turns.WithLabelValues(outcome).Inc()
		},
	})
}

// retryAfter sends msg to the grain after d on the runtime's clock; only one
// retry waits at a time.
func (g *conversationGrain) retryAfter(ctx actor.Context, d time.Duration, msg any) {
	self, root := ctx.Self(), ctx.ActorSystem().Root
	g.retryTimer = g.rt.clock.AfterFunc(d, func() { root.Send(self, &retryFired{msg: msg}) })
}

// retryFired carries a retry whose delay passed.
type retryFired struct{ msg any }

// backoff returns the delay before retry n (1-based): base doubled each
// time, at most max.
func backoff(n int, base, max time.Duration) time.Duration {
	d := base
	for i := 1; i < n && d < max; i++ {
		d *= 2
	}
	return min(d, max)
}
