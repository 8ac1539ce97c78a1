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
//
// Only a position after a non-word byte can start an anchor, so the scan
// looks at the text eight bytes at a time, finds the non-word bytes among
// them with a few word operations (nonWord), and tries only the positions
// after those: in prose, one or two in eight.
func (a *Set) Scan(s string, found func(rule, start, end int) int) {
	if !a.nonEmpty || len(s) < 2 {
		return
	}
	// next is the first position still to try; p the first byte not yet
	// looked at as the byte before a position.
	next := 0
	if n := a.try(s, 0, found); n > 0 {
		next = n
	}
	p := max(next-1, 0)
	for p+8 <= len(s) {
		m := nonWord(Load8(s, p))
		base := p
		p += 8
		for ; m != 0; m &= m - 1 {
			i := base + bits.TrailingZeros64(m)>>3 + 1
			if i < next {
				continue
			}
			if i+1 >= len(s) {
				return
			}
			if k := uint(s[i])<<8 | uint(s[i+1]); a.pairs[k>>6]&(1<<(k&63)) == 0 {
				continue
			}
			if n := a.try(s, i, found); n > i {
				next = n
				if n-1 >= p {
					p = n - 1
					break
				}
			}
		}
	}
	// The last bytes, one at a time (i+1 < len(s): an anchor has two).
	for ; p+2 < len(s); p++ {
		i := p + 1
		if i < next || wordByte[s[p]] {
			continue
		}
		if n := a.try(s, i, found); n > i {
			next = n
			p = n - 2
		}
	}
}

// try looks for the anchors at position i of s (i+1 < len(s)) and returns
// what found returned for the first one it wanted to skip past, or 0.
func (a *Set) try(s string, i int, found func(rule, start, end int) int) int {
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
		if n := found(an.rule, i, end); n > i {
			return n
		}
	}
	return 0
}

// nonWord returns a mask with the high bit of each byte of x that is not a
// word byte (IsWordByte) set, and no other bit. It is InRange three times
// over (digits, letters folded to lower case, '_'), written out so that it
// stays small enough to be inlined into the scan's loop.
func nonWord(x uint64) uint64 {
	t := x &^ msb
	y := t | lsb*0x20
	word := (t+lsb*(0x80-'0'))&^(t+lsb*(0x7f-'9')) |
		(y+lsb*(0x80-'a'))&^(y+lsb*(0x7f-'z')) |
		(t+lsb*(0x80-'_'))&^(t+lsb*(0x7f-'_'))
	return msb &^ (word &^ x)
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
