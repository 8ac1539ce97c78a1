package framework

import (
	"context"
	"log/slog"
)

// Plugin is a loaded plugin instance. It has no required method: what makes a
// value a plugin is the hook interfaces it implements (ToolPreInvoker, …),
// which the Manager finds by type assertion, and the optional lifecycle
// interfaces Initializer and Shutdowner.
//
// A hook method receives a read-only payload and the plugin's own context;
// it must honour ctx cancellation (the executor also stops waiting at the
// deadline), must be safe for concurrent calls, and returns a Result whose
// zero value means "continue unchanged". A returned error is handled by the
// plugin's mode and on_error setting.
type Plugin any

// ToolPreInvoker runs before a tools/call reaches the MCP server.
type ToolPreInvoker interface {
	ToolPreInvoke(ctx context.Context, p *ToolPreInvokePayload, pc *PluginContext) (Result[ToolPreInvokePayload], error)
}

// ToolPostInvoker runs on a tools/call result before it reaches the client.
type ToolPostInvoker interface {
	ToolPostInvoke(ctx context.Context, p *ToolPostInvokePayload, pc *PluginContext) (Result[ToolPostInvokePayload], error)
}

// PromptPreFetcher runs before a prompts/get reaches the MCP server.
type PromptPreFetcher interface {
	PromptPreFetch(ctx context.Context, p *PromptPreFetchPayload, pc *PluginContext) (Result[PromptPreFetchPayload], error)
}

// PromptPostFetcher runs on a prompts/get result.
type PromptPostFetcher interface {
	PromptPostFetch(ctx context.Context, p *PromptPostFetchPayload, pc *PluginContext) (Result[PromptPostFetchPayload], error)
}

// ResourcePreFetcher runs before a resources/read reaches the MCP server.
type ResourcePreFetcher interface {
	ResourcePreFetch(ctx context.Context, p *ResourcePreFetchPayload, pc *PluginContext) (Result[ResourcePreFetchPayload], error)
}

// ResourcePostFetcher runs on a resources/read result.
type ResourcePostFetcher interface {
	ResourcePostFetch(ctx context.Context, p *ResourcePostFetchPayload, pc *PluginContext) (Result[ResourcePostFetchPayload], error)
}

// ToolsPostLister runs on a tools/list result (each page) before the client
// sees it: it may remove or rewrite tools.
type ToolsPostLister interface {
	ToolsPostList(ctx context.Context, p *ToolsPostListPayload, pc *PluginContext) (Result[ToolsPostListPayload], error)
}

// PromptsPostLister runs on a prompts/list result.
type PromptsPostLister interface {
	PromptsPostList(ctx context.Context, p *PromptsPostListPayload, pc *PluginContext) (Result[PromptsPostListPayload], error)
}

// ResourcesPostLister runs on a resources/list result.
type ResourcesPostLister interface {
	ResourcesPostList(ctx context.Context, p *ResourcesPostListPayload, pc *PluginContext) (Result[ResourcesPostListPayload], error)
}

// ErrorResultReader is implemented by plugins whose post hooks also read
// JSON-RPC errors that answer their hook's request: an error's message and
// data are shown to the model like a result, so content plugins (PII,
// secrets, rewriting) must see them. Such a call's payload carries the error
// object where the result would be, wrapped as {"error": {code, message,
// data}} (see ErrorPayload); a plugin rewrites it by returning the same
// shape. Post hooks of plugins that do not implement it, or return false,
// never see errors.
type ErrorResultReader interface {
	ReadsErrorResults() bool
}

// LoggerSetter is implemented by plugins that log. The Manager hands each
// the server's logger (JSON, honouring --log-level), with the plugin's name
// attached, before Initialize; a plugin never logs through slog.Default.
// Until it is called a plugin logs nowhere.
type LoggerSetter interface {
	SetLogger(*slog.Logger)
}

// Initializer is implemented by plugins that need to do I/O before serving
// (connect, warm caches). Initialize runs once, after construction, under the
// plugin's timeout.
type Initializer interface {
	Initialize(ctx context.Context) error
}

// Shutdowner is implemented by plugins holding resources (sessions, child
// processes) that must be released when their pipeline is retired.
type Shutdowner interface {
	Shutdown(ctx context.Context) error
}

// Validator is implemented by plugins that can check, without connecting or
// starting anything, that what they will need at start-up is there (an
// external plugin's command). `extproc validate` reports its error.
type Validator interface {
	Validate() error
}

// ImplementedHooks lists the hooks p implements, in the order of Hooks.
func ImplementedHooks(p Plugin) []HookType {
	var hs []HookType
	for _, h := range Hooks {
		if implements(p, h) {
			hs = append(hs, h)
		}
	}
	return hs
}

func implements(p Plugin, h HookType) bool {
	var ok bool
	switch h {
	case ToolPreInvoke:
		_, ok = p.(ToolPreInvoker)
	case ToolPostInvoke:
		_, ok = p.(ToolPostInvoker)
	case PromptPreFetch:
		_, ok = p.(PromptPreFetcher)
	case PromptPostFetch:
		_, ok = p.(PromptPostFetcher)
	case ResourcePreFetch:
		_, ok = p.(ResourcePreFetcher)
	case ResourcePostFetch:
		_, ok = p.(ResourcePostFetcher)
	case ToolsPostList:
		_, ok = p.(ToolsPostLister)
	case PromptsPostList:
		_, ok = p.(PromptsPostLister)
	case ResourcesPostList:
		_, ok = p.(ResourcesPostLister)
	}
	return ok
}
