package piifilter

import (
	"net/netip"
	"strings"

	"github.com/mcp-extproc/mcp-extproc/plugins/internal/anchors"
)

// scanIPv6 appends to out every IPv6 address in s, in any form net/netip accepts
// without a zone (full, compressed with "::", IPv4-embedded). Candidates are
// runs of hex digits, ':' and '.' holding at least two colons and a decimal
// digit, standing apart from words, so C++ scopes ("std::map", "a::b"), times
// ("10:30:00") and MAC addresses are not taken for addresses.
func scanIPv6(s string, out *[]finding) {
	for i := 0; i < len(s); {
		c := strings.IndexByte(s[i:], ':')
		if c < 0 {
			return
		}
		i += c
		start := i
		for start > 0 && isIPv6Byte(s[start-1]) {
			start--
		}
		end := i
		colons := 0
		for end < len(s) && isIPv6Byte(s[end]) {
			if s[end] == ':' {
				colons++
			}
			end++
		}
		i = end
		for end > start && s[end-1] == '.' {
			end--
		}
		for start < end && s[start] == '.' {
			start++
		}
		if colons < 2 || end-start < 3 || !hasDigit(s[start:end]) ||
			start > 0 && anchors.IsWordByte(s[start-1]) || end < len(s) && anchors.IsWordByte(s[end]) {
			continue
		}
		if !plausibleIPv6(s[start:end], colons) {
			continue
		}
		addr, err := netip.ParseAddr(s[start:end])
		if err != nil || !addr.Is6() || addr.IsUnspecified() {
			continue
		}
		*out = append(*out, finding{start: start, end: end, typ: TypeIPAddress})
	}
}

func isIPv6Byte(c byte) bool {
	return anchors.IsDigit(c) || 'a' <= c|0x20 && c|0x20 <= 'f' || c == ':' || c == '.'
}

// plausibleIPv6 dismisses, without the cost of a parse error, candidates
// that cannot be addresses: eight groups, or fewer with one "::", of at most
// four hex digits (the last may be an embedded IPv4 address).
func plausibleIPv6(c string, colons int) bool {
	compressed := strings.Contains(c, "::")
	dotted := strings.IndexByte(c, '.') >= 0
	switch {
	case compressed && colons > 8, !compressed && dotted && colons != 6, !compressed && !dotted && colons != 7:
		return false
	}
	run := 0
	for i := 0; i < len(c); i++ {
		if c[i] == ':' {
			run = 0
		} else if run++; run > 4 && !dotted {
			return false
		}
	}
	return true
}
