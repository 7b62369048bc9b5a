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
}

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
	case *actor.ReceiveTimeout:
		if g.jobs.idle() && len(g.waiting) == 0 {
			ctx.Poison(ctx.Self())
		}
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
			res, err := t.apply(jctx, g.rt.store, rec, g.rt.cfg.RecentMessages)
			if errors.Is(err, persistence.ErrVersionConflict) {
				// Another activation wrote first: reload and try again; the
				// checkpoint tells whether the record is already applied.
				g.log.Warn().Err(err).Msg("stale conversation state; reloading")
				if t, err = loadThread(jctx, g.rt.store, g.thread.identity); err == nil {
					res, err = t.apply(jctx, g.rt.store, rec, g.rt.cfg.RecentMessages)
				}
			}
			if err == nil && res.message != nil && res.message.Direction == persistence.DirectionInbound {
				g.tellCustomer(jctx, t.st, res.message.CreatedAt)
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
