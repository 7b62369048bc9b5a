package magento

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/frontdesk-ai/frontdesk/commerce"
)

// timeLayout is how Magento writes times: UTC without a zone.
const timeLayout = "2006-01-02 15:04:05"

// decode unmarshals JSON into v; a type mismatch is malformed.
func decode(b []byte, v any) error {
	if err := json.Unmarshal(b, v); err != nil {
		return commerce.Malformed("%v", err)
	}
	return nil
}

// scalar is a JSON number, string or boolean as text; null is "". Magento
// writes the same field as a number (REST) or a string (model data).
type scalar string

// UnmarshalJSON accepts a number, a string, a boolean or null.
func (s *scalar) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case string(b) == "null":
		*s = ""
	case len(b) > 0 && b[0] == '"':
		var v string
		if err := json.Unmarshal(b, &v); err != nil {
			return err
		}
		*s = scalar(strings.TrimSpace(v))
	case string(b) == "true" || string(b) == "false":
		*s = scalar(b)
	case len(b) > 0 && (b[0] == '-' || (b[0] >= '0' && b[0] <= '9')):
		*s = scalar(b)
	default:
		return fmt.Errorf("want a number or a string, got %.20s", b)
	}
	return nil
}

// id returns s as an entity id: decimal digits ("" when absent).
func (s scalar) id(field string) (string, error) {
	if strings.Trim(string(s), "0123456789") != "" {
		return "", commerce.Malformed("%s %q is not a decimal id", field, string(s))
	}
	return string(s), nil
}

// truthy reports whether s is 1 or true.
func (s scalar) truthy() bool { return s == "1" || s == "true" }

// quantity reads a quantity ("2", 2, "2.0000") rounded to a whole number.
func (s scalar) quantity(field string) (int, error) {
	if s == "" {
		return 0, nil
	}
	q, err := strconv.ParseFloat(string(s), 64)
	if err != nil || math.IsNaN(q) || q < 0 || q > 1e9 {
		return 0, commerce.Malformed("%s %q is not a quantity", field, string(s))
	}
	return int(math.Round(q)), nil
}

// object decodes a JSON object into V. PHP writes an empty object as []
// (and an object with keys 0, 1, … as an array): an array, like null,
// leaves it unset.
type object[T any] struct {
	V   T
	Set bool
}

// UnmarshalJSON accepts an object, an array (ignored) or null.
func (o *object[T]) UnmarshalJSON(b []byte) error {
	t := bytes.TrimSpace(b)
	if string(t) == "null" || (len(t) > 0 && t[0] == '[') {
		return nil
	}
	o.Set = true
	return json.Unmarshal(t, &o.V)
}

// list decodes a JSON array of T; PHP writes an array with gaps in its
// keys as an object ({"3": …, "7": …}), read here in key order.
type list[T any] []T

// UnmarshalJSON accepts an array, an object of elements or null.
func (l *list[T]) UnmarshalJSON(b []byte) error {
	t := bytes.TrimSpace(b)
	if len(t) == 0 || t[0] != '{' {
		var a []T
		err := json.Unmarshal(t, &a)
		*l = a
		return err
	}
	var m map[string]T
	if err := json.Unmarshal(t, &m); err != nil {
		return err
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b string) int {
		if c := len(a) - len(b); c != 0 { // numeric keys: shorter is smaller
			return c
		}
		return strings.Compare(a, b)
	})
	*l = make(list[T], 0, len(keys))
	for _, k := range keys {
		*l = append(*l, m[k])
	}
	return nil
}

// minor converts an amount into minor units of currency. An unknown
// currency wraps both commerce.ErrMalformed and commerce.ErrCurrency.
func minor(field string, amount scalar, currency string) (int64, error) {
	v, err := commerce.ToMinor(string(amount), currency)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", field, err)
	}
	return v, nil
}

// optionalMinor is minor for an amount that may be absent (zero).
func optionalMinor(field string, amount scalar, currency string) (int64, error) {
	if amount == "" {
		return 0, nil
	}
	return minor(field, amount, currency)
}

// parseTime reads Magento's "2006-01-02 15:04:05" (UTC) or RFC 3339; "" is
// the zero time.
func parseTime(field, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(timeLayout, s); err == nil {
		return t, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, commerce.Malformed("%s %q is not a time", field, s)
	}
	return t.UTC(), nil
}

// address is the part of a Magento address frontdesk reads.
type address struct {
	AddressType     string `json:"address_type"`
	Telephone       scalar `json:"telephone"`
	CountryID       string `json:"country_id"`
	DefaultBilling  scalar `json:"default_billing"`
	DefaultShipping scalar `json:"default_shipping"`
}

// phone is the address's telephone in E.164, read in its country.
func (a address) phone() string {
	return commerce.NormalizePhone(string(a.Telephone), a.CountryID)
}
