package whatsapp

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/frontdesk-ai/frontdesk/channels"
)

// Graph API error codes this package classifies. See the Cloud API error
// code reference.
const (
	CodeAPIUnknown         = 1      // API unknown: retryable
	CodeAPIService         = 2      // API service, temporary: retryable
	CodeAppRateLimit       = 4      // application request limit: retryable
	CodeInvalidParameter   = 100    // invalid parameter: permanent
	CodeAccessToken        = 190    // access token expired or invalid: permanent
	CodeWABARateLimit      = 80007  // WABA rate limit: retryable
	CodeRateLimitHit       = 130429 // throughput limit: retryable
	CodeGenericUserError   = 131000 // something went wrong: retryable
	CodeServiceUnavailable = 131016 // service unavailable: retryable
	CodeUndeliverable      = 131026 // message undeliverable: permanent
	CodeReEngagement       = 131047 // outside the 24 h window: permanent
	CodeSpamRateLimit      = 131048 // spam rate limit: permanent
	CodeUnsupportedType    = 131051 // unsupported message type: permanent
	CodeMediaDownload      = 131052 // media download error: permanent
	CodeMediaUpload        = 131053 // media upload error: permanent
	CodePairRateLimit      = 131056 // business/user pair rate limit: retryable
	CodeAccountUpgrade     = 131057 // throughput upgrade in progress: retryable
)

var retryableCodes = map[int]bool{
	CodeAPIUnknown: true, CodeAPIService: true, CodeAppRateLimit: true,
	CodeWABARateLimit: true, CodeRateLimitHit: true, CodeGenericUserError: true,
	CodeServiceUnavailable: true, CodePairRateLimit: true, CodeAccountUpgrade: true,
}

var permanentCodes = map[int]bool{
	CodeInvalidParameter: true, CodeAccessToken: true, CodeUndeliverable: true,
	CodeReEngagement: true, CodeSpamRateLimit: true, CodeUnsupportedType: true,
	CodeMediaDownload: true, CodeMediaUpload: true,
}

// APIError is a failed Graph API call: an error response (HTTPStatus and the
// Graph error body) or, with HTTPStatus 0, a transport failure in Err.
type APIError struct {
	HTTPStatus int
	Code       int
	Subcode    int
	Type       string
	Message    string
	// Details is error.error_data.details, Meta's explanation of Code.
	Details   string
	FBTraceID string
	// RetryAfter is the response's Retry-After, zero when it had none.
	RetryAfter time.Duration
	// Err is the transport error of a request that got no response.
	Err error
}

var _ error = (*APIError)(nil)

// Error describes the failure without the request's recipient or token.
func (e *APIError) Error() string {
	if e.HTTPStatus == 0 {
		return fmt.Sprintf("graph api: transport: %v", e.Err)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "graph api: http %d", e.HTTPStatus)
	if e.Code != 0 {
		fmt.Fprintf(&b, " code %d", e.Code)
	}
	if e.Subcode != 0 {
		fmt.Fprintf(&b, " subcode %d", e.Subcode)
	}
	if e.Message != "" {
		fmt.Fprintf(&b, ": %s", e.Message)
	}
	if e.Details != "" {
		fmt.Fprintf(&b, " (%s)", e.Details)
	}
	if e.FBTraceID != "" {
		fmt.Fprintf(&b, " fbtrace_id=%s", e.FBTraceID)
	}
	return b.String()
}

// Reason is the failure in a few words, for the message row and the
// dashboard: the Graph code and message ("131047 (#131047) Re-engagement
// message"), or Error when there is no code (channels.Reasoner).
func (e *APIError) Reason() string {
	if e.Code != 0 {
		return fmt.Sprintf("%d %s", e.Code, e.Message)
	}
	return e.Error()
}

// Unwrap returns the transport error, if any.
func (e *APIError) Unwrap() error { return e.Err }

// Is reports a transport failure after which the Graph API may have taken
// the message (anything but a failure to connect) as
// channels.ErrOutcomeUnknown.
func (e *APIError) Is(target error) bool {
	if target != channels.ErrOutcomeUnknown || e.HTTPStatus != 0 || e.Err == nil {
		return false
	}
	var op *net.OpError
	return !(errors.As(e.Err, &op) && op.Op == "dial")
}

// Retryable reports whether sending the same request again later may
// succeed: for transport failures, HTTP 429 and 5xx, and the rate-limit and
// temporary Graph codes; not for HTTP 401, other 4xx, or the permanent codes
// (131047 outside the window, 131026, 190, 100, 131051, 131052, 131053, …).
// A known code decides before the HTTP status does.
func (e *APIError) Retryable() bool {
	switch {
	case retryableCodes[e.Code]:
		return true
	case permanentCodes[e.Code]:
		return false
	case e.HTTPStatus == 0:
		return true
	case e.HTTPStatus == http.StatusTooManyRequests, e.HTTPStatus >= 500:
		return true
	}
	return false
}

// IsRetryable reports whether err is an *APIError whose Retryable is true.
// Any other error (a cancelled context, an invalid argument) is final.
func IsRetryable(err error) bool {
	var ae *APIError
	return errors.As(err, &ae) && ae.Retryable()
}

// Backoff policy of Backoff.
const (
	BackoffBase = 500 * time.Millisecond
	BackoffCap  = 30 * time.Second
)

// Backoff returns the wait before retry number attempt (0 for the first
// retry): exponential with full jitter, rnd() times min(BackoffCap,
// BackoffBase·2^attempt). rnd returns a value in [0,1); nil uses math/rand/v2.
func Backoff(attempt int, rnd func() float64) time.Duration {
	if rnd == nil {
		rnd = rand.Float64
	}
	ceiling := BackoffCap
	if attempt < 0 {
		attempt = 0
	}
	if attempt < 16 { // 500ms·2^16 is far past the cap
		if d := BackoffBase << attempt; d < BackoffCap {
			ceiling = d
		}
	}
	f := rnd()
	if f < 0 || math.IsNaN(f) {
		f = 0
	}
	if f > 1 {
		f = 1
	}
	return time.Duration(f * float64(ceiling))
}

// RetryDelay returns the wait before retrying after err: the Retry-After the
// Graph API asked for when err is an *APIError that has one, else
// Backoff(attempt, rnd).
func RetryDelay(err error, attempt int, rnd func() float64) time.Duration {
	var ae *APIError
	if errors.As(err, &ae) && ae.RetryAfter > 0 {
		return ae.RetryAfter
	}
	return Backoff(attempt, rnd)
}

// parseRetryAfter reads a Retry-After value: delay seconds or an HTTP date
// (relative to now). It returns zero for an absent or unreadable value.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs <= 0 {
			return 0
		}
		if secs > int64(24*time.Hour/time.Second) {
			secs = int64(24 * time.Hour / time.Second)
		}
		return time.Duration(secs) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}
