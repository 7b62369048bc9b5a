// Package clocktest provides a fake clock.Clock that tests advance by hand.
package clocktest

import (
	"sort"
	"sync"
	"time"

	"github.com/frontdesk-ai/frontdesk/clock"
)

// Fake is a clock that moves only when Advance or Set is called; timers
// whose time has come then run, each on its own goroutine, soonest first.
type Fake struct {
	mu     sync.Mutex
	now    time.Time
	timers []*timer
}

var _ clock.Clock = (*Fake)(nil)

// New returns a fake clock set to now.
func New(now time.Time) *Fake { return &Fake{now: now} }

// Now returns the fake time.
func (f *Fake) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

// AfterFunc schedules fn for d after the fake time.
func (f *Fake) AfterFunc(d time.Duration, fn func()) clock.Timer {
	f.mu.Lock()
	t := &timer{f: f, at: f.now.Add(d), fn: fn}
	f.timers = append(f.timers, t)
	f.mu.Unlock()
	if d <= 0 {
		f.Advance(0)
	}
	return t
}

// Advance moves the fake time forward by d and runs the timers now due.
func (f *Fake) Advance(d time.Duration) {
	f.mu.Lock()
	f.now = f.now.Add(d)
	due := f.dueLocked()
	f.mu.Unlock()
	for _, t := range due {
		go t.fn()
	}
}

// Set moves the fake time to t (never backwards) and runs what is due.
func (f *Fake) Set(t time.Time) {
	f.mu.Lock()
	d := t.Sub(f.now)
	f.mu.Unlock()
	if d > 0 {
		f.Advance(d)
	}
}

// Pending returns how many timers wait to run.
func (f *Fake) Pending() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.timers)
}

func (f *Fake) dueLocked() []*timer {
	sort.SliceStable(f.timers, func(i, j int) bool { return f.timers[i].at.Before(f.timers[j].at) })
	var due []*timer
	keep := f.timers[:0]
	for _, t := range f.timers {
		if !t.at.After(f.now) {
			due = append(due, t)
		} else {
			keep = append(keep, t)
		}
	}
	f.timers = keep
	return due
}

type timer struct {
	f  *Fake
	at time.Time
	fn func()
}

func (t *timer) Stop() bool {
	t.f.mu.Lock()
	defer t.f.mu.Unlock()
	for i, o := range t.f.timers {
		if o == t {
			t.f.timers = append(t.f.timers[:i], t.f.timers[i+1:]...)
			return true
		}
	}
	return false
}
