package gateway_test

import (
	"encoding/json"
	"fmt"
	"github.com/frontdesk-ai/frontdesk/gateway/openapitest"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/frontdesk-ai/frontdesk/persistence"
)

// The document types come from openapitest, shared with the other service.
type (
	openAPIDoc = openapitest.Doc
	operation  = openapitest.Operation
	schema     = openapitest.Schema
)

// loadOpenAPI fetches the served document without a token.
func loadOpenAPI(t *testing.T, f *fixture) *openAPIDoc {
	t.Helper()
	code, body := f.do("GET", "/api/v1/openapi.json", "", nil)
	if code != http.StatusOK {
		t.Fatalf("GET /api/v1/openapi.json = %d %s", code, body)
	}
	return openapitest.Parse(t, body)
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
		op, ok := doc.Operation(t, r.Method, r.Pattern)
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
		if _, ok := doc.Operation(t, method, path); !ok {
			t.Errorf("public endpoint %s is not in openapi.json", key)
		}
	}
	// Every $ref to a shared response resolves.
	for path, ops := range doc.Paths {
		for method := range ops {
			op, _ := doc.Operation(t, method, path)
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
			doc.CheckResponse(t, ex.method, ex.pattern, code, body)
		})
	}
	if code != 200 {
		t.Fatalf("admin login = %d", code)
	}
	t.Run("login 200", func(t *testing.T) {
		op, _ := doc.Operation(t, "POST", "/api/v1/auth/login")
		var v any
		_ = json.Unmarshal(body, &v)
		if errs := doc.Check(op.Responses["200"].Content["application/json"].Schema, v, "body"); len(errs) > 0 {
			t.Fatalf("login response breaks the schema: %v", errs)
		}
	})
}
