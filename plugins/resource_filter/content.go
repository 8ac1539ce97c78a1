package resourcefilter

import (
	"context"
	"regexp"
	"unsafe"

	"github.com/mcp-extproc/mcp-extproc/framework"
	"github.com/mcp-extproc/mcp-extproc/mcpparse"
)

// filter is one compiled content_filters entry.
type filter struct {
	re   *regexp.Regexp
	pre  *prefilter
	repl string
}

// contentField classifies a string of a resources/read result: the text or
// blob of one of its contents (result.contents[i].text / .blob), or neither.
func contentField(path mcpparse.Path) string {
	if len(path) != 3 || path[0].Index != mcpparse.MemberIndex || path[0].Key != "contents" ||
		path[1].Index < 0 || path[2].Index != mcpparse.MemberIndex {
		return ""
	}
	switch path[2].Key {
	case "text", "blob":
		return path[2].Key
	}
	return ""
}

// scanContents measures the result's text (UTF-8 bytes) and blob (decoded
// bytes) content and, when filters are configured, rewrites its text. out
// is raw itself when nothing changed.
func (p *Plugin) scanContents(ctx context.Context, pc *framework.PluginContext, raw []byte) (out []byte, size int, changed bool, err error) {
	rewrite := len(p.filters) > 0
	if !rewrite && p.maxSize == 0 {
		return raw, 0, false, nil
	}
	t, err := pc.Text(raw)
	if err != nil {
		return nil, 0, false, err
	}
	var scratch []byte // folded text for the prefilters, reused
	var edits []mcpparse.TextEdit
	for i := range t.Strings {
		s := &t.Strings[i]
		switch contentField(s.Path) {
		case "text":
			size += len(s.Value)
			if !rewrite {
				break
			}
			if err := ctx.Err(); err != nil {
				return nil, 0, false, err
			}
			if ns, ok := p.applyFilters(s.Value, &scratch); ok {
				edits = append(edits, mcpparse.TextEdit{Index: i, Value: ns})
			}
		case "blob":
			size += base64DecodedLen(s.Value)
		}
	}
	out, changed = t.Replace(edits)
	return out, size, changed, ctx.Err()
}

// applyFilters runs every content filter over s, in order. scratch holds
// the folded text the prefilters look at.
func (p *Plugin) applyFilters(s string, scratch *[]byte) (string, bool) {
	out, changed, folded := s, false, false
	for _, f := range p.filters {
		if f.pre != nil {
			if !folded {
				*scratch = foldText((*scratch)[:0], out)
				folded = true
			}
			if !f.pre.mayMatch(unsafeString(*scratch)) {
				continue
			}
		}
		// ReplaceAllString copies the string even without a match.
		if f.re.MatchString(out) {
			out = f.re.ReplaceAllString(out, f.repl)
			changed, folded = true, false
		}
	}
	return out, changed
}

// base64DecodedLen returns how many bytes the standard base64 text s
// decodes to, without decoding it; line breaks and padding are not data.
func base64DecodedLen(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '=', '\r', '\n', ' ', '\t':
		default:
			n++
		}
	}
	return n * 6 / 8
}

// unsafeString views b as a string for a lookup that does not keep it.
func unsafeString(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }
