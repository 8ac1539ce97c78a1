package framework

import (
	"fmt"

	"github.com/mcp-extproc/mcp-extproc/mcpparse"
)

// HookType names a point in an MCP exchange where plugins run. The string
// values are ContextForge's (cpex 0.1.x), so external plugins written for it
// receive the names they expect.
type HookType string

// The six hooks around tools/call, prompts/get and resources/read, and the
// three on list results (ContextForge's planned names).
const (
	PromptPreFetch    HookType = "prompt_pre_fetch"
	PromptPostFetch   HookType = "prompt_post_fetch"
	ToolPreInvoke     HookType = "tool_pre_invoke"
	ToolPostInvoke    HookType = "tool_post_invoke"
	ResourcePreFetch  HookType = "resource_pre_fetch"
	ResourcePostFetch HookType = "resource_post_fetch"

	ToolsPostList     HookType = "tools_post_list"     // a tools/list result
	PromptsPostList   HookType = "prompts_post_list"   // a prompts/list result
	ResourcesPostList HookType = "resources_post_list" // a resources/list result
)

// Hooks lists every hook in a fixed order (used for stable output).
var Hooks = []HookType{
	PromptPreFetch, PromptPostFetch,
	ToolPreInvoke, ToolPostInvoke,
	ResourcePreFetch, ResourcePostFetch,
	ToolsPostList, PromptsPostList, ResourcesPostList,
}

// numHooks sizes per-hook arrays.
const numHooks = 9

// index returns the hook's position in Hooks, or -1 if it is not one of them.
func (h HookType) index() int {
	switch h {
	case PromptPreFetch:
		return 0
	case PromptPostFetch:
		return 1
	case ToolPreInvoke:
		return 2
	case ToolPostInvoke:
		return 3
	case ResourcePreFetch:
		return 4
	case ResourcePostFetch:
		return 5
	case ToolsPostList:
		return 6
	case PromptsPostList:
		return 7
	case ResourcesPostList:
		return 8
	}
	return -1
}

// IsList reports whether h runs on a list result (tools/list, …).
func (h HookType) IsList() bool {
	return h == ToolsPostList || h == PromptsPostList || h == ResourcesPostList
}

// Valid reports whether h is one of the hooks.
func (h HookType) Valid() bool { return h.index() >= 0 }

// IsPre reports whether h runs before the MCP server sees the request.
func (h HookType) IsPre() bool {
	return h == PromptPreFetch || h == ToolPreInvoke || h == ResourcePreFetch
}

// Family is the MCP method family a hook belongs to; it decides which
// condition list (tools, prompts or resources) matches the payload's name.
func (h HookType) Family() mcpparse.Family {
	switch h {
	case ToolPreInvoke, ToolPostInvoke, ToolsPostList:
		return mcpparse.FamilyTool
	case PromptPreFetch, PromptPostFetch, PromptsPostList:
		return mcpparse.FamilyPrompt
	case ResourcePreFetch, ResourcePostFetch, ResourcesPostList:
		return mcpparse.FamilyResource
	}
	return mcpparse.FamilyNone
}

// ParseHookType converts a configuration string to a HookType.
func ParseHookType(s string) (HookType, error) {
	h := HookType(s)
	if !h.Valid() {
		return "", fmt.Errorf("unknown hook %q", s)
	}
	return h, nil
}

// contextForgeOnlyHooks are hook names that ContextForge defines and we do
// not run. A ContextForge configuration that lists them still loads, with a
// warning.
var contextForgeOnlyHooks = map[string]bool{
	"prompt_post_list": true, "tool_post_list": true, "resource_post_list": true,
	"agent_pre_invoke": true, "agent_post_invoke": true,
	"http_pre_request": true, "http_post_request": true,
	"http_auth_resolve_user": true, "http_auth_check_permission": true,
}
