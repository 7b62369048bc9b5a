package whatsapp_test

import (
	"context"
	"io"
	"testing"
	"time"

	"github.com/frontdesk-ai/frontdesk/channels/whatsapp"
	"github.com/frontdesk-ai/frontdesk/channels/whatsapp/whatsapptest"
)

// TestWebhookBuilders checks that the builders other packages use produce
// requests this package accepts and parses to what was asked.
func TestWebhookBuilders(t *testing.T) {
	ts := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name  string
		body  []byte
		check func(t *testing.T, b whatsapp.Batch)
	}{
		{"text", whatsapptest.TextWebhook("pn1", "4915112345678", "Ana", "wamid.T1", "hola", ts), func(t *testing.T, b whatsapp.Batch) {
			if len(b.Messages) != 1 {
				t.Fatalf("got %+v", b)
			}
			ev := b.Messages[0].Event
			if b.Messages[0].PhoneNumberID != "pn1" || ev.ExternalUserID != "4915112345678" || ev.ProfileName != "Ana" ||
				ev.ChannelMessageID != "wamid.T1" || ev.Text != "hola" || ev.Kind != "text" || !ev.SentAt.Equal(ts) {
				t.Errorf("got %+v", ev)
			}
		}},
		{"status", whatsapptest.StatusWebhook("pn1", "4915112345678", "wamid.O1", "delivered", ts), func(t *testing.T, b whatsapp.Batch) {
			if len(b.Statuses) != 1 || b.Statuses[0].DedupeKey() != "wamid.O1:delivered" || !b.Statuses[0].Event.At.Equal(ts) {
				t.Errorf("got %+v", b)
			}
		}},
		{"failed status", whatsapptest.FailedStatusWebhook("pn1", "4915112345678", "wamid.O2", 131047, "Re-engagement message", ts), func(t *testing.T, b whatsapp.Batch) {
			if len(b.Statuses) != 1 || b.Statuses[0].Event.ErrorCode != 131047 || b.Statuses[0].Event.Status != "failed" {
				t.Errorf("got %+v", b)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := whatsapptest.NewWebhookRequest(context.Background(), "http://frontdesk.test/webhooks/whatsapp", "sekret", tt.body)
			if err != nil {
				t.Fatal(err)
			}
			raw, err := io.ReadAll(req.Body)
			if err != nil {
				t.Fatal(err)
			}
			if err := whatsapp.VerifySignature("sekret", raw, req.Header.Get(whatsapp.SignatureHeader)); err != nil {
				t.Fatalf("signature: %v", err)
			}
			b, err := whatsapp.Parse(raw)
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, b)
		})
	}
}
