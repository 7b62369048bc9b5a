package actors

import (
	"context"
	"fmt"

	"github.com/frontdesk-ai/frontdesk/actors/grainpb"
)

// RunReminders fires grains' durable reminders until ctx ends: every
// ReminderPoll (on the runtime's clock) it lists the reminders that are due
// and calls each one's grain with grainpb.Remind, activating it if it was
// passivated or its member restarted. A grain deletes a reminder when it has
// handled it, so one that fails is fired again at the next poll; in cluster
// mode every member polls and the grain makes a second firing a no-op.
func (rt *Runtime) RunReminders(ctx context.Context) error {
	for {
		if err := rt.fireDueReminders(ctx); err != nil && ctx.Err() == nil {
			rt.metrics.errors.WithLabelValues("reminders").Inc()
			rt.log.Warn().Err(err).Msg("durable reminders")
		}
		tick := make(chan struct{})
		t := rt.clock.AfterFunc(rt.cfg.ReminderPoll, func() { close(tick) })
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-tick:
		}
	}
}

func (rt *Runtime) fireDueReminders(ctx context.Context) error {
	due, err := rt.store.ListDueReminders(ctx, rt.clock.Now(), 100)
	if err != nil {
		return fmt.Errorf("list due reminders: %w", err)
	}
	for _, r := range due {
		cctx, cancel := context.WithTimeout(ctx, rt.cfg.CallTimeout)
		_, err := rt.call(cctx, r.Kind, r.Identity, &grainpb.Remind{Name: r.Name, Payload: r.Payload})
		cancel()
		if err != nil {
			rt.metrics.errors.WithLabelValues("reminders").Inc()
			rt.log.Warn().Err(err).Str("kind", r.Kind).Str("reminder", r.Name).Msg("reminder not delivered; retried at the next poll")
		}
		rt.metrics.reminders.Inc()
	}
	return nil
}
