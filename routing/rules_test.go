package routing_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/frontdesk-ai/frontdesk/routing"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		name string
		raw  string
		want routing.Rules
	}{
		{"empty", ``, routing.Rules{}},
		{"null", `null`, routing.Rules{}},
		{"no rules", ` {} `, routing.Rules{}},
		{"default only", `{"default": true}`, routing.Rules{Default: true}},
		{"catch-all", `{"priority": -5, "match": {}}`, routing.Rules{Priority: -5, Match: &routing.Match{}}},
		{"null fields are not given", `{"priority": null, "default": null, "match": {"channels": null}}`, routing.Rules{Match: &routing.Match{}}},
		{"whole-number float", `{"priority": 1e2}`, routing.Rules{Priority: 100}},
		{"empty list is no condition", `{"match": {"languages": []}}`, routing.Rules{Match: &routing.Match{}}},
		{"full", `{"priority": 10, "default": false, "match": {
			"channels": ["whatsapp", " messenger "], "channel_accounts": ["+4930123"],
			"languages": ["de", "pt_BR", "zh-Hant-TW"], "customer_tags_any": ["vip", "VIP", "b2b"], "customer_tags_all": ["germany"]}}`,
			routing.Rules{Priority: 10, Match: &routing.Match{
				Channels: []string{"whatsapp", "messenger"}, ChannelAccounts: []string{"+4930123"},
				Languages: []string{"de", "pt_BR", "zh-Hant-TW"}, CustomerTagsAny: []string{"vip", "b2b"}, CustomerTagsAll: []string{"germany"}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := routing.Parse(json.RawMessage(tc.raw))
			if err != nil {
				t.Fatalf("Parse(%s): %v", tc.raw, err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("Parse(%s) = %+v (match %+v), want %+v", tc.raw, got, got.Match, tc.want)
			}
		})
	}
}

func TestParseRefuses(t *testing.T) {
	for _, tc := range []struct {
		name, raw string
		// want is a part of the error message: the field and the problem.
		want string
	}{
		{"not an object", `[1]`, "must be a JSON object, not a list"},
		{"a string", `"de"`, "must be a JSON object, not a string"},
		{"broken JSON", `{"priority": 1`, "not valid JSON"},
		{"trailing data", `{} {}`, "not valid JSON"},
		{"unknown field", `{"prefer": "fast"}`, "prefer: unknown field; known fields: priority, default, match"},
		{"typo in match", `{"match": {"language": ["de"]}}`, "match.language: unknown field; known fields: channels, channel_accounts"},
		{"priority a string", `{"priority": "10"}`, "priority: must be a whole number, not a string"},
		{"priority a fraction", `{"priority": 1.5}`, "priority: must be a whole number, not 1.5"},
		{"priority too big", `{"priority": 1e12}`, "priority: must be between -1000000 and 1000000"},
		{"priority huge int", `{"priority": 99999999999999999999}`, "priority: must be"},
		{"default a string", `{"default": "yes"}`, "default: must be true or false, not a string"},
		{"match a list", `{"match": ["whatsapp"]}`, "match: must be an object, not a list"},
		{"list a string", `{"match": {"channels": "whatsapp"}}`, "match.channels: must be a list of strings, not a string"},
		{"value a number", `{"match": {"channel_accounts": ["a", 4930]}}`, "match.channel_accounts[1]: must be a string, not a number"},
		{"empty value", `{"match": {"customer_tags_any": ["vip", "  "]}}`, "match.customer_tags_any[1]: must not be empty"},
		{"control character", `{"match": {"customer_tags_all": ["a\u0000b"]}}`, "must not hold control characters"},
		{"bad language tag", `{"match": {"languages": ["de", "german"]}}`, `match.languages[1]: "german" is not a language tag`},
		{"language with space", `{"match": {"languages": ["pt BR"]}}`, `"pt BR" is not a language tag`},
		{"long value", `{"match": {"channels": ["` + strings.Repeat("x", routing.MaxValueLen+1) + `"]}}`, "more than 200 characters"},
		{"too many values", `{"match": {"channels": [` + strings.Repeat(`"x",`, routing.MaxValues) + `"y"]}}`, "has 101 values, at most 100"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := routing.Parse(json.RawMessage(tc.raw))
			if err == nil {
				t.Fatalf("Parse(%.80s) accepted", tc.raw)
			}
			if !errors.Is(err, routing.ErrInvalid) {
				t.Errorf("error %v does not wrap ErrInvalid", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not say %q", err, tc.want)
			}
		})
	}
}

// TestRulesRoundTrip: what Parse accepts marshals to JSON that parses to
// the same rules, so the dashboard can show back what was stored.
func TestRulesRoundTrip(t *testing.T) {
	in := `{"priority": 3, "default": true, "match": {"channels": ["whatsapp"], "languages": ["de-AT"]}}`
	r, err := routing.Parse(json.RawMessage(in))
	if err != nil {
		t.Fatal(err)
	}
	out, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"priority":3,"default":true,"match":{"channels":["whatsapp"],"languages":["de-AT"]}}`; string(out) != want {
		t.Fatalf("Marshal = %s, want %s", out, want)
	}
}
