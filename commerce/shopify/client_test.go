package shopify_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/frontdesk-ai/frontdesk/commerce"
	"github.com/frontdesk-ai/frontdesk/commerce/shopify"
	"github.com/frontdesk-ai/frontdesk/commerce/shopify/shopifytest"
)

const token = "shpat_test_token"

// sleeper records the waits a Client asks for instead of waiting.
type sleeper struct {
	mu    sync.Mutex
	waits []time.Duration
}

func (s *sleeper) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.waits = append(s.waits, d)
	s.mu.Unlock()
	return ctx.Err()
}

func (s *sleeper) recorded() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Duration(nil), s.waits...)
}

func newClient(t *testing.T, admin *shopifytest.Admin, edit ...func(*shopify.Config)) (*shopify.Client, *sleeper) {
	t.Helper()
	s := &sleeper{}
	cfg := shopify.Config{Shop: shop, AdminToken: token, APIURL: admin.URL(), Sleep: s.sleep}
	for _, e := range edit {
		e(&cfg)
	}
	c, err := shopify.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c, s
}

func TestNewValidates(t *testing.T) {
	for name, cfg := range map[string]shopify.Config{
		"no shop":          {AdminToken: token},
		"shop with a path": {Shop: "acme.myshopify.com/admin", AdminToken: token},
		"no token":         {Shop: shop},
		"relative api url": {Shop: shop, AdminToken: token, APIURL: "/admin/api/2025-01"},
		"ftp api url":      {Shop: shop, AdminToken: token, APIURL: "ftp://acme.myshopify.com/admin"},
		"negative timeout": {Shop: shop, AdminToken: token, Timeout: -time.Second},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := shopify.New(cfg); err == nil {
				t.Fatal("New accepted an invalid config")
			}
		})
	}
	c, err := shopify.New(shopify.Config{Shop: "Acme.myshopify.com", AdminToken: token})
	if err != nil || c.Domain() != shop || c.Source() != commerce.SourceShopify {
		t.Fatalf("New = %v, %v", c, err)
	}
}

// orderSpec is an order updated at minute i after base.
func orderSpec(i int, base time.Time) shopifytest.OrderSpec {
	return shopifytest.OrderSpec{
		ID: int64(5000 + i), Name: fmt.Sprintf("#%d", 1000+i), Email: fmt.Sprintf("c%d@example.com", i),
		FinancialStatus: "paid", TotalPrice: "10.50", Currency: "USD",
		LineItems: []shopifytest.LineItemSpec{{ID: int64(9000 + i), Title: "Mug", Quantity: 1, Price: "10.50"}},
		CreatedAt: base, UpdatedAt: base.Add(time.Duration(i) * time.Minute),
	}
}

func TestBackfillPages(t *testing.T) {
	admin := shopifytest.NewAdmin(t, token)
	base := time.Date(2024, 6, 1, 12, 0, 0, 0, time.UTC)
	for i := 120; i >= 0; i-- { // stored newest first: the fake must sort
		admin.AddOrder(orderSpec(i, base))
	}
	for i := range 60 {
		admin.AddCustomer(shopifytest.CustomerSpec{ID: int64(100 + i), Email: fmt.Sprintf("c%d@example.com", i), UpdatedAt: base.Add(time.Duration(i) * time.Hour)})
	}
	c, _ := newClient(t, admin)
	since := base.Add(10 * time.Minute) // orders 10…120 (111), customers 1…59 (59)
	var pages []commerce.Page
	if err := c.Backfill(context.Background(), since, func(p commerce.Page) error { pages = append(pages, p); return nil }); err != nil {
		t.Fatal(err)
	}
	var sizes []string
	var orders []commerce.Order
	var customers []commerce.Customer
	for _, p := range pages {
		sizes = append(sizes, fmt.Sprintf("%d/%d", len(p.Orders), len(p.Customers)))
		orders = append(orders, p.Orders...)
		customers = append(customers, p.Customers...)
	}
	if got := strings.Join(sizes, " "); got != strings.Repeat("10/0 ", 11)+"1/0 0/50 0/9" {
		t.Errorf("pages (orders/customers) = %s", got)
	}
	if len(orders) != 111 || orders[0].ExternalID != "5010" || orders[110].ExternalID != "5120" {
		t.Fatalf("%d orders, first %+v", len(orders), orders[0])
	}
	for i := 1; i < len(orders); i++ {
		if orders[i].UpdatedAt.Before(orders[i-1].UpdatedAt) {
			t.Fatalf("orders not oldest first at %d", i)
		}
	}
	if len(customers) != 59 || customers[0].ExternalID != "101" {
		t.Fatalf("%d customers, first %+v", len(customers), customers)
	}
	qs := admin.Queries()
	if len(qs) != 14 {
		t.Fatalf("%d requests, want 14", len(qs))
	}
	for i, q := range qs {
		first := float64(10) // orders: ten a page keeps the query under 1000 points
		if i >= 12 {
			first = 50
		}
		if q.Token != token || q.Variables["first"] != first || q.Variables["query"] != "updated_at:>='2024-06-01T12:10:00Z'" {
			t.Errorf("request %d: token %q, variables %v", i, q.Token, q.Variables)
		}
		if (i == 0 || i == 12) != (q.Variables["after"] == nil) {
			t.Errorf("request %d: after = %v (a connection's first page has none)", i, q.Variables["after"])
		}
	}
	if qs[0].Operation != "orders" || qs[12].Operation != "customers" || !strings.Contains(qs[0].Query, "sortKey: UPDATED_AT") {
		t.Errorf("operations %s, %s; query %s", qs[0].Operation, qs[12].Operation, qs[0].Query)
	}
}

func TestBackfillStopsAtFnError(t *testing.T) {
	admin := shopifytest.NewAdmin(t, token)
	base := time.Date(2024, 6, 1, 12, 0, 0, 0, time.UTC)
	for i := range 120 {
		admin.AddOrder(orderSpec(i, base))
	}
	c, _ := newClient(t, admin)
	stop := errors.New("store is full")
	calls := 0
	err := c.Backfill(context.Background(), time.Time{}, func(commerce.Page) error { calls++; return stop })
	if !errors.Is(err, stop) || calls != 1 || admin.Requests() != 1 {
		t.Fatalf("Backfill = %v after %d calls and %d requests; want fn's error after 1 and 1", err, calls, admin.Requests())
	}
	if q := admin.Queries()[0]; q.Variables["query"] != nil {
		t.Errorf("a zero since searched %v", q.Variables["query"])
	}
}

// TestBackfillMatchesWebhook holds the GraphQL mapping to the webhook's:
// one order read both ways is one commerce.Order.
func TestBackfillMatchesWebhook(t *testing.T) {
	est := time.FixedZone("EST", -5*3600)
	cancelled := time.Date(2024, 6, 3, 9, 0, 0, 0, est)
	spec := shopifytest.OrderSpec{
		ID: 820982911946154508, Name: "#1001", Email: "Grace@Example.com",
		Customer:          &shopifytest.CustomerSpec{ID: 115310627314723954, Email: "grace@example.com", Phone: "+1 555-000-2222", FirstName: "Grace", LastName: "Hopper", UpdatedAt: time.Date(2024, 6, 1, 8, 0, 0, 0, est)},
		ShippingAddress:   &shopifytest.AddressSpec{Phone: "555-625-1199", CountryCode: "US"},
		FinancialStatus:   "partially_refunded",
		FulfillmentStatus: "partial",
		TotalPrice:        "403.00", Currency: "USD",
		LineItems: []shopifytest.LineItemSpec{
			{ID: 866550311766439020, Title: "Nano", SKU: "IPOD2008PINK", Quantity: 1, Price: "199.00", VariantID: 808950810, ProductID: 632910392},
			{ID: 141249953214522974, Title: "Nano", Quantity: 2, Price: "102.00"},
		},
		Tracking: []shopifytest.TrackingSpec{
			{Company: "UPS", Numbers: []string{"1Z1", "1Z2"}, URLs: []string{"https://ups.example/1Z1", "https://ups.example/1Z2"}, ShipmentStatus: "in_transit"},
			{Company: "USPS", Numbers: []string{"9400"}},
			{Company: "UPS", Numbers: []string{"1Z0"}, Status: "cancelled"},
		},
		Refunds:   []shopifytest.RefundSpec{{ID: 1, Transactions: []shopifytest.TransactionSpec{{Amount: "10.00", Currency: "USD"}, {Amount: "5.00", Currency: "USD", Status: "failure"}}}},
		CreatedAt: time.Date(2024, 6, 1, 8, 0, 0, 0, est), UpdatedAt: time.Date(2024, 6, 3, 9, 0, 0, 0, est), CancelledAt: &cancelled,
	}
	for i := range 135 { // more lines than one query reads: 15, then 100, then 22
		spec.LineItems = append(spec.LineItems, shopifytest.LineItemSpec{ID: int64(7000 + i), Title: fmt.Sprintf("Sticker %d", i), Quantity: 1, Price: "0.50"})
	}
	ev, err := shopify.Parse(shopify.TopicOrdersUpdated, shop, shopifytest.OrderPayload(spec))
	if err != nil {
		t.Fatal(err)
	}
	admin := shopifytest.NewAdmin(t, token)
	admin.AddOrder(spec)
	c, _ := newClient(t, admin)
	var got []commerce.Order
	if err := c.Backfill(context.Background(), time.Time{}, func(p commerce.Page) error { got = append(got, p.Orders...); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || !reflect.DeepEqual(got[0], *ev.Order) {
		t.Fatalf("backfill\n%+v\nwebhook\n%+v", got, *ev.Order)
	}
	if o := got[0]; o.RefundedMinor != 1000 || len(o.Tracking) != 3 || o.Tracking[2].Status != "" || o.Phone != "+15550002222" || len(o.LineItems) != 137 {
		t.Errorf("order %+v", o)
	}
	var ops []string
	for _, q := range admin.Queries() {
		ops = append(ops, fmt.Sprintf("%s:%v", q.Operation, q.Variables["first"]))
	}
	if got := strings.Join(ops, " "); got != "orders:10 order:100 order:100 customers:50" {
		t.Errorf("requests %s", got)
	}
}

func TestThrottledIsRetriedAfterTheBucketRefills(t *testing.T) {
	admin := shopifytest.NewAdmin(t, token)
	admin.AddOrder(orderSpec(1, time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)))
	admin.ThrottleNext(2)
	c, s := newClient(t, admin)
	n := 0
	if err := c.Backfill(context.Background(), time.Time{}, func(p commerce.Page) error { n += len(p.Orders); return nil }); err != nil {
		t.Fatal(err)
	}
	// The page of ten orders costs 2 + 10 × (12 + 15 × 5) = 872 points, none
	// available, 50 restored a second.
	want := []time.Duration{17440 * time.Millisecond, 17440 * time.Millisecond}
	if n != 1 || !reflect.DeepEqual(s.recorded(), want) || admin.Requests() != 4 {
		t.Fatalf("%d orders, waits %v, %d requests; want 1, %v, 4", n, s.recorded(), admin.Requests(), want)
	}
}

func TestTooManyRequestsHonoursRetryAfter(t *testing.T) {
	admin := shopifytest.NewAdmin(t, token)
	admin.AddOrder(orderSpec(1, time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)))
	admin.TooManyNext(2, 7)
	c, s := newClient(t, admin)
	o, err := c.OrderByNumber(context.Background(), "#1001")
	if err != nil || o.ExternalID != "5001" {
		t.Fatalf("OrderByNumber = %+v, %v", o, err)
	}
	if want := []time.Duration{7 * time.Second, 7 * time.Second}; !reflect.DeepEqual(s.recorded(), want) {
		t.Fatalf("waits %v, want %v", s.recorded(), want)
	}
}

func TestServerErrorsBackOff(t *testing.T) {
	admin := shopifytest.NewAdmin(t, token)
	admin.AddOrder(orderSpec(1, time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)))
	admin.FailNext(3, http.StatusBadGateway)
	c, s := newClient(t, admin)
	if _, err := c.OrderByNumber(context.Background(), "1001"); err != nil {
		t.Fatal(err)
	}
	if want := []time.Duration{500 * time.Millisecond, time.Second, 2 * time.Second}; !reflect.DeepEqual(s.recorded(), want) {
		t.Fatalf("waits %v, want %v", s.recorded(), want)
	}

	t.Run("gives up after MaxRetries", func(t *testing.T) {
		admin := shopifytest.NewAdmin(t, token)
		admin.FailNext(10, http.StatusServiceUnavailable)
		c, _ := newClient(t, admin, func(c *shopify.Config) { c.MaxRetries = 2 })
		_, err := c.OrderByNumber(context.Background(), "1001")
		if err == nil || !strings.Contains(err.Error(), "503") || admin.Requests() != 3 {
			t.Fatalf("OrderByNumber = %v after %d requests; want a 503 error after 3", err, admin.Requests())
		}
	})
	t.Run("negative MaxRetries tries once", func(t *testing.T) {
		admin := shopifytest.NewAdmin(t, token)
		admin.FailNext(10, http.StatusInternalServerError)
		c, _ := newClient(t, admin, func(c *shopify.Config) { c.MaxRetries = -1 })
		if _, err := c.OrderByNumber(context.Background(), "1001"); err == nil || admin.Requests() != 1 {
			t.Fatalf("OrderByNumber = %v after %d requests", err, admin.Requests())
		}
	})
}

func TestUnauthorizedIsPermanent(t *testing.T) {
	admin := shopifytest.NewAdmin(t, "the real token")
	c, s := newClient(t, admin)
	err := c.Backfill(context.Background(), time.Time{}, func(commerce.Page) error { return nil })
	if !errors.Is(err, shopify.ErrUnauthorized) || !strings.Contains(err.Error(), "401") || !strings.Contains(err.Error(), "access token") {
		t.Fatalf("Backfill = %v; want ErrUnauthorized naming HTTP 401 and the token", err)
	}
	if admin.Requests() != 1 || len(s.recorded()) != 0 {
		t.Fatalf("%d requests, waits %v; want one request and no retry", admin.Requests(), s.recorded())
	}
}

func TestGraphQLErrorsFail(t *testing.T) {
	requests := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests++
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"errors":[{"message":"Field 'displayFinancialStatus' doesn't exist on type 'Order'","locations":[{"line":7,"column":7}],"extensions":{"code":"undefinedField"}}]}`)
	}))
	defer srv.Close()
	c, err := shopify.New(shopify.Config{Shop: shop, AdminToken: token, APIURL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.OrderByNumber(context.Background(), "1001")
	if err == nil || !strings.Contains(err.Error(), "doesn't exist") || requests != 1 {
		t.Fatalf("OrderByNumber = %v after %d requests; want the GraphQL error at once", err, requests)
	}
}

func TestOrderByNumber(t *testing.T) {
	admin := shopifytest.NewAdmin(t, token)
	base := time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)
	loose := orderSpec(1, base) // #1001, updated first: the search for "100" returns it first
	exact := orderSpec(2, base)
	exact.ID, exact.Name = 4100, "#100"
	admin.AddOrder(loose)
	admin.AddOrder(exact)
	c, _ := newClient(t, admin)
	for _, c2 := range []struct{ number, want string }{{"#1001", "5001"}, {"1001", "5001"}, {" 100 ", "4100"}, {"#100", "4100"}} {
		o, err := c.OrderByNumber(context.Background(), c2.number)
		if err != nil || o.ExternalID != c2.want || o.AdminURL != "https://"+shop+"/admin/orders/"+c2.want {
			t.Errorf("OrderByNumber(%q) = %+v, %v; want %s", c2.number, o, err, c2.want)
		}
	}
	if q := admin.Queries()[0]; q.Variables["query"] != "name:#1001" {
		t.Errorf("search %v", q.Variables["query"])
	}
	for _, number := range []string{"10", "1003", "#", "", `1001" OR name:*`} {
		if o, err := c.OrderByNumber(context.Background(), number); !errors.Is(err, commerce.ErrNotFound) {
			t.Errorf("OrderByNumber(%q) = %+v, %v; want ErrNotFound", number, o, err)
		}
	}
}

func TestContextEndsRetries(t *testing.T) {
	admin := shopifytest.NewAdmin(t, token)
	admin.ThrottleNext(100)
	ctx, cancel := context.WithCancel(context.Background())
	c, err := shopify.New(shopify.Config{Shop: shop, AdminToken: token, APIURL: admin.URL(), Sleep: func(ctx context.Context, d time.Duration) error {
		cancel() // the caller gives up while the client waits
		<-ctx.Done()
		return ctx.Err()
	}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.OrderByNumber(ctx, "1001"); !errors.Is(err, context.Canceled) || admin.Requests() != 1 {
		t.Fatalf("OrderByNumber = %v after %d requests; want context.Canceled after 1", err, admin.Requests())
	}
}
