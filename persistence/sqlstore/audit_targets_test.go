package sqlstore_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/frontdesk-ai/frontdesk/persistence"
	"github.com/frontdesk-ai/frontdesk/persistence/sqlstore/sqlstoretest"
)

// TestListAuditEventsForTargets: the steps of several records in one
// query, oldest first, scoped to the tenant and the kind.
func TestListAuditEventsForTargets(t *testing.T) {
	for _, d := range sqlstoretest.Dialects {
		t.Run(d, func(t *testing.T) {
			ctx := context.Background()
			s := sqlstoretest.Open(t, d)
			var tenants []string
			for _, slug := range []string{"a", "b"} {
				tn := &persistence.Tenant{Name: slug, Slug: slug}
				if err := s.CreateTenant(ctx, tn); err != nil {
					t.Fatal(err)
				}
				tenants = append(tenants, tn.ID)
			}
			add := func(tenant, kind, id, action string) {
				t.Helper()
				if err := s.CreateAuditEvent(ctx, &persistence.AuditEvent{Base: persistence.Base{TenantID: tenant}, ActorKind: persistence.ActorSystem,
					Action: action, TargetKind: kind, TargetID: id}); err != nil {
					t.Fatal(err)
				}
			}
			add(tenants[0], "confirmation", "c1", "proposed")
			add(tenants[0], "confirmation", "c2", "proposed")
			add(tenants[0], "confirmation", "c1", "confirmed")
			add(tenants[0], "conversation", "c1", "other kind")
			add(tenants[1], "confirmation", "c1", "other tenant")
			add(tenants[0], "confirmation", "c3", "not asked for")
			evs, err := s.ListAuditEventsForTargets(ctx, tenants[0], "confirmation", []string{"c1", "c2"})
			if err != nil {
				t.Fatal(err)
			}
			byTarget := map[string][]string{}
			for _, e := range evs {
				byTarget[e.TargetID] = append(byTarget[e.TargetID], e.Action)
			}
			if len(evs) != 3 || fmt.Sprint(byTarget["c1"]) != "[proposed confirmed]" || fmt.Sprint(byTarget["c2"]) != "[proposed]" {
				t.Fatalf("events %v", byTarget)
			}
			if evs, err := s.ListAuditEventsForTargets(ctx, tenants[0], "confirmation", nil); err != nil || len(evs) != 0 {
				t.Fatalf("no targets: %v, %v", evs, err)
			}
		})
	}
}
