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
