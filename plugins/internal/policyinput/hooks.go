package policyinput

import (
	"context"

	"github.com/mcp-extproc/mcp-extproc/framework"
)

// Decide decides one hook call: a violation denies it, an error is handled
// by the plugin's on_error.
type Decide func(ctx context.Context, in *Input) (*framework.Violation, error)

// HookMethods implements every hook that has an Input: each builds the
// call's Input and asks Decide. A policy kind embeds it, so that its hooks
// are exactly the hooks policies can decide on.
type HookMethods struct {
	Decide Decide
}

var (
	_ framework.ToolPreInvoker      = HookMethods{}
	_ framework.ToolPostInvoker     = HookMethods{}
	_ framework.PromptPreFetcher    = HookMethods{}
	_ framework.PromptPostFetcher   = HookMethods{}
	_ framework.ResourcePreFetcher  = HookMethods{}
	_ framework.ResourcePostFetcher = HookMethods{}
)

// ToolPreInvoke decides a tools/call.
func (m HookMethods) ToolPreInvoke(ctx context.Context, pl *framework.ToolPreInvokePayload, pc *framework.PluginContext) (framework.Result[framework.ToolPreInvokePayload], error) {
	v, err := m.Decide(ctx, ToolPreInvoke(pl, global(pc)))
	return framework.Result[framework.ToolPreInvokePayload]{Violation: v}, err
}

// ToolPostInvoke decides a tools/call result.
func (m HookMethods) ToolPostInvoke(ctx context.Context, pl *framework.ToolPostInvokePayload, pc *framework.PluginContext) (framework.Result[framework.ToolPostInvokePayload], error) {
	v, err := m.Decide(ctx, ToolPostInvoke(pl, global(pc)))
	return framework.Result[framework.ToolPostInvokePayload]{Violation: v}, err
}

// PromptPreFetch decides a prompts/get.
func (m HookMethods) PromptPreFetch(ctx context.Context, pl *framework.PromptPreFetchPayload, pc *framework.PluginContext) (framework.Result[framework.PromptPreFetchPayload], error) {
	v, err := m.Decide(ctx, PromptPreFetch(pl, global(pc)))
	return framework.Result[framework.PromptPreFetchPayload]{Violation: v}, err
}

// PromptPostFetch decides a prompts/get result.
func (m HookMethods) PromptPostFetch(ctx context.Context, pl *framework.PromptPostFetchPayload, pc *framework.PluginContext) (framework.Result[framework.PromptPostFetchPayload], error) {
	v, err := m.Decide(ctx, PromptPostFetch(pl, global(pc)))
	return framework.Result[framework.PromptPostFetchPayload]{Violation: v}, err
}

// ResourcePreFetch decides a resources/read.
func (m HookMethods) ResourcePreFetch(ctx context.Context, pl *framework.ResourcePreFetchPayload, pc *framework.PluginContext) (framework.Result[framework.ResourcePreFetchPayload], error) {
	v, err := m.Decide(ctx, ResourcePreFetch(pl, global(pc)))
	return framework.Result[framework.ResourcePreFetchPayload]{Violation: v}, err
}

// ResourcePostFetch decides a resources/read result.
func (m HookMethods) ResourcePostFetch(ctx context.Context, pl *framework.ResourcePostFetchPayload, pc *framework.PluginContext) (framework.Result[framework.ResourcePostFetchPayload], error) {
	v, err := m.Decide(ctx, ResourcePostFetch(pl, global(pc)))
	return framework.Result[framework.ResourcePostFetchPayload]{Violation: v}, err
}

func global(pc *framework.PluginContext) *framework.GlobalContext {
	if pc == nil {
		return nil
	}
	return pc.Global
}
