// Package textwalk walks the strings of a payload's JSON value that hold
// text, for the detectors of pii_filter and secrets_detection: it leaves
// out strings too short to hold a finding and base64 data (a resource's
// blob, an image's data), and notices a cancelled context during a long
// walk.
//
// What to find in a string, and what to replace it with, is the caller's.
package textwalk

import (
	"context"
	"fmt"

	"github.com/mcp-extproc/mcp-extproc/mcpparse"
)

// ctxCheckBytes is how much text is walked between two looks at ctx.
const ctxCheckBytes = 256 << 10

// Walk calls visit, as mcpparse.WalkStrings does, for every string value of
// raw at least minLen bytes long that is not binary data (see Binary), and
// returns the JSON with the replacements visit made. Malformed JSON is an
// error naming kind ("pii_filter: …"). When ctx is cancelled during the
// walk, visit is not called again and Walk returns ctx's error as it is.
func Walk(ctx context.Context, kind string, raw []byte, minLen int, visit func(path mcpparse.Path, s string) (string, bool)) ([]byte, bool, error) {
	// One variable for the walk's state, not two: the closure that shares
	// it escapes, and each variable it shares is an allocation.
	var st struct {
		scanned   int
		cancelled error
	}
	out, changed, err := mcpparse.WalkStrings(raw, mcpparse.WalkOptions{}, func(path mcpparse.Path, s string) (string, bool) {
		if st.cancelled != nil || len(s) < minLen || Binary(path) {
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

// Binary reports whether the string at path is base64 data: a resource's
// blob, or the data of an image or audio content block. Such data is not
// text a person or model reads: masking it would corrupt it, and random
// bytes in base64 look like secrets.
func Binary(path mcpparse.Path) bool {
	n := len(path)
	if n == 0 || path[n-1].Index != mcpparse.MemberIndex {
		return false
	}
	switch path[n-1].Key {
	case "blob":
		return true
	case "data":
		// content[i].data (tool results) or messages[i].content.data (prompts).
		return n >= 3 && path[n-2].Index >= 0 && path[n-3].Key == "content" ||
			n >= 2 && path[n-2].Key == "content" && path[n-2].Index == mcpparse.MemberIndex
	}
	return false
}
