package mcpparse

import (
	"bytes"
	"encoding/binary"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"
)

// This file holds the JSON string primitives every other part of the package
// shares: a validating scanner, an unescaper and a quoter. They are written by
// hand because the validator must see every byte once, without allocating.

const (
	lsb = 0x0101010101010101
	msb = 0x8080808080808080
)

// plainWord reports whether the eight bytes in x can be skipped inside a JSON
// string: no quote, no backslash, no control character and no non-ASCII byte.
// Each term is the classic "has a byte equal to / less than n" bit trick; none
// has false negatives, so a true result is exact.
func plainWord(x uint64) bool {
	q := x ^ (lsb * '"')
	b := x ^ (lsb * '\\')
	return ((x-lsb*0x20)&^x|(q-lsb)&^q|(b-lsb)&^b|x)&msb == 0
}

// scanString validates the JSON string whose content starts at b[i] (just
// past the opening quote). It returns the index just past the closing quote
// and whether the string holds escapes. On failure it returns the reason and
// the offset of the offending byte.
//
// Beyond RFC 8259 syntax it rejects invalid UTF-8 and escaped lone surrogates
// (\ud800 with no low half): decoders disagree on them (Go substitutes U+FFFD,
// Python and JavaScript keep the surrogate), so two different keys could
// decode to the same one in one parser and not in another.
func scanString(b []byte, i int) (end int, esc bool, reason Reason, at int) {
	for {
		for i+8 <= len(b) && plainWord(binary.LittleEndian.Uint64(b[i:])) {
			i += 8
		}
		if i >= len(b) {
			return 0, esc, ReasonInvalidJSON, i
		}
		c := b[i]
		switch {
		case c == '"':
			return i + 1, esc, "", 0
		case c == '\\':
			esc = true
			n, r := scanEscape(b, i)
			if r != "" {
				return 0, esc, r, i
			}
			i = n
		case c < 0x20:
			return 0, esc, ReasonInvalidJSON, i
		case c < utf8.RuneSelf:
			i++
		default:
			r, size := utf8.DecodeRune(b[i:])
			if r == utf8.RuneError && size == 1 {
				return 0, esc, ReasonInvalidUTF8, i
			}
			i += size
		}
	}
}

// scanEscape validates the escape sequence at b[i] == '\\' and returns the
// index just past it.
func scanEscape(b []byte, i int) (int, Reason) {
	if i+1 >= len(b) {
		return 0, ReasonInvalidJSON
	}
	switch b[i+1] {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		return i + 2, ""
	case 'u':
		r, ok := hex4(b, i+2)
		if !ok {
			return 0, ReasonInvalidJSON
		}
		switch {
		case r >= 0xD800 && r < 0xDC00:
			if i+7 < len(b) && b[i+6] == '\\' && b[i+7] == 'u' {
				lo, ok := hex4(b, i+8)
				if !ok {
					return 0, ReasonInvalidJSON
				}
				if lo >= 0xDC00 && lo < 0xE000 {
					return i + 12, ""
				}
			}
			return 0, ReasonInvalidUTF8
		case r >= 0xDC00 && r < 0xE000:
			return 0, ReasonInvalidUTF8
		}
		return i + 6, ""
	}
	return 0, ReasonInvalidJSON
}

// hex4 decodes the four hex digits at b[i:i+4].
func hex4(b []byte, i int) (rune, bool) {
	if i+4 > len(b) {
		return 0, false
	}
	var r rune
	for _, c := range b[i : i+4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			c = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// appendUnescaped appends the decoded content of a JSON string (the bytes
// between the quotes, already validated by scanString) to dst.
func appendUnescaped(dst, s []byte) []byte {
	for {
		j := bytes.IndexByte(s, '\\')
		if j < 0 {
			return append(dst, s...)
		}
		dst = append(dst, s[:j]...)
		s = s[j:]
		if len(s) < 2 {
			return dst
		}
		switch s[1] {
		case 'b':
			dst = append(dst, '\b')
		case 'f':
			dst = append(dst, '\f')
		case 'n':
			dst = append(dst, '\n')
		case 'r':
			dst = append(dst, '\r')
		case 't':
			dst = append(dst, '\t')
		case 'u':
			r, _ := hex4(s, 2)
			if utf16.IsSurrogate(r) {
				lo, ok := hex4(s, 8)
				if ok && len(s) >= 12 && s[6] == '\\' && s[7] == 'u' {
					dst = utf8.AppendRune(dst, utf16.DecodeRune(r, lo))
					s = s[12:]
					continue
				}
				r = utf8.RuneError
			}
			dst = utf8.AppendRune(dst, r)
			s = s[6:]
			continue
		default: // '"', '\\', '/'
			dst = append(dst, s[1])
		}
		s = s[2:]
	}
}

// needsEscape marks the ASCII bytes appendQuoted must escape.
var needsEscape = func() (t [utf8.RuneSelf]bool) {
	for c := 0; c < 0x20; c++ {
		t[c] = true
	}
	t['"'] = true
	t['\\'] = true
	return t
}()

const hexDigits = "0123456789abcdef"

// appendQuoted appends s to dst as a JSON string literal. Control characters,
// quote and backslash are escaped, U+2028/U+2029 too (they end lines in
// JavaScript), and invalid UTF-8 becomes U+FFFD as encoding/json does.
// HTML characters are left alone: the output is not embedded in HTML.
func appendQuoted(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if !needsEscape[c] {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// QuoteString returns s encoded as a JSON string literal, quotes included.
// Use it to build the New bytes of an Edit that replaces a string.
func QuoteString(s string) []byte {
	return appendQuoted(make([]byte, 0, len(s)+2), s)
}

// bstr views b as a string without copying. The result must not outlive the
// next change to b; it is used only for transient comparisons and for values
// handed to callbacks whose lifetime is documented.
func bstr(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

// isSpace reports JSON insignificant whitespace.
func isSpace(c byte) bool {
	return c == ' ' || c == '\n' || c == '\r' || c == '\t'
}

// scanNumber validates the JSON number starting at b[i] and returns the index
// just past it, or -1.
func scanNumber(b []byte, i int) int {
	if i < len(b) && b[i] == '-' {
		i++
	}
	if i >= len(b) {
		return -1
	}
	switch {
	case b[i] == '0':
		i++
	case '1' <= b[i] && b[i] <= '9':
		for i++; i < len(b) && '0' <= b[i] && b[i] <= '9'; i++ {
		}
	default:
		return -1
	}
	if i < len(b) && b[i] == '.' {
		i++
		d := i
		for ; i < len(b) && '0' <= b[i] && b[i] <= '9'; i++ {
		}
		if i == d {
			return -1
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		d := i
		for ; i < len(b) && '0' <= b[i] && b[i] <= '9'; i++ {
		}
		if i == d {
			return -1
		}
	}
	return i
}

// scanLiteral checks that b[i:] starts with lit and returns the index past it,
// or -1.
func scanLiteral(b []byte, i int, lit string) int {
	if len(b)-i >= len(lit) && string(b[i:i+len(lit)]) == lit {
		return i + len(lit)
	}
	return -1
}
