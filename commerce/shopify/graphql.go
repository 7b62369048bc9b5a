package shopify

import (
	"context"
	"fmt"
	"strings"

	"github.com/frontdesk-ai/frontdesk/commerce"
)

// lineItemFields is what frontdesk reads of a LineItem.
const lineItemFields = `
          id
          title
          sku
          quantity
          originalUnitPriceSet { shopMoney { amount currencyCode } }
          variant { legacyResourceId }
          product { legacyResourceId }`

// orderFields is what frontdesk reads of an Order (Admin GraphQL API): its
// first orderLines (15) line items, the rest by lineItemsQuery.
const orderFields = `
      id
      legacyResourceId
      name
      email
      phone
      displayFinancialStatus
      displayFulfillmentStatus
      totalPriceSet { shopMoney { amount currencyCode } }
      totalRefundedSet { shopMoney { amount currencyCode } }
      createdAt
      updatedAt
      cancelledAt
      customer { legacyResourceId email phone firstName lastName updatedAt }
      shippingAddress { phone countryCodeV2 }
      billingAddress { phone countryCodeV2 }
      lineItems(first: 15) {
        pageInfo { hasNextPage endCursor }
        nodes {` + lineItemFields + `
        }
      }
      fulfillments { status displayStatus trackingInfo { company number url } }`

// ordersQuery pages through orders matching a search query, oldest update
// first.
const ordersQuery = `query Orders($first: Int!, $after: String, $query: String) {
  orders(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) {
    pageInfo { hasNextPage endCursor }
    nodes {` + orderFields + `
    }
  }
}`

// lineItemsQuery reads an order's line items after a cursor.
const lineItemsQuery = `query OrderLineItems($id: ID!, $first: Int!, $after: String) {
  order(id: $id) {
    lineItems(first: $first, after: $after) {
      pageInfo { hasNextPage endCursor }
      nodes {` + lineItemFields + `
      }
    }
  }
}`

// customersQuery pages through customers matching a search query, oldest
// update first.
const customersQuery = `query Customers($first: Int!, $after: String, $query: String) {
  customers(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) {
    pageInfo { hasNextPage endCursor }
    nodes { legacyResourceId email phone firstName lastName updatedAt }
  }
}`

// connection is a GraphQL connection page.
type connection[T any] struct {
	PageInfo struct {
		HasNextPage bool   `json:"hasNextPage"`
		EndCursor   string `json:"endCursor"`
	} `json:"pageInfo"`
	Nodes []T `json:"nodes"`
}

// paginate runs query with filter page after page of size nodes, calling
// page with each page's nodes of the connection named root, until the
// last page or page's first error.
func paginate[T any](ctx context.Context, c *Client, op, query, root, filter string, size int, page func([]T) error) error {
	after := ""
	for {
		vars := map[string]any{"first": size}
		if filter != "" {
			vars["query"] = filter
		}
		if after != "" {
			vars["after"] = after
		}
		var data map[string]*connection[T]
		if err := c.do(ctx, op, query, vars, &data); err != nil {
			return err
		}
		conn := data[root]
		if conn == nil {
			return fmt.Errorf("shopify %s: %w", op, commerce.Malformed("answer has no %s", root))
		}
		if err := page(conn.Nodes); err != nil {
			return err
		}
		if !conn.PageInfo.HasNextPage {
			return nil
		}
		if conn.PageInfo.EndCursor == "" || conn.PageInfo.EndCursor == after {
			return fmt.Errorf("shopify %s: %w", op, commerce.Malformed("next page without a new endCursor"))
		}
		after = conn.PageInfo.EndCursor
	}
}

type gqlMoneyBag struct {
	ShopMoney struct {
		Amount       amount `json:"amount"`
		CurrencyCode string `json:"currencyCode"`
	} `json:"shopMoney"`
}

type gqlAddress struct {
	Phone         string `json:"phone"`
	CountryCodeV2 string `json:"countryCodeV2"`
}

func (a *gqlAddress) phone() phoneCandidate {
	if a == nil {
		return phoneCandidate{}
	}
	return phoneCandidate{a.Phone, a.CountryCodeV2}
}

type gqlOrder struct {
	ID                       string                  `json:"id"`
	LegacyResourceID         id                      `json:"legacyResourceId"`
	Name                     string                  `json:"name"`
	Email                    string                  `json:"email"`
	Phone                    string                  `json:"phone"`
	DisplayFinancialStatus   string                  `json:"displayFinancialStatus"`
	DisplayFulfillmentStatus string                  `json:"displayFulfillmentStatus"`
	TotalPriceSet            gqlMoneyBag             `json:"totalPriceSet"`
	TotalRefundedSet         *gqlMoneyBag            `json:"totalRefundedSet"`
	CreatedAt                string                  `json:"createdAt"`
	UpdatedAt                string                  `json:"updatedAt"`
	CancelledAt              string                  `json:"cancelledAt"`
	Customer                 *gqlCustomer            `json:"customer"`
	ShippingAddress          *gqlAddress             `json:"shippingAddress"`
	BillingAddress           *gqlAddress             `json:"billingAddress"`
	LineItems                connection[gqlLineItem] `json:"lineItems"`
	Fulfillments             []gqlFulfillment        `json:"fulfillments"`
}

type gqlLineItem struct {
	ID                   string      `json:"id"`
	Title                string      `json:"title"`
	SKU                  string      `json:"sku"`
	Quantity             int         `json:"quantity"`
	OriginalUnitPriceSet gqlMoneyBag `json:"originalUnitPriceSet"`
	Variant              *struct {
		LegacyResourceID id `json:"legacyResourceId"`
	} `json:"variant"`
	Product *struct {
		LegacyResourceID id `json:"legacyResourceId"`
	} `json:"product"`
}

type gqlFulfillment struct {
	Status        string `json:"status"`
	DisplayStatus string `json:"displayStatus"`
	TrackingInfo  []struct {
		Company string `json:"company"`
		Number  string `json:"number"`
		URL     string `json:"url"`
	} `json:"trackingInfo"`
}

type gqlCustomer struct {
	LegacyResourceID id     `json:"legacyResourceId"`
	Email            string `json:"email"`
	Phone            string `json:"phone"`
	FirstName        string `json:"firstName"`
	LastName         string `json:"lastName"`
	UpdatedAt        string `json:"updatedAt"`
}

// normalize maps a GraphQL order as the webhook's REST order maps: the
// same ids, number, statuses and shop money.
func (o gqlOrder) normalize(shop string) (commerce.Order, error) {
	if o.LegacyResourceID == "" {
		return commerce.Order{}, commerce.Malformed("order has no legacyResourceId")
	}
	currency := strings.ToUpper(o.TotalPriceSet.ShopMoney.CurrencyCode)
	out := commerce.Order{
		Source:            commerce.SourceShopify,
		Shop:              shop,
		ExternalID:        string(o.LegacyResourceID),
		Number:            orderNumber(o.Name),
		Email:             commerce.NormalizeEmail(o.Email),
		FinancialStatus:   strings.ToLower(o.DisplayFinancialStatus),
		FulfillmentStatus: displayFulfillmentStatus(o.DisplayFulfillmentStatus),
		Currency:          currency,
		AdminURL:          adminURL(shop, o.LegacyResourceID),
		Tracking:          o.tracking(),
	}
	var err error
	if out.Customer, err = o.Customer.normalize(shop); err != nil {
		return commerce.Order{}, err
	}
	var customerPhone phoneCandidate
	if o.Customer != nil {
		customerPhone = phoneCandidate{o.Customer.Phone, ""}
	}
	out.Phone = firstPhone(phoneCandidate{o.Phone, ""}, customerPhone, o.ShippingAddress.phone(), o.BillingAddress.phone())
	if out.TotalMinor, err = minor("totalPriceSet", o.TotalPriceSet.ShopMoney.Amount, currency); err != nil {
		return commerce.Order{}, err
	}
	if r := o.TotalRefundedSet; r != nil && r.ShopMoney.Amount != "" {
		if out.RefundedMinor, err = minor("totalRefundedSet", r.ShopMoney.Amount, currency); err != nil {
			return commerce.Order{}, err
		}
	}
	if out.LineItems, err = o.lineItems(currency); err != nil {
		return commerce.Order{}, err
	}
	if out.CreatedAt, err = parseTime("createdAt", o.CreatedAt); err != nil {
		return commerce.Order{}, err
	}
	if out.UpdatedAt, err = parseTime("updatedAt", o.UpdatedAt); err != nil {
		return commerce.Order{}, err
	}
	if out.CancelledAt, err = parseOptionalTime("cancelledAt", o.CancelledAt); err != nil {
		return commerce.Order{}, err
	}
	return out, nil
}

// displayFulfillmentStatus maps OrderDisplayFulfillmentStatus to REST's
// fulfillment_status words: UNFULFILLED is "unfulfilled" (REST's null),
// PARTIALLY_FULFILLED "partial"; the rest lower-cased.
func displayFulfillmentStatus(s string) string {
	switch s = strings.ToLower(s); s {
	case "", "unfulfilled":
		return "unfulfilled"
	case "partially_fulfilled":
		return "partial"
	}
	return s
}

func (o gqlOrder) lineItems(currency string) ([]commerce.LineItem, error) {
	out := make([]commerce.LineItem, 0, len(o.LineItems.Nodes))
	for i, li := range o.LineItems.Nodes {
		price, err := minor(fmt.Sprintf("lineItems[%d].originalUnitPriceSet", i), li.OriginalUnitPriceSet.ShopMoney.Amount, currency)
		if err != nil {
			return nil, err
		}
		item := commerce.LineItem{
			ExternalID: gidTail(li.ID),
			Title:      li.Title,
			SKU:        li.SKU,
			Quantity:   li.Quantity,
			PriceMinor: price,
		}
		if li.Variant != nil {
			item.VariantID = string(li.Variant.LegacyResourceID)
		}
		if li.Product != nil {
			item.ProductID = string(li.Product.LegacyResourceID)
		}
		out = append(out, item)
	}
	return out, nil
}

// gidTail is the numeric id at the end of a global id
// ("gid://shopify/LineItem/866550311766439020"), which is the REST id.
func gidTail(gid string) string {
	return gid[strings.LastIndexByte(gid, '/')+1:]
}

// tracking returns one Tracking per trackingInfo of the fulfillments that
// were not cancelled or failed.
func (o gqlOrder) tracking() []commerce.Tracking {
	var out []commerce.Tracking
	for _, f := range o.Fulfillments {
		switch strings.ToUpper(f.Status) {
		case "CANCELLED", "ERROR", "FAILURE":
			continue
		}
		for _, ti := range f.TrackingInfo {
			out = append(out, commerce.Tracking{Company: ti.Company, Number: ti.Number, URL: ti.URL, Status: shipmentStatus(f.DisplayStatus)})
		}
	}
	return out
}

// shipmentStatus maps FulfillmentDisplayStatus to REST's shipment_status
// words ("in_transit", "delivered", …). The statuses that say only that
// the merchant fulfilled (FULFILLED, MARKED_AS_FULFILLED, SUBMITTED) are
// REST's null: no carrier status yet.
func shipmentStatus(display string) string {
	switch s := strings.ToLower(display); s {
	case "fulfilled", "marked_as_fulfilled", "submitted":
		return ""
	default:
		return s
	}
}

// normalize maps a GraphQL customer; nil stays nil, and so does one
// without an id.
func (c *gqlCustomer) normalize(shop string) (*commerce.Customer, error) {
	if c == nil || c.LegacyResourceID == "" {
		return nil, nil
	}
	updated, err := parseTime("customer.updatedAt", c.UpdatedAt)
	if err != nil {
		return nil, err
	}
	return &commerce.Customer{
		Source:     commerce.SourceShopify,
		Shop:       shop,
		ExternalID: string(c.LegacyResourceID),
		Email:      commerce.NormalizeEmail(c.Email),
		Phone:      commerce.NormalizePhone(c.Phone, ""),
		FirstName:  c.FirstName,
		LastName:   c.LastName,
		UpdatedAt:  updated,
	}, nil
}
