// Package routing owns the routing rules of agent profiles: their JSON
// format (persistence.AgentProfile.Routing, edited on the dashboard's Agents
// page), their validation, and the choice of the profile that answers a new
// conversation. Everything here is a pure function of its arguments.
//
// # Format
//
// A profile's routing rules are one JSON object; every field is optional:
//
//	{
//	  "priority": 10,
//	  "default": false,
//	  "match": {
//	    "channels": ["whatsapp"],
//	    "channel_accounts": ["+4930123456"],
//	    "languages": ["de", "pt-BR"],
//	    "customer_tags_any": ["vip", "b2b"],
//	    "customer_tags_all": ["germany"]
//	  }
//	}
//
// The fields:
//
//   - match: the condition a new conversation must meet for this profile.
//     Every list that is given and not empty must hold the conversation's
//     value (all lists together, any value within a list): channels and
//     channel_accounts name where the conversation came in; languages are
//     BCP 47 tags of the customer's language, where "pt" matches "pt" and
//     "pt-BR" and "pt-BR" only "pt-BR"; customer_tags_any needs one of the
//     customer's tags, customer_tags_all every one. All comparisons ignore
//     case. An empty match object matches every conversation; no match at
//     all means the profile is never chosen by a rule.
//   - priority: the order in which rules are tried, highest first (default
//     0); profiles of equal priority are tried by name, then id. The first
//     rule that matches wins.
//   - default: marks the tenant's fallback, the profile chosen when no rule
//     matches. Without one, the oldest profile is the fallback.
//
// {} (and an empty or null value) is no rules at all; a field set to null
// is not given. Parse refuses unknown fields, wrong types, empty strings,
// malformed language tags and lists longer than MaxValues, so a typo
// ("language") fails when it is saved instead of silently matching nothing.
package routing

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Limits of a rule.
const (
	// MaxValues is the most values one list of a match may hold.
	MaxValues = 100
	// MaxValueLen is the longest value, in characters.
	MaxValueLen = 200
	// MaxPriority bounds priority in both directions.
	MaxPriority = 1_000_000
)

// Rules are one agent profile's routing rules; the zero value is no rules.
type Rules struct {
	// Priority orders the rules of a tenant's profiles: higher first.
	Priority int `json:"priority,omitempty"`
	// Default marks the tenant's fallback profile.
	Default bool `json:"default,omitempty"`
	// Match is the condition; nil means the profile is never chosen by a
	// rule (only as the fallback).
	Match *Match `json:"match,omitempty"`
}

// Match is the condition of a rule: every non-empty list must hold the
// conversation's value.
type Match struct {
	Channels        []string `json:"channels,omitempty"`
	ChannelAccounts []string `json:"channel_accounts,omitempty"`
	// Languages are BCP 47 tags; "pt" matches "pt" and "pt-BR".
	Languages []string `json:"languages,omitempty"`
	// CustomerTagsAny matches customers with at least one of these tags.
	CustomerTagsAny []string `json:"customer_tags_any,omitempty"`
	// CustomerTagsAll matches customers with every one of these tags.
	CustomerTagsAll []string `json:"customer_tags_all,omitempty"`
}

// ErrInvalid is wrapped by every error of Parse.
var ErrInvalid = errors.New("invalid routing rules")

// FieldError is a problem with one field of the rules; Field is its path,
// e.g. "match.languages[1]".
type FieldError struct {
	Field   string
	Problem string
}

// Error names the field and the problem.
func (e *FieldError) Error() string {
	if e.Field == "" {
		return e.Problem
	}
	return e.Field + ": " + e.Problem
}

// Unwrap returns ErrInvalid.
func (e *FieldError) Unwrap() error { return ErrInvalid }

func fieldErr(field, format string, args ...any) error {
	return &FieldError{Field: field, Problem: fmt.Sprintf(format, args...)}
}

var (
	ruleFields  = []string{"priority", "default", "match"}
	matchFields = []string{"channels", "channel_accounts", "languages", "customer_tags_any", "customer_tags_all"}
)

// Parse reads and checks routing rules. Empty input, null and {} are no
// rules. The error (a *FieldError wrapping ErrInvalid) names the first
// field that is wrong and why.
func Parse(raw json.RawMessage) (Rules, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return Rules{}, nil
	}
	obj, err := object(raw, "")
	if err != nil {
		return Rules{}, err
	}
	var r Rules
	for _, k := range sortedKeys(obj) {
		v := obj[k]
		if isNull(v) && slices.Contains(ruleFields, k) {
			continue // null is "not given"
		}
		switch k {
		case "priority":
			if r.Priority, err = priority(v); err != nil {
				return Rules{}, err
			}
		case "default":
			if json.Unmarshal(v, &r.Default) != nil {
				return Rules{}, fieldErr("default", "must be true or false, not %s", kind(v))
			}
		case "match":
			m, err := parseMatch(v)
			if err != nil {
				return Rules{}, err
			}
			r.Match = &m
		default:
			return Rules{}, unknown("", k, ruleFields)
		}
	}
	return r, nil
}

func parseMatch(raw json.RawMessage) (Match, error) {
	obj, err := object(raw, "match")
	if err != nil {
		return Match{}, err
	}
	var m Match
	for _, k := range sortedKeys(obj) {
		if isNull(obj[k]) && slices.Contains(matchFields, k) {
			continue
		}
		var dst *[]string
		check := plainValue
		switch k {
		case "channels":
			dst = &m.Channels
		case "channel_accounts":
			dst = &m.ChannelAccounts
		case "languages":
			dst, check = &m.Languages, languageTag
		case "customer_tags_any":
			dst = &m.CustomerTagsAny
		case "customer_tags_all":
			dst = &m.CustomerTagsAll
		default:
			return Match{}, unknown("match.", k, matchFields)
		}
		if *dst, err = list(obj[k], "match."+k, check); err != nil {
			return Match{}, err
		}
	}
	return m, nil
}

// object decodes raw as a JSON object; at is its path for errors.
func object(raw json.RawMessage, at string) (map[string]json.RawMessage, error) {
	var obj map[string]json.RawMessage
	if len(raw) == 0 || raw[0] != '{' {
		if at == "" {
			return nil, fieldErr("", "must be a JSON object, not %s", kind(raw))
		}
		return nil, fieldErr(at, "must be an object, not %s", kind(raw))
	}
	if err := json.Unmarshal(raw, &obj); err != nil {
		return nil, fieldErr(at, "not valid JSON: %v", err)
	}
	return obj, nil
}

func priority(raw json.RawMessage) (int, error) {
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	var n json.Number
	if raw[0] < '0' && raw[0] != '-' || raw[0] > '9' || d.Decode(&n) != nil {
		return 0, fieldErr("priority", "must be a whole number, not %s", kind(raw))
	}
	i, err := n.Int64()
	if err != nil {
		// 1e3 and 10.0 are whole numbers too.
		f, ferr := n.Float64()
		if ferr != nil || f != math.Trunc(f) {
			return 0, fieldErr("priority", "must be a whole number, not %s", n)
		}
		if math.Abs(f) > MaxPriority {
			return 0, fieldErr("priority", "must be between %d and %d", -MaxPriority, MaxPriority)
		}
		i = int64(f)
	}
	if i < -MaxPriority || i > MaxPriority {
		return 0, fieldErr("priority", "must be between %d and %d", -MaxPriority, MaxPriority)
	}
	return int(i), nil
}

// list decodes a JSON array of strings, each passing check; values are
// trimmed and duplicates (ignoring case) dropped. An empty list is nil.
func list(raw json.RawMessage, at string, check func(string) string) ([]string, error) {
	if len(raw) == 0 || raw[0] != '[' {
		return nil, fieldErr(at, "must be a list of strings, not %s", kind(raw))
	}
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, fieldErr(at, "not valid JSON: %v", err)
	}
	if len(items) > MaxValues {
		return nil, fieldErr(at, "has %d values, at most %d", len(items), MaxValues)
	}
	var out []string
	for i, it := range items {
		var s string
		if len(it) == 0 || it[0] != '"' || json.Unmarshal(it, &s) != nil {
			return nil, fieldErr(fmt.Sprintf("%s[%d]", at, i), "must be a string, not %s", kind(it))
		}
		s = strings.TrimSpace(s)
		if problem := check(s); problem != "" {
			return nil, fieldErr(fmt.Sprintf("%s[%d]", at, i), "%s", problem)
		}
		if !slices.ContainsFunc(out, func(o string) bool { return strings.EqualFold(o, s) }) {
			out = append(out, s)
		}
	}
	return out, nil
}

func plainValue(s string) string {
	switch {
	case s == "":
		return "must not be empty"
	case utf8.RuneCountInString(s) > MaxValueLen:
		return fmt.Sprintf("has more than %d characters", MaxValueLen)
	case strings.IndexFunc(s, func(r rune) bool { return unicode.IsControl(r) }) >= 0:
		return "must not hold control characters"
	}
	return ""
}

// languageTag accepts BCP 47-shaped tags: a primary language of 2-3
// letters, then subtags of 1-8 letters or digits ("de", "pt-BR",
// "zh-Hant-TW"); "_" is taken for "-" (pt_BR).
func languageTag(s string) string {
	if p := plainValue(s); p != "" {
		return p
	}
	parts := strings.Split(strings.ReplaceAll(s, "_", "-"), "-")
	ok := len(parts[0]) >= 2 && len(parts[0]) <= 3 && allASCII(parts[0], false)
	for _, p := range parts[1:] {
		ok = ok && len(p) >= 1 && len(p) <= 8 && allASCII(p, true)
	}
	if !ok {
		return fmt.Sprintf("%q is not a language tag like \"de\" or \"pt-BR\"", s)
	}
	return ""
}

func allASCII(s string, digits bool) bool {
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || digits && r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

func unknown(prefix, k string, known []string) error {
	return fieldErr(prefix+k, "unknown field; known fields: %s", strings.Join(known, ", "))
}

func sortedKeys(m map[string]json.RawMessage) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func isNull(v json.RawMessage) bool { return bytes.Equal(bytes.TrimSpace(v), []byte("null")) }

// kind names the JSON type of v for error messages.
func kind(v json.RawMessage) string {
	v = bytes.TrimSpace(v)
	if len(v) == 0 {
		return "nothing"
	}
	switch v[0] {
	case '{':
		return "an object"
	case '[':
		return "a list"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "a number"
}
