package external

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"sort"
	"strings"

	"github.com/google/jsonschema-go/jsonschema"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-extproc/mcp-extproc/framework"
)

// Server serves the compiled-in plugins of a config as a cpex 0.1.x plugin
// server: get_plugin_configs, get_plugin_config, invoke_hook and the older
// per-hook tools. Each plugin runs in its own single-plugin pipeline, so its
// mode, timeout, on_error and conditions apply as they would in-process.
type Server struct {
	plugins  map[string]*served
	names    []string
	tools    map[string]toolHandler
	toolList []byte // the tools/list result
	mcp      *mcp.Server
}

type served struct {
	pc  *framework.PluginConfig
	mgr *framework.Manager
}

// NewServer builds every enabled plugin of cfg that is not itself external.
func NewServer(ctx context.Context, cfg *framework.Config, opts ...framework.Option) (*Server, error) {
	s := &Server{plugins: map[string]*served{}}
	for i := range cfg.Plugins {
		pc := cfg.Plugins[i]
		if pc.Mode == framework.ModeDisabled || pc.Kind == framework.KindExternal {
			continue
		}
		one := *cfg
		one.Plugins = []framework.PluginConfig{pc}
		mgr, err := framework.NewManager(ctx, &one, opts...)
		if err != nil {
			_ = s.Shutdown(ctx)
			return nil, err
		}
		s.plugins[pc.Name] = &served{pc: &one.Plugins[0], mgr: mgr}
		s.names = append(s.names, pc.Name)
	}
	s.tools = map[string]toolHandler{toolGetPluginConfigs: s.getConfigs, toolGetPluginConfig: s.getConfig, toolInvokeHook: s.invokeTool("")}
	type tool struct {
		Name        string          `json:"name"`
		Description string          `json:"description"`
		InputSchema json.RawMessage `json:"inputSchema"`
	}
	object := json.RawMessage(`{"type":"object"}`)
	list := []tool{
		{toolGetPluginConfigs, "The configs of every plugin served", object},
		{toolGetPluginConfig, "One plugin's config ({} if unknown)", object},
		{toolInvokeHook, "Run a plugin hook", object},
	}
	for _, h := range framework.Hooks {
		s.tools[string(h)] = s.invokeTool(h)
		list = append(list, tool{string(h), "Run the " + string(h) + " hook", object})
	}
	s.toolList, _ = json.Marshal(map[string][]tool{"tools": list})
	// The legacy SSE transport is served by the SDK, with the same tools.
	s.mcp = mcp.NewServer(&mcp.Implementation{Name: "mcp-extproc-plugin-server", Version: "1"}, nil)
	for _, t := range list {
		h := s.tools[t.Name]
		s.mcp.AddTool(&mcp.Tool{Name: t.Name, Description: t.Description, InputSchema: &jsonschema.Schema{Type: "object"}},
			func(ctx context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
				text, err := h(ctx, req.Params.Arguments)
				if err != nil {
					return nil, err
				}
				return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: string(text)}}}, nil
			})
	}
	return s, nil
}

// MCP returns the server as an SDK MCP server (what /sse serves), to run on
// any transport of the SDK.
func (s *Server) MCP() *mcp.Server { return s.mcp }

// Handler serves Streamable HTTP on /mcp, the legacy SSE transport on /sse,
// and GET /health.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/mcp", s.serveStreamable)
	mux.Handle("/sse", mcp.NewSSEHandler(func(*http.Request) *mcp.Server { return s.mcp }, nil))
	mux.HandleFunc("GET /health", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"status":"healthy"}`))
	})
	return mux
}

// ServeStdio serves on stdin/stdout until the client goes away or ctx ends.
func (s *Server) ServeStdio(ctx context.Context) error {
	return s.Serve(ctx, os.Stdin, os.Stdout)
}

// Plugins returns the names of the plugins served.
func (s *Server) Plugins() []string { return s.names }

// Shutdown shuts every plugin down.
func (s *Server) Shutdown(ctx context.Context) error {
	var errs []error
	for _, p := range s.plugins {
		errs = append(errs, p.mgr.Shutdown(ctx))
	}
	return errors.Join(errs...)
}

func textResult(v any) ([]byte, error) { return json.Marshal(v) }

// configJSON is a plugin's config in cpex's field names.
func (p *served) configJSON() map[string]any {
	var hooks []string
	for _, h := range framework.Hooks {
		if p.mgr.HasHook(h) {
			hooks = append(hooks, string(h))
		}
	}
	c := p.pc
	m := map[string]any{
		"name": c.Name, "kind": c.Kind, "description": c.Description, "author": c.Author, "version": c.Version,
		"hooks": hooks, "tags": emptyList(c.Tags), "mode": string(c.Mode), "priority": c.Priority,
		"conditions": c.Conditions, "config": emptyIfNil(c.Config), "on_error": string(c.OnError),
		"capabilities": emptyList(c.Capabilities),
	}
	if len(c.AppliedTo) > 0 {
		m["applied_to"] = c.AppliedTo
	}
	if c.Conditions == nil {
		m["conditions"] = []any{}
	}
	return m
}

func emptyList(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func (s *Server) getConfigs(context.Context, json.RawMessage) ([]byte, error) {
	out := make([]map[string]any, 0, len(s.names))
	names := append([]string(nil), s.names...)
	sort.Strings(names)
	for _, n := range names {
		out = append(out, s.plugins[n].configJSON())
	}
	return textResult(out)
}

func (s *Server) getConfig(_ context.Context, raw json.RawMessage) ([]byte, error) {
	var args struct {
		Name string `json:"name"`
	}
	_ = json.Unmarshal(raw, &args)
	if p := s.lookup(args.Name); p != nil {
		return textResult(p.configJSON())
	}
	return textResult(map[string]any{})
}

// lookup finds a served plugin by name, ignoring case as cpex's server does
// (ContextForge's gateway may spell the name differently from the server).
func (s *Server) lookup(name string) *served {
	if p, ok := s.plugins[name]; ok {
		return p
	}
	for n, p := range s.plugins {
		if strings.EqualFold(n, name) {
			return p
		}
	}
	return nil
}

// invokeTool handles invoke_hook (hook "") or one per-hook tool.
func (s *Server) invokeTool(hook framework.HookType) toolHandler {
	return func(ctx context.Context, args json.RawMessage) ([]byte, error) {
		var in invokeRequest
		if err := in.decode(args); err != nil {
			return textResult(failure("", "INVALID_REQUEST", "arguments are not an invoke request: "+err.Error()))
		}
		if hook != "" {
			in.HookType = hook
		}
		return textResult(s.invoke(ctx, &in))
	}
}

func failure(plugin, code, msg string) invokeResponse {
	return invokeResponse{PluginName: plugin, Error: &wireError{Message: msg, PluginName: plugin, Code: code, Details: map[string]any{}, MCPErrorCode: -32603}}
}

// invoke runs one hook of one plugin and answers in the cpex shape.
func (s *Server) invoke(ctx context.Context, in *invokeRequest) invokeResponse {
	p := s.lookup(in.PluginName)
	if p == nil {
		return failure(in.PluginName, "PLUGIN_NOT_FOUND", fmt.Sprintf("no plugin %q on this server", in.PluginName))
	}
	if !in.HookType.Valid() {
		return failure(in.PluginName, "INVALID_HOOK", fmt.Sprintf("unknown hook %q", in.HookType))
	}
	tbl := framework.NewContextTable(framework.GlobalContext{})
	if wc := in.Context; wc != nil {
		if g := wc.GlobalContext; g != nil {
			tbl.Global = framework.GlobalContext{RequestID: g.RequestID, User: g.user(), TenantID: g.TenantID, ServerID: g.ServerID,
				ContentType: g.ContentType, State: g.State, Metadata: g.Metadata}
		}
		pc := tbl.Plugin(in.PluginName)
		pc.State, pc.Metadata = wc.State, wc.Metadata
	}
	var (
		result json.RawMessage
		err    error
	)
	switch in.HookType {
	case framework.ToolPreInvoke:
		result, err = run(ctx, in.Payload, tbl, p.mgr.ToolPreInvoke)
	case framework.ToolPostInvoke:
		result, err = run(ctx, in.Payload, tbl, p.mgr.ToolPostInvoke)
	case framework.PromptPreFetch:
		result, err = run(ctx, in.Payload, tbl, p.mgr.PromptPreFetch)
	case framework.PromptPostFetch:
		result, err = run(ctx, in.Payload, tbl, p.mgr.PromptPostFetch)
	case framework.ResourcePreFetch:
		result, err = run(ctx, in.Payload, tbl, p.mgr.ResourcePreFetch)
	case framework.ResourcePostFetch:
		result, err = runResourcePostFetch(ctx, in.Payload, tbl, p.mgr.ResourcePostFetch)
	case framework.ToolsPostList:
		result, err = run(ctx, in.Payload, tbl, p.mgr.ToolsPostList)
	case framework.PromptsPostList:
		result, err = run(ctx, in.Payload, tbl, p.mgr.PromptsPostList)
	case framework.ResourcesPostList:
		result, err = run(ctx, in.Payload, tbl, p.mgr.ResourcesPostList)
	}
	var pe *runError
	if errors.As(err, &pe) {
		return failure(in.PluginName, pe.code, pe.msg)
	}
	resp := invokeResponse{PluginName: in.PluginName, Result: result}
	pc := tbl.Plugin(in.PluginName)
	if len(pc.State) > 0 || len(pc.Metadata) > 0 || len(tbl.Global.State) > 0 {
		resp.Context = &wireContext{State: emptyIfNil(pc.State), Metadata: emptyIfNil(pc.Metadata),
			GlobalContext: &wireGlobal{RequestID: tbl.Global.RequestID, User: wireUser(tbl.Global.User), TenantID: tbl.Global.TenantID,
				ServerID: tbl.Global.ServerID, State: emptyIfNil(tbl.Global.State), Metadata: emptyIfNil(tbl.Global.Metadata)}}
	}
	return resp
}

// runResourcePostFetch runs resource_post_fetch on a payload in either
// shape: ContextForge's ResourceContent is converted for the plugin and its
// changes are answered in that shape again.
func runResourcePostFetch(ctx context.Context, payload json.RawMessage, tbl *framework.ContextTable,
	hook func(context.Context, *framework.ResourcePostFetchPayload, *framework.ContextTable) framework.Outcome[framework.ResourcePostFetchPayload]) (json.RawMessage, error) {
	converted, restore, err := serverResourceContent(payload)
	if err != nil {
		return nil, &runError{"INVALID_PAYLOAD", err.Error()}
	}
	result, err := run(ctx, converted, tbl, hook)
	if err != nil || restore == nil {
		return result, err
	}
	var r map[string]json.RawMessage
	if err := json.Unmarshal(result, &r); err != nil {
		return nil, &runError{"INTERNAL", err.Error()}
	}
	if mp, ok := r["modified_payload"]; ok {
		back, err := restore(mp)
		if err != nil {
			return nil, &runError{"INTERNAL", err.Error()}
		}
		r["modified_payload"] = back
	}
	b, err := json.Marshal(r)
	if err != nil {
		return nil, &runError{"INTERNAL", err.Error()}
	}
	return b, nil
}

type runError struct{ code, msg string }

func (e *runError) Error() string { return e.code + ": " + e.msg }

// run decodes a payload, runs one hook pipeline and encodes its outcome as
// a cpex result. A plugin that failed (the pipeline's PLUGIN_ERROR or
// PLUGIN_TIMEOUT) is answered with the error shape, so that the caller's own
// mode and on_error decide.
func run[P framework.Payload](ctx context.Context, payload json.RawMessage, tbl *framework.ContextTable,
	hook func(context.Context, *P, *framework.ContextTable) framework.Outcome[P]) (json.RawMessage, error) {
	var p P
	if err := json.Unmarshal(payload, &p); err != nil {
		return nil, &runError{"INVALID_PAYLOAD", "payload does not match the hook: " + err.Error()}
	}
	out := hook(ctx, &p, tbl)
	if v := out.Violation; v != nil && (v.Code == framework.CodePluginError || v.Code == framework.CodePluginTimeout || v.Code == framework.CodePluginUnavailable) {
		return nil, &runError{v.Code, v.Reason}
	}
	res := framework.Result[P]{Violation: out.Violation, HTTPHeaders: out.HTTPHeaders, RetryDelayMS: out.RetryDelayMS}
	if out.Modified {
		res.ModifiedPayload = out.Payload
	}
	b, err := json.Marshal(res)
	if err != nil {
		return nil, &runError{"INTERNAL", err.Error()}
	}
	return b, nil
}
