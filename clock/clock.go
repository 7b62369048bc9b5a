// Package clock owns the runtime's notion of time: a Clock tells the time and
// runs functions after a delay. Code with timers (grain passivation, idle
// conversations, confirmation expiry, reminders) takes a Clock so tests drive
// time with clocktest.Fake instead of sleeping.
package clock

import "time"

// Clock tells the time and schedules functions.
type Clock interface {
	Now() time.Time
	// AfterFunc runs f on its own goroutine once d has passed.
	AfterFunc(d time.Duration, f func()) Timer
}

// Timer is a scheduled function; Stop cancels it and reports whether it
// had not run yet.
type Timer interface {
	Stop() bool
}

// Real returns the wall clock.
func Real() Clock { return realClock{} }

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

func (realClock) AfterFunc(d time.Duration, f func()) Timer { return time.AfterFunc(d, f) }
