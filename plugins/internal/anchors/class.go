package anchors

// IsDigit reports whether c is an ASCII digit.
func IsDigit(c byte) bool { return '0' <= c && c <= '9' }

// IsLetter reports whether c is an ASCII letter.
func IsLetter(c byte) bool { return 'a' <= c|0x20 && c|0x20 <= 'z' }

// IsAlnum reports whether c is an ASCII letter or digit.
func IsAlnum(c byte) bool { return IsDigit(c) || IsLetter(c) }

// IsWordByte reports whether c is in the ASCII word class of regular
// expressions (\w): a letter, a digit or '_'. An anchor starts only where
// the byte before it is not one.
func IsWordByte(c byte) bool { return wordByte[c] }

var wordByte = func() (t [256]bool) {
	for c := range 256 {
		t[c] = IsAlnum(byte(c)) || c == '_'
	}
	return t
}()

// Word-at-a-time tests (SWAR): a scan can skip eight bytes at once where
// none of them can start what it looks for.

const (
	lsb = 0x0101010101010101
	msb = 0x8080808080808080
)

// Load8 returns the eight bytes of s at i (i+8 <= len(s)), the first in
// the lowest bits. Indexing the eight-byte slice of s lets the compiler
// load the word in one instruction with one bounds check, where s[i],
// s[i+1], … of the whole string cost a check each.
func Load8(s string, i int) uint64 {
	w := s[i : i+8]
	return uint64(w[0]) | uint64(w[1])<<8 | uint64(w[2])<<16 | uint64(w[3])<<24 |
		uint64(w[4])<<32 | uint64(w[5])<<40 | uint64(w[6])<<48 | uint64(w[7])<<56
}

// InRange returns a mask with the high bit of each byte of x that lies in
// [lo, hi] (both ASCII, lo <= hi < 0x80) set, and no other bit: exact, so
// InRange(x, lo, hi) == 0 means no byte of x is in the range.
func InRange(x uint64, lo, hi byte) uint64 {
	t := x &^ msb                 // each byte's low seven bits: sums below cannot carry
	ge := t + lsb*uint64(0x80-lo) // high bit set where t >= lo
	gt := t + lsb*uint64(0x7f-hi) // high bit set where t > hi
	return ge &^ gt &^ x & msb    // and not a byte >= 0x80
}
