package magentotest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// StorePath is the REST path of the fake's store view.
const StorePath = "/rest/default"

// Request is one request Server received, recorded before it is answered.
type Request struct {
	Method, Path string
	Query        url.Values
	// Token is the bearer token of the Authorization header.
	Token string
}

// Server is a fake Magento REST API for one store: GET /V1/orders, GET
// /V1/customers/search, GET /V1/invoices and GET /V1/creditmemos answer
// searchCriteria (filters on updated_at, created_at, increment_id,
// entity_id, order_id and email with eq, neq, gt, gteq, lt, lteq and in; a
// sort order; pages that, like Magento's, repeat the last page past the
// end); GET /V1/orders/{id} and GET /V1/creditmemo/{id} answer one entity;
// the refund services POST /V1/order/{id}/refund and POST
// /V1/invoice/{id}/refund make credit memos (see refunds.go). All to the
// right bearer token; HTTP 401 to any other.
type Server struct {
	srv   *httptest.Server
	token string

	mu         sync.Mutex
	orders     []OrderSpec
	customers  []CustomerSpec
	received   []Request
	tooMany    int
	retryAfter int
	fail       int
	failStatus int

	creditMemos []CreditMemoSpec
	refundCalls []RefundCall
	nextID      int64
	// refuse answers the next refund with HTTP 400 and it; failAfter
	// answers the next refund HTTP failAfter after making it.
	refuse           *errorBody
	failAfter        int
	refundFail       int
	refundFailStatus int
}

// NewServer starts a Server accepting token; it stops when t ends.
func NewServer(t testing.TB, token string) *Server {
	s := &Server{token: token, nextID: 900}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.srv.Close)
	return s
}

// URL is the BaseURL to configure a client with.
func (s *Server) URL() string { return s.srv.URL + StorePath }

// AddOrder stores an order (replacing one with the same EntityID).
func (s *Server) AddOrder(o OrderSpec) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.orders = slices.DeleteFunc(s.orders, func(x OrderSpec) bool { return x.EntityID == o.EntityID })
	s.orders = append(s.orders, o)
}

// AddCustomer stores a customer (replacing one with the same ID).
func (s *Server) AddCustomer(c CustomerSpec) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.customers = slices.DeleteFunc(s.customers, func(x CustomerSpec) bool { return x.ID == c.ID })
	s.customers = append(s.customers, c)
}

// Requests is how many requests reached the fake, refused ones included.
func (s *Server) Requests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.received)
}

// Received returns the requests received, in order.
func (s *Server) Received() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.received)
}

// TooManyNext makes the next n requests answer HTTP 429 with Retry-After:
// retryAfter (seconds).
func (s *Server) TooManyNext(n, retryAfter int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tooMany, s.retryAfter = n, retryAfter
}

// FailNext makes the next n requests answer HTTP status (a 5xx).
func (s *Server) FailNext(n, status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fail, s.failStatus = n, status
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	token, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	s.mu.Lock()
	defer s.mu.Unlock()
	s.received = append(s.received, Request{Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(), Token: token})
	path := strings.TrimPrefix(r.URL.Path, StorePath)
	switch {
	case token != s.token:
		writeJSON(w, http.StatusUnauthorized, map[string]any{
			"message": "The consumer isn't authorized to access %resources.", "parameters": map[string]any{"resources": "Magento_Sales::actions_view"},
		})
	case s.fail > 0:
		s.fail--
		writeJSON(w, s.failStatus, map[string]any{"message": "Internal Error. Details are available in Magento log file. Report ID: webapi-66f3a1b2c3d4e"})
	case s.tooMany > 0:
		s.tooMany--
		w.Header().Set("Retry-After", strconv.Itoa(s.retryAfter))
		writeJSON(w, http.StatusTooManyRequests, map[string]any{"message": "Too Many Requests"})
	default:
		s.route(w, r.Method, path, r.URL.Query(), body)
	}
}

// route answers an accepted request; s.mu is held.
func (s *Server) route(w http.ResponseWriter, method, path string, q url.Values, body []byte) {
	parts := strings.Split(strings.TrimPrefix(path, "/V1/"), "/")
	switch {
	case method == http.MethodGet && path == "/V1/orders":
		var rows []map[string]any
		for _, o := range s.orders {
			rows = append(rows, restOrder(o))
		}
		s.search(w, rows, q)
	case method == http.MethodGet && path == "/V1/customers/search":
		var rows []map[string]any
		for _, c := range s.customers {
			rows = append(rows, restCustomer(c))
		}
		s.search(w, rows, q)
	case method == http.MethodGet && path == "/V1/invoices":
		var rows []map[string]any
		for _, o := range s.orders {
			for _, inv := range o.Invoices {
				rows = append(rows, restInvoice(o, inv))
			}
		}
		s.search(w, rows, q)
	case method == http.MethodGet && path == "/V1/creditmemos":
		var rows []map[string]any
		for _, m := range s.creditMemos {
			rows = append(rows, restCreditMemo(m))
		}
		s.search(w, rows, q)
	case method == http.MethodGet && len(parts) == 2 && parts[0] == "orders":
		if i := s.orderIndex(parts[1]); i >= 0 {
			writeJSON(w, http.StatusOK, restOrder(s.orders[i]))
		} else {
			writeJSON(w, http.StatusNotFound, noSuchEntity)
		}
	case method == http.MethodGet && len(parts) == 2 && parts[0] == "creditmemo":
		if i := s.memoIndex(parts[1]); i >= 0 {
			writeJSON(w, http.StatusOK, restCreditMemo(s.creditMemos[i]))
		} else {
			writeJSON(w, http.StatusNotFound, noSuchEntity)
		}
	case method == http.MethodPost && len(parts) == 3 && parts[2] == "refund" && (parts[0] == "order" || parts[0] == "invoice"):
		s.refund(w, path, parts[0], parts[1], body)
	default:
		writeJSON(w, http.StatusNotFound, map[string]any{"message": "Request does not match any route."})
	}
}

// search answers a searchCriteria request over rows; s.mu is held.
func (s *Server) search(w http.ResponseWriter, rows []map[string]any, q url.Values) {
	crit, err := parseCriteria(q)
	if err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]any{"message": err.Error()})
		return
	}
	var match []map[string]any
	for _, row := range rows {
		ok, err := crit.match(row)
		if err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]any{"message": err.Error()})
			return
		}
		if ok {
			match = append(match, row)
		}
	}
	crit.sort(match)
	items := crit.page(match)
	writeJSON(w, http.StatusOK, map[string]any{"items": items, "search_criteria": crit.echo, "total_count": len(match)})
}

type condition struct{ field, value, kind string }

type searchCriteria struct {
	groups             [][]condition
	sortField, sortDir string
	pageSize, current  int
	echo               map[string]any
}

var filterParam = regexp.MustCompile(`^searchCriteria\[filter_groups\]\[(\d+)\]\[filters\]\[(\d+)\]\[(field|value|condition_type)\]$`)

// parseCriteria reads Magento's searchCriteria query parameters.
func parseCriteria(q url.Values) (searchCriteria, error) {
	c := searchCriteria{sortDir: "ASC", echo: map[string]any{}}
	groups := map[int]map[int]*condition{}
	for k, v := range q {
		m := filterParam.FindStringSubmatch(k)
		if m == nil {
			continue
		}
		g, _ := strconv.Atoi(m[1])
		f, _ := strconv.Atoi(m[2])
		if groups[g] == nil {
			groups[g] = map[int]*condition{}
		}
		if groups[g][f] == nil {
			groups[g][f] = &condition{kind: "eq"}
		}
		switch m[3] {
		case "field":
			groups[g][f].field = v[0]
		case "value":
			groups[g][f].value = v[0]
		case "condition_type":
			groups[g][f].kind = v[0]
		}
	}
	for _, g := range sortedKeys(groups) {
		var group []condition
		for _, f := range sortedKeys(groups[g]) {
			group = append(group, *groups[g][f])
		}
		c.groups = append(c.groups, group)
	}
	c.sortField = q.Get("searchCriteria[sortOrders][0][field]")
	if d := q.Get("searchCriteria[sortOrders][0][direction]"); d != "" {
		c.sortDir = strings.ToUpper(d)
	}
	var err error
	if c.pageSize, err = atoiOr(q.Get("searchCriteria[pageSize]"), 0); err != nil {
		return c, fmt.Errorf("pageSize: %v", err)
	}
	if c.current, err = atoiOr(q.Get("searchCriteria[currentPage]"), 1); err != nil || c.current < 1 {
		return c, fmt.Errorf("currentPage %q", q.Get("searchCriteria[currentPage]"))
	}
	echoGroups := []any{}
	for _, g := range c.groups {
		filters := []any{}
		for _, f := range g {
			filters = append(filters, map[string]any{"field": f.field, "value": f.value, "condition_type": f.kind})
		}
		echoGroups = append(echoGroups, map[string]any{"filters": filters})
	}
	c.echo["filter_groups"] = echoGroups
	if c.sortField != "" {
		c.echo["sort_orders"] = []any{map[string]any{"field": c.sortField, "direction": c.sortDir}}
	}
	c.echo["page_size"], c.echo["current_page"] = c.pageSize, c.current
	return c, nil
}

func atoiOr(s string, def int) (int, error) {
	if s == "" {
		return def, nil
	}
	return strconv.Atoi(s)
}

func sortedKeys[V any](m map[int]V) []int {
	keys := make([]int, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Ints(keys)
	return keys
}

// searchable are the fields the fake filters and sorts on.
var searchable = map[string]bool{"updated_at": true, "created_at": true, "increment_id": true, "entity_id": true, "id": true, "email": true, "customer_email": true, "order_id": true}

// match reports whether row passes every group (a group passes when one
// of its filters does).
func (c searchCriteria) match(row map[string]any) (bool, error) {
	for _, group := range c.groups {
		pass := false
		for _, f := range group {
			ok, err := f.match(row)
			if err != nil {
				return false, err
			}
			pass = pass || ok
		}
		if !pass {
			return false, nil
		}
	}
	return true, nil
}

func (f condition) match(row map[string]any) (bool, error) {
	if !searchable[f.field] {
		return false, fmt.Errorf(`Column not found: 1054 Unknown column '%s' in 'where clause'`, f.field)
	}
	v, ok := row[f.field]
	if !ok {
		return false, nil
	}
	cmp := compare(fmt.Sprint(v), f.value, f.field)
	switch f.kind {
	case "eq":
		return cmp == 0, nil
	case "neq":
		return cmp != 0, nil
	case "gt":
		return cmp > 0, nil
	case "gteq":
		return cmp >= 0, nil
	case "lt":
		return cmp < 0, nil
	case "lteq":
		return cmp <= 0, nil
	case "in":
		return slices.Contains(strings.Split(f.value, ","), fmt.Sprint(v)), nil
	}
	return false, fmt.Errorf("the fake does not support condition_type %q", f.kind)
}

// compare orders two values of field: times as times, ids as numbers,
// the rest as text.
func compare(a, b, field string) int {
	switch field {
	case "updated_at", "created_at":
		ta, errA := time.Parse(TimeLayout, a)
		tb, errB := time.Parse(TimeLayout, b)
		if errA == nil && errB == nil {
			return ta.Compare(tb)
		}
	case "entity_id", "id", "order_id":
		na, errA := strconv.ParseInt(a, 10, 64)
		nb, errB := strconv.ParseInt(b, 10, 64)
		if errA == nil && errB == nil {
			return int(na - nb)
		}
	}
	return strings.Compare(a, b)
}

// sort orders rows by the sort field (ids as the tie-break), by id when
// there is none.
func (c searchCriteria) sort(rows []map[string]any) {
	idOf := func(row map[string]any) string {
		if v, ok := row["entity_id"]; ok {
			return fmt.Sprint(v)
		}
		return fmt.Sprint(row["id"])
	}
	slices.SortStableFunc(rows, func(x, y map[string]any) int {
		if c.sortField != "" {
			d := compare(fmt.Sprint(x[c.sortField]), fmt.Sprint(y[c.sortField]), c.sortField)
			if c.sortDir == "DESC" {
				d = -d
			}
			if d != 0 {
				return d
			}
		}
		return compare(idOf(x), idOf(y), "id")
	})
}

// page returns the current page; like Magento, a page past the end is the
// last page, and no pageSize is everything.
func (c searchCriteria) page(rows []map[string]any) []map[string]any {
	if c.pageSize <= 0 || len(rows) == 0 {
		return orEmpty(rows)
	}
	last := (len(rows) + c.pageSize - 1) / c.pageSize
	p := min(c.current, last)
	return rows[(p-1)*c.pageSize : min(p*c.pageSize, len(rows))]
}

func orEmpty(rows []map[string]any) []map[string]any {
	if rows == nil {
		return []map[string]any{}
	}
	return rows
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
