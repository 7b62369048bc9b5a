package consume

import (
	"context"
	"sync"
	"testing"

	"github.com/frontdesk-ai/frontdesk/persistence"
)

func TestByKeyKeepsKeyOrderAndCommitsOnlyDonePrefixes(t *testing.T) {
	recs := []persistence.Record{
		{Topic: "t", Partition: 0, Offset: 0, Key: "a"},
		{Topic: "t", Partition: 0, Offset: 1, Key: "b"},
		{Topic: "t", Partition: 0, Offset: 2, Key: "a"}, // fails: a's later records wait
		{Topic: "t", Partition: 0, Offset: 3, Key: "b"},
		{Topic: "t", Partition: 0, Offset: 4, Key: "a"},
		{Topic: "t", Partition: 1, Offset: 7, Key: "c"},
		{Topic: "t", Partition: 1, Offset: 8, Key: "c"},
	}
	var mu sync.Mutex
	seen := map[string][]int64{}
	out := ByKey(context.Background(), recs, 2, func(_ context.Context, r persistence.Record) bool {
		mu.Lock()
		seen[r.Key] = append(seen[r.Key], r.Offset)
		mu.Unlock()
		return !(r.Key == "a" && r.Offset == 2)
	})
	if got := seen["a"]; len(got) != 2 || got[0] != 0 || got[1] != 2 {
		t.Fatalf("key a handled %v, want 0 then 2 and nothing after the failure", got)
	}
	if got := seen["b"]; len(got) != 2 || got[0] != 1 || got[1] != 3 {
		t.Fatalf("key b handled %v, want 1, 3 in order", got)
	}
	commit := map[int32]int64{}
	for _, r := range out {
		if r.Offset > commit[r.Partition] || commit[r.Partition] == 0 {
			commit[r.Partition] = max(commit[r.Partition], r.Offset)
		}
	}
	// Partition 0: offsets 0 and 1 are done, 2 is not: commit stops at 1.
	if commit[0] != 1 || commit[1] != 8 || len(out) != 4 {
		t.Fatalf("committable = %+v, want p0 up to 1 and p1 up to 8", out)
	}
}
