// Package framework is the plugin engine of mcp-extproc: hook types and their
// payloads, results and violations, the plugin interfaces, the registry of
// built-in kinds, the YAML configuration model and its strict loader, and the
// Manager that runs a pipeline of plugins for each hook.
//
// It knows nothing of Envoy, gRPC or HTTP: it can be embedded in any Go
// program. The Envoy adapter (package extproc) parses MCP traffic with
// package mcpparse, builds payloads, calls the Manager's hook methods and turns
// the outcome into Envoy responses.
//
// A plugin implements only the hooks it has, one small interface per hook
// (ToolPreInvoker, ToolPostInvoker, …), found by type assertion, plus the
// optional Initializer and Shutdowner.
package framework
