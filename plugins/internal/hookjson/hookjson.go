// Package hookjson implements the hooks of a plugin that checks one JSON
// value of each payload — the arguments of a tools/call or prompts/get, the
// result of a tools/call or prompts/get, the contents of a resources/read —
// and may block the message or rewrite that value. The plugin writes its
// check once, as an Inspect; each of its hook methods passes the payload to
// the function of the same name here, which picks the value out and builds
// the Result, putting a rewritten value back into a copy of the payload
// that keeps its other fields (the tool name, the forwarded headers, …).
//
// It does not decide which hooks a plugin has: the framework finds them by
// type assertion, so a plugin still declares a method for each hook it
// implements, and only those. Nor does it cover resource_pre_fetch, whose
// payload is a URI rather than a JSON value.
package hookjson

import (
	"context"
	"encoding/json"

	"github.com/mcp-extproc/mcp-extproc/framework"
)

// Inspect is a plugin's check of one JSON value. hook is the hook running
// it; where names the value in a violation's description ("the tool
// arguments"). It returns the value to put in raw's place (nil leaves the
// payload as it is), a violation that blocks the message, and metadata for
// the Result.
type Inspect func(ctx context.Context, hook framework.HookType, where string, raw json.RawMessage, pc *framework.PluginContext) (out json.RawMessage, v *framework.Violation, meta map[string]any, err error)

// PromptPreFetch inspects the prompt arguments.
func PromptPreFetch(ctx context.Context, pl *framework.PromptPreFetchPayload, pc *framework.PluginContext, inspect Inspect) (framework.Result[framework.PromptPreFetchPayload], error) {
	return run(ctx, framework.PromptPreFetch, "the prompt arguments", pl.Args, pc, inspect, func(args json.RawMessage) *framework.PromptPreFetchPayload {
		return &framework.PromptPreFetchPayload{PromptID: pl.PromptID, Args: args}
	})
}

// PromptPostFetch inspects the prompt result (its description and
// messages).
func PromptPostFetch(ctx context.Context, pl *framework.PromptPostFetchPayload, pc *framework.PluginContext, inspect Inspect) (framework.Result[framework.PromptPostFetchPayload], error) {
	return run(ctx, framework.PromptPostFetch, "the prompt result", pl.Result, pc, inspect, func(result json.RawMessage) *framework.PromptPostFetchPayload {
		return &framework.PromptPostFetchPayload{PromptID: pl.PromptID, Result: result}
	})
}

// ToolPreInvoke inspects the tool arguments.
func ToolPreInvoke(ctx context.Context, pl *framework.ToolPreInvokePayload, pc *framework.PluginContext, inspect Inspect) (framework.Result[framework.ToolPreInvokePayload], error) {
	return run(ctx, framework.ToolPreInvoke, "the tool arguments", pl.Args, pc, inspect, func(args json.RawMessage) *framework.ToolPreInvokePayload {
		return &framework.ToolPreInvokePayload{Name: pl.Name, Args: args, Headers: pl.Headers}
	})
}

// ToolPostInvoke inspects the tool result: content blocks, embedded
// resources, structuredContent.
func ToolPostInvoke(ctx context.Context, pl *framework.ToolPostInvokePayload, pc *framework.PluginContext, inspect Inspect) (framework.Result[framework.ToolPostInvokePayload], error) {
	return run(ctx, framework.ToolPostInvoke, "the tool result", pl.Result, pc, inspect, func(result json.RawMessage) *framework.ToolPostInvokePayload {
		return &framework.ToolPostInvokePayload{Name: pl.Name, Result: result}
	})
}

// ResourcePostFetch inspects the resource contents.
func ResourcePostFetch(ctx context.Context, pl *framework.ResourcePostFetchPayload, pc *framework.PluginContext, inspect Inspect) (framework.Result[framework.ResourcePostFetchPayload], error) {
	return run(ctx, framework.ResourcePostFetch, "the resource content", pl.Content, pc, inspect, func(content json.RawMessage) *framework.ResourcePostFetchPayload {
		return &framework.ResourcePostFetchPayload{URI: pl.URI, Content: content}
	})
}

// run inspects raw and builds the Result; with returns the payload with its
// value replaced.
func run[P framework.Payload](ctx context.Context, hook framework.HookType, where string, raw json.RawMessage, pc *framework.PluginContext, inspect Inspect, with func(json.RawMessage) *P) (framework.Result[P], error) {
	out, v, meta, err := inspect(ctx, hook, where, raw, pc)
	res := framework.Result[P]{Violation: v, Metadata: meta}
	if out != nil {
		res.ModifiedPayload = with(out)
	}
	return res, err
}
