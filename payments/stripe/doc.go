// Package stripe owns Stripe's wire formats: it creates the link a
// customer opens to pay (a Checkout Session), finds that session again
// after a crash, refunds payments, verifies webhook deliveries
// (Stripe-Signature) and parses their events into Event.
//
// # Why a Checkout Session
//
// The customer needs a URL to pay an amount the agent decided on. Stripe
// offers three documented objects for that; only a Checkout Session fits:
//
//   - A Checkout Session in mode=payment takes an ad-hoc amount inline
//     (line_items[0][price_data] with unit_amount and product_data[name]),
//     is single-use, expires (24 hours by default), carries our reference
//     (client_reference_id and metadata) and returns the hosted page's url.
//     Since API version 2022-08-01 its PaymentIntent is created only when the
//     customer confirms; payment_intent is set from then on, and
//     payment_intent_data[metadata] puts our reference on it too.
//   - A Payment Link is reusable (many payments per link) and needs a Price
//     object created first: wrong for "exactly once".
//   - A bare PaymentIntent has no Stripe-hosted page; it needs our own page
//     running Stripe.js.
//
// # Exactly once
//
// Every POST carries an Idempotency-Key: retrying with the same key and
// parameters replays Stripe's saved answer instead of creating a second
// object. Stripe may prune keys after 24 hours, so before retrying after a
// crash a caller first asks FindByReference, which pages through the
// sessions created since the first attempt (the list API, which unlike the
// search API is read-after-write consistent; Checkout Sessions have no
// search API) and matches client_reference_id.
//
// A request that failed with a *commerce.RetryError in its chain (network
// failure, 5xx, 429, 409 or Stripe-Should-Retry: true, after MaxRetries) has
// an unknown outcome: reconcile before creating anything new. Any other
// error is Stripe's definite answer.
//
// # Amounts
//
// Amounts here are minor units as ISO 4217 counts them (commerce.MinorUnits).
// Stripe's API mostly agrees, except where its currency page says otherwise:
// ISK is two-decimal in the API (100 = 1 króna) and MGA is zero-decimal.
// The conversion happens at the wire, both ways.
//
// # Versions
//
// Requests pin Stripe-Version APIVersion. Webhook events are rendered in
// the API version of the webhook endpoint, not of our requests: create the
// endpoint with the same version.
//
// Concurrency: Client holds no mutable state and is safe for concurrent
// use; VerifySignature and ParseEvent are pure functions.
package stripe
