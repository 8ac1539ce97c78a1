package toolguard

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// fold appends to dst the text phrases are matched against: s in Unicode
// compatibility form (NFKC: full-width and styled letters become plain
// ones), lower-cased, with invisible and formatting characters removed (so
// a zero-width-split "ig\u200bnore" is "ignore"), typographic quotes made
// plain, and every run of white space one space.
func fold(dst []byte, s string) []byte {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			ascii = false
			break
		}
	}
	if !ascii && !norm.NFKC.IsNormalString(s) {
		s = norm.NFKC.String(s) // most text is already NFKC: no copy then
	}
	space := len(dst) > 0 && dst[len(dst)-1] == ' '
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf { // ASCII, most of any text: no decoding
			i++
			switch {
			case c == ' ' || c >= '\t' && c <= '\r':
				if !space {
					dst = append(dst, ' ')
				}
				space = true
				continue
			case c >= 'A' && c <= 'Z':
				c += 'a' - 'A'
			}
			dst = append(dst, c)
			space = false
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		i += n
		dst, space = foldRune(dst, r, space)
	}
	return dst
}

// foldRune appends the folded form of r to dst; space says whether dst
// ends in a run of white space, before and after.
func foldRune(dst []byte, r rune, space bool) ([]byte, bool) {
	switch {
	case ignorable(r):
		return dst, space
	case unicode.IsSpace(r):
		if !space {
			dst = append(dst, ' ')
		}
		return dst, true
	case r == '\u2018' || r == '\u2019' || r == '\u02BC' || r == '\u2032':
		r = '\''
	case r == '\u201C' || r == '\u201D':
		r = '"'
	}
	return utf8.AppendRune(dst, unicode.ToLower(r)), false
}

// ignorable reports characters that render as nothing: removed before
// matching, so that they cannot split a phrase.
func ignorable(r rune) bool {
	switch {
	case r == 0x00AD, r == 0x034F, r == 0x061C, r == 0x180E, r == 0xFEFF,
		r >= 0x200B && r <= 0x200F, r >= 0x202A && r <= 0x202E, r >= 0x2060 && r <= 0x206F,
		r >= 0xFE00 && r <= 0xFE0F, r >= 0xE0000 && r <= 0xE0FFF:
		return true
	}
	return false
}

// patternKind says which check a pattern belongs to.
type patternKind uint8

const (
	kindPhrase patternKind = iota // instruction-injection phrase
	kindSecret                    // reference to secret material
)

type pattern struct {
	text         string // as configured, for audit records
	kind         patternKind
	n            int  // folded length in bytes
	wordL, wordR bool // the folded pattern starts / ends with a word character
}

// matcher finds configured patterns in folded text in one pass over it (an
// Aho–Corasick automaton compiled to a DFA over byte classes), whatever the
// number of patterns. A pattern that begins or ends with a letter, digit or
// '_' matches only at a word boundary there: ".env" matches ".env" and
// ".env.local" but not "os.environ".
type matcher struct {
	class    [256]uint8
	nclass   int
	delta    []int32   // state*nclass + class → state
	out      [][]int32 // state → patterns ending here
	patterns []pattern
	folded   []string // the patterns folded, by index
}

func wordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_'
}

// newMatcher compiles the patterns; folded are their folded forms.
func newMatcher(ps []pattern, folded []string) *matcher {
	m := &matcher{patterns: ps, folded: folded}
	m.nclass = 1
	for _, f := range folded {
		for i := 0; i < len(f); i++ {
			if m.class[f[i]] == 0 {
				m.class[f[i]] = uint8(m.nclass)
				m.nclass++
			}
		}
	}
	// The trie.
	trie := [][]int32{make([]int32, m.nclass)}
	out := [][]int32{nil}
	for pi, f := range folded {
		s := int32(0)
		for i := 0; i < len(f); i++ {
			c := m.class[f[i]]
			if trie[s][c] == 0 {
				trie = append(trie, make([]int32, m.nclass))
				out = append(out, nil)
				trie[s][c] = int32(len(trie) - 1)
			}
			s = trie[s][c]
		}
		out[s] = append(out[s], int32(pi))
	}
	// Failure links, breadth first, folded into a full transition table.
	fail := make([]int32, len(trie))
	m.delta = make([]int32, len(trie)*m.nclass)
	queue := []int32{}
	for c := 0; c < m.nclass; c++ {
		if t := trie[0][c]; t != 0 {
			m.delta[c] = t
			queue = append(queue, t)
		}
	}
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		out[s] = append(out[s], out[fail[s]]...)
		for c := 0; c < m.nclass; c++ {
			if t := trie[s][c]; t != 0 {
				fail[t] = m.delta[int(fail[s])*m.nclass+c]
				m.delta[int(s)*m.nclass+c] = t
				queue = append(queue, t)
			} else {
				m.delta[int(s)*m.nclass+c] = m.delta[int(fail[s])*m.nclass+c]
			}
		}
	}
	m.out = out
	return m
}

// find returns the first pattern found in folded text t.
func (m *matcher) find(t []byte) (*pattern, bool) {
	s := int32(0)
	for i := 0; i < len(t); i++ {
		s = m.delta[int(s)*m.nclass+int(m.class[t[i]])]
		for _, pi := range m.out[s] {
			p := &m.patterns[pi]
			start := i + 1 - p.n
			if p.wordL && start > 0 && wordByte(t[start-1]) || p.wordR && i+1 < len(t) && wordByte(t[i+1]) {
				continue
			}
			return p, true
		}
	}
	return nil, false
}

// compilePatterns folds and compiles phrase and secret patterns. An entry
// that folds to nothing is an error, named by its key and index.
func compilePatterns(lists []patternList) (*matcher, error) {
	var (
		ps     []pattern
		folded []string
	)
	for _, l := range lists {
		for i, text := range l.items {
			f := strings.TrimSpace(string(fold(nil, text)))
			if f == "" {
				return nil, &configError{key: l.key, index: i}
			}
			ps = append(ps, pattern{text: text, kind: l.kind, n: len(f), wordL: wordByte(f[0]), wordR: wordByte(f[len(f)-1])})
			folded = append(folded, f)
		}
	}
	return newMatcher(ps, folded), nil
}

type patternList struct {
	key   string
	kind  patternKind
	items []string
}
