package gateway

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
)

type strictTarget struct {
	Name  string          `json:"name"`
	Tags  []string        `json:"tags"`
	Meta  map[string]any  `json:"meta"`
	Raw   json.RawMessage `json:"raw"`
	Inner *struct {
		A int `json:"a"`
	} `json:"inner"`
}

func TestDecodeStrictJSON(t *testing.T) {
	deep := func(n int) string { return strings.Repeat("[", n) + strings.Repeat("]", n) }
	deepObj := func(n int) string {
		return `{"meta":` + strings.Repeat(`{"x":`, n-1) + "1" + strings.Repeat("}", n)
	}
	for _, tc := range []struct {
		name, body string
		wantErr    string // substring of the 400's message; "" = accepted
	}{
		{"ok", `{"name":"a","tags":["x"],"inner":{"a":1}}`, ""},
		{"ok with whitespace after", "{\"name\":\"a\"}\n\t ", ""},
		{"map field takes any key", `{"meta":{"anything":1,"else":{"x":[1,2]}}}`, ""},
		{"same key in sibling objects", `{"meta":{"a":{"k":1},"b":{"k":2}},"inner":{"a":1}}`, ""},
		{"value equal to a key", `{"name":"name","tags":["name","name"]}`, ""},
		{"depth 32", `{"raw":` + deep(31) + `}`, ""},
		{"unknown field", `{"name":"a","admin":true}`, `unknown field "admin"`},
		{"unknown nested field", `{"inner":{"a":1,"b":2}}`, `unknown field "b"`},
		{"duplicate key", `{"name":"a","name":"b"}`, `key "name" appears twice`},
		{"duplicate key after escape", `{"name":"a","na\u006de":"b"}`, `key "name" appears twice`},
		{"duplicate key nested in a map", `{"meta":{"k":1,"k":2}}`, `key "k" appears twice`},
		{"duplicate key inside raw", `{"raw":[{"k":1,"k":2}]}`, `key "k" appears twice`},
		{"depth 33 arrays", `{"raw":` + deep(32) + `}`, "nested deeper than 32"},
		{"depth 32 objects", deepObj(32), ""},
		{"depth 33 objects", deepObj(33), "nested deeper than 32"},
		{"very deep", deep(100000), "nested deeper than 32"},
		{"trailing value", `{"name":"a"}{"name":"b"}`, "more than one value"},
		{"trailing garbage", `{"name":"a"} x`, "malformed JSON body"},
		{"trailing brace", `{"name":"a"}}`, "malformed JSON body"},
		{"empty", ``, "malformed JSON body"},
		{"truncated", `{"name":`, "malformed JSON body"},
		{"wrong type", `{"name":1}`, "malformed JSON body"},
		{"scalar with trailing data", `1 2`, "more than one value"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var v strictTarget
			err := decodeStrictJSON([]byte(tc.body), &v)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			var e *Error
			if !errors.As(err, &e) || e.Status != http.StatusBadRequest {
				t.Fatalf("err = %v, want a 400 *Error", err)
			}
			if !strings.Contains(e.Message, tc.wantErr) {
				t.Fatalf("message = %q, want it to contain %q", e.Message, tc.wantErr)
			}
		})
	}
}

// FuzzDecodeStrictJSON holds the strict decoder to encoding/json: whatever
// it accepts, encoding/json accepts too and decodes to the same value, and
// it never panics.
func FuzzDecodeStrictJSON(f *testing.F) {
	for _, s := range []string{
		`{"name":"a","tags":["x"],"inner":{"a":1}}`, `{"name":"a","name":"b"}`, `{"meta":{"k":{"k":[1,{"k":2}]}}}`,
		`[[[[]]]]`, `{"raw":null}`, `"x"`, `{"name":"a"} {}`, `{"na\u006de":"b"}`, `{"inner":{"b":2}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var strict strictTarget
		if decodeStrictJSON(data, &strict) != nil {
			return
		}
		var loose strictTarget
		if err := json.Unmarshal(data, &loose); err != nil {
			t.Fatalf("strict accepted what encoding/json refuses: %q: %v", data, err)
		}
		a, _ := json.Marshal(strict)
		b, _ := json.Marshal(loose)
		if string(a) != string(b) {
			t.Fatalf("strict and loose differ on %q: %s vs %s", data, a, b)
		}
	})
}
