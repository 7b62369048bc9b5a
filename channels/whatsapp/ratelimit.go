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
}

// Validate reports whether the config is usable once defaults are applied.
func (c RateLimitConfig) Validate() error {
	if c.PerSecond < 0 || c.PerSecond > maxPerSecond || math.IsNaN(c.PerSecond) {
		return fmt.Errorf("whatsapp rate limit: invalid rate %v", c.PerSecond)
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

// RateLimiter paces sends with one token bucket per phone number id, in this
// process. Its mutex guards only the bucket map.
type RateLimiter struct {
	perSecond float64
	burst     int
	perNumber map[string]float64

	mu      sync.Mutex
	buckets map[string]*rate.Limiter
}

// NewRateLimiter returns a RateLimiter for cfg.
func NewRateLimiter(cfg RateLimitConfig) (*RateLimiter, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	r := &RateLimiter{
		perSecond: cfg.PerSecond,
		burst:     cfg.Burst,
		perNumber: make(map[string]float64, len(cfg.PerNumber)),
		buckets:   make(map[string]*rate.Limiter),
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
	if err := r.bucket(phoneNumberID).Wait(ctx); err != nil {
		return fmt.Errorf("whatsapp rate limit %s: %w", phoneNumberID, err)
	}
	return nil
}

func (r *RateLimiter) bucket(phoneNumberID string) *rate.Limiter {
	r.mu.Lock()
	defer r.mu.Unlock()
	if b, ok := r.buckets[phoneNumberID]; ok {
		return b
	}
	perSecond := r.perSecond
	if v, ok := r.perNumber[phoneNumberID]; ok {
		perSecond = v
	}
	burst := r.burst
	if burst == 0 {
		burst = int(math.Ceil(perSecond))
	}
	b := rate.NewLimiter(rate.Limit(perSecond), burst)
	r.buckets[phoneNumberID] = b
	return b
}
