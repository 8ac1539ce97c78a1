package toolfilter

import (
	"context"
	"fmt"

	"github.com/tidwall/gjson"

	"github.com/mcp-extproc/mcp-extproc/framework"
	"github.com/mcp-extproc/mcp-extproc/plugins/internal/listitems"
)

// CodeToolDenied is the violation code of the tool_filter kind.
const CodeToolDenied = "TOOL_DENIED"

// Plugin is a loaded tool_filter. Its settings are immutable; it remembers
// the outcome of recent lists. Safe for concurrent use.
type Plugin struct {
	allow, deny []string
	hideDenied  bool
	lists       *listitems.ListMemo[listOutcome]
}

// listOutcome is what ToolsPostList made of one page.
type listOutcome struct {
	out    []byte
	hidden []framework.HiddenItem
}

var (
	_ framework.ToolPreInvoker  = (*Plugin)(nil)
	_ framework.ToolsPostLister = (*Plugin)(nil)
)

// ToolPreInvoke refuses a tool that a deny pattern matches or, when allow
// is set, that no allow pattern matches.
func (p *Plugin) ToolPreInvoke(ctx context.Context, pl *framework.ToolPreInvokePayload, _ *framework.PluginContext) (framework.Result[framework.ToolPreInvokePayload], error) {
	var res framework.Result[framework.ToolPreInvokePayload]
	if err := ctx.Err(); err != nil {
		return res, err
	}
	res.Violation = p.refusal(pl.Name)
	return res, nil
}

// refusal is the violation a call of the named tool gets, or nil.
func (p *Plugin) refusal(name string) *framework.Violation {
	if pat, ok := framework.MatchAny(p.deny, name); ok {
		return &framework.Violation{
			Reason:      "Tool not allowed",
			Description: fmt.Sprintf("tool %q is denied (deny pattern %q)", name, pat),
			Code:        CodeToolDenied,
			Details:     map[string]any{"tool": name, "rule": "deny", "pattern": pat},
		}
	}
	if len(p.allow) > 0 {
		if _, ok := framework.MatchAny(p.allow, name); !ok {
			return &framework.Violation{
				Reason:      "Tool not allowed",
				Description: fmt.Sprintf("tool %q is not in the allow list", name),
				Code:        CodeToolDenied,
				Details:     map[string]any{"tool": name, "rule": "allow"},
			}
		}
	}
	return nil
}

// ToolsPostList removes from a tools/list page the tools this plugin would
// refuse to call for this caller (hide_denied, on by default): an agent is
// not shown what it may not use. The entry's conditions decide, as for
// calls, whom it applies to.
func (p *Plugin) ToolsPostList(ctx context.Context, pl *framework.ToolsPostListPayload, _ *framework.PluginContext) (framework.Result[framework.ToolsPostListPayload], error) {
	var res framework.Result[framework.ToolsPostListPayload]
	if err := ctx.Err(); err != nil || !p.hideDenied {
		return res, err
	}
	// The outcome depends on the names only: the same page again takes the
	// outcome it had.
	if o, ok := p.lists.Get(pl.Tools, ""); ok {
		if o.hidden != nil {
			res.ModifiedPayload = &framework.ToolsPostListPayload{Tools: o.out, ServerID: pl.ServerID}
			res.Metadata = map[string]any{framework.MetadataHiddenItems: o.hidden}
		}
		return res, nil
	}
	out, hidden, err := listitems.FilterKey(pl.Tools, "name", func(_, name gjson.Result) *framework.HiddenItem {
		if name.Type != gjson.String {
			return nil
		}
		if v := p.refusal(name.Str); v != nil {
			return &framework.HiddenItem{Name: name.Str, Code: CodeToolDenied, Reason: v.Description}
		}
		return nil
	})
	if err != nil {
		return res, fmt.Errorf("tool_filter: %w", err)
	}
	p.lists.Put(pl.Tools, "", listOutcome{out, hidden})
	if hidden == nil {
		return res, nil
	}
	res.ModifiedPayload = &framework.ToolsPostListPayload{Tools: out, ServerID: pl.ServerID}
	res.Metadata = map[string]any{framework.MetadataHiddenItems: hidden}
	return res, nil
}
