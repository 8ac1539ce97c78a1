package toolpin

import (
	"crypto/sha256"
	"strings"

	"github.com/mcp-extproc/mcp-extproc/plugins/internal/listitems"
)

// Most servers write most of a tool already in RFC 8785 form (Go and
// JavaScript encoders write no white space; many sort keys). The fast path
// here checks, in one pass that copies nothing, that the text of each
// fingerprinted member is its own canonical form, and hashes the members'
// text as it stands. A member that is not (a schema whose keys come in the
// server's order, most often) is canonicalised on its own, aside, and the
// others still keep their text: servers that write keys in their structs'
// order have canonical names and descriptions, and the canonicaliser
// written over the whole tool copied them once more for nothing. Anything
// else it does not expect (a key with an escape, white space around a
// key, a member twice, a name not written canonically) sends the tool to
// the canonicaliser, which decides.

// maxFastDepth bounds the nesting the fast path follows; deeper tools take
// the canonicaliser (and its maxDepth).
const maxFastDepth = 64

// fingerprintFast returns the fingerprint of the tool object s and its
// name (what gjson's Get("name").Str is: "" when it is not a string); ok
// false when it leaves the tool to the canonicaliser.
func fingerprintFast(c *canonicaliser, s string) (fp digest, name string, ok bool) {
	if s == "" || s[0] != '{' {
		return digest{}, "", false
	}
	// By FingerprintMembers index: the span of `"key":value` in s, or in
	// c.side for a member in aside (its key as written, its value
	// canonicalised).
	var spans [6][2]int
	seen, aside := 0, 0
	c.side = c.side[:0]
	i := skipSpace(s, 1)
	if i < len(s) && s[i] == '}' {
		i++
	} else {
		for {
			if i >= len(s) || s[i] != '"' {
				return digest{}, "", false
			}
			kend := plainStringEnd(s, i)
			if kend < 0 {
				return digest{}, "", false
			}
			m := memberIndex(s[i+1 : kend-1])
			var vend int
			if m >= 0 {
				if seen&(1<<m) != 0 || kend >= len(s) || s[kend] != ':' {
					return digest{}, "", false
				}
				seen |= 1 << m
				if vend = canonicalEnd(s, kend+1, 0); vend >= 0 {
					spans[m] = [2]int{i, vend}
				} else {
					// A member not written canonically (a schema's keys
					// in the server's order, most often) is canonicalised
					// on its own, aside; the others keep their text.
					if m == nameIndex {
						return digest{}, "", false
					}
					start := len(c.side)
					c.side = append(c.side, s[i:kend+1]...) // `"key":`, plain
					var err error
					if c.side, vend, err = c.value(c.side, s, skipSpace(s, kend+1), 1); err != nil {
						return digest{}, "", false
					}
					aside |= 1 << m
					spans[m] = [2]int{start, len(c.side)}
				}
			} else {
				j := skipSpace(s, kend)
				if j >= len(s) || s[j] != ':' {
					return digest{}, "", false
				}
				j = skipSpace(s, j+1)
				var err error
				if vend, err = skipValue(s, j); err != nil || vend == j {
					return digest{}, "", false
				}
			}
			i = skipSpace(s, vend)
			if i < len(s) && s[i] == ',' {
				i = skipSpace(s, i+1)
				continue
			}
			if i < len(s) && s[i] == '}' {
				i++
				break
			}
			return digest{}, "", false
		}
	}
	if skipSpace(s, i) != len(s) {
		return digest{}, "", false
	}
	out := append(c.out[:0], '{')
	for m, sp := range spans {
		if seen&(1<<m) == 0 {
			continue
		}
		if len(out) > 1 {
			out = append(out, ',')
		}
		if aside&(1<<m) != 0 {
			out = append(out, c.side[sp[0]:sp[1]]...)
		} else {
			out = append(out, s[sp[0]:sp[1]]...)
		}
	}
	c.out = append(out, '}')
	sum := sha256.Sum256(c.out)
	if seen&(1<<nameIndex) != 0 {
		if v := s[spans[nameIndex][0]+len(`"name":`) : spans[nameIndex][1]]; v[0] == '"' {
			name = v[1 : len(v)-1]
		}
	}
	return sum, name, true
}

// nameIndex is the index of "name" in FingerprintMembers.
const nameIndex = 3

// memberIndex is key's index in FingerprintMembers, or -1.
func memberIndex(key string) int {
	switch key {
	case "annotations":
		return 0
	case "description":
		return 1
	case "inputSchema":
		return 2
	case "name":
		return 3
	case "outputSchema":
		return 4
	case "title":
		return 5
	}
	return -1
}

// plainStringEnd returns the index after the JSON string at s[i] (its
// quote) when it is written as RFC 8785 writes it: no escape, no control
// character. -1 otherwise.
func plainStringEnd(s string, i int) int {
	if end, plain := listitems.ScanString(s, i); plain {
		return end
	}
	return -1
}

// canonicalEnd returns the index after the JSON value at s[i] when its text
// is its own RFC 8785 form, -1 otherwise (or when it is not JSON).
func canonicalEnd(s string, i, depth int) int {
	if i >= len(s) {
		return -1
	}
	switch s[i] {
	case '"':
		return plainStringEnd(s, i)
	case 't':
		return literalEnd(s, i, "true")
	case 'f':
		return literalEnd(s, i, "false")
	case 'n':
		return literalEnd(s, i, "null")
	case '{':
		if depth >= maxFastDepth {
			return -1
		}
		j := i + 1
		if j < len(s) && s[j] == '}' {
			return j + 1
		}
		prev := ""
		for first := true; ; first = false {
			if j >= len(s) || s[j] != '"' {
				return -1
			}
			kend := plainStringEnd(s, j)
			if kend < 0 || kend >= len(s) || s[kend] != ':' {
				return -1
			}
			key := s[j+1 : kend-1]
			if !first && compareUTF16(prev, key) >= 0 {
				return -1 // out of order, or twice: the canonicaliser decides
			}
			prev = key
			if j = canonicalEnd(s, kend+1, depth+1); j < 0 || j >= len(s) {
				return -1
			}
			switch s[j] {
			case ',':
				j++
			case '}':
				return j + 1
			default:
				return -1
			}
		}
	case '[':
		if depth >= maxFastDepth {
			return -1
		}
		j := i + 1
		if j < len(s) && s[j] == ']' {
			return j + 1
		}
		for {
			if j = canonicalEnd(s, j, depth+1); j < 0 || j >= len(s) {
				return -1
			}
			switch s[j] {
			case ',':
				j++
			case ']':
				return j + 1
			default:
				return -1
			}
		}
	}
	j := i
	for j < len(s) && (s[j] >= '0' && s[j] <= '9' || s[j] == '-') {
		j++
	}
	if j == i || !smallInteger(s[i:j]) || j < len(s) && (s[j] == '.' || s[j] == 'e' || s[j] == 'E' || s[j] == '+') {
		return -1
	}
	return j
}

func literalEnd(s string, i int, lit string) int {
	if !strings.HasPrefix(s[i:], lit) {
		return -1
	}
	return i + len(lit)
}
