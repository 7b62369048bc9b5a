package whatsapp

import (
	"context"
	"fmt"
	"math"
	"sync"

	"golang.org/x/time/rate"
)

// DefaultMessagesPerSecond is the Cloud API's default throughput of one
// business phone number.
const DefaultMessagesPerSecond = 80

// Read receipts and typing indicators are paced apart from messages. Meta
// documents throughput per business number as messages per second (80 by
// default, up to 1,000 after an automatic upgrade, 20 for a number shared
// with the WhatsApp Business app), "inclusive of inbound and outbound
// messages and all message types"; its guides to marking a message read
// and to typing indicators name no limit of their own, and neither call
// delivers a message. So a receipt never takes a message's token: each
// number has a second bucket for receipts and typing, at the number's
// message rate unless RateLimitConfig.ReceiptsPerSecond says otherwise, and
// replies alone use the reply rate. Should Meta count them after all, it
// answers 130429, which is retried with backoff, and the sender gives up
// on a receipt (a courtesy) without failing anything.

// maxPerSecond bounds a configured rate far above any Cloud API tier.
const maxPerSecond = 1e6

// RateLimitConfig configures a RateLimiter.
type RateLimitConfig struct {
	// PerSecond is the rate of every number not in PerNumber; zero means
	// DefaultMessagesPerSecond.
	PerSecond float64
	// Burst is how many sends may go at once after a quiet spell; zero means
	// the per-second rate rounded up.
	Burst int
	// PerNumber overrides the rate of some phone number ids (a number
	// upgraded to 1000 mps, a coexistence number fixed at 20).
	PerNumber map[string]float64
	// ReceiptsPerSecond is the rate of read receipts and typing indicators
	// of every number, paced apart from messages; zero means the number's
	// message rate. Burst applies to it as to messages.
	ReceiptsPerSecond float64
}

// Validate reports whether the config is usable once defaults are applied.
func (c RateLimitConfig) Validate() error {
	if c.PerSecond < 0 || c.PerSecond > maxPerSecond || math.IsNaN(c.PerSecond) {
		return fmt.Errorf("whatsapp rate limit: invalid rate %v", c.PerSecond)
	}
	if c.ReceiptsPerSecond < 0 || c.ReceiptsPerSecond > maxPerSecond || math.IsNaN(c.ReceiptsPerSecond) {
		return fmt.Errorf("whatsapp rate limit: invalid receipt rate %v", c.ReceiptsPerSecond)
	}
	if c.Burst < 0 {
		return fmt.Errorf("whatsapp rate limit: negative burst %d", c.Burst)
	}
	for id, r := range c.PerNumber {
		if r <= 0 || r > maxPerSecond || math.IsNaN(r) {
			return fmt.Errorf("whatsapp rate limit: invalid rate %v for %s", r, id)
		}
	}
	return nil
}

// RateLimiter paces calls with two token buckets per phone number id, in
// this process: one for messages (Wait), one for read receipts and typing
// indicators (WaitReceipt). Its mutex guards only the bucket map.
type RateLimiter struct {
	perSecond float64
	receipts  float64
	burst     int
	perNumber map[string]float64

	mu      sync.Mutex
	buckets map[string]buckets
}

// buckets are one number's token buckets.
type buckets struct {
	messages, receipts *rate.Limiter
}

// NewRateLimiter returns a RateLimiter for cfg.
func NewRateLimiter(cfg RateLimitConfig) (*RateLimiter, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	r := &RateLimiter{
		perSecond: cfg.PerSecond,
		receipts:  cfg.ReceiptsPerSecond,
		burst:     cfg.Burst,
		perNumber: make(map[string]float64, len(cfg.PerNumber)),
		buckets:   make(map[string]buckets),
	}
	if r.perSecond == 0 {
		r.perSecond = DefaultMessagesPerSecond
	}
	for id, v := range cfg.PerNumber {
		r.perNumber[id] = v
	}
	return r, nil
}

// Wait blocks until phoneNumberID may send one more message, or returns an
// error when ctx ends first or its deadline comes before the turn would.
func (r *RateLimiter) Wait(ctx context.Context, phoneNumberID string) error {
	if err := r.bucket(phoneNumberID).messages.Wait(ctx); err != nil {
		return fmt.Errorf("whatsapp rate limit %s: %w", phoneNumberID, err)
	}
	return nil
}

// WaitReceipt is Wait for a read receipt or typing indicator: it takes a
// token of the number's receipt bucket, never one of its messages.
func (r *RateLimiter) WaitReceipt(ctx context.Context, phoneNumberID string) error {
	if err := r.bucket(phoneNumberID).receipts.Wait(ctx); err != nil {
		return fmt.Errorf("whatsapp receipt rate limit %s: %w", phoneNumberID, err)
	}
	return nil
}

func (r *RateLimiter) bucket(phoneNumberID string) buckets {
	r.mu.Lock()
	defer r.mu.Unlock()
	if b, ok := r.buckets[phoneNumberID]; ok {
		return b
	}
	perSecond := r.perSecond
	if v, ok := r.perNumber[phoneNumberID]; ok {
		perSecond = v
	}
	receipts := r.receipts
	if receipts == 0 {
		receipts = perSecond
	}
	b := buckets{messages: r.limiter(perSecond), receipts: r.limiter(receipts)}
	r.buckets[phoneNumberID] = b
	return b
}

// limiter is a bucket at perSecond with the configured burst (default: the
// rate rounded up).
func (r *RateLimiter) limiter(perSecond float64) *rate.Limiter {
	burst := r.burst
	if burst == 0 {
		burst = int(math.Ceil(perSecond))
	}
	return rate.NewLimiter(rate.Limit(perSecond), burst)
}
