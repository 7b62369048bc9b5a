// Package openapitest reads an OpenAPI 3.1 document in tests and checks JSON
// values against its schemas, so a test can keep a served document true to
// the routes and responses it describes. It understands the subset of JSON
// Schema frontdesk's documents use: $ref to components, type (one or a
// list), required, properties, items, enum and the date-time format.
package openapitest

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Doc is the part of an OpenAPI document the tests read.
type Doc struct {
	OpenAPI    string                                `json:"openapi"`
	Security   []map[string][]string                 `json:"security"`
	Paths      map[string]map[string]json.RawMessage `json:"paths"`
	Components struct {
		Schemas         map[string]*Schema         `json:"schemas"`
		Responses       map[string]json.RawMessage `json:"responses"`
		SecuritySchemes map[string]json.RawMessage `json:"securitySchemes"`
	} `json:"components"`
}

// Response is one documented response of an operation.
type Response struct {
	Ref     string `json:"$ref"`
	Content map[string]struct {
		Schema *Schema `json:"schema"`
	} `json:"content"`
}

// Operation is one documented method of a path.
type Operation struct {
	Security  *[]map[string][]string `json:"security"`
	Responses map[string]Response    `json:"responses"`
}

// Schema is the subset of JSON Schema the documents use.
type Schema struct {
	Ref        string             `json:"$ref"`
	Type       json.RawMessage    `json:"type"`
	Required   []string           `json:"required"`
	Properties map[string]*Schema `json:"properties"`
	Items      *Schema            `json:"items"`
	Enum       []any              `json:"enum"`
	Format     string             `json:"format"`
}

func (s *Schema) types() []string {
	var one string
	if json.Unmarshal(s.Type, &one) == nil {
		return []string{one}
	}
	var many []string
	_ = json.Unmarshal(s.Type, &many)
	return many
}

// Parse decodes a served document and fails the test unless it is OpenAPI 3.1.
func Parse(t testing.TB, body []byte) *Doc {
	t.Helper()
	var doc Doc
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.1") {
		t.Fatalf("openapi = %q, want 3.1.x", doc.OpenAPI)
	}
	return &doc
}

// Operation returns the documented operation of method and path.
func (d *Doc) Operation(t testing.TB, method, path string) (Operation, bool) {
	t.Helper()
	raw, ok := d.Paths[path][strings.ToLower(method)]
	if !ok {
		return Operation{}, false
	}
	var op Operation
	if err := json.Unmarshal(raw, &op); err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	return op, true
}

// CheckResponse fails the test unless method and pattern document status
// with a JSON schema (directly or through components/responses) that body
// satisfies.
func (d *Doc) CheckResponse(t testing.TB, method, pattern string, status int, body []byte) {
	t.Helper()
	op, ok := d.Operation(t, method, pattern)
	if !ok {
		t.Fatalf("%s %s not documented", method, pattern)
	}
	resp, ok := op.Responses[strconv.Itoa(status)]
	if !ok {
		t.Fatalf("%s %s: status %d not documented", method, pattern, status)
	}
	if name, ok := strings.CutPrefix(resp.Ref, "#/components/responses/"); ok {
		if err := json.Unmarshal(d.Components.Responses[name], &resp); err != nil {
			t.Fatal(err)
		}
	}
	media, ok := resp.Content["application/json"]
	if !ok || media.Schema == nil {
		t.Fatalf("%s %s: status %d documents no JSON schema", method, pattern, status)
	}
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatalf("body %s: %v", body, err)
	}
	if errs := d.Check(media.Schema, v, "body"); len(errs) > 0 {
		t.Fatalf("response breaks the documented schema:\n%s\nbody: %s", strings.Join(errs, "\n"), body)
	}
}

// Check reports where v breaks s: a missing required field, a wrong type,
// a value outside an enum, a date-time that does not parse.
func (d *Doc) Check(s *Schema, v any, at string) []string {
	if s.Ref != "" {
		name := strings.TrimPrefix(s.Ref, "#/components/schemas/")
		ref, ok := d.Components.Schemas[name]
		if !ok {
			return []string{at + ": unresolved $ref " + s.Ref}
		}
		return d.Check(ref, v, at)
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
				errs = append(errs, d.Check(sub, pv, at+"."+k)...)
			}
		}
	case []any:
		if s.Items != nil {
			for i, item := range v {
				errs = append(errs, d.Check(s.Items, item, at+"["+strconv.Itoa(i)+"]")...)
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
