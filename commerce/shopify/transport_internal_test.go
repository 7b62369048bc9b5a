package shopify

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

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

func TestQueriesAskForTheirPageSizes(t *testing.T) {
	if want := fmt.Sprintf("lineItems(first: %d)", orderLines); !strings.Contains(ordersQuery, want) {
		t.Errorf("ordersQuery does not ask for %s", want)
	}
}
