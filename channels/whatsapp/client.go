package whatsapp

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/frontdesk-ai/frontdesk/events"
)

// DefaultBaseURL is the Graph API base used when Config.BaseURL is empty.
const DefaultBaseURL = "https://graph.facebook.com/v21.0"

// DefaultTimeout bounds one Graph API call when Config.Timeout is zero.
const DefaultTimeout = 15 * time.Second

// maxResponse bounds how much of a Graph API response is read.
const maxResponse = 1 << 20

// Config configures a Client.
type Config struct {
	// BaseURL is the Graph API base including the version
	// (FRONTDESK_GRAPH_API_URL); empty means DefaultBaseURL.
	BaseURL string
	// HTTPClient sends the requests; nil means a new http.Client.
	HTTPClient *http.Client
	// Timeout bounds each call; zero means DefaultTimeout.
	Timeout time.Duration
}

// Validate reports whether the config is usable once defaults are applied.
func (c Config) Validate() error {
	if c.Timeout < 0 {
		return fmt.Errorf("whatsapp client: negative timeout %s", c.Timeout)
	}
	if c.BaseURL == "" {
		return nil
	}
	u, err := url.Parse(c.BaseURL)
	if err != nil {
		return fmt.Errorf("whatsapp client: base url: %w", err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("whatsapp client: base url %q is not an absolute http(s) url", c.BaseURL)
	}
	return nil
}

// Client calls the Cloud API messages endpoint. The phone number id and
// access token are per call, so one Client serves every tenant.
type Client struct {
	base    string
	http    *http.Client
	timeout time.Duration
}

// maxIdleConnsPerHost is how many idle connections to the Graph API are
// kept for reuse.
const maxIdleConnsPerHost = 256

// NewClient returns a Client for cfg.
func NewClient(cfg Config) (*Client, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	c := &Client{base: strings.TrimRight(cfg.BaseURL, "/"), http: cfg.HTTPClient, timeout: cfg.Timeout}
	if c.base == "" {
		c.base = DefaultBaseURL
	}
	if c.http == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		// Keep a connection for every send in flight (the sender runs many
		// at once, all to one Graph API host): with net/http's default of 2
		// idle connections per host most sends would dial a new one.
		t.MaxIdleConnsPerHost = maxIdleConnsPerHost
		c.http = &http.Client{Transport: t}
	}
	if c.timeout == 0 {
		c.timeout = DefaultTimeout
	}
	return c, nil
}

type textRequest struct {
	MessagingProduct string `json:"messaging_product"`
	RecipientType    string `json:"recipient_type"`
	To               string `json:"to"`
	Type             string `json:"type"`
	Context          *struct {
		MessageID string `json:"message_id"`
	} `json:"context,omitempty"`
	Text struct {
		Body       string `json:"body"`
		PreviewURL bool   `json:"preview_url"`
	} `json:"text"`
	// BizOpaqueCallbackData is echoed back in the message's status
	// webhooks: frontdesk sends its message id, the send's key.
	BizOpaqueCallbackData string `json:"biz_opaque_callback_data,omitempty"`
}

type sendResponse struct {
	Messages []struct {
		ID string `json:"id"`
	} `json:"messages"`
}

// SendText sends body as a text message from phoneNumberID to the WhatsApp
// user to, quoting replyTo (a wamid) when it is not empty, and returns the
// new message's wamid. A Graph API failure is an *APIError.
func (c *Client) SendText(ctx context.Context, phoneNumberID, accessToken, to, body, replyTo string) (wamid string, err error) {
	return c.SendTextKeyed(ctx, phoneNumberID, accessToken, to, body, replyTo, "")
}

// SendTextKeyed is SendText with a key (frontdesk's message id) that the
// Cloud API echoes in the message's status webhooks as
// biz_opaque_callback_data, so a resend can be recognised.
func (c *Client) SendTextKeyed(ctx context.Context, phoneNumberID, accessToken, to, body, replyTo, key string) (wamid string, err error) {
	if to == "" || body == "" {
		return "", errors.New("whatsapp send text: empty recipient or body")
	}
	req := textRequest{MessagingProduct: "whatsapp", RecipientType: "individual", To: to, Type: "text", BizOpaqueCallbackData: key}
	req.Text.Body = body
	if replyTo != "" {
		req.Context = &struct {
			MessageID string `json:"message_id"`
		}{replyTo}
	}
	return c.sendMessage(ctx, "text", phoneNumberID, accessToken, req)
}

// sendMessage posts a message request and returns the new message's wamid.
func (c *Client) sendMessage(ctx context.Context, what, phoneNumberID, accessToken string, req any) (string, error) {
	var resp sendResponse
	if err := c.post(ctx, phoneNumberID, accessToken, req, &resp); err != nil {
		return "", fmt.Errorf("whatsapp send %s from %s: %w", what, phoneNumberID, err)
	}
	if len(resp.Messages) == 0 || resp.Messages[0].ID == "" {
		return "", fmt.Errorf("whatsapp send %s from %s: response has no message id", what, phoneNumberID)
	}
	return resp.Messages[0].ID, nil
}

// Button is a reply button: ID comes back in the customer's
// interactive.button_reply, Title (at most 20 characters) is shown.
type Button struct {
	ID, Title string
}

// MaxButtons is how many reply buttons one interactive message may carry.
const MaxButtons = 3

type interactiveRequest struct {
	MessagingProduct string      `json:"messaging_product"`
	RecipientType    string      `json:"recipient_type"`
	To               string      `json:"to"`
	Type             string      `json:"type"`
	Context          *msgContext `json:"context,omitempty"`
	Interactive      struct {
		Type string `json:"type"`
		Body struct {
			Text string `json:"text"`
		} `json:"body"`
		Action struct {
			Buttons []replyButton `json:"buttons"`
		} `json:"action"`
	} `json:"interactive"`
	BizOpaqueCallbackData string `json:"biz_opaque_callback_data,omitempty"`
}

// msgContext quotes the message being answered.
type msgContext struct {
	MessageID string `json:"message_id"`
}

type replyButton struct {
	Type  string `json:"type"`
	Reply struct {
		ID    string `json:"id"`
		Title string `json:"title"`
	} `json:"reply"`
}

// SendButtons sends body with up to MaxButtons reply buttons (an
// interactive message of type "button"), keyed like SendTextKeyed, and
// returns the new message's wamid.
func (c *Client) SendButtons(ctx context.Context, phoneNumberID, accessToken, to, body string, buttons []Button, replyTo, key string) (string, error) {
	if to == "" || body == "" {
		return "", errors.New("whatsapp send buttons: empty recipient or body")
	}
	if len(buttons) == 0 || len(buttons) > MaxButtons {
		return "", fmt.Errorf("whatsapp send buttons: %d buttons, want 1 to %d", len(buttons), MaxButtons)
	}
	req := interactiveRequest{MessagingProduct: "whatsapp", RecipientType: "individual", To: to, Type: "interactive", BizOpaqueCallbackData: key}
	req.Interactive.Type = "button"
	req.Interactive.Body.Text = body
	for _, b := range buttons {
		if b.ID == "" || b.Title == "" {
			return "", errors.New("whatsapp send buttons: a button has no id or title")
		}
		rb := replyButton{Type: "reply"}
		rb.Reply.ID, rb.Reply.Title = b.ID, b.Title
		req.Interactive.Action.Buttons = append(req.Interactive.Action.Buttons, rb)
	}
	if replyTo != "" {
		req.Context = &msgContext{MessageID: replyTo}
	}
	return c.sendMessage(ctx, "buttons", phoneNumberID, accessToken, req)
}

// templateRequest is a template message (the only kind allowed outside the
// 24-hour customer service window).
type templateRequest struct {
	MessagingProduct      string `json:"messaging_product"`
	RecipientType         string `json:"recipient_type"`
	To                    string `json:"to"`
	Type                  string `json:"type"`
	BizOpaqueCallbackData string `json:"biz_opaque_callback_data,omitempty"`
	Template              struct {
		Name     string `json:"name"`
		Language struct {
			Code string `json:"code"`
		} `json:"language"`
		Components []templateComponent `json:"components,omitempty"`
	} `json:"template"`
}

type templateComponent struct {
	Type       string          `json:"type"`
	Parameters []templateParam `json:"parameters"`
}

type templateParam struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

// SendTemplate sends the approved template t to to, its body's parameters
// in order ({{1}}, {{2}}, …).
func (c *Client) SendTemplate(ctx context.Context, phoneNumberID, accessToken, to string, t events.Template, key string) (string, error) {
	if to == "" || t.Name == "" || t.Language == "" {
		return "", errors.New("whatsapp send template: empty recipient, template name or language")
	}
	req := templateRequest{MessagingProduct: "whatsapp", RecipientType: "individual", To: to, Type: "template", BizOpaqueCallbackData: key}
	req.Template.Name, req.Template.Language.Code = t.Name, t.Language
	if len(t.Params) > 0 {
		body := templateComponent{Type: "body"}
		for _, p := range t.Params {
			body.Parameters = append(body.Parameters, templateParam{Type: "text", Text: p})
		}
		req.Template.Components = []templateComponent{body}
	}
	return c.sendMessage(ctx, "template", phoneNumberID, accessToken, req)
}

// Media is an attachment to send: by uploaded media ID or by public Link.
type Media struct {
	// Kind is image, audio, video, document or sticker.
	Kind     string
	ID, Link string
	// Caption (image, video, document) and Filename (document) are optional.
	Caption, Filename string
	// Voice sends an OGG/OPUS audio as a voice note.
	Voice bool
}

type mediaObject struct {
	ID       string `json:"id,omitempty"`
	Link     string `json:"link,omitempty"`
	Caption  string `json:"caption,omitempty"`
	Filename string `json:"filename,omitempty"`
	Voice    bool   `json:"voice,omitempty"`
}

// SendMedia sends an attachment, keyed like SendTextKeyed, and returns the
// new message's wamid.
func (c *Client) SendMedia(ctx context.Context, phoneNumberID, accessToken, to string, m Media, replyTo, key string) (string, error) {
	switch m.Kind {
	case KindImage, KindAudio, KindVideo, KindDocument, KindSticker:
	default:
		return "", fmt.Errorf("whatsapp send media: unsupported kind %q", m.Kind)
	}
	if to == "" || (m.ID == "") == (m.Link == "") {
		return "", errors.New("whatsapp send media: want a recipient and exactly one of media id and link")
	}
	obj := mediaObject{ID: m.ID, Link: m.Link, Voice: m.Voice && m.Kind == KindAudio}
	if m.Kind == KindImage || m.Kind == KindVideo || m.Kind == KindDocument {
		obj.Caption = m.Caption
	}
	if m.Kind == KindDocument {
		obj.Filename = m.Filename
	}
	req := map[string]any{
		"messaging_product": "whatsapp", "recipient_type": "individual", "to": to, "type": m.Kind, m.Kind: obj,
	}
	if key != "" {
		req["biz_opaque_callback_data"] = key
	}
	if replyTo != "" {
		req["context"] = msgContext{MessageID: replyTo}
	}
	return c.sendMessage(ctx, m.Kind, phoneNumberID, accessToken, req)
}

// MarkRead marks the inbound message wamid as read, which shows the
// customer blue ticks.
func (c *Client) MarkRead(ctx context.Context, phoneNumberID, accessToken, wamid string) error {
	return c.markRead(ctx, "mark read", phoneNumberID, accessToken, wamid, false)
}

// Typing marks the inbound message wamid as read and shows the customer a
// typing indicator, dismissed by the reply or after 25 s.
func (c *Client) Typing(ctx context.Context, phoneNumberID, accessToken, wamid string) error {
	return c.markRead(ctx, "typing indicator", phoneNumberID, accessToken, wamid, true)
}

type typingIndicator struct {
	Type string `json:"type"`
}

func (c *Client) markRead(ctx context.Context, what, phoneNumberID, accessToken, wamid string, typing bool) error {
	if wamid == "" {
		return fmt.Errorf("whatsapp %s: empty message id", what)
	}
	req := struct {
		MessagingProduct string           `json:"messaging_product"`
		Status           string           `json:"status"`
		MessageID        string           `json:"message_id"`
		TypingIndicator  *typingIndicator `json:"typing_indicator,omitempty"`
	}{MessagingProduct: "whatsapp", Status: "read", MessageID: wamid}
	if typing {
		req.TypingIndicator = &typingIndicator{Type: "text"}
	}
	var resp struct {
		Success bool `json:"success"`
	}
	if err := c.post(ctx, phoneNumberID, accessToken, req, &resp); err != nil {
		return fmt.Errorf("whatsapp %s on %s: %w", what, phoneNumberID, err)
	}
	if !resp.Success {
		return fmt.Errorf("whatsapp %s on %s: response success is false", what, phoneNumberID)
	}
	return nil
}

type graphErrorBody struct {
	Error *struct {
		Message      string `json:"message"`
		Type         string `json:"type"`
		Code         int    `json:"code"`
		ErrorSubcode int    `json:"error_subcode"`
		FBTraceID    string `json:"fbtrace_id"`
		ErrorData    struct {
			Details string `json:"details"`
		} `json:"error_data"`
	} `json:"error"`
}

// post sends payload to {base}/{phoneNumberID}/messages and decodes a 2xx
// answer into out. It returns an *APIError for a transport failure or an
// error status, and the context's error when ctx ended first.
func (c *Client) post(ctx context.Context, phoneNumberID, accessToken string, payload, out any) error {
	if phoneNumberID == "" || accessToken == "" {
		return errors.New("empty phone number id or access token")
	}
	body, err := json.Marshal(payload)
	if err != nil {
		return fmt.Errorf("encode request: %w", err)
	}
	callCtx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	endpoint := c.base + "/" + url.PathEscape(phoneNumberID) + "/messages"
	req, err := http.NewRequestWithContext(callCtx, http.MethodPost, endpoint, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+accessToken)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err() // the caller gave up: not a Graph API failure
		}
		return &APIError{Err: err} // transport failure or this call's timeout
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		return &APIError{Err: fmt.Errorf("read response: %w", err)}
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return apiError(resp, raw)
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("decode response: %w", err)
	}
	return nil
}

func apiError(resp *http.Response, raw []byte) *APIError {
	ae := &APIError{
		HTTPStatus: resp.StatusCode,
		RetryAfter: parseRetryAfter(resp.Header.Get("Retry-After"), time.Now()),
	}
	var ge graphErrorBody
	if json.Unmarshal(raw, &ge) == nil && ge.Error != nil {
		ae.Code, ae.Subcode, ae.Type = ge.Error.Code, ge.Error.ErrorSubcode, ge.Error.Type
		ae.Message, ae.FBTraceID, ae.Details = ge.Error.Message, ge.Error.FBTraceID, ge.Error.ErrorData.Details
		return ae
	}
	msg := strings.TrimSpace(string(raw))
	if len(msg) > 200 {
		msg = msg[:200]
	}
	if msg == "" {
		msg = http.StatusText(resp.StatusCode)
	}
	ae.Message = msg
	return ae
}
