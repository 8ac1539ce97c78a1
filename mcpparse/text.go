package mcpparse

import (
	"bytes"
	"cmp"
	"math"
	"slices"
	"sync"
)

// Text is the decoded strings of one JSON value — every object key and
// string value, in document order, with its path and its place in the
// bytes — read in one walk, so that every plugin of a hook scans the same
// strings without decoding them again. A Text is immutable once built and
// safe for concurrent use. It holds on to the bytes it was built from,
// which must not change while it is in use (payloads are read-only).
//
// A plugin that changes strings lists its Edits and calls Replace, which
// re-encodes only those strings and keeps every other byte.
type Text struct {
	raw []byte
	// Strings are the strings of the value in document order; an object
	// key comes before its value.
	Strings []String
	arena   []PathElem // the first chunk of paths, kept by Release
	paths   []PathElem // the chunk being filled; filled chunks never move
	used    int        // path elements in all chunks
	buf     []byte     // decoded escaped strings, appended to
}

// textPool recycles the arrays of released Texts.
var textPool = sync.Pool{New: func() any { return new(Text) }}

// String is one string of a Text.
type String struct {
	// Path locates the string. It ends with a KeyIndex element for an
	// object key (Path.IsKey). It is shared: do not modify it, and clone it
	// to keep it past Release.
	Path Path
	// Value is the decoded string.
	Value string
	// Start and End delimit the JSON string literal in the raw bytes,
	// quotes included (a value is below 2 GiB: max_body_bytes says less).
	Start, End int32
	// Binary says whether the string is binary data if the value is an MCP
	// result (IsBinary: an image's data, a resource's blob). Only results
	// have binary fields: for request arguments, ignore it.
	Binary bool
}

// ParseText decodes the strings of the JSON value raw (see Text). raw must
// be valid JSON of less than 2 GiB; a syntax error, invalid UTF-8 or
// nesting past 10000 levels returns a *Error. Strings without escapes are
// not copied: their Values point into raw.
func ParseText(raw []byte) (*Text, error) {
	if len(raw) > math.MaxInt32 {
		return nil, newError(ReasonTooLarge, 0, "")
	}
	// Each string has two quotes: half the quotes bound the strings. Their
	// paths are rarely deeper than 4 on average.
	n := bytes.Count(raw, []byte{'"'}) / 2
	t := textPool.Get().(*Text)
	t.raw = raw
	t.Strings = slices.Grow(t.Strings[:0], n)
	if cap(t.arena) < 4*n {
		t.arena = make([]PathElem, 0, 4*n)
	}
	t.paths = t.arena[:0]
	w := walkerPool.Get().(*walker)
	defer w.release()
	w.text, w.keys = t, true
	if err := w.run(raw, 0); err != nil {
		t.Release()
		return nil, err
	}
	t.paths = nil
	return t, nil
}

// Release hands t's arrays back for a later ParseText to reuse. Neither t
// nor its Strings and their Paths may be used afterwards; the Values and
// the Keys of path elements stay valid (they point into the raw bytes or
// into memory that is not reused). Call it only when no one else holds t.
func (t *Text) Release() {
	clear(t.Strings) // the pool must not keep raw alive
	clear(t.arena[:cap(t.arena)])
	if t.used > cap(t.arena) { // it took more than one chunk: one will do next time
		t.arena = make([]PathElem, 0, t.used)
	}
	*t = Text{Strings: t.Strings[:0], arena: t.arena[:0]}
	if cap(t.Strings) > 1<<12 || cap(t.arena) > 1<<14 {
		return // a large body's arrays are not worth keeping
	}
	textPool.Put(t)
}

// Raw returns the bytes the Text was built from.
func (t *Text) Raw() []byte { return t.raw }

// record adds the string at src[start:end] (decoded value s) at path.
func (t *Text) record(src []byte, path Path, start, end int, s string) {
	if cap(t.paths)-len(t.paths) < len(path) {
		// A new chunk: the paths handed out keep the old one.
		t.paths = make([]PathElem, 0, max(2*cap(t.paths), 4*len(path), 16))
	}
	t.used += len(path)
	at := len(t.paths)
	t.paths = append(t.paths, path...)
	t.Strings = append(t.Strings, String{Path: t.paths[at:len(t.paths):len(t.paths)], Value: s,
		Start: int32(start), End: int32(end), Binary: !path.IsKey() && IsBinary(src, path)})
}

// unescape decodes an escaped JSON string's content onto t.buf and returns
// it. t.buf is only appended to, so the strings handed out stay valid; it
// is allocated once with room for all of raw, which the decoded strings
// never exceed (a decoded string is never longer than its literal).
func (t *Text) unescape(lit []byte) string {
	if t.buf == nil {
		t.buf = make([]byte, 0, len(t.raw))
	}
	at := len(t.buf)
	t.buf = appendUnescaped(t.buf, lit)
	return bstr(t.buf[at:])
}

// TextEdit replaces one string of a Text: Strings[Index] becomes Value.
type TextEdit struct {
	Index int
	Value string
}

// Replace returns the Text's bytes with the edited strings re-encoded as
// JSON strings and every other byte kept. Edits may come in any order; of
// two edits of one string the first counts, and an edit to a string's own
// value is no change. With no change it returns the original bytes and
// false, else new bytes.
func (t *Text) Replace(edits []TextEdit) ([]byte, bool) {
	byIndex := func(a, b TextEdit) int { return cmp.Compare(a.Index, b.Index) }
	if !slices.IsSortedFunc(edits, byIndex) {
		edits = slices.SortedStableFunc(slices.Values(edits), byIndex)
	}
	var out []byte
	copied := 0
	for k, e := range edits {
		s := &t.Strings[e.Index]
		start := int(s.Start)
		if e.Value == s.Value || start < copied { // unchanged, or edited twice
			continue
		}
		if out == nil {
			out = make([]byte, 0, len(t.raw)+t.growth(edits[k:]))
		}
		out = append(out, t.raw[copied:start]...)
		out = appendQuoted(out, e.Value)
		copied = int(s.End)
	}
	if out == nil {
		return t.raw, false
	}
	return append(out, t.raw[copied:]...), true
}

// growth is the room Replace gives the text beyond its size: what the
// edits add when no value needs more escapes than the one it replaces
// (masks, redactions), so that the result takes one allocation of about
// its size.
func (t *Text) growth(edits []TextEdit) int {
	n := 16
	for _, e := range edits {
		s := &t.Strings[e.Index]
		n += max(0, len(e.Value)+2-int(s.End-s.Start))
	}
	return n
}
