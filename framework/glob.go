package framework

import "unicode/utf8"

// GlobMatch reports whether name matches pattern, where '*' matches any run
// of characters (also none, '/' included) and '?' exactly one character;
// every other character matches itself. It backtracks only to the last '*',
// so it runs in O(len(pattern)·len(name)) at worst, and never allocates.
// Conditions and the tool_filter kind share it, so a glob means the same
// thing everywhere in a policy.
func GlobMatch(pattern, name string) bool {
	var p, n int
	starP, starN := -1, -1
	for n < len(name) {
		if p < len(pattern) {
			switch c := pattern[p]; c {
			case '*':
				starP, starN = p, n
				p++
				continue
			case '?':
				_, size := utf8.DecodeRuneInString(name[n:])
				p++
				n += size
				continue
			default:
				if name[n] == c {
					p++
					n++
					continue
				}
			}
		}
		if starP < 0 {
			return false
		}
		// Let the last '*' take one more character and retry.
		_, size := utf8.DecodeRuneInString(name[starN:])
		starN += size
		p, n = starP+1, starN
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}

// MatchAny returns the first pattern of list (exact values or globs) that
// name matches.
func MatchAny(list []string, name string) (string, bool) {
	for _, p := range list {
		if GlobMatch(p, name) {
			return p, true
		}
	}
	return "", false
}

func matchList(list []string, s string) bool {
	_, ok := MatchAny(list, s)
	return ok
}
