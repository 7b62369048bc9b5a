package persistence

import "slices"

// Outcomes of an LLMCall.
const (
	// LLMOutcomeOK is a completion a model answered.
	LLMOutcomeOK = "ok"
	// LLMOutcomeError is a call that failed: no completion came back.
	LLMOutcomeError = "error"
	// LLMOutcomeOffline is a completion the Offline responder gave: no model
	// saw the conversation.
	LLMOutcomeOffline = "offline"
)

// ValidLLMOutcome reports whether o is a known LLMCall outcome.
func ValidLLMOutcome(o string) bool {
	return slices.Contains([]string{LLMOutcomeOK, LLMOutcomeError, LLMOutcomeOffline}, o)
}

// LLMCall records one completion asked of the LLM router, whether it was
// answered or failed, for cost and quality accounting. LLM calls are
// append-only: the store has no update for them.
type LLMCall struct {
	Base

	// AgentProfileID, AgentVersion (the prompt version live at the call; 0
	// when unknown) and ConversationID say whose turn it was; each may be
	// empty for calls made outside a conversation.
	AgentProfileID string
	AgentVersion   int
	ConversationID string
	// Backend and Model are what answered (empty when the call failed
	// before any answered); Route is the routing-policy route that chose
	// the backend (empty when none did).
	Backend string
	Model   string
	Route   string
	// PromptTokens and CompletionTokens are the usage the backend reported.
	PromptTokens     int
	CompletionTokens int
	// LatencyMS is the call's duration in milliseconds, failed backends
	// included.
	LatencyMS int64
	// Outcome is LLMOutcomeOK, LLMOutcomeError or LLMOutcomeOffline.
	Outcome string
	// Error describes the failure when Outcome is LLMOutcomeError.
	Error string
}

// LLMUsage sums a tenant's LLM calls of one agent profile, agent version,
// backend and model.
type LLMUsage struct {
	AgentProfileID string
	AgentVersion   int
	Backend        string
	Model          string
	// Calls counts every call; Errors and Offline count those of each
	// outcome.
	Calls   int64
	Errors  int64
	Offline int64
	// PromptTokens and CompletionTokens are the summed token usage.
	PromptTokens     int64
	CompletionTokens int64
	// AvgLatencyMS and MaxLatencyMS describe the calls' latency.
	AvgLatencyMS float64
	MaxLatencyMS int64
}
