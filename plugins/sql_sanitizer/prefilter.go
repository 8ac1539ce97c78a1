package sqlsanitizer

// anchorWords are the words (lower-case) one of which a free-text string
// must hold for the sanitizer to lex it: every shaped statement and every
// injection it checks for starts with or holds one. WITH is not needed (a
// CTE's body holds one of the others); OR, comments and quotes alone are
// handled by the second condition of mayBeSQL.
var anchorWords = map[string]bool{
	"select": true, "insert": true, "update": true, "delete": true, "merge": true, "replace": true,
	"drop": true, "create": true, "alter": true, "truncate": true, "grant": true, "revoke": true,
	"exec": true, "execute": true, "call": true, "copy": true, "load": true, "shutdown": true, "union": true,
}

// mayBeSQL is a cheap necessary condition for a free-text string to hold
// something the checks find: an anchor word, or a quote together with a
// comment opener or '=' (admin'--, x' OR '1'='1).
func mayBeSQL(s string) bool {
	quote, trick := false, false
	var w [8]byte
	for i := 0; i < len(s); {
		c := s[i]
		if c|0x20 >= 'a' && c|0x20 <= 'z' {
			j := i
			n := 0
			for j < len(s) && (s[j]|0x20 >= 'a' && s[j]|0x20 <= 'z') {
				if n < len(w) {
					w[n] = s[j] | 0x20
				}
				n++
				j++
			}
			if n >= 4 && n <= 8 && anchorWords[string(w[:n])] {
				return true
			}
			i = j
			continue
		}
		switch c {
		case '\'', '"':
			quote = true
		case '=', '#':
			trick = true
		case '-', '/':
			if i+1 < len(s) && (s[i+1] == '-' || s[i+1] == '*') {
				trick = true
			}
		}
		i++
	}
	return quote && trick
}
