package whatsapp_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"testing"
	"time"

	"github.com/frontdesk-ai/frontdesk/channels"
	"github.com/frontdesk-ai/frontdesk/channels/whatsapp"
	"github.com/frontdesk-ai/frontdesk/channels/whatsapp/whatsapptest"
	"github.com/frontdesk-ai/frontdesk/events"
)

func newChannel(t *testing.T, g *whatsapptest.Graph) *whatsapp.Channel {
	t.Helper()
	return whatsapp.NewChannel(whatsapp.ChannelConfig{AppSecret: "sekret", VerifyToken: "tok", AccessTokens: map[string]string{pnid: token}},
		newClient(t, g), nil)
}

func TestChannelInbound(t *testing.T) {
	ch := newChannel(t, whatsapptest.NewGraph(t))
	body := whatsapptest.TextWebhook(pnid, user, "Ana", "wamid.T1", "hola", time.Unix(1749416383, 0))
	t.Run("signature", func(t *testing.T) {
		h := http.Header{}
		if err := ch.Verify(h, body); !errors.Is(err, channels.ErrUnauthorized) || !errors.Is(err, whatsapp.ErrSignatureMissing) {
			t.Errorf("no signature: %v", err)
		}
		h.Set(whatsapp.SignatureHeader, whatsapp.Sign("other", body))
		if err := ch.Verify(h, body); !errors.Is(err, channels.ErrUnauthorized) {
			t.Errorf("wrong secret: %v", err)
		}
		h.Set(whatsapp.SignatureHeader, whatsapp.Sign("sekret", body))
		if err := ch.Verify(h, body); err != nil {
			t.Errorf("good signature: %v", err)
		}
	})
	t.Run("handshake", func(t *testing.T) {
		if got, err := ch.Handshake(whatsapptest.VerifyQuery("tok", "42")); err != nil || got != "42" {
			t.Errorf("good token: %q %v", got, err)
		}
		if _, err := ch.Handshake(whatsapptest.VerifyQuery("nope", "42")); !errors.Is(err, channels.ErrForbidden) {
			t.Errorf("wrong token: %v", err)
		}
		if _, err := ch.Handshake(whatsapptest.VerifyQuery("tok", "")); !errors.Is(err, channels.ErrMalformed) {
			t.Errorf("no challenge: %v", err)
		}
	})
	t.Run("parse", func(t *testing.T) {
		if _, err := ch.Parse([]byte(`{"object":"page"}`)); !errors.Is(err, channels.ErrMalformed) {
			t.Errorf("malformed: %v", err)
		}
		items, err := ch.Parse(payloads(t)["multi"])
		if err != nil {
			t.Fatal(err)
		}
		type item struct{ kind, account, key string }
		var got []item
		for _, it := range items {
			got = append(got, item{it.Kind(), it.Account, it.DedupeKey})
		}
		want := []item{
			{"message", "106540352242922", "wamid.MULTI0001"},
			{"message", "106540352242922", "wamid.MULTI0002"},
			{"message", "209876543210987", "wamid.MULTI0003"},
			{"status", "106540352242922", "wamid.OUT0001:delivered"},
			{"status", "106540352242922", "wamid.OUT0001:read"},
		}
		if len(got) != 6 || !reflect.DeepEqual(got[:5], want) || got[5].kind != "error" || got[5].account != "209876543210987" {
			t.Fatalf("items\n got %v\nwant %v and one error", got, want)
		}
		if p := items[5].Problem; p.Code != 131000 || !json.Valid(p.Data) {
			t.Errorf("problem %+v", p)
		}
		if m := items[0].Message; m.Channel != "whatsapp" || m.ChannelAccount != "106540352242922" || m.Phone != "+16505551234" {
			t.Errorf("message %+v", m)
		}
		if s := items[3].Status; s.ChannelAccount != "106540352242922" || s.Channel != "whatsapp" {
			t.Errorf("status %+v", s)
		}
	})
}

func TestChannelSend(t *testing.T) {
	tests := []struct {
		name string
		out  channels.Outgoing
		want map[string]any
	}{
		{"text carries the key", channels.Outgoing{Account: pnid, To: user, Key: "msg-1", Text: "Shipped."}, map[string]any{
			"messaging_product": "whatsapp", "recipient_type": "individual", "to": user, "type": "text",
			"text": map[string]any{"body": "Shipped.", "preview_url": false}, "biz_opaque_callback_data": "msg-1",
		}},
		{"reply buttons", channels.Outgoing{Account: pnid, To: user, Key: "msg-2", Text: "Refund 12 EUR?",
			Buttons: []channels.Button{{ID: "yes", Title: "Yes"}, {ID: "no", Title: "No"}}}, map[string]any{
			"messaging_product": "whatsapp", "recipient_type": "individual", "to": user, "type": "interactive",
			"interactive": map[string]any{
				"type": "button", "body": map[string]any{"text": "Refund 12 EUR?"},
				"action": map[string]any{"buttons": []any{
					map[string]any{"type": "reply", "reply": map[string]any{"id": "yes", "title": "Yes"}},
					map[string]any{"type": "reply", "reply": map[string]any{"id": "no", "title": "No"}},
				}},
			},
			"biz_opaque_callback_data": "msg-2",
		}},
		{"media by id", channels.Outgoing{Account: pnid, To: user, Key: "msg-3", Text: "Your invoice", ReplyTo: "wamid.IN1",
			Media: &events.Media{ID: "1003383421387256", MimeType: "application/pdf", Filename: "invoice.pdf"}}, map[string]any{
			"messaging_product": "whatsapp", "recipient_type": "individual", "to": user, "type": "document",
			"document":                 map[string]any{"id": "1003383421387256", "caption": "Your invoice", "filename": "invoice.pdf"},
			"context":                  map[string]any{"message_id": "wamid.IN1"},
			"biz_opaque_callback_data": "msg-3",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := whatsapptest.NewGraph(t)
			g.AcceptTokens(token)
			id, err := newChannel(t, g).Send(context.Background(), tt.out)
			if err != nil {
				t.Fatal(err)
			}
			reqs := g.Requests()
			if len(reqs) != 1 || reqs[0].PhoneNumberID != pnid || reqs[0].Token != token {
				t.Fatalf("requests %+v", reqs)
			}
			if !reflect.DeepEqual(reqs[0].Body, tt.want) {
				t.Errorf("body\n got %v\nwant %v", reqs[0].Body, tt.want)
			}
			if sent := g.Sent(); len(sent) != 1 || sent[0].WAMID != id {
				t.Errorf("wamid %q, fake sent %+v", id, sent)
			}
		})
	}
}

func TestChannelReadAndTyping(t *testing.T) {
	g := whatsapptest.NewGraph(t)
	ch := newChannel(t, g)
	ctx := context.Background()
	if err := ch.MarkRead(ctx, pnid, "wamid.IN1"); err != nil {
		t.Fatal(err)
	}
	if err := ch.Typing(ctx, pnid, user, "wamid.IN2"); err != nil {
		t.Fatal(err)
	}
	reqs := g.Requests()
	want := []map[string]any{
		{"messaging_product": "whatsapp", "status": "read", "message_id": "wamid.IN1"},
		{"messaging_product": "whatsapp", "status": "read", "message_id": "wamid.IN2", "typing_indicator": map[string]any{"type": "text"}},
	}
	if len(reqs) != 2 || !reflect.DeepEqual(reqs[0].Body, want[0]) || !reflect.DeepEqual(reqs[1].Body, want[1]) {
		t.Fatalf("requests %+v", reqs)
	}
	if caps := ch.Capabilities(); !caps.ReadReceipts || !caps.Typing || caps.ReplyWindow != 24*time.Hour {
		t.Errorf("capabilities %+v", caps)
	}
}

func TestChannelRetry(t *testing.T) {
	g := whatsapptest.NewGraph(t)
	g.AcceptTokens(token)
	ch := newChannel(t, g)
	ctx := context.Background()
	out := channels.Outgoing{Account: pnid, To: user, Text: "hi"}

	g.FailNext(1, whatsapptest.RateLimited("7"))
	_, err := ch.Send(ctx, out)
	if wait, ok := ch.Retry(err, 0); !ok || wait != 7*time.Second {
		t.Errorf("rate limited: retry %v after %s, want true after 7s", ok, wait)
	}
	g.FailNext(1, whatsapptest.ReEngagement())
	_, err = ch.Send(ctx, out)
	if _, ok := ch.Retry(err, 0); ok {
		t.Errorf("131047 is retried")
	}
	if got := channels.Reason(err); got != "131047 (#131047) Re-engagement message" {
		t.Errorf("reason %q", got)
	}
	_, err = ch.Send(ctx, channels.Outgoing{Account: "unknown-number", To: user, Text: "hi"})
	if _, ok := ch.Retry(err, 0); err == nil || ok {
		t.Errorf("a number without a token: %v, retried %v", err, ok)
	}
	inboundOnly := whatsapp.NewChannel(whatsapp.ChannelConfig{AppSecret: "s"}, nil, nil)
	if _, err := inboundOnly.Send(ctx, out); !errors.Is(err, whatsapp.ErrSendingOff) {
		t.Errorf("inbound-only channel sent: %v", err)
	}
	if n := len(g.Requests()); n != 2 {
		t.Errorf("graph got %d requests, want 2", n)
	}
}

// A read receipt or typing indicator is not a message: with the reply rate
// at R (a burst of R, refilled once an hour), R receipts, R typing
// indicators and R replies interleaved all reach the Graph API, and reply
// R+1 is held back by the limiter: the replies had their whole budget
// while receipts flowed, and no more.
func TestChannelReceiptsDoNotTakeReplyTokens(t *testing.T) {
	const r = 5
	g := whatsapptest.NewGraph(t)
	g.AcceptTokens(token)
	limiter, err := whatsapp.NewRateLimiter(whatsapp.RateLimitConfig{PerSecond: 1.0 / 3600, Burst: r})
	if err != nil {
		t.Fatal(err)
	}
	ch := whatsapp.NewChannel(whatsapp.ChannelConfig{AccessTokens: map[string]string{pnid: token}}, newClient(t, g), limiter)
	// A token the bucket cannot grant before this deadline is refused at
	// once (x/time/rate), so nothing here waits.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for i := range r {
		if err := ch.MarkRead(ctx, pnid, fmt.Sprintf("wamid.IN%d", i)); err != nil {
			t.Fatalf("receipt %d: %v", i, err)
		}
		if _, err := ch.Send(ctx, channels.Outgoing{Account: pnid, To: user, Text: fmt.Sprintf("reply %d", i)}); err != nil {
			t.Fatalf("reply %d after %d receipts: %v", i, i+1, err)
		}
	}
	if _, err := ch.Send(ctx, channels.Outgoing{Account: pnid, To: user, Text: "one too many"}); err == nil {
		t.Fatal("reply beyond the reply rate was sent")
	}
	if n := len(g.Sent()); n != r {
		t.Errorf("graph sent %d replies, want %d", n, r)
	}
	if n := len(g.Requests()); n != 2*r {
		t.Errorf("graph got %d requests, want %d receipts and %d replies", n, r, r)
	}
}
