package regexfilter

import (
	"context"
	"regexp"

	"github.com/mcp-extproc/mcp-extproc/framework"
	"github.com/mcp-extproc/mcp-extproc/mcpparse"
)

// rule is one compiled words entry.
type rule struct {
	re      *regexp.Regexp
	replace string
}

// apply runs every rule over s, in order.
func (p *Plugin) apply(s string) (string, bool) {
	out, changed := s, false
	for _, r := range p.rules {
		// ReplaceAllString copies the string even when nothing matches;
		// MatchString stops at the first match and allocates nothing.
		if r.re.MatchString(out) {
			out = r.re.ReplaceAllString(out, r.replace)
			changed = true
		}
	}
	return out, changed
}

// rewrite applies the rules to the strings of raw (values, not keys) that
// skip does not exclude. out is raw itself when nothing changed.
func (p *Plugin) rewrite(ctx context.Context, pc *framework.PluginContext, raw []byte, skip func(*mcpparse.String) bool) (out []byte, changed bool, err error) {
	if len(raw) == 0 {
		return raw, false, nil
	}
	t, err := pc.Text(raw)
	if err != nil {
		return nil, false, err
	}
	var edits []mcpparse.TextEdit
	for i := range t.Strings {
		if err := ctx.Err(); err != nil {
			return nil, false, err
		}
		s := &t.Strings[i]
		if s.Path.IsKey() || (skip != nil && skip(s)) {
			continue
		}
		if ns, ok := p.apply(s.Value); ok {
			edits = append(edits, mcpparse.TextEdit{Index: i, Value: ns})
		}
	}
	out, changed = t.Replace(edits)
	return out, changed, nil
}

// protocolKeys name the strings of a result that carry MCP protocol
// values rather than text: content and message discriminators, MIME types
// and URIs. Rewriting them would break the client, so they are left alone —
// except inside structuredContent, which is the tool's own data. Binary
// data is left alone too, but only where MCP's schema puts it
// (mcpparse.IsBinary), not under any key named "data" or "blob".
var protocolKeys = map[string]bool{"type": true, "mimeType": true, "role": true, "uri": true}

// isProtocolField reports whether a string of a tool or prompt result is a
// protocol value: a protocolKeys member, binary data, or anything under
// _meta or annotations, outside structuredContent.
func isProtocolField(s *mcpparse.String) bool {
	path := s.Path
	if len(path) == 0 || (path[0].Index == mcpparse.MemberIndex && path[0].Key == "structuredContent") {
		return false
	}
	if s.Binary {
		return true
	}
	for _, e := range path {
		if e.Index == mcpparse.MemberIndex && (e.Key == "_meta" || e.Key == "annotations") {
			return true
		}
	}
	last := path[len(path)-1]
	return last.Index == mcpparse.MemberIndex && protocolKeys[last.Key]
}
