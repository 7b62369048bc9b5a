// Package llmrouter owns frontdesk's access to language models: the Request
// and Response types the conversation actor speaks, the Backend interface,
// an OpenAI-compatible chat-completions backend with bounded retries, the
// Offline responder of last resort, and the Router that tries backends in
// order and falls back to Offline when none can answer.
//
// A backend that could not answer after its own retries returns an error
// wrapping ErrBackendUnavailable; the Router then moves on. A request that no
// backend could ever send wraps ErrInvalidRequest, and an error answer the
// server meant (a 400, say) is an *APIError: neither falls back. The caller
// giving up (its context cancelled or past its deadline) is returned as is,
// never turned into a fallback.
//
// Concurrency: OpenAI, Offline and Router hold no mutable state after
// construction and are safe for concurrent use; each Complete call is
// independent.
package llmrouter
