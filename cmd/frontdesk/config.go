package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/frontdesk-ai/frontdesk/actors"
	"github.com/frontdesk-ai/frontdesk/cluster"
	"github.com/frontdesk-ai/frontdesk/knowledge"
	"github.com/frontdesk-ai/frontdesk/persistence/kafkalog"
	"github.com/frontdesk-ai/frontdesk/persistence/sqlstore"
)

// config is every setting of the binary, parsed once from the environment
// (the contract) and flags that mirror it.
type config struct {
	HTTPAddr string
	// MetricsAddr serves /metrics apart from HTTPAddr when set.
	MetricsAddr string
	LogLevel    string
	LogFormat   string
	Store       sqlstore.Config
	Kafka       kafkalog.Config
	Cluster     cluster.Config
	Actors      actors.Config
	Partitions  int

	Demo bool
	// explicit names the settings given in the environment or as flags
	// (the others took their defaults).
	explicit map[string]bool
	// getenv is the environment the config was read from (for secrets a
	// config file names by variable).
	getenv                    func(string) string
	AdminEmail, AdminPassword string
	WhatsApp                  whatsAppConfig
	LLM                       llmConfig
	Shopify                   shopifyConfig
	Magento                   magentoConfig
	Stripe                    stripeConfig
	Knowledge                 knowledgeConfig
}

// knowledgeConfig tunes the knowledge base.
type knowledgeConfig struct {
	MaxUploadBytes int64
	Threshold      float64
	// EmbeddingModel, when set, embeds chunks and questions with the LLM
	// router's embeddings route (hybrid retrieval); empty: BM25 alone.
	EmbeddingModel string
}

// stripeConfig is the default tenant's Stripe account (payments).
type stripeConfig struct {
	SecretKey, WebhookSecret, APIURL, SuccessURL, CancelURL string
}

// shopifyConfig is the default tenant's Shopify store.
type shopifyConfig struct {
	Shop, WebhookSecret, AdminToken, APIURL string
}

// magentoConfig is the default tenant's Magento / Adobe Commerce store.
type magentoConfig struct {
	BaseURL, Token, WebhookSecret, PublicKeyFile string
}

// whatsAppConfig is the default tenant's WhatsApp Cloud API channel.
type whatsAppConfig struct {
	VerifyToken, AppSecret, AccessToken, PhoneNumberID string
	GraphAPIURL                                        string
	RatePerSecond, ReceiptsPerSecond                   float64
}

// enabled reports whether the channel is configured at all.
func (w whatsAppConfig) enabled() bool {
	return w.VerifyToken != "" || w.AppSecret != "" || w.AccessToken != "" || w.PhoneNumberID != ""
}

// llmConfig is the default agent's model backend.
type llmConfig struct {
	BaseURL, Model, APIKey string
	// ConfigPath is the router's YAML file (FRONTDESK_LLMROUTER_CONFIG).
	ConfigPath string
	// RouterURL and RouterAPIKey select a remote frontdesk llmrouter.
	RouterURL, RouterAPIKey string
}

// demoHTTPAddr is demo mode's listen address when FRONTDESK_HTTP_ADDR is
// not set: loopback only.
const demoHTTPAddr = "127.0.0.1:8080"

// setting ties one environment variable to the flag that mirrors it.
type setting struct {
	env, flag, def, help string
	set                  func(c *config, v string) error
}

var settings = []setting{
	{"FRONTDESK_HTTP_ADDR", "http-addr", ":8080", "listen address of the HTTP server (in demo mode " + demoHTTPAddr + " unless set)",
		func(c *config, v string) error { c.HTTPAddr = v; return nil }},
	{"FRONTDESK_METRICS_ADDR", "metrics-addr", "", "separate listen address for /metrics (empty: /metrics on the HTTP server's address)",
		func(c *config, v string) error { c.MetricsAddr = v; return nil }},
	{"FRONTDESK_DATA_DIR", "data-dir", "./data", "embedded store, log and blobs",
		func(c *config, v string) error { c.Store.DataDir = v; return nil }},
	{"FRONTDESK_DATABASE_URL", "database-url", "", "postgres://… selects PostgreSQL (empty: SQLite in the data dir)",
		func(c *config, v string) error {
			if v != "" {
				if err := sqlstore.ValidateDatabaseURL(v); err != nil {
					return err
				}
			}
			c.Store.DatabaseURL = v
			return nil
		}},
	{"FRONTDESK_KAFKA_BROKERS", "kafka-brokers", "", "comma-separated host:port selects Kafka (empty: embedded log)",
		func(c *config, v string) error { c.Kafka.Brokers = splitList(v); return nil }},
	{"FRONTDESK_KAFKA_PARTITIONS", "kafka-partitions", "12", "partitions of topics frontdesk creates",
		func(c *config, v string) error { n, err := positiveInt(v); c.Kafka.Partitions = int32(n); return err }},
	{"FRONTDESK_KAFKA_REPLICATION", "kafka-replication", "1", "replication factor of topics frontdesk creates (-1: broker default)",
		func(c *config, v string) error {
			n, err := strconv.Atoi(v)
			if err != nil || n == 0 || n < -1 {
				return fmt.Errorf("want a positive number or -1, got %q", v)
			}
			c.Kafka.ReplicationFactor = int16(n)
			return nil
		}},
	{"FRONTDESK_KAFKA_SESSION_TIMEOUT", "kafka-session-timeout", "6s", "consumer group session timeout: how soon a dead member's partitions move",
		func(c *config, v string) (err error) { c.Kafka.SessionTimeout, err = positiveDuration(v); return err }},
	{"FRONTDESK_KAFKA_HEARTBEAT_INTERVAL", "kafka-heartbeat-interval", "1s", "how often a member tells its consumer groups it is alive (below the session timeout)",
		func(c *config, v string) (err error) {
			c.Kafka.HeartbeatInterval, err = positiveDuration(v)
			return err
		}},
	{"FRONTDESK_KAFKA_REBALANCE_TIMEOUT", "kafka-rebalance-timeout", "60s", "how long a rebalance waits for members to rejoin; a batch must be handled within it",
		func(c *config, v string) (err error) { c.Kafka.RebalanceTimeout, err = positiveDuration(v); return err }},
	{"FRONTDESK_KAFKA_DIAL_TIMEOUT", "kafka-dial-timeout", "10s", "how long connecting to a broker may take",
		func(c *config, v string) (err error) { c.Kafka.DialTimeout, err = positiveDuration(v); return err }},
	{"FRONTDESK_KAFKA_MAX_POLL_RECORDS", "kafka-max-poll-records", "500", "records a consumer takes per poll",
		func(c *config, v string) (err error) { c.Kafka.MaxPollRecords, err = positiveInt(v); return err }},
	{"FRONTDESK_KAFKA_CLIENT_ID", "kafka-client-id", "frontdesk", "client id sent to the brokers (their logs and quotas)",
		func(c *config, v string) error { c.Kafka.ClientID = v; return nil }},
	{"FRONTDESK_KAFKA_SASL_MECHANISM", "kafka-sasl-mechanism", "", "PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512 (empty: no SASL)",
		func(c *config, v string) error { c.Kafka.SASL.Mechanism = v; return nil }},
	{"FRONTDESK_KAFKA_SASL_USER", "kafka-sasl-user", "", "SASL user",
		func(c *config, v string) error { c.Kafka.SASL.User = v; return nil }},
	{"FRONTDESK_KAFKA_SASL_PASSWORD", "kafka-sasl-password", "", "SASL password",
		func(c *config, v string) error { c.Kafka.SASL.Password = v; return nil }},
	{"FRONTDESK_KAFKA_TLS", "kafka-tls", "false", "connect to the brokers over TLS",
		func(c *config, v string) (err error) { c.Kafka.TLS.Enabled, err = strconv.ParseBool(v); return err }},
	{"FRONTDESK_KAFKA_TLS_CA_FILE", "kafka-tls-ca-file", "", "PEM CA bundle for the brokers (default: system roots)",
		func(c *config, v string) error { c.Kafka.TLS.CAFile = v; return nil }},
	{"FRONTDESK_KAFKA_TLS_CERT_FILE", "kafka-tls-cert-file", "", "PEM client certificate (mutual TLS)",
		func(c *config, v string) error { c.Kafka.TLS.CertFile = v; return nil }},
	{"FRONTDESK_KAFKA_TLS_KEY_FILE", "kafka-tls-key-file", "", "PEM client key (mutual TLS)",
		func(c *config, v string) error { c.Kafka.TLS.KeyFile = v; return nil }},
	{"FRONTDESK_KAFKA_TLS_INSECURE_SKIP_VERIFY", "kafka-tls-insecure-skip-verify", "false", "accept any broker certificate (tests only)",
		func(c *config, v string) (err error) {
			c.Kafka.TLS.InsecureSkipVerify, err = strconv.ParseBool(v)
			return err
		}},
	{"FRONTDESK_CLUSTER_ADDR", "cluster-addr", "", "this member's cluster address host:port (empty: single member)",
		func(c *config, v string) error { c.Cluster.Addr = v; return nil }},
	{"FRONTDESK_CLUSTER_PEERS", "cluster-peers", "", "comma-separated cluster addresses of every member",
		func(c *config, v string) error { c.Cluster.Peers = splitList(v); return nil }},
	{"FRONTDESK_GRAIN_IDLE_TIMEOUT", "grain-idle-timeout", "5m", "passivate a grain idle this long (Go duration)",
		func(c *config, v string) (err error) { c.Actors.IdleTimeout, err = positiveDuration(v); return err }},
	{"FRONTDESK_MAX_HOT_CONVERSATIONS", "max-hot-conversations", "50000", "conversation grains kept active on this member; past it the least recently used passivate (0: no bound)",
		func(c *config, v string) (err error) {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				return fmt.Errorf("want a whole number ≥ 0, got %q", v)
			}
			c.Actors.MaxHotConversations = n
			return nil
		}},
	{"FRONTDESK_MAX_TOOL_CALLS_PER_RESPONSE", "max-tool-calls-per-response", "8", "tool calls executed from one model response; more are refused and the model is told",
		func(c *config, v string) (err error) {
			c.Actors.MaxToolCallsPerResponse, err = positiveInt(v)
			return err
		}},
	{"FRONTDESK_MAX_TOOL_CALLS_PER_TURN", "max-tool-calls-per-turn", "16", "tool calls executed in one turn; more are refused and the model is asked for its answer",
		func(c *config, v string) (err error) { c.Actors.MaxToolCallsPerTurn, err = positiveInt(v); return err }},
	{"FRONTDESK_CONFIRMATION_TTL", "confirmation-ttl", "15m", "how long a customer has to confirm an action (refund, payment) before it expires",
		func(c *config, v string) (err error) { c.Actors.ConfirmationTTL, err = positiveDuration(v); return err }},
	{"FRONTDESK_LOG_PARTITIONS", "log-partitions", "4", "partitions of a new topic in the embedded log",
		func(c *config, v string) (err error) { c.Partitions, err = positiveInt(v); return err }},
	{"FRONTDESK_DEMO", "demo", "false", "demo mode: a WhatsApp channel with public demo credentials and a demo admin (never in production)",
		func(c *config, v string) (err error) { c.Demo, err = strconv.ParseBool(v); return err }},
	{"FRONTDESK_ADMIN_EMAIL", "admin-email", "", "first admin user, created on first start",
		func(c *config, v string) error { c.AdminEmail = v; return nil }},
	{"FRONTDESK_ADMIN_PASSWORD", "admin-password", "", "password of the first admin (at least 12 characters)",
		func(c *config, v string) error { c.AdminPassword = v; return nil }},
	{"FRONTDESK_WHATSAPP_VERIFY_TOKEN", "whatsapp-verify-token", "", "token Meta sends when verifying the webhook",
		func(c *config, v string) error { c.WhatsApp.VerifyToken = v; return nil }},
	{"FRONTDESK_WHATSAPP_APP_SECRET", "whatsapp-app-secret", "", "Meta app secret that signs webhooks",
		func(c *config, v string) error { c.WhatsApp.AppSecret = v; return nil }},
	{"FRONTDESK_WHATSAPP_ACCESS_TOKEN", "whatsapp-access-token", "", "Cloud API access token for sending",
		func(c *config, v string) error { c.WhatsApp.AccessToken = v; return nil }},
	{"FRONTDESK_WHATSAPP_PHONE_NUMBER_ID", "whatsapp-phone-number-id", "", "the business phone number id",
		func(c *config, v string) error { c.WhatsApp.PhoneNumberID = v; return nil }},
	{"FRONTDESK_WHATSAPP_RATE", "whatsapp-rate", "80", "messages per second per business number",
		func(c *config, v string) error {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil || f <= 0 {
				return fmt.Errorf("want a positive number, got %q", v)
			}
			c.WhatsApp.RatePerSecond = f
			return nil
		}},
	{"FRONTDESK_WHATSAPP_RECEIPT_RATE", "whatsapp-receipt-rate", "0", "read receipts and typing indicators per second per business number, paced apart from messages (0: the message rate)",
		func(c *config, v string) error {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil || f < 0 {
				return fmt.Errorf("want a number ≥ 0, got %q", v)
			}
			c.WhatsApp.ReceiptsPerSecond = f
			return nil
		}},
	{"FRONTDESK_GRAPH_API_URL", "graph-api-url", "https://graph.facebook.com/v21.0", "Meta Graph API base URL",
		func(c *config, v string) error { c.WhatsApp.GraphAPIURL = v; return validURL(v) }},
	{"FRONTDESK_SHOPIFY_SHOP", "shopify-shop", "", "the default tenant's Shopify store domain (acme.myshopify.com); its webhooks go to /webhooks/shopify",
		func(c *config, v string) error { c.Shopify.Shop = strings.ToLower(strings.TrimSpace(v)); return nil }},
	{"FRONTDESK_SHOPIFY_WEBHOOK_SECRET", "shopify-webhook-secret", "", "the secret that signs Shopify webhooks (the app's client secret, or the store's webhook signing key)",
		func(c *config, v string) error { c.Shopify.WebhookSecret = v; return nil }},
	{"FRONTDESK_SHOPIFY_ADMIN_TOKEN", "shopify-admin-token", "", "Admin API access token: backfill and order lookups",
		func(c *config, v string) error { c.Shopify.AdminToken = v; return nil }},
	{"FRONTDESK_SHOPIFY_API_URL", "shopify-api-url", "", "Admin API base URL (default https://{shop}/admin/api/2025-01; GraphQL at {url}/graphql.json)",
		func(c *config, v string) error {
			c.Shopify.APIURL = v
			if v == "" {
				return nil
			}
			return validURL(v)
		}},
	{"FRONTDESK_MAGENTO_BASE_URL", "magento-base-url", "", "the default tenant's Magento / Adobe Commerce REST base (https://shop.example.com/rest/default); its webhooks go to /webhooks/magento",
		func(c *config, v string) error {
			c.Magento.BaseURL = v
			if v == "" {
				return nil
			}
			return validURL(v)
		}},
	{"FRONTDESK_MAGENTO_TOKEN", "magento-token", "", "Magento REST bearer token: backfill and order lookups",
		func(c *config, v string) error { c.Magento.Token = v; return nil }},
	{"FRONTDESK_MAGENTO_WEBHOOK_SECRET", "magento-webhook-secret", "", "the secret of x-magento-signature (hex HMAC-SHA256; open-source async events)",
		func(c *config, v string) error { c.Magento.WebhookSecret = v; return nil }},
	{"FRONTDESK_MAGENTO_PUBLIC_KEY_FILE", "magento-public-key-file", "", "PEM public key that checks x-adobe-commerce-webhook-signature (Adobe Commerce webhooks)",
		func(c *config, v string) error { c.Magento.PublicKeyFile = v; return nil }},
	{"FRONTDESK_STRIPE_SECRET_KEY", "stripe-secret-key", "", "Stripe secret key: create_payment_intent sends the customer a Checkout link once they confirm",
		func(c *config, v string) error { c.Stripe.SecretKey = v; return nil }},
	{"FRONTDESK_STRIPE_WEBHOOK_SECRET", "stripe-webhook-secret", "", "signing secret of the Stripe webhook endpoint /webhooks/stripe",
		func(c *config, v string) error { c.Stripe.WebhookSecret = v; return nil }},
	{"FRONTDESK_STRIPE_API_URL", "stripe-api-url", "https://api.stripe.com", "Stripe API base URL",
		func(c *config, v string) error { c.Stripe.APIURL = v; return validURL(v) }},
	{"FRONTDESK_STRIPE_SUCCESS_URL", "stripe-success-url", "https://stripe.com/", "where Stripe Checkout sends the customer after paying (your thank-you page)",
		func(c *config, v string) error { c.Stripe.SuccessURL = v; return validURL(v) }},
	{"FRONTDESK_STRIPE_CANCEL_URL", "stripe-cancel-url", "", "where Stripe Checkout sends a customer who leaves without paying (optional)",
		func(c *config, v string) error {
			c.Stripe.CancelURL = v
			if v == "" {
				return nil
			}
			return validURL(v)
		}},
	{"FRONTDESK_KNOWLEDGE_MAX_UPLOAD_BYTES", "knowledge-max-upload-bytes", "10485760", "largest knowledge document file accepted (bytes)",
		func(c *config, v string) error {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n <= 0 {
				return fmt.Errorf("want a positive number of bytes, got %q", v)
			}
			c.Knowledge.MaxUploadBytes = n
			return nil
		}},
	{"FRONTDESK_KNOWLEDGE_THRESHOLD", "knowledge-threshold", strconv.FormatFloat(knowledge.DefaultThreshold, 'f', -1, 64),
		"relevance (0..1) from which a knowledge passage counts as answering a question (coverage, and what the model is told)",
		func(c *config, v string) error {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil || f <= 0 || f > 1 {
				return fmt.Errorf("want a number in (0, 1], got %q", v)
			}
			c.Knowledge.Threshold = f
			return nil
		}},
	{"FRONTDESK_KNOWLEDGE_EMBEDDING_MODEL", "knowledge-embedding-model", "", "embedding model of the knowledge base, through the LLM router's embeddings (hybrid BM25 + vector retrieval); empty: BM25 alone",
		func(c *config, v string) error { c.Knowledge.EmbeddingModel = v; return nil }},
	{"FRONTDESK_LLM_BASE_URL", "llm-base-url", "", "OpenAI-compatible base URL (…/v1) of the default agent's model; empty: offline responder",
		func(c *config, v string) error {
			c.LLM.BaseURL = v
			if v == "" {
				return nil
			}
			return validURL(v)
		}},
	{"FRONTDESK_LLM_MODEL", "llm-model", "", "model name for FRONTDESK_LLM_BASE_URL",
		func(c *config, v string) error { c.LLM.Model = v; return nil }},
	{"FRONTDESK_LLM_API_KEY", "llm-api-key", "", "bearer key for FRONTDESK_LLM_BASE_URL",
		func(c *config, v string) error { c.LLM.APIKey = v; return nil }},
	{"FRONTDESK_LLMROUTER_URL", "llmrouter-url", "", "use a remote frontdesk llmrouter instead of the in-process router",
		func(c *config, v string) error {
			c.LLM.RouterURL = v
			if v == "" {
				return nil
			}
			return validURL(v)
		}},
	{"FRONTDESK_LLMROUTER_API_KEY", "llmrouter-api-key", "", "bearer key shared by frontdesk llmrouter (which requires it) and serve (which sends it to FRONTDESK_LLMROUTER_URL)",
		func(c *config, v string) error { c.LLM.RouterAPIKey = v; return nil }},
	{"FRONTDESK_LLMROUTER_CONFIG", "llmrouter-config", "", "YAML file of the router's backends and routes (empty: FRONTDESK_LLM_*)",
		func(c *config, v string) error { c.LLM.ConfigPath = v; return nil }},
	{"FRONTDESK_CONVERSATION_IDLE", "conversation-idle", "24h", "close a conversation idle this long; the next message opens a new one",
		func(c *config, v string) (err error) {
			c.Actors.ConversationIdle, err = positiveDuration(v)
			return err
		}},
	{"FRONTDESK_LOG_LEVEL", "log-level", "info", "debug, info, warn or error",
		func(c *config, v string) error {
			switch v {
			case "debug", "info", "warn", "error":
				c.LogLevel = v
				return nil
			}
			return fmt.Errorf("want debug, info, warn or error, got %q", v)
		}},
	{"FRONTDESK_LOG_FORMAT", "log-format", "auto", "json, console, or auto (console on a terminal)",
		func(c *config, v string) error {
			switch v {
			case "json", "console", "auto":
				c.LogFormat = v
				return nil
			}
			return fmt.Errorf("want json, console or auto, got %q", v)
		}},
}

// parseConfig reads the environment, then flags of args (which override it),
// and validates the result. Each error names the variable at fault.
func parseConfig(name string, args []string, getenv func(string) string) (config, error) {
	c, err := parseSettings(name, "", settings, args, getenv, nil)
	if err != nil {
		return c, err
	}
	err = c.validate()
	return c, err
}

// parseSettings reads the settings ss from the environment, then from the
// flags of args that mirror them (the flag wins); about is printed in the
// usage, to out (standard error when nil). It does not validate the whole.
func parseSettings(name, about string, ss []setting, args []string, getenv func(string) string, out io.Writer) (config, error) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	if out != nil {
		fs.SetOutput(out)
	}
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: frontdesk %s [flags]\n\n%sEach flag mirrors an environment variable (the flag wins):\n", name, about)
		for _, s := range ss {
			fmt.Fprintf(fs.Output(), "  -%s / %s (default %q)\n      %s\n", s.flag, s.env, s.def, s.help)
		}
	}
	vals := make([]*string, len(ss))
	for i, s := range ss {
		def := s.def
		if v, ok := lookup(getenv, s.env); ok {
			def = v
		}
		vals[i] = fs.String(s.flag, def, s.help)
	}
	if err := fs.Parse(args); err != nil {
		return config{}, err
	}
	if fs.NArg() > 0 {
		return config{}, fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	c := config{getenv: getenv, explicit: map[string]bool{}}
	fs.Visit(func(f *flag.Flag) {
		for _, s := range ss {
			if s.flag == f.Name {
				c.explicit[s.env] = true
			}
		}
	})
	for _, s := range ss {
		if _, ok := lookup(getenv, s.env); ok {
			c.explicit[s.env] = true
		}
	}
	var errs []error
	for i, s := range ss {
		if err := s.set(&c, strings.TrimSpace(*vals[i])); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", s.env, err))
		}
	}
	return c, errors.Join(errs...)
}

func (c *config) validate() error {
	if c.HTTPAddr == "" {
		return errors.New("FRONTDESK_HTTP_ADDR: empty")
	}
	if err := c.Store.Validate(); err != nil {
		return err
	}
	if len(c.Kafka.Brokers) > 0 {
		if err := c.Kafka.Validate(); err != nil {
			return err
		}
	}
	if err := c.Cluster.Validate(); err != nil {
		return err
	}
	if c.Demo {
		if c.WhatsApp.enabled() {
			return errors.New("FRONTDESK_DEMO: demo mode brings its own WhatsApp channel; unset FRONTDESK_WHATSAPP_* or FRONTDESK_DEMO")
		}
		if c.AdminEmail == "" {
			c.AdminEmail, c.AdminPassword = demoAdminEmail, demoAdminPassword
		}
		// Anyone who can reach a demo server can sign webhooks and sign in
		// with the public credentials: listen on loopback unless told.
		if !c.explicit["FRONTDESK_HTTP_ADDR"] {
			c.HTTPAddr = demoHTTPAddr
		}
	}
	if c.LLM.ConfigPath != "" && c.LLM.BaseURL != "" {
		return errors.New("FRONTDESK_LLMROUTER_CONFIG and FRONTDESK_LLM_BASE_URL: set one; the file names every backend")
	}
	if c.LLM.RouterURL != "" && (c.LLM.ConfigPath != "" || c.LLM.BaseURL != "") {
		return errors.New("FRONTDESK_LLMROUTER_URL: the remote router has its own backends; unset FRONTDESK_LLMROUTER_CONFIG and FRONTDESK_LLM_BASE_URL")
	}
	if c.LLM.BaseURL != "" && c.LLM.Model == "" {
		return errors.New("FRONTDESK_LLM_MODEL: required when FRONTDESK_LLM_BASE_URL is set")
	}
	if w := c.WhatsApp; w.enabled() && (w.VerifyToken == "" || w.AppSecret == "" || w.AccessToken == "" || w.PhoneNumberID == "") {
		return errors.New("FRONTDESK_WHATSAPP_*: set all four of VERIFY_TOKEN, APP_SECRET, ACCESS_TOKEN and PHONE_NUMBER_ID, or none")
	}
	if sh := c.Shopify; (sh.WebhookSecret != "" || sh.AdminToken != "" || sh.APIURL != "") && sh.Shop == "" {
		return errors.New("FRONTDESK_SHOPIFY_SHOP: required when FRONTDESK_SHOPIFY_WEBHOOK_SECRET, _ADMIN_TOKEN or _API_URL is set")
	}
	if sh := c.Shopify; sh.Shop != "" && sh.WebhookSecret == "" && sh.AdminToken == "" {
		return errors.New("FRONTDESK_SHOPIFY_SHOP: set FRONTDESK_SHOPIFY_WEBHOOK_SECRET (webhooks) and/or FRONTDESK_SHOPIFY_ADMIN_TOKEN (backfill, lookups)")
	}
	if m := c.Magento; (m.WebhookSecret != "" || m.PublicKeyFile != "" || m.Token != "") && m.BaseURL == "" {
		return errors.New("FRONTDESK_MAGENTO_BASE_URL: required when FRONTDESK_MAGENTO_WEBHOOK_SECRET, _PUBLIC_KEY_FILE or _TOKEN is set")
	}
	if (c.AdminEmail == "") != (c.AdminPassword == "") {
		return errors.New("FRONTDESK_ADMIN_EMAIL and FRONTDESK_ADMIN_PASSWORD: set both or neither")
	}
	if c.AdminPassword != "" && len(c.AdminPassword) < 12 {
		return errors.New("FRONTDESK_ADMIN_PASSWORD: at least 12 characters")
	}
	if len(c.Cluster.Peers) > 1 {
		if len(c.Kafka.Brokers) == 0 {
			return errors.New("FRONTDESK_CLUSTER_PEERS: several members need a shared event log (FRONTDESK_KAFKA_BROKERS); the embedded log serves one member")
		}
		if c.Store.DatabaseURL == "" {
			return errors.New("FRONTDESK_CLUSTER_PEERS: several members need a shared store (FRONTDESK_DATABASE_URL); SQLite serves one member")
		}
	}
	return c.Actors.Validate()
}

// lookup treats an empty variable as unset.
func lookup(getenv func(string) string, key string) (string, bool) {
	v := getenv(key)
	return v, v != ""
}

func splitList(v string) []string {
	var out []string
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func positiveDuration(v string) (time.Duration, error) {
	d, err := time.ParseDuration(v)
	if err != nil {
		return 0, fmt.Errorf("want a duration such as 90s or 5m: %w", err)
	}
	if d <= 0 {
		return 0, fmt.Errorf("want a positive duration, got %s", v)
	}
	return d, nil
}

func validURL(v string) error {
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("want an http(s) URL, got %q", v)
	}
	return nil
}

func positiveInt(v string) (int, error) {
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("want a positive integer, got %q", v)
	}
	return n, nil
}
