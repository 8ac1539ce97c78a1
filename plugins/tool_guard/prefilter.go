package toolguard

import (
	"bytes"
	"encoding/binary"
	"slices"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// prefilter proves, in a few fast passes over the text of a whole list,
// that no item of it would be flagged, so that a clean list (nearly every
// list) is never split, decoded or folded. It answers only "clean" or "look
// closer"; on "look closer" the list is judged item by item as before, and
// that walk decides. A list is clean when:
//
//   - it has no backslash: every string of it is its text between two
//     quotes, verbatim;
//   - no run of bytes between two quotes is longer than
//     max_description_length: no string (description or other) can be;
//   - every character outside ASCII is inert (one that folding leaves
//     outside ASCII, that NFKC leaves alone whatever surrounds it, and
//     that is not white space, a typographic quote or one of the characters
//     invisible flags) or an ignorable character after an inert one in a
//     run of characters outside ASCII (a zero-width joiner inside an emoji
//     sequence, a ZWNJ inside a Persian word, a variation selector after an
//     emoji), and invisible finds nothing in a run that has one; then the
//     text folded is the ASCII text lower-cased with white space runs made
//     one space, and every run outside ASCII is a non-word separator there;
//   - no configured pattern (all ASCII after folding) is found: each is
//     looked for at the occurrences of one of its rarer bytes, found with
//     bytes.IndexByte (which runs many bytes at a time), and compared there
//     in both directions.
//
// A pattern found in any string of an item, or in the item's text, is found
// in the list's text by these rules: a quote, comma or bracket around an item
// or string is no word character, and folding a substring of text without
// escapes is a substring of the folded text.
type prefilter struct {
	groups  []anchorGroup
	maxDesc int
}

// anchorGroup is the patterns looked for at the occurrences of one byte.
type anchorGroup struct {
	b       byte // lower case
	anchors []anchored
	// pairs holds, at prev<<8|next, whether the bytes (folded) before and
	// after b may be those of a match; 0 stands for the start or end of the
	// text.
	pairs [256 * 256 / 64]uint64
}

func (g *anchorGroup) allow(prev, next int) { g.pairs[(prev<<8|next)>>6] |= 1 << (next & 63) }

// anchored is one place a pattern may stand in relation to an occurrence of
// its group's byte: with that byte at folded[k] (a pattern that has the
// byte twice has two). prev and next are the folded bytes around it (0: at
// the pattern's start or end, any byte), compared before the whole pattern
// so that the patterns that cannot match at an occurrence cost one test.
type anchored struct {
	p          *pattern
	folded     string
	k          int
	prev, next byte
}

// around reports whether the folded bytes around an occurrence (0 at the
// text's edges) may be those around the anchor of a: each of prev and next
// is a byte of the pattern there (never 0, the text's edge: patterns have
// no byte below a space) or any byte when the pattern ends there.
func (a *anchored) around(prev, next byte) bool {
	return (a.prev == 0 || a.prev == prev) && (a.next == 0 || a.next == next)
}

// byteCost estimates how often a byte occurs in the JSON of a tool list, in
// occurrences per 10 000 bytes (English text, JSON keys and punctuation);
// bytes not listed are rare.
var byteCost = func() (c [256]int) {
	for _, e := range []struct {
		bytes string
		n     int
	}{
		{" ", 1200}, {`"`, 700}, {":,", 350}, {"e", 700}, {"t", 550}, {"a", 500}, {"oinsr", 450}, {"h", 300},
		{"ldc", 280}, {"u", 180}, {"mp", 170}, {"fgyw", 140}, {"b", 100}, {"{}", 100}, {"0123456789", 90},
		{"v", 70}, {"_.-", 60}, {"k", 45}, {"TSIAC", 40}, {"[]x", 20}, {"jqz", 10}, {"'/()", 8},
	} {
		for i := range len(e.bytes) {
			c[e.bytes[i]] = e.n
		}
	}
	for b := 'A'; b <= 'Z'; b++ {
		c[b] = max(c[b], 15)
	}
	return c
}()

// anyByte is every byte value (and 0, the start or end of the text).
var anyByte = func() []int {
	all := make([]int, 256)
	for i := range all {
		all[i] = i
	}
	return all
}()

// passCost is what one bytes.IndexByte pass over a list costs, in the units
// of byteCost (a verification costs about one unit).
const passCost = 60

// newPrefilter groups the folded patterns by an anchor byte, choosing the
// anchors greedily for the fewest passes and verifications; nil when a
// pattern has a byte the fast scan cannot see (outside ASCII, a quote, a
// backslash or a control character).
func newPrefilter(m *matcher, folded []string, maxDesc int) *prefilter {
	for _, f := range folded {
		for i := range len(f) {
			if c := f[i]; c >= utf8.RuneSelf || c < ' ' || c == '"' || c == '\\' {
				return nil
			}
		}
	}
	cost := func(b byte) int {
		if b >= 'a' && b <= 'z' { // both cases
			return 2*passCost + byteCost[b] + byteCost[b-('a'-'A')]
		}
		return passCost + byteCost[b]
	}
	runeClassesOnce.Do(buildRuneClasses) // at start-up, not in the first list's time
	pf := &prefilter{maxDesc: maxDesc}
	left := make([]bool, len(folded))
	for {
		// The byte that anchors most of the patterns left per unit of cost.
		var count [256]int
		for pi, f := range folded {
			if left[pi] {
				continue
			}
			var seen [256]bool
			for i := range len(f) {
				if c := f[i]; c != ' ' && !seen[c] {
					seen[c] = true
					count[c]++
				}
			}
		}
		best := -1
		for b := range 256 {
			if count[b] > 0 && (best < 0 || count[b]*cost(byte(best)) > count[best]*cost(byte(b))) {
				best = b
			}
		}
		if best < 0 {
			break
		}
		g := anchorGroup{b: byte(best)}
		for pi, f := range folded {
			k := -1
			if !left[pi] {
				k = strings.IndexByte(f, byte(best))
			}
			if k < 0 {
				continue
			}
			left[pi] = true
			// Any occurrence of the anchor in the pattern may be the one
			// the text's occurrence stands for.
			for i := range len(f) {
				if f[i] != byte(best) {
					continue
				}
				a := anchored{p: &m.patterns[pi], folded: f, k: i}
				if i > 0 {
					a.prev = f[i-1]
				}
				if i+1 < len(f) {
					a.next = f[i+1]
				}
				g.anchors = append(g.anchors, a)
				prevs, nexts := []int{0}, []int{0}
				if i > 0 {
					prevs[0] = int(f[i-1])
				} else {
					prevs = anyByte
				}
				if i+1 < len(f) {
					nexts[0] = int(f[i+1])
				} else {
					nexts = anyByte
				}
				for _, p := range prevs {
					for _, n := range nexts {
						g.allow(p, n)
					}
				}
			}
		}
		pf.groups = append(pf.groups, g)
	}
	return pf
}

func lower(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

func space(c byte) bool { return c == ' ' || c >= '\t' && c <= '\r' }

// clean reports whether no item of the list s can be flagged.
func (pf *prefilter) clean(s []byte) bool {
	if bytes.IndexByte(s, '\\') >= 0 {
		return false
	}
	if pf.maxDesc > 0 && !quoteGapsWithin(s, pf.maxDesc) {
		return false
	}
	if !inertRuns(s) {
		return false
	}
	for gi := range pf.groups {
		g := &pf.groups[gi]
		for _, b := range [2]byte{g.b, g.b - ('a' - 'A')} {
			if b == g.b-('a'-'A') && !(g.b >= 'a' && g.b <= 'z') {
				break
			}
			for i := 0; ; i++ {
				j := bytes.IndexByte(s[i:], b)
				if j < 0 {
					break
				}
				i += j
				// The bytes around the occurrence, tested here against the
				// pairs of the group's patterns: most occurrences go no further.
				prev, next := 0, 0
				if i > 0 {
					prev = int(foldByte(s[i-1]))
				}
				if i+1 < len(s) {
					next = int(foldByte(s[i+1]))
				}
				if g.pairs[(prev<<8|next)>>6]&(1<<(next&63)) != 0 && pf.matchAt(g, s, i, byte(prev), byte(next)) {
					return false
				}
			}
		}
	}
	return true
}

// matchAt reports whether a pattern of g matches s with its anchor at s[i];
// prev and next are the folded bytes around it (0 at the text's edges).
func (pf *prefilter) matchAt(g *anchorGroup, s []byte, i int, prev, next byte) bool {
	for ci := range g.anchors {
		a := &g.anchors[ci]
		if !a.around(prev, next) {
			continue
		}
		start, ok := matchBack(s, i, a.folded[:a.k])
		if !ok {
			continue
		}
		end, ok := matchForward(s, i+1, a.folded[a.k+1:])
		if !ok {
			continue
		}
		if a.p.wordL && start > 0 && wordByte(lower(s[start-1])) || a.p.wordR && end < len(s) && wordByte(lower(s[end])) {
			continue
		}
		return true
	}
	return false
}

// foldByte is what a byte of the list stands for in folded text, as far as
// the prev/next tables care: white space is a space, letters lower case.
func foldByte(c byte) byte {
	if space(c) {
		return ' '
	}
	return lower(c)
}

// matchForward matches the folded pattern part f at s[i:] (a space in f is
// a run of white space in s) and returns the index after the match.
func matchForward(s []byte, i int, f string) (int, bool) {
	for k := 0; k < len(f); k++ {
		if f[k] == ' ' {
			if i >= len(s) || !space(s[i]) {
				return i, false
			}
			for i < len(s) && space(s[i]) {
				i++
			}
			continue
		}
		if i >= len(s) || lower(s[i]) != f[k] {
			return i, false
		}
		i++
	}
	return i, true
}

// matchBack matches f so that it ends just before s[i] and returns where
// the match starts.
func matchBack(s []byte, i int, f string) (int, bool) {
	for k := len(f) - 1; k >= 0; k-- {
		if f[k] == ' ' {
			if i == 0 || !space(s[i-1]) {
				return i, false
			}
			for i > 0 && space(s[i-1]) {
				i--
			}
			continue
		}
		if i == 0 || lower(s[i-1]) != f[k] {
			return i, false
		}
		i--
	}
	return i, true
}

// quoteGapsWithin reports whether no run of bytes without a quote in s is
// longer than n. It looks back from n+1 bytes ahead for the last quote, so
// it takes about len(s)/n steps.
func quoteGapsWithin(s []byte, n int) bool {
	for pos := 0; len(s)-pos > n; {
		j := bytes.LastIndexByte(s[pos:pos+n+1], '"')
		if j < 0 {
			return false
		}
		pos += j + 1
	}
	return true
}

// The classes of characters outside ASCII, for inertRuns.
const (
	classSlow   = iota // anything else: look closer
	classInert         // folded outside ASCII, stable under NFKC, not flagged
	classIgnore        // ignorable (removed by fold), stable under NFKC
)

// runeClasses holds the class of U+0080–U+1FFFF (two bits each), built on
// first use; characters above are classified when met (rare text).
var (
	runeClasses     []byte
	runeClassesOnce sync.Once
)

const classTableEnd = 0x20000

func buildRuneClasses() {
	t := make([]byte, classTableEnd/4)
	for r := rune(0x80); r < classTableEnd; r++ {
		t[r>>2] |= classify(r) << (2 * (r & 3))
	}
	runeClasses = t
}

func runeClass(r rune) byte {
	if r < classTableEnd {
		return runeClasses[r>>2] >> (2 * (r & 3)) & 3
	}
	return classify(r)
}

// classify says how the fast scan may treat r (outside ASCII). A character
// is stable when NFKC leaves it and its neighbours alone: in NFKC already,
// of combining class 0 and never composing with a character before it.
func classify(r rune) byte {
	if !utf8.ValidRune(r) || r < utf8.RuneSelf {
		return classSlow
	}
	s := string(r)
	p := norm.NFKC.PropertiesString(s)
	stable := norm.NFKC.IsNormalString(s) && p.CCC() == 0 && p.BoundaryBefore()
	switch {
	case !stable:
		return classSlow
	case ignorable(r):
		return classIgnore
	case unicode.IsSpace(r), slices.Contains([]rune{'\u2018', '\u2019', '\u02BC', '\u2032', '\u201C', '\u201D'}, r),
		unicode.ToLower(r) < utf8.RuneSelf, mayBeInvisible(s), variationSelector(r):
		return classSlow
	}
	return classInert
}

const highBits = 0x8080808080808080

// inertRuns reports whether every character of s outside ASCII is inert,
// or ignorable in a run of characters outside ASCII that begins with an
// inert one (folding then leaves that run's bytes between the ASCII on
// each side) and that invisible finds nothing in.
func inertRuns(s []byte) bool {
	runeClassesOnce.Do(buildRuneClasses)
	for i := 0; ; {
		// Skip ASCII 32 bytes at a time, then eight (in text with accents or
		// other scripts, a character outside ASCII is seldom 32 bytes off),
		// then byte by byte.
		for i+32 <= len(s) && (binary.LittleEndian.Uint64(s[i:])|binary.LittleEndian.Uint64(s[i+8:])|
			binary.LittleEndian.Uint64(s[i+16:])|binary.LittleEndian.Uint64(s[i+24:]))&highBits == 0 {
			i += 32
		}
		for i+8 <= len(s) && binary.LittleEndian.Uint64(s[i:])&highBits == 0 {
			i += 8
		}
		for i < len(s) && s[i] < utf8.RuneSelf {
			i++
		}
		if i >= len(s) {
			return true
		}
		start, ignored := i, false
		for i < len(s) && s[i] >= utf8.RuneSelf {
			r, n := decodeRune(s, i)
			if r == utf8.RuneError && n == 1 {
				return false
			}
			switch runeClass(r) {
			case classSlow:
				return false
			case classIgnore:
				if i == start {
					return false // a string may begin here: invisible judges it there
				}
				ignored = true
			}
			i += n
		}
		if ignored {
			// invisible starts afresh at an ASCII character: the run with
			// the characters on each side is judged as in any string.
			from, to := max(start-1, 0), min(i+1, len(s))
			if _, _, bad := invisible(string(s[from:to])); bad {
				return false
			}
		}
	}
}

// decodeRune is utf8.DecodeRune(s[i:]) for s[i] outside ASCII, with the
// two- and three-byte sequences of most scripts decoded here: the
// library's general path cost a third of inertRuns on text in French or
// Japanese. Anything else (four bytes, an invalid sequence) is the
// library's.
func decodeRune(s []byte, i int) (rune, int) {
	if i+2 < len(s) {
		c, c1, c2 := s[i], s[i+1], s[i+2]
		switch {
		case c >= 0xC2 && c < 0xE0 && c1&0xC0 == 0x80:
			return rune(c&0x1F)<<6 | rune(c1&0x3F), 2
		case c >= 0xE0 && c < 0xF0 && c1&0xC0 == 0x80 && c2&0xC0 == 0x80 &&
			(c != 0xE0 || c1 >= 0xA0) && (c != 0xED || c1 < 0xA0): // no overlong form, no surrogate
			return rune(c&0x0F)<<12 | rune(c1&0x3F)<<6 | rune(c2&0x3F), 3
		}
	}
	return utf8.DecodeRune(s[i:])
}
