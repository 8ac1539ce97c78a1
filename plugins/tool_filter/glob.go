package toolfilter

import "unicode/utf8"

// matchGlob reports whether name matches pattern, where '*' matches any run
// of characters (also none) and '?' exactly one character; every other
// character matches itself. It backtracks only to the last '*', so it runs
// in O(len(pattern)·len(name)) at worst.
func matchGlob(pattern, name string) bool {
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

// firstMatch returns the first pattern of list that name matches.
func firstMatch(list []string, name string) (string, bool) {
	for _, p := range list {
		if matchGlob(p, name) {
			return p, true
		}
	}
	return "", false
}
