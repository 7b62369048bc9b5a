package actors

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/frontdesk-ai/frontdesk/actors/grainpb"
	"github.com/frontdesk-ai/frontdesk/events"
	"github.com/frontdesk-ai/frontdesk/llmrouter"
	"github.com/frontdesk-ai/frontdesk/persistence"
)

// benchTenant creates a tenant for a benchmark.
func benchTenant(b *testing.B) string {
	b.Helper()
	tn := &persistence.Tenant{Name: b.Name(), Slug: fmt.Sprintf("b-%d", time.Now().UnixNano())}
	if err := env.store.CreateTenant(context.Background(), tn); err != nil {
		b.Fatal(err)
	}
	return tn.ID
}

// seedThreads writes n conversation checkpoints whose hot context holds the
// configured number of recent messages of realistic length, and returns one
// record per thread that the checkpoint already covers (delivering it
// activates the grain, which loads its hot context, and changes nothing).
func seedThreads(b *testing.B, tenant string, n int) ([]string, []*grainpb.Deliver) {
	b.Helper()
	// Sub-benchmarks run more than once: every run gets fresh identities.
	run := time.Now().UnixNano()
	ctx := context.Background()
	text := strings.Repeat("Where is my order? It was due on Tuesday. ", 5)[:200]
	out := make([]*grainpb.Deliver, n)
	keys := make([]string, n)
	for i := range n {
		user := fmt.Sprintf("bench%d-%07d", run, i)
		key := tenant + "/whatsapp/" + user
		keys[i] = key
		st := threadState{TenantID: tenant, Channel: "whatsapp", ExternalUserID: user, CustomerID: fmt.Sprintf("c-%d", i),
			ProfileName: "Customer " + user, ConversationID: fmt.Sprintf("conv-%d", i), MessagesApplied: 20}
		for j := range env.rt.cfg.RecentMessages {
			dir := "inbound"
			if j%2 == 1 {
				dir = "outbound"
			}
			st.Recent = append(st.Recent, recentMessage{ID: fmt.Sprintf("m-%d-%d", i, j), Direction: dir, Kind: "text", Text: text, At: time.Now().UTC()})
		}
		raw, _ := json.Marshal(st)
		cp := &persistence.Checkpoint{TenantID: tenant, Kind: KindConversation, Identity: key, Topic: persistence.TopicInbound, Partition: 0, Offset: 1 << 40, State: raw}
		if err := env.store.SaveCheckpoint(ctx, cp); err != nil {
			b.Fatal(err)
		}
		out[i] = &grainpb.Deliver{Topic: persistence.TopicInbound, Partition: 0, Offset: 1, Envelope: []byte("{}")}
	}
	return keys, out
}

func call(b *testing.B, key string, d *grainpb.Deliver) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	res, err := member.Call(ctx, KindConversation, key, d)
	if err != nil {
		b.Fatal(err)
	}
	if ack := res.(*grainpb.DeliverAck); !ack.Duplicate {
		b.Fatalf("ack %+v, want duplicate", ack)
	}
}

// BenchmarkGrainActivation activates a conversation grain per iteration:
// cluster placement, spawn, checkpoint load with a full hot context, and
// one request/response. The baseline sub-benchmark sends the same request to
// grains that are already active, so the difference is the activation cost.
func BenchmarkGrainActivation(b *testing.B) {
	tenant := benchTenant(b)
	b.Run("activate", func(b *testing.B) {
		keys, ds := seedThreads(b, tenant, b.N)
		b.ResetTimer()
		start := time.Now()
		for i := range b.N {
			call(b, keys[i], ds[i])
		}
		b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "activations/s")
	})
	b.Run("baseline-active", func(b *testing.B) {
		keys, ds := seedThreads(b, tenant, 1)
		key := keys[0]
		call(b, key, ds[0])
		b.ResetTimer()
		start := time.Now()
		for range b.N {
			call(b, key, ds[0])
		}
		b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "calls/s")
	})
}

// BenchmarkGrainMemory activates 2,000 conversation grains, each holding a
// hot context of 20 recent messages of 200 characters, and reports the heap
// they hold per grain.
func BenchmarkGrainMemory(b *testing.B) {
	const grains = 2000
	for range b.N {
		tenant := benchTenant(b)
		keys, ds := seedThreads(b, tenant, grains)
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		for i := range grains {
			call(b, keys[i], ds[i])
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapInuse-before.HeapInuse)/grains, "heap-bytes/grain")
	}
}

// BenchmarkTurn measures one customer message answered on a thread whose
// grains are active (warm: the turn's context comes from the grains'
// memory) against the same thread with its grains passivated before every
// message (cold: activation reads the conversation, hot context, customer,
// tickets, orders and summary from the store, as every turn did before the
// grains held their state). It reports the store reads per turn and the
// time from delivery to the committed reply, with a model that answers at
// once.
func BenchmarkTurn(b *testing.B) {
	for _, mode := range []string{"warm", "cold"} {
		b.Run(mode, func(b *testing.B) {
			tenant := benchTenant(b)
			model.set(tenant, func(ctx context.Context, req llmrouter.Request) (llmrouter.Response, error) {
				return llmrouter.Response{Message: llmrouter.Message{Content: "On its way"}, Backend: "bench"}, nil
			})
			user := fmt.Sprintf("49170%d", time.Now().UnixNano()%1e8)
			key := tenant + "/whatsapp/" + user
			turn := func(i int) {
				rec := benchReceived(b, tenant, user, fmt.Sprintf("wamid.bench.%d", i), "where is my order?")
				ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
				defer cancel()
				if _, err := member.Call(ctx, KindConversation, key, &grainpb.Deliver{Topic: rec.Topic, Partition: rec.Partition, Offset: rec.Offset, Envelope: rec.Value}); err != nil {
					b.Fatal(err)
				}
				for deadline := time.Now().Add(20 * time.Second); ; {
					cp, err := env.store.GetCheckpoint(ctx, KindConversation, key)
					var st threadState
					if err == nil && json.Unmarshal(cp.State, &st) == nil && st.AnsweredThrough == int64(i+1) {
						return
					}
					if time.Now().After(deadline) {
						b.Fatalf("turn %d not committed", i)
					}
					time.Sleep(200 * time.Microsecond)
				}
			}
			turn(0) // create the customer and the conversation
			reads := 0
			var busy time.Duration
			summaryBefore := env.reads.summaryOf(tenant)
			b.ResetTimer()
			for i := 1; i <= b.N; i++ {
				if mode == "cold" {
					b.StopTimer()
					passivateAll(b)
					b.StartTimer()
				}
				before := env.reads.of(tenant)
				t0 := time.Now()
				turn(i)
				busy += time.Since(t0)
				reads += env.reads.of(tenant) - before
			}
			// The harness renews the memory summary every 3 messages
			// (SummaryEvery); its reads are the customer grain's, not the
			// turn's, and are reported apart.
			summary := float64(env.reads.summaryOf(tenant) - summaryBefore)
			b.ReportMetric(float64(reads)/float64(b.N), "store-reads/turn")
			b.ReportMetric((float64(reads)-summary)/float64(b.N), "context-reads/turn")
			b.ReportMetric(float64(busy.Microseconds())/float64(b.N), "µs/turn")
		})
	}
}

// passivateAll moves the runtime's clock past the idle timeout until no
// grain is active.
func passivateAll(b *testing.B) {
	for deadline := time.Now().Add(20 * time.Second); ; {
		env.clock.Advance(env.rt.cfg.IdleTimeout)
		if testutil.ToFloat64(env.rt.metrics.activeGrains.WithLabelValues(KindConversation))+
			testutil.ToFloat64(env.rt.metrics.activeGrains.WithLabelValues(KindCustomer)) == 0 {
			return
		}
		if time.Now().After(deadline) {
			b.Fatal("grains did not passivate")
		}
		time.Sleep(time.Millisecond)
	}
}

// benchReceived appends a customer's text message for a benchmark.
func benchReceived(b *testing.B, tenant, user, wamid, text string) persistence.Record {
	b.Helper()
	e, err := events.New(events.TypeMessageReceived, 1, tenant, events.ThreadKey(tenant, "whatsapp", user), time.Now(), events.MessageReceived{
		Channel: "whatsapp", ChannelAccount: "1555", ExternalUserID: user, ProfileName: "Bench", Phone: "+" + user,
		ChannelMessageID: tenant + ":" + wamid, Kind: "text", Text: text, SentAt: time.Now().UTC()})
	if err != nil {
		b.Fatal(err)
	}
	rec, err := e.Record(persistence.TopicInbound)
	if err != nil {
		b.Fatal(err)
	}
	out, err := env.store.Log().Append(context.Background(), rec)
	if err != nil {
		b.Fatal(err)
	}
	return out[0]
}
