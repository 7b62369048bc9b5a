package llmrouter

import (
	"sync"
	"time"
)

// Defaults of CircuitConfig.
const (
	DefaultCircuitFailures = 5
	DefaultCircuitCooldown = 30 * time.Second
)

// CircuitConfig configures the circuit breaker the Router keeps for one
// backend.
type CircuitConfig struct {
	// Failures is how many calls in a row must fail (unavailable or past
	// the backend's deadline) to open the circuit; zero means
	// DefaultCircuitFailures.
	Failures int `yaml:"failures"`
	// Cooldown is how long an open circuit refuses calls before it lets
	// one probe call through; zero means DefaultCircuitCooldown.
	Cooldown time.Duration `yaml:"cooldown"`
}

// circuitState is the state of a breaker; its value is the
// frontdesk_llm_circuit_state gauge's.
type circuitState int

const (
	circuitClosed circuitState = iota
	circuitOpen
	circuitHalfOpen
)

// breaker is a circuit breaker: closed, it lets every call through and
// counts consecutive failures; at the threshold it opens and refuses calls
// for the cooldown; then it is half-open and lets one probe through, whose
// success closes it and whose failure opens it again. A call that ends
// without a verdict (the caller gave up, or the request was unsupported)
// gives the probe back. Its mutex is a leaf: nothing else is locked while
// it is held, and onChange must not call back.
type breaker struct {
	threshold int
	cooldown  time.Duration
	now       func() time.Time
	onChange  func(circuitState)

	mu       sync.Mutex
	state    circuitState
	failures int
	openedAt time.Time
	probing  bool
}

func newBreaker(cfg CircuitConfig, now func() time.Time, onChange func(circuitState)) *breaker {
	b := &breaker{threshold: cfg.Failures, cooldown: cfg.Cooldown, now: now, onChange: onChange}
	if b.threshold <= 0 {
		b.threshold = DefaultCircuitFailures
	}
	if b.cooldown <= 0 {
		b.cooldown = DefaultCircuitCooldown
	}
	return b
}

// allow reports whether a call may go through now; in the half-open state
// the call it allows is the probe.
func (b *breaker) allow() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch b.state {
	case circuitClosed:
		return true
	case circuitOpen:
		if b.now().Sub(b.openedAt) < b.cooldown {
			return false
		}
		b.set(circuitHalfOpen)
	}
	if b.probing {
		return false
	}
	b.probing = true
	return true
}

// success records a call the backend answered.
func (b *breaker) success() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.failures, b.probing = 0, false
	b.set(circuitClosed)
}

// failure records a call the backend could not answer.
func (b *breaker) failure() {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch b.state {
	case circuitClosed:
		b.failures++
		if b.failures < b.threshold {
			return
		}
	case circuitOpen:
		return // a call from before the circuit opened
	}
	b.failures, b.probing, b.openedAt = 0, false, b.now()
	b.set(circuitOpen)
}

// abandon records a call that ended without a verdict.
func (b *breaker) abandon() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.state == circuitHalfOpen {
		b.probing = false
	}
}

func (b *breaker) set(s circuitState) {
	if b.state == s {
		return
	}
	b.state = s
	if b.onChange != nil {
		b.onChange(s)
	}
}
