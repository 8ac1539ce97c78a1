// Package external runs plugins that live outside the process: MCP servers
// speaking ContextForge's plugin wire format (cpex 0.1.x). It has both
// sides of that wire:
//
//   - the client: kind: external plugins, reached over STDIO, Streamable
//     HTTP or SSE, configured from their server's get_plugin_config and
//     called through invoke_hook (or the older per-hook tools), many calls
//     in flight on one session, with reconnection and one retry;
//   - the server: any compiled-in plugin served to other gateways as such an
//     MCP server (`extproc plugin-server`).
//
// The JSON-RPC framing of MCP is written here (the official Go MCP SDK
// serves only the legacy SSE transport): a plugin call is one small
// tools/call, and the SDK's generic session layer cost far more than the
// call itself.
//
// Importing the package registers kind: external in the default registry
// (Kind returns it for other registries).
package external
