package regexfilter

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/mcp-extproc/mcp-extproc/framework"
	"github.com/mcp-extproc/mcp-extproc/plugins/internal/hookjson"
)

// Plugin is a loaded regex_filter. It is immutable and safe for concurrent use.
type Plugin struct {
	rules []rule
}

// ToolPreInvoke rewrites every string value of the tools/call arguments
// (keys and the tool name are left alone).
func (p *Plugin) ToolPreInvoke(ctx context.Context, pl *framework.ToolPreInvokePayload, pc *framework.PluginContext) (framework.Result[framework.ToolPreInvokePayload], error) {
	return hookjson.ToolPreInvoke(ctx, pl, pc, p.inspect)
}

// ToolPostInvoke rewrites the strings of a tools/call result: text content,
// structuredContent, embedded resources, … but not its protocol fields.
func (p *Plugin) ToolPostInvoke(ctx context.Context, pl *framework.ToolPostInvokePayload, pc *framework.PluginContext) (framework.Result[framework.ToolPostInvokePayload], error) {
	return hookjson.ToolPostInvoke(ctx, pl, pc, p.inspect)
}

// PromptPreFetch rewrites every string value of the prompts/get arguments.
func (p *Plugin) PromptPreFetch(ctx context.Context, pl *framework.PromptPreFetchPayload, pc *framework.PluginContext) (framework.Result[framework.PromptPreFetchPayload], error) {
	return hookjson.PromptPreFetch(ctx, pl, pc, p.inspect)
}

// PromptPostFetch rewrites the strings of a prompts/get result: its
// description and message texts, but not its protocol fields.
func (p *Plugin) PromptPostFetch(ctx context.Context, pl *framework.PromptPostFetchPayload, pc *framework.PluginContext) (framework.Result[framework.PromptPostFetchPayload], error) {
	return hookjson.PromptPostFetch(ctx, pl, pc, p.inspect)
}

// inspect is the plugin's hookjson.Inspect: it rewrites the arguments of a
// request (a pre hook) or the result of a response, whose protocol fields
// it leaves alone, and returns the new JSON, or nil when nothing matched.
func (p *Plugin) inspect(ctx context.Context, hook framework.HookType, _ string, raw json.RawMessage, pc *framework.PluginContext) (json.RawMessage, *framework.Violation, map[string]any, error) {
	part, skip := "result", isProtocolField
	if hook.IsPre() {
		part, skip = "arguments", nil
	}
	out, changed, err := p.rewrite(ctx, pc, raw, skip)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("regex_filter: %s: %w", part, err)
	}
	if !changed {
		return nil, nil, nil, nil
	}
	return out, nil, nil, nil
}
