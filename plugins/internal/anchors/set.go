package anchors

import "math/bits"

// Set is a set of anchors, each tagged with the index of the rule it
// belongs to. Each byte of a scanned string is looked up in a table of the
// anchors that start with it (and of the bytes that may follow), so a scan
// costs time linear in the text and nearly independent of how many anchors
// there are, where a regular expression per rule would scan the text once
// each.
//
// The zero Set is empty and ready to use. A Set is not safe for concurrent
// Add; once built, concurrent Scans are safe.
type Set struct {
	byFirst [256][]anchor
	// pairs is the set of the anchors' first two bytes, a bit per pair: the
	// scan's fast path dismisses almost every position with one lookup.
	pairs    [1 << 16 / 64]uint64
	nonEmpty bool
}

// anchor is one literal. A folded anchor matches ASCII case-insensitively
// (its literal is stored in lower case).
type anchor struct {
	lit  string
	fold bool
	rule int
}

// Add adds the literal lit of rule (an index of the caller's). With fold,
// lit matches ignoring ASCII case. Add panics if lit is shorter than two
// bytes: anchors are built in, not configured, so that is a programming
// error.
func (a *Set) Add(lit string, fold bool, rule int) {
	if len(lit) < 2 {
		panic("anchors: anchors have at least two bytes")
	}
	if fold {
		lit = lowerASCII(lit)
		firsts := []byte{lit[0]}
		if up := upperByte(lit[0]); up != lit[0] {
			firsts = append(firsts, up)
		}
		for _, c0 := range firsts {
			a.index(c0, lit[1], anchor{lit, true, rule})
			a.index(c0, upperByte(lit[1]), anchor{})
		}
	} else {
		a.index(lit[0], lit[1], anchor{lit, false, rule})
	}
	a.nonEmpty = true
}

// index files an anchor under its first byte (a zero anchor only adds a
// pair of first bytes).
func (a *Set) index(c0, c1 byte, an anchor) {
	if an.lit != "" {
		a.byFirst[c0] = append(a.byFirst[c0], an)
	}
	k := uint(c0)<<8 | uint(c1)
	a.pairs[k>>6] |= 1 << (k & 63)
}

// Scan calls found for every occurrence in s of every anchor that starts
// at a word boundary (the byte before it is not a word byte, see
// IsWordByte), in order of position, then of addition. found returns how
// far the scan may skip ahead (an index > start), or 0 to go on with the
// next anchor and byte.
func (a *Set) Scan(s string, found func(rule, start, end int) int) {
	if !a.nonEmpty || len(s) < 2 {
		return
	}
	// An anchor starts at 0 or just after a byte that is not a word byte,
	// so only those positions are looked at: the bytes are taken eight at
	// a time, and each non-word byte among them names the next position.
	from := 0 // found asked to go on from here
	if next := a.at(s, 0, found); next > 0 {
		from = next
	}
	for blk := 0; blk < len(s)-1; blk += 8 {
		var m uint64
		if blk+8 <= len(s) {
			m = NonWord(Load8(s, blk))
		} else {
			for b := 0; blk+b < len(s); b++ {
				if !wordByte[s[blk+b]] {
					m |= 0x80 << (8 * b)
				}
			}
		}
		for ; m != 0; m &= m - 1 {
			i := blk + bits.TrailingZeros64(m)>>3 + 1
			if i+1 >= len(s) {
				return
			}
			if i < from {
				continue
			}
			k := uint(s[i])<<8 | uint(s[i+1])
			if a.pairs[k>>6]&(1<<(k&63)) == 0 {
				continue
			}
			if next := a.at(s, i, found); next > i {
				from = next
			}
		}
	}
}

// at tries the anchors that start with s[i] at i and returns where found
// asked the scan to go on, or 0.
func (a *Set) at(s string, i int, found func(rule, start, end int) int) int {
	k := uint(s[i])<<8 | uint(s[i+1])
	if a.pairs[k>>6]&(1<<(k&63)) == 0 {
		return 0
	}
	for _, an := range a.byFirst[s[i]] {
		end := i + len(an.lit)
		if end > len(s) {
			continue
		}
		if an.fold && !equalFoldLower(s[i:end], an.lit) || !an.fold && s[i:end] != an.lit {
			continue
		}
		if next := found(an.rule, i, end); next > i {
			return next
		}
	}
	return 0
}

// equalFoldLower reports whether s equals lower (ASCII lower case) ignoring
// ASCII case.
func equalFoldLower(s, lower string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lower[i] {
			return false
		}
	}
	return true
}

func lowerASCII(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

func upperByte(c byte) byte {
	if 'a' <= c && c <= 'z' {
		return c - ('a' - 'A')
	}
	return c
}
