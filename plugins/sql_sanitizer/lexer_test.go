package sqlsanitizer

import (
	"strings"
	"testing"
)

func TestLexDialects(t *testing.T) {
	for _, tc := range []struct {
		dialect, sql string
		want         string // kinds, one letter each
	}{
		{"postgres", `SELECT 'a''b', "x""y", $1, $$q;$$, $t$ $$ $t$ FROM t;`, "wsoiopososww;"},
		{"postgres", `E'a\'b' x`, "sw"},
		{"mysql", `E'a\'b' x`, "wsw"}, // E then a string with \' escaped
		{"postgres", `/* a /* b */ c */ x`, "cw"},
		{"mysql", `/* a /* b */ c */ x`, "cwoow"},
		{"mysql", "a -- c\nb --x", "wcwoow"},
		{"postgres", "a --x", "wc"},
		{"mysql", "a # c\nb", "wcw"},
		{"mysql", "/*!50000 DROP */ x", "eww"},
		{"sqlite", "[a;b] `c;d`", "ii"},
		{"postgres", "[a;b]", "ow;wo"},
		{"mysql", `"a\";b"`, "s"},
		{"postgres", `'unterminated`, "S"},
		{"postgres", `/* open`, "C"},
		{"postgres", `$x$ open`, "S"},
		{"postgres", `a.b::text @> ?`, "wowopoop"},
	} {
		d := dialects[tc.dialect]
		var b strings.Builder
		for _, tk := range lex(tc.sql, &d, nil, nil) {
			c := map[tokKind]byte{tkWord: 'w', tkQuotedIdent: 'i', tkString: 's', tkNumber: 'n', tkParam: 'p', tkSemicolon: ';',
				tkLParen: '(', tkRParen: ')', tkComment: 'c', tkExecComment: 'e', tkOp: 'o'}[tk.kind]
			if tk.unterminated {
				c -= 'a' - 'A'
			}
			b.WriteByte(c)
		}
		if b.String() != tc.want {
			t.Errorf("%s %q: %q, want %q", tc.dialect, tc.sql, b.String(), tc.want)
		}
	}
}

// FuzzLex: every dialect lexes any text into ordered, non-overlapping
// tokens inside it that leave out only whitespace and the */ closing a
// MySQL executable comment, and the checks run on it without panicking.
func FuzzLex(f *testing.F) {
	for _, s := range []string{"SELECT 'a''b' FROM t; DROP TABLE x -- c", `E'\'`, "$a$ $a", "/* /* */", "/*!1 x */", "[a", "`b", `"c\"`, "#\n--\r", "\xff'"} {
		f.Add(s)
	}
	kws := knownKeywords(map[string]bool{"DROP": true})
	ru := &rules{blocked: map[string]bool{"DROP": true}, stacked: true, deleteWhere: true, updateWhere: true, tautologies: true, commentTrick: true, injection: true, literals: true}
	f.Fuzz(func(t *testing.T, s string) {
		for name, d := range dialects {
			toks := lex(s, &d, kws, nil)
			last := 0
			for _, tk := range toks {
				if tk.start < last || tk.end <= tk.start || tk.end > len(s) {
					t.Fatalf("%s %q: token %+v after %d", name, s, tk, last)
				}
				gap := s[last:tk.start]
				if strings.Trim(strings.ReplaceAll(gap, "*/", ""), " \t\n\r\f\v") != "" {
					t.Fatalf("%s %q: bytes %q skipped", name, s, gap)
				}
				last = tk.end
			}
			var r reading
			r.read(s, &d, kws)
			ru.check(&r, true, func(string, string) {})
			r.read("'"+s+"'", &d, kws)
			ru.checkInjected(&r, func(string, string) {})
		}
	})
}
