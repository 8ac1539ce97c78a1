// Package ratelimit is the built-in rate_limit plugin kind: it admits
// tools/call and prompts/get requests at a configured rate per key — the
// caller's user, tenant, the MCP server, the tool or a forwarded header, or a
// combination — and answers an exceeded limit with HTTP 429, a Retry-After
// header and the design's JSON-RPC error.
//
// Limits are kept by a backend: memory (one process) or redis (every replica
// sharing one Redis, one atomic script per check). The algorithm is GCRA, a
// token bucket kept as one timestamp per key. It does not queue or delay
// requests, and it does not limit resources/read. Importing the package
// registers the kind.
package ratelimit
