package whatsapp_test

import (
	"context"
	"errors"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/frontdesk-ai/frontdesk/channels/whatsapp"
	"github.com/frontdesk-ai/frontdesk/channels/whatsapp/whatsapptest"
	"github.com/frontdesk-ai/frontdesk/events"
)

const (
	pnid  = "106540352242922"
	token = "EAAG-test-token"
	user  = "16505551234"
)

func newClient(t *testing.T, g *whatsapptest.Graph) *whatsapp.Client {
	t.Helper()
	c, err := whatsapp.NewClient(whatsapp.Config{BaseURL: g.BaseURL(), HTTPClient: g.HTTPClient(), Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestSendText(t *testing.T) {
	tests := []struct {
		name    string
		replyTo string
		want    map[string]any
	}{
		{"plain", "", map[string]any{
			"messaging_product": "whatsapp", "recipient_type": "individual", "to": user, "type": "text",
			"text": map[string]any{"body": "Your order shipped.", "preview_url": false},
		}},
		{"reply", "wamid.IN1", map[string]any{
			"messaging_product": "whatsapp", "recipient_type": "individual", "to": user, "type": "text",
			"text":    map[string]any{"body": "Your order shipped.", "preview_url": false},
			"context": map[string]any{"message_id": "wamid.IN1"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := whatsapptest.NewGraph(t)
			g.AcceptTokens(token)
			id, err := newClient(t, g).SendText(context.Background(), pnid, token, user, "Your order shipped.", tt.replyTo)
			if err != nil {
				t.Fatal(err)
			}
			reqs := g.Requests()
			if len(reqs) != 1 {
				t.Fatalf("fake got %d requests, want 1", len(reqs))
			}
			r := reqs[0]
			if r.Method != http.MethodPost || r.Path != "/v21.0/"+pnid+"/messages" || r.Token != token || r.ContentType != "application/json" {
				t.Errorf("request %s %s token %q type %q", r.Method, r.Path, r.Token, r.ContentType)
			}
			if !reflect.DeepEqual(r.Body, tt.want) {
				t.Errorf("body\n got %v\nwant %v", r.Body, tt.want)
			}
			sent := g.Sent()
			if len(sent) != 1 || sent[0].WAMID != id || !strings.HasPrefix(id, "wamid.") || sent[0].ReplyTo != tt.replyTo {
				t.Errorf("wamid %q, fake sent %+v", id, sent)
			}
		})
	}
}

func TestSendTextFreshWamids(t *testing.T) {
	g := whatsapptest.NewGraph(t)
	c := newClient(t, g)
	a, err1 := c.SendText(context.Background(), pnid, token, user, "one", "")
	b, err2 := c.SendText(context.Background(), pnid, token, user, "two", "")
	if err := errors.Join(err1, err2); err != nil {
		t.Fatal(err)
	}
	if a == b {
		t.Errorf("same wamid %q twice", a)
	}
}

// TestSendTextRetriesServerErrors plays the sender's loop: retry while
// Retryable, waiting RetryDelay.
func TestSendTextRetriesServerErrors(t *testing.T) {
	g := whatsapptest.NewGraph(t)
	g.FailNext(2, whatsapptest.ServerError())
	c := newClient(t, g)
	var (
		id   string
		err  error
		errs []error
	)
	for attempt := 0; attempt < 5; attempt++ {
		id, err = c.SendText(context.Background(), pnid, token, user, "hello", "")
		if err == nil || !whatsapp.IsRetryable(err) {
			break
		}
		errs = append(errs, err)
		if d := whatsapp.RetryDelay(err, attempt, func() float64 { return 0 }); d != 0 {
			t.Fatalf("delay with zero jitter = %s", d)
		}
	}
	if err != nil {
		t.Fatalf("final error: %v", err)
	}
	if len(errs) != 2 || len(g.Requests()) != 3 || len(g.Sent()) != 1 || g.Sent()[0].WAMID != id {
		t.Fatalf("retried %d times, fake got %d requests, sent %+v", len(errs), len(g.Requests()), g.Sent())
	}
	var ae *whatsapp.APIError
	if !errors.As(errs[0], &ae) || ae.HTTPStatus != 500 || ae.Code != 1 || ae.FBTraceID == "" {
		t.Errorf("first error %#v", errs[0])
	}
}

func TestSendTextErrors(t *testing.T) {
	tests := []struct {
		name      string
		fail      whatsapptest.Failure
		retryable bool
		want      whatsapp.APIError
	}{
		{"outside 24h window", whatsapptest.ReEngagement(), false, whatsapp.APIError{HTTPStatus: 400, Code: 131047, Type: "OAuthException",
			Message: "(#131047) Re-engagement message", Details: "Message failed to send because more than 24 hours have passed since the customer last replied to this number."}},
		{"expired token", whatsapptest.InvalidToken(), false, whatsapp.APIError{HTTPStatus: 401, Code: 190, Subcode: 463, Type: "OAuthException",
			Message: "Error validating access token: Session has expired."}},
		{"rate limited", whatsapptest.RateLimited("7"), true, whatsapp.APIError{HTTPStatus: 429, Code: 130429, Type: "OAuthException",
			Message: "(#130429) Rate limit hit", Details: "Cloud API message throughput has been reached.", RetryAfter: 7 * time.Second}},
		{"undeliverable", whatsapptest.Failure{HTTPStatus: 400, Code: 131026, Message: "Message Undeliverable."}, false,
			whatsapp.APIError{HTTPStatus: 400, Code: 131026, Type: "OAuthException", Message: "Message Undeliverable."}},
		{"pair rate limit on a 400", whatsapptest.Failure{HTTPStatus: 400, Code: 131056, Message: "(#131056) Pair rate limit hit"}, true,
			whatsapp.APIError{HTTPStatus: 400, Code: 131056, Type: "OAuthException", Message: "(#131056) Pair rate limit hit"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := whatsapptest.NewGraph(t)
			g.FailAlways(tt.fail)
			_, err := newClient(t, g).SendText(context.Background(), pnid, token, user, "hi", "")
			var ae *whatsapp.APIError
			if !errors.As(err, &ae) {
				t.Fatalf("err %v is not an *APIError", err)
			}
			if ae.FBTraceID == "" {
				t.Error("fbtrace_id not kept")
			}
			got := *ae
			got.FBTraceID = ""
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v\nwant %+v", got, tt.want)
			}
			if ae.Retryable() != tt.retryable || whatsapp.IsRetryable(err) != tt.retryable {
				t.Errorf("retryable %v, want %v", ae.Retryable(), tt.retryable)
			}
			if strings.Contains(err.Error(), token) || strings.Contains(err.Error(), user) {
				t.Errorf("error leaks token or recipient: %v", err)
			}
			if len(g.Requests()) != 1 || len(g.Sent()) != 0 {
				t.Errorf("fake got %d requests, sent %d", len(g.Requests()), len(g.Sent()))
			}
		})
	}
}

func TestSendTextRetryAfterDrivesDelay(t *testing.T) {
	g := whatsapptest.NewGraph(t)
	g.FailNext(1, whatsapptest.RateLimited("12"))
	_, err := newClient(t, g).SendText(context.Background(), pnid, token, user, "hi", "")
	if d := whatsapp.RetryDelay(err, 0, func() float64 { return 0.5 }); d != 12*time.Second {
		t.Errorf("delay %s, want the Retry-After 12s", d)
	}
}

func TestSendTextTransportAndContext(t *testing.T) {
	t.Run("connection refused is retryable", func(t *testing.T) {
		c, err := whatsapp.NewClient(whatsapp.Config{BaseURL: "http://127.0.0.1:1/v21.0", Timeout: 2 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.SendText(context.Background(), pnid, token, user, "hi", "")
		var ae *whatsapp.APIError
		if !errors.As(err, &ae) || ae.HTTPStatus != 0 || !ae.Retryable() {
			t.Errorf("got %#v", err)
		}
	})
	t.Run("cancelled context is final", func(t *testing.T) {
		g := whatsapptest.NewGraph(t)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err := newClient(t, g).SendText(ctx, pnid, token, user, "hi", "")
		if !errors.Is(err, context.Canceled) || whatsapp.IsRetryable(err) {
			t.Errorf("got %v", err)
		}
	})
	t.Run("missing token is refused locally", func(t *testing.T) {
		g := whatsapptest.NewGraph(t)
		_, err := newClient(t, g).SendText(context.Background(), pnid, "", user, "hi", "")
		if err == nil || whatsapp.IsRetryable(err) || len(g.Requests()) != 0 {
			t.Errorf("err %v, fake got %d requests", err, len(g.Requests()))
		}
	})
	t.Run("fake refuses a token it does not know", func(t *testing.T) {
		g := whatsapptest.NewGraph(t)
		g.AcceptTokens("right")
		_, err := newClient(t, g).SendText(context.Background(), pnid, "wrong", user, "hi", "")
		var ae *whatsapp.APIError
		if !errors.As(err, &ae) || ae.HTTPStatus != 401 || ae.Code != 190 || ae.Retryable() {
			t.Errorf("got %v", err)
		}
	})
}

func TestMarkRead(t *testing.T) {
	g := whatsapptest.NewGraph(t)
	if err := newClient(t, g).MarkRead(context.Background(), pnid, token, "wamid.IN9"); err != nil {
		t.Fatal(err)
	}
	reqs := g.Requests()
	want := map[string]any{"messaging_product": "whatsapp", "status": "read", "message_id": "wamid.IN9"}
	if len(reqs) != 1 || reqs[0].Path != "/v21.0/"+pnid+"/messages" || reqs[0].Token != token || !reflect.DeepEqual(reqs[0].Body, want) {
		t.Fatalf("requests %+v", reqs)
	}
	if len(g.Sent()) != 0 {
		t.Errorf("a read receipt counted as a sent message")
	}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name string
		cfg  whatsapp.Config
		ok   bool
	}{
		{"defaults", whatsapp.Config{}, true},
		{"graph", whatsapp.Config{BaseURL: "https://graph.facebook.com/v21.0"}, true},
		{"relative url", whatsapp.Config{BaseURL: "graph.facebook.com/v21.0"}, false},
		{"ftp", whatsapp.Config{BaseURL: "ftp://graph.facebook.com"}, false},
		{"negative timeout", whatsapp.Config{Timeout: -time.Second}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.cfg.Validate(); (err == nil) != tt.ok {
				t.Errorf("Validate() = %v, want ok=%v", err, tt.ok)
			}
		})
	}
}

// TestSendTemplate: a template message in the Cloud API's shape, its body's
// parameters in order, the key as biz_opaque_callback_data.
func TestSendTemplate(t *testing.T) {
	g := whatsapptest.NewGraph(t)
	g.AcceptTokens(token)
	c := newClient(t, g)
	id, err := c.SendTemplate(context.Background(), pnid, token, user,
		events.Template{Name: "order_follow_up", Language: "en_US", Params: []string{"check the parcel"}}, "msg-1")
	if err != nil || id == "" {
		t.Fatalf("send: %q, %v", id, err)
	}
	reqs := g.Requests()
	body := reqs[len(reqs)-1].Body
	want := map[string]any{"messaging_product": "whatsapp", "recipient_type": "individual", "to": user, "type": "template",
		"biz_opaque_callback_data": "msg-1",
		"template": map[string]any{"name": "order_follow_up", "language": map[string]any{"code": "en_US"},
			"components": []any{map[string]any{"type": "body", "parameters": []any{map[string]any{"type": "text", "text": "check the parcel"}}}}}}
	if !reflect.DeepEqual(body, want) {
		t.Fatalf("body %v\nwant %v", body, want)
	}
	if s := g.Sent(); len(s) != 1 || s[0].Template != "order_follow_up" || len(s[0].TemplateParams) != 1 {
		t.Fatalf("sent %+v", s)
	}
	if _, err := c.SendTemplate(context.Background(), pnid, token, user, events.Template{Language: "en_US"}, ""); err == nil {
		t.Fatal("a template without a name was sent")
	}
}
