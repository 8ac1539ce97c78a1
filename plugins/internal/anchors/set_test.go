package anchors

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
)

type lit struct {
	s    string
	fold bool
}

// scanAll returns the matches of Scan as "rule:match" strings; skip makes
// found return the match's end.
func scanAll(lits []lit, s string, skip bool) []string {
	var a Set
	for i, l := range lits {
		a.Add(l.s, l.fold, i)
	}
	var out []string
	a.Scan(s, func(rule, start, end int) int {
		out = append(out, fmt.Sprintf("%d:%s", rule, s[start:end]))
		if skip {
			return end
		}
		return 0
	})
	return out
}

func TestScan(t *testing.T) {
	keys := []lit{{"api_key", true}, {"AKIA", false}, {"ghp_", false}}
	for _, tc := range []struct {
		name string
		lits []lit
		text string
		skip bool
		want []string
	}{
		{"none", keys, "nothing to see here", false, nil},
		{"empty set", nil, "api_key AKIA", false, nil},
		{"empty text", keys, "", false, nil},
		{"exact literal", keys, "AKIAIOSFODNN7EXAMPLE", false, []string{"1:AKIA"}},
		{"literal is case-sensitive", keys, "akiaIOSFODNN7EXAMPLE", false, nil},
		{"folded keyword", keys, "API_KEY=x Api_Key=y api_key=z", false, []string{"0:API_KEY", "0:Api_Key", "0:api_key"}},
		{"second byte folded", keys, "aPI_KEY", false, []string{"0:aPI_KEY"}},
		{"word boundary before", keys, "xghp_abc _ghp_abc 1AKIA", false, nil},
		{"punctuation is a boundary", keys, `"ghp_a" (AKIA) -api_key`, false, []string{"2:ghp_", "1:AKIA", "0:api_key"}},
		{"no boundary needed after", keys, "api_keys", false, []string{"0:api_key"}},
		{"cut at end of text", keys, "token AKI", false, nil},
		{"two-byte anchor at end", []lit{{"ab", false}}, "x ab", false, []string{"0:ab"}},
		{"non-ASCII before is a boundary", keys, "éAKIA", false, []string{"1:AKIA"}},
		{"same start, order of addition", []lit{{"key", true}, {"keyword", false}}, "keyword", false, []string{"0:key", "1:keyword"}},
		{"skip ends the position", []lit{{"key", true}, {"keyword", false}}, "keyword", true, []string{"0:key"}},
		{"skip jumps ahead", []lit{{"ab", false}}, "ab ab", true, []string{"0:ab", "0:ab"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := scanAll(tc.lits, tc.text, tc.skip); !slices.Equal(got, tc.want) {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
		})
	}
}

// TestScanSkipsWhatFoundConsumed checks that the scan resumes at the index
// found returns, not after the anchor: an anchor inside a consumed value is
// not reported.
func TestScanSkipsWhatFoundConsumed(t *testing.T) {
	var a Set
	a.Add("id=", false, 0)
	s := "id=xx id=yy"
	var starts []int
	a.Scan(s, func(_, start, _ int) int {
		starts = append(starts, start)
		return len(s) - 2 // consumes the second "id="
	})
	if !slices.Equal(starts, []int{0}) {
		t.Fatalf("found at %v, want [0]", starts)
	}
}

func TestAddRefusesShortLiterals(t *testing.T) {
	for _, l := range []string{"", "a"} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Add(%q) did not panic", l)
				}
			}()
			var a Set
			a.Add(l, false, 0)
		}()
	}
}

func TestByteClassesMatchRegexp(t *testing.T) {
	for _, tc := range []struct {
		name string
		is   func(byte) bool
		re   *regexp.Regexp
	}{
		{"IsDigit", IsDigit, regexp.MustCompile(`^[0-9]$`)},
		{"IsLetter", IsLetter, regexp.MustCompile(`^[A-Za-z]$`)},
		{"IsAlnum", IsAlnum, regexp.MustCompile(`^[0-9A-Za-z]$`)},
		{"IsWordByte", IsWordByte, regexp.MustCompile(`^\w$`)},
	} {
		for c := range 256 {
			if got, want := tc.is(byte(c)), c < 0x80 && tc.re.MatchString(string(rune(c))); got != want {
				t.Errorf("%s(%#x) = %v, want %v", tc.name, c, got, want)
			}
		}
	}
}

// naiveScan is what Scan computes, written the slow and obvious way; with
// skip, found returns the match's end and the scan goes on from there.
func naiveScan(lits []lit, s string, skip bool) []string {
	var out []string
	for i := 0; i+1 < len(s); i++ {
		if i > 0 && IsWordByte(s[i-1]) {
			continue
		}
		for r, l := range lits {
			if end := i + len(l.s); end <= len(s) && (s[i:end] == l.s || l.fold && strings.EqualFold(s[i:end], l.s)) {
				out = append(out, fmt.Sprintf("%d:%s", r, s[i:end]))
				if skip {
					i = end - 1
					break
				}
			}
		}
	}
	return out
}

func FuzzScan(f *testing.F) {
	f.Add("api_key=1 AKIA ghp_x", "Api_Key", "AKIA")
	f.Add("xx_tokentoken Token", "tok", "TOKEN")
	f.Fuzz(func(t *testing.T, s, folded, exact string) {
		if len(folded) < 2 || len(exact) < 2 || !isASCII(folded) {
			t.Skip()
		}
		lits := []lit{{folded, true}, {exact, false}}
		if got, want := scanAll(lits, s, false), naiveScan(lits, s, false); !slices.Equal(got, want) {
			t.Fatalf("Scan(%q) = %q, want %q", s, got, want)
		}
	})
}

// isASCII: folding is ASCII-only, and strings.EqualFold is not.
func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// The word-at-a-time tests agree with a byte-by-byte look on every byte
// value in every lane.
func TestInRangeExact(t *testing.T) {
	ranges := [][2]byte{{'0', '9'}, {'(', '9'}, {'@', '@'}, {':', ':'}, {0, 0x7f}, {'a', 'z'}, {0x7f, 0x7f}, {0, 0}}
	for _, r := range ranges {
		for v := range 256 {
			for lane := range 8 {
				x := uint64(0x4141414141414141) // 'A' elsewhere
				if 'A' >= r[0] && 'A' <= r[1] {
					x = 0xC3C3C3C3C3C3C3C3 // a non-ASCII byte elsewhere: never in range
				}
				x = x&^(0xff<<(8*lane)) | uint64(v)<<(8*lane)
				want := uint64(0)
				if byte(v) >= r[0] && byte(v) <= r[1] {
					want = 0x80 << (8 * lane)
				}
				if got := InRange(x, r[0], r[1]); got != want {
					t.Fatalf("InRange(%#x, %#x, %#x) = %#x, want %#x", x, r[0], r[1], got, want)
				}
			}
		}
	}
	if Load8("abcdefghij", 2) != 0x6a69686766656463 {
		t.Errorf("Load8 = %#x", Load8("abcdefghij", 2))
	}
}

// The scan finds what the obvious reference finds, at every length, with
// and without skipping, on text dense with anchors, word boundaries of
// every kind and non-ASCII bytes.
func TestScanMatchesNaive(t *testing.T) {
	lits := []lit{{"ab", false}, {"key", true}, {"-x", false}, {"k_", true}, {"é1", false}}
	alphabet := []string{"a", "b", "k", "e", "y", "K", "E", "Y", "_", "-", "x", " ", "\n", "1", "é", "\xff", ".", "ab", "key", "-x"}
	rng := uint64(1)
	next := func(n int) int { rng = rng*6364136223846793005 + 1442695040888963407; return int(rng>>33) % n }
	for range 20000 {
		var b strings.Builder
		for range next(40) {
			b.WriteString(alphabet[next(len(alphabet))])
		}
		s := b.String()
		if got, want := scanAll(lits, s, false), naiveScan(lits, s, false); !slices.Equal(got, want) {
			t.Fatalf("Scan(%q) = %q, want %q", s, got, want)
		}
		if got, want := scanAll(lits, s, true), naiveScan(lits, s, true); !slices.Equal(got, want) {
			t.Fatalf("Scan(%q) skipping = %q, want %q", s, got, want)
		}
	}
}

// nonWord agrees with IsWordByte on every byte value in every lane.
func TestNonWordExact(t *testing.T) {
	for v := range 256 {
		for lane := range 8 {
			for _, fill := range []uint64{0x4141414141414141, 0x2020202020202020, 0xC3C3C3C3C3C3C3C3} {
				x := fill&^(0xff<<(8*lane)) | uint64(v)<<(8*lane)
				got := nonWord(x) >> (8*lane + 7) & 1
				if want := !IsWordByte(byte(v)); got != 0 != want {
					t.Fatalf("nonWord(%#x) lane %d = %d, want %v", x, lane, got, want)
				}
				if nonWord(x)&^(0x80<<(8*lane)) != nonWord(fill)&^(0x80<<(8*lane)) {
					t.Fatalf("nonWord(%#x): the other lanes changed", x)
				}
			}
		}
	}
}
