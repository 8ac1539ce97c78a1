package framework

// globMatch reports whether s matches pattern, where '*' matches any run of
// characters (including '/') and '?' exactly one character; every other
// character matches itself. It works on bytes except for '?', which takes a
// whole UTF-8 character, and never allocates.
func globMatch(pattern, s string) bool {
	var px, sx int
	nextPx, nextSx := -1, -1
	for px < len(pattern) || sx < len(s) {
		if px < len(pattern) {
			switch c := pattern[px]; c {
			case '*':
				nextPx, nextSx = px, sx+1
				px++
				continue
			case '?':
				if sx < len(s) {
					px++
					sx += runeLen(s, sx)
					continue
				}
			default:
				if sx < len(s) && s[sx] == c {
					px++
					sx++
					continue
				}
			}
		}
		if nextSx > 0 && nextSx <= len(s) {
			px, sx = nextPx, nextSx
			continue
		}
		return false
	}
	return true
}

func runeLen(s string, i int) int {
	c := s[i]
	switch {
	case c < 0x80:
		return 1
	case c>>5 == 0x6:
		return min(2, len(s)-i)
	case c>>4 == 0xE:
		return min(3, len(s)-i)
	case c>>3 == 0x1E:
		return min(4, len(s)-i)
	}
	return 1
}

func hasGlobMeta(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == '*' || s[i] == '?' {
			return true
		}
	}
	return false
}

// matchList reports whether s matches any entry of list (exact or glob).
func matchList(list []string, s string) bool {
	for _, p := range list {
		if p == s || (hasGlobMeta(p) && globMatch(p, s)) {
			return true
		}
	}
	return false
}
