package framework

import "context"

// hookSpec tells the generic executor how to handle one payload type: which
// plugin method to call, which field is the payload's name for conditions,
// how big the payload is, and where a resource result's content is.
type hookSpec[P Payload] struct {
	hook    HookType
	call    func(pl Plugin, ctx context.Context, p *P, pc *PluginContext) (Result[P], error)
	name    func(*P) string
	size    func(*P) int
	content func(*P) []byte
}

var (
	toolPreInvokeSpec = &hookSpec[ToolPreInvokePayload]{
		hook: ToolPreInvoke,
		call: func(pl Plugin, ctx context.Context, p *ToolPreInvokePayload, pc *PluginContext) (Result[ToolPreInvokePayload], error) {
			return pl.(ToolPreInvoker).ToolPreInvoke(ctx, p, pc)
		},
		name: func(p *ToolPreInvokePayload) string { return p.Name },
		size: func(p *ToolPreInvokePayload) int { return len(p.Name) + len(p.Args) },
	}
	toolPostInvokeSpec = &hookSpec[ToolPostInvokePayload]{
		hook: ToolPostInvoke,
		call: func(pl Plugin, ctx context.Context, p *ToolPostInvokePayload, pc *PluginContext) (Result[ToolPostInvokePayload], error) {
			return pl.(ToolPostInvoker).ToolPostInvoke(ctx, p, pc)
		},
		name: func(p *ToolPostInvokePayload) string { return p.Name },
		size: func(p *ToolPostInvokePayload) int { return len(p.Name) + len(p.Result) },
	}
	promptPreFetchSpec = &hookSpec[PromptPreFetchPayload]{
		hook: PromptPreFetch,
		call: func(pl Plugin, ctx context.Context, p *PromptPreFetchPayload, pc *PluginContext) (Result[PromptPreFetchPayload], error) {
			return pl.(PromptPreFetcher).PromptPreFetch(ctx, p, pc)
		},
		name: func(p *PromptPreFetchPayload) string { return p.PromptID },
		size: func(p *PromptPreFetchPayload) int { return len(p.PromptID) + len(p.Args) },
	}
	promptPostFetchSpec = &hookSpec[PromptPostFetchPayload]{
		hook: PromptPostFetch,
		call: func(pl Plugin, ctx context.Context, p *PromptPostFetchPayload, pc *PluginContext) (Result[PromptPostFetchPayload], error) {
			return pl.(PromptPostFetcher).PromptPostFetch(ctx, p, pc)
		},
		name: func(p *PromptPostFetchPayload) string { return p.PromptID },
		size: func(p *PromptPostFetchPayload) int { return len(p.PromptID) + len(p.Result) },
	}
	resourcePreFetchSpec = &hookSpec[ResourcePreFetchPayload]{
		hook: ResourcePreFetch,
		call: func(pl Plugin, ctx context.Context, p *ResourcePreFetchPayload, pc *PluginContext) (Result[ResourcePreFetchPayload], error) {
			return pl.(ResourcePreFetcher).ResourcePreFetch(ctx, p, pc)
		},
		name: func(p *ResourcePreFetchPayload) string { return p.URI },
		size: func(p *ResourcePreFetchPayload) int { return len(p.URI) + len(p.Metadata) },
	}
	resourcePostFetchSpec = &hookSpec[ResourcePostFetchPayload]{
		hook: ResourcePostFetch,
		call: func(pl Plugin, ctx context.Context, p *ResourcePostFetchPayload, pc *PluginContext) (Result[ResourcePostFetchPayload], error) {
			return pl.(ResourcePostFetcher).ResourcePostFetch(ctx, p, pc)
		},
		name:    func(p *ResourcePostFetchPayload) string { return p.URI },
		size:    func(p *ResourcePostFetchPayload) int { return len(p.URI) + len(p.Content) },
		content: func(p *ResourcePostFetchPayload) []byte { return p.Content },
	}
	toolsPostListSpec = &hookSpec[ToolsPostListPayload]{
		hook: ToolsPostList,
		call: func(pl Plugin, ctx context.Context, p *ToolsPostListPayload, pc *PluginContext) (Result[ToolsPostListPayload], error) {
			return pl.(ToolsPostLister).ToolsPostList(ctx, p, pc)
		},
		name: func(*ToolsPostListPayload) string { return "" },
		size: func(p *ToolsPostListPayload) int { return len(p.Tools) },
	}
	promptsPostListSpec = &hookSpec[PromptsPostListPayload]{
		hook: PromptsPostList,
		call: func(pl Plugin, ctx context.Context, p *PromptsPostListPayload, pc *PluginContext) (Result[PromptsPostListPayload], error) {
			return pl.(PromptsPostLister).PromptsPostList(ctx, p, pc)
		},
		name: func(*PromptsPostListPayload) string { return "" },
		size: func(p *PromptsPostListPayload) int { return len(p.Prompts) },
	}
	resourcesPostListSpec = &hookSpec[ResourcesPostListPayload]{
		hook: ResourcesPostList,
		call: func(pl Plugin, ctx context.Context, p *ResourcesPostListPayload, pc *PluginContext) (Result[ResourcesPostListPayload], error) {
			return pl.(ResourcesPostLister).ResourcesPostList(ctx, p, pc)
		},
		name: func(*ResourcesPostListPayload) string { return "" },
		size: func(p *ResourcesPostListPayload) int { return len(p.Resources) },
	}
)
