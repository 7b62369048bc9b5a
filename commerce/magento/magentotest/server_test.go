package magentotest_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/frontdesk-ai/frontdesk/commerce/magento/magentotest"
)

func get(t *testing.T, srv *magentotest.Server, token, path string, q url.Values) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, srv.URL()+path+"?"+q.Encode(), nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, out
}

func ids(out map[string]any) []float64 {
	var got []float64
	for _, it := range out["items"].([]any) {
		got = append(got, it.(map[string]any)["entity_id"].(float64))
	}
	return got
}

func TestSearchCriteria(t *testing.T) {
	srv := magentotest.NewServer(t, "tok")
	base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := 1; i <= 5; i++ {
		srv.AddOrder(magentotest.OrderSpec{EntityID: int64(i), GrandTotal: "1", Currency: "USD", UpdatedAt: base.Add(time.Duration(6-i) * time.Hour)})
	}
	q := url.Values{
		// Two filters in one group are OR; groups are AND.
		"searchCriteria[filter_groups][0][filters][0][field]":          {"increment_id"},
		"searchCriteria[filter_groups][0][filters][0][value]":          {"000000001"},
		"searchCriteria[filter_groups][0][filters][1][field]":          {"entity_id"},
		"searchCriteria[filter_groups][0][filters][1][value]":          {"3,4,5"},
		"searchCriteria[filter_groups][0][filters][1][condition_type]": {"in"},
		"searchCriteria[filter_groups][1][filters][0][field]":          {"updated_at"},
		"searchCriteria[filter_groups][1][filters][0][value]":          {"2024-01-01 02:00:00"},
		"searchCriteria[filter_groups][1][filters][0][condition_type]": {"gteq"},
		"searchCriteria[sortOrders][0][field]":                         {"updated_at"},
		"searchCriteria[sortOrders][0][direction]":                     {"ASC"},
		"searchCriteria[pageSize]":                                     {"2"},
		"searchCriteria[currentPage]":                                  {"1"},
	}
	code, out := get(t, srv, "tok", "/V1/orders", q)
	// Orders 1, 3, 4 pass (updated 5 h, 3 h, 2 h after base); oldest first.
	if code != 200 || out["total_count"].(float64) != 3 || len(ids(out)) != 2 || ids(out)[0] != 4 || ids(out)[1] != 3 {
		t.Fatalf("page 1: %d %v ids %v", code, out["total_count"], ids(out))
	}
	sc := out["search_criteria"].(map[string]any)
	if g := sc["filter_groups"].([]any); len(g) != 2 || g[1].(map[string]any)["filters"].([]any)[0].(map[string]any)["condition_type"] != "gteq" || sc["page_size"] != float64(2) {
		t.Errorf("search_criteria echoed as %v", sc)
	}
	q.Set("searchCriteria[currentPage]", "9")
	if _, out := get(t, srv, "tok", "/V1/orders", q); len(ids(out)) != 1 || ids(out)[0] != 1 {
		t.Fatalf("a page past the end is the last page, got %v", ids(out))
	}
	q.Set("searchCriteria[filter_groups][1][filters][0][field]", "grand_total")
	if code, out := get(t, srv, "tok", "/V1/orders", q); code != http.StatusBadRequest || out["message"] == nil {
		t.Fatalf("unknown column: %d %v", code, out)
	}
	if code, _ := get(t, srv, "wrong", "/V1/orders", nil); code != http.StatusUnauthorized {
		t.Fatalf("wrong token: %d", code)
	}
	if code, _ := get(t, srv, "tok", "/V1/products", nil); code != http.StatusNotFound {
		t.Fatalf("unknown route: %d", code)
	}
	if srv.Requests() != 5 {
		t.Fatalf("%d requests recorded", srv.Requests())
	}
}
