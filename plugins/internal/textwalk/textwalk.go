// Package textwalk walks the strings of a payload's JSON value that hold
// text, for the detectors of the content plugins (pii_filter,
// secrets_detection, encoded_exfil, sql_sanitizer, url_reputation, the
// moderation classifiers): it leaves out strings too short to hold a
// finding and, in results, what MCP's schema defines as binary (a
// resource's blob, an image's or audio clip's data; see mcpparse.IsBinary),
// and notices a cancelled context during a long walk. The strings are the
// hook run's shared decoding (framework.PluginContext.Text), so that the plugins of one
// hook decode a payload once between them.
//
// What to find in a string, and what to replace it with, is the caller's.
package textwalk

import (
	"context"
	"fmt"

	"github.com/mcp-extproc/mcp-extproc/framework"
	"github.com/mcp-extproc/mcp-extproc/mcpparse"
)

// ctxCheckBytes is how much text is walked between two looks at ctx.
const ctxCheckBytes = 256 << 10

// Value says what a walked JSON value is. Only a result has binary fields:
// the arguments of a request are the caller's own data, every string of
// which is text, whatever shape it takes.
type Value uint8

// The values a plugin walks.
const (
	Arguments Value = iota // request arguments or _meta
	Result                 // a tools/call, prompts/get or resources/read result
)

// ValueOf says what the payload of hook h is: a result for post hooks.
func ValueOf(h framework.HookType) Value {
	if h.IsPre() {
		return Arguments
	}
	return Result
}

// Walk calls visit for every string value of raw at least minLen bytes
// long that is not binary data of a result, in document order, and returns
// the JSON with the replacements visit made (visit returns the new string
// and true); every byte not replaced is kept, and with no replacement out
// is raw itself. The strings are the hook run's shared decoding of raw
// (framework.PluginContext.Text): path and s stay valid after the call but must not be
// modified. Malformed JSON is an error naming kind ("pii_filter: …"). When
// ctx is cancelled during the walk, visit is not called again and Walk
// returns ctx's error as it is.
func Walk(ctx context.Context, pc *framework.PluginContext, kind string, v Value, raw []byte, minLen int, visit func(path mcpparse.Path, s string) (string, bool)) ([]byte, bool, error) {
	t, err := pc.Text(raw)
	if err != nil {
		return nil, false, fmt.Errorf("%s: %w", kind, err)
	}
	var edits []mcpparse.TextEdit
	scanned := 0
	for i := range t.Strings {
		s := &t.Strings[i]
		if len(s.Value) < minLen || s.Path.IsKey() || (v == Result && s.Binary) {
			continue
		}
		if scanned += len(s.Value); scanned > ctxCheckBytes {
			scanned = 0
			if err := ctx.Err(); err != nil {
				return nil, false, err
			}
		}
		if ns, ok := visit(s.Path, s.Value); ok && ns != s.Value {
			edits = append(edits, mcpparse.TextEdit{Index: i, Value: ns})
		}
	}
	out, changed := t.Replace(edits)
	return out, changed, nil
}
