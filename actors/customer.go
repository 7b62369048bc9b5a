package actors

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	pcluster "github.com/asynkron/protoactor-go/cluster"
	"github.com/rs/zerolog"

	"github.com/frontdesk-ai/frontdesk/actors/grainpb"
	"github.com/frontdesk-ai/frontdesk/persistence"
)

// CustomerIdentity is the grain identity of a customer.
func CustomerIdentity(tenantID, customerID string) string { return tenantID + "/" + customerID }

// customerGrain holds one customer's profile hot and records their activity.
type customerGrain struct {
	rt       *Runtime
	log      zerolog.Logger
	identity string
	customer persistence.Customer
	loaded   bool
	loadErr  error
	jobs     jobs
	waiting  []request
}

type request struct {
	msg    any
	sender *actor.PID
}

type customerLoaded struct {
	c   persistence.Customer
	err error
}

func newCustomerGrain(rt *Runtime) *customerGrain {
	return &customerGrain{rt: rt, jobs: rt.newJobs()}
}

// Receive implements actor.Actor.
func (g *customerGrain) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *pcluster.ClusterInit:
		g.activate(ctx, m.Identity.Identity)
	case *grainpb.CustomerSeen, *grainpb.GetCustomer:
		r := request{msg: m, sender: ctx.Sender()}
		if !g.loaded {
			g.waiting = append(g.waiting, r)
			return
		}
		g.handle(ctx, r)
	case *jobDone:
		g.jobs.done(ctx, m)
	case *actor.ReceiveTimeout:
		if g.jobs.idle() && len(g.waiting) == 0 {
			ctx.Poison(ctx.Self())
			return
		}
		// Busy: protoactor cancels the timeout once it fires, so arm it again.
		ctx.SetReceiveTimeout(g.rt.cfg.IdleTimeout)
	case *actor.Stopped:
		if g.identity != "" {
			g.rt.metrics.activeGrains.WithLabelValues(KindCustomer).Dec()
		}
	}
}

func (g *customerGrain) activate(ctx actor.Context, identity string) {
	g.identity = identity
	g.log = g.rt.log.With().Str("grain", KindCustomer).Str("identity", identity).Logger()
	g.rt.metrics.activeGrains.WithLabelValues(KindCustomer).Inc()
	g.rt.metrics.activations.WithLabelValues(KindCustomer).Inc()
	ctx.SetReceiveTimeout(g.rt.cfg.IdleTimeout)
	tenant, id, ok := strings.Cut(identity, "/")
	g.jobs.add(ctx, job{
		run: func(jctx context.Context) any {
			if !ok {
				return customerLoaded{err: fmt.Errorf("customer identity %q: want tenant/customer", identity)}
			}
			c, err := g.rt.store.GetCustomer(jctx, tenant, id)
			return customerLoaded{c: c, err: err}
		},
		finish: func(ctx actor.Context, res any) {
			l := res.(customerLoaded)
			g.customer, g.loadErr, g.loaded = l.c, l.err, true
			if l.err != nil {
				g.log.Error().Err(l.err).Msg("customer grain could not load its customer")
				g.rt.metrics.errors.WithLabelValues("grain_load").Inc()
			}
			for _, r := range g.waiting {
				g.handle(ctx, r)
			}
			g.waiting = nil
			if l.err != nil {
				ctx.Poison(ctx.Self())
			}
		},
	})
}

func (g *customerGrain) handle(ctx actor.Context, r request) {
	if g.loadErr != nil {
		ctx.Send(r.sender, &grainpb.CustomerSnapshot{Error: g.loadErr.Error()})
		return
	}
	switch m := r.msg.(type) {
	case *grainpb.GetCustomer:
		ctx.Send(r.sender, snapshot(g.customer))
	case *grainpb.CustomerSeen:
		g.jobs.add(ctx, job{
			run: func(jctx context.Context) any {
				c, err := g.seen(jctx, g.customer, m)
				return customerLoaded{c: c, err: err}
			},
			finish: func(ctx actor.Context, res any) {
				l := res.(customerLoaded)
				if l.err != nil {
					g.log.Warn().Err(l.err).Msg("customer activity not recorded")
					ctx.Send(r.sender, &grainpb.CustomerSnapshot{Error: l.err.Error()})
					return
				}
				g.customer = l.c
				ctx.Send(r.sender, snapshot(g.customer))
			},
		})
	}
}

// seen records the customer's activity with a version-checked write; on a
// conflict (another activation, or an edit from the API) it reloads once.
func (g *customerGrain) seen(ctx context.Context, c persistence.Customer, m *grainpb.CustomerSeen) (persistence.Customer, error) {
	at := time.UnixMicro(m.AtUnixMicro).UTC()
	for attempt := 0; attempt < 2; attempt++ {
		changed := false
		if c.LastSeenAt == nil || at.After(*c.LastSeenAt) {
			c.LastSeenAt = &at
			changed = true
		}
		if c.Name == "" && m.ProfileName != "" {
			c.Name = m.ProfileName
			changed = true
		}
		if !changed {
			return c, nil
		}
		err := g.rt.store.UpdateCustomer(ctx, &c)
		if !errors.Is(err, persistence.ErrVersionConflict) {
			return c, err
		}
		if c, err = g.rt.store.GetCustomer(ctx, c.TenantID, c.ID); err != nil {
			return c, err
		}
	}
	return c, fmt.Errorf("customer %s: %w after reload", c.ID, persistence.ErrVersionConflict)
}

func snapshot(c persistence.Customer) *grainpb.CustomerSnapshot {
	s := &grainpb.CustomerSnapshot{CustomerId: c.ID, Name: c.Name, Email: c.Email, Phone: c.Phone, Language: c.Language}
	if c.LastSeenAt != nil {
		s.LastSeenUnixMicro = c.LastSeenAt.UnixMicro()
	}
	return s
}
