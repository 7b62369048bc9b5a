package routing_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"

	"github.com/frontdesk-ai/frontdesk/persistence"
	"github.com/frontdesk-ai/frontdesk/routing"
)

// FuzzParse: Parse never panics, refuses only with ErrInvalid, and what it
// accepts marshals back to rules that parse the same and that Choose can
// use.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		``, `null`, `{}`, `[]`, `"x"`, `{"priority": 10}`, `{"priority": -1e3}`, `{"default": true}`,
		`{"match": {}}`, `{"match": {"channels": ["whatsapp"], "languages": ["pt-BR", "de"]}}`,
		`{"match": {"customer_tags_any": ["vip"], "customer_tags_all": ["a", "b"], "channel_accounts": ["1"]}}`,
		`{"prefer": "fast"}`, `{"match": {"languages": ["german"]}}`, `{"priority": 1.5}`, `{"match": null}`,
		`{"priority": 1} x`, `{"match": {"channels": [1]}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		r, err := routing.Parse(raw)
		if err != nil {
			if !errors.Is(err, routing.ErrInvalid) {
				t.Fatalf("Parse(%q) error %v does not wrap ErrInvalid", raw, err)
			}
			return
		}
		out, err := json.Marshal(r)
		if err != nil {
			t.Fatalf("Marshal(%+v): %v", r, err)
		}
		again, err := routing.Parse(out)
		if err != nil {
			t.Fatalf("Parse(%s) of Parse(%q) refused: %v", out, raw, err)
		}
		if !reflect.DeepEqual(r, again) {
			t.Fatalf("round trip of %q: %+v, then %+v", raw, r, again)
		}
		p := persistence.AgentProfile{Base: persistence.Base{ID: "p"}, Routing: raw}
		if id, _ := routing.Choose([]persistence.AgentProfile{p}, routing.Input{Channel: "whatsapp", Language: "de"}); id != "p" {
			t.Fatalf("Choose of the only profile = %q", id)
		}
	})
}
