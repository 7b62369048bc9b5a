//go:build cluster

// Cluster tests: three frontdesk members as separate processes, a kfake
// Kafka-protocol broker in its own process, real PostgreSQL. They are slow,
// so they run under `make test-cluster` (build tag "cluster"), which .ci/run
// runs after `make test`.

package main

import (
	"context"
	"database/sql"
	"fmt"
	"maps"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/frontdesk-ai/frontdesk/channels/whatsapp/whatsapptest"
	"github.com/frontdesk-ai/frontdesk/llmrouter/llmtest"
	"github.com/frontdesk-ai/frontdesk/persistence/kafkalog"
	"github.com/frontdesk-ai/frontdesk/persistence/sqlstore/sqlstoretest"
)

// freeClusterAddr returns a loopback address whose port and port+1000 (the
// automanaged membership port) are both free.
func freeClusterAddr(t testing.TB) string {
	t.Helper()
	for range 100 {
		addr := freeAddr(t)
		_, p, _ := net.SplitHostPort(addr)
		var port int
		fmt.Sscan(p, &port)
		if port+1000 > 65535 {
			continue
		}
		ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port+1000))
		if err != nil {
			continue
		}
		ln.Close()
		return addr
	}
	t.Fatal("no free cluster port pair")
	return ""
}

// testCluster is a kfake broker, three members and their fakes.
type testCluster struct {
	t         testing.TB
	kfake     string
	brokerCmd *exec.Cmd
	brokerDir string
	db        *sql.DB
	dbURL     string
	broker    string
	graph     *whatsapptest.Graph
	llm       *llmtest.Server
	members   []*server
	envs      [][]string
	mu        sync.Mutex
	// rounds counts the messages sent to every conversation so far.
	rounds atomic.Int32
}

// clusterModel answers like a support agent: the first turn of a
// conversation opens a ticket, then every turn answers in text.
func clusterModel(r llmtest.Request) llmtest.Step {
	msgs := r.Body.Messages
	if msgs[len(msgs)-1].Role == "tool" {
		return llmtest.Text("Thanks, I opened a ticket for you.")
	}
	for _, m := range msgs {
		if m.Role == "assistant" {
			return llmtest.Text("Noted: " + msgs[len(msgs)-1].Text())
		}
	}
	return llmtest.ToolCalls(llmtest.Call{Name: "create_ticket", Arguments: `{"subject":"Order question"}`})
}

func startCluster(t testing.TB) *testCluster { return startMembers(t, 3) }

// startMembers starts a broker and n members.
func startMembers(t testing.TB, n int, extraEnv ...string) *testCluster {
	t.Helper()
	if os.Getenv(sqlstoretest.EnvDatabaseURL) == "" {
		t.Skip(sqlstoretest.SkipMessage)
	}
	c := &testCluster{t: t, dbURL: sqlstoretest.Schema(t)}
	db, err := sql.Open("pgx", c.dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	c.db = db

	kfake := filepath.Join(filepath.Dir(binary), "kfake-dev")
	if out, err := exec.Command("go", "build", "-o", kfake, "../kfake-dev").CombinedOutput(); err != nil {
		t.Fatalf("build kfake-dev: %v\n%s", err, out)
	}
	c.kfake, c.broker, c.brokerDir = kfake, freeAddr(t), t.TempDir()
	c.startBroker()
	t.Cleanup(func() { c.stopBroker(syscall.SIGKILL) })

	c.graph = whatsapptest.NewGraph(t)
	c.graph.AcceptTokens(pilotToken)
	// Like Meta, the fake reports every accepted message as sent, to
	// whichever member answers: a sender that crashed before recording a
	// send learns of it from this report instead of sending again.
	c.graph.ReportStatuses(pilotSecret, c.liveWebhooks)
	c.llm = llmtest.NewServer(t)
	for range 6000 {
		c.llm.Script(llmtest.Func(clusterModel))
	}
	var addrs []string
	for range n {
		addrs = append(addrs, freeClusterAddr(t))
	}
	for _, a := range addrs {
		c.envs = append(c.envs, append([]string{
			"FRONTDESK_DATABASE_URL=" + c.dbURL, "FRONTDESK_KAFKA_BROKERS=" + c.broker, "FRONTDESK_KAFKA_PARTITIONS=" + fmt.Sprint(clusterPartitions),
			// kfake keeps a member whose session expired in its group until
			// the rebalance timeout ends (Kafka drops it at once), so with
			// the 60s default a kill -9 could stall a group for a minute.
			"FRONTDESK_KAFKA_REBALANCE_TIMEOUT=15s",
			"FRONTDESK_CLUSTER_ADDR=" + a, "FRONTDESK_CLUSTER_PEERS=" + strings.Join(addrs, ","),
			// Each member has its own data dir (its knowledge indexes), as
			// each pod has its own volume.
			"FRONTDESK_DATA_DIR=" + t.TempDir(),
			"FRONTDESK_WHATSAPP_VERIFY_TOKEN=v", "FRONTDESK_WHATSAPP_APP_SECRET=" + pilotSecret,
			"FRONTDESK_WHATSAPP_ACCESS_TOKEN=" + pilotToken, "FRONTDESK_WHATSAPP_PHONE_NUMBER_ID=" + pilotPNID,
			"FRONTDESK_GRAPH_API_URL=" + c.graph.BaseURL(), "FRONTDESK_LLM_BASE_URL=" + c.llm.BaseURL(), "FRONTDESK_LLM_MODEL=" + llmtest.Model,
			// Members starting together agree on the first admin too.
			"FRONTDESK_ADMIN_EMAIL=" + adminEmail, "FRONTDESK_ADMIN_PASSWORD=" + adminPass,
		}, extraEnv...))
	}
	for i := range addrs {
		c.members = append(c.members, startServer(t, c.envs[i]...))
	}
	for _, m := range c.members {
		m.waitReady(t)
	}
	return c
}

// liveWebhooks returns the WhatsApp webhook URLs of the members alive now.
func (c *testCluster) liveWebhooks() []string {
	var urls []string
	for _, m := range c.live() {
		urls = append(urls, "http://"+m.addr+"/webhooks/whatsapp")
	}
	return urls
}

// startBroker starts kfake-dev on the cluster's address and data dir.
func (c *testCluster) startBroker() {
	t := c.t
	c.brokerCmd = exec.Command(c.kfake, "-addr", c.broker, "-data-dir", c.brokerDir)
	// The broker's banner would interleave with benchmark lines: discard it.
	c.brokerCmd.Stdout, c.brokerCmd.Stderr = nil, nil
	if err := c.brokerCmd.Start(); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(20 * time.Second); ; {
		if conn, err := net.Dial("tcp", c.broker); err == nil {
			conn.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("kfake-dev did not start")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (c *testCluster) stopBroker(sig syscall.Signal) {
	if c.brokerCmd == nil || c.brokerCmd.Process == nil {
		return
	}
	_ = c.brokerCmd.Process.Signal(sig)
	_ = c.brokerCmd.Wait()
	c.brokerCmd = nil
}

// close kills every member and the broker (benchmarks run several clusters
// in one function; tests leave it to their cleanups).
func (c *testCluster) close() {
	for _, m := range c.members {
		if m.cmd.ProcessState == nil {
			_ = m.cmd.Process.Kill()
			<-m.done
		}
	}
	c.stopBroker(syscall.SIGKILL)
}

// restart starts member i again (same cluster address).
func (c *testCluster) restart(i int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.members[i] = startServer(c.t, c.envs[i]...)
	c.members[i].waitReady(c.t)
}

// live returns the members that answer.
func (c *testCluster) live() []*server {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []*server
	for _, m := range c.members {
		if m.cmd.ProcessState == nil && m.alive.Load() {
			out = append(out, m)
		}
	}
	return out
}

// metric reads one sample of a member's /metrics (0 when absent).
func metric(s *server, series string) float64 {
	_, body := s.get("/metrics")
	for _, line := range strings.Split(body, "\n") {
		if v, ok := strings.CutPrefix(line, series+" "); ok {
			var f float64
			fmt.Sscan(v, &f)
			return f
		}
	}
	return 0
}

const (
	clusterConversations = 200
	clusterMessages      = 5
	clusterPartitions    = 12 // FRONTDESK_KAFKA_PARTITIONS of the test clusters
)

func clusterWaID(conv int) string { return fmt.Sprintf("4917%07d", conv) }

// send posts message n of every conversation, spreading conversations over
// the live members; conversations are sent to in parallel, each one's
// messages in order. A member that refuses (killed) is skipped like Meta's
// retry would: the next live member gets the webhook.
func (c *testCluster) send(n int) {
	t := c.t
	var wg sync.WaitGroup
	sem := make(chan struct{}, 16)
	for conv := range clusterConversations {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			body := whatsapptest.TextWebhook(pilotPNID, clusterWaID(conv), fmt.Sprintf("Customer %d", conv),
				fmt.Sprintf("wamid.cluster.%d.%d", conv, n), fmt.Sprintf("message %d", n), time.Now())
			for attempt := 0; ; attempt++ {
				live := c.live()
				if len(live) == 0 || attempt > 50 {
					t.Errorf("no member accepted conversation %d message %d", conv, n)
					return
				}
				m := live[(conv+attempt)%len(live)]
				req, _ := whatsapptest.NewWebhookRequest(context.Background(), "http://"+m.addr+"/webhooks/whatsapp", pilotSecret, body)
				resp, err := httpClient.Do(req)
				if err == nil {
					resp.Body.Close()
					if resp.StatusCode == 200 {
						return
					}
				}
				time.Sleep(100 * time.Millisecond)
			}
		}()
	}
	wg.Wait()
	c.rounds.Add(1)
}

// answered reports how many conversations have a reply after their last
// inbound message.
func (c *testCluster) answered() int {
	var n int
	err := c.db.QueryRow(`SELECT COUNT(*) FROM conversations c WHERE
		(SELECT MAX(created_at) FROM messages WHERE conversation_id = c.id AND direction = 'outbound') >
		(SELECT MAX(created_at) FROM messages WHERE conversation_id = c.id AND direction = 'inbound')`).Scan(&n)
	if err != nil {
		c.t.Fatal(err)
	}
	return n
}

// applied returns how many inbound messages the grains have stored.
func (c *testCluster) applied() int {
	var n int
	if err := c.db.QueryRow(`SELECT COUNT(*) FROM messages WHERE direction = 'inbound'`).Scan(&n); err != nil {
		c.t.Fatal(err)
	}
	return n
}

// waitAnswered waits until every message sent so far is stored and every
// conversation has answered its last one.
func (c *testCluster) waitAnswered(what string) {
	deadline := time.Now().Add(3 * time.Minute)
	want := int(c.rounds.Load()) * clusterConversations
	for c.applied() < want || c.answered() < clusterConversations {
		if time.Now().After(deadline) {
			c.t.Fatalf("%s: %d of %d messages stored, %d of %d conversations answered", what, c.applied(), want, c.answered(), clusterConversations)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// check asserts the exactly-once properties over everything so far.
func (c *testCluster) check(messagesPerConversation int) {
	t := c.t
	var inbound, distinct, queued int
	want := clusterConversations * messagesPerConversation
	for deadline := time.Now().Add(90 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		if err := c.db.QueryRow(`SELECT COUNT(*), COUNT(DISTINCT channel_message_id) FROM messages WHERE direction = 'inbound'`).Scan(&inbound, &distinct); err != nil {
			t.Fatal(err)
		}
		if err := c.db.QueryRow(`SELECT COUNT(*) FROM log_outbox`).Scan(&queued); err != nil {
			t.Fatal(err)
		}
		if inbound >= want || time.Now().After(deadline) {
			break
		}
	}
	if inbound != want || distinct != want {
		t.Fatalf("inbound messages %d (%d distinct), want %d exactly once (outbox holds %d)", inbound, distinct, want, queued)
	}
	c.waitAnswered("all messages applied")
	var doubled int
	if err := c.db.QueryRow(`SELECT COUNT(*) FROM (SELECT metadata->>'turn_id' FROM messages WHERE direction = 'outbound'
		GROUP BY 1 HAVING COUNT(*) > 1) d`).Scan(&doubled); err != nil {
		t.Fatal(err)
	}
	if doubled != 0 {
		t.Fatalf("%d turns were answered twice", doubled)
	}
	var tickets, ticketCustomers int
	if err := c.db.QueryRow(`SELECT COUNT(*), COUNT(DISTINCT customer_id) FROM tickets`).Scan(&tickets, &ticketCustomers); err != nil {
		t.Fatal(err)
	}
	if tickets != clusterConversations || ticketCustomers != clusterConversations {
		t.Fatalf("tickets %d for %d customers, want one per conversation (%d)", tickets, ticketCustomers, clusterConversations)
	}
	var replies int
	if err := c.db.QueryRow(`SELECT COUNT(*) FROM messages WHERE direction = 'outbound'`).Scan(&replies); err != nil {
		t.Fatal(err)
	}
	// Every reply reaches the Graph API exactly once, keyed by its message
	// id: a sender that crashed between the API's answer and recording it
	// waits for the status report of that send instead of sending again.
	keys := map[string]int{}
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(100 * time.Millisecond) {
		keys = map[string]int{}
		for _, r := range c.graph.Requests() {
			if k, ok := r.Body["biz_opaque_callback_data"].(string); ok && r.Body["type"] == "text" {
				keys[k]++
			}
		}
		if len(keys) >= replies || time.Now().After(deadline) {
			break
		}
	}
	if len(keys) != replies {
		t.Fatalf("Graph API got %d distinct replies, store has %d", len(keys), replies)
	}
	doubledReplies := 0
	for k, n := range keys {
		if n > 1 {
			doubledReplies++
			t.Errorf("reply %s was sent to the customer %d times", k, n)
		}
	}
	fmt.Printf("cluster doubled replies: %d of %d\n", doubledReplies, replies)
	if doubledReplies > 0 {
		t.FailNow()
	}
	t.Logf("%d inbound messages, %d replies, %d tickets", inbound, replies, tickets)
}

func TestClusterThreeMembers(t *testing.T) {
	c := startCluster(t)
	for n := range clusterMessages {
		c.send(n)
	}
	c.waitAnswered("three members")
	c.check(clusterMessages)
	// The work was shared: every member activated conversation grains and
	// consumed part of the inbound topic.
	for i, m := range c.members {
		act, disp := metric(m, `frontdesk_grain_activations_total{kind="conversation"}`), metric(m, `frontdesk_dispatch_records_total{group="conversations",outcome="acked"}`)
		t.Logf("member %d: %v conversation activations, %v records dispatched", i, act, disp)
		if act == 0 || disp == 0 {
			t.Fatalf("member %d took no share of the work (activations %v, dispatched %v)", i, act, disp)
		}
	}

	t.Run("replay equals what was produced, in per-key order", func(t *testing.T) {
		var out, errb strings.Builder
		env := map[string]string{"FRONTDESK_KAFKA_BROKERS": c.broker, "FRONTDESK_LOG_LEVEL": "error"}
		if code := run(context.Background(), []string{"replay", "-topic", "inbound", "-from-offset", "0"}, envOf(env), &out, &errb); code != 0 {
			t.Fatalf("replay: %d %s", code, errb.String())
		}
		order := map[string][]string{}
		for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
			var e struct {
				Type    string `json:"type"`
				Key     string `json:"key"`
				Payload struct {
					ID string `json:"channel_message_id"`
				} `json:"payload"`
			}
			if err := jsonUnmarshal(line, &e); err != nil {
				t.Fatalf("replay line %q: %v", line, err)
			}
			if e.Type == "message.received" {
				order[e.Key] = append(order[e.Key], e.Payload.ID)
			}
		}
		if len(order) != clusterConversations {
			t.Fatalf("replayed %d conversations, want %d", len(order), clusterConversations)
		}
		for key, ids := range order {
			if len(ids) != clusterMessages {
				t.Fatalf("%s: %d messages replayed, want %d", key, len(ids), clusterMessages)
			}
			for n, id := range ids {
				if !strings.HasSuffix(id, fmt.Sprintf(".%d", n)) {
					t.Fatalf("%s: replay order %v", key, ids)
				}
			}
		}
	})
}

func TestClusterKillOneMember(t *testing.T) {
	c := startCluster(t)
	c.send(0)
	// The Graph API answers late while the member is killed, so replies it
	// was sending are taken by Meta but never recorded: the next sender
	// must learn of them from their status reports, not send them again.
	c.graph.SlowAnswers(3 * time.Second)
	c.send(1)
	time.Sleep(time.Second)
	clock := c.kill(2)
	c.graph.SlowAnswers(0)
	// Every conversation gets a message right after the kill; the time until
	// the last of them is answered is the recovery time. It is printed on
	// every run (make test-cluster keeps lines starting "cluster
	// recovery"); its goal lives in BenchmarkClusterRecovery, not here.
	c.send(2)
	c.waitAnswered("after kill -9")
	r := clock.report(time.Now())
	fmt.Println("cluster recovery after kill -9: " + r.String())
	c.send(3)
	c.send(4)
	c.waitAnswered("after kill -9, more load")
	c.check(clusterMessages)
}

// failoverClock times a fail-over from outside the members, from the kill
// on: when the dead member was out of each consumer group (the survivors'
// membership dropped it and they evicted it), when each group was stable
// again with every partition assigned, and when each reply reached the
// Graph API. It polls the broker and the Graph API fake every 50 ms.
type failoverClock struct {
	c      *testCluster
	killed time.Time
	victim string // the killed member's Kafka group instance id
	stop   chan struct{}
	done   chan struct{}

	mu     sync.Mutex
	out    map[string]time.Duration // group -> the victim no longer a member
	stable map[string]time.Duration // group -> stable without it, every partition assigned
	seen   map[string]time.Duration // reply (message id) -> first request for it at the Graph API
}

// failoverGroups are the consumer groups whose partitions move when a
// member dies: inbound dispatch and outbound sends.
var failoverGroups = []string{"conversations", "channel-sender"}

// kill sends SIGKILL to member i, waits until it is gone and starts the
// clock.
func (c *testCluster) kill(i int) *failoverClock {
	t := c.t
	victim := c.members[i]
	var addr string
	for _, e := range c.envs[i] {
		if v, ok := strings.CutPrefix(e, "FRONTDESK_CLUSTER_ADDR="); ok {
			addr = v
		}
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.broker))
	if err != nil {
		t.Fatal(err)
	}
	if err := victim.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	f := &failoverClock{c: c, killed: time.Now(), victim: kafkalog.GroupInstanceID(addr),
		stop: make(chan struct{}), done: make(chan struct{}),
		out: map[string]time.Duration{}, stable: map[string]time.Duration{}, seen: map[string]time.Duration{}}
	victim.alive.Store(false)
	<-victim.done
	go f.poll(kadm.NewClient(cl))
	t.Cleanup(func() { f.halt(); cl.Close() })
	return f
}

func (f *failoverClock) poll(adm *kadm.Client) {
	defer close(f.done)
	for {
		at := time.Since(f.killed)
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		gs, err := adm.DescribeGroups(ctx, failoverGroups...)
		cancel()
		reqs := f.c.graph.Requests()
		f.mu.Lock()
		for _, g := range gs {
			if err != nil || g.Err != nil {
				break
			}
			victim := slices.ContainsFunc(g.Members, func(m kadm.DescribedGroupMember) bool {
				return m.InstanceID != nil && *m.InstanceID == f.victim
			})
			if _, ok := f.out[g.Group]; !ok && !victim {
				f.out[g.Group] = at
			}
			if _, ok := f.stable[g.Group]; !ok && !victim && g.State == "Stable" {
				var n int
				for _, ps := range g.AssignedPartitions() {
					n += len(ps)
				}
				if n == clusterPartitions {
					f.stable[g.Group] = at
				}
			}
		}
		for _, r := range reqs {
			if k, ok := r.Body["biz_opaque_callback_data"].(string); ok && r.Body["type"] == "text" {
				if _, ok := f.seen[k]; !ok {
					f.seen[k] = at
				}
			}
		}
		f.mu.Unlock()
		select {
		case <-f.stop:
			return
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func (f *failoverClock) halt() {
	select {
	case <-f.stop:
	default:
		close(f.stop)
	}
	<-f.done
}

// failoverReport is a fail-over's figures, each since the kill.
type failoverReport struct {
	answered    time.Duration // the last conversation answered (stored)
	answeredP50 time.Duration
	delivered   time.Duration // the last of those answers at the Graph API; 0 if some never arrived
	out, stable map[string]time.Duration
}

// report measures the fail-over once every conversation has answered (at
// answered): each conversation's latest reply, when it was stored and when
// it reached the Graph API (waiting up to a minute for the last), and the
// consumer groups' phases.
func (f *failoverClock) report(answered time.Time) failoverReport {
	t := f.c.t
	r := failoverReport{answered: answered.Sub(f.killed)}
	rows, err := f.c.db.Query(`SELECT DISTINCT ON (conversation_id) id, created_at FROM messages
		WHERE direction = 'outbound' ORDER BY conversation_id, created_at DESC`)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	var stored []time.Duration
	for rows.Next() {
		var id string
		var at time.Time
		if err := rows.Scan(&id, &at); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
		stored = append(stored, at.Sub(f.killed))
	}
	if err := rows.Close(); err != nil {
		t.Fatal(err)
	}
	slices.Sort(stored)
	if len(stored) > 0 {
		r.answeredP50 = stored[len(stored)/2]
	}
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(100 * time.Millisecond) {
		f.mu.Lock()
		var last time.Duration
		all := true
		for _, id := range ids {
			at, ok := f.seen[id]
			all = all && ok
			last = max(last, at)
		}
		f.mu.Unlock()
		if all {
			r.delivered = last
			break
		}
		if time.Now().After(deadline) {
			break
		}
	}
	f.halt()
	f.mu.Lock()
	r.out, r.stable = maps.Clone(f.out), maps.Clone(f.stable)
	f.mu.Unlock()
	return r
}

// String is the line make test-cluster keeps.
func (r failoverReport) String() string {
	secs := func(d time.Duration) string { return fmt.Sprintf("%.1f s", d.Seconds()) }
	delivered := "not all within a minute"
	if r.delivered > 0 {
		delivered = secs(r.delivered)
	}
	var groups []string
	for _, g := range failoverGroups {
		out, stable := "-", "-"
		if d, ok := r.out[g]; ok {
			out = secs(d)
		}
		if d, ok := r.stable[g]; ok {
			stable = secs(d)
		}
		groups = append(groups, fmt.Sprintf("%s: dead member out %s, partitions reassigned %s", g, out, stable))
	}
	return fmt.Sprintf("every conversation answered again %s after the kill (p50 %s), its reply at the Graph API %s; %s",
		secs(r.answered), secs(r.answeredP50), delivered, strings.Join(groups, "; "))
}

func TestClusterPausedMember(t *testing.T) {
	c := startCluster(t)
	c.send(0)
	victim := c.members[1]
	if err := victim.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	victim.alive.Store(false)
	var sends atomic.Int32
	go func() { c.send(1); sends.Add(1) }()
	time.Sleep(15 * time.Second) // longer than the session timeout (6 s) and fencing (3 s)
	if err := victim.cmd.Process.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	victim.alive.Store(true)
	for sends.Load() == 0 {
		time.Sleep(100 * time.Millisecond)
	}
	c.send(2)
	c.send(3)
	c.send(4)
	c.waitAnswered("after SIGSTOP/SIGCONT")
	c.check(clusterMessages)
}

func TestClusterRollingRestart(t *testing.T) {
	c := startCluster(t)
	for n := range clusterMessages {
		done := make(chan struct{})
		go func() { c.send(n); close(done) }()
		if n < len(c.members) {
			m := c.members[n]
			m.alive.Store(false)
			m.stop(t)
			c.restart(n)
		}
		<-done
	}
	c.waitAnswered("rolling restart")
	c.check(clusterMessages)
}

func TestClusterBrokerRestart(t *testing.T) {
	c := startCluster(t)
	c.send(0)
	c.send(1)
	// The broker goes away under load and comes back on the same address
	// and data dir: producers (the outbox relay) and consumers recover.
	done := make(chan struct{})
	go func() { c.send(2); close(done) }()
	c.stopBroker(syscall.SIGTERM)
	time.Sleep(3 * time.Second)
	c.startBroker()
	<-done
	c.send(3)
	c.send(4)
	c.waitAnswered("after a broker restart")
	c.check(clusterMessages)
}
