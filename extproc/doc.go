// Package extproc is the Envoy adapter of mcp-extproc: a gRPC ext_proc
// server (envoy.service.ext_proc.v3) that, for every HTTP exchange Envoy
// streams to it, recognises MCP traffic, parses it with package mcpparse,
// runs the framework's plugin pipelines at the design's hook points, and
// answers Envoy with continue, a rewrite or an immediate response.
//
// It also owns operations: listeners (TCP, unix socket, TLS/mTLS), the gRPC
// health service, Prometheus metrics and health endpoints, config hot
// reload and graceful shutdown. Plugin internals are not its business.
package extproc
