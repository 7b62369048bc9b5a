package actors

import (
	"context"
	"encoding/json"
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

// CustomerContext is the customer-wide part of a turn's context, served by
// the customer grain from memory to each of the customer's conversations.
type CustomerContext struct {
	Customer      persistence.Customer       `json:"customer"`
	OpenTickets   []persistence.Ticket       `json:"open_tickets,omitempty"`
	RecentOrders  []persistence.Order        `json:"recent_orders,omitempty"`
	MemorySummary string                     `json:"memory_summary,omitempty"`
	Pending       []persistence.Confirmation `json:"pending_confirmations,omitempty"`
}

// customerState is what the customer grain persists in its checkpoint.
type customerState struct {
	// MessagesSeen counts the customer's inbound messages across all their
	// conversations; the memory summary is renewed every SummaryEvery.
	MessagesSeen int64 `json:"messages_seen"`
}

// customerData is the customer grain's hot state.
type customerData struct {
	cp        persistence.Checkpoint
	st        customerState
	customer  persistence.Customer
	tickets   []persistence.Ticket
	orders    []persistence.Order
	summary   persistence.UserMemorySummary
	hasSum    bool
	confirms  []persistence.Confirmation // pending and confirmed (not final)
	summaryAt int64                      // MessagesSeen a running summary covers
}

// Customer grain state events, folded by customerData.apply: every change
// of the grain's state is one of these, written to the store with its
// effect in the same transaction.
type (
	// evCustomerSeen: the customer wrote (profile as now stored; one more
	// message counted for the memory summary).
	evCustomerSeen struct{ Customer persistence.Customer }
	// evCustomerRead: a part of the context was read again (activation, or
	// told of a change).
	evCustomerRead struct {
		Customer *persistence.Customer
		Tickets  *[]persistence.Ticket
		Orders   *[]persistence.Order
	}
	// evSummaryWritten: a new memory summary was stored.
	evSummaryWritten struct{ Summary persistence.UserMemorySummary }
	// evConfirmation: a confirmation was written (proposed or moved to a
	// new state); final ones leave the grain's list.
	evConfirmation struct{ C persistence.Confirmation }
)

// apply returns d with e folded in. It is pure: d is not changed.
func (d customerData) apply(e any) customerData {
	d.confirms = append([]persistence.Confirmation(nil), d.confirms...)
	switch e := e.(type) {
	case evCustomerSeen:
		d.customer = e.Customer
		d.st.MessagesSeen++
	case evCustomerRead:
		if e.Customer != nil {
			d.customer = *e.Customer
		}
		if e.Tickets != nil {
			d.tickets = *e.Tickets
		}
		if e.Orders != nil {
			d.orders = *e.Orders
		}
	case evSummaryWritten:
		d.summary, d.hasSum = e.Summary, true
	case evConfirmation:
		i := d.find(e.C.ID)
		switch {
		case e.C.State.Final() && i >= 0:
			d.confirms = append(d.confirms[:i], d.confirms[i+1:]...)
		case e.C.State.Final():
		case i >= 0:
			d.confirms[i] = e.C
		default:
			d.confirms = append(d.confirms, e.C)
		}
	default:
		panic(fmt.Sprintf("actors: unknown customer state event %T", e))
	}
	return d
}

func (d customerData) context() CustomerContext {
	cc := CustomerContext{Customer: d.customer, OpenTickets: d.tickets, RecentOrders: d.orders, MemorySummary: d.summary.Summary}
	for _, c := range d.confirms {
		if c.State == persistence.ConfirmationPending {
			cc.Pending = append(cc.Pending, c)
		}
	}
	return cc
}

// Customer grain commands (grainpb.Command kinds).
const (
	customerCmdContext   = "context"
	customerCmdChanged   = "changed"
	customerCmdPropose   = "propose"
	customerCmdResolve   = "resolve"
	customerCmdList      = "confirmations"
	customerCmdExecuted  = "executed"
	customerCmdCancel    = "cancel"
	customerCmdDecide    = "decide"
	ticketsPart          = "tickets"
	ordersPart           = "orders"
	profilePart          = "profile"
	contextOpenTickets   = 5
	contextRecentOrders  = 5
	summaryConversations = 3
)

// customerGrain holds one customer hot: profile, open tickets, recent
// orders, memory summary and pending confirmations. It is the only writer of
// the customer's memory summary and confirmations.
// log returns the grain's logger, built when a line is written (see
// conversationGrain.log).
func (g *customerGrain) log() *zerolog.Logger {
	l := g.rt.log.With().Str("grain", KindCustomer).Str("identity", g.identity).Logger()
	return &l
}

type customerGrain struct {
	rt       *Runtime
	identity string
	tenant   string
	id       string
	d        customerData
	loaded   bool
	loadErr  error
	jobs     jobs
	waiting  []request
	idle     idleTimer
	// summarizing is set while a memory summary is written (at most one).
	summarizing bool
	timers      map[string]func() bool
}

type request struct {
	msg    any
	sender *actor.PID
}

type customerLoaded struct {
	d   customerData
	err error
}

type summaryDone struct {
	text    string
	covered int64
	err     error
}

func newCustomerGrain(rt *Runtime) *customerGrain {
	return &customerGrain{rt: rt, jobs: rt.newJobs(), timers: map[string]func() bool{}}
}

// Receive implements actor.Actor.
func (g *customerGrain) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *pcluster.ClusterInit:
		g.activate(ctx, m.Identity.Identity)
	case *grainpb.CustomerSeen, *grainpb.Command, *grainpb.Remind:
		g.idle.touch(g.rt.clock)
		r := request{msg: m, sender: ctx.Sender()}
		if !g.loaded {
			g.waiting = append(g.waiting, r)
			return
		}
		g.handle(ctx, r)
	case *jobDone:
		g.jobs.done(ctx, m)
	case *summaryDone:
		g.summaryDone(ctx, m)
	case *idleCheck:
		if g.idle.due(g.rt.clock, g.rt.cfg.IdleTimeout) && g.jobs.idle() && len(g.waiting) == 0 && !g.summarizing {
			ctx.Poison(ctx.Self())
			return
		}
		g.idle.arm(ctx, g.rt.clock, g.rt.cfg.IdleTimeout)
	case *actor.Stopped:
		g.idle.stop()
		for _, stop := range g.timers {
			stop()
		}
		if g.identity != "" {
			g.rt.metrics.activeGrains.WithLabelValues(KindCustomer).Dec()
		}
	}
}

func (g *customerGrain) activate(ctx actor.Context, identity string) {
	g.identity = identity
	g.rt.metrics.activeGrains.WithLabelValues(KindCustomer).Inc()
	g.rt.metrics.activations.WithLabelValues(KindCustomer).Inc()
	g.idle.touch(g.rt.clock)
	g.idle.arm(ctx, g.rt.clock, g.rt.cfg.IdleTimeout)
	tenant, id, ok := strings.Cut(identity, "/")
	g.tenant, g.id = tenant, id
	g.jobs.add(ctx, job{
		run: func(jctx context.Context) any {
			if !ok || tenant == "" || id == "" {
				return customerLoaded{err: fmt.Errorf("customer identity %q: want tenant/customer", identity)}
			}
			d, err := g.load(jctx)
			return customerLoaded{d: d, err: err}
		},
		finish: func(ctx actor.Context, res any) {
			l := res.(customerLoaded)
			g.d, g.loadErr, g.loaded = l.d, l.err, true
			if l.err != nil {
				g.log().Error().Err(l.err).Msg("customer grain could not load its customer")
				g.rt.metrics.errors.WithLabelValues("grain_load").Inc()
			}
			for _, r := range g.waiting {
				g.handle(ctx, r)
			}
			g.waiting = nil
			if l.err != nil {
				ctx.Poison(ctx.Self())
				return
			}
			for _, c := range g.d.confirms {
				g.armExpiry(ctx, c)
				if c.State == persistence.ConfirmationConfirmed {
					// Confirmed before a crash but not recorded as executed:
					// run it again (actions are idempotent on the id).
					g.execute(ctx, c)
				}
			}
		},
	})
}

// load reads the customer's state (activation: the customer grain's only
// reads, but for reloading a part it is told has changed).
func (g *customerGrain) load(ctx context.Context) (customerData, error) {
	g.rt.metrics.storeReads.WithLabelValues(KindCustomer, "activation").Inc()
	var d customerData
	var err error
	if d.customer, err = g.rt.store.GetCustomer(ctx, g.tenant, g.id); err != nil {
		return d, err
	}
	cp, err := g.rt.store.GetCheckpoint(ctx, KindCustomer, g.identity)
	switch {
	case errors.Is(err, persistence.ErrNotFound):
		d.cp = persistence.Checkpoint{TenantID: g.tenant, Kind: KindCustomer, Identity: g.identity, Partition: -1, Offset: -1}
	case err != nil:
		return d, err
	default:
		d.cp = cp
		if err := json.Unmarshal(cp.State, &d.st); err != nil {
			return d, fmt.Errorf("customer %s: decode checkpoint state: %w", g.identity, err)
		}
		d.cp.State = nil
	}
	if d.summary, err = g.rt.store.GetUserMemorySummary(ctx, g.tenant, g.id); err == nil {
		d.hasSum = true
		if d.cp.Version == 0 {
			// First activation since customers counted their own messages:
			// start from what the summary covers.
			d.st.MessagesSeen = int64(d.summary.MessagesCovered)
		}
	} else if !errors.Is(err, persistence.ErrNotFound) {
		return d, err
	}
	for _, part := range []string{ticketsPart, ordersPart} {
		if err := g.reload(ctx, &d, part); err != nil {
			return d, err
		}
	}
	d.confirms, err = g.rt.store.ListConfirmationsByCustomer(ctx, g.tenant, g.id, persistence.ConfirmationPending, persistence.ConfirmationAwaitingApproval, persistence.ConfirmationConfirmed)
	return d, err
}

// reload reads one part of the customer's context again after a change
// and folds it into d.
func (g *customerGrain) reload(ctx context.Context, d *customerData, part string) error {
	var e evCustomerRead
	switch part {
	case ticketsPart:
		ts, err := g.rt.store.ListOpenTickets(ctx, g.tenant, g.id, contextOpenTickets)
		if err != nil {
			return err
		}
		e.Tickets = &ts
	case ordersPart:
		os, err := g.rt.store.ListOrdersByCustomer(ctx, g.tenant, g.id, contextRecentOrders)
		if err != nil {
			return err
		}
		e.Orders = &os
	case profilePart:
		c, err := g.rt.store.GetCustomer(ctx, g.tenant, g.id)
		if err != nil {
			return err
		}
		e.Customer = &c
	default:
		return fmt.Errorf("unknown customer part %q", part)
	}
	*d = d.apply(e)
	return nil
}

func (g *customerGrain) handle(ctx actor.Context, r request) {
	if g.loadErr != nil {
		ctx.Send(r.sender, &grainpb.Reply{Code: CodeInternal, Error: g.loadErr.Error()})
		return
	}
	switch m := r.msg.(type) {
	case *grainpb.CustomerSeen:
		g.seen(ctx, m, r.sender)
	case *grainpb.Command:
		g.command(ctx, m, r.sender)
	case *grainpb.Remind:
		g.remind(ctx, m, r.sender)
	}
}

// seen records the customer's activity (last seen, profile name) and counts
// the message for the memory summary, in one version-checked write.
func (g *customerGrain) seen(ctx actor.Context, m *grainpb.CustomerSeen, sender *actor.PID) {
	g.jobs.add(ctx, job{
		run: func(jctx context.Context) any {
			d, err := g.write(jctx, g.d, func(tx Tx, d *customerData) error {
				at := time.UnixMicro(m.AtUnixMicro).UTC()
				c := d.customer
				changed := false
				if c.LastSeenAt == nil || at.After(*c.LastSeenAt) {
					c.LastSeenAt = &at
					changed = true
				}
				if c.Name == "" && m.ProfileName != "" {
					c.Name = m.ProfileName
					changed = true
				}
				if m.Language != "" && m.Language != c.Language {
					// Kept on the customer: routing and the model's
					// context use it.
					c.Language = m.Language
					changed = true
				}
				if changed {
					if err := tx.UpdateCustomer(jctx, &c); err != nil {
						return err
					}
				}
				*d = d.apply(evCustomerSeen{Customer: c})
				return nil
			})
			return customerLoaded{d: d, err: err}
		},
		finish: func(ctx actor.Context, res any) {
			l := res.(customerLoaded)
			if l.err != nil {
				g.log().Warn().Err(l.err).Msg("customer activity not recorded")
				ctx.Send(sender, &grainpb.Reply{Code: CodeInternal, Error: l.err.Error()})
				return
			}
			g.d = l.d
			ctx.Send(sender, &grainpb.Reply{})
			g.maybeSummarize(ctx)
		},
	})
}

// write runs change on a copy of d in a transaction that also saves the
// grain's checkpoint (version-checked); on a conflict (another activation,
// or the API edited the customer) it reloads once and runs change again.
func (g *customerGrain) write(ctx context.Context, d customerData, change func(tx Tx, d *customerData) error) (customerData, error) {
	for attempt := 0; ; attempt++ {
		next := d
		next.confirms = append([]persistence.Confirmation(nil), d.confirms...)
		err := g.rt.store.InTx(ctx, func(tx Tx) error {
			if err := change(tx, &next); err != nil {
				return err
			}
			state, err := json.Marshal(next.st)
			if err != nil {
				return err
			}
			next.cp.State = state
			return tx.SaveCheckpoint(ctx, &next.cp)
		})
		if err == nil {
			next.cp.State = nil
			return next, nil
		}
		if !errors.Is(err, persistence.ErrVersionConflict) || attempt > 0 {
			return d, err
		}
		g.rt.metrics.storeReads.WithLabelValues(KindCustomer, "reload").Inc()
		if d, err = g.load(ctx); err != nil {
			return d, err
		}
	}
}

func (g *customerGrain) command(ctx actor.Context, m *grainpb.Command, sender *actor.PID) {
	reply := func(v any, err error) { ctx.Send(sender, replyOf(v, err)) }
	switch m.Kind {
	case customerCmdContext:
		reply(g.d.context(), nil)
	case customerCmdList:
		reply(g.d.confirms, nil)
	case customerCmdChanged:
		part := string(m.Payload)
		g.jobs.add(ctx, job{
			run: func(jctx context.Context) any {
				g.rt.metrics.storeReads.WithLabelValues(KindCustomer, "changed").Inc()
				d := g.d
				err := g.reload(jctx, &d, part)
				return customerLoaded{d: d, err: err}
			},
			finish: func(ctx actor.Context, res any) {
				l := res.(customerLoaded)
				if l.err == nil {
					g.d = l.d
				}
				reply(struct{}{}, l.err)
			},
		})
	case customerCmdPropose, customerCmdResolve, customerCmdExecuted, customerCmdCancel, customerCmdDecide:
		g.confirmation(ctx, m, reply)
	default:
		reply(nil, invalid(fmt.Sprintf("unknown customer command %q", m.Kind)))
	}
}

// maybeSummarize starts a memory summary when SummaryEvery or more of the
// customer's messages (across all their conversations) are not covered by
// it, and none is being written. The model runs off the grain; the result
// is written by the grain.
func (g *customerGrain) maybeSummarize(ctx actor.Context) {
	covered := int64(g.d.summary.MessagesCovered)
	if g.summarizing || g.d.st.MessagesSeen-covered < int64(g.rt.cfg.SummaryEvery) {
		return
	}
	g.summarizing = true
	seen, prev := g.d.st.MessagesSeen, g.d.summary.Summary
	self, root := ctx.Self(), ctx.ActorSystem().Root
	g.rt.inflight.Add(1)
	go func() {
		defer g.rt.inflight.Done()
		sctx, cancel := context.WithTimeout(context.Background(), g.rt.cfg.TurnTimeout)
		defer cancel()
		text, err := g.rt.summarize(sctx, g.tenant, g.id, prev)
		root.Send(self, &summaryDone{text: text, covered: seen, err: err})
	}()
}

func (g *customerGrain) summaryDone(ctx actor.Context, m *summaryDone) {
	if m.err != nil || m.text == "" {
		g.summarizing = false
		if m.err != nil {
			g.rt.metrics.errors.WithLabelValues("summary").Inc()
			g.log().Warn().Err(m.err).Msg("memory summary not updated")
		}
		return
	}
	g.jobs.add(ctx, job{
		run: func(jctx context.Context) any {
			d, err := g.write(jctx, g.d, func(tx Tx, d *customerData) error {
				s := d.summary
				s.Summary, s.MessagesCovered = m.text, int(m.covered)
				if d.hasSum {
					if err := tx.UpdateUserMemorySummary(jctx, &s); err != nil {
						return err
					}
				} else {
					s.TenantID, s.CustomerID = g.tenant, g.id
					if err := tx.CreateUserMemorySummary(jctx, &s); err != nil {
						return err
					}
				}
				*d = d.apply(evSummaryWritten{Summary: s})
				return nil
			})
			return customerLoaded{d: d, err: err}
		},
		finish: func(ctx actor.Context, res any) {
			g.summarizing = false
			l := res.(customerLoaded)
			if l.err != nil {
				g.rt.metrics.errors.WithLabelValues("summary").Inc()
				g.log().Warn().Err(l.err).Msg("memory summary not saved")
				return
			}
			g.d = l.d
			// Messages may have come meanwhile.
			g.maybeSummarize(ctx)
		},
	})
}

// customerContext asks the customer grain for the customer-wide context of
// a turn.
func (rt *Runtime) customerContext(ctx context.Context, tenantID, customerID string) (CustomerContext, error) {
	var cc CustomerContext
	if customerID == "" {
		return cc, errors.New("turn without a customer")
	}
	err := rt.customerCommand(ctx, tenantID, customerID, customerCmdContext, nil, &cc)
	return cc, err
}

// customerCommand calls the customer grain with a command and decodes its
// answer into out.
func (rt *Runtime) customerCommand(ctx context.Context, tenantID, customerID, kind string, payload []byte, out any) error {
	cctx, cancel := context.WithTimeout(ctx, rt.cfg.CallTimeout)
	defer cancel()
	return rt.command(cctx, KindCustomer, CustomerIdentity(tenantID, customerID), kind, payload, out)
}

// tellCustomerSeen reports a customer's message to their grain, without
// waiting: last seen is monotonic and the summary count catches up.
func (rt *Runtime) tellCustomerSeen(st threadState, at time.Time) {
	if st.CustomerID == "" {
		return
	}
	msg := &grainpb.CustomerSeen{TenantId: st.TenantID, CustomerId: st.CustomerID, Channel: st.Channel,
		ProfileName: st.ProfileName, AtUnixMicro: at.UnixMicro(), Language: st.Language}
	rt.inflight.Add(1) // drained at shutdown
	go func() {
		defer rt.inflight.Done()
		ctx, cancel := context.WithTimeout(context.Background(), rt.cfg.CallTimeout)
		defer cancel()
		res, err := rt.call(ctx, KindCustomer, CustomerIdentity(st.TenantID, st.CustomerID), msg)
		if reply, ok := res.(*grainpb.Reply); err == nil && ok && reply.Code != "" {
			err = errors.New(reply.Error)
		}
		if err != nil {
			rt.metrics.errors.WithLabelValues("customer_call").Inc()
			rt.log.Warn().Err(err).Msg("customer grain not told of new message")
		}
	}()
}

// CustomerChanged tells the customer's grain that part of its context
// ("tickets", "orders" or "profile") changed outside it (a ticket opened or
// closed from the dashboard, an order from a shop), so it reloads that part.
func (rt *Runtime) CustomerChanged(ctx context.Context, tenantID, customerID, part string) error {
	return rt.customerCommand(ctx, tenantID, customerID, customerCmdChanged, []byte(part), nil)
}
