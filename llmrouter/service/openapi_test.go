package service_test

import (
	"fmt"
	"github.com/frontdesk-ai/frontdesk/gateway/openapitest"
	"net/http"
	"strings"
	"testing"

	"github.com/frontdesk-ai/frontdesk/llmrouter/llmtest"
	"github.com/frontdesk-ai/frontdesk/llmrouter/service"
)

// The document types come from openapitest, shared with the other service.
type (
	openAPIDoc = openapitest.Doc
	operation  = openapitest.Operation
	schema     = openapitest.Schema
)

func loadOpenAPI(t *testing.T, f *fixture) *openAPIDoc {
	t.Helper()
	resp, body := f.do("GET", "/openapi.json", nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /openapi.json = %d %s", resp.StatusCode, body)
	}
	return openapitest.Parse(t, body)
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
		op, ok := doc.Operation(t, r.Method, r.Pattern)
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
			doc.CheckResponse(t, ex.method, ex.path, resp.StatusCode, body)
		})
	}
}
