package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/rs/zerolog"
	"golang.org/x/sync/errgroup"

	"github.com/frontdesk-ai/frontdesk/actors"
	"github.com/frontdesk-ai/frontdesk/channels"
	"github.com/frontdesk-ai/frontdesk/channels/whatsapp"
	"github.com/frontdesk-ai/frontdesk/cluster"
	"github.com/frontdesk-ai/frontdesk/dashboard"
	"github.com/frontdesk-ai/frontdesk/gateway"
	"github.com/frontdesk-ai/frontdesk/knowledge"
	"github.com/frontdesk-ai/frontdesk/llmrouter"
	"github.com/frontdesk-ai/frontdesk/llmrouter/service"
	"github.com/frontdesk-ai/frontdesk/payments"
	"github.com/frontdesk-ai/frontdesk/payments/stripe"
	"github.com/frontdesk-ai/frontdesk/persistence"
	"github.com/frontdesk-ai/frontdesk/persistence/kafkalog"
	"github.com/frontdesk-ai/frontdesk/persistence/sqlstore"
	"github.com/frontdesk-ai/frontdesk/tools"
)

func migrate(ctx context.Context, cfg config, log zerolog.Logger) error {
	store, err := openStore(ctx, cfg, log)
	if err != nil {
		return err
	}
	return store.Close()
}

// openStore opens the configured store and applies its migrations.
func openStore(ctx context.Context, cfg config, log zerolog.Logger) (*sqlstore.Store, error) {
	store, err := sqlstore.Open(ctx, cfg.Store)
	if err != nil {
		return nil, err
	}
	applied, err := store.Migrate(ctx)
	if err != nil {
		store.Close()
		return nil, err
	}
	log.Info().Str("database", store.Dialect()).Strs("applied", applied).Msg("store ready")
	return store, nil
}

// serve runs every role in one process. Shutdown order on SIGINT/SIGTERM:
// stop intake (the HTTP server and the inbound dispatcher stop taking new
// work; the dispatcher finishes its batch and commits), drain (grains finish
// their turns and commit replies), stop the senders (they finish what is in
// hand and commit), then leave the cluster and stop the actor system, then
// write the LLM calls the accountant still holds, then close the store.
// Nothing accepted is lost: what was not committed is redelivered at the
// next start and deduplicated.
func serve(ctx context.Context, cfg config, log zerolog.Logger) error {
	intake, stop := signal.NotifyContext(ctx, syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	store, err := openStore(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer store.Close()
	eventLog, relay, closeLog, err := openLog(ctx, cfg, store, log)
	if err != nil {
		return err
	}
	defer closeLog()
	tenant, err := ensureDefaultTenant(ctx, store)
	if err != nil {
		return err
	}
	if err := ensureAdmin(ctx, cfg, store, tenant.ID, log); err != nil {
		return err
	}

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	hub := dashboard.New(dashboard.Config{}, store, log)
	if err := hub.RegisterMetrics(reg); err != nil {
		return err
	}
	model, acct, embedder, err := newModel(cfg, store, log, reg)
	if err != nil {
		return err
	}
	if acct != nil {
		// Deferred here, it runs after the actor system has stopped (no
		// more model calls) and before the store closes.
		defer closeAccountant(ctx, acct, log)
	}
	toolbox, err := tools.New(sqlstore.For[tools.Tx](store))
	if err != nil {
		return err
	}
	// Shops: their webhooks (/webhooks/shopify, /webhooks/magento) append to
	// the commerce topic; its consumer applies orders and customers. Shops
	// with an API look up orders for get_order and execute confirmed
	// refunds.
	shopSetup, err := newCommerce(cfg)
	if err != nil {
		return err
	}
	shopping, err := shopSetup.wire(ctx, store, eventLog, tenant.ID, log, reg)
	if err != nil {
		return err
	}
	if shopping.fetcher != nil {
		toolbox.SetOrderFetcher(shopping.fetcher)
	}
	// Payments: a confirmed create_payment_intent sends a Stripe Checkout
	// link; Stripe's webhooks append to the payments topic, whose consumer
	// records what the customer did and tells the conversation.
	actions := maps.Clone(shopping.actions)
	if actions == nil {
		actions = map[string]actors.ActionFunc{}
	}
	var payClient *stripe.Client
	if sc := cfg.Stripe; sc.SecretKey != "" {
		if payClient, err = stripe.New(stripe.Config{SecretKey: sc.SecretKey, APIURL: sc.APIURL, SuccessURL: sc.SuccessURL, CancelURL: sc.CancelURL}); err != nil {
			return fmt.Errorf("FRONTDESK_STRIPE_*: %w", err)
		}
		actions[tools.CreatePaymentIntent] = payments.NewLinks(payClient, sqlstore.For[payments.Tx](store)).Execute
	}
	// The knowledge base: uploads and catalogue products are processed off
	// the knowledge topic; each member keeps its own per-tenant indexes in
	// the data dir, in step with the store. Turns retrieve from it and the
	// model may search it (search_knowledge).
	kb, err := newKnowledge(cfg, store, eventLog, embedder, log, reg)
	if err != nil {
		return err
	}
	defer kb.Close()
	toolbox.SetKnowledge(kb)
	shopping.applier.SetCatalog(kb, shopSetup.currencies()...)
	// The channel set is built below, before anything reaches a grain.
	var chanSet *channels.Set
	buttons := func(channel string) bool {
		ch, ok := chanSet.Get(channel)
		return !ok || ch.Capabilities().Interactive
	}
	rt, err := actors.New(cfg.Actors, actors.Deps{
		Store: sqlstore.For[actors.Tx](store), Model: model, Offline: llmrouter.NewOffline(), Tools: toolbox, Notify: hub.Notify,
		Actions: actions, Buttons: buttons, Knowledge: kb,
	}, log, reg)
	if err != nil {
		return err
	}
	shopping.applier.SetNotifier(rt)
	toolbox.SetProposer(rt, slices.Collect(maps.Keys(actions))...)
	toolbox.SetScheduler(rt)
	ccfg := cfg.Cluster
	if kl, ok := eventLog.(*kafkalog.Log); ok { // a peer the membership drops leaves our consumer groups at once
		ccfg.PeerLost = func(ctx context.Context, addr string) error { _, err := kl.Evict(ctx, addr); return err }
	}
	member, err := cluster.Start(ccfg, log, rt.Kinds()...)
	if err != nil {
		return err
	}
	rt.SetCaller(member)
	defer member.Stop()
	disp := actors.NewDispatcher(actors.DispatchConfig{Fenced: member.Fenced}, eventLog, rt)

	srv := gateway.New(gateway.Config{Addr: cfg.HTTPAddr, MetricsAddr: cfg.MetricsAddr}, log, reg, map[string]gateway.Check{
		"store": store.Ping,
		"log": func(ctx context.Context) error {
			_, err := eventLog.EndOffset(ctx, persistence.TopicInbound, 0)
			return err
		},
		"dispatcher": func(context.Context) error {
			if !disp.Ready() {
				return errors.New("not consuming yet")
			}
			return nil
		},
	})
	shopHooks, err := gateway.NewShopWebhooks(shopSetup.hooks, sqlstore.For[gateway.WebhookTx](store), log, reg)
	if err != nil {
		return err
	}
	shopHooks.Register(srv)
	var payConsumer *payments.Consumer
	if cfg.Stripe.SecretKey != "" {
		payConsumer = payments.NewConsumer(sqlstore.For[payments.Tx](store), eventLog, rt, log)
	}
	if cfg.Stripe.WebhookSecret != "" {
		payHooks, err := gateway.NewPaymentWebhooks(payments.Hook{Secret: cfg.Stripe.WebhookSecret}, tenant.ID, sqlstore.For[gateway.WebhookTx](store), log, reg)
		if err != nil {
			return err
		}
		payHooks.Register(srv)
	}
	api := gateway.NewAPI(gateway.APIConfig{ToolNames: toolbox.Names(), Grains: rt, Merges: shopping.applier, Approvals: rt, Knowledge: kb, Notify: hub.Notify, Demo: cfg.Demo}, sqlstore.For[gateway.Tx](store), log)
	api.Register(srv)
	// /ws, and for clients behind a proxy that blocks WebSockets: how their
	// upgrade arrived (/ws/probe) and the same events over plain HTTP (/ws/poll).
	probes := dashboard.NewProbes()
	srv.Handle("GET /ws", dashboard.WSHandler(hub, api.Authenticate, dashboard.WSConfig{Probes: probes}, log))
	srv.Handle("GET /ws/probe", dashboard.ProbeHandler(probes, api.Authenticate))
	srv.Handle("GET "+dashboard.FallbackPath, dashboard.PollHandler(hub, api.Authenticate, srv.Draining(), log))
	// The web app; the API, /ws, webhooks and probes are more specific
	// patterns ("GET /" would conflict with the API's method-less fallback).
	srv.Handle("/", dashboard.WebApp())

	// Channels: each one configured joins the set served by the one webhook
	// handler (/webhooks/{channel}) and the one outbound sender.
	var chans []channels.Channel
	var accounts []gateway.WebhookAccount
	if cfg.Demo {
		chans = append(chans, whatsapp.NewChannel(whatsapp.ChannelConfig{VerifyToken: demoVerifyToken, AppSecret: demoAppSecret}, nil, nil))
		accounts = append(accounts, gateway.WebhookAccount{Channel: whatsapp.Name, Account: demoPhoneNumberID, TenantID: tenant.ID})
		log.Warn().Str("admin", cfg.AdminEmail).Msg("DEMO MODE: WhatsApp webhook with public demo credentials; replies are shown live but not delivered. Try: frontdesk demo-message")
	} else if w := cfg.WhatsApp; w.enabled() {
		client, err := whatsapp.NewClient(whatsapp.Config{BaseURL: w.GraphAPIURL})
		if err != nil {
			return fmt.Errorf("FRONTDESK_GRAPH_API_URL: %w", err)
		}
		limiter, err := whatsapp.NewRateLimiter(whatsapp.RateLimitConfig{PerSecond: w.RatePerSecond, ReceiptsPerSecond: w.ReceiptsPerSecond})
		if err != nil {
			return fmt.Errorf("FRONTDESK_WHATSAPP_RATE / _RECEIPT_RATE: %w", err)
		}
		chans = append(chans, whatsapp.NewChannel(whatsapp.ChannelConfig{VerifyToken: w.VerifyToken, AppSecret: w.AppSecret,
			AccessTokens: map[string]string{w.PhoneNumberID: w.AccessToken}}, client, limiter))
		accounts = append(accounts, gateway.WebhookAccount{Channel: whatsapp.Name, Account: w.PhoneNumberID, TenantID: tenant.ID})
		log.Info().Str("phone_number_id", w.PhoneNumberID).Msg("whatsapp channel on: webhook at /webhooks/whatsapp")
	} else {
		log.Warn().Msg("whatsapp channel off (FRONTDESK_WHATSAPP_* unset)")
	}
	chanSet, err = channels.NewSet(chans...)
	if err != nil {
		return err
	}
	webhooks, err := gateway.NewWebhooks(gateway.WebhookConfig{Accounts: accounts, DefaultTenantID: tenant.ID}, chanSet,
		sqlstore.For[gateway.WebhookTx](store), log, reg)
	if err != nil {
		return err
	}
	webhooks.Register(srv)
	var sender *channels.Sender
	if len(chans) > 0 && !cfg.Demo { // the demo's replies are shown, not delivered
		sender, err = channels.NewSender(channels.SenderConfig{Notify: hub.Notify}, chanSet, sqlstore.For[channels.SenderTx](store), eventLog, log, reg)
		if err != nil {
			return err
		}
	}
	if err := srv.Listen(); err != nil {
		return err
	}

	// Senders and the hub outlive intake: they deliver what the drain
	// commits, and stop last.
	background, stopBackground := context.WithCancel(context.WithoutCancel(ctx))
	defer stopBackground()
	bg, _ := errgroup.WithContext(background)
	bg.Go(func() error { return hub.Run(background) })
	bg.Go(func() error { return api.Run(background) })
	bg.Go(func() error { return member.Watch(background) })
	bg.Go(func() error { return rt.RunReminders(background) })
	if relay != nil {
		bg.Go(func() error { return relay(background) })
	}
	if sender != nil {
		bg.Go(func() error { return sender.Run(background) })
	}
	bg.Go(func() error { return shopping.consumer.Run(background) })
	if payConsumer != nil {
		bg.Go(func() error { return payConsumer.Run(background) })
	}
	bg.Go(func() error { return kb.RunProcessor(background) })
	bg.Go(func() error { return kb.RunIndexer(background) })

	g, gctx := errgroup.WithContext(intake)
	g.Go(func() error { return srv.Run(gctx) })
	g.Go(func() error { return disp.Run(gctx) })
	err = g.Wait()
	log.Info().Msg("intake stopped; draining")

	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if derr := rt.Drain(dctx); derr != nil {
		log.Error().Err(derr).Msg("grains did not drain in time; their work will be redone from the log")
	}
	stopBackground()
	if berr := bg.Wait(); berr != nil && !errors.Is(berr, context.Canceled) {
		log.Error().Err(berr).Msg("background service stopped with an error")
	}
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	log.Info().Msg("stopped cleanly")
	return nil
}

// newKnowledge opens the knowledge base: this member's indexes under the
// data dir, embeddings through the router when
// FRONTDESK_KNOWLEDGE_EMBEDDING_MODEL names a model.
func newKnowledge(cfg config, store *sqlstore.Store, lg eventLog, embedder knowledge.Embedder, log zerolog.Logger, reg prometheus.Registerer) (*knowledge.Service, error) {
	// Each member's indexes are its own (members sharing a data dir on one
	// machine keep them apart).
	member := cmp.Or(cfg.Cluster.Addr, "local")
	kc := knowledge.Config{Dir: filepath.Join(cfg.Store.DataDir, "knowledge", strings.NewReplacer(":", "_", "/", "_").Replace(member)), Member: member,
		MaxUploadBytes: cfg.Knowledge.MaxUploadBytes, Threshold: cfg.Knowledge.Threshold}
	if cfg.Knowledge.EmbeddingModel != "" {
		kc.Embedder, kc.EmbedModel = embedder, cfg.Knowledge.EmbeddingModel
		log.Info().Str("model", kc.EmbedModel).Msg("knowledge: hybrid retrieval (BM25 and vectors)")
	}
	kb, err := knowledge.New(kc, sqlstore.For[knowledge.Tx](store), lg, log, reg)
	if err != nil {
		return nil, fmt.Errorf("knowledge base: %w", err)
	}
	return kb, nil
}

// eventLog is what serve needs of the event log: the contract both
// implementations satisfy.
type eventLog interface {
	persistence.Log
	OffsetForTime(ctx context.Context, topic string, partition int32, t time.Time) (int64, error)
}

// openLog selects the event log: Kafka when FRONTDESK_KAFKA_BROKERS is set
// (then appends made in store transactions go through the store's outbox
// and relay, returned to run in the background), else the embedded log in
// the store's own database (appends commit with the transaction). It sets
// that transactional appender as the store's (Tx.AppendLog).
func openLog(ctx context.Context, cfg config, store *sqlstore.Store, log zerolog.Logger) (eventLog, func(context.Context) error, func(), error) {
	if len(cfg.Kafka.Brokers) == 0 {
		l := store.Log()
		if err := l.Configure(sqlstore.LogConfig{Partitions: int32(cfg.Partitions)}); err != nil {
			return nil, nil, nil, fmt.Errorf("FRONTDESK_LOG_PARTITIONS: %w", err)
		}
		store.SetTxLog(l)
		return l, nil, func() {}, nil
	}
	kcfg := cfg.Kafka
	kcfg.InstanceID = cfg.Cluster.Addr // static group member, so peers can evict it when it dies
	kl, err := kafkalog.Open(ctx, kcfg, log)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("FRONTDESK_KAFKA_BROKERS: %w", err)
	}
	ob := sqlstore.NewOutbox(store)
	store.SetTxLog(ob)
	relay := func(ctx context.Context) error { return ob.Relay(ctx, kl, 0, log) }
	log.Info().Strs("brokers", cfg.Kafka.Brokers).Msg("event log: Kafka")
	return kl, relay, func() { kl.Close() }, nil
}

// newModel builds what answers turns: a remote frontdesk llmrouter
// (FRONTDESK_LLMROUTER_URL, which records its own calls), else the
// in-process router (FRONTDESK_LLMROUTER_CONFIG or FRONTDESK_LLM_*) with
// every call recorded in the store by the returned Accountant (nil with a
// remote router), which the caller closes before the store. Either falls
// back to the offline responder.
func newModel(cfg config, store *sqlstore.Store, log zerolog.Logger, reg prometheus.Registerer) (actors.Completer, *service.Accountant, knowledge.Embedder, error) {
	if cfg.LLM.RouterURL != "" {
		c, err := service.NewClient(service.ClientConfig{URL: cfg.LLM.RouterURL, APIKey: cfg.LLM.RouterAPIKey})
		if err != nil {
			return nil, nil, nil, fmt.Errorf("FRONTDESK_LLMROUTER_URL: %w", err)
		}
		log.Info().Str("url", cfg.LLM.RouterURL).Msg("model: remote llmrouter")
		r, err := llmrouter.New(llmrouter.Config{Backends: []llmrouter.Backend{c}}, log, reg)
		return r, nil, c, err
	}
	getenv := cfg.getenv
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	router, _, err := buildRouter(llmrouterConfig{cfg}, getenv, log, reg)
	if err != nil {
		return nil, nil, nil, err
	}
	acct, err := service.NewAccountant(service.AccountantConfig{Agents: store}, router, store, log, reg)
	if err != nil {
		return nil, nil, nil, err
	}
	return acct, acct, router, nil
}
