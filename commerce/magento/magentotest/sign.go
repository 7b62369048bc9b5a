// Package magentotest provides test doubles for Magento 2 and Adobe
// Commerce that speak their wire formats: signers (SignHMAC for the
// async-events module's x-magento-signature; NewKey and SignRSA for Adobe
// Commerce webhooks' x-adobe-commerce-webhook-signature), builders of
// entities in their REST and model-data shapes and of the two webhook
// bodies, and Server, a fake REST API serving orders and customers through
// searchCriteria with Magento's paging, bearer-token checks and knobs for
// 429 and 5xx answers.
//
// Concurrency: Server's data, knobs and records are guarded by one mutex;
// its methods are safe to call while requests are in flight.
package magentotest

import (
	"bytes"
	"context"
	"crypto"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"testing"
)

// SignHMAC returns the x-magento-signature of body: hex
// hash_hmac('sha256', body, secret).
func SignHMAC(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

// NewKey returns a new 2048-bit webhook key pair and the path of its
// public key, written as a "PUBLIC KEY" PEM block (as the Commerce Admin
// shows it) under t.TempDir().
func NewKey(t testing.TB) (*rsa.PrivateKey, string) {
	t.Helper()
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(&priv.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "webhooks-public-key.pem")
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return priv, path
}

// SignRSA returns the x-adobe-commerce-webhook-signature of body: base64
// of the RSA PKCS #1 v1.5 SHA-256 signature over base64(body).
func SignRSA(priv *rsa.PrivateKey, body []byte) string {
	digest := sha256.Sum256([]byte(base64.StdEncoding.EncodeToString(body)))
	sig, err := rsa.SignPKCS1v15(rand.Reader, priv, crypto.SHA256, digest[:])
	if err != nil {
		panic(fmt.Sprintf("magentotest: sign: %v", err))
	}
	return base64.StdEncoding.EncodeToString(sig)
}

// NewAsyncEventRequest builds the POST the async-events module's
// HttpNotifier sends to url: body signed with secret in
// x-magento-signature.
func NewAsyncEventRequest(ctx context.Context, url, secret string, body []byte) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("build async event: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Magento-Signature", SignHMAC(secret, body))
	return req, nil
}

// NewWebhookRequest builds the POST an Adobe Commerce webhook sends to
// url: body signed with priv in x-adobe-commerce-webhook-signature (a nil
// priv sends it unsigned, as with signing off).
func NewWebhookRequest(ctx context.Context, url string, priv *rsa.PrivateKey, body []byte) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("build webhook: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	if priv != nil {
		req.Header.Set("X-Adobe-Commerce-Webhook-Signature", SignRSA(priv, body))
	}
	return req, nil
}
