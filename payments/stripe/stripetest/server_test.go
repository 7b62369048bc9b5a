package stripetest_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/frontdesk-ai/frontdesk/payments/stripe/stripetest"
)

const key = "sk_test_51Fake000000000000000000abcd"

// answer is a decoded reply of the fake.
type answer struct {
	status int
	header http.Header
	body   map[string]any
}

// do sends one request to the fake, form-encoded like Stripe's clients.
func do(t *testing.T, s *stripetest.Server, method, path string, form url.Values, header map[string]string) answer {
	t.Helper()
	var body io.Reader
	u := s.URL() + path
	if method == http.MethodGet {
		u += "?" + form.Encode()
	} else {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+key)
	if method == http.MethodPost {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	a := answer{status: resp.StatusCode, header: resp.Header}
	if err := json.NewDecoder(resp.Body).Decode(&a.body); err != nil {
		t.Fatalf("answer is not JSON: %v", err)
	}
	return a
}

// errorOf is the answer's error object.
func errorOf(a answer) map[string]any {
	e, _ := a.body["error"].(map[string]any)
	return e
}

func session(amount string) url.Values {
	return url.Values{
		"mode":                                          {"payment"},
		"success_url":                                   {"https://example.com/done"},
		"client_reference_id":                           {"ref_1"},
		"line_items[0][quantity]":                       {"1"},
		"line_items[0][price_data][currency]":           {"eur"},
		"line_items[0][price_data][unit_amount]":        {amount},
		"line_items[0][price_data][product_data][name]": {"Balance"},
	}
}

func TestUnauthorizedHasStripesErrorShape(t *testing.T) {
	s := stripetest.New(t, key)
	for name, auth := range map[string]string{"no key": "", "wrong key": "Bearer sk_test_51Other0000000000000000wxyz"} {
		t.Run(name, func(t *testing.T) {
			a := do(t, s, http.MethodGet, "/v1/checkout/sessions", nil, map[string]string{"Authorization": auth})
			e := errorOf(a)
			if a.status != 401 || e["type"] != "invalid_request_error" || e["message"] == "" {
				t.Fatalf("%d %v", a.status, a.body)
			}
			if strings.Contains(e["message"].(string), "Other0000") {
				t.Fatalf("the key is not redacted: %v", e["message"])
			}
		})
	}
	req, _ := http.NewRequest(http.MethodGet, s.URL()+"/v1/checkout/sessions", nil)
	req.SetBasicAuth(key, "")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("basic auth with the key: %d", resp.StatusCode)
	}
}

func TestIdempotencyLayer(t *testing.T) {
	s := stripetest.New(t, key)
	k := map[string]string{"Idempotency-Key": "k1"}
	first := do(t, s, http.MethodPost, "/v1/checkout/sessions", session("1000"), k)
	again := do(t, s, http.MethodPost, "/v1/checkout/sessions", session("1000"), k)
	if first.status != 200 || again.status != 200 || again.body["id"] != first.body["id"] || again.header.Get("Idempotent-Replayed") != "true" ||
		first.header.Get("Idempotent-Replayed") != "" || again.header.Get("Original-Request") != first.header.Get("Request-Id") {
		t.Fatalf("first %d %v, again %d %v %v", first.status, first.body["id"], again.status, again.body["id"], again.header)
	}
	other := do(t, s, http.MethodPost, "/v1/checkout/sessions", session("2000"), k)
	if e := errorOf(other); other.status != 400 || e["type"] != "idempotency_error" {
		t.Fatalf("other parameters: %d %v", other.status, other.body)
	}
	// A request refused in validation keeps nothing for its key.
	bad := session("1000")
	bad.Set("colour", "blue")
	k2 := map[string]string{"Idempotency-Key": "k2"}
	if a := do(t, s, http.MethodPost, "/v1/checkout/sessions", bad, k2); a.status != 400 || errorOf(a)["code"] != "parameter_unknown" || errorOf(a)["param"] != "colour" {
		t.Fatalf("unknown parameter: %d %v", a.status, a.body)
	}
	if a := do(t, s, http.MethodPost, "/v1/checkout/sessions", session("1000"), k2); a.status != 200 {
		t.Fatalf("the key of a refused request: %d %v", a.status, a.body)
	}
	if n := s.SessionsCreated(); n != 2 {
		t.Fatalf("%d sessions, want 2", n)
	}
}

func TestCreateSessionValidates(t *testing.T) {
	s := stripetest.New(t, key)
	for name, tc := range map[string]struct {
		edit  func(url.Values)
		code  string
		param string
	}{
		"no success url":      {func(f url.Values) { f.Del("success_url") }, "parameter_missing", "success_url"},
		"no quantity":         {func(f url.Values) { f.Del("line_items[0][quantity]") }, "parameter_missing", "line_items[0][quantity]"},
		"upper-case currency": {func(f url.Values) { f.Set("line_items[0][price_data][currency]", "EUR") }, "parameter_invalid_empty", "line_items[0][price_data][currency]"},
		"fractional krona": {func(f url.Values) {
			f.Set("line_items[0][price_data][currency]", "isk")
			f.Set("line_items[0][price_data][unit_amount]", "150")
		}, "invalid_charge_amount_no_decimal_compatible", "line_items[0][price_data][unit_amount]"},
		"no product name": {func(f url.Values) { f.Del("line_items[0][price_data][product_data][name]") }, "parameter_missing", "line_items[0][price_data][product_data][name]"},
		"long metadata":   {func(f url.Values) { f.Set("metadata[note]", strings.Repeat("x", 501)) }, "parameter_invalid_string", "metadata[note]"},
	} {
		t.Run(name, func(t *testing.T) {
			f := session("1000")
			tc.edit(f)
			a := do(t, s, http.MethodPost, "/v1/checkout/sessions", f, nil)
			if e := errorOf(a); a.status != 400 || e["code"] != tc.code || e["param"] != tc.param {
				t.Fatalf("%d %v", a.status, a.body)
			}
		})
	}
	if a := do(t, s, http.MethodPost, "/v1/checkout/sessions", nil, map[string]string{"Content-Type": "application/json"}); a.status != 400 {
		t.Fatalf("a JSON body: %d", a.status)
	}
	if n := s.SessionsCreated(); n != 0 {
		t.Fatalf("%d sessions created from bad requests", n)
	}
}

func TestListPagesNewestFirst(t *testing.T) {
	s := stripetest.New(t, key)
	var ids []string
	for range 5 {
		ids = append(ids, do(t, s, http.MethodPost, "/v1/checkout/sessions", session("1000"), nil).body["id"].(string))
	}
	page := func(q url.Values) ([]string, bool) {
		a := do(t, s, http.MethodGet, "/v1/checkout/sessions", q, nil)
		if a.status != 200 || a.body["object"] != "list" || a.body["url"] != "/v1/checkout/sessions" {
			t.Fatalf("%d %v", a.status, a.body)
		}
		var got []string
		for _, o := range a.body["data"].([]any) {
			got = append(got, o.(map[string]any)["id"].(string))
		}
		return got, a.body["has_more"].(bool)
	}
	got, more := page(url.Values{"limit": {"2"}})
	if strings.Join(got, ",") != ids[4]+","+ids[3] || !more {
		t.Fatalf("first page %v %v", got, more)
	}
	got, more = page(url.Values{"limit": {"2"}, "starting_after": {ids[3]}})
	if strings.Join(got, ",") != ids[2]+","+ids[1] || !more {
		t.Fatalf("second page %v %v", got, more)
	}
	got, more = page(url.Values{"limit": {"2"}, "starting_after": {ids[1]}})
	if strings.Join(got, ",") != ids[0] || more {
		t.Fatalf("last page %v %v", got, more)
	}
	got, more = page(url.Values{"limit": {"2"}, "ending_before": {ids[1]}})
	if strings.Join(got, ",") != ids[3]+","+ids[2] || !more {
		t.Fatalf("page before %v %v", got, more)
	}
	if got, _ = page(url.Values{"created[gt]": {"4102444800"}}); len(got) != 0 {
		t.Fatalf("created in 2100: %v", got)
	}
	if a := do(t, s, http.MethodGet, "/v1/checkout/sessions", url.Values{"metadata[x]": {"y"}}, nil); a.status != 400 || errorOf(a)["code"] != "parameter_unknown" {
		t.Fatalf("filtering by metadata, which Stripe's list cannot: %d %v", a.status, a.body)
	}
}

func TestRetrieveAndUnknownRoutes(t *testing.T) {
	s := stripetest.New(t, key)
	id := do(t, s, http.MethodPost, "/v1/checkout/sessions", session("1000"), nil).body["id"].(string)
	if a := do(t, s, http.MethodGet, "/v1/checkout/sessions/"+id, nil, nil); a.status != 200 || a.body["object"] != "checkout.session" ||
		a.body["url"] != "https://checkout.stripe.com/c/pay/"+id || a.body["payment_intent"] != nil {
		t.Fatalf("retrieve: %d %v", a.status, a.body)
	}
	if a := do(t, s, http.MethodGet, "/v1/checkout/sessions/cs_nope", nil, nil); a.status != 404 || errorOf(a)["code"] != "resource_missing" {
		t.Fatalf("unknown session: %d %v", a.status, a.body)
	}
	if a := do(t, s, http.MethodGet, "/v1/customers", nil, nil); a.status != 404 {
		t.Fatalf("unknown route: %d", a.status)
	}
	if a := do(t, s, http.MethodPost, "/v1/checkout/sessions/"+id+"/expire", nil, nil); a.status != 200 || a.body["status"] != "expired" || a.body["url"] != nil {
		t.Fatalf("expire: %d %v", a.status, a.body)
	}
	if _, err := s.Pay(id); err == nil {
		t.Fatal("paid an expired session")
	}
}
