// Package llmrouter owns frontdesk's access to language models: the Request
// and Response types the conversation actor speaks; the Backend interface
// and its optional Streamer and Embedder interfaces; the backends (OpenAI
// for any OpenAI-compatible server, VLLM, LlamaCpp for llama-server,
// Ollama for Ollama's native API, each with bounded retries, streaming and
// embeddings); the Offline responder of last resort; and the Router,
// which picks backends by a routing Policy (conditions, weighted sticky
// splits), guards each with a circuit breaker, a concurrency limit and a
// deadline, and falls back to Offline when none can answer; the Router
// also embeds, with the one backend its configuration names. LoadConfig
// reads the router's YAML file and NewFromConfig builds the Router from
// it, with every request's host checked against the configured backends.
//
// A backend that could not answer after its own retries returns an error
// wrapping ErrBackendUnavailable, and one that cannot serve this kind of
// request ErrUnsupported; the Router then moves on, as it does past an
// open circuit (ErrCircuitOpen), a full backend (ErrBackendBusy) or a
// backend's own deadline. A request that no backend could ever send wraps
// ErrInvalidRequest, and an error answer the server meant (a 400, say) is
// an *APIError: neither falls back. The caller giving up (its context
// cancelled or past its deadline) is returned as is, never turned into a
// fallback. A stream that has handed a piece to its caller never falls
// back either.
//
// Concurrency: backends and the Router are safe for concurrent use; each
// call is independent. What changes after construction: each backend's
// circuit breaker (its own mutex, a leaf lock: nothing else is locked
// while it is held), each backend's concurrency semaphore (a buffered
// channel, never waited on), and LlamaCpp's readiness flag (atomic).
package llmrouter
