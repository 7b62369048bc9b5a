package whatsapptest

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// WABAID and DisplayPhoneNumber are the business account id and display
// number the webhook builders put in every payload.
const (
	WABAID             = "102290129340398"
	DisplayPhoneNumber = "15550783881"
)

// Sign returns the X-Hub-Signature-256 value of body for appSecret:
// "sha256=" and the hex HMAC-SHA256.
func Sign(appSecret string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(appSecret))
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// NewWebhookRequest builds the POST Meta would send to url with body, signed
// with appSecret; it serves both handler.ServeHTTP and http.Client.Do.
func NewWebhookRequest(ctx context.Context, url, appSecret string, body []byte) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("build webhook request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Hub-Signature-256", Sign(appSecret, body))
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
// message from waID (profile name) to phoneNumberID.
func TextWebhook(phoneNumberID, waID, name, wamid, text string, ts time.Time) []byte {
	return Webhook(phoneNumberID, map[string]any{
		"contacts": []any{map[string]any{"profile": map[string]any{"name": name}, "wa_id": waID}},
		"messages": []any{map[string]any{
			"from":      waID,
			"id":        wamid,
			"timestamp": unix(ts),
			"type":      "text",
			"text":      map[string]any{"body": text},
		}},
	})
}

// StatusWebhook returns the body of a "messages" webhook carrying one
// status (sent, delivered, read) of wamid sent to recipientID.
func StatusWebhook(phoneNumberID, recipientID, wamid, status string, ts time.Time) []byte {
	return Webhook(phoneNumberID, map[string]any{"statuses": []any{statusObject(recipientID, wamid, status, ts)}})
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
// whole "messages" webhook body for phoneNumberID, adding messaging_product
// and metadata.
func Webhook(phoneNumberID string, value map[string]any) []byte {
	v := map[string]any{
		"messaging_product": "whatsapp",
		"metadata":          map[string]any{"display_phone_number": DisplayPhoneNumber, "phone_number_id": phoneNumberID},
	}
	for k, x := range value {
		v[k] = x
	}
	body, err := json.Marshal(map[string]any{
		"object": "whatsapp_business_account",
		"entry": []any{map[string]any{
			"id":      WABAID,
			"changes": []any{map[string]any{"field": "messages", "value": v}},
		}},
	})
	if err != nil {
		panic(fmt.Sprintf("whatsapptest: encode webhook: %v", err)) // only test-built values reach here
	}
	return body
}

func statusObject(recipientID, wamid, status string, ts time.Time) map[string]any {
	return map[string]any{
		"id":           wamid,
		"status":       status,
		"timestamp":    unix(ts),
		"recipient_id": recipientID,
	}
}

func unix(ts time.Time) string { return strconv.FormatInt(ts.Unix(), 10) }
