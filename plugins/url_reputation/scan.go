package urlreputation

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// rawURL is a URL as found in a string, before its host is normalised.
type rawURL struct {
	scheme string // lower-case: the configured scheme it was found under
	host   string // as written: no user info, no port; brackets kept on IPv6
	port   string
	rest   string // path, query and fragment as written
	// whole says the string it was found in is this URL and nothing else
	// (an argument holding a URL, a resource URI), not free text.
	whole bool
}

// schemeFinder finds URLs of its schemes (lower-case) in strings.
type schemeFinder []string

// scan calls visit for every URL in s. It reads s the way a fetcher reads a
// URL, not the way a strict URI parser does: schemes in any case and glued
// to the text before them ("seeHTTPS://"), any run of '/' and '\' after the
// scheme (or none), user info before the last '@', and hosts in any Unicode
// spelling (full-width letters, ideographic dots, percent-escapes): the
// host is normalised later by mcpparse.CanonicalHost. A string that is a
// URL on its own has its tabs and line breaks removed first, as WHATWG URL
// parsers do, so "https://ev\nil.com" is found as evil.com.
func (sf schemeFinder) scan(s string, visit func(rawURL)) {
	w, whole := sf.whole(s)
	if whole {
		s = w
	}
	for i := 0; i < len(s); {
		j := strings.IndexByte(s[i:], ':')
		if j < 0 {
			return
		}
		colon := i + j
		i = colon + 1
		scheme := sf.schemeBefore(s, colon)
		if scheme == "" {
			continue
		}
		u, end, ok := parseAuthority(s, colon+1)
		if !ok {
			continue
		}
		u.scheme = scheme
		u.whole = whole && colon == len(scheme) && !strings.ContainsAny(s, " \"'<>")
		visit(u)
		i = end
	}
}

// whole reports whether s, trimmed of the C0 controls and spaces WHATWG
// parsers trim and without the tabs and line breaks they remove anywhere
// (the scheme included: "ht\ttps:" is "https:"), starts with one of the
// schemes, and returns it so cleaned.
func (sf schemeFinder) whole(s string) (string, bool) {
	t := strings.TrimFunc(s, func(r rune) bool { return r <= ' ' })
	if strings.ContainsAny(t, "\t\r\n") {
		t = strings.NewReplacer("\t", "", "\r", "", "\n", "").Replace(t)
	}
	c := strings.IndexByte(t, ':')
	if c <= 0 {
		return "", false
	}
	for _, sc := range sf {
		if strings.EqualFold(t[:c], sc) {
			return t, true
		}
	}
	return "", false
}

// schemeBefore returns the configured scheme that the scheme-like run of
// characters ending at s[colon] ends with, or "".
func (sf schemeFinder) schemeBefore(s string, colon int) string {
	b := colon
	for b > 0 && isSchemeByte(s[b-1]) {
		b--
	}
	run := s[b:colon]
	for _, sc := range sf {
		if len(run) >= len(sc) && strings.EqualFold(run[len(run)-len(sc):], sc) {
			return sc
		}
	}
	return ""
}

// parseAuthority reads the authority and the rest of a URL whose scheme's
// colon is just before s[p]. It returns where the URL ends.
func parseAuthority(s string, p int) (rawURL, int, bool) {
	for p < len(s) && (s[p] == '/' || s[p] == '\\') {
		p++
	}
	end := authorityEnd(s, p)
	auth := s[p:end]
	if at := strings.LastIndexByte(auth, '@'); at >= 0 {
		auth = auth[at+1:]
	}
	var u rawURL
	if strings.HasPrefix(auth, "[") {
		k := strings.IndexByte(auth, ']')
		if k < 0 {
			u.host = auth // refused by CanonicalHost: unclosed [
		} else {
			u.host, auth = auth[:k+1], auth[k+1:]
			u.port = strings.TrimPrefix(auth, ":")
		}
	} else if k := strings.IndexByte(auth, ':'); k >= 0 {
		u.host, u.port = auth[:k], auth[k+1:]
	} else {
		u.host = auth
	}
	if u.host == "" {
		return rawURL{}, end, false
	}
	rend := restEnd(s, end)
	u.rest = s[end:rend]
	return u, rend, true
}

// authorityEnd returns where the authority starting at s[p] ends: at a
// path, query or fragment delimiter, or at a character that cannot be part
// of a host as text writes one (space, quote, bracket, punctuation — save
// the Unicode full stops that IDNA maps to '.').
func authorityEnd(s string, p int) int {
	for i := p; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c <= ' ' || c == 0x7f || strings.IndexByte("/\\?#\"'<>`(){}|^,;!*", c) >= 0 {
				return i
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError || unicode.IsSpace(r) || unicode.IsControl(r) || unicode.IsPunct(r) && !isDotVariant(r) {
			return i
		}
		i += size
	}
	return len(s)
}

// isDotVariant reports the full stops UTS #46 maps to '.'.
func isDotVariant(r rune) bool { return r == '\u3002' || r == '\uff0e' || r == '\uff61' }

// restEnd returns where the path, query and fragment starting at s[p] end:
// at a space, quote or angle bracket, less the punctuation that ends a
// sentence around a URL.
func restEnd(s string, p int) int {
	if p >= len(s) || strings.IndexByte("/\\?#", s[p]) < 0 {
		return p
	}
	e := p
	for e < len(s) {
		c := s[e]
		if c < utf8.RuneSelf {
			if c <= ' ' || c == 0x7f || strings.IndexByte("\"'<>`", c) >= 0 {
				break
			}
			e++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[e:])
		if r == utf8.RuneError || unicode.IsSpace(r) {
			break
		}
		e += size
	}
	for e > p && strings.IndexByte(".,;:!?", s[e-1]) >= 0 {
		e--
	}
	if e > p && s[e-1] == ')' && !strings.Contains(s[p:e], "(") {
		e--
	}
	return e
}
