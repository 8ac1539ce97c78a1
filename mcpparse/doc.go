// Package mcpparse reads, checks and rewrites MCP (Model Context Protocol)
// JSON-RPC traffic as bytes: the codec the mcp-extproc filter puts between
// Envoy and the plugins.
//
// It does five things, each in its own file:
//
//   - Parse (envelope.go, validate.go) validates a body in one allocation-free
//     pass and classifies each message — request, notification, response or
//     error — with its id kept as written, its escape-decoded method, and its
//     params, result and error as raw sub-slices with their byte offsets.
//   - The MCP mapping (mcp.go) names the hooked methods (tools/call,
//     prompts/get, resources/read), extracts their payload fields, and
//     classifies results by shape when their request is unknown.
//   - Rewriting (rewrite.go, response.go) replaces subtrees by byte offset,
//     leaving every other byte as it was, and builds JSON-RPC error responses,
//     isError tool results and batch responses.
//   - WalkStrings (walk.go) visits every string of a subtree and re-emits it
//     only if a visitor changed something: the primitive for masking plugins.
//   - SSEDecoder and EncodeEvent (sse.go) split text/event-stream responses
//     into events across arbitrary chunk boundaries; DecodeContent
//     (encoding.go) undoes gzip and deflate within a size limit.
//
// The filter is only as safe as its parser: a message that this package and
// the MCP server behind the filter could read differently would let a client
// slip past policy. Parse therefore rejects, before any plugin runs, every
// construct on which common JSON parsers disagree — duplicate keys (compared
// after escape decoding), keys that differ from a protocol key (or, by
// default, from another key of the same object) only by Unicode case folding,
// invalid UTF-8 and lone surrogate escapes, a byte order mark, trailing data,
// and nesting past a limit — and it decodes escapes before matching methods
// and keys. Errors are *Error values carrying a JSON-RPC code and a Reason
// usable with errors.Is.
//
// The package knows nothing of plugins, gRPC or Envoy, and imports nothing
// from this repository. Envelope fields are read from the spans the validator
// recorded during its pass, so what was validated is exactly what is read;
// gjson serves the ad-hoc reads (result shapes). Arguments and results are
// never decoded unless asked (DecodeArguments).
package mcpparse
