package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"

	"github.com/mcp-extproc/mcp-extproc/framework"
	"github.com/mcp-extproc/mcp-extproc/plugins/internal/outbound"
)

// CodeServiceError is the violation code when the service cannot decide.
const CodeServiceError = "WEBHOOK_ERROR"

// errRenamed is a modified payload that names another tool.
var errRenamed = errors.New("modified_payload renames the tool")

// Plugin is a loaded webhook. It is safe for concurrent use.
type Plugin struct {
	outbound.Lifecycle[any]
	name           string
	client         *outbound.Client[any] // verdicts are framework.Result[P]
	idempotent     bool
	onServiceError string
	cache          bool
}

var (
	_ framework.ToolPreInvoker      = (*Plugin)(nil)
	_ framework.ToolPostInvoker     = (*Plugin)(nil)
	_ framework.PromptPreFetcher    = (*Plugin)(nil)
	_ framework.PromptPostFetcher   = (*Plugin)(nil)
	_ framework.ResourcePreFetcher  = (*Plugin)(nil)
	_ framework.ResourcePostFetcher = (*Plugin)(nil)
	_ framework.Initializer         = (*Plugin)(nil)
	_ framework.Shutdowner          = (*Plugin)(nil)
)

// ToolPreInvoke asks the service about a tools/call. A modified payload
// may change the arguments, not the tool.
func (p *Plugin) ToolPreInvoke(ctx context.Context, pl *framework.ToolPreInvokePayload, pc *framework.PluginContext) (framework.Result[framework.ToolPreInvokePayload], error) {
	return call(ctx, p, framework.ToolPreInvoke, pl, pc, func(m *framework.ToolPreInvokePayload) (*framework.ToolPreInvokePayload, error) {
		if m.Name != pl.Name {
			return nil, errRenamed
		}
		if err := object(m.Args, "args"); err != nil {
			return nil, err
		}
		return &framework.ToolPreInvokePayload{Name: pl.Name, Args: m.Args, Headers: pl.Headers}, nil
	}, []byte(pl.Name), pl.Args, headerBytes(pl.Headers))
}

// ToolPostInvoke asks the service about a tools/call result.
func (p *Plugin) ToolPostInvoke(ctx context.Context, pl *framework.ToolPostInvokePayload, pc *framework.PluginContext) (framework.Result[framework.ToolPostInvokePayload], error) {
	return call(ctx, p, framework.ToolPostInvoke, pl, pc, func(m *framework.ToolPostInvokePayload) (*framework.ToolPostInvokePayload, error) {
		if m.Name != pl.Name {
			return nil, errRenamed
		}
		return &framework.ToolPostInvokePayload{Name: pl.Name, Result: m.Result}, object(m.Result, "result")
	}, []byte(pl.Name), pl.Result)
}

// PromptPreFetch asks the service about a prompts/get.
func (p *Plugin) PromptPreFetch(ctx context.Context, pl *framework.PromptPreFetchPayload, pc *framework.PluginContext) (framework.Result[framework.PromptPreFetchPayload], error) {
	return call(ctx, p, framework.PromptPreFetch, pl, pc, func(m *framework.PromptPreFetchPayload) (*framework.PromptPreFetchPayload, error) {
		if m.PromptID != pl.PromptID {
			return nil, fmt.Errorf("modified_payload renames the prompt")
		}
		return &framework.PromptPreFetchPayload{PromptID: pl.PromptID, Args: m.Args}, object(m.Args, "args")
	}, []byte(pl.PromptID), pl.Args)
}

// PromptPostFetch asks the service about a prompts/get result.
func (p *Plugin) PromptPostFetch(ctx context.Context, pl *framework.PromptPostFetchPayload, pc *framework.PluginContext) (framework.Result[framework.PromptPostFetchPayload], error) {
	return call(ctx, p, framework.PromptPostFetch, pl, pc, func(m *framework.PromptPostFetchPayload) (*framework.PromptPostFetchPayload, error) {
		if m.PromptID != pl.PromptID {
			return nil, fmt.Errorf("modified_payload renames the prompt")
		}
		return &framework.PromptPostFetchPayload{PromptID: pl.PromptID, Result: m.Result}, object(m.Result, "result")
	}, []byte(pl.PromptID), pl.Result)
}

// ResourcePreFetch asks the service about a resources/read; the URI
// cannot be changed.
func (p *Plugin) ResourcePreFetch(ctx context.Context, pl *framework.ResourcePreFetchPayload, pc *framework.PluginContext) (framework.Result[framework.ResourcePreFetchPayload], error) {
	return call(ctx, p, framework.ResourcePreFetch, pl, pc, func(*framework.ResourcePreFetchPayload) (*framework.ResourcePreFetchPayload, error) {
		return nil, fmt.Errorf("modified_payload cannot change a resources/read request")
	}, []byte(pl.URI), pl.Metadata)
}

// ResourcePostFetch asks the service about a resources/read result.
func (p *Plugin) ResourcePostFetch(ctx context.Context, pl *framework.ResourcePostFetchPayload, pc *framework.PluginContext) (framework.Result[framework.ResourcePostFetchPayload], error) {
	return call(ctx, p, framework.ResourcePostFetch, pl, pc, func(m *framework.ResourcePostFetchPayload) (*framework.ResourcePostFetchPayload, error) {
		if m.URI != pl.URI {
			return nil, fmt.Errorf("modified_payload changes the resource's URI")
		}
		return &framework.ResourcePostFetchPayload{URI: pl.URI, Content: m.Content}, object(m.Content, "content")
	}, []byte(pl.URI), pl.Content)
}

// headerBytes writes forwarded headers in a stable order, for a cache key.
func headerBytes(h map[string]string) []byte {
	keys := make([]string, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b []byte
	for _, k := range keys {
		b = append(b, k...)
		b = append(b, 0)
		b = append(b, h[k]...)
		b = append(b, 0)
	}
	return b
}

func object(raw json.RawMessage, what string) error {
	t := bytes.TrimSpace(raw)
	if len(t) == 0 || t[0] != '{' || !json.Valid(t) {
		return fmt.Errorf("modified_payload.%s is not a JSON object", what)
	}
	return nil
}

// hookCall is the request body: the arguments of ContextForge's
// invoke_hook.
type hookCall[P framework.Payload] struct {
	HookType   framework.HookType       `json:"hook_type"`
	PluginName string                   `json:"plugin_name"`
	Payload    *P                       `json:"payload"`
	Context    *framework.PluginContext `json:"context"`
}

var emptyContext = &framework.PluginContext{Global: &framework.GlobalContext{}}

// call asks the service and applies its answer. accept checks a modified
// payload and returns the one to apply.
func call[P framework.Payload](ctx context.Context, p *Plugin, hook framework.HookType, pl *P, pc *framework.PluginContext, accept func(*P) (*P, error), identity ...[]byte) (framework.Result[P], error) {
	if pc == nil || pc.Global == nil {
		pc = emptyContext
	}
	req := outbound.Request{Idempotent: p.idempotent, Encode: func() ([]byte, error) { return json.Marshal(hookCall[P]{hook, p.name, pl, pc}) }}
	if p.cache {
		// What the answer may depend on: the hook, the payload (identity)
		// and who asks; not the request id.
		g := pc.Global
		key := outbound.KeyOf(append(identity, []byte(hook), []byte(g.User), []byte(g.TenantID), []byte(g.ServerID))...)
		req.CacheKey = &key
	}
	v, err := p.client.Call(ctx, req, func(status int, _ http.Header, b []byte) (any, error) {
		return decode(status, b, accept)
	})
	if err != nil {
		viol, meta, err := outbound.Failure(err, p.onServiceError, CodeServiceError, "Policy service error", "the "+string(hook)+" call")
		return framework.Result[P]{Violation: viol, Metadata: meta}, err
	}
	return v.(framework.Result[P]), nil
}

// decode reads a PluginResult: 204 continues; a 200 object is read as
// ContextForge writes it, a halt without a violation
// becoming PLUGIN_HALTED; any other status, or a body that is not an
// object, is a service error.
func decode[P framework.Payload](status int, body []byte, accept func(*P) (*P, error)) (framework.Result[P], error) {
	var res framework.Result[P]
	switch {
	case status == http.StatusNoContent:
		return res, nil
	case status != http.StatusOK:
		return res, outbound.StatusError(status)
	}
	t := bytes.TrimSpace(body)
	if len(t) == 0 || t[0] != '{' {
		return res, errors.New("answer is not a PluginResult object")
	}
	if err := json.Unmarshal(t, &res); err != nil {
		return res, fmt.Errorf("answer is not a PluginResult: %w", err)
	}
	if res.ModifiedPayload != nil {
		m, err := accept(res.ModifiedPayload)
		if err != nil {
			return framework.Result[P]{}, err
		}
		res.ModifiedPayload = m
	}
	if v := res.Violation; v != nil {
		if v.Code == "" {
			v.Code = framework.CodePluginHalted
		}
		if v.HTTPStatusCode != 0 && (v.HTTPStatusCode < 400 || v.HTTPStatusCode > 599) {
			v.HTTPStatusCode = 0 // a block answers an error status or 200
		}
		v.Plugin = ""
	}
	return res, nil
}
