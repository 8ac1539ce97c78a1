package schemaguard

import (
	"encoding/json"
	"errors"
	"fmt"
	"unsafe"
)

// decodeInstance reads JSON into the values the validator takes
// (map[string]any, []any, string, json.Number, bool, nil) — what
// encoding/json gives with UseNumber, in a third of the time and
// allocations, which is most of the cost of checking arguments. Numbers stay
// exact (json.Number), so maximum and multipleOf see what the server will.
// Invalid JSON is an error; FuzzDecodeInstance holds it to encoding/json.
func decodeInstance(b []byte) (any, error) {
	d := instanceDecoder{b: b}
	v, err := d.value(0)
	if err != nil {
		return nil, err
	}
	d.space()
	if d.i != len(d.b) {
		return nil, d.errorf("data after the JSON value")
	}
	return v, nil
}

// maxInstanceDepth bounds nesting; the filter rejects deeper messages
// before any plugin runs, this keeps the decoder safe on its own.
const maxInstanceDepth = 512

type instanceDecoder struct {
	b []byte
	i int
}

var errUnexpectedEnd = errors.New("unexpected end of JSON")

func (d *instanceDecoder) errorf(format string, args ...any) error {
	return fmt.Errorf("invalid JSON at byte %d: %s", d.i, fmt.Sprintf(format, args...))
}

func (d *instanceDecoder) space() {
	for d.i < len(d.b) {
		switch d.b[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

func (d *instanceDecoder) value(depth int) (any, error) {
	if depth > maxInstanceDepth {
		return nil, d.errorf("nested deeper than %d", maxInstanceDepth)
	}
	d.space()
	if d.i >= len(d.b) {
		return nil, errUnexpectedEnd
	}
	switch c := d.b[d.i]; {
	case c == '{':
		return d.object(depth)
	case c == '[':
		return d.array(depth)
	case c == '"':
		return d.string()
	case c == 't':
		return true, d.literal("true")
	case c == 'f':
		return false, d.literal("false")
	case c == 'n':
		return nil, d.literal("null")
	case c == '-' || (c >= '0' && c <= '9'):
		return d.number()
	default:
		return nil, d.errorf("unexpected %q", c)
	}
}

func (d *instanceDecoder) literal(word string) error {
	if len(d.b)-d.i < len(word) || string(d.b[d.i:d.i+len(word)]) != word {
		return d.errorf("expected %s", word)
	}
	d.i += len(word)
	return nil
}

func (d *instanceDecoder) object(depth int) (any, error) {
	d.i++ // {
	m := map[string]any{}
	d.space()
	if d.i < len(d.b) && d.b[d.i] == '}' {
		d.i++
		return m, nil
	}
	for {
		d.space()
		if d.i >= len(d.b) || d.b[d.i] != '"' {
			return nil, d.errorf("expected a string key")
		}
		k, err := d.string()
		if err != nil {
			return nil, err
		}
		d.space()
		if d.i >= len(d.b) || d.b[d.i] != ':' {
			return nil, d.errorf("expected ':'")
		}
		d.i++
		v, err := d.value(depth + 1)
		if err != nil {
			return nil, err
		}
		m[k.(string)] = v
		if more, err := d.more('}'); !more {
			return m, err
		}
	}
}

func (d *instanceDecoder) array(depth int) (any, error) {
	d.i++ // [
	a := []any{}
	d.space()
	if d.i < len(d.b) && d.b[d.i] == ']' {
		d.i++
		return a, nil
	}
	for {
		v, err := d.value(depth + 1)
		if err != nil {
			return nil, err
		}
		a = append(a, v)
		if more, err := d.more(']'); !more {
			return a, err
		}
	}
}

// more reads what follows an element: ',' (another element follows) or
// closing (the object or array ends); anything else is an error.
func (d *instanceDecoder) more(closing byte) (bool, error) {
	d.space()
	if d.i >= len(d.b) {
		return false, errUnexpectedEnd
	}
	switch d.b[d.i] {
	case ',':
		d.i++
		return true, nil
	case closing:
		d.i++
		return false, nil
	}
	return false, d.errorf("expected ',' or %q", closing)
}

// string reads a JSON string. One without escapes or non-ASCII bytes is
// copied as is; any other goes through encoding/json, which knows escapes,
// surrogate pairs and invalid UTF-8 exactly as the rest of the filter does.
func (d *instanceDecoder) string() (any, error) {
	start := d.i
	d.i++ // "
	plain := true
	for d.i < len(d.b) {
		c := d.b[d.i]
		switch {
		case c == '"':
			d.i++
			if plain {
				return d.view(start+1, d.i-1), nil
			}
			var s string
			if err := json.Unmarshal(d.b[start:d.i], &s); err != nil {
				return nil, d.errorf("bad string: %v", err)
			}
			return s, nil
		case c == '\\':
			plain = false
			d.i += 2
			continue
		case c < 0x20:
			return nil, d.errorf("control character in a string")
		case c >= 0x80:
			plain = false
		}
		d.i++
	}
	return nil, errUnexpectedEnd
}

// number reads a JSON number as json.Number, checking its grammar.
func (d *instanceDecoder) number() (any, error) {
	start := d.i
	if d.b[d.i] == '-' {
		d.i++
	}
	digits := func() int {
		n := 0
		for d.i < len(d.b) && d.b[d.i] >= '0' && d.b[d.i] <= '9' {
			d.i++
			n++
		}
		return n
	}
	intStart := d.i
	if n := digits(); n == 0 || (n > 1 && d.b[intStart] == '0') {
		return nil, d.errorf("bad number")
	}
	if d.i < len(d.b) && d.b[d.i] == '.' {
		d.i++
		if digits() == 0 {
			return nil, d.errorf("bad number")
		}
	}
	if d.i < len(d.b) && (d.b[d.i] == 'e' || d.b[d.i] == 'E') {
		d.i++
		if d.i < len(d.b) && (d.b[d.i] == '+' || d.b[d.i] == '-') {
			d.i++
		}
		if digits() == 0 {
			return nil, d.errorf("bad number")
		}
	}
	return json.Number(d.view(start, d.i)), nil
}

// view is b[from:to] as a string without a copy. The decoded instance
// lives only while one payload is validated (findings copy what they keep),
// and payloads are read-only for every plugin, so the bytes cannot change
// under it; not copying saves a third of the allocations.
func (d *instanceDecoder) view(from, to int) string {
	if from == to {
		return ""
	}
	return unsafe.String(&d.b[from], to-from)
}
