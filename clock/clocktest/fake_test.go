package clocktest

import (
	"sync/atomic"
	"testing"
	"time"
)

func TestFakeRunsTimersWhenDueOnly(t *testing.T) {
	f := New(time.Unix(1000, 0))
	var ran atomic.Int32
	done := make(chan struct{}, 2)
	f.AfterFunc(time.Minute, func() { ran.Add(1); done <- struct{}{} })
	stopped := f.AfterFunc(2*time.Minute, func() { ran.Add(10); done <- struct{}{} })
	f.Advance(59 * time.Second)
	if f.Pending() != 2 {
		t.Fatalf("pending %d before the first is due, want 2", f.Pending())
	}
	f.Advance(time.Second)
	<-done
	if !stopped.Stop() {
		t.Fatal("Stop of a waiting timer returned false")
	}
	f.Advance(time.Hour)
	if got := ran.Load(); got != 1 {
		t.Fatalf("ran %d, want only the first timer (1)", got)
	}
	if got := f.Now(); !got.Equal(time.Unix(1000, 0).Add(time.Hour + time.Minute)) {
		t.Fatalf("now %s", got)
	}
}
