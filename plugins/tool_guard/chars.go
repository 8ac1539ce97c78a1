package toolguard

import (
	"fmt"
	"unicode"
	"unicode/utf8"
)

// invisible reports the first character of s that can hide text from a
// human reader or reorder what they see, with its byte offset. Characters
// that ordinary text needs are allowed where that text puts them:
//
//   - U+200D (ZWJ) between two emoji (👩‍💻, 🏳️‍🌈), and U+200C/U+200D between
//     two letters of one joining script (Persian می‌خواهم, Devanagari क्‍ष)
//     or after a virama or other mark of one (Malayalam chillu ന്‍);
//   - U+FEFF as the first character of a string (a byte order mark);
//   - tag characters inside an emoji tag sequence (🏴 + 2–7 subdivision
//     tags + CANCEL TAG, the flags of England, Scotland and Wales);
//   - one variation selector after a base character (❤️, 葛󠄀); a run of two
//     or more carries hidden data and is flagged.
func invisible(s string) (rune, int, bool) {
	var (
		prev, base rune // the previous rune, and the last one that was not a modifier
		tagRun     = -1 // tags seen after U+1F3F4; -1 outside a tag sequence
		vsPrev     bool
	)
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r < 0x80 { // fast path: ASCII has none of them
			if tagRun > 0 {
				return 0xE007F, i, true // an unterminated tag sequence
			}
			prev, base, tagRun, vsPrev = r, r, -1, false
			i += n
			continue
		}
		bad := false
		switch {
		case r >= 0xE0000 && r <= 0xE007F:
			switch {
			case tagRun >= 0 && r == 0xE007F && tagRun >= 2:
				tagRun = -1
			case tagRun >= 0 && tagRun < 7 && (r >= 0xE0030 && r <= 0xE0039 || r >= 0xE0061 && r <= 0xE007A):
				tagRun++
			default:
				bad = true
			}
		case r == 0x200C || r == 0x200D:
			next, _ := utf8.DecodeRuneInString(s[i+n:])
			bad = !(r == 0x200D && emoji(base) && emoji(next) || sameJoiningScript(prev, next) || unicode.IsMark(prev) && joiningScript(prev) != nil)
		case r == 0x200B || r == 0x2060 || r >= 0x202A && r <= 0x202E || r >= 0x2066 && r <= 0x2069:
			bad = true
		case r == 0xFEFF:
			bad = i != 0
		case variationSelector(r):
			bad = vsPrev || i == 0
		}
		if bad {
			return r, i, true
		}
		if tagRun > 0 && (r < 0xE0000 || r > 0xE007F) {
			return 0xE007F, i, true // an unterminated tag sequence
		}
		vsPrev = variationSelector(r)
		if r == 0x1F3F4 {
			tagRun = 0
		} else if tagRun == 0 && (r < 0xE0000 || r > 0xE007F) {
			tagRun = -1
		}
		if !modifier(r) {
			base = r
		}
		prev = r
		i += n
	}
	if tagRun > 0 {
		return 0xE007F, len(s), true
	}
	return 0, 0, false
}

// mayBeInvisible reports whether s begins with the UTF-8 encoding of a
// character invisible looks at (U+200B–U+200D, U+202A–U+202E, U+2060,
// U+2066–U+2069, U+FEFF, a variation selector or a tag): text with
// none of them has nothing invisible can flag. It reads bytes, decoding
// nothing.
func mayBeInvisible(s string) bool {
	if len(s) < 3 {
		return false
	}
	switch s[0] {
	case 0xE2: // U+2000–U+2FFF
		return s[1] == 0x80 && (s[2] >= 0x8B && s[2] <= 0x8D || s[2] >= 0xAA && s[2] <= 0xAE) ||
			s[1] == 0x81 && (s[2] == 0xA0 || s[2] >= 0xA6 && s[2] <= 0xA9)
	case 0xEF: // U+F000–U+FFFF
		return s[1] == 0xBB && s[2] == 0xBF || s[1] == 0xB8 && s[2] <= 0x8F
	case 0xF3: // planes 13–15: tags and supplementary variation selectors
		return s[1] == 0xA0
	}
	return false
}

func variationSelector(r rune) bool {
	return r >= 0xFE00 && r <= 0xFE0F || r >= 0xE0100 && r <= 0xE01EF
}

// modifier reports runes that extend the emoji before them: variation
// selectors, skin tones, the keycap mark and tag characters.
func modifier(r rune) bool {
	return r >= 0xFE00 && r <= 0xFE0F || r >= 0x1F3FB && r <= 0x1F3FF || r == 0x20E3 || r >= 0xE0000 && r <= 0xE007F
}

// emoji approximates Unicode's Extended_Pictographic property (which Go's
// unicode package does not carry) by the blocks it lives in.
func emoji(r rune) bool {
	switch {
	case r >= 0x1F000 && r <= 0x1FAFF, r >= 0x2190 && r <= 0x2BFF:
		return true
	}
	switch r {
	case 0x00A9, 0x00AE, 0x203C, 0x2049, 0x2122, 0x2139, 0x24C2, 0x3030, 0x303D, 0x3297, 0x3299:
		return true
	}
	return false
}

// joiningScripts are the scripts whose ordinary spelling uses ZWJ and ZWNJ.
var joiningScripts = []*unicode.RangeTable{
	unicode.Arabic, unicode.Syriac, unicode.Nko, unicode.Mongolian, unicode.Devanagari, unicode.Bengali,
	unicode.Gurmukhi, unicode.Gujarati, unicode.Oriya, unicode.Tamil, unicode.Telugu, unicode.Kannada,
	unicode.Malayalam, unicode.Sinhala, unicode.Myanmar, unicode.Khmer, unicode.Tibetan, unicode.Thaana,
}

// joiningScript returns the script of joiningScripts r belongs to, or nil.
func joiningScript(r rune) *unicode.RangeTable {
	for _, t := range joiningScripts {
		if unicode.Is(t, r) {
			return t
		}
	}
	return nil
}

// sameJoiningScript reports whether a and b are letters or marks of one
// script of joiningScripts.
func sameJoiningScript(a, b rune) bool {
	if !(unicode.IsLetter(a) || unicode.IsMark(a)) || !(unicode.IsLetter(b) || unicode.IsMark(b)) {
		return false
	}
	t := joiningScript(a)
	return t != nil && unicode.Is(t, b)
}

// describeRune names a character for an audit record: U+200B.
func describeRune(r rune) string { return fmt.Sprintf("U+%04X", r) }
