package piifilter

import (
	"strings"

	"github.com/mcp-extproc/mcp-extproc/plugins/internal/anchors"
)

// scanEmails appends to out every e-mail address in s: a local part of letters,
// digits and ._%+- around an '@', and a domain of at least two labels whose
// last label (the top-level domain) has two or more letters.
func scanEmails(s string, out *[]finding) {
	for off := 0; ; {
		at := strings.IndexByte(s[off:], '@')
		if at < 0 {
			return
		}
		at += off
		off = at + 1
		start := at
		for start > 0 && isLocalByte(s[start-1]) {
			start--
		}
		for start < at && s[start] == '.' {
			start++
		}
		end := at + 1
		for end < len(s) && (anchors.IsAlnum(s[end]) || s[end] == '.' || s[end] == '-') {
			end++
		}
		for end > at+1 && (s[end-1] == '.' || s[end-1] == '-') {
			end--
		}
		if start == at || !validDomain(s[at+1:end]) {
			continue
		}
		*out = append(*out, finding{start: start, end: end, typ: TypeEmail})
		off = end
	}
}

func isLocalByte(c byte) bool {
	return anchors.IsAlnum(c) || strings.IndexByte("._%+-", c) >= 0
}

// validDomain checks the labels of an e-mail domain.
func validDomain(d string) bool {
	dot := strings.LastIndexByte(d, '.')
	if dot <= 0 {
		return false
	}
	tld := d[dot+1:]
	if len(tld) < 2 {
		return false
	}
	for i := 0; i < len(tld); i++ {
		if !anchors.IsLetter(tld[i]) {
			return false
		}
	}
	for label := range strings.SplitSeq(d, ".") {
		if label == "" || label[0] == '-' {
			return false
		}
	}
	return true
}
