package textwalk

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/mcp-extproc/mcp-extproc/framework"
	"github.com/mcp-extproc/mcp-extproc/mcpparse"
)

// ErrTooMuchText is what Collect returns when a value holds more text than
// the caller will send to a service.
var ErrTooMuchText = errors.New("more text than the limit")

// CollectOptions say which strings of a value Collect gathers.
type CollectOptions struct {
	// Value says whether raw is a result, whose binary fields (image and
	// audio data, resource blobs) are not text; arguments have none.
	Value Value
	// Keys also gathers object keys (arguments: a key is text the caller
	// chose). Result structure (content[i].type, mimeType) is never text.
	Keys bool
	// ChunkBytes bounds one chunk; a longer string is split at a rune
	// boundary.
	ChunkBytes int
	// MaxBytes bounds all the text; beyond it Collect returns
	// ErrTooMuchText rather than leave text unchecked.
	MaxBytes int
	// Overlap is how many bytes of a split string the next chunk repeats,
	// so that a phrase cut at a chunk boundary is still seen whole.
	Overlap int
}

// Collect gathers the text of a JSON value for a classifier: every string
// value (and key, with opts.Keys) that is not binary data nor an MCP
// structure field (type, mimeType), joined by newlines into chunks of at
// most opts.ChunkBytes. Malformed JSON is an error naming kind.
func Collect(ctx context.Context, pc *framework.PluginContext, kind string, raw []byte, opts CollectOptions) ([]string, error) {
	var st struct {
		chunks []string
		cur    strings.Builder
		total  int
	}
	add := func(s string) {
		for len(s) > 0 {
			room := opts.ChunkBytes - st.cur.Len()
			if st.cur.Len() > 0 {
				room-- // the newline
			}
			if room <= 0 || (st.cur.Len() > 0 && len(s) > room) {
				st.chunks = append(st.chunks, st.cur.String())
				st.cur.Reset()
				continue
			}
			part := s
			if len(part) > room {
				cut := room
				for cut > 0 && !utf8.RuneStart(part[cut]) {
					cut--
				}
				if cut == 0 {
					cut = room
				}
				part = part[:cut]
			}
			if st.cur.Len() > 0 {
				st.cur.WriteByte('\n')
			} else {
				st.cur.Grow(min(opts.ChunkBytes, len(raw)))
			}
			st.cur.WriteString(part)
			s = s[len(part):]
			if len(s) > 0 && opts.Overlap > 0 && opts.Overlap < len(part) {
				back := len(part) - opts.Overlap
				for back < len(part) && !utf8.RuneStart(part[back]) {
					back++
				}
				s = part[back:] + s
			}
		}
	}
	t, err := pc.Text(raw)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", kind, err)
	}
	for i := range t.Strings {
		s := &t.Strings[i]
		if (s.Path.IsKey() && !opts.Keys) || strings.TrimSpace(s.Value) == "" || (opts.Value == Result && s.Binary) || structural(s.Path, opts.Keys) {
			continue
		}
		if st.total += len(s.Value); st.total > opts.MaxBytes {
			return nil, fmt.Errorf("%s: %w of %d bytes", kind, ErrTooMuchText, opts.MaxBytes)
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		add(s.Value)
	}
	if st.cur.Len() > 0 {
		st.chunks = append(st.chunks, st.cur.String())
	}
	return st.chunks, nil
}

// structural reports whether the string at path is MCP structure rather
// than text: a content block's type or a resource's mimeType in a result.
func structural(path mcpparse.Path, args bool) bool {
	n := len(path)
	if args || n == 0 || path[n-1].Index != mcpparse.MemberIndex {
		return false
	}
	return path[n-1].Key == "type" || path[n-1].Key == "mimeType"
}
