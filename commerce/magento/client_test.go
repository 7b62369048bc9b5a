package magento_test

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
	"github.com/frontdesk-ai/frontdesk/commerce/magento"
	"github.com/frontdesk-ai/frontdesk/commerce/magento/magentotest"
)

const token = "mg-admin-token"

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

func newClient(t *testing.T, srv *magentotest.Server, edit ...func(*magento.Config)) (*magento.Client, *sleeper) {
	t.Helper()
	s := &sleeper{}
	cfg := magento.Config{BaseURL: srv.URL(), Token: token, Sleep: s.sleep}
	for _, e := range edit {
		e(&cfg)
	}
	c, err := magento.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c, s
}

func TestNewValidates(t *testing.T) {
	for name, cfg := range map[string]magento.Config{
		"no base url":       {Token: token},
		"relative base url": {BaseURL: "/rest/default", Token: token},
		"no token":          {BaseURL: "https://shop.example.com/rest/default"},
		"negative timeout":  {BaseURL: "https://shop.example.com/rest/default", Token: token, Timeout: -1},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := magento.New(cfg); err == nil {
				t.Fatal("New accepted an invalid config")
			}
		})
	}
	c, err := magento.New(magento.Config{BaseURL: "https://Shop.Example.com:8443/rest/default/", Token: token})
	if err != nil || c.Domain() != shop || c.Source() != commerce.SourceMagento {
		t.Fatalf("New = %v, %v", c, err)
	}
}

func orderSpec(i int, base time.Time) magentotest.OrderSpec {
	return magentotest.OrderSpec{
		EntityID: int64(i), State: "processing", Email: fmt.Sprintf("c%d@example.com", i), CustomerID: int64(100 + i),
		Telephone: "512-555-1111", CountryID: "US", GrandTotal: "10.5", Currency: "USD",
		Items:     []magentotest.ItemSpec{{ItemID: int64(1000 + i), ProductID: 7, Name: "Mug", SKU: "MUG", Qty: 1, Price: "10.5"}},
		CreatedAt: base, UpdatedAt: base.Add(time.Duration(i) * time.Minute),
	}
}

func TestBackfillPages(t *testing.T) {
	srv := magentotest.NewServer(t, token)
	base := time.Date(2024, 6, 1, 12, 0, 0, 0, time.UTC)
	for i := 120; i >= 1; i-- { // stored newest first: the fake must sort
		srv.AddOrder(orderSpec(i, base))
	}
	for i := 1; i <= 60; i++ {
		srv.AddCustomer(magentotest.CustomerSpec{ID: int64(i), Email: fmt.Sprintf("c%d@example.com", i), UpdatedAt: base.Add(time.Duration(i) * time.Hour)})
	}
	c, _ := newClient(t, srv)
	since := base.Add(10 * time.Minute) // orders 10…120 (111), customers 1…60 (60)
	var sizes []string
	var orders []commerce.Order
	var customers []commerce.Customer
	err := c.Backfill(context.Background(), since, func(p commerce.Page) error {
		sizes = append(sizes, fmt.Sprintf("%d/%d", len(p.Orders), len(p.Customers)))
		orders, customers = append(orders, p.Orders...), append(customers, p.Customers...)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(sizes, " "); got != "50/0 50/0 11/0 0/50 0/10" {
		t.Errorf("pages (orders/customers) = %s", got)
	}
	if len(orders) != 111 || orders[0].ExternalID != "10" || orders[110].ExternalID != "120" || len(customers) != 60 {
		t.Fatalf("%d orders (first %s), %d customers", len(orders), orders[0].ExternalID, len(customers))
	}
	for i := 1; i < len(orders); i++ {
		if orders[i].UpdatedAt.Before(orders[i-1].UpdatedAt) {
			t.Fatalf("orders not oldest first at %d", i)
		}
	}
	if o := orders[0]; o.Shop != c.Domain() || o.Shop != "127.0.0.1" || o.Phone != "+15125551111" || o.TotalMinor != 1050 || o.FinancialStatus != "paid" {
		t.Errorf("order %+v", o)
	}
	got := srv.Received()
	if len(got) != 5 { // Magento repeats the last page past the end: total_count must stop the client
		t.Fatalf("%d requests, want 5", len(got))
	}
	for i, r := range got {
		q := r.Query
		if r.Token != token || q.Get("searchCriteria[filter_groups][0][filters][0][field]") != "updated_at" ||
			q.Get("searchCriteria[filter_groups][0][filters][0][value]") != "2024-06-01 12:10:00" ||
			q.Get("searchCriteria[filter_groups][0][filters][0][condition_type]") != "gteq" ||
			q.Get("searchCriteria[sortOrders][0][field]") != "updated_at" || q.Get("searchCriteria[sortOrders][0][direction]") != "ASC" ||
			q.Get("searchCriteria[pageSize]") != "50" {
			t.Errorf("request %d: %s %v", i, r.Path, q)
		}
	}
	if got[0].Path != "/rest/default/V1/orders" || got[2].Query.Get("searchCriteria[currentPage]") != "3" ||
		got[3].Path != "/rest/default/V1/customers/search" || got[3].Query.Get("searchCriteria[currentPage]") != "1" {
		t.Errorf("paths and pages: %+v", got)
	}
}

// TestBackfillMatchesWebhook: one order read by backfill and from an
// async-events webhook is one commerce.Order.
func TestBackfillMatchesWebhook(t *testing.T) {
	spec := orderSpec(7, time.Date(2024, 6, 1, 12, 0, 0, 0, time.UTC))
	spec.State, spec.TotalRefunded = "complete", "2.5"
	srv := magentotest.NewServer(t, token)
	srv.AddOrder(spec)
	c, _ := newClient(t, srv)
	ev, _, err := magento.Parse(c.Domain(), magentotest.AsyncEventBody(magentotest.OrderJSON(spec)))
	if err != nil {
		t.Fatal(err)
	}
	var got []commerce.Order
	if err := c.Backfill(context.Background(), time.Time{}, func(p commerce.Page) error { got = append(got, p.Orders...); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || !reflect.DeepEqual(got[0], *ev.Order) {
		t.Fatalf("backfill %+v\nwebhook %+v", got, ev.Order)
	}
	if q := srv.Received()[0].Query; q.Has("searchCriteria[filter_groups][0][filters][0][field]") {
		t.Errorf("a zero since filtered: %v", q)
	}
}

func TestBackfillStopsAtFnError(t *testing.T) {
	srv := magentotest.NewServer(t, token)
	for i := 1; i <= 120; i++ {
		srv.AddOrder(orderSpec(i, time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)))
	}
	c, _ := newClient(t, srv)
	stop := errors.New("store is full")
	calls := 0
	err := c.Backfill(context.Background(), time.Time{}, func(commerce.Page) error { calls++; return stop })
	if !errors.Is(err, stop) || calls != 1 || srv.Requests() != 1 {
		t.Fatalf("Backfill = %v after %d calls, %d requests", err, calls, srv.Requests())
	}
}

func TestOrderByNumber(t *testing.T) {
	srv := magentotest.NewServer(t, token)
	base := time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)
	srv.AddOrder(orderSpec(123, base)) // 000000123
	custom := orderSpec(124, base)
	custom.IncrementID = "WEB-1001"
	srv.AddOrder(custom)
	c, _ := newClient(t, srv)
	for number, want := range map[string]string{"000000123": "123", "#000000123": "123", "123": "123", "WEB-1001": "124", " #WEB-1001 ": "124"} {
		o, err := c.OrderByNumber(context.Background(), number)
		if err != nil || o.ExternalID != want {
			t.Errorf("OrderByNumber(%q) = %+v, %v; want %s", number, o, err, want)
		}
	}
	first := srv.Received()[0].Query
	if first.Get("searchCriteria[filter_groups][0][filters][0][field]") != "increment_id" || first.Get("searchCriteria[filter_groups][0][filters][0][condition_type]") != "eq" {
		t.Errorf("search %v", first)
	}
	for _, number := range []string{"124", "1001", "", "#"} {
		if o, err := c.OrderByNumber(context.Background(), number); !errors.Is(err, commerce.ErrNotFound) {
			t.Errorf("OrderByNumber(%q) = %+v, %v; want ErrNotFound", number, o, err)
		}
	}
}

func TestRetries(t *testing.T) {
	base := time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)
	t.Run("429 honours Retry-After", func(t *testing.T) {
		srv := magentotest.NewServer(t, token)
		srv.AddOrder(orderSpec(5, base))
		srv.TooManyNext(2, 3)
		c, s := newClient(t, srv)
		if _, err := c.OrderByNumber(context.Background(), "000000005"); err != nil {
			t.Fatal(err)
		}
		if want := []time.Duration{3 * time.Second, 3 * time.Second}; !reflect.DeepEqual(s.recorded(), want) || srv.Requests() != 3 {
			t.Fatalf("waits %v after %d requests; want %v after 3", s.recorded(), srv.Requests(), want)
		}
	})
	t.Run("5xx backs off", func(t *testing.T) {
		srv := magentotest.NewServer(t, token)
		srv.AddOrder(orderSpec(5, base))
		srv.FailNext(3, http.StatusServiceUnavailable)
		c, s := newClient(t, srv)
		if _, err := c.OrderByNumber(context.Background(), "000000005"); err != nil {
			t.Fatal(err)
		}
		if want := []time.Duration{500 * time.Millisecond, time.Second, 2 * time.Second}; !reflect.DeepEqual(s.recorded(), want) {
			t.Fatalf("waits %v, want %v", s.recorded(), want)
		}
	})
	t.Run("gives up after MaxRetries", func(t *testing.T) {
		srv := magentotest.NewServer(t, token)
		srv.FailNext(10, http.StatusInternalServerError)
		c, _ := newClient(t, srv, func(c *magento.Config) { c.MaxRetries = 1 })
		_, err := c.OrderByNumber(context.Background(), "000000005")
		if err == nil || !strings.Contains(err.Error(), "Report ID") || srv.Requests() != 2 {
			t.Fatalf("OrderByNumber = %v after %d requests", err, srv.Requests())
		}
	})
	t.Run("401 is permanent", func(t *testing.T) {
		srv := magentotest.NewServer(t, "another token")
		c, s := newClient(t, srv)
		err := c.Backfill(context.Background(), time.Time{}, func(commerce.Page) error { return nil })
		if !errors.Is(err, magento.ErrUnauthorized) || !strings.Contains(err.Error(), "Magento_Sales::actions_view") || srv.Requests() != 1 || len(s.recorded()) != 0 {
			t.Fatalf("Backfill = %v after %d requests, waits %v", err, srv.Requests(), s.recorded())
		}
	})
	t.Run("400 is permanent", func(t *testing.T) {
		hits := 0
		bad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			hits++
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte(`{"message":"\"%fieldName\" is required. Enter and try again.","parameters":{"fieldName":"searchCriteria"}}`))
		}))
		defer bad.Close()
		c, err := magento.New(magento.Config{BaseURL: bad.URL + "/rest/default", Token: token})
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.OrderByNumber(context.Background(), "1")
		if err == nil || !strings.Contains(err.Error(), `"searchCriteria" is required`) || hits != 1 {
			t.Fatalf("OrderByNumber = %v after %d requests", err, hits)
		}
	})
	t.Run("the caller's context ends the waits", func(t *testing.T) {
		srv := magentotest.NewServer(t, token)
		srv.FailNext(10, http.StatusBadGateway)
		ctx, cancel := context.WithCancel(context.Background())
		c, err := magento.New(magento.Config{BaseURL: srv.URL(), Token: token, Sleep: func(ctx context.Context, _ time.Duration) error {
			cancel()
			<-ctx.Done()
			return ctx.Err()
		}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.OrderByNumber(ctx, "1"); !errors.Is(err, context.Canceled) || srv.Requests() != 1 {
			t.Fatalf("OrderByNumber = %v after %d requests", err, srv.Requests())
		}
	})
}
