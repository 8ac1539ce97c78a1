package toolpin

import (
	"context"
	"encoding/json"
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
	digests         map[string]map[string]digest // the lockfile's, by server key and tool
	onChange, onNew string
	changed         *listitems.Verdicts
	memo            *listitems.Memo[fingerprinted]
	lists           *listitems.ListMemo[listOutcome]
}

// listOutcome is what ToolsPostList made of one page.
type listOutcome struct {
	out             json.RawMessage
	hidden, flagged []framework.HiddenItem
}

// fingerprinted is a listed tool's name and fingerprint (or why it has none).
type fingerprinted struct {
	name string
	fp   digest
	err  error
}

var (
	_ framework.ToolsPostLister = (*Plugin)(nil)
	_ framework.ToolPreInvoker  = (*Plugin)(nil)
)

// judge compares one listed tool with its pin. A tool whose members are
// canonical already is fingerprinted in one pass, which costs less than
// remembering it; the others are remembered by their exact bytes.
func (p *Plugin) judge(pins map[string]digest, tool gjson.Result) (*framework.HiddenItem, string) {
	var t fingerprinted
	c := getCanonicaliser()
	fp, name, fast := fingerprintFast(c, tool.Raw)
	if fast {
		t = fingerprinted{name: name, fp: fp}
	} else if t, fast = p.memo.Get(tool.Raw); !fast {
		t.name = listitems.Member(tool, "name").Str
		// Straight to the canonicaliser: the fast path has just said no.
		t.fp, t.err = fingerprintCanonicalised(c, tool.Raw)
		p.memo.Put(tool.Raw, t)
	}
	putCanonicaliser(c)
	want, pinned := pins[t.name]
	switch {
	case !pinned && p.onNew == OnNewBlock:
		return &framework.HiddenItem{Name: t.name, Code: CodeNotPinned, Reason: fmt.Sprintf("tool %q is not in the lockfile", t.name)}, t.name
	case !pinned:
		return nil, t.name
	case t.err != nil:
		return &framework.HiddenItem{Name: t.name, Code: CodeDefinitionChanged, Reason: fmt.Sprintf("tool %q: no fingerprint: %v", t.name, t.err)}, t.name
	case t.fp != want:
		return changedItem(t.name, t.fp, want), t.name
	}
	return nil, t.name
}

// changedItem is the hidden item of a tool whose fingerprint got differs from
// its pin. (Its own function: the digests it writes escape only here, not in
// judge for every tool.)
func changedItem(name string, got, pin digest) *framework.HiddenItem {
	return &framework.HiddenItem{Name: name, Code: CodeDefinitionChanged,
		Reason: fmt.Sprintf("tool %q changed: fingerprint %x, pinned %x", name, got[:], pin[:])}
}

// ToolsPostList checks each listed tool against the lockfile entry of the
// server (its own, else "*").
func (p *Plugin) ToolsPostList(ctx context.Context, pl *framework.ToolsPostListPayload, _ *framework.PluginContext) (framework.Result[framework.ToolsPostListPayload], error) {
	var res framework.Result[framework.ToolsPostListPayload]
	if err := ctx.Err(); err != nil {
		return res, err
	}
	pins, entry := p.pins(pl.ServerID)
	// Only a server with changed tools has any to clear, tool by tool;
	// other lists may take the outcome of the same bytes seen before.
	clearing := !p.changed.Empty(pl.ServerID)
	o, ok := p.lists.Get(pl.Tools, entry)
	if !ok || clearing {
		var err error
		if o, err = p.judgeList(pins, pl, clearing); err != nil {
			return res, err
		}
		p.lists.Put(pl.Tools, entry, o)
	} else {
		for _, h := range o.hidden {
			if h.Code == CodeDefinitionChanged {
				p.changed.Refuse(pl.ServerID, h.Name, h)
			}
		}
	}
	if o.flagged != nil || o.hidden != nil {
		res.Metadata = map[string]any{}
	}
	if o.flagged != nil {
		res.Metadata[framework.MetadataFlaggedItems] = o.flagged
	}
	if o.hidden != nil {
		res.Metadata[framework.MetadataHiddenItems] = o.hidden
		res.ModifiedPayload = &framework.ToolsPostListPayload{Tools: o.out, ServerID: pl.ServerID}
	}
	return res, nil
}

// judgeList checks each tool of a page, records the changed ones it hides
// and clears (when clearing) the ones it lets through.
func (p *Plugin) judgeList(pins map[string]digest, pl *framework.ToolsPostListPayload, clearing bool) (listOutcome, error) {
	var flagged []framework.HiddenItem
	out, hidden, err := listitems.Filter(pl.Tools, func(tool gjson.Result) *framework.HiddenItem {
		h, name := p.judge(pins, tool)
		switch {
		case h == nil:
			if clearing {
				p.changed.Clear(pl.ServerID, name)
			}
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
		return listOutcome{}, fmt.Errorf("tool_pin: %w", err)
	}
	return listOutcome{out, hidden, flagged}, nil
}

// pins is Lockfile.entry as digests: the pins that apply to server and the
// key of their entry ("" when none applies).
func (p *Plugin) pins(server string) (map[string]digest, string) {
	switch _, key := p.lock.entry(server); key {
	case "":
		return nil, key
	case AnyServer:
		return p.digests[AnyServer], key
	default:
		return p.digests[server], key
	}
}

// decodeDigests reads every fingerprint of a checked lockfile.
func decodeDigests(lf *Lockfile) (map[string]map[string]digest, error) {
	all := make(map[string]map[string]digest, len(lf.Servers))
	for server, sp := range lf.Servers {
		m := make(map[string]digest, len(sp.Tools))
		for name, fp := range sp.Tools {
			d, ok := parseDigest(fp)
			if !ok {
				return nil, fmt.Errorf("servers[%q].tools[%q]: %q is not a SHA-256 fingerprint", server, name, fp)
			}
			m[name] = d
		}
		all[server] = m
	}
	return all, nil
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
