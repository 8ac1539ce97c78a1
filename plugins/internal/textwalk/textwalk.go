// Package textwalk walks the strings of a payload's JSON value that hold
// text, for the detectors of pii_filter and secrets_detection: it leaves
// out strings too short to hold a finding and, in results, what MCP's schema
// defines as binary (a resource's blob, an image's or audio clip's data; see
// mcpparse.IsBinary), and notices a cancelled context during a long walk.
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

// Walk calls visit, as mcpparse.WalkStrings does, for every string value of
// raw at least minLen bytes long that is not binary data of a result, and
// returns the JSON with the replacements visit made. Malformed JSON is an
// error naming kind ("pii_filter: …"). When ctx is cancelled during the
// walk, visit is not called again and Walk returns ctx's error as it is.
func Walk(ctx context.Context, kind string, v Value, raw []byte, minLen int, visit func(path mcpparse.Path, s string) (string, bool)) ([]byte, bool, error) {
	// One variable for the walk's state, not two: the closure that shares
	// it escapes, and each variable it shares is an allocation.
	var st struct {
		scanned   int
		cancelled error
	}
	out, changed, err := mcpparse.WalkStrings(raw, mcpparse.WalkOptions{}, func(path mcpparse.Path, s string) (string, bool) {
		if st.cancelled != nil || len(s) < minLen || (v == Result && mcpparse.IsBinary(raw, path)) {
			return "", false
		}
		if st.scanned += len(s); st.scanned > ctxCheckBytes {
			st.scanned = 0
			if st.cancelled = ctx.Err(); st.cancelled != nil {
				return "", false
			}
		}
		return visit(path, s)
	})
	if st.cancelled != nil {
		return nil, false, st.cancelled
	}
	if err != nil {
		return nil, false, fmt.Errorf("%s: %w", kind, err)
	}
	return out, changed, nil
}
