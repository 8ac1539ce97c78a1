package mcpparse

import (
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/idna"
)

// ErrHost is wrapped by every error CanonicalHost returns: the host does not
// normalise, and a fetcher would read it some other way (or not at all).
var ErrHost = errors.New("host does not normalise")

// hostProfile is UTS #46 processing as the WHATWG URL standard's "domain to
// ASCII" runs it (beStrict = false): non-transitional mapping, bidi and
// joiner checks, no STD3 ASCII rules, no hyphen or DNS length checks. Go's
// net/http maps request hosts the same way (idna.Lookup), save for STD3.
var hostProfile = idna.New(
	idna.MapForLookup(),
	idna.Transitional(false),
	idna.BidiRule(),
	idna.CheckJoiners(true),
	idna.StrictDomainName(false),
	idna.CheckHyphens(false),
	idna.VerifyDNSLength(false),
)

// CanonicalHost returns a URI host in the one form fetchers resolve it to, so
// that a rule written for "evil.com" also meets "ＥＶＩＬ。com", "%65vil.com",
// "evil.com." and "xn--" spellings of the same name, and a rule written for
// 127.0.0.1 also meets "2130706433", "0x7f.1" and "[::ffff:127.0.0.1]" as a
// browser reads them. It follows the WHATWG URL host parser: percent-decode,
// UTS #46 to ASCII, refuse forbidden code points, parse a name that ends in a
// number as IPv4. A trailing dot is dropped (resolvers treat "evil.com." as
// "evil.com"). IPv6 literals, with or without brackets, come back in their
// canonical text form without brackets. An empty host is returned as "".
//
// A host that does not normalise is an error wrapping ErrHost: callers refuse
// it rather than compare a form no fetcher would use.
func CanonicalHost(host string) (string, error) {
	if host == "" {
		return "", nil
	}
	if strings.HasPrefix(host, "[") {
		if !strings.HasSuffix(host, "]") {
			return "", fmt.Errorf("%w: %q has an unclosed [", ErrHost, host)
		}
		return canonicalIPv6(host[1 : len(host)-1])
	}
	if strings.Contains(host, ":") {
		// Only an IPv6 literal has a colon, and only net/url's Hostname()
		// hands one over without its brackets.
		return canonicalIPv6(host)
	}
	decoded, err := url.PathUnescape(host)
	if err != nil {
		return "", fmt.Errorf("%w: %q has a bad percent escape", ErrHost, host)
	}
	if !utf8.ValidString(decoded) {
		return "", fmt.Errorf("%w: %q is not UTF-8 once percent-decoded", ErrHost, host)
	}
	ascii, err := hostProfile.ToASCII(decoded)
	if err != nil {
		return "", fmt.Errorf("%w: %q: %v", ErrHost, host, err)
	}
	ascii = strings.ToLower(ascii)
	for i := 0; i < len(ascii); i++ {
		if forbiddenDomainByte(ascii[i]) {
			return "", fmt.Errorf("%w: %q contains %q, which no host may", ErrHost, host, ascii[i])
		}
	}
	if ascii == "" || ascii == "." {
		return "", fmt.Errorf("%w: %q is empty once normalised", ErrHost, host)
	}
	if endsInNumber(ascii) {
		ip, err := parseWHATWGIPv4(ascii)
		if err != nil {
			return "", fmt.Errorf("%w: %q: %v", ErrHost, host, err)
		}
		return ip, nil
	}
	return strings.TrimSuffix(ascii, "."), nil
}

func canonicalIPv6(s string) (string, error) {
	a, err := netip.ParseAddr(s)
	if err != nil || !a.Is6() || a.Zone() != "" {
		return "", fmt.Errorf("%w: %q is not an IPv6 address", ErrHost, s)
	}
	// An IPv4-mapped address reaches the IPv4 host: compare it as one.
	if a.Is4In6() {
		return a.Unmap().String(), nil
	}
	return a.String(), nil
}

// forbiddenDomainByte reports the WHATWG "forbidden domain code points" that
// survive UTS #46 mapping (which already refuses most of them).
func forbiddenDomainByte(c byte) bool {
	if c <= 0x20 || c == 0x7f {
		return true
	}
	return strings.IndexByte("#%/:<>?@[\\]^|", c) >= 0
}

// endsInNumber is the WHATWG "ends in a number checker": the last label (a
// single trailing dot ignored) is all digits, or 0x followed by hex digits.
func endsInNumber(s string) bool {
	s = strings.TrimSuffix(s, ".")
	last := s[strings.LastIndexByte(s, '.')+1:]
	if last == "" {
		return false
	}
	if strings.Trim(last, "0123456789") == "" {
		return true
	}
	if strings.HasPrefix(last, "0x") {
		return strings.Trim(last[2:], "0123456789abcdef") == ""
	}
	return false
}

// parseWHATWGIPv4 reads an IPv4 address as browsers do: one to four parts,
// each decimal, octal (leading 0) or hex (0x); the last part fills the bytes
// the others leave.
func parseWHATWGIPv4(s string) (string, error) {
	s = strings.TrimSuffix(s, ".")
	parts := strings.Split(s, ".")
	if len(parts) > 4 {
		return "", errors.New("more than four numeric parts")
	}
	nums := make([]uint64, len(parts))
	for i, p := range parts {
		n, err := parseIPv4Number(p)
		if err != nil {
			return "", err
		}
		nums[i] = n
	}
	for _, n := range nums[:len(nums)-1] {
		if n > 255 {
			return "", errors.New("an IPv4 part is over 255")
		}
	}
	last := nums[len(nums)-1]
	if last >= 1<<(8*(5-len(nums))) {
		return "", errors.New("the IPv4 address is out of range")
	}
	v := last
	for i, n := range nums[:len(nums)-1] {
		v += n << (8 * (3 - i))
	}
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}).String(), nil
}

func parseIPv4Number(p string) (uint64, error) {
	if p == "" {
		return 0, errors.New("an empty IPv4 part")
	}
	base := 10
	switch {
	case strings.HasPrefix(p, "0x"):
		p, base = p[2:], 16
		if p == "" {
			return 0, nil
		}
	case len(p) > 1 && p[0] == '0':
		p, base = p[1:], 8
	}
	n, err := strconv.ParseUint(p, base, 64)
	if err != nil || n > 1<<32 {
		return 0, fmt.Errorf("%q is not an IPv4 number", p)
	}
	return n, nil
}
