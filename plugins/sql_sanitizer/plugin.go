package sqlsanitizer

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"sync"

	"github.com/mcp-extproc/mcp-extproc/framework"
	"github.com/mcp-extproc/mcp-extproc/mcpparse"
	"github.com/mcp-extproc/mcp-extproc/plugins/internal/hookjson"
	"github.com/mcp-extproc/mcp-extproc/plugins/internal/textwalk"
)

// CodeUnsafeSQL is the violation code of a message refused for its SQL.
const CodeUnsafeSQL = "UNSAFE_SQL"

// maxReported bounds the issues listed in a violation and metadata.
const maxReported = 32

// Plugin is a loaded sql_sanitizer. It is immutable and safe for
// concurrent use.
type Plugin struct {
	action   Action
	fields   map[string]bool // lower-case argument keys; nil: every string
	dialects []*dialect
	rules    rules
	strip    bool
	kws      *keywords
	// groups are the readings for each set of features, computed once.
	groups   [numFeatureSets][]dialectGroup
	readings sync.Pool // *reading
}

var (
	_ framework.ToolPreInvoker   = (*Plugin)(nil)
	_ framework.PromptPreFetcher = (*Plugin)(nil)
)

// analyze returns the issues of text under every dialect. sqlText says it
// comes from a configured field. Free text holding a quote is also read as
// a value pasted between two quotes of a query ('…'), the context an
// injection is written for. Dialects that read this text alike (it has
// none of the characters they disagree on) share one reading.
func (p *Plugin) analyze(text string, sqlText bool) []issue {
	var out []issue
	r := p.reading()
	defer p.readings.Put(r)
	for _, g := range p.groups[featuresOf(text)] {
		add := func(kind, kw string) {
			for _, name := range g.names {
				out = addIssue(out, kind, kw, name)
			}
		}
		r.read(text, &g.d, p.kws)
		p.rules.check(r, sqlText, add)
		if p.rules.injection && !sqlText {
			for _, q := range []string{"'", `"`} {
				if strings.Contains(text, q) {
					r.read(q+text+q, &g.d, p.kws)
					p.rules.checkInjected(r, add)
				}
			}
		}
	}
	return out
}

func addIssue(out []issue, kind, kw, d string) []issue {
	for i := range out {
		if out[i].kind == kind && out[i].keyword == kw {
			if !slices.Contains(out[i].dialects, d) {
				out[i].dialects = append(out[i].dialects, d)
			}
			return out
		}
	}
	return append(out, issue{kind: kind, keyword: kw, dialects: []string{d}})
}

// stripped returns text without its comments when every dialect finds the
// same ones, and false when there are none or the dialects disagree.
func (p *Plugin) stripped(text string) (string, bool) {
	var spans [][2]int
	for i, d := range p.dialects {
		var these [][2]int
		for _, t := range lex(text, d, p.kws, nil) {
			switch t.kind {
			case tkComment:
				these = append(these, [2]int{t.start, t.end})
			case tkExecComment:
				return "", false
			}
		}
		if i == 0 {
			spans = these
		} else if !slices.Equal(spans, these) {
			return "", false
		}
	}
	if len(spans) == 0 {
		return "", false
	}
	var b strings.Builder
	last := 0
	for _, sp := range spans {
		b.WriteString(text[last:sp[0]])
		b.WriteByte(' ')
		last = sp[1]
	}
	b.WriteString(text[last:])
	return strings.TrimSpace(b.String()), true
}

// reading returns a reading from the pool.
func (p *Plugin) reading() *reading {
	if r, ok := p.readings.Get().(*reading); ok {
		return r
	}
	return &reading{}
}

// fieldOf returns the key of the member nearest the string at path.
func fieldOf(path mcpparse.Path) string {
	for i := len(path) - 1; i >= 0; i-- {
		if path[i].Index == mcpparse.MemberIndex {
			return path[i].Key
		}
	}
	return ""
}

// process is the plugin's hookjson.Inspect over the arguments.
func (p *Plugin) process(ctx context.Context, _ framework.HookType, where string, raw json.RawMessage, pc *framework.PluginContext) (json.RawMessage, *framework.Violation, map[string]any, error) {
	if len(raw) == 0 {
		return nil, nil, nil, ctx.Err()
	}
	var items []map[string]any
	total := 0
	out, changed, err := textwalk.Walk(ctx, pc, KindName, textwalk.Arguments, raw, 4, func(path mcpparse.Path, s string) (string, bool) {
		sqlText := p.fields != nil
		if sqlText && !p.fields[strings.ToLower(fieldOf(path))] {
			return "", false
		}
		if !sqlText && !mayBeSQL(s) {
			return "", false
		}
		issues := p.analyze(s, sqlText)
		total += len(issues)
		for _, is := range issues {
			if len(items) < maxReported {
				it := map[string]any{"field": path.String(), "issue": is.kind, "dialects": is.dialects}
				if is.keyword != "" {
					it["keyword"] = is.keyword
				}
				items = append(items, it)
			}
		}
		if p.strip && (sqlText || len(issues) > 0 || p.isSQL(s)) {
			return p.stripped(s)
		}
		return "", false
	})
	if err != nil {
		return nil, nil, nil, err
	}
	if total == 0 {
		if changed {
			return out, nil, nil, nil
		}
		return nil, nil, nil, nil
	}
	meta := map[string]any{"sql_issues": items}
	if p.action == ActionLog {
		if changed {
			return out, nil, meta, nil
		}
		return nil, nil, meta, nil
	}
	kinds := []string{}
	for _, it := range items {
		if k := it["issue"].(string); !slices.Contains(kinds, k) {
			kinds = append(kinds, k)
		}
	}
	return nil, &framework.Violation{
		Reason:      "unsafe SQL",
		Description: "SQL in " + where + ": " + strings.ReplaceAll(strings.Join(kinds, ", "), "_", " "),
		Code:        CodeUnsafeSQL,
		Details:     map[string]any{"count": total, "issues": items},
	}, meta, nil
}

// isSQL reports whether any dialect reads s as holding a statement of SQL's shape.
func (p *Plugin) isSQL(s string) bool {
	r := p.reading()
	defer p.readings.Put(r)
	for _, g := range p.groups[featuresOf(s)] {
		r.read(s, &g.d, p.kws)
		if slices.ContainsFunc(r.stmts, r.shaped) {
			return true
		}
	}
	return false
}

// ToolPreInvoke checks the SQL in the tool arguments.
func (p *Plugin) ToolPreInvoke(ctx context.Context, pl *framework.ToolPreInvokePayload, pc *framework.PluginContext) (framework.Result[framework.ToolPreInvokePayload], error) {
	return hookjson.ToolPreInvoke(ctx, pl, pc, p.process)
}

// PromptPreFetch checks the SQL in the prompt arguments.
func (p *Plugin) PromptPreFetch(ctx context.Context, pl *framework.PromptPreFetchPayload, pc *framework.PluginContext) (framework.Result[framework.PromptPreFetchPayload], error) {
	return hookjson.PromptPreFetch(ctx, pl, pc, p.process)
}
