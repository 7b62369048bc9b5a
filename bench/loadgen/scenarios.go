package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/frontdesk-ai/frontdesk/channels/whatsapp/whatsapptest"
	"github.com/frontdesk-ai/frontdesk/llmrouter/llmtest"
)

// modelName is the model frontdesk asks the model fake for.
const modelName = llmtest.Model

// replyText is what the model fake answers to every turn.
const replyText = "On its way!"

// runner holds the fakes shared by every scenario; each scenario starts its
// own frontdesk process.
type runner struct {
	cfg      config
	out      io.Writer
	graph    *graphFake
	graphURL string
	model    *modelFake
	modelURL string
	bareURL  string
	client   *http.Client
	// nonce makes message ids unique across runs.
	nonce  string
	failed []string
}

// errStart is a frontdesk that did not start; the run stops there.
var errStart = errors.New("frontdesk did not start")

// start launches frontdesk for a scenario with its extra variables.
func (r *runner) start(ctx context.Context, extra ...string) (*frontdesk, error) {
	r.graph.reset()
	fd, err := startFrontdesk(ctx, startOptions{
		bin: r.cfg.bin, graphURL: r.graphURL, modelURL: r.modelURL,
		extra: extra, user: r.cfg.env, keep: r.cfg.keep, readyWithin: 60 * time.Second,
	})
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errStart, err)
	}
	return fd, nil
}

func (r *runner) printf(format string, args ...any) { fmt.Fprintf(r.out, format+"\n", args...) }

// report prints one machine-readable result line.
func (r *runner) report(sub string, metrics ...metric) {
	fmt.Fprintln(r.out, benchLine(r.cfg.name+"/"+sub, metrics...))
}

// fail prints a failure in go test's format (bench/run.sh keeps these
// lines beside the results) and makes the run exit non-zero.
func (r *runner) fail(sub, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	fmt.Fprintf(r.out, "--- FAIL: %s/%s: %s\n", r.cfg.name, sub, msg)
	r.failed = append(r.failed, sub+": "+msg)
}

// customer is one WhatsApp user chatting in a closed loop.
type customer struct {
	waID string
	// sent counts the messages frontdesk accepted (200).
	sent int
}

// turn is one message and its reply's arrival at the Graph API.
type turn struct {
	sent, answered time.Time
}

func (t turn) latency() time.Duration { return t.answered.Sub(t.sent) }

// refusedError is a webhook answered with another status than 200.
type refusedError struct{ status int }

func (e refusedError) Error() string { return fmt.Sprintf("webhook answered HTTP %d", e.status) }

// post sends a signed webhook body to url and returns the status.
func (r *runner) post(ctx context.Context, url string, body []byte) (int, error) {
	req, err := whatsapptest.NewWebhookRequest(ctx, url, appSecret, body)
	if err != nil {
		return 0, err
	}
	resp, err := r.client.Do(req)
	if err != nil {
		return 0, fmt.Errorf("post webhook: %w", err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, nil
}

// say posts c's next message and waits for the reply to reach the Graph
// fake.
func (r *runner) say(ctx context.Context, fd *frontdesk, c *customer, text string) (turn, error) {
	id := fmt.Sprintf("wamid.loadgen.%s.%s.%d", r.nonce, c.waID, c.sent+1)
	body := whatsapptest.TextWebhook(phoneNumberID, c.waID, "Load", id, text, time.Now())
	t := turn{sent: time.Now()}
	status, err := r.post(ctx, fd.url("/webhooks/whatsapp"), body)
	if err != nil {
		return t, err
	}
	if status != http.StatusOK {
		return t, refusedError{status}
	}
	c.sent++
	t.answered, err = r.graph.waitReply(ctx, c.waID, c.sent, r.cfg.replyTimeout)
	if err != nil {
		return t, fmt.Errorf("message %s of %s: %w within %s", id, c.waID, err, r.cfg.replyTimeout)
	}
	return t, nil
}

// outcome counts what went wrong in a run of conversations.
type outcome struct {
	mu        sync.Mutex
	refused   int
	unsent    int // transport errors
	late      int // no reply within the reply timeout
	firstErrs []string
}

func (o *outcome) add(err error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	var ref refusedError
	switch {
	case errors.As(err, &ref):
		o.refused++
	case errors.Is(err, errNoReply):
		o.late++
	default:
		o.unsent++
	}
	if len(o.firstErrs) < 3 {
		o.firstErrs = append(o.firstErrs, err.Error())
	}
}

// verify waits a moment for stray sends, then compares each customer's
// replies with its accepted messages, and fails sub for any refused
// webhook, lost, late or surplus reply, or reply sent twice.
func (r *runner) verify(sub string, fd *frontdesk, customers []*customer, o *outcome) {
	time.Sleep(time.Second)
	var sent, lost, surplus int
	for _, c := range customers {
		got := r.graph.replies(c.waID)
		sent += c.sent
		switch {
		case got < c.sent:
			lost += c.sent - got
		case got > c.sent:
			surplus += got - c.sent
		}
	}
	doubled := r.graph.doubledKeys()
	r.printf("  %s: %d messages accepted, %d replies lost, %d surplus replies, %d sends of a reply already sent, %d webhooks refused, %d not delivered, %d answered after %s; Graph fake refused %d requests",
		sub, sent, lost, surplus, doubled, o.refused, o.unsent, o.late, r.cfg.replyTimeout, r.graph.refused.Load())
	if n := r.model.unexpected.Load(); n > 0 {
		r.printf("  %s: the model fake got %d requests it does not serve", sub, n)
	}
	if lost+surplus+doubled+o.refused+o.unsent+o.late == 0 && r.graph.refused.Load() == 0 {
		return
	}
	r.fail(sub, "%d of %d replies lost, %d surplus, %d doubled sends, %d webhooks refused, %d not delivered, %d late (%s); first errors: %s",
		lost, sent, surplus, doubled, o.refused, o.unsent, o.late, r.cfg.replyTimeout, strings.Join(o.firstErrs, "; "))
	if !fd.alive() {
		r.printf("  %s: frontdesk exited (%v); its log ends:\n%s", sub, fd.waitErr, fd.logTail(20))
	} else if errs := fd.logProblems(5); len(errs) > 0 {
		r.printf("  %s: frontdesk's first warnings and errors:\n    %s", sub, strings.Join(errs, "\n    "))
	}
}

// single: one conversation alone, one message after another.
func (r *runner) single(ctx context.Context) error {
	const sub = "single"
	fd, err := r.start(ctx)
	if err != nil {
		return err
	}
	defer fd.stop()
	c := &customer{waID: "4915000000001"}
	o := &outcome{}
	var lat []time.Duration
	for i := range r.cfg.singleWarmup + r.cfg.singleMessages {
		t, err := r.say(ctx, fd, c, fmt.Sprintf("where is my order? (%d)", i))
		if err != nil {
			o.add(err)
			break
		}
		if i >= r.cfg.singleWarmup {
			lat = append(lat, t.latency())
		}
	}
	r.verify(sub, fd, []*customer{c}, o)
	if len(lat) == 0 {
		return errors.New("no message answered")
	}
	s := summarize(lat)
	r.printf("single: one conversation, webhook → reply at the Graph API: %s", s)
	r.report(sub, metric{ms(s.p50), "p50-ms"}, metric{ms(s.p90), "p90-ms"}, metric{ms(s.p99), "p99-ms"}, metric{ms(s.high), "max-ms"})
	return nil
}

// chatRun is a closed-loop run of many conversations.
type chatRun struct {
	customers []*customer
	outcome   outcome
	mu        sync.Mutex
	turns     []turn
	// from and to bound the measured window (after the warm-up).
	from, to time.Time
	// cpu and ownCPU are the CPU time frontdesk and the load generator
	// used in the window.
	cpu, ownCPU time.Duration
	cpuErr      error
}

// chatLoad runs n conversations (wa_ids prefix + index), each sending its
// next message once the previous reply reached the Graph fake, for warmup
// and then window; during, when set, runs at the window's start. A
// conversation stops at its first error; every conversation finishes its
// last turn before chatLoad returns.
func (r *runner) chatLoad(ctx context.Context, fd *frontdesk, n int, prefix string, warmup, window time.Duration, during func(context.Context)) *chatRun {
	run := &chatRun{from: time.Now().Add(warmup)}
	run.to = run.from.Add(window)
	var wg sync.WaitGroup
	for i := range n {
		c := &customer{waID: fmt.Sprintf("%s%06d", prefix, i)}
		run.customers = append(run.customers, c)
		wg.Go(func() {
			for k := 0; time.Now().Before(run.to) && ctx.Err() == nil; k++ {
				t, err := r.say(ctx, fd, c, fmt.Sprintf("where is my order? (%d)", k))
				if err != nil {
					run.outcome.add(err)
					return
				}
				run.mu.Lock()
				run.turns = append(run.turns, t)
				run.mu.Unlock()
				if r.cfg.think > 0 {
					sleepUntil(ctx, time.Now().Add(r.cfg.think))
				}
			}
		})
	}
	wg.Go(func() {
		sleepUntil(ctx, run.from)
		c0, err0 := fd.cpu()
		o0, _ := processCPU(os.Getpid())
		if during != nil {
			wg.Go(func() { during(ctx) })
		}
		sleepUntil(ctx, run.to)
		c1, err1 := fd.cpu()
		o1, _ := processCPU(os.Getpid())
		run.cpu, run.ownCPU, run.cpuErr = c1-c0, o1-o0, errors.Join(err0, err1)
	})
	wg.Wait()
	return run
}

func sleepUntil(ctx context.Context, t time.Time) {
	select {
	case <-time.After(time.Until(t)):
	case <-ctx.Done():
	}
}

// window returns the replies that arrived in [from, to) per second, and
// the latencies of the messages sent in it.
func (run *chatRun) window(from, to time.Time) (float64, []time.Duration) {
	run.mu.Lock()
	defer run.mu.Unlock()
	replies := 0
	var lat []time.Duration
	for _, t := range run.turns {
		if !t.answered.Before(from) && t.answered.Before(to) {
			replies++
		}
		if !t.sent.Before(from) && t.sent.Before(to) {
			lat = append(lat, t.latency())
		}
	}
	return float64(replies) / to.Sub(from).Seconds(), lat
}

// thinkSuffix names a think time in result names, so a run with one is not
// compared with a closed loop.
func (r *runner) thinkSuffix() string {
	if r.cfg.think == 0 {
		return ""
	}
	return "-think" + r.cfg.think.String()
}

// cores is CPU time over the window's length.
func cores(cpu time.Duration, window time.Duration) float64 { return cpu.Seconds() / window.Seconds() }

// chat: many conversations at once, closed loop.
func (r *runner) chat(ctx context.Context) error {
	sub := fmt.Sprintf("chat-%d%s", r.cfg.conversations, r.thinkSuffix())
	fd, err := r.start(ctx)
	if err != nil {
		return err
	}
	defer fd.stop()
	run := r.chatLoad(ctx, fd, r.cfg.conversations, "49151", r.cfg.warmup, r.cfg.duration, nil)
	r.verify(sub, fd, run.customers, &run.outcome)
	tps, lat := run.window(run.from, run.to)
	s := summarize(lat)
	busy := cores(run.cpu, r.cfg.duration)
	r.printf("chat: %d conversations (think time %s), %s after a %s warm-up: %.1f turns/s; webhook → reply %s; frontdesk %.2f cores busy, load generator %.2f; %d read receipts",
		r.cfg.conversations, r.cfg.think, r.cfg.duration, r.cfg.warmup, tps, s, busy, cores(run.ownCPU, r.cfg.duration), r.graph.reads.Load())
	if run.cpuErr != nil {
		r.printf("  chat: CPU not measured: %v", run.cpuErr)
	}
	r.report(sub, metric{tps, "turns/s"}, metric{ms(s.p50), "p50-ms"}, metric{ms(s.p99), "p99-ms"}, metric{busy, "cores"})
	return nil
}

// hammer has clients post body(i) to url as fast as they can for d and
// returns requests per second and their latencies; a non-200 answer or a
// transport error is counted in errs.
func (r *runner) hammer(ctx context.Context, url string, clients int, d time.Duration, body func(i int64) []byte) (float64, []time.Duration, int, string) {
	var (
		seq      atomic.Int64
		mu       sync.Mutex
		lat      []time.Duration
		errs     int
		firstErr string
		wg       sync.WaitGroup
	)
	start := time.Now()
	end := start.Add(d)
	for range clients {
		wg.Go(func() {
			var mine []time.Duration
			bad := 0
			var msg string
			for time.Now().Before(end) && ctx.Err() == nil {
				b := body(seq.Add(1))
				t0 := time.Now()
				status, err := r.post(ctx, url, b)
				switch {
				case err != nil:
					bad++
					msg = err.Error()
				case status != http.StatusOK:
					bad++
					msg = refusedError{status}.Error()
				default:
					mine = append(mine, time.Since(t0))
				}
			}
			mu.Lock()
			lat = append(lat, mine...)
			errs += bad
			if firstErr == "" {
				firstErr = msg
			}
			mu.Unlock()
		})
	}
	wg.Wait()
	return float64(len(lat)) / time.Since(start).Seconds(), lat, errs, firstErr
}

// ingest: webhook ingest beside a bare handler while conversations chat.
func (r *runner) ingest(ctx context.Context) error {
	sub := fmt.Sprintf("ingest-%d%s", r.cfg.ingestClients, r.thinkSuffix())
	fd, err := r.start(ctx)
	if err != nil {
		return err
	}
	defer fd.stop()
	d := r.cfg.ingestDuration
	body := func(i int64) []byte {
		// Any of 1,000 other customers, each message new.
		return whatsapptest.TextWebhook(phoneNumberID, fmt.Sprintf("4916%07d", i%1000), "Load",
			fmt.Sprintf("wamid.loadgen.%s.ingest.%d", r.nonce, i), "hello there", time.Now())
	}
	var bareRPS, rps float64
	var bareLat, lat []time.Duration
	var bareErrs, errs int
	var bareErr, ingestErr string
	var ingestFrom time.Time
	run := r.chatLoad(ctx, fd, r.cfg.conversations, "49152", r.cfg.warmup, 2*d, func(ctx context.Context) {
		bareRPS, bareLat, bareErrs, bareErr = r.hammer(ctx, r.bareURL, r.cfg.ingestClients, d, body)
		ingestFrom = time.Now()
		rps, lat, errs, ingestErr = r.hammer(ctx, fd.url("/webhooks/whatsapp"), r.cfg.ingestClients, d, body)
	})
	r.verify(sub, fd, run.customers, &run.outcome)
	if bareErrs > 0 {
		r.fail(sub, "%d requests to the bare handler failed: %s", bareErrs, bareErr)
	}
	if errs > 0 {
		r.fail(sub, "%d webhooks refused or not delivered: %s", errs, ingestErr)
	}
	if ingestFrom.IsZero() {
		return errors.New("interrupted")
	}
	tps, _ := run.window(ingestFrom, run.to)
	bs, is := summarize(bareLat), summarize(lat)
	ratio := 0.0
	if bareRPS > 0 {
		ratio = rps / bareRPS
	}
	r.printf("ingest: %d clients for %s each while %d conversations chat: webhooks %.0f req/s (%s), bare handler %.0f req/s (%s), ratio %.4f; %.1f turns/s during ingest; frontdesk %.2f cores busy",
		r.cfg.ingestClients, d, r.cfg.conversations, rps, is, bareRPS, bs, ratio, tps, cores(run.cpu, 2*d))
	r.report(sub, metric{rps, "req/s"}, metric{ms(is.p99), "p99-ms"}, metric{bareRPS, "bare-req/s"}, metric{ms(bs.p99), "bare-p99-ms"},
		metric{ratio, "ratio-vs-bare"}, metric{tps, "turns/s"})
	return nil
}

// heapSeries are the /metrics series the heap scenario reads.
var heapSeries = []string{"go_memstats_heap_inuse_bytes", "go_memstats_heap_alloc_bytes", "process_resident_memory_bytes", "go_memstats_heap_objects", "go_goroutines"}

// sampleMin reads /metrics n times, every gap, and keeps each series'
// minimum (garbage not yet collected inflates a sample; GC cannot be
// forced from outside).
func sampleMin(ctx context.Context, fd *frontdesk, n int, gap time.Duration) (map[string]float64, error) {
	low := map[string]float64{}
	for i := range n {
		if i > 0 {
			sleepUntil(ctx, time.Now().Add(gap))
		}
		m, err := fd.metrics(ctx)
		if err != nil {
			return nil, err
		}
		for _, s := range heapSeries {
			v, ok := m[s]
			if !ok {
				return nil, fmt.Errorf("/metrics has no %s", s)
			}
			if old, seen := low[s]; !seen || v < old {
				low[s] = v
			}
		}
	}
	return low, nil
}

// heap: memory per active conversation, seen from /metrics.
func (r *runner) heap(ctx context.Context) error {
	sub := fmt.Sprintf("heap-%d", r.cfg.heapConversations)
	// Grains stay active through the run; a low GOGC keeps the heap close
	// to what is live, since a GC cannot be forced from outside.
	extra := []string{"FRONTDESK_GRAIN_IDLE_TIMEOUT=1h"}
	if r.cfg.heapGOGC > 0 {
		extra = append(extra, fmt.Sprintf("GOGC=%d", r.cfg.heapGOGC))
	}
	fd, err := r.start(ctx, extra...)
	if err != nil {
		return err
	}
	defer fd.stop()
	text := strings.Repeat("x", r.cfg.heapChars)
	var customers []*customer
	o := &outcome{}
	converse := func(n, messages int, prefix string) {
		var wg sync.WaitGroup
		for i := range n {
			c := &customer{waID: fmt.Sprintf("%s%06d", prefix, i)}
			customers = append(customers, c)
			wg.Go(func() {
				for k := range messages {
					// Each message its own text, as a customer's would be.
					msg := fmt.Sprintf("%d %d ", i, k)
					if _, err := r.say(ctx, fd, c, msg+text[len(msg):]); err != nil {
						o.add(err)
						return
					}
				}
			})
		}
		wg.Wait()
	}
	// Warm caches, statements and pools first: they are not per
	// conversation.
	converse(50, 2, "49170")
	// Idle keep-alive connections are the load generator's, not the
	// conversations' (Meta delivers webhooks over a few): close them before
	// each sample so their server goroutines and buffers are not counted.
	r.client.CloseIdleConnections()
	sleepUntil(ctx, time.Now().Add(2*time.Second))
	before, err := sampleMin(ctx, fd, 3, 2*time.Second)
	if err != nil {
		return err
	}
	converse(r.cfg.heapConversations, r.cfg.heapMessages, "49171")
	r.verify(sub, fd, customers, o)
	r.client.CloseIdleConnections()
	sleepUntil(ctx, time.Now().Add(2*time.Second))
	after, err := sampleMin(ctx, fd, 3, 2*time.Second)
	if err != nil {
		return err
	}
	per := func(s string) float64 {
		return (after[s] - before[s]) / float64(r.cfg.heapConversations)
	}
	textBytes := float64(r.cfg.heapMessages * (r.cfg.heapChars + len(replyText)))
	gogc := "GOGC default"
	if r.cfg.heapGOGC > 0 {
		gogc = fmt.Sprintf("GOGC=%d", r.cfg.heapGOGC)
	}
	r.printf("heap: %d conversations × %d messages of %d characters, answered (%s): per conversation %.0f B heap in use, %.0f B heap allocated, %.0f B resident, %.1f heap objects, %.2f goroutines; text %.0f B (heap in use %.1f → %.1f MiB)",
		r.cfg.heapConversations, r.cfg.heapMessages, r.cfg.heapChars, gogc, per("go_memstats_heap_inuse_bytes"), per("go_memstats_heap_alloc_bytes"),
		per("process_resident_memory_bytes"), per("go_memstats_heap_objects"), per("go_goroutines"), textBytes,
		before["go_memstats_heap_inuse_bytes"]/(1<<20), after["go_memstats_heap_inuse_bytes"]/(1<<20))
	r.report(sub, metric{per("go_memstats_heap_inuse_bytes"), "heap-inuse-B/conv"}, metric{per("go_memstats_heap_alloc_bytes"), "heap-alloc-B/conv"},
		metric{per("process_resident_memory_bytes"), "rss-B/conv"}, metric{textBytes, "text-B/conv"})
	return nil
}
