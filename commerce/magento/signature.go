package magento

import (
	"crypto"
	"crypto/hmac"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/frontdesk-ai/frontdesk/commerce"
)

// Signature headers.
const (
	// HeaderHMAC carries hash_hmac('sha256', body, verification token) in
	// hex, as the async-events module's HttpNotifier signs its POST.
	HeaderHMAC = "X-Magento-Signature"
	// HeaderRSA carries an Adobe Commerce webhook's signature: base64 of
	// an RSA (PKCS #1 v1.5, SHA-256) signature over the base64 of the raw
	// body, made with the key pair of Stores > Configuration > Adobe
	// Services > Webhooks.
	HeaderRSA = "X-Adobe-Commerce-Webhook-Signature"
)

// VerifyHMAC checks header, the value of x-magento-signature, against the
// hex HMAC-SHA256 of the raw body keyed with the subscription's
// verification token, in constant time. A missing secret or header, a
// header that is not 64 hex digits, and a mismatch are errors wrapping
// commerce.ErrSignature.
func VerifyHMAC(secret string, body []byte, header string) error {
	if secret == "" {
		return fmt.Errorf("magento webhook: no verification token configured: %w", commerce.ErrSignature)
	}
	h := strings.TrimSpace(header)
	if h == "" {
		return fmt.Errorf("magento webhook: %s missing: %w", HeaderHMAC, commerce.ErrSignature)
	}
	got, err := hex.DecodeString(h)
	if err != nil || len(got) != sha256.Size {
		return fmt.Errorf("magento webhook: %s is not 64 hex digits: %w", HeaderHMAC, commerce.ErrSignature)
	}
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	if !hmac.Equal(got, m.Sum(nil)) {
		return fmt.Errorf("magento webhook: %s does not match the body: %w", HeaderHMAC, commerce.ErrSignature)
	}
	return nil
}

// VerifyRSA checks header, the value of x-adobe-commerce-webhook-signature,
// against the raw body with the webhooks' public key: the signature is
// RSA PKCS #1 v1.5 over SHA-256 of base64.StdEncoding(body) (Adobe's
// sample verifies with Node's crypto.createVerify('SHA256') over the
// base64 body). A nil key, a missing or undecodable header and a mismatch
// are errors wrapping commerce.ErrSignature.
func VerifyRSA(pub *rsa.PublicKey, body []byte, header string) error {
	if pub == nil {
		return fmt.Errorf("magento webhook: no public key configured: %w", commerce.ErrSignature)
	}
	h := strings.TrimSpace(header)
	if h == "" {
		return fmt.Errorf("magento webhook: %s missing: %w", HeaderRSA, commerce.ErrSignature)
	}
	sig, err := base64.StdEncoding.DecodeString(h)
	if err != nil {
		return fmt.Errorf("magento webhook: %s is not base64: %w", HeaderRSA, commerce.ErrSignature)
	}
	digest := sha256.Sum256([]byte(base64.StdEncoding.EncodeToString(body)))
	if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, digest[:], sig); err != nil {
		return fmt.Errorf("magento webhook: %s does not match the body: %w", HeaderRSA, commerce.ErrSignature)
	}
	return nil
}

// ParsePublicKey reads an RSA public key from PEM: a "PUBLIC KEY" block
// (PKIX, as the Commerce Admin shows it) or an "RSA PUBLIC KEY" block
// (PKCS #1).
func ParsePublicKey(pemBytes []byte) (*rsa.PublicKey, error) {
	block, _ := pem.Decode(pemBytes)
	if block == nil {
		return nil, errors.New("magento public key: no PEM block")
	}
	switch block.Type {
	case "PUBLIC KEY":
		k, err := x509.ParsePKIXPublicKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("magento public key: %w", err)
		}
		pub, ok := k.(*rsa.PublicKey)
		if !ok {
			return nil, fmt.Errorf("magento public key: a %T, not RSA", k)
		}
		return pub, nil
	case "RSA PUBLIC KEY":
		pub, err := x509.ParsePKCS1PublicKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("magento public key: %w", err)
		}
		return pub, nil
	}
	return nil, fmt.Errorf("magento public key: PEM block %q, want PUBLIC KEY or RSA PUBLIC KEY", block.Type)
}

// LoadPublicKey reads the PEM file at path (see ParsePublicKey).
func LoadPublicKey(path string) (*rsa.PublicKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("magento public key: %w", err)
	}
	pub, err := ParsePublicKey(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return pub, nil
}
