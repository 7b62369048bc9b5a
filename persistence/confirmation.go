package persistence

import (
	"encoding/json"
	"time"
)

// ConfirmationState is where a pending confirmation stands.
type ConfirmationState string

// States of a confirmation. Pending waits for the customer; awaiting
// approval means the customer said yes to an action above the agent's
// policy and a supervisor decides; confirmed means the action is about to
// run; declined, expired and executed are final.
const (
	ConfirmationPending          ConfirmationState = "pending"
	ConfirmationAwaitingApproval ConfirmationState = "awaiting_approval"
	ConfirmationConfirmed        ConfirmationState = "confirmed"
	ConfirmationDeclined         ConfirmationState = "declined"
	ConfirmationExpired          ConfirmationState = "expired"
	ConfirmationExecuted         ConfirmationState = "executed"
)

// Valid reports whether s is a known confirmation state.
func (s ConfirmationState) Valid() bool {
	switch s {
	case ConfirmationPending, ConfirmationAwaitingApproval, ConfirmationConfirmed, ConfirmationDeclined, ConfirmationExpired, ConfirmationExecuted:
		return true
	}
	return false
}

// Final reports whether s ends the confirmation: declined, expired or
// executed. A confirmation in a final state never changes state again.
func (s ConfirmationState) Final() bool {
	return s == ConfirmationDeclined || s == ConfirmationExpired || s == ConfirmationExecuted
}

// Confirmation is an action that waits for the customer's explicit yes. The
// customer grain owns its confirmations (they are customer-wide, not per
// conversation) and writes them with a version check (Base.Version), so a
// stale activation cannot resolve one twice.
type Confirmation struct {
	Base
	// CustomerID is the customer who must confirm.
	CustomerID string
	// ConversationID is the conversation that asked; the answer may come
	// from another one of the same customer.
	ConversationID string
	// Action names the tool to run once confirmed, e.g. "refund_order".
	Action string
	// Arguments are the tool call's arguments (JSON; nil is stored as {}).
	Arguments json.RawMessage
	// AmountMinor is the money the action moves, in minor units of Currency
	// (cents); 0 when none. Never negative.
	AmountMinor int64
	// Currency is an ISO 4217 code in upper case ("EUR"); "" when no money
	// moves, which requires AmountMinor 0.
	Currency string
	// State is where the confirmation stands; the store fills an empty one
	// with ConfirmationPending.
	State ConfirmationState
	// ExpiresAt is when a still pending confirmation expires (required).
	ExpiresAt time.Time
	// ResolvedAt is when the confirmation left pending; nil while pending.
	ResolvedAt *time.Time
	// IdempotencyKey is unique per tenant when not empty: a retried request
	// finds the confirmation it created (GetConfirmationByIdempotencyKey).
	IdempotencyKey string
}

// Reminder is a durable timer of a grain: it fires (the runtime calls the
// grain) at DueAt, even if the grain was passivated or its member restarted
// in between. (Kind, Identity, Name) is unique: saving a reminder of the same
// name again moves it. A grain deletes a reminder that has fired or that it
// no longer needs.
type Reminder struct {
	// TenantID is the tenant of the grain.
	TenantID string
	// Kind is the grain kind, e.g. "customer".
	Kind string
	// Identity is the grain identity within its kind.
	Identity string
	// Name tells the grain's reminders apart, e.g. "confirmation:<id>".
	Name string
	// DueAt is when the reminder fires; the store keeps it in UTC
	// microseconds.
	DueAt time.Time
	// Payload is handed back to the grain when the reminder fires (JSON; nil
	// is stored as {}).
	Payload json.RawMessage
}
