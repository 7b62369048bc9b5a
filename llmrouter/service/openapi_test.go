package service_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/frontdesk-ai/frontdesk/llmrouter/llmtest"
	"github.com/frontdesk-ai/frontdesk/llmrouter/service"
)

// openAPIDoc is the part of an OpenAPI document the tests read.
type openAPIDoc struct {
	OpenAPI    string                                `json:"openapi"`
	Security   []map[string][]string                 `json:"security"`
	Paths      map[string]map[string]json.RawMessage `json:"paths"`
	Components struct {
		Schemas         map[string]*schema         `json:"schemas"`
		Responses       map[string]json.RawMessage `json:"responses"`
		SecuritySchemes map[string]json.RawMessage `json:"securitySchemes"`
	} `json:"components"`
}

type response struct {
	Ref     string `json:"$ref"`
	Content map[string]struct {
		Schema *schema `json:"schema"`
	} `json:"content"`
}

type operation struct {
	Security  *[]map[string][]string `json:"security"`
	Responses map[string]response    `json:"responses"`
}

// schema is the subset of JSON Schema the document uses.
type schema struct {
	Ref        string             `json:"$ref"`
	Type       json.RawMessage    `json:"type"`
	Required   []string           `json:"required"`
	Properties map[string]*schema `json:"properties"`
	Items      *schema            `json:"items"`
	Enum       []any              `json:"enum"`
}

func (s *schema) types() []string {
	var one string
	if json.Unmarshal(s.Type, &one) == nil {
		return []string{one}
	}
	var many []string
	_ = json.Unmarshal(s.Type, &many)
	return many
}

// check reports where v breaks s.
func (d *openAPIDoc) check(s *schema, v any, at string) []string {
	if s.Ref != "" {
		ref, ok := d.Components.Schemas[strings.TrimPrefix(s.Ref, "#/components/schemas/")]
		if !ok {
			return []string{at + ": unresolved $ref " + s.Ref}
		}
		return d.check(ref, v, at)
	}
	if ts := s.types(); len(ts) > 0 && !slices.ContainsFunc(ts, func(t string) bool { return jsonType(v, t) }) {
		return []string{fmt.Sprintf("%s: %v is not of type %v", at, v, ts)}
	}
	if len(s.Enum) > 0 && !slices.Contains(s.Enum, v) {
		return []string{fmt.Sprintf("%s: %v is not one of %v", at, v, s.Enum)}
	}
	var errs []string
	switch v := v.(type) {
	case map[string]any:
		for _, r := range s.Required {
			if _, ok := v[r]; !ok {
				errs = append(errs, at+": missing required "+r)
			}
		}
		for k, sub := range s.Properties {
			if pv, ok := v[k]; ok {
				errs = append(errs, d.check(sub, pv, at+"."+k)...)
			}
		}
	case []any:
		if s.Items != nil {
			for i, item := range v {
				errs = append(errs, d.check(s.Items, item, at+"["+strconv.Itoa(i)+"]")...)
			}
		}
	}
	return errs
}

func jsonType(v any, t string) bool {
	switch t {
	case "null":
		return v == nil
	case "string":
		_, ok := v.(string)
		return ok
	case "boolean":
		_, ok := v.(bool)
		return ok
	case "number":
		_, ok := v.(float64)
		return ok
	case "integer":
		f, ok := v.(float64)
		return ok && f == float64(int64(f))
	case "object":
		_, ok := v.(map[string]any)
		return ok
	case "array":
		_, ok := v.([]any)
		return ok
	}
	return false
}

func loadOpenAPI(t *testing.T, f *fixture) *openAPIDoc {
	t.Helper()
	resp, body := f.do("GET", "/openapi.json", nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /openapi.json = %d %s", resp.StatusCode, body)
	}
	var doc openAPIDoc
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.1") {
		t.Fatalf("openapi = %q, want 3.1.x", doc.OpenAPI)
	}
	return &doc
}

func (d *openAPIDoc) operation(t *testing.T, method, path string) (operation, bool) {
	t.Helper()
	raw, ok := d.Paths[path][strings.ToLower(method)]
	if !ok {
		return operation{}, false
	}
	var op operation
	if err := json.Unmarshal(raw, &op); err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	return op, true
}

// TestOpenAPIRoutes keeps openapi.json and the served routes equal, with
// the right security.
func TestOpenAPIRoutes(t *testing.T) {
	f := newFixture(t, fixtureOpts{cfg: service.Config{APIKey: "k"}})
	doc := loadOpenAPI(t, f)
	if _, ok := doc.Components.SecuritySchemes["bearer"]; !ok || len(doc.Security) != 1 || doc.Security[0]["bearer"] == nil {
		t.Fatalf("no default bearer security: %v", doc.Security)
	}
	served := map[string]bool{}
	for _, r := range f.svc.Routes() {
		key := r.Method + " " + r.Pattern
		served[key] = true
		op, ok := doc.operation(t, r.Method, r.Pattern)
		if !ok {
			t.Errorf("route %s is not in openapi.json", key)
			continue
		}
		public := op.Security != nil && len(*op.Security) == 0
		if public == r.Keyed {
			t.Errorf("%s: documented public = %v, served keyed = %v", key, public, r.Keyed)
		}
		if _, ok := op.Responses["401"]; r.Keyed && !ok {
			t.Errorf("%s: keyed route documents no 401", key)
		}
		for status, resp := range op.Responses {
			if name, ok := strings.CutPrefix(resp.Ref, "#/components/responses/"); ok && doc.Components.Responses[name] == nil {
				t.Errorf("%s %s: unresolved %s", key, status, resp.Ref)
			}
		}
		// Actually answered as documented: not 404 or 405.
		resp, body := f.do(r.Method, r.Pattern, nil, "Authorization", "Bearer k")
		if resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusMethodNotAllowed {
			t.Errorf("%s answers %d %s", key, resp.StatusCode, body)
		}
	}
	for path, ops := range doc.Paths {
		for method := range ops {
			if key := strings.ToUpper(method) + " " + path; !served[key] {
				t.Errorf("openapi.json documents %s, which is not served", key)
			}
		}
	}
}

// TestOpenAPIResponses sends real requests and checks each answer against
// the schema the document gives for its status.
func TestOpenAPIResponses(t *testing.T) {
	f := newFixture(t, fixtureOpts{cfg: service.Config{APIKey: "k", MaxBodyBytes: 8 << 10}})
	doc := loadOpenAPI(t, f)
	f.llm.Script(llmtest.ToolCalls(llmtest.Call{Name: "get_order", Arguments: `{"id":"1"}`}), llmtest.Text("hi"),
		llmtest.Error(http.StatusBadRequest, "nope"))
	key := "Bearer k"
	for _, ex := range []struct {
		method, path string
		auth         string
		body         any
		want         int
	}{
		{"POST", "/llm/infer", key, inferBody(nil), 200},
		{"POST", "/v1/chat/completions", key, chatBody(nil), 200},
		{"POST", "/llm/infer", key, inferBody(nil), 400},
		{"POST", "/llm/infer", key, inferBody(map[string]any{"tenant_id": ""}), 400},
		{"POST", "/llm/infer", key, `{"tenant_id":"` + strings.Repeat("x", 9<<10) + `"}`, 413},
		{"POST", "/llm/infer", "", inferBody(nil), 401},
		{"POST", "/v1/chat/completions", key, chatBody(map[string]any{"n": 3}), 400},
		{"POST", "/v1/embeddings", key, map[string]any{"input": "x"}, 501},
		{"GET", "/v1/models", key, nil, 200},
		{"GET", "/v1/models", "", nil, 401},
	} {
		t.Run(fmt.Sprint(ex.method, " ", ex.path, " ", ex.want), func(t *testing.T) {
			resp, body := f.do(ex.method, ex.path, ex.body, "Authorization", ex.auth)
			if resp.StatusCode != ex.want {
				t.Fatalf("status = %d %s, want %d", resp.StatusCode, body, ex.want)
			}
			op, ok := doc.operation(t, ex.method, ex.path)
			if !ok {
				t.Fatalf("%s %s not documented", ex.method, ex.path)
			}
			r, ok := op.Responses[strconv.Itoa(resp.StatusCode)]
			if !ok {
				t.Fatalf("status %d not documented", resp.StatusCode)
			}
			if name, ok := strings.CutPrefix(r.Ref, "#/components/responses/"); ok {
				if err := json.Unmarshal(doc.Components.Responses[name], &r); err != nil {
					t.Fatal(err)
				}
			}
			media, ok := r.Content["application/json"]
			if !ok || media.Schema == nil {
				t.Fatalf("status %d documents no JSON schema", resp.StatusCode)
			}
			var v any
			if err := json.Unmarshal(body, &v); err != nil {
				t.Fatalf("body %s: %v", body, err)
			}
			if errs := doc.check(media.Schema, v, "body"); len(errs) > 0 {
				t.Fatalf("answer breaks the documented schema:\n%s\nbody: %s", strings.Join(errs, "\n"), body)
			}
		})
	}
}
