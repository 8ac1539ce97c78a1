package anchors

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
	if !a.nonEmpty {
		return
	}
	for i := 0; i+1 < len(s); i++ {
		k := uint(s[i])<<8 | uint(s[i+1])
		if a.pairs[k>>6]&(1<<(k&63)) == 0 || i > 0 && wordByte[s[i-1]] {
			continue
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
				i = next - 1
				break
			}
		}
	}
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
