package actors

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/frontdesk-ai/frontdesk/clock"
)

// idleTimer passivates a grain that received nothing for IdleTimeout, on
// the runtime's clock (protoactor's receive timeout runs on the wall clock,
// which tests cannot drive). Used only from the grain's receive loop.
type idleTimer struct {
	last  time.Time
	timer clock.Timer
}

// idleCheck asks a grain whether it has been idle long enough to stop.
type idleCheck struct{}

// touch records activity.
func (i *idleTimer) touch(c clock.Clock) { i.last = c.Now() }

// due reports whether the grain has been idle for d.
func (i *idleTimer) due(c clock.Clock, d time.Duration) bool { return c.Now().Sub(i.last) >= d }

// arm schedules the next idle check for when d will have passed since the
// last activity.
func (i *idleTimer) arm(ctx actor.Context, c clock.Clock, d time.Duration) {
	i.stop()
	wait := d - c.Now().Sub(i.last)
	if wait <= 0 {
		// Busy at the deadline: look again a little later.
		wait = d / 4
	}
	self, root := ctx.Self(), ctx.ActorSystem().Root
	i.timer = c.AfterFunc(wait, func() { root.Send(self, &idleCheck{}) })
}

func (i *idleTimer) stop() {
	if i.timer != nil {
		i.timer.Stop()
		i.timer = nil
	}
}

// redactKey returns a grain identity fit for logs: the external user id
// (a phone number on some channels) is replaced by a short hash.
func redactKey(identity string) string {
	i := strings.LastIndexByte(identity, '/')
	if i < 0 {
		return identity
	}
	sum := sha256.Sum256([]byte(identity[i+1:]))
	return identity[:i+1] + "u-" + hex.EncodeToString(sum[:6])
}
