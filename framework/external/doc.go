// Package external runs plugins that live outside the process: MCP servers
// speaking ContextForge's plugin wire format (cpex 0.1.x). It has both
// sides of that wire:
//
//   - the client: kind: external plugins, reached over STDIO, Streamable
//     HTTP or SSE with the official Go MCP SDK, configured from their
//     server's get_plugin_config and called through invoke_hook (or the
//     older per-hook tools), with reconnection and one retry;
//   - the server: any compiled-in plugin served to other gateways as such an
//     MCP server (`extproc plugin-server`).
//
// Importing the package enables kind: external in the framework.
package external
