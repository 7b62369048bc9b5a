package consume

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/frontdesk-ai/frontdesk/persistence"
)

// Exclusive is implemented by subscriptions whose member owns every
// partition of its topic for as long as it is subscribed (the embedded log's
// only member): no rebalance can move a partition while its records are
// handled, so Run may poll again before the records of earlier polls are
// done (pipelined). Kafka's subscriptions allow rebalances only between
// batches and are consumed batch by batch.
type Exclusive interface {
	Exclusive() bool
}

// pipelineCommitEvery is how often a pipelined Run commits what is done
// while records keep arriving.
const pipelineCommitEvery = 20 * time.Millisecond

// pipeline hands records to handle as they are polled, without waiting for
// the batch before them: records of one key in order, at most parallel keys
// at once, at most maxInFlight records polled and not yet done. Per
// partition, the longest prefix of done records is committed.
//
// Concurrency: mu guards every field below it; workers wait on work, the
// poll loop on room.
type pipeline struct {
	handle      func(ctx context.Context, rec persistence.Record) bool
	ctx         context.Context // handlers' context (ends DrainTimeout after stop)
	parallel    int
	maxInFlight int

	mu       sync.Mutex
	work     *sync.Cond // a key became ready, or stopping
	room     *sync.Cond // records got done
	queues   map[string][]*entry
	busy     map[string]bool // keys a worker is handling
	ready    []string        // keys with queued records and no worker, in arrival order
	parts    map[int32][]*entry
	inFlight int
	gaveUp   bool // a handler reported it gave up (its context ended)
	stopping bool
	workers  sync.WaitGroup
}

type entry struct {
	rec  persistence.Record
	done bool
}

func newPipeline(ctx context.Context, parallel, maxInFlight int, handle func(ctx context.Context, rec persistence.Record) bool) *pipeline {
	p := &pipeline{handle: handle, ctx: ctx, parallel: parallel, maxInFlight: maxInFlight,
		queues: map[string][]*entry{}, busy: map[string]bool{}, parts: map[int32][]*entry{}}
	p.work = sync.NewCond(&p.mu)
	p.room = sync.NewCond(&p.mu)
	p.workers.Add(parallel)
	for range parallel {
		go p.worker()
	}
	return p
}

// add queues polled records.
func (p *pipeline) add(recs []persistence.Record) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, r := range recs {
		e := &entry{rec: r}
		p.parts[r.Partition] = append(p.parts[r.Partition], e)
		if len(p.queues[r.Key]) == 0 && !p.busy[r.Key] {
			p.ready = append(p.ready, r.Key)
		}
		p.queues[r.Key] = append(p.queues[r.Key], e)
		p.inFlight++
	}
	p.work.Broadcast()
}

// waitRoom blocks until fewer than maxInFlight records are in flight, or
// until d passed (so the caller can commit), or a handler gave up. It
// reports whether there is room.
func (p *pipeline) waitRoom(d time.Duration) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.inFlight < p.maxInFlight || p.gaveUp {
		return p.inFlight < p.maxInFlight
	}
	t := time.AfterFunc(d, func() { p.mu.Lock(); p.room.Broadcast(); p.mu.Unlock() })
	defer t.Stop()
	p.room.Wait()
	return p.inFlight < p.maxInFlight
}

// committable removes and returns, per partition, the last record of the
// longest prefix of done records.
func (p *pipeline) committable() (out []persistence.Record) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for part, es := range p.parts {
		n := 0
		for n < len(es) && es[n].done {
			n++
		}
		if n > 0 {
			out = append(out, es[n-1].rec) // committing the last commits those before it
			p.parts[part] = es[n:]
		}
	}
	return out
}

// hasGivenUp reports whether a handler gave up (its context ended).
func (p *pipeline) hasGivenUp() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.gaveUp
}

// stop lets the workers finish the records they hold (handlers see ctx's
// end) and waits for them; queued records they did not take stay undone.
func (p *pipeline) stop() {
	p.mu.Lock()
	p.stopping = true
	p.work.Broadcast()
	p.mu.Unlock()
	p.workers.Wait()
}

func (p *pipeline) worker() {
	defer p.workers.Done()
	p.mu.Lock()
	defer p.mu.Unlock()
	for {
		for len(p.ready) == 0 && !p.stopping {
			p.work.Wait()
		}
		if p.stopping {
			return
		}
		key := p.ready[0]
		p.ready = p.ready[1:]
		p.busy[key] = true
		for len(p.queues[key]) > 0 && !p.stopping && !p.gaveUp {
			e := p.queues[key][0]
			p.queues[key] = p.queues[key][1:]
			p.mu.Unlock()
			ok := p.handle(p.ctx, e.rec)
			p.mu.Lock()
			if !ok {
				// Only an ended context makes a handler give up: keep the
				// rest of the key (and so the partition) uncommitted.
				p.gaveUp = true
				p.room.Broadcast()
				break
			}
			e.done = true
			p.inFlight--
			p.room.Broadcast()
		}
		delete(p.busy, key)
		if len(p.queues[key]) == 0 {
			delete(p.queues, key)
		} else if !p.stopping && !p.gaveUp {
			p.ready = append(p.ready, key)
		}
	}
}

// runPipelined is Run for an exclusive subscription: it keeps polling while
// earlier records are handled, commits the done prefix of each partition
// every pipelineCommitEvery, and on stop lets what is in hand finish within
// DrainTimeout, commits, and returns.
func runPipelined(ctx context.Context, s persistence.Subscription, cfg Config, handle func(ctx context.Context, rec persistence.Record) bool, report func()) error {
	dctx, cancel := drainContext(ctx, cfg.DrainTimeout)
	defer cancel()
	maxInFlight := cfg.MaxInFlight
	if maxInFlight <= 0 {
		maxInFlight = 4 * cfg.Parallel
	}
	p := newPipeline(dctx, cfg.Parallel, maxInFlight, handle)
	bg := context.WithoutCancel(ctx)
	commit := func() {
		if done := p.committable(); len(done) > 0 {
			if err := s.Commit(bg, done); err != nil && cfg.Failed != nil {
				cfg.Failed(fmt.Errorf("commit %s/%s (records will be redelivered): %w", cfg.Group, cfg.Topic, err))
			}
		}
	}
	defer func() {
		p.stop()
		commit()
	}()
	last := time.Now()
	for ctx.Err() == nil && !p.hasGivenUp() {
		if !p.waitRoom(pipelineCommitEvery) {
			commit()
			continue
		}
		if time.Since(last) >= pipelineCommitEvery {
			commit()
			report()
			last = time.Now()
		}
		pending := p.uncommitted()
		pctx, pcancel := ctx, context.CancelFunc(func() {})
		if pending {
			// Come back to commit while records are handled.
			pctx, pcancel = context.WithTimeout(ctx, pipelineCommitEvery)
		}
		recs, err := s.Poll(pctx)
		timedOut := pctx.Err() != nil && ctx.Err() == nil
		pcancel()
		if ctx.Err() != nil {
			break
		}
		if err != nil && !timedOut {
			if cfg.Failed != nil {
				cfg.Failed(fmt.Errorf("poll %s/%s: %w", cfg.Group, cfg.Topic, err))
			}
			if !Sleep(ctx, time.Second) {
				break
			}
			continue
		}
		if len(recs) > 0 {
			p.add(recs)
		}
	}
	// Drain: what the workers hold finishes within DrainTimeout; what is
	// still queued stays uncommitted and is redelivered.
	for p.inFlightCount() > 0 && dctx.Err() == nil && !p.hasGivenUp() {
		commit()
		Sleep(dctx, pipelineCommitEvery)
	}
	return nil
}

// inFlightCount returns how many polled records are not done.
func (p *pipeline) inFlightCount() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.inFlight
}

// uncommitted reports whether polled records wait to be committed.
func (p *pipeline) uncommitted() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, es := range p.parts {
		if len(es) > 0 {
			return true
		}
	}
	return false
}
