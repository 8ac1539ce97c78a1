// Package e2e holds end-to-end tests: real MCP clients and servers (the
// official Go SDK, the TypeScript SDK, the MCP conformance suite) talking
// through the Envoy stand-in and the ext_proc server, every peer on
// 127.0.0.1.
package e2e
