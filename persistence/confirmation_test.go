package persistence

import "testing"

func TestConfirmationState(t *testing.T) {
	for _, c := range []struct {
		state        ConfirmationState
		valid, final bool
	}{
		{ConfirmationPending, true, false},
		{ConfirmationConfirmed, true, false},
		{ConfirmationDeclined, true, true},
		{ConfirmationExpired, true, true},
		{ConfirmationExecuted, true, true},
		{"", false, false},
		{"approved", false, false},
	} {
		t.Run(string(c.state), func(t *testing.T) {
			if got := c.state.Valid(); got != c.valid {
				t.Errorf("Valid() = %v, want %v", got, c.valid)
			}
			if got := c.state.Final(); got != c.final {
				t.Errorf("Final() = %v, want %v", got, c.final)
			}
		})
	}
}
