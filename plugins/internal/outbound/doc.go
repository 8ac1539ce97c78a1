// Package outbound is the HTTP client of the plugin kinds that ask a
// service for a verdict (openai_moderation, llama_guard, webhook): one
// Client per plugin, named after it, that
//
//   - bounds every attempt by its own timeout, inside the plugin call's
//     deadline;
//   - retries, with jittered exponential backoff, only calls the caller
//     marks idempotent, and only on failures a retry can cure (connection
//     errors, attempt timeouts, 429 and 5xx answers);
//   - stops calling a failing service for a while (a circuit breaker);
//   - remembers verdicts in an LRU cache keyed by a SHA-256 of the content,
//     for a TTL;
//   - speaks TLS (a CA file, a client certificate, insecure_skip_verify) and
//     authenticates (bearer token, basic, API key in a named header) with a
//     secret read from a file or the environment;
//   - counts latency, errors, retries, cache hits and the breaker's state
//     per service in Prometheus (mcp_extproc_outbound_*).
//
// Secrets are held in a type that never prints: errors, logs and metrics
// name the service and the URL's host and path, never a token, a password,
// the URL's user info or its query.
//
// What to send and how to read the answer is the kind's: a Client moves
// bytes and hands the answer's body to the kind's decode function.
package outbound
