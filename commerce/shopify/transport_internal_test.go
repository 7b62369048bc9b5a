package shopify

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestRetryAfter(t *testing.T) {
	for h, want := range map[string]time.Duration{
		"2": 2 * time.Second, "2.0": 2 * time.Second, " 0.5 ": 500 * time.Millisecond,
		"": 0, "0": 0, "-1": 0, "soon": 0, "Wed, 21 Oct 2015 07:28:00 GMT": 0, "NaN": 0, "1e9": 10 * time.Minute,
	} {
		if got := retryAfter(h); got != want {
			t.Errorf("retryAfter(%q) = %v, want %v", h, got, want)
		}
	}
}

func TestThrottleWait(t *testing.T) {
	cost := func(requested, available, rate float64) gqlResponse {
		var r gqlResponse
		r.Extensions.Cost = &queryCost{RequestedQueryCost: requested}
		r.Extensions.Cost.ThrottleStatus.CurrentlyAvailable = available
		r.Extensions.Cost.ThrottleStatus.RestoreRate = rate
		return r
	}
	for _, c := range []struct {
		r    gqlResponse
		want time.Duration
	}{
		{cost(752, 666, 50), 1720 * time.Millisecond}, // the community forum's example answer
		{cost(10, 0, 50), time.Second},                // at least a second
		{cost(100000, 0, 50), time.Minute},            // at most a minute
		{cost(10, 0, 0), 0},                           // no restore rate: back off instead
		{gqlResponse{}, 0},
	} {
		if got := c.r.throttleWait(); got != c.want {
			t.Errorf("throttleWait(%+v) = %v, want %v", c.r.Extensions.Cost, got, c.want)
		}
	}
}

func TestBackoff(t *testing.T) {
	want := []time.Duration{500 * time.Millisecond, time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 16 * time.Second, 30 * time.Second, 30 * time.Second}
	for i, w := range want {
		if got := backoff(i); got != w {
			t.Errorf("backoff(%d) = %v, want %v", i, got, w)
		}
	}
	if backoff(100) != maxBackoff {
		t.Error("backoff(100) overflowed")
	}
}

func TestQueriesAskForTheirPageSizes(t *testing.T) {
	if want := fmt.Sprintf("lineItems(first: %d)", orderLines); !strings.Contains(ordersQuery, want) {
		t.Errorf("ordersQuery does not ask for %s", want)
	}
}
