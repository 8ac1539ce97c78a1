package mcpparse

import (
	"fmt"
	"slices"

	"github.com/tidwall/gjson"
)

// Edit replaces body[Start:End] with New. Start == End inserts.
type Edit struct {
	Start, End int
	New        []byte
}

// ApplyEdits returns body with every edit applied in one pass; every byte
// outside the edited ranges is kept as it was (unknown fields, _meta, key
// order, whitespace). Offsets refer to the original body, so edits from
// several messages of a batch can be applied together. Edits may come in any
// order (the slice is not modified) but must not overlap; inserts at the same
// offset keep their order. With no edits, body itself is returned; otherwise a
// new slice, body is never modified.
func ApplyEdits(body []byte, edits []Edit) ([]byte, error) {
	if len(edits) == 0 {
		return body, nil
	}
	if !slices.IsSortedFunc(edits, cmpEdit) {
		edits = slices.Clone(edits)
		slices.SortStableFunc(edits, cmpEdit)
	}
	size, prev := len(body), 0
	for i, e := range edits {
		if e.Start < prev || e.End < e.Start || e.End > len(body) {
			return nil, fmt.Errorf("%w: edit %d [%d:%d] in a body of %d bytes", ErrBadEdit, i, e.Start, e.End, len(body))
		}
		prev = e.End
		size += len(e.New) - (e.End - e.Start)
	}
	out := make([]byte, 0, size)
	at := 0
	for _, e := range edits {
		out = append(out, body[at:e.Start]...)
		out = append(out, e.New...)
		at = e.End
	}
	return append(out, body[at:]...), nil
}

func cmpEdit(a, b Edit) int { return a.Start - b.Start }

// AddMember returns the Edit that appends the member "key": value at the end
// of the object obj (a Raw from Parse), for example params.arguments on a
// tools/call that had none. value must be valid JSON. The caller must make
// sure the object has no such key yet.
func AddMember(obj Raw, key string, value []byte) Edit {
	var member []byte
	// Is the object empty? Only whitespace between the braces.
	empty := true
	for _, c := range obj.Bytes[1 : len(obj.Bytes)-1] {
		if !isSpace(c) {
			empty = false
			break
		}
	}
	if !empty {
		member = append(member, ',')
	}
	member = appendQuoted(member, key)
	member = append(member, ':')
	member = append(member, value...)
	return Edit{Start: obj.End - 1, End: obj.End - 1, New: member}
}

// Member returns the value of the object member key of r (an object from a
// parsed body, whose keys Parse has checked are unique), located in the
// body so that it can be replaced; absent when r is not an object or has no
// such member.
func (r Raw) Member(key string) Raw {
	if len(r.Bytes) == 0 || r.Bytes[0] != '{' {
		return Raw{}
	}
	v := gjson.GetBytes(r.Bytes, escapeGJSON(key))
	if !v.Exists() || v.Index <= 0 || v.Index+len(v.Raw) > len(r.Bytes) {
		return Raw{}
	}
	return Raw{Bytes: r.Bytes[v.Index : v.Index+len(v.Raw)], Start: r.Start + v.Index, End: r.Start + v.Index + len(v.Raw)}
}

// escapeGJSON escapes a key for use as one gjson path component.
func escapeGJSON(key string) string {
	var b []byte
	for i := 0; i < len(key); i++ {
		switch c := key[i]; c {
		case '.', '*', '?', '|', '#', '@', '\\', '!', '=', '<', '>', '%', ':', '(', ')', ',', '[', ']', '{', '}', '"', '^':
			b = append(b, '\\', c)
		default:
			b = append(b, c)
		}
	}
	return string(b)
}
