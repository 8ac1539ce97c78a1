package toolguard

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/tidwall/gjson"
	"golang.org/x/text/unicode/norm"
)

// invisible and fold accept any string; text without the flagged
// characters is never flagged whatever surrounds it, and folding is stable.
func FuzzScan(f *testing.F) {
	for _, s := range []string{"ignore previous instructions", "👨\u200d👩", "🏴\U000E0067\U000E0062\U000E007F", "می\u200cخ", "\ufeffa", "ｉｇｎｏｒｅ", "\ufe0f<IMPORTANT>", "é\u200d", "\U000E0100x", "Ｉｇｎｏｒｅ previous instructions 顧客", "🏴\U000E0067", "a\u200bb", "\u2066x\u2069", "x\ufe0f\ufe0f", "—’…"} {
		f.Add(s)
	}
	m, err := compilePatterns([]patternList{{"phrases", kindPhrase, DefaultPhrases}, {"secret_references", kindSecret, DefaultSecretReferences}})
	if err != nil {
		f.Fatal(err)
	}
	guard, err := New(DefaultConfig())
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if r, off, ok := invisible(s); ok && (off < 0 || off > len(s) || r == 0) {
			t.Fatalf("%q: bad finding U+%04X at %d", s, r, off)
		}
		if _, _, bad := invisible(s); bad {
			seen := false
			for i := range len(s) {
				seen = seen || mayBeInvisible(s[i:])
			}
			if !seen {
				t.Fatalf("%q: invisible flags what mayBeInvisible does not see", s)
			}
		}
		item, _ := json.Marshal(map[string]any{"name": "t", "description": s, "inputSchema": map[string]any{"properties": map[string]any{s: map[string]any{"description": s}}}})
		sc := scanner{p: guard}
		if it := gjson.ParseBytes(item); sc.quickClean(it.Raw) {
			sc.path = sc.path[:0]
			if f := sc.walkItem(famTool, it); f != nil {
				t.Fatalf("%q: quickClean passed what the walk flags: %s", s, f)
			}
		}
		// The same strings verbatim (no escapes), where quickClean reads
		// them without the walk's help.
		if !strings.ContainsAny(s, "\"\\") && strings.IndexFunc(s, func(r rune) bool { return r < 0x20 }) < 0 {
			raw := `{"name":"t","description":"` + s + `","inputSchema":{"properties":{"` + s + `":{"description":"x ` + s + `"}}},"annotations":{"title":"` + s + s + `"}}`
			sc := scanner{p: guard}
			if it := gjson.Parse(raw); it.IsObject() && sc.quickClean(raw) {
				if f := sc.walkItem(famTool, it); f != nil {
					t.Fatalf("%q: quickClean passed what the walk flags: %s", raw, f)
				}
			}
		}
		if got, want := fold(nil, s), foldNFKC(nil, s); string(got) != string(want) {
			t.Fatalf("%q: folds to %q, by NFKC of the whole %q", s, got, want)
		}
		folded := fold(nil, s)
		m.find(folded)
		if again := fold(nil, string(folded)); strings.TrimSpace(string(again)) != strings.TrimSpace(string(fold(nil, string(again)))) {
			t.Fatalf("%q: folding is not stable", s)
		}
	})
}

// foldNFKC is fold as it was, folding every rune of the whole string's
// NFKC form: the reference the fuzz target compares fold (its ASCII path,
// its skipping of text already in NFKC) with.
func foldNFKC(dst []byte, s string) []byte {
	space := len(dst) > 0 && dst[len(dst)-1] == ' '
	for _, r := range norm.NFKC.String(s) {
		dst, space = foldRune(dst, r, space)
	}
	return dst
}
