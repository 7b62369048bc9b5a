package whatsapp

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"time"
)

// Builders of webhook bodies as Meta sends them, for `frontdesk
// demo-message`, load generators and tests (whatsapptest builds on them).

// ExampleWABAID and ExampleDisplayPhoneNumber are the business account id
// and display number the builders put in every payload.
const (
	ExampleWABAID             = "102290129340398"
	ExampleDisplayPhoneNumber = "15550783881"
)

// Sign returns the X-Hub-Signature-256 value of body for appSecret:
// "sha256=" and the hex HMAC-SHA256.
func Sign(appSecret string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(appSecret))
	mac.Write(body)
	return signaturePrefix + hex.EncodeToString(mac.Sum(nil))
}

// TextWebhook returns the body of a "messages" webhook carrying one text
// message from waID (profile name) to phoneNumberID.
func TextWebhook(phoneNumberID, waID, name, wamid, text string, ts time.Time) []byte {
	body, _ := Webhook(phoneNumberID, map[string]any{ // strings only: cannot fail
		"contacts": []any{map[string]any{"profile": map[string]any{"name": name}, "wa_id": waID}},
		"messages": []any{map[string]any{
			"from":      waID,
			"id":        wamid,
			"timestamp": strconv.FormatInt(ts.Unix(), 10),
			"type":      "text",
			"text":      map[string]any{"body": text},
		}},
	})
	return body
}

// Webhook wraps value fields (contacts, messages, statuses, errors) in a
// whole "messages" webhook body for phoneNumberID, adding messaging_product
// and metadata. It fails only when value does not encode as JSON.
func Webhook(phoneNumberID string, value map[string]any) ([]byte, error) {
	v := map[string]any{
		"messaging_product": "whatsapp",
		"metadata":          map[string]any{"display_phone_number": ExampleDisplayPhoneNumber, "phone_number_id": phoneNumberID},
	}
	for k, x := range value {
		v[k] = x
	}
	body, err := json.Marshal(map[string]any{
		"object": objectWABA,
		"entry": []any{map[string]any{
			"id":      ExampleWABAID,
			"changes": []any{map[string]any{"field": fieldMessages, "value": v}},
		}},
	})
	if err != nil {
		return nil, fmt.Errorf("encode webhook: %w", err)
	}
	return body, nil
}
