package shopifytest

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/frontdesk-ai/frontdesk/commerce"
)

// GraphQLPath is the path Admin answers on for APIVersion; it answers
// every other version's path too (URLVersion).
const GraphQLPath = "/admin/api/" + APIVersion + "/graphql.json"

// graphQLPath matches an Admin API version's GraphQL path.
var graphQLPath = regexp.MustCompile(`^/admin/api/(\d{4}-\d{2}|unstable)/graphql\.json$`)

// Bucket of the fake's cost-based throttle, as a Shopify Plus shop's.
const (
	maximumAvailable = 2000.0
	restoreRate      = 100.0
	// ThrottledRestoreRate is the restoreRate of a THROTTLED answer.
	ThrottledRestoreRate = 50.0
	// maxFirst is the most nodes one connection page may ask for.
	maxFirst = 250
	// MaxQueryCost is the most a single query may cost; Shopify refuses a
	// costlier one before running it (MAX_COST_EXCEEDED).
	MaxQueryCost = 1000
)

// Query is one GraphQL request Admin received, recorded before it is
// answered.
type Query struct {
	// Token is the X-Shopify-Access-Token header.
	Token string
	// Version is the API version of the request's path ("2025-01").
	Version string
	// Operation is "orders", "customers", "order" (an order's line items
	// after a cursor), "products", "product" (a product's variants after a
	// cursor), "shop" (shop { currencyCode }), "refundOrder" (an order's refunds,
	// transactions and suggestedRefund), "refundCreate" or "" (unknown).
	Operation string
	Query     string
	Variables map[string]any
}

// UserError is a refundCreate userError.
type UserError struct {
	Field   []string `json:"field"`
	Message string   `json:"message"`
}

// RefundInput is a refundCreate input as Admin received it.
type RefundInput struct {
	OrderID         string `json:"orderId"`
	Notify          bool   `json:"notify"`
	Note            string `json:"note"`
	Currency        string `json:"currency"`
	RefundLineItems []struct {
		LineItemID  string `json:"lineItemId"`
		Quantity    int    `json:"quantity"`
		RestockType string `json:"restockType"`
	} `json:"refundLineItems"`
	Transactions []struct {
		OrderID  string `json:"orderId"`
		ParentID string `json:"parentId"`
		Amount   string `json:"amount"`
		Gateway  string `json:"gateway"`
		Kind     string `json:"kind"`
	} `json:"transactions"`
}

// Admin is a fake Admin GraphQL API for one shop: POST GraphQLPath with
// the right X-Shopify-Access-Token answers the orders and customers
// connections (search by updated_at:>= and name:, cursor pagination,
// sortKey UPDATED_AT), an order's lineItems after a cursor, an order's
// refunds, transactions and suggestedRefund(refundLineItems:), the
// refundCreate mutation (see refunds.go), the products connection, a
// product's variants after a cursor and shop { currencyCode } (see
// products.go), each with extensions.cost; any
// other token is HTTP 401. It prices queries like Shopify (2 per
// connection plus first times the cost of a node, 1 per object) and
// refuses one over MaxQueryCost.
type Admin struct {
	srv   *httptest.Server
	token string

	mu         sync.Mutex
	orders     []OrderSpec
	customers  []CustomerSpec
	products   []ProductSpec
	currency   string
	queries    []Query
	requests   int
	throttle   int
	tooMany    int
	retryAfter int
	fail       int
	failStatus int
	refundErrs []UserError
	refunds    []RefundInput
	// nextID numbers the payments, refunds and transactions the fake
	// makes.
	nextID int64
	// opFail answers the next opFail.n requests of opFail.op with HTTP
	// opFail.status; failAfterRefund answers the next refundCreate that
	// way after running it.
	opFail struct {
		op        string
		n, status int
	}
	failAfterRefund int
	// holdRefund, when set, keeps the answer of the next refundCreate (made)
	// until it is closed: a client that dies meanwhile never learns of it.
	holdRefund chan struct{}
	// idempotent keeps refundCreate's answers by @idempotent key.
	idempotent map[string]any
}

// NewAdmin starts an Admin accepting token; it stops when t ends.
func NewAdmin(t testing.TB, token string) *Admin {
	a := &Admin{token: token, nextID: 1_000_000_001, idempotent: map[string]any{}}
	a.srv = httptest.NewServer(http.HandlerFunc(a.serve))
	t.Cleanup(a.srv.Close)
	return a
}

// URL is the APIURL to configure a client with.
func (a *Admin) URL() string { return a.URLVersion(APIVersion) }

// URLVersion is the APIURL of another API version ("2026-01").
func (a *Admin) URLVersion(version string) string { return a.srv.URL + "/admin/api/" + version }

// AddOrder stores an order (replacing one with the same ID). Payments
// without an ID get one; a paid, partially_refunded or refunded order
// without payments gets one sale of TotalPrice through "bogus".
func (a *Admin) AddOrder(o OrderSpec) {
	a.mu.Lock()
	defer a.mu.Unlock()
	switch o.FinancialStatus {
	case "paid", "partially_refunded", "refunded":
		if len(o.Payments) == 0 && o.TotalPrice != "" {
			o.Payments = []PaymentSpec{{Amount: o.TotalPrice}}
		}
	}
	o.Payments = slices.Clone(o.Payments)
	for i := range o.Payments {
		if o.Payments[i].ID == 0 {
			o.Payments[i].ID = a.newID()
		}
	}
	a.orders = slices.DeleteFunc(a.orders, func(x OrderSpec) bool { return x.ID == o.ID })
	a.orders = append(a.orders, o)
}

// AddCustomer stores a customer (replacing one with the same ID).
func (a *Admin) AddCustomer(c CustomerSpec) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.customers = slices.DeleteFunc(a.customers, func(x CustomerSpec) bool { return x.ID == c.ID })
	a.customers = append(a.customers, c)
}

// Order returns the stored order id.
func (a *Admin) Order(id int64) (OrderSpec, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	i := slices.IndexFunc(a.orders, func(x OrderSpec) bool { return x.ID == id })
	if i < 0 {
		return OrderSpec{}, false
	}
	return a.orders[i], true
}

// Requests is how many requests reached the fake, refused ones included.
func (a *Admin) Requests() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.requests
}

// Queries returns the GraphQL requests received, in order.
func (a *Admin) Queries() []Query {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.queries)
}

// ThrottleNext makes the next n requests answer THROTTLED (HTTP 200) with
// currentlyAvailable 0 and restoreRate ThrottledRestoreRate.
func (a *Admin) ThrottleNext(n int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.throttle = n
}

// TooManyNext makes the next n requests answer HTTP 429 with Retry-After:
// retryAfter (seconds).
func (a *Admin) TooManyNext(n, retryAfter int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.tooMany, a.retryAfter = n, retryAfter
}

// FailNext makes the next n requests answer HTTP status (a 5xx).
func (a *Admin) FailNext(n, status int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.fail, a.failStatus = n, status
}

// FailNextOp makes the next n requests of operation op (see Query)
// answer HTTP status without running.
func (a *Admin) FailNextOp(op string, n, status int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.opFail.op, a.opFail.n, a.opFail.status = op, n, status
}

// FailAfterNextRefund makes the next refundCreate run (its refund is
// made) and then answer HTTP status (a 5xx) instead of its payload: the
// answer is lost on the way.
func (a *Admin) FailAfterNextRefund(status int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.failAfterRefund = status
}

// HoldNextRefund makes the next refundCreate refund and then keep its
// answer until release is called (the shop acted; the caller does not know
// yet).
func (a *Admin) HoldNextRefund() (release func()) {
	a.mu.Lock()
	defer a.mu.Unlock()
	ch := make(chan struct{})
	a.holdRefund = ch
	var once sync.Once
	return func() { once.Do(func() { close(ch) }) }
}

// Calls is how many requests of operation op (see Query) reached the
// fake, refused ones included.
func (a *Admin) Calls(op string) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	n := 0
	for _, q := range a.queries {
		if q.Operation == op {
			n++
		}
	}
	return n
}

// FailNextRefund makes the next refundCreate answer errs as userErrors,
// with a null refund and nothing changed.
func (a *Admin) FailNextRefund(errs ...UserError) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.refundErrs = errs
}

// Refunds returns the refundCreate inputs that created a refund.
func (a *Admin) Refunds() []RefundInput {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.refunds)
}

type gqlBody struct {
	Query     string         `json:"query"`
	Variables map[string]any `json:"variables"`
}

func (a *Admin) serve(w http.ResponseWriter, r *http.Request) {
	raw, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	var body gqlBody
	decodeErr := json.Unmarshal(raw, &body)
	q := Query{Token: r.Header.Get("X-Shopify-Access-Token"), Operation: operation(body.Query), Query: body.Query, Variables: body.Variables}
	if m := graphQLPath.FindStringSubmatch(r.URL.Path); m != nil {
		q.Version = m[1]
	}

	a.mu.Lock()
	defer a.mu.Unlock()
	a.requests++
	a.queries = append(a.queries, q)
	switch {
	case r.Method != http.MethodPost || q.Version == "":
		writeJSON(w, http.StatusNotFound, map[string]any{"errors": "Not Found"})
	case q.Token != a.token:
		writeJSON(w, http.StatusUnauthorized, map[string]any{"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"})
	case a.opFail.n > 0 && a.opFail.op == q.Operation:
		a.opFail.n--
		writeJSON(w, a.opFail.status, map[string]any{"errors": http.StatusText(a.opFail.status)})
	case a.fail > 0:
		a.fail--
		writeJSON(w, a.failStatus, map[string]any{"errors": http.StatusText(a.failStatus)})
	case a.tooMany > 0:
		a.tooMany--
		w.Header().Set("Retry-After", strconv.Itoa(a.retryAfter))
		writeJSON(w, http.StatusTooManyRequests, map[string]any{"errors": "Exceeded 2 calls per second for api client. Reduce request rates to resume uninterrupted service."})
	case decodeErr != nil:
		writeJSON(w, http.StatusBadRequest, map[string]any{"errors": "Bad Request: " + decodeErr.Error()})
	case requestedCost(q) > MaxQueryCost:
		writeJSON(w, http.StatusOK, maxCostExceeded(requestedCost(q)))
	case a.throttle > 0:
		a.throttle--
		writeJSON(w, http.StatusOK, throttled(requestedCost(q)))
	default:
		a.answer(w, q)
	}
}

// answer serves an accepted request; a.mu is held.
func (a *Admin) answer(w http.ResponseWriter, q Query) {
	var data any
	var err error
	switch q.Operation {
	case "orders":
		data, err = a.ordersPage(q)
	case "customers":
		data, err = a.customersPage(q.Variables)
	case "order":
		data, err = a.orderLineItems(q.Variables)
	case "products":
		data, err = a.productsPage(q)
	case "product":
		data, err = a.productVariants(q.Variables)
	case "shop":
		data = a.shop()
	case "refundOrder":
		data, err = a.refundOrder(q)
	case "refundCreate":
		data, err = a.refundCreate(q)
		if hold := a.holdRefund; hold != nil && err == nil {
			a.holdRefund = nil
			a.mu.Unlock()
			<-hold
			a.mu.Lock()
		}
		if status := a.failAfterRefund; status != 0 && err == nil {
			a.failAfterRefund = 0
			writeJSON(w, status, map[string]any{"errors": http.StatusText(status)})
			return
		}
	default:
		err = fmt.Errorf("the fake does not know this operation: %.60q", q.Query)
	}
	cost := requestedCost(q)
	if err != nil {
		writeJSON(w, http.StatusOK, map[string]any{"errors": []any{map[string]any{"message": err.Error()}}, "extensions": extensions(cost, cost, maximumAvailable-cost)})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": data, "extensions": extensions(cost, cost, maximumAvailable-cost)})
}

// operation is the root field a query selects.
func operation(query string) string {
	switch {
	case strings.Contains(query, "refundCreate("):
		return "refundCreate"
	case strings.Contains(query, "suggestedRefund("):
		return "refundOrder"
	}
	for _, op := range []string{"customers", "orders", "order", "products", "product"} {
		if strings.Contains(query, op+"(") {
			return op
		}
	}
	if strings.Contains(query, "shop { currencyCode }") {
		return "shop"
	}
	return ""
}

var lineItemsFirst = regexp.MustCompile(`lineItems\(first: (\d+)`)

// Costs of the nodes the client selects, as Shopify prices them (objects 1,
// scalars 0): an order with its money bags, customer, addresses and
// fulfillments is 10 plus its lineItems connection (2 + lines × 5); a line
// item with its price bag, variant and product is 5; a customer 1.
const (
	orderCost    = 10
	lineItemCost = 5
)

// requestedCost is the fake's requestedQueryCost of q.
func requestedCost(q Query) float64 {
	first, _ := q.Variables["first"].(float64)
	switch q.Operation {
	case "orders":
		lines := 0.0
		if m := lineItemsFirst.FindStringSubmatch(q.Query); m != nil {
			lines, _ = strconv.ParseFloat(m[1], 64)
		}
		return 2 + first*(orderCost+2+lines*lineItemCost)
	case "customers":
		return 2 + first
	case "order":
		return 1 + 2 + first*lineItemCost
	case "products":
		variants := float64(firstIn(variantsFirst, q.Query))
		return 2 + first*(productCost+2+variants)
	case "product":
		return 1 + 2 + first
	case "shop":
		return 1
	case "refundOrder":
		return refundOrderCost(q.Query)
	}
	return 10
}

// maxCostExceeded is Shopify's answer to a query costing over
// MaxQueryCost.
func maxCostExceeded(cost float64) map[string]any {
	return map[string]any{"errors": []any{map[string]any{
		"message": fmt.Sprintf("Query cost is %.0f, which exceeds the single query max cost limit (%d).", cost, MaxQueryCost),
		"extensions": map[string]any{
			"code": "MAX_COST_EXCEEDED", "cost": cost, "maxCost": MaxQueryCost,
			"documentation": "https://shopify.dev/api/usage/rate-limits",
		},
	}}}
}

func extensions(requested, actual any, available float64) map[string]any {
	return map[string]any{"cost": map[string]any{
		"requestedQueryCost": requested,
		"actualQueryCost":    actual,
		"throttleStatus": map[string]any{
			"maximumAvailable": maximumAvailable, "currentlyAvailable": available, "restoreRate": restoreRate,
		},
	}}
}

// throttled is Shopify's THROTTLED answer.
func throttled(requested float64) map[string]any {
	ext := extensions(requested, nil, 0)
	ext["cost"].(map[string]any)["throttleStatus"].(map[string]any)["restoreRate"] = ThrottledRestoreRate
	return map[string]any{
		"errors": []any{map[string]any{
			"message":    "Throttled",
			"extensions": map[string]any{"code": "THROTTLED", "documentation": "https://shopify.dev/api/usage/rate-limits"},
		}},
		"extensions": ext,
	}
}

var (
	updatedSince = regexp.MustCompile(`^updated_at:>=['"]?([^'"]+)['"]?$`)
	nameFilter   = regexp.MustCompile(`^name:#?(\S+)$`)
)

// filter reads a search query the fake understands: "" (everything),
// updated_at:>='RFC 3339' and name:#1001. Like Shopify's search, name
// matches loosely: "name:#100" finds #1001 too.
func filter(vars map[string]any) (since time.Time, name string, err error) {
	query, _ := vars["query"].(string)
	switch {
	case query == "":
		return time.Time{}, "", nil
	case updatedSince.MatchString(query):
		since, err = time.Parse(time.RFC3339, updatedSince.FindStringSubmatch(query)[1])
		return since, "", err
	case nameFilter.MatchString(query):
		return time.Time{}, nameFilter.FindStringSubmatch(query)[1], nil
	}
	return time.Time{}, "", fmt.Errorf("the fake does not support the search %q", query)
}

// window reads first and after and returns the slice bounds of a page of n
// nodes.
func window(vars map[string]any, n int) (from, to int, err error) {
	first, _ := vars["first"].(float64)
	if first < 1 || first > maxFirst {
		return 0, 0, fmt.Errorf("first must be 1 to %d, got %v", maxFirst, vars["first"])
	}
	if after, _ := vars["after"].(string); after != "" {
		raw, err := base64.StdEncoding.DecodeString(after)
		if err != nil {
			return 0, 0, fmt.Errorf("invalid cursor %q", after)
		}
		if from, err = strconv.Atoi(strings.TrimPrefix(string(raw), "offset:")); err != nil {
			return 0, 0, fmt.Errorf("invalid cursor %q", after)
		}
	}
	from = min(from, n)
	return from, min(from+int(first), n), nil
}

func cursor(offset int) string {
	return base64.StdEncoding.EncodeToString([]byte("offset:" + strconv.Itoa(offset)))
}

// page is a connection over nodes[from:to] of n.
func page(nodes []any, from, to, n int) map[string]any {
	end := any(nil)
	if to > from {
		end = cursor(to)
	}
	return map[string]any{
		"pageInfo": map[string]any{"hasNextPage": to < n, "endCursor": end},
		"nodes":    nodes,
	}
}

func (a *Admin) ordersPage(q Query) (any, error) {
	vars := q.Variables
	since, name, err := filter(vars)
	if err != nil {
		return nil, err
	}
	var match []OrderSpec
	for _, o := range a.orders {
		if !o.UpdatedAt.Before(since) && strings.HasPrefix(strings.TrimPrefix(o.name(), "#"), name) {
			match = append(match, o)
		}
	}
	slices.SortStableFunc(match, func(x, y OrderSpec) int {
		if c := x.UpdatedAt.Compare(y.UpdatedAt); c != 0 {
			return c
		}
		return int(x.ID - y.ID)
	})
	from, to, err := window(vars, len(match))
	if err != nil {
		return nil, err
	}
	lines := maxFirst
	if m := lineItemsFirst.FindStringSubmatch(q.Query); m != nil {
		lines, _ = strconv.Atoi(m[1])
	}
	nodes := make([]any, 0, to-from)
	for _, o := range match[from:to] {
		nodes = append(nodes, gqlOrder(o, lines))
	}
	return map[string]any{"orders": page(nodes, from, to, len(match))}, nil
}

// orderLineItems answers order(id:) { lineItems(first:, after:) }.
func (a *Admin) orderLineItems(vars map[string]any) (any, error) {
	gidOf, _ := vars["id"].(string)
	id, _ := strconv.ParseInt(strings.TrimPrefix(gidOf, "gid://shopify/Order/"), 10, 64)
	i := slices.IndexFunc(a.orders, func(o OrderSpec) bool { return o.ID == id })
	if i < 0 {
		return map[string]any{"order": nil}, nil
	}
	o := a.orders[i]
	from, to, err := window(vars, len(o.LineItems))
	if err != nil {
		return nil, err
	}
	return map[string]any{"order": map[string]any{"lineItems": page(lineItemNodes(o, from, to), from, to, len(o.LineItems))}}, nil
}

func (a *Admin) customersPage(vars map[string]any) (any, error) {
	since, name, err := filter(vars)
	if err != nil || name != "" {
		return nil, fmt.Errorf("customers search: %v %s", err, name)
	}
	var match []CustomerSpec
	for _, c := range a.customers {
		if !c.UpdatedAt.Before(since) {
			match = append(match, c)
		}
	}
	slices.SortStableFunc(match, func(x, y CustomerSpec) int {
		if c := x.UpdatedAt.Compare(y.UpdatedAt); c != 0 {
			return c
		}
		return int(x.ID - y.ID)
	})
	from, to, err := window(vars, len(match))
	if err != nil {
		return nil, err
	}
	nodes := make([]any, 0, to-from)
	for _, c := range match[from:to] {
		nodes = append(nodes, gqlCustomer(c))
	}
	return map[string]any{"customers": page(nodes, from, to, len(match))}, nil
}

// lineItemNodes writes o's line items from to to as LineItem nodes.
func lineItemNodes(o OrderSpec, from, to int) []any {
	items := make([]any, 0, to-from)
	for _, li := range o.LineItems[from:to] {
		item := map[string]any{
			"id": gid("LineItem", li.ID), "title": li.Title, "sku": nullable(li.SKU), "quantity": li.Quantity,
			"originalUnitPriceSet": gqlMoney(li.Price, o.Currency), "variant": nil, "product": nil,
		}
		if li.VariantID != 0 {
			item["variant"] = map[string]any{"legacyResourceId": strconv.FormatInt(li.VariantID, 10)}
		}
		if li.ProductID != 0 {
			item["product"] = map[string]any{"legacyResourceId": strconv.FormatInt(li.ProductID, 10)}
		}
		items = append(items, item)
	}
	return items
}

// gqlOrder writes o as the Order fields the client selects, with its
// first lines line items.
func gqlOrder(o OrderSpec, lines int) map[string]any {
	to := min(lines, len(o.LineItems))
	fulfillments := make([]any, 0, len(o.Tracking))
	for _, t := range o.Tracking {
		fulfillments = append(fulfillments, gqlFulfillment(t))
	}
	m := map[string]any{
		"id":                       gid("Order", o.ID),
		"legacyResourceId":         strconv.FormatInt(o.ID, 10),
		"name":                     o.name(),
		"email":                    nullable(o.Email),
		"phone":                    nullable(o.Phone),
		"displayFinancialStatus":   strings.ToUpper(financialStatus(o.FinancialStatus)),
		"displayFulfillmentStatus": displayFulfillment(o.FulfillmentStatus),
		"totalPriceSet":            gqlMoney(o.TotalPrice, o.Currency),
		"totalRefundedSet":         gqlMoney(formatMinor(refunded(o), o.Currency), o.Currency),
		"createdAt":                gqlTime(o.CreatedAt),
		"updatedAt":                gqlTime(o.UpdatedAt),
		"cancelledAt":              nil,
		"customer":                 nil,
		"shippingAddress":          gqlAddress(o.ShippingAddress),
		"billingAddress":           gqlAddress(o.BillingAddress),
		"lineItems":                page(lineItemNodes(o, 0, to), 0, to, len(o.LineItems)),
		"fulfillments":             fulfillments,
	}
	if o.CancelledAt != nil {
		m["cancelledAt"] = gqlTime(*o.CancelledAt)
	}
	if o.Customer != nil {
		m["customer"] = gqlCustomer(*o.Customer)
	}
	return m
}

func gqlFulfillment(t TrackingSpec) map[string]any {
	status := strings.ToUpper(t.Status)
	if status == "" {
		status = "SUCCESS"
	}
	display := strings.ToUpper(t.ShipmentStatus)
	if display == "" {
		display = "FULFILLED"
	}
	info := make([]any, 0, len(t.Numbers))
	for i, n := range t.Numbers {
		ti := map[string]any{"company": nullable(t.Company), "number": n, "url": nil}
		if i < len(t.URLs) {
			ti["url"] = t.URLs[i]
		}
		info = append(info, ti)
	}
	return map[string]any{"status": status, "displayStatus": display, "trackingInfo": info}
}

func gqlCustomer(c CustomerSpec) map[string]any {
	return map[string]any{
		"legacyResourceId": strconv.FormatInt(c.ID, 10),
		"email":            nullable(c.Email),
		"phone":            nullable(c.Phone),
		"firstName":        nullable(c.FirstName),
		"lastName":         nullable(c.LastName),
		"updatedAt":        gqlTime(c.UpdatedAt),
	}
}

func gqlAddress(a *AddressSpec) any {
	if a == nil {
		return nil
	}
	return map[string]any{"phone": nullable(a.Phone), "countryCodeV2": a.CountryCode}
}

// gqlMoney is a MoneyBag; GraphQL's Decimal drops trailing zeros but one
// ("403.00" is "403.0").
func gqlMoney(amount, currency string) map[string]any {
	if strings.Contains(amount, ".") {
		amount = strings.TrimRight(amount, "0")
		if strings.HasSuffix(amount, ".") {
			amount += "0"
		}
	} else if amount != "" {
		amount += ".0"
	}
	return map[string]any{"shopMoney": map[string]any{"amount": amount, "currencyCode": currency}}
}

// displayFulfillment maps REST's fulfillment_status to
// OrderDisplayFulfillmentStatus.
func displayFulfillment(s string) string {
	switch s {
	case "":
		return "UNFULFILLED"
	case "partial":
		return "PARTIALLY_FULFILLED"
	}
	return strings.ToUpper(s)
}

// gqlTime writes t as GraphQL's DateTime: RFC 3339 in UTC.
func gqlTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC().Format(time.RFC3339)
}

// refunded is the order's successful refund transactions in minor units.
func refunded(o OrderSpec) int64 {
	var sum int64
	for _, r := range o.Refunds {
		for _, t := range r.Transactions {
			if (t.Kind == "" || t.Kind == "refund") && (t.Status == "" || t.Status == "success") {
				sum += minorOf(t.Amount, o.Currency)
			}
		}
	}
	return sum
}

func minorOf(amount, currency string) int64 {
	v, _ := commerce.ToMinor(amount, currency)
	return v
}

// formatMinor writes minor units of currency as a decimal: "19.99".
func formatMinor(v int64, currency string) string {
	s := commerce.FormatMinor(v, currency)
	return s[:strings.LastIndexByte(s, ' ')]
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
