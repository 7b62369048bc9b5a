package gateway

import (
	"context"
	"errors"
	"io"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/frontdesk-ai/frontdesk/commerce"
	"github.com/frontdesk-ai/frontdesk/events"
	"github.com/frontdesk-ai/frontdesk/persistence"
)

// PaymentHook is a payment provider's webhook (Stripe): signature over the
// raw body, then the event. Errors wrap commerce.ErrSignature (401) or
// commerce.ErrMalformed (400).
type PaymentHook interface {
	Receive(h http.Header, body []byte) (events.PaymentEvent, error)
}

// TxStore runs a webhook transaction (dedupe + append).
type TxStore interface {
	InTx(ctx context.Context, fn func(tx WebhookTx) error) error
}

// PaymentWebhooks serves POST /webhooks/stripe for the default tenant's
// payment account: signature (401, nothing stored), parse (400), dedupe on
// the event id (a replayed event is answered 200 and changes nothing), and
// append to the payments topic; 200 after the commit.
type PaymentWebhooks struct {
	hook     PaymentHook
	tenantID string
	store    TxStore
	logger   zerolog.Logger
	requests *prometheus.CounterVec
}

// NewPaymentWebhooks builds the payment webhook handler.
func NewPaymentWebhooks(hook PaymentHook, tenantID string, store TxStore, logger zerolog.Logger, reg prometheus.Registerer) (*PaymentWebhooks, error) {
	h := &PaymentWebhooks{hook: hook, tenantID: tenantID, store: store, logger: logger.With().Str("component", "payment-webhooks").Logger(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "frontdesk_payment_webhooks_total", Help: "Payment provider webhook deliveries, by outcome (appended, duplicate, invalid_signature, malformed, unavailable).",
		}, []string{"outcome"})}
	if err := reg.Register(h.requests); err != nil {
		return nil, err
	}
	return h, nil
}

// Register mounts POST /webhooks/stripe.
func (h *PaymentWebhooks) Register(s *Server) {
	s.Handle("POST /webhooks/stripe", http.HandlerFunc(h.receive))
}

func (h *PaymentWebhooks) receive(rw http.ResponseWriter, r *http.Request) {
	fail := func(status int, outcome, msg string) {
		h.requests.WithLabelValues(outcome).Inc()
		http.Error(rw, msg, status)
	}
	body, err := io.ReadAll(http.MaxBytesReader(rw, r.Body, 1<<20))
	if err != nil {
		fail(http.StatusBadRequest, "malformed", "cannot read body")
		return
	}
	ev, err := h.hook.Receive(r.Header, body)
	switch {
	case errors.Is(err, commerce.ErrSignature):
		h.logger.Warn().Err(err).Str("remote", r.RemoteAddr).Msg("payment webhook signature rejected")
		fail(http.StatusUnauthorized, "invalid_signature", "invalid signature")
		return
	case err != nil:
		fail(http.StatusBadRequest, "malformed", "malformed event")
		return
	}
	env, err := events.New(events.TypePaymentEvent, events.Version(events.TypePaymentEvent), h.tenantID, h.tenantID+"/"+ev.Provider, time.Now(), ev)
	if err == nil {
		var rec persistence.Record
		if rec, err = env.Record(persistence.TopicPayments); err == nil {
			outcome := "appended"
			err = h.store.InTx(persistence.Urgent(r.Context()), func(tx WebhookTx) error {
				outcome = "appended"
				fresh, err := tx.ClaimDedupeKey(r.Context(), h.tenantID, ev.Provider, "event:"+ev.EventID)
				if err != nil || !fresh {
					outcome = "duplicate"
					return err
				}
				_, err = tx.AppendLog(r.Context(), rec)
				return err
			})
			if err == nil {
				h.requests.WithLabelValues(outcome).Inc()
				rw.WriteHeader(http.StatusOK)
				return
			}
		}
	}
	h.logger.Error().Err(err).Msg("payment webhook not stored; the provider will retry")
	fail(http.StatusServiceUnavailable, "unavailable", "temporarily unavailable")
}
