// Package events owns the versioned envelope that every producer of the event
// log writes, and the payload types of the event kinds frontdesk knows. A
// consumer decodes an envelope with Decode, which refuses (with
// persistence.ErrUnknownEventVersion) a type/version pair this build does not
// know instead of guessing.
package events

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/frontdesk-ai/frontdesk/persistence"
)

// Envelope is the JSON value of every event log record. Its schema is
// documented in docs/events.md; fields are only ever added.
type Envelope struct {
	// ID is unique per event (a UUID); consumers use it for idempotence.
	ID string `json:"id"`
	// Type names the event kind, e.g. "message.received".
	Type string `json:"type"`
	// Version is the payload schema version of Type.
	Version int `json:"version"`
	// TenantID is the tenant the event belongs to.
	TenantID string `json:"tenant_id"`
	// Key is the record key: the conversation thread the event belongs to.
	Key string `json:"key"`
	// Time is when the event happened at its source (UTC).
	Time time.Time `json:"time"`
	// Payload is the type-specific body.
	Payload json.RawMessage `json:"payload"`
}

// New builds an envelope for payload with a fresh id.
func New(typ string, version int, tenantID, key string, at time.Time, payload any) (Envelope, error) {
	raw, err := json.Marshal(payload)
	if err != nil {
		return Envelope{}, fmt.Errorf("encode %s payload: %w", typ, err)
	}
	return Envelope{
		ID:       uuid.NewString(),
		Type:     typ,
		Version:  version,
		TenantID: tenantID,
		Key:      key,
		Time:     at.UTC(),
		Payload:  raw,
	}, nil
}

// Record turns the envelope into a log record of topic keyed by its Key.
func (e Envelope) Record(topic string) (persistence.Record, error) {
	v, err := json.Marshal(e)
	if err != nil {
		return persistence.Record{}, fmt.Errorf("encode envelope %s: %w", e.ID, err)
	}
	return persistence.Record{Topic: topic, Key: e.Key, Value: v}, nil
}

// Parse reads an envelope from a record value and checks its required fields.
func Parse(value []byte) (Envelope, error) {
	var e Envelope
	if err := json.Unmarshal(value, &e); err != nil {
		return Envelope{}, fmt.Errorf("decode envelope: %w", err)
	}
	switch {
	case e.ID == "":
		return e, errors.New("decode envelope: missing id")
	case e.Type == "":
		return e, fmt.Errorf("decode envelope %s: missing type", e.ID)
	case e.Version < 1:
		return e, fmt.Errorf("decode envelope %s: missing or invalid version %d", e.ID, e.Version)
	case e.TenantID == "":
		return e, fmt.Errorf("decode envelope %s: missing tenant_id", e.ID)
	}
	return e, nil
}
