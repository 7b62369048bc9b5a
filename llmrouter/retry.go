package llmrouter

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// retrier repeats the attempts of one call to an LLM server: network
// failures, per-attempt timeouts, malformed answers, 408, 429 and 5xx are
// retried with jittered exponential backoff, honouring Retry-After, within
// the caller's deadline.
type retrier struct {
	timeout     time.Duration
	maxAttempts int
	backoffBase time.Duration
	// sleep waits d or until ctx ends; tests replace it.
	sleep func(ctx context.Context, d time.Duration) error
	// jitter returns a value in [0,1); tests replace it.
	jitter func() float64
}

// do calls attempt, each time with a context bounded by the attempt
// timeout, until it succeeds or retrying makes no sense. Its error, prefixed
// with name, is the *APIError of an answer not worth repeating (400, 422,
// …); wraps ErrBackendUnavailable when the server could not answer within
// the attempts or the caller's deadline, says it is misconfigured (401,
// 403, 404), was refused by the egress allow-list, or broke a stream
// after output reached the caller; and wraps the context's error when the
// caller gave up.
func (r *retrier) do(ctx context.Context, name string, attempt func(ctx context.Context) error) error {
	var last error
	attempts := 0
	for i := 0; i < r.maxAttempts; i++ {
		if i > 0 {
			wait, ok := r.retryWait(ctx, last, i-1)
			if !ok {
				break
			}
			if err := r.sleep(ctx, wait); err != nil {
				return fmt.Errorf("%s: waiting to retry: %w", name, err)
			}
		}
		attempts++
		err := r.once(ctx, attempt)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("%s: %w", name, ctx.Err())
		}
		var ae *APIError
		if errors.As(err, &ae) && !ae.Retryable() {
			if ae.misconfigured() {
				return fmt.Errorf("%s: %w: %w", name, ErrBackendUnavailable, ae)
			}
			return fmt.Errorf("%s: %w", name, ae)
		}
		if errors.Is(err, ErrEgressDenied) || errors.Is(err, errStreamBroken) {
			return fmt.Errorf("%s: %w: %w", name, ErrBackendUnavailable, err)
		}
		last = err
	}
	return fmt.Errorf("%s: %w after %d attempts: %w", name, ErrBackendUnavailable, attempts, last)
}

func (r *retrier) once(ctx context.Context, attempt func(ctx context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	return attempt(ctx)
}

// retryWait returns the wait before retry number retry (0 for the first)
// after err: the server's Retry-After, else jittered exponential backoff.
// It reports false when the wait would run past ctx's deadline or
// maxRetryWait, so that the caller gives up now.
func (r *retrier) retryWait(ctx context.Context, err error, retry int) (time.Duration, bool) {
	var wait time.Duration
	var ae *APIError
	if errors.As(err, &ae) && ae.RetryAfter > 0 {
		wait = ae.RetryAfter
	} else {
		ceiling := maxBackoff
		if retry < 30 {
			if d := r.backoffBase << retry; d > 0 && d < ceiling {
				ceiling = d
			}
		}
		// Equal jitter: at least half the ceiling, so retries never bunch
		// up at zero.
		wait = ceiling/2 + time.Duration(r.jitter()*float64(ceiling/2))
	}
	if wait > maxRetryWait {
		return 0, false
	}
	if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) <= wait {
		return 0, false
	}
	return wait, true
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
