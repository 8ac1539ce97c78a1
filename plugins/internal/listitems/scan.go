package listitems

import (
	"math/bits"
	"strings"

	"github.com/tidwall/gjson"

	"github.com/mcp-extproc/mcp-extproc/plugins/internal/anchors"
)

// The scanner here splits a list into its items and finds a member of an
// item without building anything: a page of a hundred tools is split in
// one pass in which only strings are searched (for their closing quote, a
// byte search that runs many bytes at a time). It reads valid JSON exactly
// as gjson does; on text it does not expect (anything but a plain JSON
// array, a key with an escape) it says so, and the caller asks gjson.

// jsonSpace reports JSON's white space.
func jsonSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func skipSpace(s string, i int) int {
	for i < len(s) && jsonSpace(s[i]) {
		i++
	}
	return i
}

// stringEnd returns the index after the string whose opening quote is at
// s[i]; -1 when it is not closed.
func stringEnd(s string, i int) int {
	end, _ := ScanString(s, i)
	return end
}

// ScanString returns the index after the JSON string whose opening quote is
// at s[i] (-1 when it is not closed), and whether it is plain: no escape
// and no control character, so that its text is its value. It reads eight
// bytes at a time until one is a quote, a backslash or a control character.
func ScanString(s string, i int) (end int, plain bool) {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	plain = true
	j := i + 1
	for {
		for j+8 <= len(s) {
			x := anchors.Load8(s, j)
			q, b := x^(ones*'"'), x^(ones*'\\')
			// A zero byte of q or b (a quote or backslash), or a byte below
			// 0x20, sets its high bit here; the lowest one set is a true one.
			m := ((q-ones)&^q | (b-ones)&^b | (x-ones*0x20)&^x) & highs
			if m != 0 {
				if j += bits.TrailingZeros64(m) / 8; s[j] == '"' {
					return j + 1, plain // the common end: no byte-by-byte look
				}
				break
			}
			j += 8
		}
		for j < len(s) && s[j] != '"' && s[j] != '\\' && s[j] >= 0x20 {
			j++
		}
		switch {
		case j >= len(s):
			return -1, false
		case s[j] == '"':
			return j + 1, plain
		case s[j] == '\\':
			plain = false
			j += 2
		default: // a control character: not JSON, but gjson reads on
			plain = false
			j++
		}
	}
}

// valueEnd returns the index after the JSON value at s[i], or -1 when the
// text there is not one this scanner splits (it checks brackets and
// strings, not every rule of JSON: gjson is as lenient).
func valueEnd(s string, i int) int {
	if i >= len(s) {
		return -1
	}
	switch s[i] {
	case '"':
		return stringEnd(s, i)
	case '{', '[':
		depth := 0
		for j := i; j < len(s); {
			switch s[j] {
			case '"':
				end := stringEnd(s, j)
				if end < 0 {
					return -1
				}
				j = end
				continue
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return j + 1
				}
			}
			j++
		}
		return -1
	}
	j := i
	for j < len(s) && s[j] != ',' && s[j] != ']' && s[j] != '}' && !jsonSpace(s[j]) {
		j++
	}
	if j == i {
		return -1
	}
	return j
}

// splitArray appends to spans the span of each element of the JSON array
// s, in order. It returns false when s is not an array of values it splits
// (the caller then asks gjson).
func splitArray(s string, spans []span) ([]span, bool) { return splitArrayKey(s, "", spans) }

// splitArrayKey is splitArray that also finds, in each element that is an
// object, the value of its first member key (span.key; start -1 when it
// has none, or when a key before it has an escape: Member decides).
func splitArrayKey(s, key string, spans []span) ([]span, bool) {
	i := skipSpace(s, 0)
	if i >= len(s) || s[i] != '[' {
		return spans, false
	}
	i = skipSpace(s, i+1)
	if i < len(s) && s[i] == ']' {
		return spans, skipSpace(s, i+1) == len(s)
	}
	for {
		sp := span{i, -1, span2{-1, -1}}
		if key != "" && s[i] == '{' {
			sp.end, sp.key = objectEnd(s, i, key)
		} else {
			sp.end = valueEnd(s, i)
		}
		if sp.end < 0 {
			return spans, false
		}
		end := sp.end
		spans = append(spans, sp)
		i = skipSpace(s, end)
		switch {
		case i < len(s) && s[i] == ',':
			i = skipSpace(s, i+1)
		case i < len(s) && s[i] == ']':
			return spans, skipSpace(s, i+1) == len(s)
		default:
			return spans, false
		}
	}
}

type span struct {
	start, end int
	key        span2 // the value of the member looked for, in an object
}

type span2 struct{ start, end int }

// objectEnd returns the index after the object at s[i] (-1 when it is not
// one the scanner splits) and the span of the value of its first member
// key ({-1, -1} when it has none or a key with an escape comes first).
func objectEnd(s string, i int, key string) (int, span2) {
	found, unsure := span2{-1, -1}, false
	j := skipSpace(s, i+1)
	if j < len(s) && s[j] == '}' {
		return j + 1, found
	}
	for {
		if j >= len(s) || s[j] != '"' {
			return -1, found
		}
		kend := stringEnd(s, j)
		if kend < 0 {
			return -1, found
		}
		k := s[j+1 : kend-1]
		unsure = unsure || found.start < 0 && strings.IndexByte(k, '\\') >= 0
		j = skipSpace(s, kend)
		if j >= len(s) || s[j] != ':' {
			return -1, found
		}
		j = skipSpace(s, j+1)
		vend := valueEnd(s, j)
		if vend < 0 {
			return -1, found
		}
		if found.start < 0 && !unsure && k == key {
			found = span2{j, vend}
		}
		j = skipSpace(s, vend)
		switch {
		case j < len(s) && s[j] == ',':
			j = skipSpace(s, j+1)
		case j < len(s) && s[j] == '}':
			return j + 1, found
		default:
			return -1, found
		}
	}
}

// value is the gjson.Result of the member value at v (an element's member
// found by objectEnd), as gjson's Get gives it.
func value(v string, index int) gjson.Result {
	if v[0] == '"' && strings.IndexByte(v, '\\') < 0 {
		return gjson.Result{Type: gjson.String, Raw: v, Str: v[1 : len(v)-1], Index: index}
	}
	r := gjson.Parse(v)
	r.Index = index
	return r
}

// item is the gjson.Result of one element, as gjson's ForEach gives it.
func item(s string, sp span) gjson.Result {
	raw := s[sp.start:sp.end]
	if raw[0] == '{' || raw[0] == '[' {
		return gjson.Result{Type: gjson.JSON, Raw: raw, Index: sp.start}
	}
	r := gjson.Parse(raw)
	r.Index = sp.start
	return r
}

// Member returns the member key of the JSON object obj (an item of a
// list), as obj.Get(key) does for a key without special path characters:
// the first member of that name.
func Member(obj gjson.Result, key string) gjson.Result {
	s := obj.Raw
	if obj.Type != gjson.JSON || s == "" || s[0] != '{' {
		return obj.Get(key)
	}
	i := skipSpace(s, 1)
	for i < len(s) && s[i] == '"' {
		end := stringEnd(s, i)
		if end < 0 || strings.IndexByte(s[i:end], '\\') >= 0 {
			return obj.Get(key) // a key gjson unescapes before comparing
		}
		match := s[i+1:end-1] == key
		i = skipSpace(s, end)
		if i >= len(s) || s[i] != ':' {
			break
		}
		i = skipSpace(s, i+1)
		vend := valueEnd(s, i)
		if vend < 0 {
			break
		}
		if match {
			return value(s[i:vend], obj.Index+i)
		}
		i = skipSpace(s, vend)
		if i >= len(s) || s[i] != ',' {
			break
		}
		i = skipSpace(s, i+1)
	}
	return obj.Get(key)
}
