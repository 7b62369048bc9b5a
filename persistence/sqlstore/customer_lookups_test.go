package sqlstore_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/frontdesk-ai/frontdesk/persistence"
	"github.com/frontdesk-ai/frontdesk/persistence/sqlstore/sqlstoretest"
)

// TestCustomerLookups checks GetCustomers and ListIdentitiesOfCustomer on
// both dialects, including that neither crosses tenants.
func TestCustomerLookups(t *testing.T) {
	for _, d := range sqlstoretest.Dialects {
		t.Run(d, func(t *testing.T) {
			s := sqlstoretest.Open(t, d)
			ctx := context.Background()
			t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
			var a []persistence.Customer
			for i := range 3 {
				c := persistence.Customer{Base: persistence.Base{TenantID: "a", CreatedAt: t0.Add(time.Duration(i) * time.Second)}, Name: "c"}
				if err := s.CreateCustomer(ctx, &c); err != nil {
					t.Fatal(err)
				}
				a = append(a, c)
			}
			b := persistence.Customer{Base: persistence.Base{TenantID: "b"}, Name: "other"}
			if err := s.CreateCustomer(ctx, &b); err != nil {
				t.Fatal(err)
			}

			got, err := s.GetCustomers(ctx, "a", []string{a[2].ID, a[0].ID, a[2].ID, b.ID, "missing"})
			if err != nil {
				t.Fatal(err)
			}
			ids := func(cs []persistence.Customer) []string {
				var out []string
				for _, c := range cs {
					out = append(out, c.ID)
				}
				return out
			}
			if want := []string{a[0].ID, a[2].ID}; !slices.Equal(ids(got), want) {
				t.Fatalf("GetCustomers = %v, want %v", ids(got), want)
			}
			if got, err := s.GetCustomers(ctx, "a", nil); err != nil || len(got) != 0 {
				t.Fatalf("GetCustomers(nil) = %v, %v", got, err)
			}

			for i, ch := range []string{"whatsapp", "messenger"} {
				id := persistence.CustomerIdentity{Base: persistence.Base{TenantID: "a", CreatedAt: t0.Add(time.Duration(i) * time.Second)},
					CustomerID: a[1].ID, Channel: ch, ExternalID: "x"}
				if err := s.CreateCustomerIdentity(ctx, &id); err != nil {
					t.Fatal(err)
				}
			}
			other := persistence.CustomerIdentity{Base: persistence.Base{TenantID: "a"}, CustomerID: a[0].ID, Channel: "whatsapp", ExternalID: "y"}
			if err := s.CreateCustomerIdentity(ctx, &other); err != nil {
				t.Fatal(err)
			}
			idents, err := s.ListIdentitiesOfCustomer(ctx, "a", a[1].ID)
			if err != nil || len(idents) != 2 || idents[0].Channel != "whatsapp" || idents[1].Channel != "messenger" {
				t.Fatalf("ListIdentitiesOfCustomer = %+v, %v", idents, err)
			}
			if idents, err := s.ListIdentitiesOfCustomer(ctx, "b", a[1].ID); err != nil || len(idents) != 0 {
				t.Fatalf("other tenant sees %+v, %v", idents, err)
			}
		})
	}
}
