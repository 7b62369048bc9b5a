// Package magento owns the wire formats of Magento 2 and Adobe Commerce:
// it verifies webhook signatures (x-magento-signature, the hex HMAC of the
// open-source async-events module; x-adobe-commerce-webhook-signature, the
// RSA signature of Adobe Commerce webhooks), parses both bodies into
// commerce.Event, reads orders and customers through the REST API
// (Client, a commerce.Shop) with searchCriteria paging, 429 Retry-After and
// 5xx backoff, and refunds orders as credit memos, online through the
// invoice or offline, exactly once per request key (Client, a
// commerce.Refunder; see refund.go).
//
// Magento writes numbers as JSON numbers in REST answers and as strings in
// model data ("grand_total": "165.0000"), and PHP writes an empty object
// as []; the decoders here accept all of these. Both paths produce the
// same normalized values: entity ids as decimal strings, increment ids as
// order numbers, order states mapped to Shopify's financial-status words,
// exact money in minor units of the order currency, E.164 phones read in
// the address's country, lower-cased emails and UTC times.
//
// Concurrency: Client holds no mutable state and is safe for concurrent
// use; the parsers and verifiers are pure functions.
package magento
