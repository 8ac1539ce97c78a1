package policyinput

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/tidwall/gjson"

	"github.com/mcp-extproc/mcp-extproc/framework"
	"github.com/mcp-extproc/mcp-extproc/plugins/internal/listitems"
)

// Decide decides one hook call: a violation denies it, an error is handled
// by the plugin's on_error.
type Decide func(ctx context.Context, in *Input) (*framework.Violation, error)

// HookMethods implements every hook that has an Input: each builds the
// call's Input and asks Decide. A policy kind embeds it, so that its hooks
// are exactly the hooks policies can decide on.
type HookMethods struct {
	Decide Decide
	// Lists says whether the policy governs list hook h. A policy written
	// for calls must not hide every listed item through its default, so
	// list hooks pass unchanged unless the policy says it has rules for
	// them.
	Lists func(h framework.HookType) bool
}

var (
	_ framework.ToolPreInvoker      = HookMethods{}
	_ framework.ToolPostInvoker     = HookMethods{}
	_ framework.PromptPreFetcher    = HookMethods{}
	_ framework.PromptPostFetcher   = HookMethods{}
	_ framework.ResourcePreFetcher  = HookMethods{}
	_ framework.ResourcePostFetcher = HookMethods{}
	_ framework.ToolsPostLister     = HookMethods{}
	_ framework.PromptsPostLister   = HookMethods{}
	_ framework.ResourcesPostLister = HookMethods{}
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

// ToolsPostList decides each listed tool; the denied ones are hidden.
func (m HookMethods) ToolsPostList(ctx context.Context, pl *framework.ToolsPostListPayload, pc *framework.PluginContext) (framework.Result[framework.ToolsPostListPayload], error) {
	out, hidden, err := m.filter(ctx, framework.ToolsPostList, pl.Tools, global(pc))
	return listResult(out, hidden, err, func(out json.RawMessage) *framework.ToolsPostListPayload {
		return &framework.ToolsPostListPayload{Tools: out, ServerID: pl.ServerID}
	})
}

// PromptsPostList decides each listed prompt; the denied ones are hidden.
func (m HookMethods) PromptsPostList(ctx context.Context, pl *framework.PromptsPostListPayload, pc *framework.PluginContext) (framework.Result[framework.PromptsPostListPayload], error) {
	out, hidden, err := m.filter(ctx, framework.PromptsPostList, pl.Prompts, global(pc))
	return listResult(out, hidden, err, func(out json.RawMessage) *framework.PromptsPostListPayload {
		return &framework.PromptsPostListPayload{Prompts: out, ServerID: pl.ServerID}
	})
}

// ResourcesPostList decides each listed resource; the denied ones are hidden.
func (m HookMethods) ResourcesPostList(ctx context.Context, pl *framework.ResourcesPostListPayload, pc *framework.PluginContext) (framework.Result[framework.ResourcesPostListPayload], error) {
	out, hidden, err := m.filter(ctx, framework.ResourcesPostList, pl.Resources, global(pc))
	return listResult(out, hidden, err, func(out json.RawMessage) *framework.ResourcesPostListPayload {
		return &framework.ResourcesPostListPayload{Resources: out, ServerID: pl.ServerID}
	})
}

// listResult turns a filtered list into a hook result: the shortened list
// (built by payload) with its hidden items, or no change.
func listResult[P framework.Payload](out json.RawMessage, hidden []framework.HiddenItem, err error, payload func(json.RawMessage) *P) (framework.Result[P], error) {
	if err != nil || out == nil {
		return framework.Result[P]{}, err
	}
	return framework.Result[P]{ModifiedPayload: payload(out), Metadata: map[string]any{framework.MetadataHiddenItems: hidden}}, nil
}

// filter decides every item of a list (one Input each, variable item) and
// returns the list without the denied ones, or nil when none was denied (or
// the policy has no rules for h). An evaluation error for any item is the
// hook's error (on_error decides: fail closed by default, the whole list is
// withheld).
func (m HookMethods) filter(ctx context.Context, h framework.HookType, list json.RawMessage, g *framework.GlobalContext) (json.RawMessage, []framework.HiddenItem, error) {
	if m.Lists == nil || !m.Lists(h) {
		return nil, nil, nil
	}
	var err error
	out, hidden, ferr := listitems.Filter(list, func(item gjson.Result) *framework.HiddenItem {
		if err != nil {
			return nil
		}
		v, derr := m.Decide(ctx, ListItem(h, json.RawMessage(item.Raw), g))
		if err = derr; err != nil || v == nil {
			return nil
		}
		name := item.Get("name").String()
		if h == framework.ResourcesPostList {
			name = item.Get("uri").String()
		}
		return &framework.HiddenItem{Name: name, Code: v.Code, Reason: v.Reason}
	})
	if err == nil {
		err = ferr
	}
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", h, err)
	}
	return out, hidden, nil
}

func global(pc *framework.PluginContext) *framework.GlobalContext {
	if pc == nil {
		return nil
	}
	return pc.Global
}
