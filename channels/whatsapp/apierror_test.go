package whatsapp_test

import (
	"errors"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/frontdesk-ai/frontdesk/channels"
	"github.com/frontdesk-ai/frontdesk/channels/whatsapp"
)

func TestAPIErrorRetryable(t *testing.T) {
	tests := []struct {
		name string
		err  whatsapp.APIError
		want bool
	}{
		{"transport", whatsapp.APIError{Err: errors.New("connection reset")}, true},
		{"500", whatsapp.APIError{HTTPStatus: 500}, true},
		{"503", whatsapp.APIError{HTTPStatus: 503}, true},
		{"429", whatsapp.APIError{HTTPStatus: 429}, true},
		{"130429", whatsapp.APIError{HTTPStatus: 400, Code: 130429}, true},
		{"131056", whatsapp.APIError{HTTPStatus: 400, Code: 131056}, true},
		{"80007", whatsapp.APIError{HTTPStatus: 400, Code: 80007}, true},
		{"131000", whatsapp.APIError{HTTPStatus: 500, Code: 131000}, true},
		{"131000 on 400", whatsapp.APIError{HTTPStatus: 400, Code: 131000}, true},
		{"code 1", whatsapp.APIError{HTTPStatus: 500, Code: 1}, true},
		{"code 2", whatsapp.APIError{HTTPStatus: 503, Code: 2}, true},
		{"131047", whatsapp.APIError{HTTPStatus: 400, Code: 131047}, false},
		{"131026", whatsapp.APIError{HTTPStatus: 400, Code: 131026}, false},
		{"190", whatsapp.APIError{HTTPStatus: 400, Code: 190}, false},
		{"401 without body", whatsapp.APIError{HTTPStatus: 401}, false},
		{"100", whatsapp.APIError{HTTPStatus: 400, Code: 100}, false},
		{"131051", whatsapp.APIError{HTTPStatus: 400, Code: 131051}, false},
		{"131052", whatsapp.APIError{HTTPStatus: 400, Code: 131052}, false},
		{"131053", whatsapp.APIError{HTTPStatus: 400, Code: 131053}, false},
		{"unknown 4xx", whatsapp.APIError{HTTPStatus: 403, Code: 10}, false},
		{"unknown code on 5xx", whatsapp.APIError{HTTPStatus: 502, Code: 999999}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.err.Retryable(); got != tt.want {
				t.Errorf("Retryable() = %v, want %v", got, tt.want)
			}
			wrapped := fmt.Errorf("send: %w", &tt.err)
			if got := whatsapp.IsRetryable(wrapped); got != tt.want {
				t.Errorf("IsRetryable(wrapped) = %v, want %v", got, tt.want)
			}
		})
	}
	if whatsapp.IsRetryable(errors.New("plain")) {
		t.Error("a plain error is retryable")
	}
}

func TestBackoff(t *testing.T) {
	one := func() float64 { return 0.999999999 }
	tests := []struct {
		name    string
		attempt int
		rnd     func() float64
		want    time.Duration
	}{
		{"first retry full jitter top", 0, one, 500 * time.Millisecond},
		{"second", 1, one, time.Second},
		{"fourth", 3, one, 4 * time.Second},
		{"capped", 6, one, 30 * time.Second},
		{"huge attempt capped", 1000, one, 30 * time.Second},
		{"negative attempt as first", -3, one, 500 * time.Millisecond},
		{"zero jitter", 5, func() float64 { return 0 }, 0},
		{"half jitter", 2, func() float64 { return 0.5 }, time.Second},
		{"bad rnd clamped", 0, func() float64 { return 7 }, 500 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := whatsapp.Backoff(tt.attempt, tt.rnd)
			if diff := got - tt.want; diff < -time.Millisecond || diff > time.Millisecond {
				t.Errorf("Backoff(%d) = %s, want %s", tt.attempt, got, tt.want)
			}
		})
	}
	t.Run("default rnd stays within the ceiling", func(t *testing.T) {
		for i := range 100 {
			if d := whatsapp.Backoff(2, nil); d < 0 || d > 2*time.Second {
				t.Fatalf("draw %d: %s", i, d)
			}
		}
	})
}

func TestRetryDelay(t *testing.T) {
	half := func() float64 { return 0.5 }
	tests := []struct {
		name string
		err  error
		want time.Duration
	}{
		{"retry-after wins", fmt.Errorf("x: %w", &whatsapp.APIError{HTTPStatus: 429, RetryAfter: 9 * time.Second}), 9 * time.Second},
		{"no retry-after backs off", &whatsapp.APIError{HTTPStatus: 500}, 500 * time.Millisecond},
		{"plain error backs off", errors.New("x"), 500 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := whatsapp.RetryDelay(tt.err, 1, half); got != tt.want {
				t.Errorf("RetryDelay = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestAPIErrorOutcomeUnknown(t *testing.T) {
	for _, c := range []struct {
		name string
		err  *whatsapp.APIError
		want bool
	}{
		{"read timeout after the request went out", &whatsapp.APIError{Err: &net.OpError{Op: "read", Net: "tcp", Err: errors.New("i/o timeout")}}, true},
		{"connection reset while reading the answer", &whatsapp.APIError{Err: errors.New("read response: connection reset by peer")}, true},
		{"could not connect", &whatsapp.APIError{Err: &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}}, false},
		{"an answer with an error", &whatsapp.APIError{HTTPStatus: 500, Code: 1, Message: "unknown"}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := errors.Is(c.err, channels.ErrOutcomeUnknown); got != c.want {
				t.Fatalf("errors.Is(ErrOutcomeUnknown) = %v, want %v", got, c.want)
			}
		})
	}
}
