package channels

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"

	"github.com/frontdesk-ai/frontdesk/dashboard/liveview"
	"github.com/frontdesk-ai/frontdesk/persistence"
)

// outcome is what one send came to, waiting to be recorded: sent with the
// provider's id, or failed with a reason and the dead letter of its record.
type outcome struct {
	tenantID, messageID string
	providerID          string             // sent when set
	reason              string             // failed otherwise
	dead                persistence.Record // the failed send's dead letter

	// Set by the write.
	msg     persistence.Message
	changed bool
	err     error

	done chan error    // the result, once the outcome's transaction ended
	lead chan struct{} // this waiter is to write the next batch
}

// recorder writes outcomes by group commit. A handler with an outcome
// queues it; when no write is under way it writes the queue itself (it
// leads), otherwise it waits. A leader writes what was queued when it
// started, in one transaction, answers every outcome of that batch, then
// hands the lead to the first outcome queued meanwhile, which writes the
// next batch. So nothing waits to fill a batch, a handler waits for at most
// the transaction under way and its own, and the batch is bounded by the
// handlers running at once (SenderConfig.Parallel).
//
// Lock order: mu guards queue and leading only; it is never held during a
// write or while waiting.
type recorder struct {
	mu      sync.Mutex
	queue   []*outcome
	leading bool
}

// record queues o and returns once o's transaction has ended: nil when o is
// durable. write writes one batch and sets each outcome's err. The write
// runs without ctx's cancellation: the sends it records happened.
func (r *recorder) record(ctx context.Context, write func(ctx context.Context, batch []*outcome), o *outcome) error {
	o.done, o.lead = make(chan error, 1), make(chan struct{}, 1)
	r.mu.Lock()
	r.queue = append(r.queue, o)
	if r.leading {
		r.mu.Unlock()
		select {
		case err := <-o.done:
			return err
		case <-o.lead: // o is still queued: its batch is next
		}
		r.mu.Lock()
	}
	r.leading = true
	batch := r.queue
	r.queue = nil
	r.mu.Unlock()

	write(context.WithoutCancel(ctx), batch)
	for _, b := range batch {
		b.done <- b.err
	}

	r.mu.Lock()
	if len(r.queue) > 0 {
		r.queue[0].lead <- struct{}{}
	} else {
		r.leading = false
	}
	r.mu.Unlock()
	return <-o.done
}

// queued returns how many outcomes wait for the next batch (tests).
func (r *recorder) queued() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.queue)
}

// writeOutcomes writes batch in one transaction. When that fails and the
// batch has more than one outcome, each is written again in its own
// transaction, so one outcome that cannot be written (on PostgreSQL a failed
// statement aborts the whole transaction) fails only itself. The hub is
// woken for each tenant whose live stream grew.
func (s *Sender) writeOutcomes(ctx context.Context, batch []*outcome) {
	err := s.store.InTx(ctx, func(tx SenderTx) error { return writeOutcomesTx(ctx, tx, batch) })
	for _, o := range batch {
		o.err = err
	}
	if err != nil && len(batch) > 1 {
		for _, o := range batch {
			o.err = s.store.InTx(ctx, func(tx SenderTx) error { return writeOutcomesTx(ctx, tx, []*outcome{o}) })
		}
	}
	woken := map[string]bool{}
	for _, o := range batch {
		if o.err == nil && o.changed && !woken[o.tenantID] {
			woken[o.tenantID] = true
			s.cfg.Notify(o.tenantID)
		}
	}
}

// writeOutcomesTx writes the outcomes in tx: the messages in (tenant,
// message) order, so that two batches lock rows in one order; then the dead
// letters; then the live events, last, because each holds its tenant's live
// stream until commit (see sqlstore's live.go).
func writeOutcomesTx(ctx context.Context, tx SenderTx, batch []*outcome) error {
	batch = slices.Clone(batch)
	slices.SortFunc(batch, func(a, b *outcome) int {
		return cmp.Or(cmp.Compare(a.tenantID, b.tenantID), cmp.Compare(a.messageID, b.messageID))
	})
	var dead []persistence.Record
	for _, o := range batch {
		o.msg, o.changed = persistence.Message{}, false
		var err error
		if o.providerID != "" {
			o.msg, err = tx.RecordMessageSent(ctx, o.tenantID, o.messageID, o.providerID)
			o.changed = err == nil
		} else {
			o.msg, o.changed, err = tx.FailMessageSend(ctx, o.tenantID, o.messageID, o.reason)
			dead = append(dead, o.dead)
		}
		if err != nil {
			return err
		}
	}
	if len(dead) > 0 {
		if _, err := tx.AppendLog(ctx, dead...); err != nil {
			return fmt.Errorf("dead-letter failed sends: %w", err)
		}
	}
	for _, o := range batch {
		if !o.changed {
			continue
		}
		data, err := json.Marshal(liveview.NewMessage(o.msg))
		if err != nil {
			return fmt.Errorf("live event of message %s: %w", o.messageID, err)
		}
		if err := tx.AppendLiveEvent(ctx, &persistence.LiveEvent{TenantID: o.tenantID, Type: persistence.LiveMessageStatus,
			ConversationID: o.msg.ConversationID, Data: data}); err != nil {
			return err
		}
	}
	return nil
}
