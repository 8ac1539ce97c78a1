package mcpparse

import (
	"errors"
	"testing"
)

func TestCanonicalHost(t *testing.T) {
	cases := []struct {
		in, want string
		bad      bool
	}{
		{in: "evil.com", want: "evil.com"},
		{in: "EVIL.COM.", want: "evil.com"},
		{in: "ｅｖｉｌ．ｃｏｍ", want: "evil.com"},         // full-width letters and full stop
		{in: "evil。com", want: "evil.com"},         // ideographic full stop
		{in: "evil｡com", want: "evil.com"},         // half-width ideographic full stop
		{in: "%65vil.com", want: "evil.com"},       // percent-encoded ASCII
		{in: "%EF%BD%85vil.com", want: "evil.com"}, // percent-encoded full-width e
		{in: "bücher.example", want: "xn--bcher-kva.example"},
		{in: "XN--BCHER-KVA.example", want: "xn--bcher-kva.example"},
		{in: "ex\u00adample.com", want: "example.com"}, // soft hyphen is mapped away
		{in: "under_score.local", want: "under_score.local"},
		{in: "127.0.0.1", want: "127.0.0.1"},
		{in: "2130706433", want: "127.0.0.1"},
		{in: "0x7f.1", want: "127.0.0.1"},
		{in: "0177.0.0.01", want: "127.0.0.1"},
		{in: "127.1", want: "127.0.0.1"},
		{in: "127.0.0.1.", want: "127.0.0.1"},
		{in: "[::1]", want: "::1"},
		{in: "0:0::1", want: "::1"},
		{in: "[::ffff:127.0.0.1]", want: "127.0.0.1"},
		{in: "[::ffff:7f00:1]", want: "127.0.0.1"},
		{in: "", want: ""},
		{in: "256.0.0.1", bad: true},
		{in: "1.2.3.4.5", bad: true},
		{in: "4294967296", bad: true},
		{in: "09.1.1.1", bad: true}, // 09 is not octal
		{in: "a.b.0x", bad: true},   // ends in a number, but a and b are not numbers
		{in: "evil%2fcom", bad: true},
		{in: "%zz.com", bad: true},
		{in: "%ff.com", bad: true},
		{in: "ev il.com", bad: true},
		{in: "[::1", bad: true},
		{in: "[fe80::1%25eth0]", bad: true},
		{in: "xn--a.com", bad: true},    // not valid punycode
		{in: "a\u200db.com", bad: true}, // ZWJ outside a joining context
		{in: ".", bad: true},
	}
	for _, c := range cases {
		got, err := CanonicalHost(c.in)
		if c.bad {
			if err == nil {
				t.Errorf("CanonicalHost(%q) = %q, want an error", c.in, got)
			} else if !errors.Is(err, ErrHost) {
				t.Errorf("CanonicalHost(%q) error %v does not wrap ErrHost", c.in, err)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("CanonicalHost(%q) = %q, %v; want %q", c.in, got, err, c.want)
		}
	}
}

func FuzzCanonicalHost(f *testing.F) {
	for _, s := range []string{"evil.com", "ｅｖｉｌ。com", "0x7f.1", "[::1]", "%65.com", "xn--bcher-kva.de"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		h, err := CanonicalHost(s)
		if err != nil {
			return
		}
		// A canonical host is a fixed point.
		h2, err := CanonicalHost(h)
		if err != nil || h2 != h {
			t.Fatalf("CanonicalHost(%q) = %q, but CanonicalHost(%q) = %q, %v", s, h, h, h2, err)
		}
	})
}
