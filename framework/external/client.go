package external

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-extproc/mcp-extproc/framework"
)

// Plugin is a kind: external plugin: a client of one plugin server. It
// implements every hook; Hooks narrows them to those the server declared.
// Calls share one MCP session (the SDK multiplexes them); a session that is
// lost is re-established with backoff and the call retried once.
type Plugin struct {
	pc     *framework.PluginConfig
	logger *slog.Logger

	mu      sync.Mutex
	session *mcp.ClientSession
	gen     int // bumped on every new session
	closed  bool

	perHookTools bool // the server predates invoke_hook
	hooks        []framework.HookType
}

var client = &mcp.Implementation{Name: "mcp-extproc", Version: "1"}

func newPlugin(pc *framework.PluginConfig) (framework.Plugin, error) {
	if pc.MCP == nil {
		return nil, errors.New("kind external needs mcp")
	}
	// Building the transport checks TLS files and the like without I/O on
	// the network.
	if _, err := newTransport(pc.MCP, nil); err != nil {
		return nil, err
	}
	return &Plugin{pc: pc, logger: slog.New(slog.DiscardHandler)}, nil
}

func init() { framework.ExternalFactory = newPlugin }

// Validate implements framework.Validator: a STDIO server's command or
// script must exist, so that `extproc validate` reports the typo that would
// otherwise leave the plugin unavailable at run time.
func (p *Plugin) Validate() error {
	m := p.pc.MCP
	if m.Proto != framework.TransportSTDIO {
		return nil
	}
	if len(m.Cmd) > 0 {
		name := m.Cmd[0]
		if strings.ContainsRune(name, filepath.Separator) && !filepath.IsAbs(name) && m.Cwd != "" {
			name = filepath.Join(m.Cwd, name)
		}
		if _, err := exec.LookPath(name); err != nil {
			return fmt.Errorf("mcp.cmd: %w", err)
		}
		return nil
	}
	script := m.Script
	if !filepath.IsAbs(script) && m.Cwd != "" {
		script = filepath.Join(m.Cwd, script)
	}
	if fi, err := os.Stat(script); err != nil {
		return fmt.Errorf("mcp.script: %w", err)
	} else if fi.IsDir() {
		return fmt.Errorf("mcp.script: %s is a directory", script)
	}
	if interp := scriptCommand(script); interp[0] != script {
		if _, err := exec.LookPath(interp[0]); err != nil {
			return fmt.Errorf("mcp.script: interpreter for %s: %w", filepath.Base(script), err)
		}
	}
	return nil
}

// Initialize connects, reads the server's config for this plugin and
// completes the local entry with it: what the policy file sets wins, the
// server's config: block is kept.
func (p *Plugin) Initialize(ctx context.Context) error {
	if _, err := p.connect(ctx, 0); err != nil {
		return err
	}
	res, err := p.callTool(ctx, toolGetPluginConfig, map[string]any{"name": p.pc.Name})
	if err != nil {
		return fmt.Errorf("get_plugin_config: %w", err)
	}
	raw, err := firstText(res)
	if err != nil {
		return fmt.Errorf("get_plugin_config: %w", err)
	}
	var rc remoteConfig
	if err := json.Unmarshal([]byte(raw), &rc); err != nil {
		return fmt.Errorf("get_plugin_config: not a plugin config: %w", err)
	}
	return p.merge(&rc)
}

func (p *Plugin) merge(rc *remoteConfig) error {
	pc := p.pc
	if rc.Mode != "" && !pc.IsSet("mode") {
		m, err := framework.ParseMode(rc.Mode)
		if err != nil {
			return fmt.Errorf("server config: %w", err)
		}
		pc.Mode = m
	}
	if rc.OnError != "" && !pc.IsSet("on_error") {
		o, err := framework.ParseOnError(rc.OnError)
		if err != nil {
			return fmt.Errorf("server config: on_error: %w", err)
		}
		pc.OnError = o
	}
	if len(rc.Capabilities) > 0 && len(pc.Capabilities) == 0 {
		pc.Capabilities = rc.Capabilities
		p.logger.Warn("plugin server declares capabilities; mcp-extproc sends no extensions for them to gate", "capabilities", rc.Capabilities)
	}
	if len(rc.AppliedTo) > 0 && string(rc.AppliedTo) != "null" && pc.AppliedTo == nil {
		pc.AppliedTo = rc.AppliedTo
		p.logger.Warn("plugin server declares applied_to; not used (cpex 0.1.4 does not apply it either): use conditions")
	}
	if rc.Priority != nil && !pc.IsSet("priority") {
		pc.Priority = *rc.Priority
	}
	if len(rc.Conditions) > 0 && !pc.IsSet("conditions") {
		pc.Conditions = rc.Conditions
	}
	for _, f := range []struct {
		key      string
		dst, src *string
	}{{"description", &pc.Description, &rc.Description}, {"author", &pc.Author, &rc.Author}, {"version", &pc.Version, &rc.Version}} {
		if *f.src != "" && !pc.IsSet(f.key) {
			*f.dst = *f.src
		}
	}
	if len(rc.Tags) > 0 && !pc.IsSet("tags") {
		pc.Tags = rc.Tags
	}
	pc.Config = rc.Config
	// The server's hooks, narrowed by the file's hooks: list.
	for _, h := range rc.Hooks {
		ht, err := framework.ParseHookType(h)
		if err != nil {
			p.logger.Warn("plugin server declares a hook mcp-extproc does not run; ignored", "hook", h)
			continue
		}
		if len(pc.Hooks) == 0 || slices.Contains(pc.Hooks, ht) {
			p.hooks = append(p.hooks, ht)
		}
	}
	if len(rc.Hooks) == 0 {
		p.hooks = pc.Hooks
		if len(p.hooks) == 0 {
			// A server that declares nothing gets the six hooks of cpex
			// 0.1.x; the list hooks only reach servers that ask for them.
			for _, h := range framework.Hooks {
				if !h.IsList() {
					p.hooks = append(p.hooks, h)
				}
			}
		}
	}
	return nil
}

// Hooks implements framework.HookLister.
func (p *Plugin) Hooks() []framework.HookType { return p.hooks }

// Shutdown closes the session; a STDIO server's process is ended.
func (p *Plugin) Shutdown(context.Context) error {
	p.mu.Lock()
	s := p.session
	p.session, p.closed = nil, true
	p.mu.Unlock()
	if s != nil {
		return s.Close()
	}
	return nil
}

// connect returns the current session, or makes one if the session of
// generation gen (0: none yet) is the current one. Attempts back off
// (50 ms doubling to 2 s) until ctx ends.
func (p *Plugin) connect(ctx context.Context, staleGen int) (*mcp.ClientSession, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil, errors.New("plugin is shut down")
	}
	if p.session != nil && p.gen != staleGen {
		return p.session, nil // someone reconnected already
	}
	if p.session != nil {
		_ = p.session.Close()
		p.session = nil
	}
	// By default the wait doubles from 50 ms to 2 s; with cpex's
	// reconnect_delay it grows linearly (delay × attempt), as cpex waits.
	delay, maxAttempts := 50*time.Millisecond, p.pc.MCP.ReconnectAttempts
	linear := time.Duration(p.pc.MCP.ReconnectDelay)
	for attempt := 1; ; attempt++ {
		s, err := p.dial(ctx)
		if err == nil {
			p.session = s
			p.gen++
			if attempt > 1 || staleGen != 0 {
				p.logger.Info("reconnected to plugin server", "attempts", attempt)
			}
			return s, nil
		}
		if errors.Is(err, exec.ErrNotFound) || errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrPermission) {
			// A command that is not there will not appear by waiting; the
			// Manager's background retry picks it up if it is installed later.
			return nil, fmt.Errorf("start plugin server: %w", err)
		}
		if maxAttempts > 0 && attempt >= maxAttempts {
			return nil, fmt.Errorf("connect to plugin server: %d attempts (mcp.reconnect_attempts): %w", attempt, err)
		}
		p.logger.Warn("plugin server unreachable", "attempt", attempt, "error", err.Error())
		wait := delay
		if linear > 0 {
			wait = linear * time.Duration(attempt)
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("connect to plugin server: %w (last error: %v)", ctx.Err(), err)
		case <-time.After(wait):
		}
		delay = min(2*delay, 2*time.Second)
	}
}

func (p *Plugin) dial(ctx context.Context) (*mcp.ClientSession, error) {
	t, err := newTransport(p.pc.MCP, slogWriter{p.logger})
	if err != nil {
		return nil, err
	}
	s, err := mcp.NewClient(client, nil).Connect(ctx, t, nil)
	if err != nil {
		return nil, err
	}
	tools, err := s.ListTools(ctx, nil)
	if err != nil {
		_ = s.Close()
		return nil, fmt.Errorf("list tools: %w", err)
	}
	p.perHookTools = !slices.ContainsFunc(tools.Tools, func(t *mcp.Tool) bool { return t.Name == toolInvokeHook })
	return s, nil
}

// callTool calls a tool on the current session; when the session turns out
// to be lost (not a JSON-RPC error from the server) it reconnects and
// retries once.
func (p *Plugin) callTool(ctx context.Context, name string, args any) (*mcp.CallToolResult, error) {
	p.mu.Lock()
	s, gen := p.session, p.gen
	p.mu.Unlock()
	if s == nil {
		var err error
		if s, err = p.connect(ctx, gen); err != nil {
			return nil, err
		}
		p.mu.Lock()
		gen = p.gen
		p.mu.Unlock()
	}
	res, err := s.CallTool(ctx, &mcp.CallToolParams{Name: name, Arguments: args})
	if err == nil || !sessionLost(err) || ctx.Err() != nil {
		return res, err
	}
	p.logger.Warn("plugin server session lost; reconnecting", "error", err.Error())
	if s, err = p.connect(ctx, gen); err != nil {
		return nil, err
	}
	return s.CallTool(ctx, &mcp.CallToolParams{Name: name, Arguments: args})
}

// sessionLost tells transport failures (retry on a new session) from
// answers of the server (do not).
func sessionLost(err error) bool {
	var rpc *jsonrpc.Error
	return !errors.As(err, &rpc) || errors.Is(err, mcp.ErrConnectionClosed)
}

func firstText(res *mcp.CallToolResult) (string, error) {
	for _, c := range res.Content {
		if tc, ok := c.(*mcp.TextContent); ok {
			if res.IsError {
				return "", fmt.Errorf("plugin server tool error: %s", tc.Text)
			}
			return tc.Text, nil
		}
	}
	if res.IsError {
		return "", errors.New("plugin server tool error")
	}
	return "", errors.New("plugin server answered without text content")
}

// request builds the tool call for a hook: invoke_hook, or the hook's own
// tool on servers that predate it.
func (p *Plugin) request(hook framework.HookType, payload any, pc *framework.PluginContext) (string, invokeRequest, error) {
	pj, err := json.Marshal(payload)
	if err != nil {
		return "", invokeRequest{}, err
	}
	req := invokeRequest{HookType: hook, PluginName: p.pc.Name, Payload: pj, Context: contextToWire(pc)}
	if p.perHookTools {
		req.HookType = ""
		return string(hook), req, nil
	}
	return toolInvokeHook, req, nil
}

// invoke calls one hook and returns the raw result JSON, having copied the
// returned context back into pc.
func (p *Plugin) invoke(ctx context.Context, hook framework.HookType, payload any, pc *framework.PluginContext) (json.RawMessage, error) {
	tool, req, err := p.request(hook, payload, pc)
	if err != nil {
		return nil, err
	}
	res, err := p.callTool(ctx, tool, req)
	if err != nil {
		return nil, err
	}
	text, err := firstText(res)
	if err != nil {
		return nil, err
	}
	return p.parseResponse(text, pc)
}

// parseResponse reads an invoke answer: the result JSON, having copied the
// returned context back into pc, or the server's error.
func (p *Plugin) parseResponse(text string, pc *framework.PluginContext) (json.RawMessage, error) {
	var resp invokeResponse
	if err := json.Unmarshal([]byte(text), &resp); err != nil {
		return nil, fmt.Errorf("plugin server answered with text that is not JSON: %w", err)
	}
	if resp.Error != nil {
		return nil, &PluginError{Plugin: p.pc.Name, Code: resp.Error.Code, Message: resp.Error.Message, Details: resp.Error.Details}
	}
	if len(resp.Result) == 0 {
		return nil, errors.New("plugin server answered with neither result nor error")
	}
	contextFromWire(resp.Context, pc)
	return resp.Result, nil
}

func call[P framework.Payload](p *Plugin, ctx context.Context, hook framework.HookType, payload *P, pc *framework.PluginContext) (framework.Result[P], error) {
	raw, err := p.invoke(ctx, hook, payload, pc)
	if err != nil {
		return framework.Result[P]{}, err
	}
	var res framework.Result[P]
	if err := json.Unmarshal(raw, &res); err != nil {
		return framework.Result[P]{}, fmt.Errorf("plugin server result: %w", err)
	}
	return res, nil
}

// ToolPreInvoke implements framework.ToolPreInvoker.
func (p *Plugin) ToolPreInvoke(ctx context.Context, pl *framework.ToolPreInvokePayload, pc *framework.PluginContext) (framework.Result[framework.ToolPreInvokePayload], error) {
	return call(p, ctx, framework.ToolPreInvoke, pl, pc)
}

// ToolPostInvoke implements framework.ToolPostInvoker.
func (p *Plugin) ToolPostInvoke(ctx context.Context, pl *framework.ToolPostInvokePayload, pc *framework.PluginContext) (framework.Result[framework.ToolPostInvokePayload], error) {
	return call(p, ctx, framework.ToolPostInvoke, pl, pc)
}

// PromptPreFetch implements framework.PromptPreFetcher. Its arguments
// reach the server as strings (see promptargs.go).
func (p *Plugin) PromptPreFetch(ctx context.Context, pl *framework.PromptPreFetchPayload, pc *framework.PluginContext) (framework.Result[framework.PromptPreFetchPayload], error) {
	return p.promptPreFetch(ctx, pl, pc)
}

// PromptPostFetch implements framework.PromptPostFetcher.
func (p *Plugin) PromptPostFetch(ctx context.Context, pl *framework.PromptPostFetchPayload, pc *framework.PluginContext) (framework.Result[framework.PromptPostFetchPayload], error) {
	return call(p, ctx, framework.PromptPostFetch, pl, pc)
}

// ResourcePreFetch implements framework.ResourcePreFetcher.
func (p *Plugin) ResourcePreFetch(ctx context.Context, pl *framework.ResourcePreFetchPayload, pc *framework.PluginContext) (framework.Result[framework.ResourcePreFetchPayload], error) {
	return call(p, ctx, framework.ResourcePreFetch, pl, pc)
}

// ResourcePostFetch implements framework.ResourcePostFetcher.
// Its content reaches the server as ContextForge's ResourceContent (see
// resourcecontent.go).
func (p *Plugin) ResourcePostFetch(ctx context.Context, pl *framework.ResourcePostFetchPayload, pc *framework.PluginContext) (framework.Result[framework.ResourcePostFetchPayload], error) {
	return p.resourcePostFetch(ctx, pl, pc)
}

// ToolsPostList implements framework.ToolsPostLister (for servers that
// declare tools_post_list; an additive extension of the cpex wire format).
func (p *Plugin) ToolsPostList(ctx context.Context, pl *framework.ToolsPostListPayload, pc *framework.PluginContext) (framework.Result[framework.ToolsPostListPayload], error) {
	return call(p, ctx, framework.ToolsPostList, pl, pc)
}

// PromptsPostList implements framework.PromptsPostLister.
func (p *Plugin) PromptsPostList(ctx context.Context, pl *framework.PromptsPostListPayload, pc *framework.PluginContext) (framework.Result[framework.PromptsPostListPayload], error) {
	return call(p, ctx, framework.PromptsPostList, pl, pc)
}

// ResourcesPostList implements framework.ResourcesPostLister.
func (p *Plugin) ResourcesPostList(ctx context.Context, pl *framework.ResourcesPostListPayload, pc *framework.PluginContext) (framework.Result[framework.ResourcesPostListPayload], error) {
	return call(p, ctx, framework.ResourcesPostList, pl, pc)
}

// slogWriter sends a plugin server's stderr to the log, line by line.
type slogWriter struct{ l *slog.Logger }

func (w slogWriter) Write(b []byte) (int, error) {
	w.l.Info("plugin server stderr", "line", string(b))
	return len(b), nil
}

var _ framework.LoggerSetter = (*Plugin)(nil)

// SetLogger implements framework.LoggerSetter: the client's own records and
// the plugin server's stderr go to the server's logger.
func (p *Plugin) SetLogger(l *slog.Logger) { p.logger = l }
