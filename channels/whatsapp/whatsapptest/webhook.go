package whatsapptest

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/frontdesk-ai/frontdesk/channels/whatsapp"
)

// WABAID and DisplayPhoneNumber are the business account id and display
// number the webhook builders put in every payload.
const (
	WABAID             = whatsapp.ExampleWABAID
	DisplayPhoneNumber = whatsapp.ExampleDisplayPhoneNumber
)

// Sign returns the X-Hub-Signature-256 value of body for appSecret (see
// whatsapp.Sign).
func Sign(appSecret string, body []byte) string { return whatsapp.Sign(appSecret, body) }

// NewWebhookRequest builds the POST Meta would send to url with body, signed
// with appSecret; it serves both handler.ServeHTTP and http.Client.Do.
func NewWebhookRequest(ctx context.Context, url, appSecret string, body []byte) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("build webhook request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(whatsapp.SignatureHeader, Sign(appSecret, body))
	return req, nil
}

// VerifyQuery returns the query of Meta's GET verification request.
func VerifyQuery(verifyToken, challenge string) url.Values {
	return url.Values{
		"hub.mode":         {"subscribe"},
		"hub.verify_token": {verifyToken},
		"hub.challenge":    {challenge},
	}
}

// TextWebhook returns the body of a "messages" webhook carrying one text
// message from waID (profile name) to phoneNumberID (see
// whatsapp.TextWebhook).
func TextWebhook(phoneNumberID, waID, name, wamid, text string, ts time.Time) []byte {
	return whatsapp.TextWebhook(phoneNumberID, waID, name, wamid, text, ts)
}

// ButtonReplyWebhook returns the body of a "messages" webhook carrying the
// customer's tap on reply button buttonID (title) of the interactive
// message question.
func ButtonReplyWebhook(phoneNumberID, waID, name, wamid, question, buttonID, title string, ts time.Time) []byte {
	return Webhook(phoneNumberID, map[string]any{
		"contacts": []any{map[string]any{"profile": map[string]any{"name": name}, "wa_id": waID}},
		"messages": []any{map[string]any{
			"from": waID, "id": wamid, "timestamp": strconv.FormatInt(ts.Unix(), 10), "type": "interactive",
			"context":     map[string]any{"from": phoneNumberID, "id": question},
			"interactive": map[string]any{"type": "button_reply", "button_reply": map[string]any{"id": buttonID, "title": title}},
		}},
	})
}

// StatusWebhook returns the body of a "messages" webhook carrying one
// status (sent, delivered, read) of wamid sent to recipientID.
func StatusWebhook(phoneNumberID, recipientID, wamid, status string, ts time.Time) []byte {
	return Webhook(phoneNumberID, map[string]any{"statuses": []any{statusObject(recipientID, wamid, status, ts)}})
}

// KeyedStatusWebhook is StatusWebhook for a message sent with a key
// (biz_opaque_callback_data), which the status carries back.
func KeyedStatusWebhook(phoneNumberID, recipientID, wamid, status, key string, ts time.Time) []byte {
	s := statusObject(recipientID, wamid, status, ts)
	s["biz_opaque_callback_data"] = key
	return Webhook(phoneNumberID, map[string]any{"statuses": []any{s}})
}

// FailedStatusWebhook returns the body of a "messages" webhook carrying a
// failed status of wamid with one error.
func FailedStatusWebhook(phoneNumberID, recipientID, wamid string, code int, title string, ts time.Time) []byte {
	s := statusObject(recipientID, wamid, "failed", ts)
	s["errors"] = []any{map[string]any{
		"code": code, "title": title, "message": title,
		"error_data": map[string]any{"details": title},
		"href":       "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/",
	}}
	return Webhook(phoneNumberID, map[string]any{"statuses": []any{s}})
}

// Webhook wraps value fields (contacts, messages, statuses, errors) in a
// whole "messages" webhook body for phoneNumberID (see whatsapp.Webhook).
func Webhook(phoneNumberID string, value map[string]any) []byte {
	body, err := whatsapp.Webhook(phoneNumberID, value)
	if err != nil {
		panic(fmt.Sprintf("whatsapptest: %v", err)) // only test-built values reach here
	}
	return body
}

func statusObject(recipientID, wamid, status string, ts time.Time) map[string]any {
	return map[string]any{
		"id":           wamid,
		"status":       status,
		"timestamp":    strconv.FormatInt(ts.Unix(), 10),
		"recipient_id": recipientID,
	}
}
