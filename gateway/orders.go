package gateway

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/frontdesk-ai/frontdesk/persistence"
)

// Merges undoes customer merges (the commerce consumer makes them).
type Merges interface {
	Unmerge(ctx context.Context, tenantID, id, byUserID string) (persistence.CustomerMerge, error)
}

// orderJSON is an order in the API.
type orderJSON struct {
	ID                string          `json:"id"`
	CustomerID        string          `json:"customer_id"`
	Source            string          `json:"source"`
	Shop              string          `json:"shop"`
	ExternalID        string          `json:"external_id"`
	Number            string          `json:"number"`
	Status            string          `json:"status"`
	FinancialStatus   string          `json:"financial_status"`
	FulfillmentStatus string          `json:"fulfillment_status"`
	TotalMinor        int64           `json:"total_minor"`
	RefundedMinor     int64           `json:"refunded_minor"`
	Currency          string          `json:"currency"`
	LineItems         json.RawMessage `json:"line_items"`
	Tracking          json.RawMessage `json:"tracking"`
	AdminURL          string          `json:"admin_url"`
	CreatedAt         time.Time       `json:"created_at"`
	UpdatedAt         time.Time       `json:"updated_at"`
	CancelledAt       *time.Time      `json:"cancelled_at"`
}

func toOrderJSON(o persistence.Order) orderJSON {
	created := o.CreatedAt
	if o.PlacedAt != nil {
		created = *o.PlacedAt
	}
	updated := o.UpdatedAt
	if o.SourceUpdatedAt != nil {
		updated = *o.SourceUpdatedAt
	}
	items, tracking := o.Items, o.Tracking
	if len(items) == 0 {
		items = json.RawMessage("[]")
	}
	if len(tracking) == 0 {
		tracking = json.RawMessage("[]")
	}
	return orderJSON{ID: o.ID, CustomerID: o.CustomerID, Source: o.Source, Shop: o.Shop, ExternalID: o.ExternalID, Number: o.Number,
		Status: o.Status, FinancialStatus: o.FinancialStatus, FulfillmentStatus: o.FulfillmentStatus, TotalMinor: o.TotalMinor,
		RefundedMinor: o.RefundedMinor, Currency: o.Currency, LineItems: items, Tracking: tracking, AdminURL: o.AdminURL,
		CreatedAt: created, UpdatedAt: updated, CancelledAt: o.CancelledAt}
}

// GET /api/v1/customers/{id}/orders: the customer's orders, newest first.
func (a *API) listCustomerOrders(w http.ResponseWriter, r *http.Request, p Principal) error {
	page, err := pageOf(r)
	if err != nil {
		return err
	}
	c, err := a.store.GetCustomer(r.Context(), p.TenantID, r.PathValue("id"))
	if err != nil {
		return fmt.Errorf("get customer: %w", err)
	}
	os, next, err := a.store.ListCustomerOrders(r.Context(), p.TenantID, c.ID, page)
	if err != nil {
		return listError("list orders", err)
	}
	out := make([]orderJSON, 0, len(os))
	for _, o := range os {
		out = append(out, toOrderJSON(o))
	}
	writeJSON(w, http.StatusOK, map[string]any{"orders": out, "next_cursor": next})
	return nil
}

// GET /api/v1/orders/{id}.
func (a *API) getOrder(w http.ResponseWriter, r *http.Request, p Principal) error {
	o, err := a.store.GetOrder(r.Context(), p.TenantID, r.PathValue("id"))
	if err != nil {
		return fmt.Errorf("get order: %w", err)
	}
	writeJSON(w, http.StatusOK, toOrderJSON(o))
	return nil
}

type shopJSON struct {
	ID             string     `json:"id"`
	Source         string     `json:"source"`
	Domain         string     `json:"domain"`
	Status         string     `json:"status"`
	WebhookURL     string     `json:"webhook_url"`
	LastEventAt    *time.Time `json:"last_event_at"`
	LastEventTopic string     `json:"last_event_topic"`
	EventsTotal    int64      `json:"events_total"`
	FailuresTotal  int64      `json:"failures_total"`
	LastFailure    string     `json:"last_failure"`
	LastFailureAt  *time.Time `json:"last_failure_at"`
}

// GET /api/v1/commerce/shops: the tenant's connected shops, where their
// webhooks go and what arrived or failed.
func (a *API) listShops(w http.ResponseWriter, r *http.Request, p Principal) error {
	shops, err := a.store.ListShops(r.Context(), p.TenantID)
	if err != nil {
		return fmt.Errorf("list shops: %w", err)
	}
	scheme := "https"
	if r.TLS == nil && r.Header.Get("X-Forwarded-Proto") != "https" {
		scheme = "http"
	}
	out := make([]shopJSON, 0, len(shops))
	for _, s := range shops {
		out = append(out, shopJSON{ID: s.ID, Source: s.Source, Domain: s.Domain, Status: string(s.Status),
			WebhookURL: scheme + "://" + r.Host + "/webhooks/" + s.Source, LastEventAt: s.LastEventAt, LastEventTopic: s.LastEventTopic,
			EventsTotal: s.EventsTotal, FailuresTotal: s.FailuresTotal, LastFailure: s.LastFailure, LastFailureAt: s.LastFailureAt})
	}
	writeJSON(w, http.StatusOK, map[string]any{"shops": out})
	return nil
}

type mergeJSON struct {
	ID               string                   `json:"id"`
	KeptCustomerID   string                   `json:"kept_customer_id"`
	MergedCustomerID string                   `json:"merged_customer_id"`
	Reason           string                   `json:"reason"`
	Moved            persistence.MovedRecords `json:"moved"`
	CreatedAt        time.Time                `json:"created_at"`
	UndoneAt         *time.Time               `json:"undone_at"`
	UndoneBy         string                   `json:"undone_by,omitempty"`
}

func toMergeJSON(m persistence.CustomerMerge) mergeJSON {
	moved, _ := m.Records()
	return mergeJSON{ID: m.ID, KeptCustomerID: m.KeptCustomerID, MergedCustomerID: m.MergedCustomerID, Reason: m.Reason,
		Moved: moved, CreatedAt: m.CreatedAt, UndoneAt: m.UndoneAt, UndoneBy: m.UndoneBy}
}

// GET /api/v1/customers/{id}/merges: merges that kept or merged the
// customer, newest first.
func (a *API) listCustomerMerges(w http.ResponseWriter, r *http.Request, p Principal) error {
	ms, err := a.store.ListCustomerMerges(r.Context(), p.TenantID, r.PathValue("id"))
	if err != nil {
		return fmt.Errorf("list merges: %w", err)
	}
	out := make([]mergeJSON, 0, len(ms))
	for _, m := range ms {
		out = append(out, toMergeJSON(m))
	}
	writeJSON(w, http.StatusOK, map[string]any{"merges": out})
	return nil
}

// POST /api/v1/customer-merges/{id}/undo: an admin separates two customers
// merged by mistake; they are not merged again.
func (a *API) undoMerge(w http.ResponseWriter, r *http.Request, p Principal) error {
	if a.cfg.Merges == nil {
		return &Error{Status: http.StatusServiceUnavailable, Code: "unavailable", Message: "customer merges are not available on this server"}
	}
	m, err := a.cfg.Merges.Unmerge(r.Context(), p.TenantID, r.PathValue("id"), p.UserID)
	if err != nil {
		return fmt.Errorf("undo merge: %w", err)
	}
	a.cfg.notify(p.TenantID)
	writeJSON(w, http.StatusOK, toMergeJSON(m))
	return nil
}
