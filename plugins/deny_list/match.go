package denylist

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// word is one denied word, prepared for matching.
type word struct {
	text   string // as configured, for violation details
	needle string // what is searched: text, or its case fold
	// Whether a match must not continue a word before / after it: only
	// when the word itself starts / ends with a word character.
	boundBefore, boundAfter bool
}

func newWord(text string, fold bool) word {
	w := word{text: text, needle: text}
	if fold {
		w.needle = string(appendFold(nil, text))
	}
	first, _ := utf8.DecodeRuneInString(w.needle)
	last, _ := utf8.DecodeLastRuneInString(w.needle)
	w.boundBefore, w.boundAfter = isWordRune(first), isWordRune(last)
	return w
}

// find reports whether w occurs in s (already folded if w is); with
// wholeWord, only where it stands as a word of its own.
func (w *word) find(s string, wholeWord bool) bool {
	for from := 0; from <= len(s)-len(w.needle); {
		i := strings.Index(s[from:], w.needle)
		if i < 0 {
			return false
		}
		i += from
		if !wholeWord || w.standsAlone(s, i) {
			return true
		}
		_, size := utf8.DecodeRuneInString(s[i:])
		from = i + size
	}
	return false
}

// standsAlone reports whether the match of w at s[i:] is not part of a
// longer word.
func (w *word) standsAlone(s string, i int) bool {
	if w.boundBefore && i > 0 {
		if r, _ := utf8.DecodeLastRuneInString(s[:i]); isWordRune(r) {
			return false
		}
	}
	if end := i + len(w.needle); w.boundAfter && end < len(s) {
		if r, _ := utf8.DecodeRuneInString(s[end:]); isWordRune(r) {
			return false
		}
	}
	return true
}

// isWordRune reports whether r can be part of a word: letters (any script),
// digits, combining marks and '_'.
func isWordRune(r rune) bool {
	if r < utf8.RuneSelf {
		return r == '_' || '0' <= r && r <= '9' || 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z'
	}
	return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r)
}

// appendFold appends s with every character replaced by the smallest
// character of its Unicode simple case-folding orbit, so that two strings
// equal under case folding (Σ, σ and ς; K, k and the Kelvin sign) fold to
// the same bytes. ASCII letters fold to upper case.
func appendFold(dst []byte, s string) []byte {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if 'a' <= c && c <= 'z' {
				c -= 'a' - 'A'
			}
			dst = append(dst, c)
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		dst = utf8.AppendRune(dst, foldRune(r))
		i += size
	}
	return dst
}

// foldRune returns the smallest rune of r's simple folding orbit.
func foldRune(r rune) rune {
	m := r
	for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
		m = min(m, f)
	}
	return m
}
