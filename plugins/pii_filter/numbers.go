package piifilter

import (
	"strings"

	"github.com/mcp-extproc/mcp-extproc/plugins/internal/anchors"
)

// Numbers written by people — social security numbers, card numbers, phone
// numbers, IPv4 addresses — are found by one scanner rather than one regular
// expression each: it cuts the text into number spans (groups of digits
// joined by a space, '-', '.', or parentheses, optionally after '+' or '('),
// then classifies runs of groups inside a span by their shape and validates
// them (area numbers, Luhn, octet ranges). A span glued to a word
// ("v1.2.3.4", "abc123-45-6789", a UUID) is skipped whole, and a match must
// take whole groups and end where the span ends or at a space, so
// "1.2.3.4.5" is no IP address and "4111-1111-1111-1111-2" no card.

// numberKinds says which number types to look for.
type numberKinds struct {
	ssn, card, phone, ipv4 bool
}

func (k numberKinds) any() bool { return k.ssn || k.card || k.phone || k.ipv4 }

// group is one run of digits in a span; sep is what joins it to the group
// before it ("" for the first).
type group struct {
	start, end int
	sep        string
}

func (g group) len() int { return g.end - g.start }

// span is a number span being classified.
type span struct {
	s      string
	prefix int // start of a '+' or '(' before the first group, else -1
	plus   bool
	groups []group
	usable int // groups a match may take: the last one is excluded when glued to a word
}

// scanNumbers appends to out every number of the enabled kinds in s.
func scanNumbers(s string, k numberKinds, out *[]finding) {
	var buf [24]group
	for i := 0; i < len(s); {
		// Eight bytes none of which is a digit, '(' or '+' (all in
		// '('..'9') cannot start a span: skip them at once.
		for i+8 <= len(s) && anchors.InRange(anchors.Load8(s, i), '(', '9') == 0 {
			i += 8
		}
		if i >= len(s) {
			break
		}
		c := s[i]
		if !numberStart[c] || !anchors.IsDigit(c) && (i+1 == len(s) || !anchors.IsDigit(s[i+1])) {
			i++
			continue
		}
		if gluedBefore(s, i) {
			// Part of a word or of a longer dotted/dashed token: skip the word.
			i++
			for i < len(s) && anchors.IsWordByte(s[i]) {
				i++
			}
			continue
		}
		sp := readSpan(s, i, buf[:0])
		sp.classify(k, out)
		i = sp.groups[len(sp.groups)-1].end
	}
}

// numberStart marks the bytes a number span can start with.
var numberStart = func() (t [256]bool) {
	for _, c := range "0123456789+(" {
		t[c] = true
	}
	return t
}()

// gluedBefore reports whether a number starting at i continues a word or a
// token such as a version ("1.2") or an id ("a716-4466").
func gluedBefore(s string, i int) bool {
	if i == 0 {
		return false
	}
	p := s[i-1]
	if anchors.IsWordByte(p) {
		return true
	}
	return (p == '.' || p == '-' || p == ':' || p == '/') && i >= 2 && anchors.IsDigit(s[i-2])
}

// readSpan reads the number span that starts at i.
func readSpan(s string, i int, groups []group) span {
	sp := span{s: s, prefix: -1}
	if s[i] == '+' || s[i] == '(' {
		sp.prefix, sp.plus = i, s[i] == '+'
		i++
	}
	sep := ""
	for {
		start := i
		for i < len(s) && anchors.IsDigit(s[i]) {
			i++
		}
		groups = append(groups, group{start, i, sep})
		j := i
		for j < len(s) && j-i < 3 && strings.IndexByte(" -.()", s[j]) >= 0 {
			j++
		}
		if j == i || j >= len(s) || !anchors.IsDigit(s[j]) || !validSeparator(s[i:j]) || len(groups) == 64 {
			break
		}
		sep, i = s[i:j], j
	}
	sp.groups = groups
	sp.usable = len(groups)
	if last := groups[len(groups)-1]; last.end < len(s) && (anchors.IsWordByte(s[last.end]) || s[last.end] == '@') {
		sp.usable--
	}
	return sp
}

// validSeparator lists how people join the groups of one number.
func validSeparator(sep string) bool {
	switch sep {
	case " ", "-", ".", "(", ")", ") ", ")-", " (", "-(", " - ":
		return true
	}
	return false
}

// boundary reports whether a match may start at group k (or end before it):
// at the span's edges, or where the separator holds a space.
func (sp *span) boundary(k int) bool {
	return k == 0 || k >= len(sp.groups) || strings.IndexByte(sp.groups[k].sep, ' ') >= 0
}

// classify finds matches in the span, left to right, most specific shape
// first. Only a phone number may start with the span's '+' or '('.
func (sp *span) classify(k numberKinds, out *[]finding) {
	for g := 0; g < sp.usable; {
		if !sp.boundary(g) {
			g++
			continue
		}
		bare := g > 0 || sp.prefix < 0
		t, n := "", 0
		if bare && k.ipv4 {
			t, n = TypeIPAddress, sp.ipv4(g)
		}
		if n == 0 && bare && k.ssn {
			t, n = TypeSSN, sp.ssn(g)
		}
		if n == 0 && bare && k.card {
			t, n = TypeCreditCard, sp.card(g)
		}
		if n == 0 && k.phone {
			t, n = TypePhone, sp.phone(g)
		}
		if n == 0 {
			g++
			continue
		}
		start := sp.groups[g].start
		if g == 0 && sp.prefix >= 0 {
			start = sp.prefix
		}
		*out = append(*out, finding{start: start, end: sp.groups[g+n-1].end, typ: t})
		g += n
	}
}

// fits reports whether groups g..g+n-1 can form a match: inside the usable
// groups, ending at a boundary.
func (sp *span) fits(g, n int) bool { return g+n <= sp.usable && sp.boundary(g+n) }

// sameSep reports whether the groups after g, up to g+n-1, are all joined by
// one of the given separators (the same one throughout).
func (sp *span) sameSep(g, n int, allowed ...string) bool {
	if n == 1 {
		return true
	}
	sep := sp.groups[g+1].sep
	for i := g + 2; i < g+n; i++ {
		if sp.groups[i].sep != sep {
			return false
		}
	}
	for _, a := range allowed {
		if sep == a {
			return true
		}
	}
	return false
}

func (sp *span) lens(g int, want ...int) bool {
	if !sp.fits(g, len(want)) {
		return false
	}
	for i, w := range want {
		if sp.groups[g+i].len() != w {
			return false
		}
	}
	return true
}

func (sp *span) digits(g, n int) string {
	var b strings.Builder
	for i := g; i < g+n; i++ {
		b.WriteString(sp.s[sp.groups[i].start:sp.groups[i].end])
	}
	return b.String()
}

func (sp *span) text(g int) string { return sp.s[sp.groups[g].start:sp.groups[g].end] }

// ipv4 matches four dotted groups of at most three digits, each ≤ 255.
func (sp *span) ipv4(g int) int {
	if !sp.fits(g, 4) || !sp.sameSep(g, 4, ".") {
		return 0
	}
	for i := g; i < g+4; i++ {
		t := sp.text(i)
		if len(t) == 0 || len(t) > 3 || len(t) == 3 && t > "255" {
			return 0
		}
	}
	return 4
}

// ssn matches AAA-GG-SSSS (or with spaces) with a valid area (not 000, 666
// or 9xx), group (not 00) and serial (not 0000).
func (sp *span) ssn(g int) int {
	if !sp.lens(g, 3, 2, 4) || !sp.sameSep(g, 3, "-", " ") {
		return 0
	}
	area, grp, serial := sp.text(g), sp.text(g+1), sp.text(g+2)
	if area == "000" || area == "666" || area[0] == '9' || grp == "00" || serial == "0000" {
		return 0
	}
	return 3
}

// cardShapes are the ways card numbers are grouped: one run, 4-4-4-4,
// 4-4-4-4-N (19-digit cards), the 4-6-5 / 4-6-4 of Amex and Diners, and
// 15-, 14- and 13-digit numbers written in fours (4-4-4-3 …), which people
// write too and cpex-pii-filter finds.
var cardShapes = [][]int{{4, 4, 4, 4, 3}, {4, 4, 4, 4, 2}, {4, 4, 4, 4, 1}, {4, 4, 4, 4}, {4, 4, 4, 3}, {4, 4, 4, 2}, {4, 4, 4, 1}, {4, 6, 5}, {4, 6, 4}}

// card matches a payment card number: 13 to 19 digits in one of the usual
// shapes, starting with a major network's digit (2-6), passing Luhn.
func (sp *span) card(g int) int {
	n := 0
	if l := sp.groups[g].len(); l >= 13 && l <= 19 && sp.fits(g, 1) {
		n = 1
	} else {
		for _, shape := range cardShapes {
			if sp.lens(g, shape...) && sp.sameSep(g, len(shape), " ", "-") {
				n = len(shape)
				break
			}
		}
	}
	if n == 0 {
		return 0
	}
	d := sp.digits(g, n)
	if d[0] < '2' || d[0] > '6' || !luhn(d) {
		return 0
	}
	return n
}

// luhn reports whether the digit string passes the Luhn checksum.
func luhn(d string) bool {
	sum, double := 0, false
	for i := len(d) - 1; i >= 0; i-- {
		v := int(d[i] - '0')
		if double {
			if v *= 2; v > 9 {
				v -= 9
			}
		}
		sum += v
		double = !double
	}
	return sum%10 == 0
}

// phone matches
//   - international numbers: '+' (or "00") and 8 to 15 digits in any grouping,
//     +44 20 7946 0958, +1-555-123-4567;
//   - North American numbers: 3-3-4 groups, optionally after a country code
//     1, (555) 123-4567, 555.123.4567, 1-800-555-0199;
//   - national numbers with a trunk 0 (and no second 0) in at least two groups of 2 to 6
//     digits, 10 or 11 digits in all, 020 7946 0958.
//
// A bare run of digits is not taken for a phone number (it is more often an
// id, an amount or a timestamp).
func (sp *span) phone(g int) int {
	t := sp.text(g)
	trunk00 := len(t) >= 3 && len(t) <= 5 && t[:2] == "00" && t[2] != '0'
	if g == 0 && sp.plus || trunk00 {
		total := 0
		if trunk00 {
			total = -2 // the international call prefix is not part of the number
		}
		best := 0
		for n := 1; g+n <= sp.usable; n++ {
			total += sp.groups[g+n-1].len()
			if total > 15 {
				break
			}
			if total >= 8 && sp.boundary(g+n) && (n > 1 || sp.plus) {
				best = n
			}
		}
		return best
	}
	if g == 0 && sp.prefix >= 0 && sp.s[sp.prefix] == '(' && (len(sp.groups) < 2 || sp.groups[1].sep[0] != ')') {
		return 0 // "(555 123-4567" is not how a phone number is written
	}
	if t == "1" && sp.lens(g, 1, 3, 3, 4) {
		return 4
	}
	if sp.lens(g, 3, 3, 4) {
		return 3
	}
	if len(t) >= 2 && t[0] == '0' && t[1] != '0' {
		total := 0
		for n := 1; g+n <= sp.usable; n++ {
			l := sp.groups[g+n-1].len()
			if l < 2 || l > 6 {
				break
			}
			total += l
			if total > 11 {
				break
			}
			if n >= 2 && total >= 10 && sp.boundary(g+n) {
				return n
			}
		}
	}
	return 0
}
