package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/frontdesk-ai/frontdesk/channels"
	"github.com/frontdesk-ai/frontdesk/consume"
	"github.com/frontdesk-ai/frontdesk/events"
	"github.com/frontdesk-ai/frontdesk/persistence"
)

// WebhookAccount routes a channel account configured at start
// (FRONTDESK_WHATSAPP_PHONE_NUMBER_ID, …) to its tenant.
type WebhookAccount struct {
	// Channel is the channel's name; Account its id of the account (the
	// phone_number_id).
	Channel, Account string
	TenantID         string
}

// WebhookConfig configures the webhook handler.
type WebhookConfig struct {
	// Accounts are routed without a store read; any other account is looked
	// up in the store's channel accounts.
	Accounts []WebhookAccount
	// DefaultTenantID is where a provider's error about an account no
	// tenant owns is audited.
	DefaultTenantID string
	// MaxBodyBytes limits a webhook body (default 1 MiB); larger → 413.
	MaxBodyBytes int64
}

// WebhookTx is what one webhook delivery writes in its transaction: the
// dedupe keys of its items, audit events, and the log records.
type WebhookTx interface {
	ClaimDedupeKey(ctx context.Context, tenantID, channel, key string) (bool, error)
	CreateAuditEvent(ctx context.Context, m *persistence.AuditEvent) error
	// AppendLog appends records to the event log; they are in the log if
	// and only if the transaction commits.
	AppendLog(ctx context.Context, recs ...persistence.Record) ([]persistence.Record, error)
}

// WebhookStore is what the webhook handler needs from the store: routing
// of channel accounts to tenants, and a transaction for dedupe + append +
// audit.
type WebhookStore interface {
	InTx(ctx context.Context, fn func(tx WebhookTx) error) error
	GetChannelAccount(ctx context.Context, channel, externalID string) (persistence.ChannelAccount, error)
}

// Webhooks serves every channel's webhook on one path:
//
//	GET  /webhooks/{channel}  the provider's verification handshake, for
//	                          channels that have one (channels.Handshaker)
//	POST /webhooks/{channel}  a delivery: size limit (413), signature over
//	                          the raw body (401, nothing stored), parse
//	                          (400), then route, dedupe and append every
//	                          item in one transaction; 200 only after it
//	                          committed
//
// An unknown channel is 404. Status codes are chosen here, from the
// channels package's sentinels.
type Webhooks struct {
	cfg      WebhookConfig
	chans    *channels.Set
	store    WebhookStore
	logger   zerolog.Logger
	accounts map[[2]string]string
	requests *prometheus.CounterVec
	items    *prometheus.CounterVec
}

// NewWebhooks builds the webhook handler for chans.
func NewWebhooks(cfg WebhookConfig, chans *channels.Set, store WebhookStore, logger zerolog.Logger, reg prometheus.Registerer) (*Webhooks, error) {
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = 1 << 20
	}
	h := &Webhooks{
		cfg: cfg, chans: chans, store: store, logger: logger.With().Str("component", "webhooks").Logger(),
		accounts: make(map[[2]string]string, len(cfg.Accounts)),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "frontdesk_webhook_requests_total", Help: "Webhook requests, by channel and HTTP status.",
		}, []string{"channel", "status"}),
		items: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "frontdesk_webhook_items_total", Help: "Webhook items (messages, statuses, errors), by channel, item and outcome (appended, duplicate, unroutable).",
		}, []string{"channel", "item", "outcome"}),
	}
	for _, a := range cfg.Accounts {
		if a.Channel == "" || a.Account == "" || a.TenantID == "" {
			return nil, fmt.Errorf("webhook account %+v: channel, account and tenant are required", a)
		}
		h.accounts[[2]string{a.Channel, a.Account}] = a.TenantID
	}
	for _, c := range []prometheus.Collector{h.requests, h.items} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("register webhook metrics: %w", err)
		}
	}
	return h, nil
}

// Register mounts the webhook routes on s.
func (h *Webhooks) Register(s *Server) {
	s.Handle("GET /webhooks/{channel}", http.HandlerFunc(h.handshake))
	s.Handle("POST /webhooks/{channel}", http.HandlerFunc(h.receive))
}

// channel returns the request's channel, or answers 404.
func (h *Webhooks) channel(rw http.ResponseWriter, r *http.Request) (channels.Webhook, bool) {
	ch, ok := h.chans.Get(r.PathValue("channel"))
	if !ok {
		http.NotFound(rw, r)
		return nil, false
	}
	return ch, true
}

func (h *Webhooks) handshake(rw http.ResponseWriter, r *http.Request) {
	ch, ok := h.channel(rw, r)
	if !ok {
		return
	}
	hs, ok := ch.(channels.Handshaker)
	if !ok {
		http.NotFound(rw, r)
		return
	}
	challenge, err := hs.Handshake(r.URL.Query())
	switch {
	case errors.Is(err, channels.ErrMalformed):
		h.fail(rw, ch, http.StatusBadRequest, "missing verification challenge")
		return
	case err != nil:
		h.logger.Warn().Err(err).Str("channel", ch.Name()).Msg("webhook verification refused")
		h.fail(rw, ch, http.StatusForbidden, "verification failed")
		return
	}
	h.requests.WithLabelValues(ch.Name(), "200").Inc()
	rw.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = io.WriteString(rw, challenge)
}

func (h *Webhooks) fail(rw http.ResponseWriter, ch channels.Webhook, status int, msg string) {
	h.requests.WithLabelValues(ch.Name(), fmt.Sprint(status)).Inc()
	http.Error(rw, msg, status)
}

// receive checks the signature over the raw body, normalizes the payload,
// and appends each new item's event to the inbound topic in one
// transaction with its dedupe key; it answers 200 only after the commit.
func (h *Webhooks) receive(rw http.ResponseWriter, r *http.Request) {
	ch, ok := h.channel(rw, r)
	if !ok {
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(rw, r.Body, h.cfg.MaxBodyBytes))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			h.fail(rw, ch, http.StatusRequestEntityTooLarge, "body too large")
			return
		}
		h.fail(rw, ch, http.StatusBadRequest, "cannot read body")
		return
	}
	if err := ch.Verify(r.Header, body); err != nil {
		h.logger.Warn().Err(err).Str("channel", ch.Name()).Str("remote", r.RemoteAddr).Msg("webhook signature rejected")
		h.fail(rw, ch, http.StatusUnauthorized, "invalid signature")
		return
	}
	items, err := ch.Parse(body)
	if err != nil {
		h.logger.Warn().Err(err).Str("channel", ch.Name()).Msg("malformed webhook")
		h.fail(rw, ch, http.StatusBadRequest, "malformed webhook payload")
		return
	}
	if err := h.accept(r.Context(), ch.Name(), items); err != nil {
		h.logger.Error().Err(err).Str("channel", ch.Name()).Msg("webhook not stored; the provider will retry")
		h.fail(rw, ch, http.StatusServiceUnavailable, "temporarily unavailable")
		return
	}
	h.requests.WithLabelValues(ch.Name(), "200").Inc()
	rw.WriteHeader(http.StatusOK)
}

// tenantFor routes a channel account to its tenant.
func (h *Webhooks) tenantFor(ctx context.Context, channel, account string) (string, error) {
	if tenant, ok := h.accounts[[2]string{channel, account}]; ok {
		return tenant, nil
	}
	if account == "" {
		return "", persistence.ErrNotFound
	}
	acct, err := h.store.GetChannelAccount(ctx, channel, account)
	if err != nil {
		return "", err
	}
	return acct.TenantID, nil
}

// pending is one routed message or status on its way to the log.
type pending struct {
	kind      string // message, status
	tenantID  string
	dedupeKey string
	rec       persistence.Record
}

func (h *Webhooks) accept(ctx context.Context, channel string, items []channels.Item) error {
	var todo []pending
	var unroutable []persistence.Record
	var audits []*persistence.AuditEvent
	for _, it := range items {
		kind := it.Kind()
		if it.Problem != nil {
			a, err := h.audit(ctx, channel, it)
			if err != nil {
				return err
			}
			audits = append(audits, a)
			continue
		}
		typ, user, at, payload := events.TypeMessageReceived, "", time.Time{}, any(nil)
		if m := it.Message; m != nil {
			user, at, payload = m.ExternalUserID, m.SentAt, m
		} else {
			typ, user, at, payload = events.TypeMessageStatus, it.Status.ExternalUserID, it.Status.At, it.Status
		}
		tenant, err := h.tenantFor(ctx, channel, it.Account)
		if errors.Is(err, persistence.ErrNotFound) {
			raw, _ := json.Marshal(payload)
			unroutable = append(unroutable, consume.DeadLetter(persistence.Record{Topic: persistence.TopicInbound, Key: it.Account, Value: raw},
				fmt.Errorf("%s %s for unknown account %q", channel, kind, it.Account), time.Now()))
			h.items.WithLabelValues(channel, kind, "unroutable").Inc()
			h.logger.Error().Str("channel", channel).Str("account", it.Account).Str("item", kind).Msg("webhook item for an unknown account kept on the dead-letter topic")
			continue
		}
		if err != nil {
			return err
		}
		env, err := events.New(typ, events.Version(typ), tenant, events.ThreadKey(tenant, channel, user), at, payload)
		if err != nil {
			return err
		}
		rec, err := env.Record(persistence.TopicInbound)
		if err != nil {
			return err
		}
		todo = append(todo, pending{kind: kind, tenantID: tenant, dedupeKey: it.DedupeKey, rec: rec})
	}
	outcomes := make([]string, len(todo))
	// Urgent: the channel waits for this answer; the store runs the intake
	// ahead of the runtime's queued writes.
	err := h.store.InTx(persistence.Urgent(ctx), func(tx WebhookTx) error {
		var recs []persistence.Record
		for i, p := range todo {
			fresh, err := tx.ClaimDedupeKey(ctx, p.tenantID, channel, p.kind+":"+p.dedupeKey)
			if err != nil {
				return err
			}
			if !fresh {
				outcomes[i] = "duplicate"
				continue
			}
			recs = append(recs, p.rec)
			outcomes[i] = "appended"
		}
		for _, a := range audits {
			if err := tx.CreateAuditEvent(ctx, a); err != nil {
				return err
			}
		}
		recs = append(recs, unroutable...)
		if len(recs) == 0 {
			return nil
		}
		_, err := tx.AppendLog(ctx, recs...)
		return err
	})
	if err != nil {
		return err
	}
	for i, p := range todo {
		h.items.WithLabelValues(channel, p.kind, outcomes[i]).Inc()
	}
	return nil
}

// audit returns the audit event of a provider-reported problem: under the
// account's tenant, or the default tenant when no tenant owns the account.
// Problems are not deduplicated: an identical error may happen again.
func (h *Webhooks) audit(ctx context.Context, channel string, it channels.Item) (*persistence.AuditEvent, error) {
	tenant, err := h.tenantFor(ctx, channel, it.Account)
	if err != nil && !errors.Is(err, persistence.ErrNotFound) {
		return nil, err
	}
	if tenant == "" {
		tenant = h.cfg.DefaultTenantID
	}
	p := it.Problem
	h.logger.Warn().Str("channel", channel).Int("code", p.Code).Str("title", p.Title).Str("account", it.Account).Msg("the channel reported an error")
	return &persistence.AuditEvent{Base: persistence.Base{TenantID: tenant}, ActorKind: persistence.ActorSystem,
		ActorID: channel, Action: channel + ".webhook_error", TargetKind: "channel_account", TargetID: it.Account, Data: p.Data}, nil
}
