package kafkalog_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package when a test leaves goroutines behind: every
// client a Log or Subscription starts must stop with Close.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
