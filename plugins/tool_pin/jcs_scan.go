package toolpin

import (
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/tidwall/gjson"

	"github.com/mcp-extproc/mcp-extproc/plugins/internal/listitems"
)

// maxDepth bounds the nesting of a canonicalised value: deeper input is an
// error rather than a deep recursion.
const maxDepth = 1000

var (
	errSyntax = errors.New("not valid JSON")
	errDepth  = fmt.Errorf("nested deeper than %d", maxDepth)
)

// canonicaliser writes RFC 8785 canonical JSON straight from a value's
// text in one pass, without building a tree: scalars are copied when they
// are already canonical (strings without escapes, small integers), and an
// object's members are written as they come and reordered in place only
// when their names are out of order. Its scratch space is reused (from
// canonicalisers): ms holds the members of the objects being written, each
// object's above its parent's, tmp the text of those being reordered, out
// a tool's canonical form while it is hashed and side the members the fast
// path (fingerprintFast) canonicalises on their own.
type canonicaliser struct {
	tmp, out, side []byte
	ms             []member
}

var canonicalisers = sync.Pool{New: func() any { return new(canonicaliser) }}

func getCanonicaliser() *canonicaliser {
	c := canonicalisers.Get().(*canonicaliser)
	c.ms = c.ms[:0]
	return c
}

func putCanonicaliser(c *canonicaliser) {
	if cap(c.tmp) > 1<<20 || cap(c.out) > 1<<20 || cap(c.side) > 1<<20 || cap(c.ms) > 1<<14 {
		return // keep no outsized buffer from one huge tool
	}
	canonicalisers.Put(c)
}

// member is one object member written to the output: its decoded name and
// the span of `"name":value` in the output.
type member struct {
	key        string
	start, end int
}

// appendCanonical appends the RFC 8785 (JSON Canonicalization Scheme)
// serialisation of the JSON text s to dst: no white space; object members
// sorted by their names' UTF-16 code units; strings with only '"', '\\' and
// control characters escaped (\b \t \n \f \r, else \u00xx); numbers as
// ECMAScript's Number.prototype.toString writes the IEEE 754 double they
// denote. A number that is not a finite double, a duplicate member name and
// text that is not JSON are errors.
func appendCanonical(dst []byte, s string) ([]byte, error) {
	c := getCanonicaliser()
	defer putCanonicaliser(c)
	dst, i, err := c.value(dst, s, skipSpace(s, 0), 0)
	if err == nil && skipSpace(s, i) != len(s) {
		err = errSyntax
	}
	return dst, err
}

func skipSpace(s string, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r') {
		i++
	}
	return i
}

// scanString returns the end of the JSON string starting at s[i] (the
// quote) and whether it must be rewritten to be canonical: it has an
// escape or a control character. It reads eight bytes at a time
// (listitems.ScanString): a byte at a time, it was about a tenth of the
// three list plugins' cost on a first list whose keys are not sorted.
func scanString(s string, i int) (end int, rewrite bool, err error) {
	end, plain := listitems.ScanString(s, i)
	if end < 0 {
		return len(s), false, errSyntax
	}
	return end, !plain, nil
}

// decoded is the text of the JSON string str (quotes included).
func decoded(str string, rewrite bool) string {
	if !rewrite {
		return str[1 : len(str)-1]
	}
	return gjson.Parse(str).Str
}

// value appends the canonical form of the value at s[i] and returns the
// index after it.
func (c *canonicaliser) value(dst []byte, s string, i, depth int) ([]byte, int, error) {
	if i >= len(s) {
		return dst, i, errSyntax
	}
	switch s[i] {
	case '{':
		return c.object(dst, s, i, depth)
	case '[':
		return c.array(dst, s, i, depth)
	case '"':
		end, rewrite, err := scanString(s, i)
		if err != nil {
			return dst, end, err
		}
		if !rewrite {
			return append(dst, s[i:end]...), end, nil
		}
		return appendString(dst, decoded(s[i:end], true)), end, nil
	case 't':
		return literal(dst, s, i, "true")
	case 'f':
		return literal(dst, s, i, "false")
	case 'n':
		return literal(dst, s, i, "null")
	}
	end := i
	for end < len(s) && (s[end] >= '0' && s[end] <= '9' || s[end] == '-' || s[end] == '+' || s[end] == '.' || s[end] == 'e' || s[end] == 'E') {
		end++
	}
	if end == i {
		return dst, i, errSyntax
	}
	if smallInteger(s[i:end]) {
		return append(dst, s[i:end]...), end, nil
	}
	dst, err := appendNumber(dst, s[i:end])
	return dst, end, err
}

// smallInteger reports a JSON integer of at most 15 digits, not negative
// zero: the double it denotes is exact and ECMAScript writes it as is.
func smallInteger(n string) bool {
	d := n
	if d[0] == '-' {
		d = d[1:]
	}
	if d == "" || len(d) > 15 || d[0] == '0' && (len(d) > 1 || n[0] == '-') {
		return false
	}
	for i := 0; i < len(d); i++ {
		if d[i] < '0' || d[i] > '9' {
			return false
		}
	}
	return true
}

func literal(dst []byte, s string, i int, lit string) ([]byte, int, error) {
	if len(s)-i < len(lit) || s[i:i+len(lit)] != lit {
		return dst, i, errSyntax
	}
	return append(dst, lit...), i + len(lit), nil
}

func (c *canonicaliser) array(dst []byte, s string, i, depth int) ([]byte, int, error) {
	if depth >= maxDepth {
		return dst, i, errDepth
	}
	dst = append(dst, '[')
	i = skipSpace(s, i+1)
	if i < len(s) && s[i] == ']' {
		return append(dst, ']'), i + 1, nil
	}
	for n := 0; ; n++ {
		if n > 0 {
			dst = append(dst, ',')
		}
		var err error
		if dst, i, err = c.value(dst, s, i, depth+1); err != nil {
			return dst, i, err
		}
		i = skipSpace(s, i)
		switch {
		case i < len(s) && s[i] == ',':
			i = skipSpace(s, i+1)
		case i < len(s) && s[i] == ']':
			return append(dst, ']'), i + 1, nil
		default:
			return dst, i, errSyntax
		}
	}
}

func (c *canonicaliser) object(dst []byte, s string, i, depth int) ([]byte, int, error) {
	if depth >= maxDepth {
		return dst, i, errDepth
	}
	base := len(c.ms)
	dst, i, err := c.members(dst, s, i, depth, nil)
	if err == nil {
		dst, err = c.sorted(dst, c.ms[base:], errDuplicate)
	}
	c.ms = c.ms[:base]
	return dst, i, err
}

func errDuplicate(key string) error { return fmt.Errorf("duplicate member %q", key) }

// members writes the members of the object at s[i] after a '{' it appends,
// as they come, and pushes where each went on c.ms. With keep non-nil,
// members whose name it rejects are skipped.
func (c *canonicaliser) members(dst []byte, s string, i, depth int, keep func(string) bool) ([]byte, int, error) {
	base := len(dst)
	dst = append(dst, '{')
	i = skipSpace(s, i+1)
	if i < len(s) && s[i] == '}' {
		return dst, i + 1, nil
	}
	for {
		if i >= len(s) || s[i] != '"' {
			return dst, i, errSyntax
		}
		keyStart := i
		end, rewrite, err := scanString(s, i)
		if err != nil {
			return dst, end, err
		}
		key := decoded(s[keyStart:end], rewrite)
		i = skipSpace(s, end)
		if i >= len(s) || s[i] != ':' {
			return dst, i, errSyntax
		}
		i = skipSpace(s, i+1)
		if keep != nil && !keep(key) {
			if end, err = skipValue(s, i); err != nil || end == i {
				return dst, end, errSyntax
			}
			i = end
		} else {
			if len(dst) > base+1 {
				dst = append(dst, ',')
			}
			start := len(dst)
			if rewrite {
				dst = appendString(dst, key)
			} else {
				dst = append(dst, s[keyStart:end]...)
			}
			dst = append(dst, ':')
			if dst, i, err = c.value(dst, s, i, depth+1); err != nil {
				return dst, i, err
			}
			c.ms = append(c.ms, member{key, start, len(dst)})
		}
		i = skipSpace(s, i)
		switch {
		case i < len(s) && s[i] == ',':
			i = skipSpace(s, i+1)
		case i < len(s) && s[i] == '}':
			return dst, i + 1, nil
		default:
			return dst, i, errSyntax
		}
	}
}

// sorted closes the object whose members ms were written to the end of dst
// (after its '{'), putting them in RFC 8785 order first if they are not;
// two members of one name are the error dup makes.
func (c *canonicaliser) sorted(dst []byte, ms []member, dup func(key string) error) ([]byte, error) {
	inOrder := true
	for k := 1; k < len(ms); k++ {
		switch cmp := compareUTF16(ms[k-1].key, ms[k].key); {
		case cmp == 0:
			return dst, dup(ms[k].key)
		case cmp > 0:
			inOrder = false
		}
	}
	if inOrder {
		return append(dst, '}'), nil
	}
	slices.SortStableFunc(ms, func(a, b member) int { return compareUTF16(a.key, b.key) })
	for k := 1; k < len(ms); k++ {
		// One name when they compare equal, as in the loop above: names of
		// invalid UTF-8 a decoder reads alike are the same member.
		if compareUTF16(ms[k-1].key, ms[k].key) == 0 {
			return dst, dup(ms[k].key)
		}
	}
	base := ms[0].start
	for _, m := range ms {
		base = min(base, m.start)
	}
	c.tmp = append(c.tmp[:0], dst[base:]...)
	dst = dst[:base]
	for k, m := range ms {
		if k > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, c.tmp[m.start-base:m.end-base]...)
	}
	return append(dst, '}'), nil
}

// skipValue returns the index after the JSON value at s[i], checking only
// that its brackets and strings are closed.
func skipValue(s string, i int) (int, error) {
	depth := 0
	for i < len(s) {
		switch s[i] {
		case '"':
			end, _, err := scanString(s, i)
			if err != nil || depth == 0 {
				return end, err
			}
			i = end
			continue
		case '{', '[':
			depth++
		case '}', ']':
			if depth == 0 {
				return i, nil
			}
			if depth--; depth == 0 {
				return i + 1, nil
			}
		case ',', ' ', '\t', '\n', '\r', ':':
			if depth == 0 {
				return i, nil
			}
		}
		i++
	}
	if depth > 0 {
		return i, errSyntax
	}
	return i, nil
}
