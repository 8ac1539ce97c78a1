package resourcefilter

import (
	"regexp/syntax"
	"strings"
)

// content_filters are matched case-insensitively, which leaves Go's regexp
// without its literal-prefix fast path: every byte of every text goes
// through the matcher. A prefilter keeps that cost for the texts that can
// match. It holds literals, one of which every match must contain (the
// longest literal of a concatenation, one per branch of an alternation), and
// looks for them in a case-folded copy of the text with strings.Contains.
//
// Folding is ASCII lower-casing plus the only two non-ASCII characters whose
// simple case folding reaches ASCII: ſ (U+017F, folds to s) and the Kelvin
// sign (U+212A, folds to k). Literals holding other non-ASCII letters get no
// prefilter, so a prefilter never rejects a text the pattern would match.

// prefilter is a necessary condition for a pattern to match; nil means none
// is known and the pattern always runs.
type prefilter struct {
	literals []string // lower-case; a match contains at least one
}

// newPrefilter derives a prefilter from a pattern as compiled.
func newPrefilter(expr string) *prefilter {
	re, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		return nil
	}
	lits := requiredLiterals(re.Simplify())
	if len(lits) == 0 {
		return nil
	}
	return &prefilter{literals: lits}
}

// mayMatch reports whether a text, folded by foldText, can match.
func (pf *prefilter) mayMatch(folded string) bool {
	if pf == nil {
		return true
	}
	for _, l := range pf.literals {
		if strings.Contains(folded, l) {
			return true
		}
	}
	return false
}

// requiredLiterals returns literals one of which every match of re
// contains, or nil.
func requiredLiterals(re *syntax.Regexp) []string {
	switch re.Op {
	case syntax.OpLiteral:
		if s, ok := foldLiteral(re.Rune); ok {
			return []string{s}
		}
	case syntax.OpCapture, syntax.OpPlus:
		return requiredLiterals(re.Sub[0])
	case syntax.OpRepeat:
		if re.Min >= 1 {
			return requiredLiterals(re.Sub[0])
		}
	case syntax.OpConcat:
		var best []string
		for _, sub := range re.Sub {
			if l := requiredLiterals(sub); shortest(l) > shortest(best) {
				best = l
			}
		}
		return best
	case syntax.OpAlternate:
		var all []string
		for _, sub := range re.Sub {
			l := requiredLiterals(sub)
			if l == nil {
				return nil
			}
			all = append(all, l...)
		}
		return all
	}
	return nil
}

func shortest(lits []string) int {
	if len(lits) == 0 {
		return 0
	}
	n := len(lits[0])
	for _, l := range lits[1:] {
		n = min(n, len(l))
	}
	return n
}

// foldLiteral lower-cases an ASCII literal; a literal with other
// characters gets no prefilter.
func foldLiteral(runes []rune) (string, bool) {
	b := make([]byte, len(runes))
	for i, r := range runes {
		if r >= 0x80 {
			return "", false
		}
		if 'A' <= r && r <= 'Z' {
			r += 'a' - 'A'
		}
		b[i] = byte(r)
	}
	return string(b), true
}

// foldText appends s, case-folded for prefilter matching, to dst.
func foldText(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'A' <= c && c <= 'Z':
			c += 'a' - 'A'
		case c == 0xC5 && i+1 < len(s) && s[i+1] == 0xBF: // ſ
			c = 's'
			i++
		case c == 0xE2 && i+2 < len(s) && s[i+1] == 0x84 && s[i+2] == 0xAA: // Kelvin sign
			c = 'k'
			i += 2
		}
		dst = append(dst, c)
	}
	return dst
}
