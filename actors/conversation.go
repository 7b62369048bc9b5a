package actors

import (
	"context"
	"errors"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	pcluster "github.com/asynkron/protoactor-go/cluster"
	"github.com/rs/zerolog"

	"github.com/frontdesk-ai/frontdesk/actors/grainpb"
	"github.com/frontdesk-ai/frontdesk/persistence"
)

// conversationGrain is the actor of one customer thread. Its fields are
// touched only from its receive loop; I/O runs in jobs on a copy of the
// thread, and the result replaces the thread when the job finishes.
type conversationGrain struct {
	rt     *Runtime
	log    zerolog.Logger
	thread thread
	loaded bool
	jobs   jobs
	// waiting holds deliveries that arrived before the thread was loaded.
	waiting []delivery
	// turning is set while a turn runs (model and tools, off the actor);
	// deliveries keep being applied meanwhile and are answered by the next
	// turn. turnFailures counts turns in a row that failed.
	turning      bool
	turnFailures int
}

// turnDone carries a finished turn back to the grain.
type turnDone struct{ res turnResult }

// retryTurn asks the grain to try a failed turn again.
type retryTurn struct{}

type delivery struct {
	msg    *grainpb.Deliver
	sender *actor.PID
}

type loaded struct {
	thread thread
	err    error
}

type applied struct {
	thread thread
	res    applyResult
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
	case *grainpb.Deliver:
		d := delivery{msg: m, sender: ctx.Sender()}
		if !g.loaded {
			g.waiting = append(g.waiting, d)
			return
		}
		g.deliver(ctx, d)
	case *jobDone:
		g.jobs.done(ctx, m)
		g.maybeTurn(ctx)
	case *turnDone:
		g.commit(ctx, m.res)
	case *retryTurn:
		g.maybeTurn(ctx)
	case *actor.ReceiveTimeout:
		if g.jobs.idle() && len(g.waiting) == 0 && !g.turning {
			ctx.Poison(ctx.Self())
			return
		}
		// Busy: protoactor cancels the timeout once it fires, so arm it again.
		ctx.SetReceiveTimeout(g.rt.cfg.IdleTimeout)
	case *actor.Stopped:
		if g.thread.identity != "" {
			g.rt.metrics.activeGrains.WithLabelValues(KindConversation).Dec()
			g.log.Debug().Msg("conversation grain passivated")
		}
	}
}

func (g *conversationGrain) activate(ctx actor.Context, identity string) {
	g.thread.identity = identity
	g.log = g.rt.log.With().Str("grain", KindConversation).Str("identity", identity).Logger()
	g.rt.metrics.activeGrains.WithLabelValues(KindConversation).Inc()
	g.rt.metrics.activations.WithLabelValues(KindConversation).Inc()
	ctx.SetReceiveTimeout(g.rt.cfg.IdleTimeout)
	g.jobs.add(ctx, job{
		run: func(jctx context.Context) any {
			t, err := loadThread(jctx, g.rt.store, identity)
			return loaded{thread: t, err: err}
		},
		finish: func(ctx actor.Context, res any) {
			l := res.(loaded)
			if l.err != nil {
				// Without its state the grain cannot apply anything: fail the
				// waiting deliveries (the dispatcher retries) and stop, so the
				// next delivery activates afresh.
				g.log.Error().Err(l.err).Msg("conversation grain could not load its state")
				g.rt.metrics.errors.WithLabelValues("grain_load").Inc()
				for _, d := range g.waiting {
					ctx.Send(d.sender, &grainpb.DeliverAck{Error: l.err.Error()})
				}
				g.waiting = nil
				ctx.Poison(ctx.Self())
				return
			}
			g.thread = l.thread
			g.loaded = true
			for _, d := range g.waiting {
				g.deliver(ctx, d)
			}
			g.waiting = nil
			// Messages applied before a crash may still wait for their
			// answer: the turn runs again (tools are idempotent per turn).
		},
	})
}

func (g *conversationGrain) deliver(ctx actor.Context, d delivery) {
	rec := persistence.Record{Topic: d.msg.Topic, Partition: d.msg.Partition, Offset: d.msg.Offset, Value: d.msg.Envelope}
	g.jobs.add(ctx, job{
		run: func(jctx context.Context) any {
			// Jobs run one at a time and only a job's finish replaces
			// g.thread, so reading it here does not race.
			t := g.thread.clone()
			res, err := t.apply(jctx, g.rt, rec)
			if errors.Is(err, persistence.ErrVersionConflict) {
				// Another activation wrote first: reload and try again; the
				// checkpoint tells whether the record is already applied.
				g.log.Warn().Err(err).Msg("stale conversation state; reloading")
				if t, err = loadThread(jctx, g.rt.store, g.thread.identity); err == nil {
					res, err = t.apply(jctx, g.rt, rec)
				}
			}
			if err == nil && res.message != nil {
				g.rt.notify(t.st.TenantID)
				if res.message.Direction == persistence.DirectionInbound {
					g.tellCustomer(jctx, t.st, res.message.CreatedAt)
				}
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
				g.log.Warn().Err(a.err).Int64("offset", rec.Offset).Bool("permanent", ack.Permanent).Msg("event not applied")
			case a.res.duplicate:
				g.thread = a.thread
				ack.Duplicate = true
				g.rt.metrics.applied.WithLabelValues("duplicate").Inc()
			default:
				g.thread = a.thread
				ack.Applied = true
				g.rt.metrics.applied.WithLabelValues("applied").Inc()
			}
			ctx.Send(d.sender, ack)
		},
	})
}

// maybeTurn starts a turn when inbound messages wait for an answer, no
// turn runs, and no delivery is queued (queued messages are folded into the
// turn instead of answered one by one).
func (g *conversationGrain) maybeTurn(ctx actor.Context) {
	if !g.loaded || g.turning || !g.jobs.idle() || !g.thread.st.turnDue() || g.thread.st.ConversationID == "" {
		return
	}
	g.turning = true
	in := turnInput{st: g.thread.st.clone(), through: g.thread.st.PendingThrough}
	self, root := ctx.Self(), ctx.ActorSystem().Root
	g.rt.inflight.Add(1)
	go func() {
		defer g.rt.inflight.Done()
		tctx, cancel := context.WithTimeout(context.Background(), g.rt.cfg.TurnTimeout)
		res := g.rt.runTurn(tctx, in)
		cancel()
		root.Send(self, &turnDone{res: res})
	}()
}

// commit records a finished turn through the job lane, so it serializes with
// deliveries; then the next turn may start for messages that came meanwhile.
func (g *conversationGrain) commit(ctx actor.Context, res turnResult) {
	if res.err != nil {
		g.turning = false
		g.turnFailures++
		g.rt.metrics.turns.WithLabelValues("failed").Inc()
		g.log.Error().Err(res.err).Int("failures", g.turnFailures).Msg("turn failed")
		if g.turnFailures < maxTurnFailures {
			self, root := ctx.Self(), ctx.ActorSystem().Root
			time.AfterFunc(time.Duration(g.turnFailures)*time.Second, func() { root.Send(self, &retryTurn{}) })
			return
		}
		// Give up on these messages (they stay visible for a human) rather
		// than retrying forever.
		res = turnResult{in: res.in, skip: "turn failed: " + res.err.Error()}
	}
	g.jobs.add(ctx, job{
		run: func(jctx context.Context) any {
			t := g.thread.clone()
			err := t.commitTurn(jctx, g.rt, res)
			if errors.Is(err, persistence.ErrVersionConflict) {
				g.log.Warn().Err(err).Msg("stale conversation state at turn commit; reloading")
				if t, err = loadThread(jctx, g.rt.store, g.thread.identity); err == nil {
					err = t.commitTurn(jctx, g.rt, res)
				}
			}
			if err == nil {
				g.rt.notify(t.st.TenantID)
			}
			return applied{thread: t, err: err}
		},
		finish: func(ctx actor.Context, r any) {
			a := r.(applied)
			g.turning = false
			if a.err != nil {
				g.turnFailures++
				g.rt.metrics.turns.WithLabelValues("failed").Inc()
				g.log.Error().Err(a.err).Msg("turn not committed; it will run again")
				self, root := ctx.Self(), ctx.ActorSystem().Root
				time.AfterFunc(time.Second, func() { root.Send(self, &retryTurn{}) })
				return
			}
			g.thread = a.thread
			g.turnFailures = 0
			outcome := "answered"
			switch {
			case res.skip != "":
				outcome = "skipped"
			case res.offline:
				outcome = "offline"
			}
			g.rt.metrics.turns.WithLabelValues(outcome).Inc()
			g.rt.maybeSummarize(g.thread.st)
		},
	})
}

// maxTurnFailures is how many times in a row a turn is tried before its
// messages are left for a human.
const maxTurnFailures = 3

// tellCustomer reports the customer's activity to its customer grain. It is
// not part of the event's effect (last-seen is monotonic), so a failure is
// logged, not retried forever.
func (g *conversationGrain) tellCustomer(ctx context.Context, st threadState, at time.Time) {
	if st.CustomerID == "" {
		return
	}
	cctx, cancel := context.WithTimeout(ctx, g.rt.cfg.CallTimeout)
	defer cancel()
	_, err := g.rt.call(cctx, KindCustomer, CustomerIdentity(st.TenantID, st.CustomerID), &grainpb.CustomerSeen{
		TenantId: st.TenantID, CustomerId: st.CustomerID, Channel: st.Channel,
		ProfileName: st.ProfileName, AtUnixMicro: at.UnixMicro(),
	})
	if err != nil {
		g.rt.metrics.errors.WithLabelValues("customer_call").Inc()
		g.log.Warn().Err(err).Msg("customer grain not told of new message")
	}
}
