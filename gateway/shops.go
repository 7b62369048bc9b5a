package gateway

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/frontdesk-ai/frontdesk/commerce"
	"github.com/frontdesk-ai/frontdesk/events"
	"github.com/frontdesk-ai/frontdesk/persistence"
)

// ShopHook is one shop system's webhook (Shopify, Magento): it checks a
// delivery's signature over the raw body and reads it into a shop event,
// checking that its body parses.
type ShopHook interface {
	// Source is the shop system: the path /webhooks/{source}.
	Source() string
	// Receive returns the delivery as a shop event; errors wrap
	// commerce.ErrSignature (401), commerce.ErrMalformed or
	// commerce.ErrCurrency (400).
	Receive(h http.Header, body []byte) (events.ShopEvent, error)
	// Ack is the body of the 200 answer (Adobe Commerce wants
	// {"op":"success"}); nil for none.
	Ack() []byte
}

// ShopStore is what the shop webhooks need from the store: the shops that
// route a delivery to its tenant, failures counted per shop, and a
// transaction for dedupe + append.
type ShopStore interface {
	InTx(ctx context.Context, fn func(tx WebhookTx) error) error
	GetShopByDomain(ctx context.Context, source, domain string) (persistence.Shop, error)
	RecordShopFailure(ctx context.Context, source, domain, reason string, at time.Time) error
}

// ShopWebhooks serves POST /webhooks/{source} for each configured shop
// system: size limit (413), signature (401, nothing stored), parse (400,
// nothing stored), route the shop to its tenant (404 for a shop no tenant
// connected), then dedupe on the event id and topic and append the delivery
// to the commerce topic in one transaction; 200 only after it committed.
// The commerce consumer applies it.
type ShopWebhooks struct {
	hooks    []ShopHook
	store    ShopStore
	logger   zerolog.Logger
	maxBody  int64
	requests *prometheus.CounterVec
}

// NewShopWebhooks builds the shop webhook handler.
func NewShopWebhooks(hooks []ShopHook, store ShopStore, logger zerolog.Logger, reg prometheus.Registerer) (*ShopWebhooks, error) {
	h := &ShopWebhooks{hooks: hooks, store: store, logger: logger.With().Str("component", "shop-webhooks").Logger(), maxBody: 5 << 20,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "frontdesk_shop_webhooks_total",
			Help: "Shop webhook deliveries, by source, topic and outcome (appended, duplicate, invalid_signature, malformed, unknown_shop, too_large, unavailable).",
		}, []string{"source", "topic", "outcome"}),
	}
	if err := reg.Register(h.requests); err != nil {
		return nil, fmt.Errorf("register shop webhook metrics: %w", err)
	}
	return h, nil
}

// Register mounts POST /webhooks/{source} for each hook.
func (h *ShopWebhooks) Register(s *Server) {
	for _, hook := range h.hooks {
		s.Handle("POST /webhooks/"+hook.Source(), h.handler(hook))
	}
}

func (h *ShopWebhooks) handler(hook ShopHook) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		src := hook.Source()
		fail := func(status int, outcome, msg string) {
			h.requests.WithLabelValues(src, "", outcome).Inc()
			http.Error(rw, msg, status)
		}
		body, err := io.ReadAll(http.MaxBytesReader(rw, r.Body, h.maxBody))
		if err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				fail(http.StatusRequestEntityTooLarge, "too_large", "body too large")
				return
			}
			fail(http.StatusBadRequest, "malformed", "cannot read body")
			return
		}
		ev, err := hook.Receive(r.Header, body)
		switch {
		case errors.Is(err, commerce.ErrSignature):
			h.logger.Warn().Err(err).Str("source", src).Str("remote", r.RemoteAddr).Msg("shop webhook signature rejected")
			if shop := r.Header.Get("X-Shopify-Shop-Domain"); shop != "" {
				// Counted on the shop it claims to be, when that shop is ours.
				_ = h.store.RecordShopFailure(r.Context(), src, shop, "invalid signature", time.Now())
			}
			fail(http.StatusUnauthorized, "invalid_signature", "invalid signature")
			return
		case err != nil:
			h.logger.Warn().Err(err).Str("source", src).Msg("malformed shop webhook")
			if ev.Shop != "" {
				_ = h.store.RecordShopFailure(r.Context(), src, ev.Shop, "malformed: "+err.Error(), time.Now())
			}
			fail(http.StatusBadRequest, "malformed", "malformed payload: "+err.Error())
			return
		}
		shop, err := h.store.GetShopByDomain(r.Context(), src, ev.Shop)
		if errors.Is(err, persistence.ErrNotFound) {
			h.logger.Warn().Str("source", src).Str("shop", ev.Shop).Str("topic", ev.Topic).Msg("shop webhook from a shop no tenant connected")
			fail(http.StatusNotFound, "unknown_shop", "unknown shop")
			return
		}
		if err != nil {
			h.logger.Error().Err(err).Str("source", src).Msg("shop webhook not stored; the shop will retry")
			fail(http.StatusServiceUnavailable, "unavailable", "temporarily unavailable")
			return
		}
		outcome, err := h.append(r.Context(), shop.TenantID, ev, body)
		if err != nil {
			h.logger.Error().Err(err).Str("source", src).Msg("shop webhook not stored; the shop will retry")
			fail(http.StatusServiceUnavailable, "unavailable", "temporarily unavailable")
			return
		}
		h.requests.WithLabelValues(src, ev.Topic, outcome).Inc()
		if ack := hook.Ack(); ack != nil {
			rw.Header().Set("Content-Type", "application/json")
			rw.WriteHeader(http.StatusOK)
			_, _ = rw.Write(ack)
			return
		}
		rw.WriteHeader(http.StatusOK)
	})
}

// append claims the delivery's dedupe key (its event id and topic) and
// appends it to the commerce topic in one urgent transaction.
func (h *ShopWebhooks) append(ctx context.Context, tenantID string, ev events.ShopEvent, body []byte) (string, error) {
	at := ev.TriggeredAt
	if at.IsZero() {
		at = time.Now()
	}
	env, err := events.New(events.TypeShopEvent, events.Version(events.TypeShopEvent), tenantID,
		events.ShopKey(tenantID, ev.Source, ev.Shop), at, ev)
	if err != nil {
		return "", err
	}
	rec, err := env.Record(persistence.TopicCommerce)
	if err != nil {
		return "", err
	}
	outcome := "appended"
	err = h.store.InTx(persistence.Urgent(ctx), func(tx WebhookTx) error {
		outcome = "appended"
		fresh, err := tx.ClaimDedupeKey(ctx, tenantID, ev.Source, ShopDedupeKey(ev, body))
		if err != nil {
			return err
		}
		if !fresh {
			outcome = "duplicate"
			return nil
		}
		_, err = tx.AppendLog(ctx, rec)
		return err
	})
	return outcome, err
}

// ShopDedupeKey names one shop event: its topic and event id (the same
// across the shop's retries), the webhook id without one, and the body's
// hash without either.
func ShopDedupeKey(ev events.ShopEvent, body []byte) string {
	switch {
	case ev.EventID != "":
		return ev.Shop + "|" + ev.Topic + "|" + ev.EventID
	case ev.WebhookID != "":
		return ev.Shop + "|" + ev.Topic + "|webhook:" + ev.WebhookID
	}
	return ev.Shop + "|" + ev.Topic + "|sha256:" + bodyHash(body)
}

func bodyHash(body []byte) string {
	sum := sha256.Sum256(body)
	return hex.EncodeToString(sum[:])
}
