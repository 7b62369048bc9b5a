package consume

import (
	"context"
	"fmt"
	"sort"
	"sync"

	"github.com/frontdesk-ai/frontdesk/persistence"
)

// ByKey hands each record of a polled batch to handle: records of one
// key in order, different keys in parallel (at most parallel at once). A
// key stops at its first record that handle does not report done (false),
// so order is kept. It returns the records that may be committed: per
// partition, the longest prefix in offset order whose records are all done.
func ByKey(ctx context.Context, recs []persistence.Record, parallel int, handle func(ctx context.Context, rec persistence.Record) bool) []persistence.Record {
	if parallel < 1 {
		parallel = 1
	}
	byKey := map[string][]int{}
	var keys []string
	for i, r := range recs {
		if _, ok := byKey[r.Key]; !ok {
			keys = append(keys, r.Key)
		}
		byKey[r.Key] = append(byKey[r.Key], i)
	}
	done := make([]bool, len(recs))
	sem := make(chan struct{}, parallel)
	var wg sync.WaitGroup
	for _, k := range keys {
		idx := byKey[k]
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			for _, i := range idx {
				if !handle(ctx, recs[i]) {
					return
				}
				done[i] = true
			}
		}()
	}
	wg.Wait()
	return committable(recs, done)
}

func committable(recs []persistence.Record, done []bool) []persistence.Record {
	type pos struct {
		rec  persistence.Record
		done bool
	}
	parts := map[string][]pos{}
	for i, r := range recs {
		k := fmt.Sprintf("%s/%d", r.Topic, r.Partition)
		parts[k] = append(parts[k], pos{r, done[i]})
	}
	var out []persistence.Record
	for _, ps := range parts {
		sort.Slice(ps, func(i, j int) bool { return ps[i].rec.Offset < ps[j].rec.Offset })
		for _, p := range ps {
			if !p.done {
				break
			}
			out = append(out, p.rec)
		}
	}
	return out
}
