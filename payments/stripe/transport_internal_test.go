package stripe

import (
	"errors"
	"net/http"
	"testing"

	"github.com/frontdesk-ai/frontdesk/commerce"
)

func TestRetryable(t *testing.T) {
	for _, tc := range []struct {
		status      int
		shouldRetry string
		want        bool
	}{
		{400, "", false},
		{402, "", false},
		{404, "", false},
		{409, "", true},
		{429, "", true},
		{500, "", true},
		{503, "", true},
		{400, "true", true}, // Stripe knows better than the status
		{402, "true", true},
		{500, "false", false},
		{429, "false", false},
		{409, " false ", false},
	} {
		if got := retryable(tc.status, tc.shouldRetry); got != tc.want {
			t.Errorf("retryable(%d, %q) = %v, want %v", tc.status, tc.shouldRetry, got, tc.want)
		}
	}
}

func TestStatusErrorKeepsUnauthorizedPermanent(t *testing.T) {
	for _, status := range []int{401, 403} {
		resp := &http.Response{StatusCode: status, Header: http.Header{"Stripe-Should-Retry": {"true"}}}
		err := statusError(resp, []byte(`{"error":{"type":"invalid_request_error","message":"Invalid API Key provided: sk_test_****abcd"}}`))
		var again *commerce.RetryError
		if !errors.Is(err, ErrUnauthorized) || errors.As(err, &again) {
			t.Errorf("%d: err = %v, want a permanent ErrUnauthorized", status, err)
		}
	}
}

func TestDecodeErrorWithoutAnErrorObject(t *testing.T) {
	resp := &http.Response{StatusCode: 502, Header: http.Header{"Request-Id": {"req_1"}}}
	e := decodeError(resp, []byte("<html>Bad Gateway</html>"))
	if e.HTTPStatus != 502 || e.Message != "<html>Bad Gateway</html>" || e.RequestID != "req_1" || e.Type != "" {
		t.Fatalf("%+v", e)
	}
}

func TestAmountConversion(t *testing.T) {
	for _, tc := range []struct {
		code        string
		minor, wire int64
	}{
		{"USD", 1999, 1999},
		{"usd", 5, 5},
		{"JPY", 500, 500},
		{"KRW", 10000, 10000},
		{"UGX", 3700, 3700},
		{"ISK", 5000, 500000},
		{"MGA", 150000, 1500},
		{"KWD", 1500, 1500},
		{"HUF", 150000, 150000},
	} {
		wire, err := toAPIAmount(tc.minor, tc.code)
		if err != nil || wire != tc.wire {
			t.Errorf("toAPIAmount(%d, %s) = %d, %v; want %d", tc.minor, tc.code, wire, err, tc.wire)
		}
		back, err := fromAPIAmount(tc.wire, tc.code)
		if err != nil || back != tc.minor {
			t.Errorf("fromAPIAmount(%d, %s) = %d, %v; want %d", tc.wire, tc.code, back, err, tc.minor)
		}
	}
	for _, bad := range []struct {
		code   string
		amount int64
		to     bool
	}{
		{"MGA", 150050, true},  // half an ariary Stripe cannot take
		{"ISK", 150, false},    // fractional króna from Stripe
		{"ISK", 1 << 62, true}, // overflow
		{"XYZ", 1, true},       // unknown currency
		{"", 1, false},         // no currency
	} {
		var err error
		if bad.to {
			_, err = toAPIAmount(bad.amount, bad.code)
		} else {
			_, err = fromAPIAmount(bad.amount, bad.code)
		}
		if err == nil {
			t.Errorf("%s %d converted", bad.code, bad.amount)
		}
	}
}
