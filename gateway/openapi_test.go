package gateway_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/frontdesk-ai/frontdesk/persistence"
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

type operation struct {
	Security  *[]map[string][]string `json:"security"`
	Responses map[string]struct {
		Ref     string `json:"$ref"`
		Content map[string]struct {
			Schema *schema `json:"schema"`
		} `json:"content"`
	} `json:"responses"`
}

// schema is the subset of JSON Schema the document uses.
type schema struct {
	Ref        string             `json:"$ref"`
	Type       json.RawMessage    `json:"type"`
	Required   []string           `json:"required"`
	Properties map[string]*schema `json:"properties"`
	Items      *schema            `json:"items"`
	Enum       []any              `json:"enum"`
	Format     string             `json:"format"`
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

// check reports where v breaks s: a missing required field, a wrong type,
// a value outside an enum, a date-time that does not parse.
func (d *openAPIDoc) check(s *schema, v any, at string) []string {
	if s.Ref != "" {
		name := strings.TrimPrefix(s.Ref, "#/components/schemas/")
		ref, ok := d.Components.Schemas[name]
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
	case string:
		if s.Format == "date-time" {
			if _, err := time.Parse(time.RFC3339Nano, v); err != nil {
				errs = append(errs, fmt.Sprintf("%s: %q is not a date-time", at, v))
			}
		}
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

// loadOpenAPI fetches the served document without a token.
func loadOpenAPI(t *testing.T, f *fixture) *openAPIDoc {
	t.Helper()
	code, body := f.do("GET", "/api/v1/openapi.json", "", nil)
	if code != http.StatusOK {
		t.Fatalf("GET /api/v1/openapi.json = %d %s", code, body)
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

// TestOpenAPIRoutes keeps openapi.json and the registered routes equal:
// every route is documented with the right security, every documented
// /api/v1 operation is registered, and the public endpoints are there.
func TestOpenAPIRoutes(t *testing.T) {
	f := newFixture(t, "sqlite")
	doc := loadOpenAPI(t, f)
	if _, ok := doc.Components.SecuritySchemes["bearer"]; !ok {
		t.Fatal("no bearer security scheme")
	}
	if len(doc.Security) != 1 || doc.Security[0]["bearer"] == nil {
		t.Fatalf("default security = %v, want bearer", doc.Security)
	}

	registered := map[string]bool{}
	for _, r := range f.api.Routes() {
		key := r.Method + " " + r.Pattern
		registered[key] = true
		op, ok := doc.operation(t, r.Method, r.Pattern)
		if !ok {
			t.Errorf("route %s is not in openapi.json", key)
			continue
		}
		public := op.Security != nil && len(*op.Security) == 0
		if public != (len(r.Roles) == 0) {
			t.Errorf("%s: documented public = %v, registered roles %v", key, public, r.Roles)
		}
		if len(r.Roles) > 0 {
			if _, ok := op.Responses["401"]; !ok {
				t.Errorf("%s: protected route documents no 401", key)
			}
			all := len(r.Roles) == 4
			if _, ok := op.Responses["403"]; !ok && !all {
				t.Errorf("%s: route limited to %v documents no 403", key, r.Roles)
			}
		}
	}
	for path, ops := range doc.Paths {
		for method := range ops {
			key := strings.ToUpper(method) + " " + path
			if strings.HasPrefix(path, "/api/v1/") && !registered[key] {
				t.Errorf("openapi.json documents %s, which is not registered", key)
			}
		}
	}
	for _, key := range []string{"GET /healthz", "GET /readyz", "GET /metrics", "GET /webhooks/whatsapp", "POST /webhooks/whatsapp", "GET /ws"} {
		method, path, _ := strings.Cut(key, " ")
		if _, ok := doc.operation(t, method, path); !ok {
			t.Errorf("public endpoint %s is not in openapi.json", key)
		}
	}
	// Every $ref to a shared response resolves.
	for path, ops := range doc.Paths {
		for method := range ops {
			op, _ := doc.operation(t, method, path)
			for status, resp := range op.Responses {
				if name, ok := strings.CutPrefix(resp.Ref, "#/components/responses/"); ok && doc.Components.Responses[name] == nil {
					t.Errorf("%s %s %s: unresolved %s", method, path, status, resp.Ref)
				}
			}
		}
	}
}

// TestOpenAPIResponses sends real requests and checks each answer against
// the schema the document gives for its status.
func TestOpenAPIResponses(t *testing.T) {
	f := newFixture(t, "sqlite")
	doc := loadOpenAPI(t, f)
	tn := f.tenant("acme")
	f.user(tn, "admin@example.com", persistence.RoleAdmin)
	f.user(tn, "agent@example.com", persistence.RoleAgent)
	agentTok := f.login("agent@example.com")
	cust := f.customer(tn, "Zoe")
	conv := f.conversation(tn, cust.ID, time.Now())
	f.message(conv, "hello", time.Now())

	code, body := f.do("POST", "/api/v1/auth/login", "", map[string]string{"email": "admin@example.com", "password": password})
	var login struct{ Token string }
	_ = json.Unmarshal(body, &login)

	type exchange struct {
		method, path, pattern string
		token                 string
		body                  any
		want                  int
	}
	for _, ex := range []exchange{
		{"GET", "/api/v1/me", "/api/v1/me", login.Token, nil, 200},
		{"GET", "/api/v1/conversations?limit=1", "/api/v1/conversations", login.Token, nil, 200},
		{"GET", "/api/v1/conversations/" + conv.ID, "/api/v1/conversations/{id}", login.Token, nil, 200},
		{"GET", "/api/v1/conversations/" + conv.ID + "/messages", "/api/v1/conversations/{id}/messages", login.Token, nil, 200},
		{"GET", "/api/v1/customers/" + cust.ID, "/api/v1/customers/{id}", login.Token, nil, 200},
		{"GET", "/api/v1/users?limit=1", "/api/v1/users", login.Token, nil, 200},
		{"POST", "/api/v1/users", "/api/v1/users", login.Token, map[string]string{"email": "n@example.com", "name": "N", "role": "analyst", "password": password}, 201},
		{"POST", "/api/v1/users", "/api/v1/users", agentTok, map[string]string{}, 403},
		{"POST", "/api/v1/users", "/api/v1/users", login.Token, map[string]string{"email": "n@example.com", "name": "N", "role": "analyst", "password": password}, 409},
		{"GET", "/api/v1/conversations/nope", "/api/v1/conversations/{id}", login.Token, nil, 404},
		{"GET", "/api/v1/conversations?limit=x", "/api/v1/conversations", login.Token, nil, 400},
		{"GET", "/api/v1/me", "/api/v1/me", "", nil, 401},
		{"POST", "/api/v1/auth/login", "/api/v1/auth/login", "", map[string]string{"email": "x@example.com", "password": "y"}, 401},
	} {
		t.Run(fmt.Sprint(ex.method, " ", ex.path, " ", ex.want), func(t *testing.T) {
			code, body := f.do(ex.method, ex.path, ex.token, ex.body)
			if code != ex.want {
				t.Fatalf("status = %d %s, want %d", code, body, ex.want)
			}
			op, ok := doc.operation(t, ex.method, ex.pattern)
			if !ok {
				t.Fatalf("%s %s not documented", ex.method, ex.pattern)
			}
			resp, ok := op.Responses[strconv.Itoa(code)]
			if !ok {
				t.Fatalf("status %d not documented", code)
			}
			if name, ok := strings.CutPrefix(resp.Ref, "#/components/responses/"); ok {
				if err := json.Unmarshal(doc.Components.Responses[name], &resp); err != nil {
					t.Fatal(err)
				}
			}
			media, ok := resp.Content["application/json"]
			if !ok || media.Schema == nil {
				t.Fatalf("status %d documents no JSON schema", code)
			}
			var v any
			if err := json.Unmarshal(body, &v); err != nil {
				t.Fatalf("body %s: %v", body, err)
			}
			if errs := doc.check(media.Schema, v, "body"); len(errs) > 0 {
				t.Fatalf("response breaks the documented schema:\n%s\nbody: %s", strings.Join(errs, "\n"), body)
			}
		})
	}
	if code != 200 {
		t.Fatalf("admin login = %d", code)
	}
	t.Run("login 200", func(t *testing.T) {
		op, _ := doc.operation(t, "POST", "/api/v1/auth/login")
		var v any
		_ = json.Unmarshal(body, &v)
		if errs := doc.check(op.Responses["200"].Content["application/json"].Schema, v, "body"); len(errs) > 0 {
			t.Fatalf("login response breaks the schema: %v", errs)
		}
	})
}
