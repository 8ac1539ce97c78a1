package mcpparse

import (
	"strconv"
	"strings"
	"sync"
)

// PathElem is one step of a Path.
type PathElem struct {
	Key   string // member name, escape-decoded, when Index is MemberIndex or KeyIndex
	Index int    // array index (>= 0), MemberIndex or KeyIndex
}

// Special PathElem.Index values.
const (
	// MemberIndex marks an object member; Key is its name.
	MemberIndex = -1
	// KeyIndex marks the last element of a path when the visited string is
	// the member's key itself rather than its value (WalkOptions.Keys).
	KeyIndex = -2
)

// Path locates a string inside the walked value, outermost step first. It is
// only valid during the visit call: copy it with Clone to keep it.
type Path []PathElem

// IsKey reports whether the visited string is an object key.
func (p Path) IsKey() bool { return len(p) > 0 && p[len(p)-1].Index == KeyIndex }

// Clone returns a copy of p that stays valid after the visit.
func (p Path) Clone() Path {
	out := make(Path, len(p))
	for i, e := range p {
		out[i] = PathElem{Key: strings.Clone(e.Key), Index: e.Index}
	}
	return out
}

// String renders p as a JSONPath-like expression: $.content[0].text, with
// $["odd key"] for names that are not identifiers.
func (p Path) String() string {
	var b strings.Builder
	b.WriteByte('$')
	for _, e := range p {
		if e.Index >= 0 {
			b.WriteByte('[')
			b.WriteString(strconv.Itoa(e.Index))
			b.WriteByte(']')
			continue
		}
		if isIdent(e.Key) {
			b.WriteByte('.')
			b.WriteString(e.Key)
		} else {
			b.WriteByte('[')
			b.WriteString(strconv.Quote(e.Key))
			b.WriteByte(']')
		}
	}
	return b.String()
}

func isIdent(s string) bool {
	if s == "" {
		return false
	}
	for i, c := range s {
		if !(c == '_' || c == '$' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || i > 0 && '0' <= c && c <= '9') {
			return false
		}
	}
	return true
}

// WalkOptions tune WalkStrings.
type WalkOptions struct {
	// Keys also visits object keys (the path then ends with a KeyIndex
	// element). Renaming a key to one its object already has creates a
	// duplicate; that is the visitor's responsibility.
	Keys bool
	// MaxDepth bounds nesting; 0 means 10000, encoding/json's own limit.
	MaxDepth int
}

// WalkStrings calls visit for every string value in the JSON value raw (and
// every key, with Keys), at any depth: tool text, structuredContent, embedded
// resource text, … visit receives the decoded string and its path, and returns
// a replacement and true to change it. The replacement is JSON-encoded in
// place; every other byte of raw is kept.
//
// If nothing changed, WalkStrings returns raw itself and changed=false without
// allocating (beyond a pooled walker); a visitor returning the same string
// counts as no change. Otherwise out is a new slice.
//
// s and path are only valid during the call (they may point into raw or a
// reused buffer): clone them to keep them. raw must be valid JSON; a syntax
// error, invalid UTF-8 or nesting past MaxDepth returns a *Error. Duplicate
// keys are not checked here (Parse does that).
func WalkStrings(raw []byte, opts WalkOptions, visit func(path Path, s string) (string, bool)) (out []byte, changed bool, err error) {
	w := walkerPool.Get().(*walker)
	defer w.release()
	w.visit, w.keys = visit, opts.Keys
	if err := w.run(raw, opts.MaxDepth); err != nil {
		return raw, false, err
	}
	if !w.changed {
		return raw, false, nil
	}
	return append(w.out, raw[w.copied:]...), true, nil
}

// run walks the JSON value raw, which must be all of raw but for
// whitespace.
func (w *walker) run(raw []byte, maxDepth int) *Error {
	w.src, w.maxDepth = raw, maxDepth
	if w.maxDepth <= 0 {
		w.maxDepth = 10000
	}
	w.skipSpace()
	w.value(1)
	if w.err == nil {
		w.skipSpace()
		if w.pos != len(raw) {
			w.fail(ReasonTrailingData, w.pos)
		}
	}
	return w.err
}

// walker is WalkStrings' state, pooled.
type walker struct {
	src      []byte
	pos      int
	keys     bool
	maxDepth int
	visit    func(Path, string) (string, bool)
	path     Path
	arena    []byte // decoded keys of the current path
	dec      []byte // the decoded string being visited
	out      []byte
	copied   int
	changed  bool
	err      *Error
	// text, when set, records every string (keys included) instead of
	// calling visit: ParseText's walk.
	text *Text
}

var walkerPool = sync.Pool{New: func() any { return new(walker) }}

func (w *walker) release() {
	w.src, w.visit, w.out, w.err, w.text = nil, nil, nil, nil, nil
	w.pos, w.copied, w.changed = 0, 0, false
	clear(w.path[:cap(w.path)])
	w.path = w.path[:0]
	w.arena = w.arena[:0]
	if cap(w.arena) > 1<<16 || cap(w.dec) > 1<<16 {
		w.arena, w.dec = nil, nil
	}
	walkerPool.Put(w)
}

func (w *walker) fail(r Reason, at int) {
	if w.err == nil {
		w.err = newError(r, at, "")
	}
}

func (w *walker) skipSpace() {
	for w.pos < len(w.src) && isSpace(w.src[w.pos]) {
		w.pos++
	}
}

func (w *walker) value(depth int) {
	src := w.src
	if w.pos >= len(src) {
		w.fail(ReasonInvalidJSON, w.pos)
		return
	}
	end := -1
	switch c := src[w.pos]; {
	case c == '{' || c == '[':
		if depth > w.maxDepth {
			w.fail(ReasonTooDeep, w.pos)
			return
		}
		if c == '{' {
			w.object(depth)
		} else {
			w.array(depth)
		}
		return
	case c == '"':
		start := w.pos
		e, esc, r, at := scanString(src, start+1)
		if r != "" {
			w.fail(r, at)
			return
		}
		s := bstr(src[start+1 : e-1])
		if esc {
			if w.text != nil {
				s = w.text.unescape(src[start+1 : e-1])
			} else {
				w.dec = appendUnescaped(w.dec[:0], src[start+1:e-1])
				s = bstr(w.dec)
			}
		}
		w.pos = e
		w.visitString(start, e, s)
		return
	case c == 't':
		end = scanLiteral(src, w.pos, "true")
	case c == 'f':
		end = scanLiteral(src, w.pos, "false")
	case c == 'n':
		end = scanLiteral(src, w.pos, "null")
	case c == '-' || '0' <= c && c <= '9':
		end = scanNumber(src, w.pos)
	}
	if end < 0 {
		w.fail(ReasonInvalidJSON, w.pos)
		return
	}
	w.pos = end
}

// visitString offers the string at src[start:end] (quotes included, decoded
// value s) to the visitor and records a replacement.
func (w *walker) visitString(start, end int, s string) {
	if w.text != nil {
		w.text.record(w.src, w.path, start, end, s)
		return
	}
	ns, ok := w.visit(w.path, s)
	if !ok || ns == s {
		return
	}
	if !w.changed {
		w.out = make([]byte, 0, len(w.src)+len(ns)+16)
		w.changed = true
	}
	w.out = append(w.out, w.src[w.copied:start]...)
	w.out = appendQuoted(w.out, ns)
	w.copied = end
}

func (w *walker) array(depth int) {
	src := w.src
	w.pos++
	w.skipSpace()
	if w.pos < len(src) && src[w.pos] == ']' {
		w.pos++
		return
	}
	for i := 0; w.next(PathElem{Index: i}, depth, ']'); i++ {
	}
}

// next visits one element's value under elem, then reads the separator
// after it; it reports whether another element follows before closer.
func (w *walker) next(elem PathElem, depth int, closer byte) bool {
	w.path = append(w.path, elem)
	w.value(depth + 1)
	w.path = w.path[:len(w.path)-1]
	if w.err != nil {
		return false
	}
	w.skipSpace()
	if w.pos >= len(w.src) {
		w.fail(ReasonInvalidJSON, w.pos)
		return false
	}
	switch w.src[w.pos] {
	case ',':
		w.pos++
		w.skipSpace()
		return true
	case closer:
		w.pos++
		return false
	}
	w.fail(ReasonInvalidJSON, w.pos)
	return false
}

func (w *walker) object(depth int) {
	src := w.src
	w.pos++
	w.skipSpace()
	if w.pos < len(src) && src[w.pos] == '}' {
		w.pos++
		return
	}
	mark := len(w.arena)
	defer func() { w.arena = w.arena[:mark] }()
	for {
		if w.pos >= len(src) || src[w.pos] != '"' {
			w.fail(ReasonInvalidJSON, w.pos)
			return
		}
		start := w.pos
		end, esc, r, at := scanString(src, start+1)
		if r != "" {
			w.fail(r, at)
			return
		}
		key := bstr(src[start+1 : end-1])
		if esc && w.text != nil {
			key = w.text.unescape(src[start+1 : end-1]) // kept: paths outlive the walk
		} else if esc {
			// Decoded keys stay in the arena while their member is on the
			// path; if the arena grows, earlier keys keep the old array.
			w.arena = appendUnescaped(w.arena[:mark], src[start+1:end-1])
			key = bstr(w.arena[mark:])
		}
		w.pos = end
		if w.keys {
			w.path = append(w.path, PathElem{Key: key, Index: KeyIndex})
			w.visitString(start, end, key)
			w.path = w.path[:len(w.path)-1]
		}
		w.skipSpace()
		if w.pos >= len(src) || src[w.pos] != ':' {
			w.fail(ReasonInvalidJSON, w.pos)
			return
		}
		w.pos++
		w.skipSpace()
		if !w.next(PathElem{Key: key, Index: MemberIndex}, depth, '}') {
			return
		}
	}
}
