package commerce

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestRetryAfter(t *testing.T) {
	for h, want := range map[string]time.Duration{
		"2": 2 * time.Second, "2.0": 2 * time.Second, " 0.5 ": 500 * time.Millisecond,
		"": 0, "0": 0, "-1": 0, "soon": 0, "Wed, 21 Oct 2015 07:28:00 GMT": 0, "NaN": 0, "1e9": 10 * time.Minute,
	} {
		if got := RetryAfter(h); got != want {
			t.Errorf("RetryAfter(%q) = %v, want %v", h, got, want)
		}
	}
}

func TestBackoff(t *testing.T) {
	want := []time.Duration{500 * time.Millisecond, time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 16 * time.Second, 30 * time.Second, 30 * time.Second}
	for i, w := range want {
		if got := Backoff(i); got != w {
			t.Errorf("Backoff(%d) = %v, want %v", i, got, w)
		}
	}
	if Backoff(100) != maxBackoff {
		t.Error("Backoff(100) overflowed")
	}
}

func TestRetry(t *testing.T) {
	var waits []time.Duration
	sleep := func(_ context.Context, d time.Duration) error { waits = append(waits, d); return nil }
	tries := 0
	err := Retry(context.Background(), 5, sleep, func() error {
		tries++
		switch tries {
		case 1:
			return &RetryError{Err: errors.New("429"), Wait: 3 * time.Second}
		case 2:
			return &RetryError{Err: errors.New("503")}
		}
		return nil
	})
	if err != nil || tries != 3 || len(waits) != 2 || waits[0] != 3*time.Second || waits[1] != Backoff(1) {
		t.Fatalf("err %v, tries %d, waits %v", err, tries, waits)
	}
	permanent := errors.New("401")
	if err := Retry(context.Background(), 5, sleep, func() error { return permanent }); !errors.Is(err, permanent) {
		t.Fatalf("permanent: %v", err)
	}
	tries = 0
	err = Retry(context.Background(), 2, sleep, func() error { tries++; return &RetryError{Err: errors.New("503")} })
	if err == nil || tries != 3 {
		t.Fatalf("giving up: %v after %d tries", err, tries)
	}
}
