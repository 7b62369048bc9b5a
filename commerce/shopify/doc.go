// Package shopify owns Shopify's wire formats: it verifies webhook
// deliveries (X-Shopify-Hmac-Sha256) and reads their headers, parses the
// REST-shaped webhook bodies (orders/*, refunds/create, customers/*,
// products/*, app/uninstalled) into commerce.Event, reads orders,
// customers and products (see product.go) through the Admin GraphQL API
// (Client, a commerce.Shop) with Shopify's
// cost-based throttling, 429 Retry-After and 5xx backoff, and refunds
// orders through refundCreate exactly once per request key (Client, a
// commerce.Refunder; see refund.go).
//
// Both paths produce the same normalized values: numeric ids as decimal
// strings (GraphQL's legacyResourceId equals the webhook's id), order
// numbers without "#", lower-case financial and fulfillment statuses
// ("unfulfilled" for none), exact money in minor units of the shop
// currency, E.164 phones, lower-cased emails and UTC times.
//
// Concurrency: Client holds no mutable state and is safe for concurrent
// use; Parse, Verify and DeliveryFrom are pure functions.
package shopify
