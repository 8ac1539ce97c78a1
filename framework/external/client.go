package external

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mcp-extproc/mcp-extproc/framework"
)

// Plugin is a kind: external plugin: a client of one plugin server. It
// implements every hook; Hooks narrows them to those the server declared.
// Calls share one MCP session, many in flight at once; a session that is
// lost is re-established with backoff and the call retried once.
type Plugin struct {
	pc     *framework.PluginConfig
	logger *slog.Logger

	// cur is the session calls use: read without a lock on every call.
	cur atomic.Pointer[conn]
	// mu guards the fields below, never across I/O or a wait.
	mu      sync.Mutex
	gen     int       // of the newest session
	dialing *dialCall // the connection attempt under way, shared by every caller
	closed  bool

	hooks []framework.HookType
}

// conn is one established session.
type conn struct {
	s            session
	gen          int
	perHookTools bool // the server predates invoke_hook
}

// dialCall is one connection attempt that every caller who needs a new
// session waits for (a singleflight).
type dialCall struct {
	done chan struct{}
	c    *conn
	err  error
}

func newPlugin(pc *framework.PluginConfig) (framework.Plugin, error) {
	if pc.MCP == nil {
		return nil, errors.New("kind external needs mcp")
	}
	// Checks TLS files and the like without I/O on the network.
	if err := checkTransport(pc.MCP); err != nil {
		return nil, err
	}
	return &Plugin{pc: pc, logger: slog.New(slog.DiscardHandler)}, nil
}

// Kind is kind: external, registered in the default registry when the
// package is imported; a program with its own framework.Registry registers
// it there too.
func Kind() framework.Kind {
	return framework.Kind{
		Name:        framework.KindExternal,
		Description: "a plugin served by an MCP plugin server (cpex 0.1.x wire format) over STDIO, Streamable HTTP or SSE",
		New:         newPlugin,
	}
}

func init() { framework.Register(Kind()) }

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
	c, err := p.connect(ctx, 0)
	if err != nil {
		return err
	}
	args, _ := json.Marshal(map[string]string{"name": p.pc.Name})
	raw, err := p.callTool(ctx, c, toolGetPluginConfig, args)
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
	p.closed = true
	c := p.cur.Swap(nil)
	p.mu.Unlock()
	if c != nil {
		return c.s.close()
	}
	return nil
}

var errShutDown = errors.New("plugin is shut down")

// connect returns a session newer than generation stale (0: any), making
// one if there is none. Callers that arrive while an attempt is under way
// wait for that attempt; none holds the lock while dialing or backing off.
func (p *Plugin) connect(ctx context.Context, stale int) (*conn, error) {
	for {
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			return nil, errShutDown
		}
		if c := p.cur.Load(); c != nil && c.gen != stale {
			p.mu.Unlock()
			return c, nil // someone reconnected already
		}
		d := p.dialing
		leader := d == nil
		var old *conn
		if leader {
			d = &dialCall{done: make(chan struct{})}
			p.dialing = d
			old = p.cur.Swap(nil)
		}
		p.mu.Unlock()
		if leader {
			if old != nil {
				_ = old.s.close()
			}
			c, err := p.dialWithBackoff(ctx, stale != 0)
			p.mu.Lock()
			p.dialing = nil
			if err == nil && p.closed {
				_ = c.s.close()
				c, err = nil, errShutDown
			}
			if err == nil {
				p.gen++
				c.gen = p.gen
				p.cur.Store(c)
			}
			p.mu.Unlock()
			d.c, d.err = c, err
			close(d.done)
			return c, err
		}
		select {
		case <-d.done:
		case <-ctx.Done():
			return nil, fmt.Errorf("connect to plugin server: %w", ctx.Err())
		}
		if d.err == nil {
			return d.c, nil
		}
		if errors.Is(d.err, context.DeadlineExceeded) || errors.Is(d.err, context.Canceled) {
			continue // the leader's deadline ended, not ours: try ourselves
		}
		return nil, d.err
	}
}

// dialWithBackoff dials until it succeeds or ctx ends, waiting 50 ms
// doubling to 2 s between attempts (with cpex's mcp.reconnect_delay the
// wait grows linearly, delay × attempt, as cpex waits;
// mcp.reconnect_attempts bounds the attempts), each wait jittered so that
// replicas do not retry in step.
func (p *Plugin) dialWithBackoff(ctx context.Context, again bool) (*conn, error) {
	delay, maxAttempts := 50*time.Millisecond, p.pc.MCP.ReconnectAttempts
	linear := time.Duration(p.pc.MCP.ReconnectDelay)
	for attempt := 1; ; attempt++ {
		p.mu.Lock()
		closed := p.closed
		p.mu.Unlock()
		if closed {
			return nil, errShutDown
		}
		c, err := p.dial(ctx)
		if err == nil {
			if attempt > 1 || again {
				p.logger.Info("reconnected to plugin server", "attempts", attempt)
			}
			return c, nil
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
		t := time.NewTimer(jitter(wait))
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("connect to plugin server: %w (last error: %v)", ctx.Err(), err)
		case <-t.C:
		}
		delay = min(2*delay, 2*time.Second)
	}
}

// jitter spreads a wait over [d/2, 3d/2).
func jitter(d time.Duration) time.Duration {
	return d/2 + rand.N(d)
}

// MCP protocol versions this client speaks, newest first; it asks for the
// first.
var protocolVersions = []string{"2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"}

var initializeParams = []byte(`{"protocolVersion":"` + protocolVersions[0] + `","capabilities":{},"clientInfo":{"name":"mcp-extproc","version":"1"}}`)

// dial opens and initializes a session and lists the server's tools.
func (p *Plugin) dial(ctx context.Context) (*conn, error) {
	s, err := dial(ctx, p.pc.MCP, p.logger)
	if err != nil {
		return nil, err
	}
	c, err := handshake(ctx, s)
	if err != nil {
		_ = s.close()
		return nil, err
	}
	return c, nil
}

func handshake(ctx context.Context, s session) (*conn, error) {
	raw, err := s.call(ctx, "initialize", initializeParams)
	if err != nil {
		return nil, fmt.Errorf("initialize: %w", err)
	}
	var ir struct {
		ProtocolVersion string `json:"protocolVersion"`
	}
	if err := json.Unmarshal(raw, &ir); err != nil {
		return nil, fmt.Errorf("initialize: %w", err)
	}
	if !slices.Contains(protocolVersions, ir.ProtocolVersion) {
		return nil, fmt.Errorf("initialize: the plugin server speaks MCP %q, this client %v", ir.ProtocolVersion, protocolVersions)
	}
	if h, ok := s.(*httpSession); ok {
		h.versionHeader = []string{ir.ProtocolVersion}
	}
	if err := s.notify(ctx, "notifications/initialized", []byte("{}")); err != nil {
		return nil, fmt.Errorf("initialized: %w", err)
	}
	c := &conn{s: s, perHookTools: true}
	var cursor string
	for page := 0; page < 100; page++ {
		var params []byte
		if cursor != "" {
			params, _ = json.Marshal(map[string]string{"cursor": cursor})
		}
		raw, err := s.call(ctx, "tools/list", params)
		if err != nil {
			return nil, fmt.Errorf("list tools: %w", err)
		}
		var tl struct {
			Tools []struct {
				Name string `json:"name"`
			} `json:"tools"`
			NextCursor string `json:"nextCursor"`
		}
		if err := json.Unmarshal(raw, &tl); err != nil {
			return nil, fmt.Errorf("list tools: %w", err)
		}
		for _, t := range tl.Tools {
			if t.Name == toolInvokeHook {
				c.perHookTools = false
			}
		}
		if cursor = tl.NextCursor; cursor == "" {
			break
		}
	}
	return c, nil
}

// callTool calls a tool on the current session and returns its text;
// when the session turns out to be lost (not an answer of the server) it
// reconnects and retries once.
func (p *Plugin) callTool(ctx context.Context, c *conn, name string, args []byte) (string, error) {
	if c == nil {
		var err error
		if c, err = p.connect(ctx, 0); err != nil {
			return "", err
		}
	}
	text, err := toolCall(ctx, c.s, name, args)
	if err == nil || !errors.Is(err, errSessionLost) || ctx.Err() != nil {
		return text, err
	}
	p.logger.Warn("plugin server session lost; reconnecting", "error", err.Error())
	if c, err = p.connect(ctx, c.gen); err != nil {
		return "", err
	}
	return toolCall(ctx, c.s, name, args)
}

func toolCall(ctx context.Context, s session, name string, args []byte) (string, error) {
	b := getBuf()
	b.WriteString(`{"name":`)
	writeString(b, name)
	b.WriteString(`,"arguments":`)
	b.Write(args)
	b.WriteByte('}')
	raw, err := s.call(ctx, "tools/call", b.Bytes())
	putBuf(b)
	if err != nil {
		return "", err
	}
	return firstText(raw)
}

// request builds the tool call for a hook: invoke_hook, or the hook's own
// tool on servers that predate it.
func (p *Plugin) request(hook framework.HookType, payload any, pc *framework.PluginContext) (string, invokeRequest, error) {
	return p.requestOn(p.cur.Load(), hook, payload, pc)
}

func (p *Plugin) requestOn(c *conn, hook framework.HookType, payload any, pc *framework.PluginContext) (string, invokeRequest, error) {
	pj, err := json.Marshal(payload)
	if err != nil {
		return "", invokeRequest{}, err
	}
	req := invokeRequest{HookType: hook, PluginName: p.pc.Name, Payload: pj, Context: contextToWire(pc)}
	if c != nil && c.perHookTools {
		req.HookType = ""
		return string(hook), req, nil
	}
	return toolInvokeHook, req, nil
}

// invoke calls one hook and returns the raw result JSON, having copied the
// returned context back into pc.
func (p *Plugin) invoke(ctx context.Context, hook framework.HookType, payload any, pc *framework.PluginContext) (json.RawMessage, error) {
	c := p.cur.Load()
	if c == nil {
		var err error
		if c, err = p.connect(ctx, 0); err != nil {
			return nil, err
		}
	}
	tool, req, err := p.requestOn(c, hook, payload, pc)
	if err != nil {
		return nil, err
	}
	args, err := json.Marshal(req)
	if err != nil {
		return nil, err
	}
	text, err := p.callTool(ctx, c, tool, args)
	if err != nil {
		return nil, err
	}
	return p.parseResponse(text, pc)
}

// parseResponse reads an invoke answer: the result JSON, having copied the
// returned context back into pc, or the server's error.
func (p *Plugin) parseResponse(text string, pc *framework.PluginContext) (json.RawMessage, error) {
	var resp invokeResponse
	if err := resp.decode(text); err != nil {
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

var _ framework.LoggerSetter = (*Plugin)(nil)

// SetLogger implements framework.LoggerSetter: the client's own records and
// the plugin server's stderr go to the server's logger.
func (p *Plugin) SetLogger(l *slog.Logger) { p.logger = l }
