package framework

import "encoding/json"

// Payloads carry the parts of an MCP message a plugin inspects. Arguments,
// results and contents stay raw JSON (json.RawMessage): they are decoded only
// by the plugins that need them — their strings once per hook run for all
// of them (PluginContext.Text), a map with mcpparse.DecodeArguments — and
// a plugin that changes them returns new bytes in its Result's
// ModifiedPayload. The JSON field names are ContextForge's (cpex 0.1.x).
//
// Payloads handed to a plugin are read-only: a plugin that changes something
// returns a modified copy, never edits the one it was given.

// ToolPreInvokePayload is the tools/call request before it reaches the server.
type ToolPreInvokePayload struct {
	// Name is params.name, the tool being called.
	Name string `json:"name"`
	// Args is params.arguments, a JSON object ({} when absent).
	Args json.RawMessage `json:"args"`
	// Headers are the request headers listed in mcp.forward_headers.
	Headers map[string]string `json:"headers,omitempty"`
}

// ToolPostInvokePayload is the tools/call result before it reaches the client.
type ToolPostInvokePayload struct {
	// Name is the tool that produced the result, "" when the response could
	// not be matched to its request (conditions then treat it as matching).
	Name string `json:"name"`
	// Result is the JSON-RPC result object (content, structuredContent, isError…).
	Result json.RawMessage `json:"result"`
}

// PromptPreFetchPayload is the prompts/get request.
type PromptPreFetchPayload struct {
	// PromptID is params.name.
	PromptID string `json:"prompt_id"`
	// Args is params.arguments, a JSON object ({} when absent).
	Args json.RawMessage `json:"args"`
}

// PromptPostFetchPayload is the prompts/get result.
type PromptPostFetchPayload struct {
	// PromptID is the prompt's name, "" when unknown.
	PromptID string `json:"prompt_id"`
	// Result is the JSON-RPC result object (description, messages).
	Result json.RawMessage `json:"result"`
}

// ResourcePreFetchPayload is the resources/read request.
type ResourcePreFetchPayload struct {
	// URI is params.uri.
	URI string `json:"uri"`
	// Metadata is params._meta, if the client sent one.
	Metadata json.RawMessage `json:"metadata,omitempty"`
}

// ResourcePostFetchPayload is the resources/read result.
type ResourcePostFetchPayload struct {
	// URI is the resource's URI, "" when unknown.
	URI string `json:"uri"`
	// Content is the JSON-RPC result object ({"contents":[…]}).
	Content json.RawMessage `json:"content"`
}

// ToolsPostListPayload is a tools/list result (one page) before it reaches
// the client. A plugin that hides or rewrites tools returns a modified
// Tools array; the rest of the result (nextCursor, _meta) is kept.
type ToolsPostListPayload struct {
	// Tools is the result's tools array, as received.
	Tools json.RawMessage `json:"tools"`
	// ServerID is the MCP server's id (mcp.identity.server_id_header).
	ServerID string `json:"server_id"`
}

// PromptsPostListPayload is a prompts/list result (one page).
type PromptsPostListPayload struct {
	// Prompts is the result's prompts array, as received.
	Prompts  json.RawMessage `json:"prompts"`
	ServerID string          `json:"server_id"`
}

// ResourcesPostListPayload is a resources/list result (one page).
type ResourcesPostListPayload struct {
	// Resources is the result's resources array, as received.
	Resources json.RawMessage `json:"resources"`
	ServerID  string          `json:"server_id"`
}

// MetadataHiddenItems is the Result.Metadata key under which a list hook
// reports the items it removed, as a []HiddenItem: the executor counts them
// (mcp_extproc_list_items_hidden_total{plugin,code}) and writes an audit
// record for each.
const MetadataHiddenItems = "hidden_items"

// MetadataFlaggedItems is the Result.Metadata key under which a list hook
// reports items it found fault with but left in the list (an audit-only
// action), as a []HiddenItem: each is an audit record and counts in
// mcp_extproc_list_items_flagged_total{plugin,code}.
const MetadataFlaggedItems = "flagged_items"

// HiddenItem is one listed tool, prompt or resource a plugin removed.
type HiddenItem struct {
	Name   string `json:"name"`   // tool or prompt name, resource URI
	Code   string `json:"code"`   // why, as a violation code (TOOL_DENIED, TOOL_POISONED, …)
	Reason string `json:"reason"` // for the audit record; never the item's content
}

// ErrorPayload wraps a JSON-RPC error object ({"code", "message", "data"})
// as the result of a post hook for plugins that read errors
// (ErrorResultReader): {"error": <the error object>}. A result never has a
// top-level "error" member, so a plugin can tell the two apart; string
// walkers see error.message and error.data like any other text.
func ErrorPayload(errObj json.RawMessage) json.RawMessage {
	out := make([]byte, 0, len(errObj)+10)
	out = append(out, `{"error":`...)
	out = append(out, errObj...)
	return append(out, '}')
}

// Payload is the set of payload types, for the generic executor.
type Payload interface {
	ToolPreInvokePayload | ToolPostInvokePayload |
		PromptPreFetchPayload | PromptPostFetchPayload |
		ResourcePreFetchPayload | ResourcePostFetchPayload |
		ToolsPostListPayload | PromptsPostListPayload | ResourcesPostListPayload
}
