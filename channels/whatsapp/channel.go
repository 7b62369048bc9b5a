package whatsapp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/frontdesk-ai/frontdesk/channels"
)

// ReplyWindow is the customer-service window: free-form messages may be
// sent for 24 h after the customer's last message, templates only after.
const ReplyWindow = 24 * time.Hour

// ChannelConfig configures a Channel: one Meta app (its secret signs the
// webhooks, its verify token answers the verification handshake) and the
// business numbers it sends from.
type ChannelConfig struct {
	AppSecret   string
	VerifyToken string
	// AccessTokens maps each phone_number_id the channel sends from to its
	// access token.
	AccessTokens map[string]string
}

// Channel is WhatsApp as a channels.Channel: the webhook checks and
// normalization of this package on the inbound side, and the Client, the
// RateLimiter and the Graph error classification on the outbound side.
type Channel struct {
	cfg     ChannelConfig
	client  *Client
	limiter *RateLimiter
}

var _ channels.Channel = (*Channel)(nil)

// ErrSendingOff answers sends of a Channel built without a Client (the
// demo's inbound-only channel).
var ErrSendingOff = errors.New("whatsapp: sending is off (no client)")

// NewChannel returns the channel for cfg. A nil client makes it
// inbound-only; a nil limiter sends without pacing.
func NewChannel(cfg ChannelConfig, client *Client, limiter *RateLimiter) *Channel {
	return &Channel{cfg: cfg, client: client, limiter: limiter}
}

// Name returns "whatsapp".
func (c *Channel) Name() string { return Name }

// Capabilities: read receipts, typing indicators, reply buttons and media,
// within the 24-hour window.
func (c *Channel) Capabilities() channels.Capabilities {
	return channels.Capabilities{ReadReceipts: true, Typing: true, Interactive: true, Templates: true, Media: true, ReplyWindow: ReplyWindow}
}

// Verify checks X-Hub-Signature-256 against the raw body (VerifySignature).
func (c *Channel) Verify(header http.Header, body []byte) error {
	if err := VerifySignature(c.cfg.AppSecret, body, header.Get(SignatureHeader)); err != nil {
		return fmt.Errorf("%w: %w", channels.ErrUnauthorized, err)
	}
	return nil
}

// Handshake answers Meta's GET verification (VerifyChallenge).
func (c *Channel) Handshake(query url.Values) (string, error) {
	challenge, err := VerifyChallenge(query, c.cfg.VerifyToken)
	switch {
	case errors.Is(err, ErrVerifyChallenge):
		return "", fmt.Errorf("%w: %w", channels.ErrMalformed, err)
	case err != nil:
		return "", fmt.Errorf("%w: %w", channels.ErrForbidden, err)
	}
	return challenge, nil
}

// Parse normalizes a webhook body (Parse) into items: messages and statuses
// keyed by their dedupe keys, and value-level errors as problems.
func (c *Channel) Parse(body []byte) ([]channels.Item, error) {
	b, err := Parse(body)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", channels.ErrMalformed, err)
	}
	items := make([]channels.Item, 0, len(b.Messages)+len(b.Statuses)+len(b.Errors))
	for _, m := range b.Messages {
		ev := m.Event
		items = append(items, channels.Item{Account: m.PhoneNumberID, DedupeKey: m.DedupeKey(), Message: &ev})
	}
	for _, s := range b.Statuses {
		ev := s.Event
		items = append(items, channels.Item{Account: s.PhoneNumberID, DedupeKey: s.DedupeKey(), Status: &ev})
	}
	for _, e := range b.Errors {
		data, err := json.Marshal(e)
		if err != nil {
			return nil, fmt.Errorf("encode webhook error: %w", err)
		}
		items = append(items, channels.Item{Account: e.PhoneNumberID, DedupeKey: e.DedupeKey(),
			Problem: &channels.Problem{Code: e.Code, Title: e.Title, Data: data}})
	}
	return items, nil
}

// token returns the access token of a business number.
func (c *Channel) token(phoneNumberID string) (string, error) {
	if c.client == nil {
		return "", ErrSendingOff
	}
	if t := c.cfg.AccessTokens[phoneNumberID]; t != "" {
		return t, nil
	}
	return "", fmt.Errorf("whatsapp: no access token configured for phone_number_id %q", phoneNumberID)
}

// wait paces a message of phoneNumberID and returns its token.
func (c *Channel) wait(ctx context.Context, phoneNumberID string) (string, error) {
	return c.paced(ctx, phoneNumberID, (*RateLimiter).Wait)
}

// waitReceipt paces a read receipt or typing indicator of phoneNumberID,
// apart from its messages, and returns its token.
func (c *Channel) waitReceipt(ctx context.Context, phoneNumberID string) (string, error) {
	return c.paced(ctx, phoneNumberID, (*RateLimiter).WaitReceipt)
}

func (c *Channel) paced(ctx context.Context, phoneNumberID string, wait func(*RateLimiter, context.Context, string) error) (string, error) {
	token, err := c.token(phoneNumberID)
	if err != nil {
		return "", err
	}
	if c.limiter != nil {
		if err := wait(c.limiter, ctx, phoneNumberID); err != nil {
			return "", err
		}
	}
	return token, nil
}

// Send sends m as text, reply buttons or media, keyed with m.Key
// (biz_opaque_callback_data), and returns the wamid.
func (c *Channel) Send(ctx context.Context, m channels.Outgoing) (string, error) {
	token, err := c.wait(ctx, m.Account)
	if err != nil {
		return "", err
	}
	switch {
	case m.Template != nil:
		return c.client.SendTemplate(ctx, m.Account, token, m.To, *m.Template, m.Key)
	case m.Media != nil:
		media := Media{Kind: mediaKind(m.Media.MimeType), Caption: m.Text, Filename: m.Media.Filename, Voice: m.Media.Voice}
		if m.Media.ID != "" {
			media.ID = m.Media.ID
		} else {
			media.Link = m.Media.URL
		}
		return c.client.SendMedia(ctx, m.Account, token, m.To, media, m.ReplyTo, m.Key)
	case len(m.Buttons) > 0:
		buttons := make([]Button, len(m.Buttons))
		for i, b := range m.Buttons {
			buttons[i] = Button{ID: b.ID, Title: b.Title}
		}
		return c.client.SendButtons(ctx, m.Account, token, m.To, m.Text, buttons, m.ReplyTo, m.Key)
	}
	return c.client.SendTextKeyed(ctx, m.Account, token, m.To, m.Text, m.ReplyTo, m.Key)
}

// mediaKind picks the Cloud API message type for a MIME type.
func mediaKind(mime string) string {
	major, _, _ := strings.Cut(mime, "/")
	switch major {
	case "image":
		return KindImage
	case "audio":
		return KindAudio
	case "video":
		return KindVideo
	}
	return KindDocument
}

// MarkRead marks the customer's message wamid read (blue ticks). It is
// paced apart from messages (RateLimiter.WaitReceipt).
func (c *Channel) MarkRead(ctx context.Context, phoneNumberID, wamid string) error {
	token, err := c.waitReceipt(ctx, phoneNumberID)
	if err != nil {
		return err
	}
	return c.client.MarkRead(ctx, phoneNumberID, token, wamid)
}

// Typing shows the typing indicator, which WhatsApp ties to the customer's
// message wamid (and marks it read); to is not needed. It is paced like a
// read receipt, apart from messages.
func (c *Channel) Typing(ctx context.Context, phoneNumberID, _, wamid string) error {
	token, err := c.waitReceipt(ctx, phoneNumberID)
	if err != nil {
		return err
	}
	return c.client.Typing(ctx, phoneNumberID, token, wamid)
}

// Retry retries transient Graph API errors (IsRetryable) after RetryDelay.
func (c *Channel) Retry(err error, attempt int) (time.Duration, bool) {
	if !IsRetryable(err) {
		return 0, false
	}
	return RetryDelay(err, attempt, rand.Float64), true
}
