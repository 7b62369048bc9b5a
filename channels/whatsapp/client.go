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
		c.http = &http.Client{}
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
	var resp sendResponse
	if err := c.post(ctx, phoneNumberID, accessToken, req, &resp); err != nil {
		return "", fmt.Errorf("whatsapp send text from %s: %w", phoneNumberID, err)
	}
	if len(resp.Messages) == 0 || resp.Messages[0].ID == "" {
		return "", fmt.Errorf("whatsapp send text from %s: response has no message id", phoneNumberID)
	}
	return resp.Messages[0].ID, nil
}

// MarkRead marks the inbound message wamid as read, which shows the
// customer blue ticks.
func (c *Client) MarkRead(ctx context.Context, phoneNumberID, accessToken, wamid string) error {
	if wamid == "" {
		return errors.New("whatsapp mark read: empty message id")
	}
	req := struct {
		MessagingProduct string `json:"messaging_product"`
		Status           string `json:"status"`
		MessageID        string `json:"message_id"`
	}{"whatsapp", "read", wamid}
	var resp struct {
		Success bool `json:"success"`
	}
	if err := c.post(ctx, phoneNumberID, accessToken, req, &resp); err != nil {
		return fmt.Errorf("whatsapp mark read on %s: %w", phoneNumberID, err)
	}
	if !resp.Success {
		return fmt.Errorf("whatsapp mark read on %s: response success is false", phoneNumberID)
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
