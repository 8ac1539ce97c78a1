// Package openaimoderation is the built-in openai_moderation plugin kind:
// it sends the text of prompt and tool arguments and of results to an
// OpenAI-compatible moderation endpoint (POST {base_url}/moderations) and
// blocks what the service flags, in the categories the policy chooses and
// at the thresholds it sets.
//
// It does not rewrite text, and when the service cannot answer it blocks
// or lets the message pass as on_service_error says. Its client
// (timeouts, retries, circuit breaker, verdict cache, TLS, metrics) is
// plugins/internal/outbound. It also loads ContextForge's
// ContentModerationPlugin entries whose provider is openai. Importing the
// package registers the kind.
package openaimoderation
