package sqlstore_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/frontdesk-ai/frontdesk/persistence"
	"github.com/frontdesk-ai/frontdesk/persistence/sqlstore"
	"github.com/frontdesk-ai/frontdesk/persistence/sqlstore/sqlstoretest"
)

// outbound stores a tenant, a conversation and a pending outbound message
// with metadata.
func outbound(t *testing.T, s *sqlstore.Store, metadata string) persistence.Message {
	t.Helper()
	ctx := context.Background()
	tn := &persistence.Tenant{Name: "Shop", Slug: "shop"}
	if err := s.CreateTenant(ctx, tn); err != nil {
		t.Fatal(err)
	}
	cust := &persistence.Customer{Base: persistence.Base{TenantID: tn.ID}, Name: "Ada"}
	if err := s.CreateCustomer(ctx, cust); err != nil {
		t.Fatal(err)
	}
	conv := &persistence.Conversation{Base: persistence.Base{TenantID: tn.ID}, CustomerID: cust.ID, Channel: "whatsapp", ThreadKey: "t1"}
	if err := s.CreateConversation(ctx, conv); err != nil {
		t.Fatal(err)
	}
	m := persistence.Message{Base: persistence.Base{TenantID: tn.ID, Metadata: json.RawMessage(metadata)}, ConversationID: conv.ID,
		Direction: persistence.DirectionOutbound, Channel: "whatsapp", Sender: persistence.SenderAI, Text: "Your parcel left today."}
	if err := s.CreateMessage(ctx, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func meta(t *testing.T, m persistence.Message) map[string]any {
	t.Helper()
	out := map[string]any{}
	if err := json.Unmarshal(m.Metadata, &out); err != nil {
		t.Fatalf("metadata %s: %v", m.Metadata, err)
	}
	return out
}

// The sender's three writes, on both dialects: each is one conditional
// statement that returns the row as stored.
func TestMessageSends(t *testing.T) {
	ctx := context.Background()
	at := time.Date(2026, 3, 1, 12, 0, 0, 123456789, time.UTC)
	for _, d := range sqlstoretest.Dialects {
		t.Run(d, func(t *testing.T) {
			t.Run("claim once, keeping other metadata", func(t *testing.T) {
				s := sqlstoretest.Open(t, d)
				m := outbound(t, s, `{"turn": 3}`)
				got, claimed, err := s.ClaimMessageSend(ctx, m.TenantID, m.ID, "send_attempted_at", at)
				if err != nil || !claimed {
					t.Fatalf("claim = %v, %v; want claimed", claimed, err)
				}
				if md := meta(t, got); md["send_attempted_at"] != at.Format(time.RFC3339Nano) || md["turn"] != float64(3) {
					t.Errorf("metadata %s", got.Metadata)
				}
				if got.Version != m.Version+1 || got.Text != m.Text || got.DeliveryStatus != persistence.DeliveryPending || got.CreatedAt.IsZero() {
					t.Errorf("returned %+v", got)
				}
				if stored, _ := s.GetMessage(ctx, m.TenantID, m.ID); stored.Version != got.Version || string(stored.Metadata) != string(got.Metadata) {
					t.Errorf("stored %+v, returned %+v", stored, got)
				}
				// A second claim (a redelivery, another member) finds the attempt.
				if _, claimed, err := s.ClaimMessageSend(ctx, m.TenantID, m.ID, "send_attempted_at", at.Add(time.Second)); err != nil || claimed {
					t.Fatalf("second claim = %v, %v; want not claimed", claimed, err)
				}
				// A stale copy of the grain conflicts.
				m.DeliveryStatus = persistence.DeliveryDelivered
				if err := s.UpdateMessage(ctx, &m); !errors.Is(err, persistence.ErrVersionConflict) {
					t.Errorf("stale update = %v, want a version conflict", err)
				}
			})
			t.Run("no claim of a settled or missing message or odd metadata", func(t *testing.T) {
				s := sqlstoretest.Open(t, d)
				m := outbound(t, s, `[1]`)
				if _, claimed, err := s.ClaimMessageSend(ctx, m.TenantID, m.ID, "send_attempted_at", at); err != nil || claimed {
					t.Errorf("array metadata: claim = %v, %v", claimed, err)
				}
				m.Metadata = json.RawMessage(`{}`)
				m.ChannelMessageID = "wamid.1"
				if err := s.UpdateMessage(ctx, &m); err != nil {
					t.Fatal(err)
				}
				if _, claimed, err := s.ClaimMessageSend(ctx, m.TenantID, m.ID, "send_attempted_at", at); err != nil || claimed {
					t.Errorf("provider id set: claim = %v, %v", claimed, err)
				}
				if _, claimed, err := s.ClaimMessageSend(ctx, m.TenantID, "nope", "send_attempted_at", at); err != nil || claimed {
					t.Errorf("missing: claim = %v, %v", claimed, err)
				}
				if _, _, err := s.ClaimMessageSend(ctx, m.TenantID, m.ID, "$.x", at); !errors.Is(err, persistence.ErrInvalid) {
					t.Errorf("bad key: %v", err)
				}
			})
			t.Run("sent keeps a later status", func(t *testing.T) {
				s := sqlstoretest.Open(t, d)
				m := outbound(t, s, "")
				got, err := s.RecordMessageSent(ctx, m.TenantID, m.ID, "wamid.A")
				if err != nil || got.ChannelMessageID != "wamid.A" || got.DeliveryStatus != persistence.DeliverySent || got.Version != m.Version+1 {
					t.Fatalf("sent = %+v, %v", got, err)
				}
				got.DeliveryStatus = persistence.DeliveryRead
				if err := s.UpdateMessage(ctx, &got); err != nil {
					t.Fatal(err)
				}
				again, err := s.RecordMessageSent(ctx, m.TenantID, m.ID, "wamid.A")
				if err != nil || again.DeliveryStatus != persistence.DeliveryRead {
					t.Errorf("again = %+v, %v; want read kept", again, err)
				}
				if _, err := s.RecordMessageSent(ctx, m.TenantID, "nope", "wamid.B"); !errors.Is(err, persistence.ErrNotFound) {
					t.Errorf("missing: %v", err)
				}
				other := persistence.Message{Base: persistence.Base{TenantID: m.TenantID}, ConversationID: m.ConversationID,
					Direction: persistence.DirectionOutbound, Channel: "whatsapp", Sender: persistence.SenderAI, Text: "Second."}
				if err := s.CreateMessage(ctx, &other); err != nil {
					t.Fatal(err)
				}
				if _, err := s.RecordMessageSent(ctx, other.TenantID, other.ID, "wamid.A"); !errors.Is(err, persistence.ErrDuplicate) {
					t.Errorf("provider id of another message: %v", err)
				}
			})
			t.Run("fail only a pending message", func(t *testing.T) {
				s := sqlstoretest.Open(t, d)
				m := outbound(t, s, "")
				got, changed, err := s.FailMessageSend(ctx, m.TenantID, m.ID, "131047 Re-engagement message")
				if err != nil || !changed || got.DeliveryStatus != persistence.DeliveryFailed || got.Error != "131047 Re-engagement message" {
					t.Fatalf("fail = %+v, %v, %v", got, changed, err)
				}
				if _, changed, err := s.FailMessageSend(ctx, m.TenantID, m.ID, "again"); err != nil || changed {
					t.Errorf("second fail = %v, %v", changed, err)
				}
			})
		})
	}
}
