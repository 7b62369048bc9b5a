package kafkalog

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"
)

// Config configures the Kafka event log. Zero fields take their defaults.
// Each field names the environment variable cmd/frontdesk parses it from;
// Validate names that variable in its errors.
type Config struct {
	// Brokers are the seed brokers as host:port (FRONTDESK_KAFKA_BROKERS).
	Brokers []string
	// ClientID is sent to the brokers for their logs and quotas
	// (FRONTDESK_KAFKA_CLIENT_ID, default "frontdesk").
	ClientID string
	// Partitions is the partition count of a topic this log creates
	// (FRONTDESK_KAFKA_PARTITIONS, default 12). A topic keeps the count it
	// was created with.
	Partitions int32
	// ReplicationFactor of a topic this log creates
	// (FRONTDESK_KAFKA_REPLICATION, default 1; -1 takes the broker's
	// default.replication.factor).
	ReplicationFactor int16
	// SessionTimeout is how long the group waits for a silent member before
	// giving its partitions to another (FRONTDESK_KAFKA_SESSION_TIMEOUT,
	// default 6s, the smallest a Kafka broker accepts unless its
	// group.min.session.timeout.ms is lowered; Kafka's own 45s default
	// would leave a dead member's conversations unanswered that long).
	// With InstanceID set and a peer that calls Evict, a dead member is
	// removed sooner and this is the fallback. Shorter is not better: a
	// member whose heartbeats stop for longer (a GC or a CPU-starved
	// container pause, a slow broker) is dropped and its partitions move,
	// which redelivers their uncommitted records.
	SessionTimeout time.Duration
	// HeartbeatInterval is how often a member tells the group it is alive
	// and learns of a rebalance (FRONTDESK_KAFKA_HEARTBEAT_INTERVAL,
	// default 1s; below SessionTimeout, ideally a third of it or less).
	// A member that is not polling learns that the partitions of a dead
	// member are to be shared only at its next heartbeat.
	HeartbeatInterval time.Duration
	// RebalanceTimeout bounds how long a rebalance waits for members to
	// rejoin (FRONTDESK_KAFKA_REBALANCE_TIMEOUT, default 60s). A member
	// rejoins between Polls, so a batch of MaxPollRecords must be handled
	// within it or the member drops out and its batch is redelivered.
	RebalanceTimeout time.Duration
	// DialTimeout bounds connecting to a broker; Open fails when no broker
	// answers within it (FRONTDESK_KAFKA_DIAL_TIMEOUT, default 10s).
	DialTimeout time.Duration
	// MaxPollRecords bounds the records one Poll returns
	// (FRONTDESK_KAFKA_MAX_POLL_RECORDS, default 500).
	MaxPollRecords int
	// InstanceID, when set, makes every subscription of this log a static
	// member of its group (KIP-345, Kafka 2.4+) under this name, so that a
	// peer that knows this process is dead can remove it from its groups
	// at once (Evict) instead of the group waiting out SessionTimeout. It
	// must be unique per process among a group's members; one subscription
	// per group at a time. Characters Kafka does not allow in an instance
	// id (outside a-z, A-Z, 0-9, '.', '_', '-') are replaced by '_', here
	// and in Evict alike. cmd/frontdesk sets it to the member's cluster
	// address (FRONTDESK_CLUSTER_ADDR). Empty: dynamic membership.
	InstanceID string
	// SASL authenticates to the brokers; zero means no authentication.
	SASL SASLConfig
	// TLS encrypts the broker connections.
	TLS TLSConfig
}

// SASLConfig selects SASL authentication.
type SASLConfig struct {
	// Mechanism is MechanismPlain, MechanismSCRAMSHA256 or
	// MechanismSCRAMSHA512, or empty for none (FRONTDESK_KAFKA_SASL_MECHANISM).
	Mechanism string
	// User and Password (FRONTDESK_KAFKA_SASL_USER,
	// FRONTDESK_KAFKA_SASL_PASSWORD) are required with a mechanism.
	User, Password string
}

// SASL mechanisms of SASLConfig.Mechanism.
const (
	MechanismPlain       = "PLAIN"
	MechanismSCRAMSHA256 = "SCRAM-SHA-256"
	MechanismSCRAMSHA512 = "SCRAM-SHA-512"
)

// TLSConfig configures TLS to the brokers.
type TLSConfig struct {
	// Enabled turns TLS on (FRONTDESK_KAFKA_TLS).
	Enabled bool
	// CAFile is a PEM file of the CAs that sign the brokers' certificates
	// (FRONTDESK_KAFKA_TLS_CA_FILE, default the system roots).
	CAFile string
	// CertFile and KeyFile are a PEM client certificate and its key for
	// mutual TLS (FRONTDESK_KAFKA_TLS_CERT_FILE, FRONTDESK_KAFKA_TLS_KEY_FILE);
	// both or neither.
	CertFile, KeyFile string
	// InsecureSkipVerify accepts any broker certificate
	// (FRONTDESK_KAFKA_TLS_INSECURE_SKIP_VERIFY); for tests only.
	InsecureSkipVerify bool
}

// Default values of Config.
const (
	DefaultClientID          = "frontdesk"
	DefaultPartitions        = 12
	DefaultReplicationFactor = 1
	DefaultSessionTimeout    = 6 * time.Second
	DefaultHeartbeatInterval = time.Second
	DefaultRebalanceTimeout  = 60 * time.Second
	DefaultDialTimeout       = 10 * time.Second
	DefaultMaxPollRecords    = 500
)

// Validate reports every setting that cannot work, each error naming its
// FRONTDESK_KAFKA_* variable. It reads no files: Open does.
func (c Config) Validate() error {
	var errs []error
	bad := func(env, format string, args ...any) {
		errs = append(errs, fmt.Errorf(env+": "+format, args...))
	}
	if len(c.Brokers) == 0 {
		bad("FRONTDESK_KAFKA_BROKERS", "no broker given; want comma-separated host:port")
	}
	for _, b := range c.Brokers {
		if err := validBroker(b); err != nil {
			bad("FRONTDESK_KAFKA_BROKERS", "broker %q: %v", b, err)
		}
	}
	if c.Partitions < 0 {
		bad("FRONTDESK_KAFKA_PARTITIONS", "%d: want a positive count (0 for the default %d)", c.Partitions, DefaultPartitions)
	}
	if c.ReplicationFactor < -1 {
		bad("FRONTDESK_KAFKA_REPLICATION", "%d: want a positive factor, or -1 for the broker's default", c.ReplicationFactor)
	}
	for _, d := range []struct {
		env string
		v   time.Duration
	}{
		{"FRONTDESK_KAFKA_SESSION_TIMEOUT", c.SessionTimeout},
		{"FRONTDESK_KAFKA_HEARTBEAT_INTERVAL", c.HeartbeatInterval},
		{"FRONTDESK_KAFKA_REBALANCE_TIMEOUT", c.RebalanceTimeout},
		{"FRONTDESK_KAFKA_DIAL_TIMEOUT", c.DialTimeout},
	} {
		if d.v < 0 {
			bad(d.env, "%s: must not be negative", d.v)
		}
	}
	if d := c.withDefaults(); c.SessionTimeout >= 0 && c.HeartbeatInterval >= 0 && d.HeartbeatInterval >= d.SessionTimeout {
		bad("FRONTDESK_KAFKA_HEARTBEAT_INTERVAL", "%s: must be below the session timeout %s (FRONTDESK_KAFKA_SESSION_TIMEOUT), ideally a third of it",
			d.HeartbeatInterval, d.SessionTimeout)
	}
	if c.MaxPollRecords < 0 {
		bad("FRONTDESK_KAFKA_MAX_POLL_RECORDS", "%d: want a positive count (0 for the default %d)", c.MaxPollRecords, DefaultMaxPollRecords)
	}
	switch c.SASL.Mechanism {
	case "":
		if c.SASL.User != "" || c.SASL.Password != "" {
			bad("FRONTDESK_KAFKA_SASL_MECHANISM", "empty while a SASL user or password is set; want %s, %s or %s",
				MechanismPlain, MechanismSCRAMSHA256, MechanismSCRAMSHA512)
		}
	case MechanismPlain, MechanismSCRAMSHA256, MechanismSCRAMSHA512:
		if c.SASL.User == "" {
			bad("FRONTDESK_KAFKA_SASL_USER", "required with SASL mechanism %s", c.SASL.Mechanism)
		}
		if c.SASL.Password == "" {
			bad("FRONTDESK_KAFKA_SASL_PASSWORD", "required with SASL mechanism %s", c.SASL.Mechanism)
		}
	default:
		bad("FRONTDESK_KAFKA_SASL_MECHANISM", "%q: want %s, %s or %s", c.SASL.Mechanism,
			MechanismPlain, MechanismSCRAMSHA256, MechanismSCRAMSHA512)
	}
	t := c.TLS
	if !t.Enabled {
		for _, f := range []struct{ env, v string }{
			{"FRONTDESK_KAFKA_TLS_CA_FILE", t.CAFile},
			{"FRONTDESK_KAFKA_TLS_CERT_FILE", t.CertFile},
			{"FRONTDESK_KAFKA_TLS_KEY_FILE", t.KeyFile},
		} {
			if f.v != "" {
				bad(f.env, "set while TLS is off; set FRONTDESK_KAFKA_TLS=true")
			}
		}
		if t.InsecureSkipVerify {
			bad("FRONTDESK_KAFKA_TLS_INSECURE_SKIP_VERIFY", "set while TLS is off; set FRONTDESK_KAFKA_TLS=true")
		}
	}
	if (t.CertFile == "") != (t.KeyFile == "") {
		bad("FRONTDESK_KAFKA_TLS_CERT_FILE", "client certificate and key (FRONTDESK_KAFKA_TLS_KEY_FILE) go together: set both or neither")
	}
	return errors.Join(errs...)
}

func validBroker(b string) error {
	host, port, err := net.SplitHostPort(b)
	if err != nil {
		return errors.New("want host:port")
	}
	if host == "" {
		return errors.New("empty host")
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return fmt.Errorf("port %q: want 1 to 65535", port)
	}
	return nil
}

func (c Config) withDefaults() Config {
	if c.ClientID == "" {
		c.ClientID = DefaultClientID
	}
	if c.Partitions == 0 {
		c.Partitions = DefaultPartitions
	}
	if c.ReplicationFactor == 0 {
		c.ReplicationFactor = DefaultReplicationFactor
	}
	if c.SessionTimeout == 0 {
		c.SessionTimeout = DefaultSessionTimeout
	}
	if c.HeartbeatInterval == 0 {
		c.HeartbeatInterval = DefaultHeartbeatInterval
	}
	if c.RebalanceTimeout == 0 {
		c.RebalanceTimeout = DefaultRebalanceTimeout
	}
	if c.DialTimeout == 0 {
		c.DialTimeout = DefaultDialTimeout
	}
	if c.MaxPollRecords == 0 {
		c.MaxPollRecords = DefaultMaxPollRecords
	}
	return c
}

// connOpts returns the client options every client of the log shares:
// brokers, identity, dialing, authentication and encryption. It reads the
// TLS files.
func (c Config) connOpts() ([]kgo.Opt, error) {
	opts := []kgo.Opt{
		kgo.SeedBrokers(c.Brokers...),
		kgo.ClientID(c.ClientID),
		kgo.DialTimeout(c.DialTimeout),
	}
	if c.TLS.Enabled {
		tc, err := c.TLS.load()
		if err != nil {
			return nil, err
		}
		opts = append(opts, kgo.DialTLSConfig(tc))
	}
	if m := c.SASL.mechanism(); m != nil {
		opts = append(opts, kgo.SASL(m))
	}
	return opts, nil
}

func (s SASLConfig) mechanism() sasl.Mechanism {
	switch s.Mechanism {
	case MechanismPlain:
		return plain.Auth{User: s.User, Pass: s.Password}.AsMechanism()
	case MechanismSCRAMSHA256:
		return scram.Auth{User: s.User, Pass: s.Password}.AsSha256Mechanism()
	case MechanismSCRAMSHA512:
		return scram.Auth{User: s.User, Pass: s.Password}.AsSha512Mechanism()
	}
	return nil
}

// load builds the TLS client configuration from the files.
func (t TLSConfig) load() (*tls.Config, error) {
	tc := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: t.InsecureSkipVerify} //nolint:gosec // opt-in, documented as tests only
	if t.CAFile != "" {
		pem, err := os.ReadFile(t.CAFile)
		if err != nil {
			return nil, fmt.Errorf("FRONTDESK_KAFKA_TLS_CA_FILE: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("FRONTDESK_KAFKA_TLS_CA_FILE %s: no PEM certificate in it", t.CAFile)
		}
		tc.RootCAs = pool
	}
	if t.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(t.CertFile, t.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("FRONTDESK_KAFKA_TLS_CERT_FILE/FRONTDESK_KAFKA_TLS_KEY_FILE: %w", err)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	return tc, nil
}

// brokerList is the brokers for messages.
func (c Config) brokerList() string { return strings.Join(c.Brokers, ",") }
