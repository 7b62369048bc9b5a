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

	"github.com/frontdesk-ai/frontdesk/channels/whatsapp"
	"github.com/frontdesk-ai/frontdesk/consume"
	"github.com/frontdesk-ai/frontdesk/events"
	"github.com/frontdesk-ai/frontdesk/persistence"
	"github.com/frontdesk-ai/frontdesk/persistence/sqlstore"
)

// WhatsAppConfig is the default tenant's WhatsApp Cloud API channel.
type WhatsAppConfig struct {
	VerifyToken   string
	AppSecret     string
	PhoneNumberID string
	// DefaultTenantID receives messages to PhoneNumberID; other numbers are
	// routed through the store's channel accounts.
	DefaultTenantID string
	// MaxBodyBytes limits a webhook body (default 1 MiB); larger → 413.
	MaxBodyBytes int64
}

// InboxStore is what the webhook needs from the store: routing of phone
// numbers to tenants and a transaction for dedupe + append + audit.
type InboxStore interface {
	InTx(ctx context.Context, fn func(tx *sqlstore.Tx) error) error
	GetChannelAccount(ctx context.Context, channel, externalID string) (persistence.ChannelAccount, error)
}

// TxAppender appends log records inside a store transaction (webhook
// events, agents' replies), so they commit with it.
type TxAppender interface {
	AppendTx(ctx context.Context, tx *sqlstore.Tx, recs ...persistence.Record) ([]persistence.Record, error)
}

// WhatsApp serves /webhooks/whatsapp.
type WhatsApp struct {
	cfg      WhatsAppConfig
	store    InboxStore
	log      TxAppender
	logger   zerolog.Logger
	requests *prometheus.CounterVec
	items    *prometheus.CounterVec
}

// NewWhatsApp builds the webhook handler.
func NewWhatsApp(cfg WhatsAppConfig, store InboxStore, log TxAppender, logger zerolog.Logger, reg prometheus.Registerer) (*WhatsApp, error) {
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = 1 << 20
	}
	w := &WhatsApp{
		cfg: cfg, store: store, log: log,
		logger: logger.With().Str("channel", whatsapp.Channel).Logger(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "frontdesk_webhook_requests_total", Help: "Webhook requests, by channel and HTTP status.",
		}, []string{"channel", "status"}),
		items: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "frontdesk_webhook_items_total", Help: "Webhook items (messages, statuses, errors), by channel, item and outcome (appended, duplicate, unroutable).",
		}, []string{"channel", "item", "outcome"}),
	}
	for _, c := range []prometheus.Collector{w.requests, w.items} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("register webhook metrics: %w", err)
		}
	}
	return w, nil
}

// Register mounts the webhook routes on s.
func (w *WhatsApp) Register(s *Server) {
	s.Handle("GET /webhooks/whatsapp", http.HandlerFunc(w.verify))
	s.Handle("POST /webhooks/whatsapp", http.HandlerFunc(w.receive))
}

func (w *WhatsApp) verify(rw http.ResponseWriter, r *http.Request) {
	challenge, err := whatsapp.VerifyChallenge(r.URL.Query(), w.cfg.VerifyToken)
	switch {
	case errors.Is(err, whatsapp.ErrVerifyChallenge):
		w.fail(rw, http.StatusBadRequest, "missing hub.challenge")
		return
	case err != nil:
		w.fail(rw, http.StatusForbidden, "verification failed")
		return
	}
	w.requests.WithLabelValues(whatsapp.Channel, "200").Inc()
	rw.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = io.WriteString(rw, challenge)
}

func (w *WhatsApp) fail(rw http.ResponseWriter, status int, msg string) {
	w.requests.WithLabelValues(whatsapp.Channel, fmt.Sprint(status)).Inc()
	http.Error(rw, msg, status)
}

// receive checks the signature over the raw body, normalizes the payload,
// and appends each new item's event to the inbound topic in one
// transaction with its dedupe key; it answers 200 only after the commit.
func (w *WhatsApp) receive(rw http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(rw, r.Body, w.cfg.MaxBodyBytes))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			w.fail(rw, http.StatusRequestEntityTooLarge, "body too large")
			return
		}
		w.fail(rw, http.StatusBadRequest, "cannot read body")
		return
	}
	if err := whatsapp.VerifySignature(w.cfg.AppSecret, body, r.Header.Get(whatsapp.SignatureHeader)); err != nil {
		w.logger.Warn().Err(err).Str("remote", r.RemoteAddr).Msg("webhook signature rejected")
		w.fail(rw, http.StatusUnauthorized, "invalid signature")
		return
	}
	batch, err := whatsapp.Parse(body)
	if err != nil {
		w.logger.Warn().Err(err).Msg("malformed webhook")
		w.fail(rw, http.StatusBadRequest, "malformed webhook payload")
		return
	}
	if err := w.accept(r.Context(), batch); err != nil {
		w.logger.Error().Err(err).Msg("webhook not stored; the provider will retry")
		w.fail(rw, http.StatusServiceUnavailable, "temporarily unavailable")
		return
	}
	w.requests.WithLabelValues(whatsapp.Channel, "200").Inc()
	rw.WriteHeader(http.StatusOK)
}

// item is one normalized piece of a webhook on its way to the log.
type item struct {
	kind      string // message, status, error
	tenantID  string
	dedupeKey string
	rec       persistence.Record
}

func (w *WhatsApp) tenantFor(ctx context.Context, phoneNumberID string) (string, error) {
	if phoneNumberID != "" && phoneNumberID == w.cfg.PhoneNumberID && w.cfg.DefaultTenantID != "" {
		return w.cfg.DefaultTenantID, nil
	}
	acct, err := w.store.GetChannelAccount(ctx, whatsapp.Channel, phoneNumberID)
	if err != nil {
		return "", err
	}
	return acct.TenantID, nil
}

func (w *WhatsApp) accept(ctx context.Context, b whatsapp.Batch) error {
	var items []item
	var unroutable []persistence.Record
	route := func(kind, pnid, dedupe, user, typ string, payload any, at time.Time) error {
		tenant, err := w.tenantFor(ctx, pnid)
		if errors.Is(err, persistence.ErrNotFound) {
			raw, _ := json.Marshal(payload)
			unroutable = append(unroutable, consume.DeadLetter(persistence.Record{Topic: persistence.TopicInbound, Key: pnid, Value: raw},
				fmt.Errorf("whatsapp %s for unknown phone_number_id %q", kind, pnid), time.Now()))
			w.items.WithLabelValues(whatsapp.Channel, kind, "unroutable").Inc()
			w.logger.Error().Str("phone_number_id", pnid).Str("item", kind).Msg("webhook item for an unknown phone number kept on the dead-letter topic")
			return nil
		}
		if err != nil {
			return err
		}
		env, err := events.New(typ, events.Version(typ), tenant, events.ThreadKey(tenant, whatsapp.Channel, user), at, payload)
		if err != nil {
			return err
		}
		rec, err := env.Record(persistence.TopicInbound)
		if err != nil {
			return err
		}
		items = append(items, item{kind: kind, tenantID: tenant, dedupeKey: dedupe, rec: rec})
		return nil
	}
	for _, m := range b.Messages {
		if err := route("message", m.PhoneNumberID, m.DedupeKey(), m.Event.ExternalUserID, events.TypeMessageReceived, m.Event, m.Event.SentAt); err != nil {
			return err
		}
	}
	for _, s := range b.Statuses {
		ev := s.Event
		ev.ChannelAccount, ev.Details = s.PhoneNumberID, s.Details
		if err := route("status", s.PhoneNumberID, s.DedupeKey(), ev.ExternalUserID, events.TypeMessageStatus, ev, ev.At); err != nil {
			return err
		}
	}
	var audits []*persistence.AuditEvent
	for _, e := range b.Errors {
		tenant, err := w.tenantFor(ctx, e.PhoneNumberID)
		if err != nil && !errors.Is(err, persistence.ErrNotFound) {
			return err
		}
		if tenant == "" {
			tenant = w.cfg.DefaultTenantID
		}
		data, _ := json.Marshal(e)
		audits = append(audits, &persistence.AuditEvent{Base: persistence.Base{TenantID: tenant}, ActorKind: persistence.ActorSystem,
			ActorID: whatsapp.Channel, Action: "whatsapp.webhook_error", TargetKind: "channel_account", TargetID: e.PhoneNumberID, Data: data})
		w.logger.Warn().Int("code", e.Code).Str("title", e.Title).Str("phone_number_id", e.PhoneNumberID).Msg("whatsapp reported an error")
	}
	outcomes := make([]string, len(items))
	err := w.store.InTx(ctx, func(tx *sqlstore.Tx) error {
		var recs []persistence.Record
		for i, it := range items {
			fresh, err := tx.ClaimDedupeKey(ctx, it.tenantID, whatsapp.Channel, it.kind+":"+it.dedupeKey)
			if err != nil {
				return err
			}
			if !fresh {
				outcomes[i] = "duplicate"
				continue
			}
			recs = append(recs, it.rec)
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
		_, err := w.log.AppendTx(ctx, tx, recs...)
		return err
	})
	if err != nil {
		return err
	}
	for i, it := range items {
		w.items.WithLabelValues(whatsapp.Channel, it.kind, outcomes[i]).Inc()
	}
	return nil
}
