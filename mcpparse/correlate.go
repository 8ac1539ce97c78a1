package mcpparse

import (
	"math"
	"math/big"
	"strconv"
	"strings"
	"unicode"
)

// CorrelationKey returns a key that is equal for two ids whenever some real
// MCP client would take a response carrying one as the answer to a request
// carrying the other. Matching results to requests by Key (exact JSON value)
// is not enough: clients convert ids before they look them up.
//
//   - The TypeScript SDK looks a response up with Number(id): "7", " 7 ",
//     "7.0", "0x7" and "7e0" all answer request 7, and a number parses as a
//     JavaScript double (7.0 is 7; 9007199254740993 is 9007199254740992).
//   - The Go SDK decodes a number id as float64 and converts it to int64,
//     truncating: 7.9 answers 7.
//   - The Python SDK turns a numeric string id back into an int (int()
//     syntax, which also allows "1_000").
//
// The key is the union of those readings: a number, or a string that reads
// as a number in either language, keys as its value truncated to an integer,
// in decimal ("7"); a number too large for int64 keys as its double
// ("f:1e+30"); any other string keys as Key does (a quote and its decoded
// value); null is "null"; absent is "". The forms cannot collide: they start
// with a digit or '-', 'f', a quote, 'n'. An id written as a plain integer
// (what clients send) is its own key, without an allocation. Keys that
// collide when a client would not confuse the ids only make the filter
// post-hook more, never less.
func (id ID) CorrelationKey() string {
	switch {
	case id.raw == "" || id.raw == "null":
		return id.raw
	case id.IsString():
		k := id.Key()
		if f, ok := numericString(k[1:]); ok {
			return numberKey(f)
		}
		return k
	case isPlainInt(id.raw):
		return id.raw
	}
	f, err := strconv.ParseFloat(id.raw, 64)
	if err != nil && !math.IsInf(f, 0) {
		return id.Key() // cannot happen for a validated number
	}
	return numberKey(f)
}

// isPlainInt reports a canonical decimal integer that fits int64 exactly as
// a float64 would read it: no leading zero, no "-0", at most 15 digits.
func isPlainInt(s string) bool {
	d := strings.TrimPrefix(s, "-")
	if d == "" || len(d) > 15 || (d[0] == '0' && (len(d) > 1 || len(s) > 1)) {
		return false
	}
	for i := 0; i < len(d); i++ {
		if !isDigit(d[i]) {
			return false
		}
	}
	return true
}

func numberKey(f float64) string {
	if t := math.Trunc(f); t >= -(1<<63) && t < 1<<63 {
		return strconv.FormatInt(int64(t), 10)
	}
	return "f:" + strconv.FormatFloat(f, 'g', -1, 64)
}

// numericString reports the number a string id stands for in JavaScript's
// Number() or Python's int(), if either reads one.
func numericString(s string) (float64, bool) {
	if f, ok := jsNumber(s); ok {
		return f, true
	}
	return pyInt(s)
}

// jsNumber implements ECMAScript's StringToNumber: surrounding white space
// and line terminators are ignored; the empty string is 0; then a decimal
// literal with an optional sign, "Infinity", or an unsigned 0x/0o/0b
// integer. NaN reports false.
func jsNumber(s string) (float64, bool) {
	s = strings.TrimFunc(s, isJSSpace)
	if s == "" {
		return 0, true
	}
	if len(s) > 2 && s[0] == '0' {
		base := 0
		switch s[1] {
		case 'x', 'X':
			base = 16
		case 'o', 'O':
			base = 8
		case 'b', 'B':
			base = 2
		}
		if base != 0 {
			n, ok := new(big.Int).SetString(s[2:], base)
			if !ok || strings.ContainsAny(s[2:], "_+-") {
				return 0, false
			}
			f, _ := new(big.Float).SetInt(n).Float64()
			return f, true
		}
	}
	body := strings.TrimLeft(s, "+-")
	if len(s)-len(body) > 1 {
		return 0, false
	}
	if body == "Infinity" {
		if s[0] == '-' {
			return math.Inf(-1), true
		}
		return math.Inf(1), true
	}
	if !isDecimalLiteral(body) {
		return 0, false
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil && !math.IsInf(f, 0) {
		return 0, false
	}
	return f, true
}

// isDecimalLiteral reports an unsigned StrDecimalLiteral without Infinity:
// digits with an optional fraction (".5" and "5." included) and exponent.
func isDecimalLiteral(s string) bool {
	i, intDigits, fracDigits := 0, 0, 0
	for i < len(s) && isDigit(s[i]) {
		i, intDigits = i+1, intDigits+1
	}
	if i < len(s) && s[i] == '.' {
		i++
		for i < len(s) && isDigit(s[i]) {
			i, fracDigits = i+1, fracDigits+1
		}
	}
	if intDigits+fracDigits == 0 {
		return false
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		exp := 0
		for i < len(s) && isDigit(s[i]) {
			i, exp = i+1, exp+1
		}
		if exp == 0 {
			return false
		}
	}
	return i == len(s)
}

// pyInt implements Python's int(str): surrounding white space, an optional
// sign, decimal digits with single underscores between them.
func pyInt(s string) (float64, bool) {
	s = strings.TrimFunc(s, unicode.IsSpace)
	body := strings.TrimLeft(s, "+-")
	if len(s)-len(body) > 1 || body == "" || body[0] == '_' || body[len(body)-1] == '_' || strings.Contains(body, "__") {
		return 0, false
	}
	digits := strings.ReplaceAll(body, "_", "")
	for i := 0; i < len(digits); i++ {
		if !isDigit(digits[i]) {
			return 0, false
		}
	}
	f, err := strconv.ParseFloat(digits, 64)
	if err != nil && !math.IsInf(f, 0) {
		return 0, false
	}
	if strings.HasPrefix(s, "-") {
		f = -f
	}
	return f, true
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// isJSSpace is ECMAScript's WhiteSpace and LineTerminator.
func isJSSpace(r rune) bool {
	switch r {
	case '\t', '\n', '\v', '\f', '\r', ' ', 0xA0, 0x1680, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000, 0xFEFF:
		return true
	}
	return 0x2000 <= r && r <= 0x200A
}
