package shopify

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/frontdesk-ai/frontdesk/commerce"
)

// decode unmarshals a checked body into v; a type mismatch is malformed.
func decode(body []byte, v any) error {
	if err := json.Unmarshal(body, v); err != nil {
		return commerce.Malformed("%v", err)
	}
	return nil
}

// scalarText returns a JSON string's value or a JSON number's text; null is
// "".
func scalarText(b []byte) (string, error) {
	b = bytes.TrimSpace(b)
	switch {
	case string(b) == "null":
		return "", nil
	case len(b) > 0 && b[0] == '"':
		var s string
		err := json.Unmarshal(b, &s)
		return s, err
	case len(b) > 0 && (b[0] == '-' || (b[0] >= '0' && b[0] <= '9')):
		return string(b), nil
	}
	return "", fmt.Errorf("want a number or a string, got %.20s", b)
}

// id is a Shopify numeric id, written as a JSON number (REST) or a string
// of digits (GraphQL's legacyResourceId); null is "".
type id string

// UnmarshalJSON accepts a number or string of decimal digits, or null.
func (v *id) UnmarshalJSON(b []byte) error {
	s, err := scalarText(b)
	if err != nil {
		return fmt.Errorf("id: %w", err)
	}
	if strings.Trim(s, "0123456789") != "" {
		return fmt.Errorf("id %q is not a decimal number", s)
	}
	*v = id(s)
	return nil
}

// amount is a decimal amount as Shopify writes it: a string ("19.99"), or a
// number in a few older fields; null is "".
type amount string

// UnmarshalJSON accepts a string, a number or null.
func (v *amount) UnmarshalJSON(b []byte) error {
	s, err := scalarText(b)
	if err != nil {
		return fmt.Errorf("amount: %w", err)
	}
	*v = amount(s)
	return nil
}

// minor converts a into minor units of currency.
func minor(field string, a amount, currency string) (int64, error) {
	v, err := commerce.ToMinor(string(a), currency)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", field, err)
	}
	return v, nil
}

// parseTime reads an RFC 3339 time with an offset (fractional seconds
// allowed) as UTC; "" is the zero time.
func parseTime(field, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, commerce.Malformed("%s %q is not an RFC 3339 time", field, s)
	}
	return t.UTC(), nil
}

// parseOptionalTime is parseTime for a time that may be absent (nil).
func parseOptionalTime(field, s string) (*time.Time, error) {
	t, err := parseTime(field, s)
	if err != nil || t.IsZero() {
		return nil, err
	}
	return &t, nil
}

// orderNumber is the number a customer knows, without "#": "#1001" is
// "1001".
func orderNumber(name string) string {
	return strings.TrimPrefix(strings.TrimSpace(name), "#")
}

// adminURL is an order's page in the shop's admin.
func adminURL(shop string, orderID id) string {
	return "https://" + shop + "/admin/orders/" + string(orderID)
}

// firstPhone returns the first of candidates that normalizes to E.164.
func firstPhone(candidates ...phoneCandidate) string {
	for _, c := range candidates {
		if p := commerce.NormalizePhone(c.number, c.region); p != "" {
			return p
		}
	}
	return ""
}

// phoneCandidate is a phone number as the shop wrote it, with the region
// (ISO 3166 alpha-2, or "") to read a national number in.
type phoneCandidate struct{ number, region string }
