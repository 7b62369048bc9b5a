package kafkalog_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/frontdesk-ai/frontdesk/persistence"
	"github.com/frontdesk-ai/frontdesk/persistence/kafkalog"
	"github.com/frontdesk-ai/frontdesk/persistence/kafkalog/kafkalogtest"
	"github.com/frontdesk-ai/frontdesk/persistence/logtest"
	"github.com/frontdesk-ai/frontdesk/persistence/sqlstore"
)

// wait bounds every blocking step; generous, never a timing assertion.
const wait = 30 * time.Second

// quiet is how long a check that something must not happen waits. A
// correct log passes whatever its value; shorter only weakens the check.
const quiet = 1500 * time.Millisecond

// admin returns a kadm client on brokers, closed when the test ends.
func admin(t *testing.T, brokers []string) *kadm.Client {
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return kadm.NewClient(cl)
}

func ctxFor(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*wait)
	t.Cleanup(cancel)
	return ctx
}

// open opens a log with cfg on brokers and closes it when the test ends.
func open(t *testing.T, brokers []string, cfg kafkalog.Config) *kafkalog.Log {
	t.Helper()
	cfg.Brokers = brokers
	log, err := kafkalog.Open(ctxFor(t), cfg, zerolog.Nop())
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { log.Close() })
	return log
}

func TestConformance(t *testing.T) {
	logtest.Run(t, func(t *testing.T) (persistence.Log, func() persistence.Log) {
		brokers := kafkalogtest.Start(t)
		current := open(t, brokers, kafkalog.Config{})
		reopen := func() persistence.Log {
			current.Close()
			current = open(t, brokers, kafkalog.Config{})
			return current
		}
		return current, reopen
	})
}

// TestPartitionerMatchesSQLLog appends many keys and checks each landed on
// the partition the SQL log computes, the empty key on partition 0.
func TestPartitionerMatchesSQLLog(t *testing.T) {
	brokers := kafkalogtest.Start(t)
	for _, parts := range []int32{12, 7, 1} {
		t.Run(strconv.Itoa(int(parts)), func(t *testing.T) {
			log := open(t, brokers, kafkalog.Config{Partitions: parts})
			topic := "keys-" + strconv.Itoa(int(parts))
			recs := []persistence.Record{{Topic: topic, Key: "", Value: []byte("empty")}}
			for i := range 2000 {
				// Short, long, unicode and conversation-id-like keys.
				key := fmt.Sprintf("conv-%d-%s", i, strings.Repeat("x", i%9))
				if i%5 == 0 {
					key = "é" + strconv.Itoa(i)
				}
				recs = append(recs, persistence.Record{Topic: topic, Key: key, Value: []byte(key)})
			}
			recs = append(recs, persistence.Record{Topic: topic, Key: "", Value: []byte("empty again")})
			got, err := log.Append(ctxFor(t), recs...)
			if err != nil {
				t.Fatalf("append: %v", err)
			}
			used := map[int32]bool{}
			for _, r := range got {
				want := sqlstore.PartitionForKey(r.Key, parts)
				if r.Key == "" && r.Partition != 0 {
					t.Fatalf("empty key on partition %d, want 0", r.Partition)
				}
				if r.Partition != want {
					t.Fatalf("key %q on partition %d, the SQL log puts it on %d", r.Key, r.Partition, want)
				}
				used[r.Partition] = true
			}
			if int32(len(used)) != parts {
				t.Errorf("2000 keys used %d of %d partitions", len(used), parts)
			}
		})
	}
}

// member polls a subscription in the background, recording what it got.
type member struct {
	sub  persistence.Subscription
	mu   sync.Mutex
	got  map[string]int32 // value -> partition
	done chan error
}

func startMember(t *testing.T, log *kafkalog.Log, group, topic string) *member {
	t.Helper()
	sub, err := log.Subscribe(ctxFor(t), group, topic)
	if err != nil {
		t.Fatalf("subscribe: %v", err)
	}
	m := &member{sub: sub, got: map[string]int32{}, done: make(chan error, 1)}
	go func() {
		for {
			recs, err := sub.Poll(context.Background())
			if err != nil {
				m.done <- err
				return
			}
			m.mu.Lock()
			for _, r := range recs {
				m.got[string(r.Value)] = r.Partition
			}
			m.mu.Unlock()
		}
	}()
	t.Cleanup(func() { sub.Close() })
	return m
}

func (m *member) snapshot() map[string]int32 {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make(map[string]int32, len(m.got))
	for v, p := range m.got {
		out[v] = p
	}
	return out
}

// eventually polls cond until it holds or wait passes.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting: %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestGroupSplitAndFailover: two members of one group split the
// partitions; when one leaves, the other takes over its partitions and
// gets their uncommitted records again; nothing is lost.
func TestGroupSplitAndFailover(t *testing.T) {
	brokers := kafkalogtest.Start(t)
	cfg := kafkalog.Config{Partitions: 6}
	log := open(t, brokers, cfg)
	const topic, group = "failover", "failover-g"
	batch := func(prefix string) []persistence.Record {
		var in []persistence.Record
		for i := range 60 {
			in = append(in, persistence.Record{Topic: topic, Key: "k" + strconv.Itoa(i), Value: []byte(prefix + strconv.Itoa(i))})
		}
		in, err := log.Append(ctxFor(t), in...)
		if err != nil {
			t.Fatalf("append: %v", err)
		}
		return in
	}
	holds := func(m *member, recs []persistence.Record) bool {
		got := m.snapshot()
		for _, r := range recs {
			if _, ok := got[string(r.Value)]; !ok {
				return false
			}
		}
		return true
	}

	// Each member on a log of its own, as two processes would be.
	a := startMember(t, open(t, brokers, cfg), group, topic)
	b := startMember(t, open(t, brokers, cfg), group, topic)
	first := batch("v")
	// While b joins, a may read partitions it then hands to b, which reads
	// them again (nothing is committed): at least once. Once both have
	// records, the assignment is settled.
	eventually(t, "both members consume and together hold every record", func() bool {
		ga, gb := a.snapshot(), b.snapshot()
		if len(ga) == 0 || len(gb) == 0 {
			return false
		}
		for _, r := range first {
			_, inA := ga[string(r.Value)]
			_, inB := gb[string(r.Value)]
			if !inA && !inB {
				return false
			}
		}
		return true
	})
	second := batch("w")
	eventually(t, "the members together hold the second batch", func() bool {
		ga, gb := a.snapshot(), b.snapshot()
		for _, r := range second {
			_, inA := ga[string(r.Value)]
			_, inB := gb[string(r.Value)]
			if !inA && !inB {
				return false
			}
		}
		return true
	})
	ga, gb := a.snapshot(), b.snapshot()
	owner := map[int32]string{}
	var ofA []persistence.Record
	for _, r := range second {
		_, inA := ga[string(r.Value)]
		_, inB := gb[string(r.Value)]
		who := "a"
		if inB {
			who = "b"
		}
		if inA && inB {
			t.Fatalf("record %s delivered to both members after the rebalance settled", r.Value)
		}
		if o, ok := owner[r.Partition]; ok && o != who {
			t.Fatalf("partition %d delivered to both members", r.Partition)
		}
		owner[r.Partition] = who
	}
	counts := map[string]int{}
	for _, who := range owner {
		counts[who]++
	}
	if counts["a"] == 0 || counts["b"] == 0 {
		t.Fatalf("partitions split %v; want both members to own some", counts)
	}
	for _, r := range append(first, second...) {
		if owner[r.Partition] == "a" {
			ofA = append(ofA, r)
		}
	}

	// a commits nothing and leaves: b must get a's records again.
	if err := a.sub.Close(); err != nil {
		t.Fatalf("close a: %v", err)
	}
	if err := <-a.done; !errors.Is(err, persistence.ErrClosed) {
		t.Errorf("a's poll after close: %v, want ErrClosed", err)
	}
	eventually(t, "b receives every uncommitted record of a's partitions", func() bool { return holds(b, ofA) })
	third := batch("x")
	eventually(t, "b receives records of every partition appended after the failover", func() bool { return holds(b, third) })
}

// TestCommitBeforeRebalance: a member that polled holds off the
// rebalance a joining member starts until its next Poll, so the records it
// commits in between are never handed to the newcomer.
func TestCommitBeforeRebalance(t *testing.T) {
	brokers := kafkalogtest.Start(t)
	cfg := kafkalog.Config{Partitions: 6}
	log := open(t, brokers, cfg)
	const topic, group = "handover", "handover-g"
	appendBatch := func(prefix string) []persistence.Record {
		var in []persistence.Record
		for i := range 30 {
			in = append(in, persistence.Record{Topic: topic, Key: "k" + strconv.Itoa(i), Value: []byte(prefix + strconv.Itoa(i))})
		}
		in, err := log.Append(ctxFor(t), in...)
		if err != nil {
			t.Fatalf("append: %v", err)
		}
		return in
	}
	first := appendBatch("v")
	a, err := open(t, brokers, cfg).Subscribe(ctxFor(t), group, topic)
	if err != nil {
		t.Fatalf("subscribe a: %v", err)
	}
	t.Cleanup(func() { a.Close() })
	var held []persistence.Record
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	for len(held) < len(first) {
		recs, err := a.Poll(ctx)
		if err != nil {
			t.Fatalf("a poll: %v", err)
		}
		held = append(held, recs...)
	}

	// b joins while a handles its batch. Once the group is rebalancing, a
	// takes its time (quiet: a log that let the rebalance through would
	// hand b a's partitions now), commits, then polls again.
	b := startMember(t, open(t, brokers, cfg), group, topic)
	adm := admin(t, brokers)
	eventually(t, "b's join starts a rebalance", func() bool {
		gs, err := adm.DescribeGroups(ctxFor(t), group)
		if err != nil {
			return false
		}
		return gs[group].State == "PreparingRebalance" || gs[group].State == "CompletingRebalance" || len(b.snapshot()) > 0
	})
	time.Sleep(quiet)
	if err := a.Commit(ctxFor(t), held); err != nil {
		t.Fatalf("a commits its batch while b joins: %v", err)
	}
	am := &member{sub: a, got: map[string]int32{}, done: make(chan error, 1)}
	go func() {
		for {
			recs, err := a.Poll(context.Background())
			if err != nil {
				am.done <- err
				return
			}
			am.mu.Lock()
			for _, r := range recs {
				am.got[string(r.Value)] = r.Partition
			}
			am.mu.Unlock()
		}
	}()
	second := appendBatch("w")
	eventually(t, "b takes over partitions and the members together hold the second batch", func() bool {
		ga, gb := am.snapshot(), b.snapshot()
		if len(gb) == 0 {
			return false
		}
		for _, r := range second {
			_, inA := ga[string(r.Value)]
			_, inB := gb[string(r.Value)]
			if !inA && !inB {
				return false
			}
		}
		return true
	})
	for v := range b.snapshot() {
		if strings.HasPrefix(v, "v") {
			t.Fatalf("b received %s, which a committed before the rebalance", v)
		}
	}
}

// TestTopicCreationRace: two logs with different partition settings create
// one topic at once; every caller sees the count it was created with.
func TestTopicCreationRace(t *testing.T) {
	brokers := kafkalogtest.Start(t)
	logs := []*kafkalog.Log{
		open(t, brokers, kafkalog.Config{Partitions: 5}),
		open(t, brokers, kafkalog.Config{Partitions: 9}),
	}
	const topic = "raced"
	counts := make(chan int32, 16)
	errs := make(chan error, 16)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			log := logs[i%2]
			if i%3 == 0 {
				if _, err := log.Append(ctxFor(t), persistence.Record{Topic: topic, Key: "k" + strconv.Itoa(i)}); err != nil {
					errs <- err
					return
				}
			}
			n, err := log.Partitions(ctxFor(t), topic)
			if err != nil {
				errs <- err
				return
			}
			counts <- n
		}()
	}
	close(start)
	wg.Wait()
	close(errs)
	close(counts)
	for err := range errs {
		t.Fatalf("racing creators: %v", err)
	}
	var first int32
	for n := range counts {
		if first == 0 {
			first = n
		}
		if n != first || (n != 5 && n != 9) {
			t.Fatalf("partition counts %d and %d; want one of the configured counts, everywhere", first, n)
		}
	}
	// A third log, opened afterwards, sees the same count.
	if n, err := open(t, brokers, kafkalog.Config{Partitions: 3}).Partitions(ctxFor(t), topic); err != nil || n != first {
		t.Fatalf("partitions seen by a later log: %d, %v; want %d", n, err, first)
	}
}

func TestValidate(t *testing.T) {
	ok := kafkalog.Config{Brokers: []string{"k1:9092", "10.0.0.2:9093"}}
	cases := []struct {
		name string
		edit func(c *kafkalog.Config)
		want string // "" for valid; else the setting named
	}{
		{"Valid", func(*kafkalog.Config) {}, ""},
		{"ValidSASLTLS", func(c *kafkalog.Config) {
			c.SASL = kafkalog.SASLConfig{Mechanism: kafkalog.MechanismSCRAMSHA512, User: "u", Password: "p"}
			c.TLS = kafkalog.TLSConfig{Enabled: true, CAFile: "/ca.pem", CertFile: "/c.pem", KeyFile: "/k.pem"}
		}, ""},
		{"BrokerDefaultReplication", func(c *kafkalog.Config) { c.ReplicationFactor = -1 }, ""},
		{"NoBrokers", func(c *kafkalog.Config) { c.Brokers = nil }, "FRONTDESK_KAFKA_BROKERS"},
		{"BrokerWithoutPort", func(c *kafkalog.Config) { c.Brokers = []string{"kafka"} }, "FRONTDESK_KAFKA_BROKERS"},
		{"BrokerBadPort", func(c *kafkalog.Config) { c.Brokers = []string{"kafka:http"} }, "FRONTDESK_KAFKA_BROKERS"},
		{"BrokerNoHost", func(c *kafkalog.Config) { c.Brokers = []string{":9092"} }, "FRONTDESK_KAFKA_BROKERS"},
		{"NegativePartitions", func(c *kafkalog.Config) { c.Partitions = -1 }, "FRONTDESK_KAFKA_PARTITIONS"},
		{"BadReplication", func(c *kafkalog.Config) { c.ReplicationFactor = -2 }, "FRONTDESK_KAFKA_REPLICATION"},
		{"NegativeSession", func(c *kafkalog.Config) { c.SessionTimeout = -time.Second }, "FRONTDESK_KAFKA_SESSION_TIMEOUT"},
		{"HeartbeatNotBelowSession", func(c *kafkalog.Config) { c.HeartbeatInterval = 6 * time.Second }, "FRONTDESK_KAFKA_HEARTBEAT_INTERVAL"},
		{"NegativeRebalance", func(c *kafkalog.Config) { c.RebalanceTimeout = -1 }, "FRONTDESK_KAFKA_REBALANCE_TIMEOUT"},
		{"NegativeDial", func(c *kafkalog.Config) { c.DialTimeout = -1 }, "FRONTDESK_KAFKA_DIAL_TIMEOUT"},
		{"NegativeMaxPoll", func(c *kafkalog.Config) { c.MaxPollRecords = -1 }, "FRONTDESK_KAFKA_MAX_POLL_RECORDS"},
		{"UnknownMechanism", func(c *kafkalog.Config) { c.SASL.Mechanism = "GSSAPI" }, "FRONTDESK_KAFKA_SASL_MECHANISM"},
		{"UserWithoutMechanism", func(c *kafkalog.Config) { c.SASL.User = "u" }, "FRONTDESK_KAFKA_SASL_MECHANISM"},
		{"MechanismWithoutUser", func(c *kafkalog.Config) { c.SASL = kafkalog.SASLConfig{Mechanism: "PLAIN", Password: "p"} }, "FRONTDESK_KAFKA_SASL_USER"},
		{"MechanismWithoutPassword", func(c *kafkalog.Config) { c.SASL = kafkalog.SASLConfig{Mechanism: "PLAIN", User: "u"} }, "FRONTDESK_KAFKA_SASL_PASSWORD"},
		{"CAWithoutTLS", func(c *kafkalog.Config) { c.TLS.CAFile = "/ca.pem" }, "FRONTDESK_KAFKA_TLS_CA_FILE"},
		{"CertWithoutKey", func(c *kafkalog.Config) { c.TLS = kafkalog.TLSConfig{Enabled: true, CertFile: "/c.pem"} }, "FRONTDESK_KAFKA_TLS_CERT_FILE"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := ok
			c.edit(&cfg)
			err := cfg.Validate()
			if c.want == "" {
				if err != nil {
					t.Fatalf("valid config rejected: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Validate() = %v, want an error naming %s", err, c.want)
			}
			// Open refuses it before dialing.
			if _, oerr := kafkalog.Open(context.Background(), cfg, zerolog.Nop()); oerr == nil || !strings.Contains(oerr.Error(), c.want) {
				t.Fatalf("Open() = %v, want an error naming %s", oerr, c.want)
			}
		})
	}
}

// deadAddr returns an address nothing listens on.
func deadAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func TestUnreachableBroker(t *testing.T) {
	t.Run("Open", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		defer cancel()
		_, err := kafkalog.Open(ctx, kafkalog.Config{Brokers: []string{deadAddr(t)}, DialTimeout: time.Second}, zerolog.Nop())
		if err == nil || !strings.Contains(err.Error(), "FRONTDESK_KAFKA_BROKERS") || ctx.Err() != nil {
			t.Fatalf("open on a dead address: %v (context %v); want a prompt error naming FRONTDESK_KAFKA_BROKERS", err, ctx.Err())
		}
	})
	t.Run("AppendAfterBrokerDied", func(t *testing.T) {
		c, err := kfake.NewCluster(kfake.NumBrokers(1))
		if err != nil {
			t.Fatal(err)
		}
		log := open(t, c.ListenAddrs(), kafkalog.Config{DialTimeout: time.Second})
		if _, err := log.Append(ctxFor(t), persistence.Record{Topic: "dead", Key: "k"}); err != nil {
			t.Fatalf("append while the broker runs: %v", err)
		}
		c.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		res := make(chan error, 1)
		go func() {
			_, err := log.Append(ctx, persistence.Record{Topic: "dead", Key: "k"})
			res <- err
		}()
		select {
		case err := <-res:
			if err == nil {
				t.Fatal("append to a dead broker succeeded")
			}
			if !strings.Contains(err.Error(), "append") {
				t.Errorf("error %q does not say what failed", err)
			}
		case <-time.After(wait):
			t.Fatal("append to a dead broker did not return after its deadline")
		}
	})
}

// TestSASL: a log authenticates with SCRAM; a wrong password fails Open.
func TestSASL(t *testing.T) {
	brokers := kafkalogtest.Start(t, kfake.EnableSASL(), kfake.Superuser(kafkalog.MechanismSCRAMSHA256, "fd", "secret"))
	sasl := kafkalog.SASLConfig{Mechanism: kafkalog.MechanismSCRAMSHA256, User: "fd", Password: "secret"}
	log := open(t, brokers, kafkalog.Config{SASL: sasl})
	got, err := log.Append(ctxFor(t), persistence.Record{Topic: "auth", Key: "k", Value: []byte("v")})
	if err != nil {
		t.Fatalf("append with SASL: %v", err)
	}
	back, err := log.Read(ctxFor(t), "auth", got[0].Partition, 0, 10)
	if err != nil || len(back) != 1 || string(back[0].Value) != "v" {
		t.Fatalf("read with SASL: %v, %v", back, err)
	}
	sasl.Password = "wrong"
	if _, err := kafkalog.Open(ctxFor(t), kafkalog.Config{Brokers: brokers, SASL: sasl, DialTimeout: 5 * time.Second}, zerolog.Nop()); err == nil {
		t.Fatal("open with a wrong SASL password succeeded")
	}
}

// TestTLS: a log verifies the broker against the CA file; without the CA
// it refuses the broker.
func TestTLS(t *testing.T) {
	dir := t.TempDir()
	serverConf, caFile := testCerts(t, dir)
	brokers := kafkalogtest.Start(t, kfake.TLS(serverConf))
	log := open(t, brokers, kafkalog.Config{TLS: kafkalog.TLSConfig{Enabled: true, CAFile: caFile}})
	if _, err := log.Append(ctxFor(t), persistence.Record{Topic: "tls", Key: "k"}); err != nil {
		t.Fatalf("append over TLS: %v", err)
	}
	if _, err := kafkalog.Open(ctxFor(t), kafkalog.Config{Brokers: brokers, TLS: kafkalog.TLSConfig{Enabled: true}, DialTimeout: 5 * time.Second}, zerolog.Nop()); err == nil {
		t.Fatal("open trusted a broker certificate from an unknown CA")
	}
	missing := filepath.Join(dir, "missing.pem")
	if _, err := kafkalog.Open(ctxFor(t), kafkalog.Config{Brokers: brokers, TLS: kafkalog.TLSConfig{Enabled: true, CAFile: missing}}, zerolog.Nop()); err == nil ||
		!strings.Contains(err.Error(), "FRONTDESK_KAFKA_TLS_CA_FILE") {
		t.Fatalf("open with a missing CA file: %v, want an error naming FRONTDESK_KAFKA_TLS_CA_FILE", err)
	}
}

// testCerts makes a CA and a server certificate for 127.0.0.1, writes the
// CA to dir and returns the server's TLS config and the CA file.
func testCerts(t *testing.T, dir string) (*tls.Config, string) {
	t.Helper()
	key := func() *ecdsa.PrivateKey {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	caKey, srvKey := key(), key()
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		t.Fatal(err)
	}
	srvTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "broker"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"localhost"},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, KeyUsage: x509.KeyUsageDigitalSignature,
	}
	srvDER, err := x509.CreateCertificate(rand.Reader, srvTmpl, ca, &srvKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caFile := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	return &tls.Config{
		MinVersion:   tls.VersionTLS12,
		Certificates: []tls.Certificate{{Certificate: [][]byte{srvDER}, PrivateKey: srvKey}},
	}, caFile
}
