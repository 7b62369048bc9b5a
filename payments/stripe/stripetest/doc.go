// Package stripetest provides a fake Stripe for tests that speaks the
// documented wire formats: Server, an httptest API for Checkout Sessions,
// PaymentIntents and Refunds (form-encoded bodies, bearer keys, Stripe's
// error objects, its idempotency layer, list pagination) with knobs for
// 429, 409 with Stripe-Should-Retry, 5xx, lost answers and pruned
// idempotency keys; and signed webhook deliveries (Sign, SignRotated,
// Event, NewWebhookRequest), including the events Server records as
// payments are made, declined, expired and refunded.
package stripetest
