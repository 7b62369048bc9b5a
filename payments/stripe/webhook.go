package stripe

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// HeaderSignature is the header a webhook delivery is signed in:
// "t=1492774577,v1=5257a869…,v1=…". Each v1 is the hex HMAC-SHA256 of
// "{t}.{raw body}" keyed with an endpoint secret; while a rolled secret
// still works, Stripe sends one v1 per secret. Other schemes (v0, test
// signatures) are ignored.
const HeaderSignature = "Stripe-Signature"

// DefaultTolerance is how far a delivery's timestamp may be from now, as
// Stripe's libraries default to. Stripe signs every delivery, retries
// included, afresh, so an old timestamp is a replay.
const DefaultTolerance = 5 * time.Minute

// signatureScheme is the only scheme Stripe signs live deliveries with.
const signatureScheme = "v1"

// VerifySignature checks header, the Stripe-Signature of a delivery,
// against the raw body and the endpoint's signing secret (whsec_…), and
// returns the signed timestamp. Any v1 value may match, compared in
// constant time; the timestamp must then be within tolerance of now, either
// way (zero or negative tolerance means DefaultTolerance). Every failure
// wraps ErrSignature.
func VerifySignature(secret string, body []byte, header string, now time.Time, tolerance time.Duration) (time.Time, error) {
	if secret == "" {
		return time.Time{}, fmt.Errorf("stripe webhook: no signing secret configured: %w", ErrSignature)
	}
	ts, sigs, err := parseSignature(header)
	if err != nil {
		return time.Time{}, err
	}
	want := signature(secret, body, ts)
	match := 0
	for _, sig := range sigs {
		if hmac.Equal(sig, want) {
			match = 1
		}
	}
	if match == 0 {
		return time.Time{}, fmt.Errorf("stripe webhook: no %s signature matches the body: %w", signatureScheme, ErrSignature)
	}
	if tolerance <= 0 {
		tolerance = DefaultTolerance
	}
	signed := time.Unix(ts, 0).UTC()
	tol := int64(tolerance / time.Second)
	if n := now.Unix(); ts < n-tol || ts > n+tol {
		return time.Time{}, fmt.Errorf("stripe webhook: signed at %s, more than %s from now (%s): %w",
			signed.Format(time.RFC3339), tolerance, now.UTC().Format(time.RFC3339), ErrSignature)
	}
	return signed, nil
}

// signature is the v1 signature of body signed at Unix second ts with
// secret: HMAC-SHA256 of "{ts}.{body}".
func signature(secret string, body []byte, ts int64) []byte {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(strconv.FormatInt(ts, 10)))
	m.Write([]byte("."))
	m.Write(body)
	return m.Sum(nil)
}

// parseSignature reads the timestamp and the v1 signatures of a
// Stripe-Signature header. A missing header, a missing, repeated or
// unreadable t and no readable v1 are errors wrapping ErrSignature.
func parseSignature(header string) (ts int64, sigs [][]byte, err error) {
	if strings.TrimSpace(header) == "" {
		return 0, nil, fmt.Errorf("stripe webhook: %s missing: %w", HeaderSignature, ErrSignature)
	}
	seenT := false
	for _, item := range strings.Split(header, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(item), "=")
		if !ok {
			continue
		}
		switch k {
		case "t":
			n, perr := strconv.ParseInt(v, 10, 64)
			if perr != nil || n <= 0 || seenT {
				return 0, nil, fmt.Errorf("stripe webhook: %s has a bad or repeated timestamp: %w", HeaderSignature, ErrSignature)
			}
			ts, seenT = n, true
		case signatureScheme:
			if sig, derr := hex.DecodeString(v); derr == nil && len(sig) == sha256.Size {
				sigs = append(sigs, sig)
			}
		}
	}
	if !seenT {
		return 0, nil, fmt.Errorf("stripe webhook: %s has no timestamp: %w", HeaderSignature, ErrSignature)
	}
	if len(sigs) == 0 {
		return 0, nil, fmt.Errorf("stripe webhook: %s has no %s signature: %w", HeaderSignature, signatureScheme, ErrSignature)
	}
	return ts, sigs, nil
}
