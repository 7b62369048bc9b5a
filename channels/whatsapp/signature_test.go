package whatsapp_test

import (
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/frontdesk-ai/frontdesk/channels/whatsapp"
	"github.com/frontdesk-ai/frontdesk/channels/whatsapp/whatsapptest"
)

func TestVerifySignature(t *testing.T) {
	const secret = "app-secret"
	body := []byte(`{"object":"whatsapp_business_account","entry":[]}`)
	good := whatsapptest.Sign(secret, body)
	tests := []struct {
		name   string
		secret string
		body   []byte
		header string
		want   error
	}{
		{"valid", secret, body, good, nil},
		{"valid with surrounding space", secret, body, " " + good + " ", nil},
		{"valid upper-case hex", secret, body, "sha256=" + strings.ToUpper(strings.TrimPrefix(good, "sha256=")), nil},
		{"missing", secret, body, "", whatsapp.ErrSignatureMissing},
		{"no prefix", secret, body, strings.TrimPrefix(good, "sha256="), whatsapp.ErrSignatureMalformed},
		{"sha1 prefix", secret, body, "sha1=" + strings.TrimPrefix(good, "sha256="), whatsapp.ErrSignatureMalformed},
		{"not hex", secret, body, "sha256=" + strings.Repeat("zz", 32), whatsapp.ErrSignatureMalformed},
		{"too short", secret, body, good[:len(good)-2], whatsapp.ErrSignatureMalformed},
		{"wrong secret", "other", body, good, whatsapp.ErrSignatureMismatch},
		{"body changed", secret, append([]byte(nil), append(body, ' ')...), good, whatsapp.ErrSignatureMismatch},
		{"no secret configured", "", body, whatsapptest.Sign("", body), whatsapp.ErrNoAppSecret},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := whatsapp.VerifySignature(tt.secret, tt.body, tt.header)
			if tt.want == nil && err != nil || tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("got %v, want %v", err, tt.want)
			}
		})
	}
}

func TestVerifyChallenge(t *testing.T) {
	tests := []struct {
		name  string
		query url.Values
		token string
		want  string
		err   error
	}{
		{"valid", whatsapptest.VerifyQuery("tok", "1158201444"), "tok", "1158201444", nil},
		{"wrong token", whatsapptest.VerifyQuery("nope", "1158201444"), "tok", "", whatsapp.ErrVerifyToken},
		{"no configured token", whatsapptest.VerifyQuery("", "1158201444"), "", "", whatsapp.ErrVerifyToken},
		{"wrong mode", url.Values{"hub.mode": {"unsubscribe"}, "hub.verify_token": {"tok"}, "hub.challenge": {"1"}}, "tok", "", whatsapp.ErrVerifyToken},
		{"missing mode", url.Values{"hub.verify_token": {"tok"}, "hub.challenge": {"1"}}, "tok", "", whatsapp.ErrVerifyToken},
		{"missing challenge", url.Values{"hub.mode": {"subscribe"}, "hub.verify_token": {"tok"}}, "tok", "", whatsapp.ErrVerifyChallenge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := whatsapp.VerifyChallenge(tt.query, tt.token)
			if got != tt.want || tt.err == nil && err != nil || tt.err != nil && !errors.Is(err, tt.err) {
				t.Errorf("got (%q, %v), want (%q, %v)", got, err, tt.want, tt.err)
			}
		})
	}
}

func FuzzVerifySignature(f *testing.F) {
	f.Add([]byte(`{}`), "sha256=00")
	f.Add([]byte(`{}`), whatsapptest.Sign("s", []byte(`{}`)))
	f.Fuzz(func(t *testing.T, body []byte, header string) {
		err := whatsapp.VerifySignature("s", body, header)
		if err == nil && header != whatsapptest.Sign("s", body) && strings.TrimSpace(strings.ToLower(header)) != whatsapptest.Sign("s", body) {
			t.Fatalf("accepted a header that is not the signature: %q", header)
		}
	})
}
