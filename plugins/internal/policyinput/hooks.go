package policyinput

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"

	"github.com/tidwall/gjson"

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
	res := framework.Result[framework.ToolsPostListPayload]{}
	if err == nil && out != nil {
		res.ModifiedPayload = &framework.ToolsPostListPayload{Tools: out, ServerID: pl.ServerID}
		res.Metadata = map[string]any{framework.MetadataHiddenItems: hidden}
	}
	return res, err
}

// PromptsPostList decides each listed prompt; the denied ones are hidden.
func (m HookMethods) PromptsPostList(ctx context.Context, pl *framework.PromptsPostListPayload, pc *framework.PluginContext) (framework.Result[framework.PromptsPostListPayload], error) {
	out, hidden, err := m.filter(ctx, framework.PromptsPostList, pl.Prompts, global(pc))
	res := framework.Result[framework.PromptsPostListPayload]{}
	if err == nil && out != nil {
		res.ModifiedPayload = &framework.PromptsPostListPayload{Prompts: out, ServerID: pl.ServerID}
		res.Metadata = map[string]any{framework.MetadataHiddenItems: hidden}
	}
	return res, err
}

// ResourcesPostList decides each listed resource; the denied ones are hidden.
func (m HookMethods) ResourcesPostList(ctx context.Context, pl *framework.ResourcesPostListPayload, pc *framework.PluginContext) (framework.Result[framework.ResourcesPostListPayload], error) {
	out, hidden, err := m.filter(ctx, framework.ResourcesPostList, pl.Resources, global(pc))
	res := framework.Result[framework.ResourcesPostListPayload]{}
	if err == nil && out != nil {
		res.ModifiedPayload = &framework.ResourcesPostListPayload{Resources: out, ServerID: pl.ServerID}
		res.Metadata = map[string]any{framework.MetadataHiddenItems: hidden}
	}
	return res, err
}

// filter decides every item of a list (one Input each, variable item) and
// returns the list without the denied ones, or nil when none was denied. An
// evaluation error for any item is the hook's error (on_error decides: fail
// closed by default, the whole list is withheld).
func (m HookMethods) filter(ctx context.Context, h framework.HookType, list []byte, g *framework.GlobalContext) ([]byte, []framework.HiddenItem, error) {
	if m.Lists == nil || !m.Lists(h) {
		return nil, nil, nil
	}
	arr := gjson.ParseBytes(list)
	if !arr.IsArray() {
		return nil, nil, fmt.Errorf("%s: the list is not an array", h)
	}
	var kept [][]byte
	var hidden []framework.HiddenItem
	var err error
	arr.ForEach(func(_, item gjson.Result) bool {
		var v *framework.Violation
		if v, err = m.Decide(ctx, ListItem(h, json.RawMessage(item.Raw), g)); err != nil {
			return false
		}
		if v != nil {
			name := item.Get("name").String()
			if h == framework.ResourcesPostList {
				name = item.Get("uri").String()
			}
			hidden = append(hidden, framework.HiddenItem{Name: name, Code: v.Code, Reason: v.Reason})
			return true
		}
		kept = append(kept, []byte(item.Raw))
		return true
	})
	if err != nil || len(hidden) == 0 {
		return nil, nil, err
	}
	out := append([]byte{'['}, bytes.Join(kept, []byte{','})...)
	return append(out, ']'), hidden, nil
}

func global(pc *framework.PluginContext) *framework.GlobalContext {
	if pc == nil {
		return nil
	}
	return pc.Global
}
