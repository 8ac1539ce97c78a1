package urlreputation

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestScanFindsHostsAndRests(t *testing.T) {
	sf := schemeFinder{"http", "https"}
	for _, tc := range []struct {
		in   string
		want []string // host|port|rest
	}{
		{"a https://h.com/p?q#f. b", []string{"h.com||/p?q#f"}},
		{"(see https://h.com/a_(b)) and HTTP://X.ORG:81", []string{"h.com||/a_(b))", "X.ORG|81|"}},
		{"(see https://h.com/a) and", []string{"h.com||/a"}},
		{"https://u:p@h.com:8/x", []string{"h.com|8|/x"}},
		{"https://[::1]:80/x", []string{"[::1]|80|/x"}},
		{`"https://h.com"`, []string{"h.com||"}},
		{"https://ｈ．com、次", []string{"ｈ．com||"}},
		{"no url here: none", nil},
		{"ftp://h.com", nil},
		{"https://", nil},
	} {
		var got []string
		sf.scan(tc.in, func(u rawURL) { got = append(got, u.host+"|"+u.port+"|"+u.rest) })
		if strings.Join(got, " ") != strings.Join(tc.want, " ") {
			t.Errorf("%q: got %q, want %q", tc.in, got, tc.want)
		}
	}
}

// FuzzScan: the scanner never panics, finds hosts inside the input, and
// finds every URL a plain "https://" + host spelling would give.
func FuzzScan(f *testing.F) {
	for _, s := range []string{"https://evil.com/x", "HTTPS:\\\\ｅ．com", "x:https://a@b@c:1/", "https://[::1", "http:", "\xffhttps://\xfe"} {
		f.Add(s)
	}
	sf := schemeFinder{"http", "https", "ws"}
	f.Fuzz(func(t *testing.T, s string) {
		sf.scan(s, func(u rawURL) {
			if u.host == "" {
				t.Fatalf("%q: empty host", s)
			}
			if !utf8.ValidString(s) {
				return
			}
			if _, ok := sf.whole(s); !ok && !strings.Contains(s, u.host) {
				t.Fatalf("%q: host %q is not in the input", s, u.host)
			}
		})
	})
}
