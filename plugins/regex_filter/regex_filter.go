package regexfilter

import (
	"context"
	"fmt"

	"github.com/mcp-extproc/mcp-extproc/framework"
)

// Plugin is a loaded regex_filter. It is immutable and safe for concurrent use.
type Plugin struct {
	rules []rule
}

// ToolPreInvoke rewrites every string value of the tools/call arguments
// (keys and the tool name are left alone).
func (p *Plugin) ToolPreInvoke(ctx context.Context, pl *framework.ToolPreInvokePayload, _ *framework.PluginContext) (framework.Result[framework.ToolPreInvokePayload], error) {
	var res framework.Result[framework.ToolPreInvokePayload]
	out, changed, err := p.rewrite(ctx, pl.Args, nil)
	if err != nil {
		return res, fmt.Errorf("regex_filter: arguments: %w", err)
	}
	if changed {
		res.ModifiedPayload = &framework.ToolPreInvokePayload{Name: pl.Name, Args: out, Headers: pl.Headers}
	}
	return res, nil
}

// ToolPostInvoke rewrites the strings of a tools/call result: text content,
// structuredContent, embedded resources, … but not its protocol fields.
func (p *Plugin) ToolPostInvoke(ctx context.Context, pl *framework.ToolPostInvokePayload, _ *framework.PluginContext) (framework.Result[framework.ToolPostInvokePayload], error) {
	var res framework.Result[framework.ToolPostInvokePayload]
	out, changed, err := p.rewrite(ctx, pl.Result, isProtocolField)
	if err != nil {
		return res, fmt.Errorf("regex_filter: result: %w", err)
	}
	if changed {
		res.ModifiedPayload = &framework.ToolPostInvokePayload{Name: pl.Name, Result: out}
	}
	return res, nil
}

// PromptPreFetch rewrites every string value of the prompts/get arguments.
func (p *Plugin) PromptPreFetch(ctx context.Context, pl *framework.PromptPreFetchPayload, _ *framework.PluginContext) (framework.Result[framework.PromptPreFetchPayload], error) {
	var res framework.Result[framework.PromptPreFetchPayload]
	out, changed, err := p.rewrite(ctx, pl.Args, nil)
	if err != nil {
		return res, fmt.Errorf("regex_filter: arguments: %w", err)
	}
	if changed {
		res.ModifiedPayload = &framework.PromptPreFetchPayload{PromptID: pl.PromptID, Args: out}
	}
	return res, nil
}

// PromptPostFetch rewrites the strings of a prompts/get result: its
// description and message texts, but not its protocol fields.
func (p *Plugin) PromptPostFetch(ctx context.Context, pl *framework.PromptPostFetchPayload, _ *framework.PluginContext) (framework.Result[framework.PromptPostFetchPayload], error) {
	var res framework.Result[framework.PromptPostFetchPayload]
	out, changed, err := p.rewrite(ctx, pl.Result, isProtocolField)
	if err != nil {
		return res, fmt.Errorf("regex_filter: result: %w", err)
	}
	if changed {
		res.ModifiedPayload = &framework.PromptPostFetchPayload{PromptID: pl.PromptID, Result: out}
	}
	return res, nil
}
