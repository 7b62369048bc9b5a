package actors

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/frontdesk-ai/frontdesk/actors/grainpb"
	"github.com/frontdesk-ai/frontdesk/dashboard/liveview"
	"github.com/frontdesk-ai/frontdesk/events"
	"github.com/frontdesk-ai/frontdesk/persistence"
)

// Pending confirmations. An action that must not happen on the model's word
// (a refund, a payment) is proposed to the customer's grain, which holds it
// pending until the customer's own answer resolves it: yes → confirmed and
// executed once (the action's idempotency key is the confirmation id, so a
// re-execution after a crash repeats no effect), no → declined, no answer
// before ExpiresAt → expired by the grain's durable reminder (it fires after
// passivation and restarts). Every transition is a version-checked write
// with an audit event.

// Proposal is an action that waits for the customer's yes.
type Proposal struct {
	TenantID       string          `json:"tenant_id"`
	CustomerID     string          `json:"customer_id"`
	ConversationID string          `json:"conversation_id"`
	Action         string          `json:"action"`
	Arguments      json.RawMessage `json:"arguments,omitempty"`
	AmountMinor    int64           `json:"amount_minor"`
	Currency       string          `json:"currency,omitempty"`
	// TTL is how long the customer has to answer (default ConfirmationTTL).
	TTL time.Duration `json:"ttl,omitempty"`
	// IdempotencyKey makes a repeated proposal (a turn re-run) return the
	// first one.
	IdempotencyKey string `json:"idempotency_key,omitempty"`
	// ApprovalReason, when set, makes the customer's yes wait for a
	// supervisor's approval (Runtime.Decide).
	ApprovalReason string `json:"approval_reason,omitempty"`
}

// Decision is a supervisor's decision on a confirmation awaiting approval.
type Decision struct {
	ConfirmationID string `json:"confirmation_id"`
	Approve        bool   `json:"approve"`
	UserID         string `json:"user_id"`
	Note           string `json:"note,omitempty"`
}

// Answer is the customer's answer to a pending confirmation, given in the
// conversation where it was asked.
type Answer struct {
	ConfirmationID string `json:"confirmation_id"`
	ConversationID string `json:"conversation_id"`
	Yes            bool   `json:"yes"`
}

// ActionFunc executes a confirmed action. It must be idempotent on the
// confirmation's ID (it can run again after a crash) and returns what it
// did, kept on the confirmation.
type ActionFunc func(ctx context.Context, c persistence.Confirmation) (json.RawMessage, error)

// Audit actions of confirmations.
const (
	ActionConfirmationProposed  = "confirmation.proposed"
	ActionConfirmationConfirmed = "confirmation.confirmed"
	ActionConfirmationDeclined  = "confirmation.declined"
	ActionConfirmationExpired   = "confirmation.expired"
	ActionConfirmationExecuted  = "confirmation.executed"
	ActionConfirmationFailed    = "confirmation.execution_failed"
	// ActionConfirmationCancelled: a human took the conversation over, or
	// a newer proposal for the same order replaced it (declined, with the
	// reason).
	ActionConfirmationCancelled = "confirmation.cancelled"
	// The customer's yes to an action above the policy, and a supervisor's
	// decision on it.
	ActionConfirmationAwaitingApproval = "confirmation.awaiting_approval"
	ActionConfirmationApproved         = "confirmation.approved"
	ActionConfirmationRejected         = "confirmation.rejected"
)

var currencyRE = regexp.MustCompile(`^[A-Z]{3}$`)

// ProposeConfirmation holds p pending in its customer's grain and returns it.
func (rt *Runtime) ProposeConfirmation(ctx context.Context, p Proposal) (persistence.Confirmation, error) {
	payload, err := json.Marshal(p)
	if err != nil {
		return persistence.Confirmation{}, err
	}
	var c persistence.Confirmation
	err = rt.customerCommand(ctx, p.TenantID, p.CustomerID, customerCmdPropose, payload, &c)
	return c, err
}

// ResolveConfirmation applies the customer's answer and returns the
// confirmation as it then stands (confirmed, declined or expired; executed
// follows once the action ran).
func (rt *Runtime) ResolveConfirmation(ctx context.Context, tenantID, customerID string, a Answer) (persistence.Confirmation, error) {
	payload, err := json.Marshal(a)
	if err != nil {
		return persistence.Confirmation{}, err
	}
	var c persistence.Confirmation
	err = rt.customerCommand(ctx, tenantID, customerID, customerCmdResolve, payload, &c)
	return c, err
}

// Confirmations lists the customer's confirmations that are not final
// (pending, or confirmed and not yet executed).
func (rt *Runtime) Confirmations(ctx context.Context, tenantID, customerID string) ([]persistence.Confirmation, error) {
	var cs []persistence.Confirmation
	err := rt.customerCommand(ctx, tenantID, customerID, customerCmdList, nil, &cs)
	return cs, err
}

func reminderName(confirmationID string) string { return "confirmation:" + confirmationID }

// executeReminder names the reminder that retries a confirmed action whose
// execution failed.
func executeReminder(confirmationID string) string { return "execute:" + confirmationID }

// maxExecutions bounds the executions of one confirmed action (default
// backoff: 10 s, 20 s, 40 s, 80 s between them).
const maxExecutions = 5

// executedMsg carries an action's outcome back to the customer grain.
type executedMsg struct {
	id     string
	result json.RawMessage
	err    error
}

// confirmation runs propose, resolve and executed on the customer grain.
func (g *customerGrain) confirmation(ctx actor.Context, m *grainpb.Command, reply func(any, error)) {
	var change func(ctx context.Context, tx Tx, d *customerData) (persistence.Confirmation, error)
	switch m.Kind {
	case customerCmdPropose:
		var p Proposal
		if err := json.Unmarshal(m.Payload, &p); err != nil {
			reply(nil, invalid("malformed proposal: "+err.Error()))
			return
		}
		if err := g.rt.checkProposal(&p); err != nil {
			reply(nil, err)
			return
		}
		change = func(ctx context.Context, tx Tx, d *customerData) (persistence.Confirmation, error) {
			return g.propose(ctx, tx, d, p)
		}
	case customerCmdResolve:
		var a Answer
		if err := json.Unmarshal(m.Payload, &a); err != nil {
			reply(nil, invalid("malformed answer: "+err.Error()))
			return
		}
		change = func(ctx context.Context, tx Tx, d *customerData) (persistence.Confirmation, error) {
			return g.resolve(ctx, tx, d, a)
		}
	case customerCmdCancel:
		var cc struct {
			ConversationID string `json:"conversation_id"`
			Reason         string `json:"reason"`
		}
		if err := json.Unmarshal(m.Payload, &cc); err != nil || cc.ConversationID == "" {
			reply(nil, invalid("malformed cancel"))
			return
		}
		change = func(ctx context.Context, tx Tx, d *customerData) (persistence.Confirmation, error) {
			return g.cancelPending(ctx, tx, d, func(c persistence.Confirmation) bool { return c.ConversationID == cc.ConversationID }, cc.Reason)
		}
	case customerCmdDecide:
		var dec Decision
		if err := json.Unmarshal(m.Payload, &dec); err != nil || dec.UserID == "" {
			reply(nil, invalid("malformed decision"))
			return
		}
		change = func(ctx context.Context, tx Tx, d *customerData) (persistence.Confirmation, error) {
			return g.decide(ctx, tx, d, dec)
		}
	case customerCmdExecuted:
		var e struct {
			ID     string          `json:"id"`
			Result json.RawMessage `json:"result"`
			Error  string          `json:"error"`
		}
		if err := json.Unmarshal(m.Payload, &e); err != nil {
			reply(nil, invalid(err.Error()))
			return
		}
		change = func(ctx context.Context, tx Tx, d *customerData) (persistence.Confirmation, error) {
			return g.executed(ctx, tx, d, e.ID, e.Result, e.Error)
		}
	}
	// Only the customer's yes starts the action; recording its outcome
	// does not run it again (a failure is retried by its reminder).
	g.transition(ctx, change, reply, m.Kind == customerCmdResolve || m.Kind == customerCmdDecide)
}

// transition runs change in the job lane and, when execute is set and the
// result is confirmed, executes its action off the grain.
func (g *customerGrain) transition(ctx actor.Context, change func(ctx context.Context, tx Tx, d *customerData) (persistence.Confirmation, error), reply func(any, error), execute bool) {
	type done struct {
		d   customerData
		c   persistence.Confirmation
		err error
	}
	g.jobs.add(ctx, job{
		run: func(jctx context.Context) any {
			var c persistence.Confirmation
			d, err := g.write(jctx, g.d, func(tx Tx, d *customerData) error {
				var err error
				c, err = change(jctx, tx, d)
				return err
			})
			return done{d: d, c: c, err: err}
		},
		finish: func(ctx actor.Context, res any) {
			r := res.(done)
			if r.err != nil {
				var expired errExpired
				if errors.As(r.err, &expired) {
					// The answer came too late: expire it now.
					g.expire(ctx, expired.id)
					reply(nil, invalid(expired.Error()))
					return
				}
				g.log().Warn().Err(r.err).Msg("confirmation not changed")
				reply(nil, r.err)
				return
			}
			g.d = r.d
			g.armExpiry(ctx, r.c)
			g.tellOutcome(ctx, r.c)
			g.count(r.c)
			g.rt.notify(g.tenant)
			if execute && r.c.State == persistence.ConfirmationConfirmed {
				g.execute(ctx, r.c)
			}
			reply(r.c, nil)
		},
	})
}

// checkProposal validates p and fills its defaults.
func (rt *Runtime) checkProposal(p *Proposal) error {
	p.Currency = strings.ToUpper(strings.TrimSpace(p.Currency))
	switch {
	case p.ConversationID == "":
		return invalid("proposal: conversation_id is required")
	case rt.actions[p.Action] == nil:
		return invalid(fmt.Sprintf("proposal: unknown action %q", p.Action))
	case p.AmountMinor < 0:
		return invalid("proposal: amount_minor must not be negative")
	case p.AmountMinor > 0 && !currencyRE.MatchString(p.Currency):
		return invalid(fmt.Sprintf("proposal: currency %q is not an ISO 4217 code", p.Currency))
	case len(p.Arguments) > 0 && !json.Valid(p.Arguments):
		return invalid("proposal: arguments are not valid JSON")
	case p.TTL < 0:
		return invalid("proposal: ttl must not be negative")
	}
	if p.TTL == 0 {
		p.TTL = rt.cfg.ConfirmationTTL
	}
	return nil
}

func (g *customerGrain) propose(ctx context.Context, tx Tx, d *customerData, p Proposal) (persistence.Confirmation, error) {
	if p.IdempotencyKey != "" {
		for _, c := range d.confirms {
			if c.IdempotencyKey == p.IdempotencyKey {
				return c, nil
			}
		}
		if c, err := tx.GetConfirmationByIdempotencyKey(ctx, g.tenant, p.IdempotencyKey); err == nil {
			return c, nil
		} else if !errors.Is(err, persistence.ErrNotFound) {
			return c, err
		}
	}
	// A newer proposal of the same action on the same order replaces a
	// pending one.
	if order := orderOf(p.Arguments); order != "" {
		if _, err := g.cancelPending(ctx, tx, d, func(c persistence.Confirmation) bool {
			return c.Action == p.Action && orderOf(c.Arguments) == order
		}, "replaced by a newer proposal"); err != nil {
			return persistence.Confirmation{}, err
		}
	}
	now := g.rt.clock.Now().UTC()
	c := persistence.Confirmation{Base: persistence.Base{TenantID: g.tenant}, CustomerID: g.id, ConversationID: p.ConversationID,
		Action: p.Action, Arguments: p.Arguments, AmountMinor: p.AmountMinor, Currency: p.Currency,
		State: persistence.ConfirmationPending, ExpiresAt: now.Add(p.TTL), IdempotencyKey: p.IdempotencyKey}
	if p.ApprovalReason != "" {
		c.Metadata, _ = json.Marshal(map[string]string{"approval_reason": p.ApprovalReason})
	}
	if err := tx.CreateConfirmation(ctx, &c); err != nil {
		return c, err
	}
	if err := tx.SaveReminder(ctx, persistence.Reminder{TenantID: g.tenant, Kind: KindCustomer, Identity: g.identity,
		Name: reminderName(c.ID), DueAt: c.ExpiresAt}); err != nil {
		return c, err
	}
	if err := g.auditConfirmation(ctx, tx, persistence.ActorAI, ActionConfirmationProposed, c, nil); err != nil {
		return c, err
	}
	if err := g.publishConfirmation(ctx, tx, c); err != nil {
		return c, err
	}
	*d = d.apply(evConfirmation{C: c})
	return c, nil
}

// errExpired answers an answer given after the confirmation expired.
type errExpired struct{ id string }

func (e errExpired) Error() string { return "confirmation " + e.id + " expired before the answer" }

func (g *customerGrain) resolve(ctx context.Context, tx Tx, d *customerData, a Answer) (persistence.Confirmation, error) {
	i := d.find(a.ConfirmationID)
	if i < 0 {
		return persistence.Confirmation{}, &CommandError{Code: CodeNotFound, Message: "no pending confirmation " + a.ConfirmationID}
	}
	c := d.confirms[i]
	switch {
	case c.State != persistence.ConfirmationPending:
		return c, invalid(fmt.Sprintf("confirmation %s is %s, not pending", c.ID, c.State))
	case a.ConversationID != c.ConversationID:
		return c, invalid("the answer must come from the conversation the confirmation was asked in")
	case !g.rt.clock.Now().Before(c.ExpiresAt):
		return c, errExpired{c.ID}
	}
	now := g.rt.clock.Now().UTC()
	c.ResolvedAt = &now
	action := ActionConfirmationDeclined
	c.State = persistence.ConfirmationDeclined
	switch {
	case a.Yes && approvalReason(c) != "":
		c.State, action = persistence.ConfirmationAwaitingApproval, ActionConfirmationAwaitingApproval
	case a.Yes:
		c.State, action = persistence.ConfirmationConfirmed, ActionConfirmationConfirmed
	}
	if err := g.settle(ctx, tx, d, c, action, nil); err != nil {
		return c, err
	}
	return c, g.armExecution(ctx, tx, c)
}

// armExecution saves, for a confirmed action about to run, a durable
// reminder that runs it again should this member die before its outcome is
// recorded (the action is keyed by the confirmation id: a second run finds
// the first one's effect). Recording the outcome deletes or moves it.
func (g *customerGrain) armExecution(ctx context.Context, tx Tx, c persistence.Confirmation) error {
	if c.State != persistence.ConfirmationConfirmed {
		return nil
	}
	due := g.rt.clock.Now().UTC().Add(max(2*g.rt.cfg.TurnTimeout, time.Minute))
	return tx.SaveReminder(ctx, persistence.Reminder{TenantID: g.tenant, Kind: KindCustomer, Identity: g.identity,
		Name: executeReminder(c.ID), DueAt: due})
}

// settle writes c (version-checked) with its audit event, drops its
// reminder when c is final, and keeps d's list to what is not final.
func (g *customerGrain) settle(ctx context.Context, tx Tx, d *customerData, c persistence.Confirmation, action string, data map[string]any) error {
	if err := tx.UpdateConfirmation(ctx, &c); err != nil {
		return err
	}
	if err := g.publishConfirmation(ctx, tx, c); err != nil {
		return err
	}
	if c.State.Final() {
		for _, name := range []string{reminderName(c.ID), executeReminder(c.ID)} {
			if err := tx.DeleteReminder(ctx, KindCustomer, g.identity, name); err != nil {
				return err
			}
		}
	}
	kind := persistence.ActorSystem
	switch action {
	case ActionConfirmationConfirmed, ActionConfirmationDeclined, ActionConfirmationAwaitingApproval:
		kind = "customer"
	case ActionConfirmationApproved, ActionConfirmationRejected:
		kind = persistence.ActorUser
	}
	if err := g.auditConfirmation(ctx, tx, kind, action, c, data); err != nil {
		return err
	}
	*d = d.apply(evConfirmation{C: c})
	return nil
}

func (g *customerGrain) executed(ctx context.Context, tx Tx, d *customerData, id string, result json.RawMessage, failure string) (persistence.Confirmation, error) {
	i := d.find(id)
	if i < 0 || d.confirms[i].State != persistence.ConfirmationConfirmed {
		return persistence.Confirmation{}, &CommandError{Code: CodeNotFound, Message: "no confirmed confirmation " + id}
	}
	c := d.confirms[i]
	meta := map[string]any{}
	_ = json.Unmarshal(c.Metadata, &meta)
	if failure != "" {
		// Retried later with backoff, by a durable reminder (the action is
		// idempotent on the confirmation id); after maxExecutions it waits
		// for a person (the audit trail has every failure).
		n, _ := meta["failed_executions"].(float64)
		meta["last_error"], meta["failed_executions"] = failure, n+1
		raw, _ := json.Marshal(meta)
		c.Metadata = raw
		if int(n)+1 < maxExecutions {
			due := g.rt.clock.Now().UTC().Add(backoff(int(n)+1, g.rt.cfg.RetryBackoff*10, g.rt.cfg.MaxRetryBackoff*10))
			if err := tx.SaveReminder(ctx, persistence.Reminder{TenantID: g.tenant, Kind: KindCustomer, Identity: g.identity,
				Name: executeReminder(c.ID), DueAt: due}); err != nil {
				return c, err
			}
		}
		return c, g.settle(ctx, tx, d, c, ActionConfirmationFailed, map[string]any{"error": failure, "attempt": n + 1})
	}
	if len(result) > 0 {
		meta["result"] = json.RawMessage(result)
	}
	delete(meta, "last_error")
	raw, _ := json.Marshal(meta)
	c.Metadata, c.State = raw, persistence.ConfirmationExecuted
	return c, g.settle(ctx, tx, d, c, ActionConfirmationExecuted, nil)
}

// decide applies a supervisor's decision on a confirmation awaiting
// approval: approved → confirmed (then executed), rejected → declined.
func (g *customerGrain) decide(ctx context.Context, tx Tx, d *customerData, dec Decision) (persistence.Confirmation, error) {
	i := d.find(dec.ConfirmationID)
	if i < 0 || d.confirms[i].State != persistence.ConfirmationAwaitingApproval {
		return persistence.Confirmation{}, invalid("confirmation " + dec.ConfirmationID + " is not awaiting approval")
	}
	c := d.confirms[i]
	meta := map[string]any{}
	_ = json.Unmarshal(c.Metadata, &meta)
	meta["decided_by"], meta["decision_note"] = dec.UserID, dec.Note
	action := ActionConfirmationRejected
	c.State = persistence.ConfirmationDeclined
	if dec.Approve {
		c.State, action = persistence.ConfirmationConfirmed, ActionConfirmationApproved
	} else {
		meta["rejected"] = true
	}
	c.Metadata, _ = json.Marshal(meta)
	if err := g.settle(ctx, tx, d, c, action, map[string]any{"note": dec.Note, "by": dec.UserID}); err != nil {
		return c, err
	}
	return c, g.armExecution(ctx, tx, c)
}

// count records c's new state in the metrics: the step, the customer's
// time to answer, the money an executed action moved.
func (g *customerGrain) count(c persistence.Confirmation) {
	if c.ID == "" {
		return
	}
	m := g.rt.metrics
	meta := map[string]any{}
	_ = json.Unmarshal(c.Metadata, &meta)
	step := string(c.State)
	if _, failed := meta["last_error"]; failed && c.State == persistence.ConfirmationConfirmed {
		step = "execution_failed"
	}
	m.confirmations.WithLabelValues(c.Action, step).Inc()
	_, decided := meta["decided_by"]
	switch c.State {
	case persistence.ConfirmationConfirmed, persistence.ConfirmationDeclined, persistence.ConfirmationAwaitingApproval:
		if c.ResolvedAt != nil && !decided && step != "execution_failed" {
			m.answerTime.WithLabelValues(c.Action).Observe(c.ResolvedAt.Sub(c.CreatedAt).Seconds())
		}
	case persistence.ConfirmationExecuted:
		m.executedMinor.WithLabelValues(c.Action, c.Currency).Add(float64(c.AmountMinor))
	}
}

// publishConfirmation queues c's live event on its conversation's stream.
func (g *customerGrain) publishConfirmation(ctx context.Context, tx Tx, c persistence.Confirmation) error {
	data, err := json.Marshal(liveview.NewConfirmation(c))
	if err != nil {
		return err
	}
	return tx.AppendLiveEvents(ctx, []*persistence.LiveEvent{{TenantID: g.tenant, Type: persistence.LiveConfirmationUpdated,
		ConversationID: c.ConversationID, Data: data}})
}

// approvalReason is why c waits for a supervisor after the customer's yes.
func approvalReason(c persistence.Confirmation) string {
	var meta struct {
		Reason string `json:"approval_reason"`
	}
	_ = json.Unmarshal(c.Metadata, &meta)
	return meta.Reason
}

// Decide applies a supervisor's decision on a confirmation awaiting
// approval and returns it as it then stands.
func (rt *Runtime) Decide(ctx context.Context, tenantID, customerID string, dec Decision) (persistence.Confirmation, error) {
	payload, err := json.Marshal(dec)
	if err != nil {
		return persistence.Confirmation{}, err
	}
	var c persistence.Confirmation
	err = rt.customerCommand(ctx, tenantID, customerID, customerCmdDecide, payload, &c)
	return c, err
}

// cancelPending declines the pending confirmations that match, with the
// reason, and returns the last one.
func (g *customerGrain) cancelPending(ctx context.Context, tx Tx, d *customerData, match func(persistence.Confirmation) bool, reason string) (persistence.Confirmation, error) {
	var last persistence.Confirmation
	for _, c := range slices.Clone(d.confirms) {
		if c.State != persistence.ConfirmationPending || !match(c) {
			continue
		}
		now := g.rt.clock.Now().UTC()
		c.State, c.ResolvedAt = persistence.ConfirmationDeclined, &now
		if err := g.settle(ctx, tx, d, c, ActionConfirmationCancelled, map[string]any{"reason": reason}); err != nil {
			return c, err
		}
		last = c
	}
	return last, nil
}

// orderOf is the order a confirmation's arguments name, if any.
func orderOf(args json.RawMessage) string {
	var a struct {
		OrderID string `json:"order_id"`
	}
	_ = json.Unmarshal(args, &a)
	return a.OrderID
}

// CancelConfirmations cancels what is pending in conversationID (a human
// took it over).
func (rt *Runtime) CancelConfirmations(ctx context.Context, tenantID, customerID, conversationID, reason string) error {
	payload, err := json.Marshal(map[string]string{"conversation_id": conversationID, "reason": reason})
	if err != nil {
		return err
	}
	return rt.customerCommand(ctx, tenantID, customerID, customerCmdCancel, payload, nil)
}

func (d customerData) find(id string) int {
	for i, c := range d.confirms {
		if c.ID == id {
			return i
		}
	}
	return -1
}

func (g *customerGrain) auditConfirmation(ctx context.Context, tx Tx, actorKind, action string, c persistence.Confirmation, extra map[string]any) error {
	data := map[string]any{"action": c.Action, "amount_minor": c.AmountMinor, "currency": c.Currency, "state": c.State,
		"conversation_id": c.ConversationID, "expires_at": c.ExpiresAt}
	for k, v := range extra {
		data[k] = v
	}
	raw, err := json.Marshal(data)
	if err != nil {
		return err
	}
	actorID := g.id
	switch actorKind {
	case persistence.ActorAI, persistence.ActorSystem:
		actorID = "customer-grain"
	case persistence.ActorUser:
		actorID, _ = extra["by"].(string)
	}
	if err := tx.CreateAuditEvent(ctx, &persistence.AuditEvent{Base: persistence.Base{TenantID: g.tenant}, ActorKind: actorKind,
		ActorID: actorID, Action: action, TargetKind: "confirmation", TargetID: c.ID, Data: raw}); err != nil {
		return err
	}
	// The same step on the decisions topic: replayable with the log.
	env, err := events.New(events.TypeConfirmationStep, events.Version(events.TypeConfirmationStep), g.tenant, g.identity,
		g.rt.clock.Now(), events.ConfirmationStep{ConfirmationID: c.ID, CustomerID: c.CustomerID, ConversationID: c.ConversationID,
			Action: c.Action, Step: action, State: string(c.State), AmountMinor: c.AmountMinor, Currency: c.Currency,
			ActorKind: actorKind, ActorID: actorID, Data: raw})
	if err != nil {
		return err
	}
	rec, err := env.Record(persistence.TopicDecisions)
	if err != nil {
		return err
	}
	_, err = tx.AppendLog(ctx, rec)
	return err
}

// execute runs a confirmed action off the grain and records its outcome
// through the grain.
func (g *customerGrain) execute(ctx actor.Context, c persistence.Confirmation) {
	run := g.rt.actions[c.Action]
	self, root := ctx.Self(), ctx.ActorSystem().Root
	g.rt.inflight.Add(1)
	go func() {
		defer g.rt.inflight.Done()
		ectx, cancel := context.WithTimeout(context.Background(), g.rt.cfg.TurnTimeout)
		defer cancel()
		var res json.RawMessage
		err := fmt.Errorf("no executor for action %q", c.Action)
		if run != nil {
			res, err = run(ectx, c)
		}
		e := map[string]any{"id": c.ID, "result": res}
		if err != nil {
			e["error"] = err.Error()
		}
		payload, _ := json.Marshal(e)
		root.RequestWithCustomSender(self, &grainpb.Command{Kind: customerCmdExecuted, Payload: payload}, self)
	}()
}

// armExpiry sets the in-memory timer of a pending confirmation; the durable
// reminder covers the grain's absence.
func (g *customerGrain) armExpiry(ctx actor.Context, c persistence.Confirmation) {
	name := reminderName(c.ID)
	if stop, ok := g.timers[name]; ok {
		stop()
		delete(g.timers, name)
	}
	switch c.State {
	case persistence.ConfirmationPending:
		self, root := ctx.Self(), ctx.ActorSystem().Root
		t := g.rt.clock.AfterFunc(c.ExpiresAt.Sub(g.rt.clock.Now()), func() {
			root.Send(self, &grainpb.Remind{Name: name})
		})
		g.timers[name] = t.Stop
	}
}

// remind handles a due reminder (from the in-memory timer or the durable
// reminder runner).
func (g *customerGrain) remind(ctx actor.Context, m *grainpb.Remind, sender *actor.PID) {
	if id, ok := strings.CutPrefix(m.Name, "confirmation:"); ok {
		g.expire(ctx, id)
	} else if id, ok := strings.CutPrefix(m.Name, "execute:"); ok {
		g.retryExecution(ctx, id)
	} else {
		g.log().Warn().Str("reminder", m.Name).Msg("unknown reminder")
	}
	if sender != nil {
		ctx.Send(sender, &grainpb.Reply{})
	}
}

// retryExecution runs a confirmed action again whose execution failed, and
// drops a retry reminder whose confirmation is no longer confirmed.
func (g *customerGrain) retryExecution(ctx actor.Context, id string) {
	if i := g.d.find(id); i >= 0 && g.d.confirms[i].State == persistence.ConfirmationConfirmed {
		g.execute(ctx, g.d.confirms[i])
		return
	}
	g.jobs.add(ctx, job{
		run: func(jctx context.Context) any {
			return g.rt.store.InTx(jctx, func(tx Tx) error { return tx.DeleteReminder(jctx, KindCustomer, g.identity, executeReminder(id)) })
		},
		finish: func(actor.Context, any) {},
	})
}

// expire expires confirmation id when it is still pending past its expiry,
// and drops a reminder that outlived its confirmation.
func (g *customerGrain) expire(ctx actor.Context, id string) {
	g.transition(ctx, func(jctx context.Context, tx Tx, d *customerData) (persistence.Confirmation, error) {
		i := d.find(id)
		if i < 0 {
			// Resolved already (or another activation expired it).
			return persistence.Confirmation{}, tx.DeleteReminder(jctx, KindCustomer, g.identity, reminderName(id))
		}
		c := d.confirms[i]
		if c.State != persistence.ConfirmationPending {
			return c, nil
		}
		if g.rt.clock.Now().Before(c.ExpiresAt) {
			return c, nil // early: the timer is armed again
		}
		now := g.rt.clock.Now().UTC()
		c.State, c.ResolvedAt = persistence.ConfirmationExpired, &now
		return c, g.settle(jctx, tx, d, c, ActionConfirmationExpired, nil)
	}, func(any, error) {}, false)
}
