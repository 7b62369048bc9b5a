package whatsapp_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/frontdesk-ai/frontdesk/channels/whatsapp"
)

func TestRateLimiterBucketsPerNumber(t *testing.T) {
	// One token per hour: the second Wait on a number cannot be granted
	// within any short deadline, so x/time/rate refuses it at once.
	rl, err := whatsapp.NewRateLimiter(whatsapp.RateLimitConfig{PerSecond: 1.0 / 3600, Burst: 1,
		PerNumber: map[string]float64{"fast": 1000}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	if err := rl.Wait(ctx, "a"); err != nil {
		t.Fatalf("first send on a: %v", err)
	}
	if err := rl.Wait(ctx, "a"); err == nil {
		t.Fatal("second send on a within its hour was allowed")
	}
	if err := rl.Wait(ctx, "b"); err != nil {
		t.Fatalf("number b is throttled by a's sends: %v", err)
	}
	for i := range 5 {
		if err := rl.Wait(ctx, "fast"); err != nil {
			t.Fatalf("override rate: send %d: %v", i, err)
		}
	}
}

func TestRateLimiterDefaultBurst(t *testing.T) {
	rl, err := whatsapp.NewRateLimiter(whatsapp.RateLimitConfig{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for i := range whatsapp.DefaultMessagesPerSecond {
		if err := rl.Wait(ctx, "n"); err != nil {
			t.Fatalf("send %d of the default burst: %v", i, err)
		}
	}
}

func TestRateLimiterCancelled(t *testing.T) {
	rl, err := whatsapp.NewRateLimiter(whatsapp.RateLimitConfig{PerSecond: 1, Burst: 1})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := rl.Wait(ctx, "n"); !errors.Is(err, context.Canceled) {
		t.Errorf("got %v, want context.Canceled", err)
	}
}

func TestRateLimitConfigValidate(t *testing.T) {
	tests := []struct {
		name string
		cfg  whatsapp.RateLimitConfig
		ok   bool
	}{
		{"defaults", whatsapp.RateLimitConfig{}, true},
		{"negative rate", whatsapp.RateLimitConfig{PerSecond: -1}, false},
		{"absurd rate", whatsapp.RateLimitConfig{PerSecond: 1e12}, false},
		{"negative burst", whatsapp.RateLimitConfig{Burst: -1}, false},
		{"zero override", whatsapp.RateLimitConfig{PerNumber: map[string]float64{"x": 0}}, false},
		{"override", whatsapp.RateLimitConfig{PerNumber: map[string]float64{"x": 20}}, true},
		{"negative receipt rate", whatsapp.RateLimitConfig{ReceiptsPerSecond: -1}, false},
		{"receipt rate", whatsapp.RateLimitConfig{ReceiptsPerSecond: 40}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.cfg.Validate(); (err == nil) != tt.ok {
				t.Errorf("Validate() = %v, want ok=%v", err, tt.ok)
			}
		})
	}
}

// Receipts and typing indicators take tokens from their own bucket: a
// number's messages keep their whole budget, and receipts have theirs at
// the message rate unless configured.
func TestRateLimiterReceiptsApart(t *testing.T) {
	tests := []struct {
		name               string
		cfg                whatsapp.RateLimitConfig
		messages, receipts int
	}{
		{"receipts at the message rate", whatsapp.RateLimitConfig{PerSecond: 3.0 / 3600, Burst: 3}, 3, 3},
		{"receipts configured", whatsapp.RateLimitConfig{PerSecond: 2.0 / 3600, ReceiptsPerSecond: 1.0 / 3600}, 1, 1},
		{"per-number override", whatsapp.RateLimitConfig{PerSecond: 1e-6, Burst: 2, PerNumber: map[string]float64{"n": 2.0 / 3600}}, 2, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rl, err := whatsapp.NewRateLimiter(tt.cfg)
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			for i := range max(tt.messages, tt.receipts) {
				if i < tt.receipts {
					if err := rl.WaitReceipt(ctx, "n"); err != nil {
						t.Fatalf("receipt %d: %v", i, err)
					}
				}
				if i < tt.messages {
					if err := rl.Wait(ctx, "n"); err != nil {
						t.Fatalf("message %d: %v", i, err)
					}
				}
			}
			if err := rl.Wait(ctx, "n"); err == nil {
				t.Error("a message beyond the budget was allowed")
			}
			if err := rl.WaitReceipt(ctx, "n"); err == nil {
				t.Error("a receipt beyond the budget was allowed")
			}
		})
	}
}
