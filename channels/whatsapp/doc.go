// Package whatsapp owns frontdesk's side of the WhatsApp Cloud API wire
// format: it verifies webhook signatures and verification challenges, parses
// and normalizes "messages" webhooks into events.MessageReceived and
// events.MessageStatus, classifies Graph API errors, and sends text and
// read receipts through the Graph API with a per-number rate limiter.
//
// It holds no HTTP server and no store: the gateway calls VerifySignature,
// VerifyChallenge and Parse on raw requests, and the channel sender calls a
// Client, deciding retries with APIError.Retryable and RetryDelay.
//
// Concurrency: Client and RateLimiter are safe for concurrent use. RateLimiter
// guards its map of per-number buckets with one mutex, held only to look a
// bucket up or create it and never while waiting; the buckets themselves
// (golang.org/x/time/rate) are safe for concurrent use.
package whatsapp
