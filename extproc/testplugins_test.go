package extproc

import (
	"bytes"
	"context"
	"encoding/json"
	"slices"

	"github.com/mcp-extproc/mcp-extproc/framework"
)

// Test kinds: small, real plugins that exercise the adapter (built-in kinds
// have their own packages and tests).

// denyTools blocks tools/call of the listed tools, prompts/get of the listed
// prompts and resources/read of URIs with the listed prefixes.
type denyTools struct {
	cfg denyConfig
}

type denyConfig struct {
	Tools      []string `yaml:"tools"`
	Prompts    []string `yaml:"prompts"`
	URIPrefix  []string `yaml:"uri_prefixes"`
	HTTPStatus int      `yaml:"http_status"`
	MCPCode    int      `yaml:"mcp_error_code"`
}

func (d *denyTools) violation(what string) *framework.Violation {
	return &framework.Violation{Reason: "denied by policy", Description: what + " is not allowed", Code: "TEST_DENIED",
		Details: map[string]any{"what": what}, HTTPStatusCode: d.cfg.HTTPStatus, MCPErrorCode: d.cfg.MCPCode}
}

func (d *denyTools) ToolPreInvoke(_ context.Context, p *framework.ToolPreInvokePayload, _ *framework.PluginContext) (framework.Result[framework.ToolPreInvokePayload], error) {
	if slices.Contains(d.cfg.Tools, p.Name) {
		return framework.Result[framework.ToolPreInvokePayload]{Violation: d.violation("tool " + p.Name)}, nil
	}
	return framework.Result[framework.ToolPreInvokePayload]{}, nil
}

func (d *denyTools) PromptPreFetch(_ context.Context, p *framework.PromptPreFetchPayload, _ *framework.PluginContext) (framework.Result[framework.PromptPreFetchPayload], error) {
	if slices.Contains(d.cfg.Prompts, p.PromptID) {
		return framework.Result[framework.PromptPreFetchPayload]{Violation: d.violation("prompt " + p.PromptID)}, nil
	}
	return framework.Result[framework.PromptPreFetchPayload]{}, nil
}

func (d *denyTools) ResourcePreFetch(_ context.Context, p *framework.ResourcePreFetchPayload, _ *framework.PluginContext) (framework.Result[framework.ResourcePreFetchPayload], error) {
	for _, pre := range d.cfg.URIPrefix {
		if len(p.URI) >= len(pre) && p.URI[:len(pre)] == pre {
			return framework.Result[framework.ResourcePreFetchPayload]{Violation: d.violation("resource " + p.URI)}, nil
		}
	}
	return framework.Result[framework.ResourcePreFetchPayload]{}, nil
}

// maskWord replaces a word wherever it appears in arguments, results and
// contents (raw bytes: test inputs keep the word out of escapes). With
// block_word set, a result containing that word is blocked.
type maskWord struct {
	cfg maskConfig
}

type maskConfig struct {
	Word      string `yaml:"word"`
	Mask      string `yaml:"mask"`
	BlockWord string `yaml:"block_word"`
}

func (m *maskWord) apply(raw json.RawMessage) (json.RawMessage, bool) {
	if m.cfg.Word == "" || !bytes.Contains(raw, []byte(m.cfg.Word)) {
		return raw, false
	}
	return bytes.ReplaceAll(raw, []byte(m.cfg.Word), []byte(m.cfg.Mask)), true
}

func (m *maskWord) blocked(raw json.RawMessage) *framework.Violation {
	if m.cfg.BlockWord != "" && bytes.Contains(raw, []byte(m.cfg.BlockWord)) {
		return &framework.Violation{Reason: "result withheld", Description: "the result contains forbidden content", Code: "TEST_RESULT_BLOCKED"}
	}
	return nil
}

// ReadsErrorResults: the mask applies to JSON-RPC errors too.
func (m *maskWord) ReadsErrorResults() bool { return true }

func (m *maskWord) ToolPreInvoke(_ context.Context, p *framework.ToolPreInvokePayload, _ *framework.PluginContext) (framework.Result[framework.ToolPreInvokePayload], error) {
	if out, ok := m.apply(p.Args); ok {
		return framework.Result[framework.ToolPreInvokePayload]{ModifiedPayload: &framework.ToolPreInvokePayload{Name: p.Name, Args: out, Headers: p.Headers}}, nil
	}
	return framework.Result[framework.ToolPreInvokePayload]{}, nil
}

func (m *maskWord) ToolPostInvoke(_ context.Context, p *framework.ToolPostInvokePayload, _ *framework.PluginContext) (framework.Result[framework.ToolPostInvokePayload], error) {
	if v := m.blocked(p.Result); v != nil {
		return framework.Result[framework.ToolPostInvokePayload]{Violation: v}, nil
	}
	if out, ok := m.apply(p.Result); ok {
		return framework.Result[framework.ToolPostInvokePayload]{ModifiedPayload: &framework.ToolPostInvokePayload{Name: p.Name, Result: out}}, nil
	}
	return framework.Result[framework.ToolPostInvokePayload]{}, nil
}

func (m *maskWord) PromptPostFetch(_ context.Context, p *framework.PromptPostFetchPayload, _ *framework.PluginContext) (framework.Result[framework.PromptPostFetchPayload], error) {
	if out, ok := m.apply(p.Result); ok {
		return framework.Result[framework.PromptPostFetchPayload]{ModifiedPayload: &framework.PromptPostFetchPayload{PromptID: p.PromptID, Result: out}}, nil
	}
	return framework.Result[framework.PromptPostFetchPayload]{}, nil
}

func (m *maskWord) ResourcePostFetch(_ context.Context, p *framework.ResourcePostFetchPayload, _ *framework.PluginContext) (framework.Result[framework.ResourcePostFetchPayload], error) {
	if out, ok := m.apply(p.Content); ok {
		return framework.Result[framework.ResourcePostFetchPayload]{ModifiedPayload: &framework.ResourcePostFetchPayload{URI: p.URI, Content: out}}, nil
	}
	return framework.Result[framework.ResourcePostFetchPayload]{}, nil
}

// recorder remembers the names its post hooks saw (to check matching) and
// passes everything.
type recorder struct {
	seen chan string
}

func (r *recorder) ToolPostInvoke(_ context.Context, p *framework.ToolPostInvokePayload, pc *framework.PluginContext) (framework.Result[framework.ToolPostInvokePayload], error) {
	select {
	case r.seen <- p.Name + "|" + stateString(pc):
	default:
	}
	return framework.Result[framework.ToolPostInvokePayload]{}, nil
}

func (r *recorder) ToolPreInvoke(_ context.Context, p *framework.ToolPreInvokePayload, pc *framework.PluginContext) (framework.Result[framework.ToolPreInvokePayload], error) {
	pc.State = map[string]any{"pre": p.Name}
	return framework.Result[framework.ToolPreInvokePayload]{}, nil
}

func stateString(pc *framework.PluginContext) string {
	s, _ := pc.State["pre"].(string)
	return s
}

// corrupt rewrites tool arguments into something that is not an object.
type corrupt struct{}

func (corrupt) ToolPreInvoke(_ context.Context, p *framework.ToolPreInvokePayload, _ *framework.PluginContext) (framework.Result[framework.ToolPreInvokePayload], error) {
	return framework.Result[framework.ToolPreInvokePayload]{ModifiedPayload: &framework.ToolPreInvokePayload{Name: p.Name, Args: json.RawMessage(`[1,2]`)}}, nil
}

var recorded = make(chan string, 64)

func testRegistry() *framework.Registry {
	r := framework.NewRegistry()
	r.Register(framework.Kind{Name: "test_deny", Hooks: []framework.HookType{framework.ToolPreInvoke, framework.PromptPreFetch, framework.ResourcePreFetch},
		New: func(pc *framework.PluginConfig) (framework.Plugin, error) {
			d := &denyTools{}
			return d, pc.DecodeConfig(&d.cfg)
		}})
	r.Register(framework.Kind{Name: "test_mask", Hooks: []framework.HookType{framework.ToolPreInvoke, framework.ToolPostInvoke, framework.PromptPostFetch, framework.ResourcePostFetch},
		New: func(pc *framework.PluginConfig) (framework.Plugin, error) {
			m := &maskWord{cfg: maskConfig{Mask: "******"}}
			return m, pc.DecodeConfig(&m.cfg)
		}})
	r.Register(framework.Kind{Name: "test_recorder", Hooks: []framework.HookType{framework.ToolPreInvoke, framework.ToolPostInvoke},
		New: func(*framework.PluginConfig) (framework.Plugin, error) { return &recorder{seen: recorded}, nil }})
	r.Register(framework.Kind{Name: "test_corrupt", Hooks: []framework.HookType{framework.ToolPreInvoke},
		New: func(*framework.PluginConfig) (framework.Plugin, error) { return corrupt{}, nil }})
	return r
}
