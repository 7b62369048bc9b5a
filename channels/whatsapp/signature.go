package whatsapp

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// SignatureHeader is the request header that carries the webhook body's
// HMAC-SHA256 signature.
const SignatureHeader = "X-Hub-Signature-256"

const signaturePrefix = "sha256="

// Sentinel errors of webhook verification. The gateway maps
// ErrSignatureMissing, ErrSignatureMalformed and ErrSignatureMismatch to 401
// and ErrVerifyToken to 403.
var (
	// ErrNoAppSecret means the channel has no app secret configured, so no
	// body can be trusted.
	ErrNoAppSecret = errors.New("whatsapp: no app secret configured")
	// ErrSignatureMissing means the request carried no X-Hub-Signature-256.
	ErrSignatureMissing = errors.New("whatsapp: signature header missing")
	// ErrSignatureMalformed means the header is not "sha256=" followed by 64
	// hex digits.
	ErrSignatureMalformed = errors.New("whatsapp: signature header malformed")
	// ErrSignatureMismatch means the signature is well formed but does not
	// match the body.
	ErrSignatureMismatch = errors.New("whatsapp: signature mismatch")
	// ErrVerifyToken means a verification request had a mode other than
	// "subscribe" or a verify token other than the configured one.
	ErrVerifyToken = errors.New("whatsapp: verification refused")
	// ErrVerifyChallenge means a verification request had no hub.challenge.
	ErrVerifyChallenge = errors.New("whatsapp: verification challenge missing")
)

// VerifySignature checks header, the value of X-Hub-Signature-256, against the
// HMAC-SHA256 of the raw body keyed with appSecret, in constant time. It
// returns nil only for a matching signature.
func VerifySignature(appSecret string, body []byte, header string) error {
	if appSecret == "" {
		return ErrNoAppSecret
	}
	header = strings.TrimSpace(header)
	if header == "" {
		return ErrSignatureMissing
	}
	hexSig, ok := strings.CutPrefix(header, signaturePrefix)
	if !ok {
		return fmt.Errorf("no %q prefix: %w", signaturePrefix, ErrSignatureMalformed)
	}
	got, err := hex.DecodeString(hexSig)
	if err != nil || len(got) != sha256.Size {
		return fmt.Errorf("want %d hex digits: %w", 2*sha256.Size, ErrSignatureMalformed)
	}
	mac := hmac.New(sha256.New, []byte(appSecret))
	mac.Write(body)
	if !hmac.Equal(got, mac.Sum(nil)) {
		return ErrSignatureMismatch
	}
	return nil
}

// VerifyChallenge answers Meta's GET verification request: for
// hub.mode=subscribe and a hub.verify_token equal to verifyToken it returns
// hub.challenge, which the caller echoes as the 200 body. An empty
// verifyToken refuses every request.
func VerifyChallenge(query url.Values, verifyToken string) (challenge string, err error) {
	if query.Get("hub.mode") != "subscribe" {
		return "", fmt.Errorf("hub.mode %q: %w", query.Get("hub.mode"), ErrVerifyToken)
	}
	token := query.Get("hub.verify_token")
	if verifyToken == "" || subtle.ConstantTimeCompare([]byte(token), []byte(verifyToken)) != 1 {
		return "", fmt.Errorf("hub.verify_token does not match: %w", ErrVerifyToken)
	}
	challenge = query.Get("hub.challenge")
	if challenge == "" {
		return "", ErrVerifyChallenge
	}
	return challenge, nil
}
