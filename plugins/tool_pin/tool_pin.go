package toolpin

import (
	"context"
	"fmt"

	"github.com/tidwall/gjson"

	"github.com/mcp-extproc/mcp-extproc/framework"
	"github.com/mcp-extproc/mcp-extproc/plugins/internal/listitems"
)

// Violation and hidden-item codes of the kind.
const (
	CodeDefinitionChanged = "TOOL_DEFINITION_CHANGED"
	CodeNotPinned         = "TOOL_NOT_PINNED"
)

// Plugin is a loaded tool_pin. The lockfile is immutable; which tools were
// last seen changed is remembered per server (bounded). Safe for concurrent
// use.
type Plugin struct {
	lock            *Lockfile
	onChange, onNew string
	changed         *listitems.Verdicts
}

var (
	_ framework.ToolsPostLister = (*Plugin)(nil)
	_ framework.ToolPreInvoker  = (*Plugin)(nil)
)

// judge compares one listed tool with its pin.
func (p *Plugin) judge(pins map[string]string, tool gjson.Result) (h *framework.HiddenItem, fingerprint string) {
	name := tool.Get("name").Str
	want, pinned := pins[name]
	if !pinned {
		if p.onNew == OnNewBlock {
			return &framework.HiddenItem{Name: name, Code: CodeNotPinned, Reason: fmt.Sprintf("tool %q is not in the lockfile", name)}, ""
		}
		return nil, ""
	}
	fp, err := Fingerprint([]byte(tool.Raw))
	if err != nil {
		return &framework.HiddenItem{Name: name, Code: CodeDefinitionChanged, Reason: fmt.Sprintf("tool %q: no fingerprint: %v", name, err)}, ""
	}
	if fp != want {
		return &framework.HiddenItem{Name: name, Code: CodeDefinitionChanged,
			Reason: fmt.Sprintf("tool %q changed: fingerprint %s, pinned %s", name, fp, want)}, fp
	}
	return nil, fp
}

// ToolsPostList checks each listed tool against the lockfile entry of the
// server (its own, else "*").
func (p *Plugin) ToolsPostList(ctx context.Context, pl *framework.ToolsPostListPayload, _ *framework.PluginContext) (framework.Result[framework.ToolsPostListPayload], error) {
	var res framework.Result[framework.ToolsPostListPayload]
	if err := ctx.Err(); err != nil {
		return res, err
	}
	pins, _ := p.lock.Pins(pl.ServerID)
	var flagged []framework.HiddenItem
	out, hidden, err := listitems.Filter(pl.Tools, func(tool gjson.Result) *framework.HiddenItem {
		h, _ := p.judge(pins, tool)
		switch {
		case h == nil:
			p.changed.Clear(pl.ServerID, tool.Get("name").Str)
			return nil
		case h.Code == CodeDefinitionChanged && p.onChange == OnChangeAudit:
			flagged = append(flagged, *h)
			return nil
		case h.Code == CodeDefinitionChanged:
			p.changed.Refuse(pl.ServerID, h.Name, *h)
		}
		return h
	})
	if err != nil {
		return res, fmt.Errorf("tool_pin: %w", err)
	}
	if flagged != nil || hidden != nil {
		res.Metadata = map[string]any{}
	}
	if flagged != nil {
		res.Metadata[framework.MetadataFlaggedItems] = flagged
	}
	if hidden != nil {
		res.Metadata[framework.MetadataHiddenItems] = hidden
		res.ModifiedPayload = &framework.ToolsPostListPayload{Tools: out, ServerID: pl.ServerID}
	}
	return res, nil
}

// ToolPreInvoke refuses a tool the lockfile does not pin (on_new: block),
// and one whose last definition listed on this replica differed from its
// pin (on_change: block).
func (p *Plugin) ToolPreInvoke(ctx context.Context, pl *framework.ToolPreInvokePayload, pc *framework.PluginContext) (framework.Result[framework.ToolPreInvokePayload], error) {
	var res framework.Result[framework.ToolPreInvokePayload]
	server := ""
	if pc != nil && pc.Global != nil {
		server = pc.Global.ServerID
	}
	pins, _ := p.lock.Pins(server)
	if _, pinned := pins[pl.Name]; !pinned && p.onNew == OnNewBlock {
		res.Violation = &framework.Violation{
			Reason:      "Tool not pinned",
			Description: fmt.Sprintf("tool %q is not in the lockfile", pl.Name),
			Code:        CodeNotPinned,
			Details:     map[string]any{"tool": pl.Name},
		}
	} else if h, ok := p.changed.Lookup(server, pl.Name); ok {
		res.Violation = &framework.Violation{
			Reason:      "Tool definition changed",
			Description: h.Reason,
			Code:        CodeDefinitionChanged,
			Details:     map[string]any{"tool": pl.Name},
		}
	}
	return res, ctx.Err()
}
