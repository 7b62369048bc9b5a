// Package whatsapp is the WhatsApp Cloud API channel. It owns the wire
// format: it verifies webhook signatures and verification challenges, parses
// and normalizes "messages" webhooks into events.MessageReceived and
// events.MessageStatus (with the customer's phone and the sender's client
// key), classifies Graph API errors (retryable or permanent, Retry-After),
// paces calls with a per-number rate limiter (messages in one bucket, read
// receipts and typing indicators in another), and sends text, reply
// buttons, media, read receipts and typing indicators through the Graph
// API. It builds signed webhook bodies (Sign, TextWebhook) for the demo and
// for tests.
//
// Channel puts all of it behind channels.Channel: the gateway's one webhook
// handler and the one channels.Sender use it through that interface and
// never name WhatsApp. It holds no HTTP server and no store.
//
// Concurrency: Channel, Client and RateLimiter are safe for concurrent use.
// RateLimiter guards its map of per-number buckets with one mutex, held only
// to look a bucket up or create it and never while waiting; the buckets
// themselves (golang.org/x/time/rate) are safe for concurrent use.
package whatsapp
