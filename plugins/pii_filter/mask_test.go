package piifilter

import (
	"regexp"
	"testing"
)

func maskText(t *testing.T, cfg Config, text string) string {
	t.Helper()
	p, err := New("t", cfg)
	if err != nil {
		t.Fatal(err)
	}
	return p.masker.apply(text, p.det.find(text, nil))
}

func TestMaskStrategies(t *testing.T) {
	text := "SSN 123-45-6789, card 4111 1111 1111 1111, mail john@example.com, call (555) 123-4567, host 192.168.10.20, v6 2001:db8::1"
	tests := []struct {
		strategy MaskStrategy
		want     string // exact, or a regular expression when re is set
		re       bool
	}{
		{MaskRedact, "SSN [REDACTED], card [REDACTED], mail [REDACTED], call [REDACTED], host [REDACTED], v6 [REDACTED]", false},
		{MaskPartial, "SSN ***-**-6789, card ****-****-****-1111, mail j***@example.com, call (***) ***-4567, host 192.168.*.*, v6 2001:0db8:*", false},
		{MaskHash, `^SSN \[HASH:01a54629\], card \[HASH:[0-9a-f]{8}\], mail \[HASH:[0-9a-f]{8}\], call \[HASH:[0-9a-f]{8}\], host \[HASH:[0-9a-f]{8}\], v6 \[HASH:[0-9a-f]{8}\]$`, true},
		{MaskTokenize, `^SSN \[TOKEN:[0-9a-f]{16}\], card \[TOKEN:[0-9a-f]{16}\], mail \[TOKEN:[0-9a-f]{16}\], call \[TOKEN:[0-9a-f]{16}\], host \[TOKEN:[0-9a-f]{16}\], v6 \[TOKEN:[0-9a-f]{16}\]$`, true},
		{MaskRemove, "SSN , card , mail , call , host , v6 ", false},
	}
	for _, tt := range tests {
		t.Run(string(tt.strategy), func(t *testing.T) {
			c := DefaultConfig()
			c.MaskStrategy = tt.strategy
			got := maskText(t, c, text)
			if tt.re && !regexp.MustCompile(tt.want).MatchString(got) || !tt.re && got != tt.want {
				t.Fatalf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestRedactionText(t *testing.T) {
	c := DefaultConfig()
	c.RedactionText = "[PII_REDACTED]"
	if got := maskText(t, c, "a@b.com"); got != "[PII_REDACTED]" {
		t.Fatal(got)
	}
}

func TestPartialOtherTypes(t *testing.T) {
	tests := []struct{ typ, in, want string }{
		{TypePhone, "+44 20 7946 0958", "+** ** **** 0958"},
		{TypeAWSKey, "AKIAIOSFODNN7EXAMPLE", "****************MPLE"},
		{"custom", "EMP123", "******"}, // too short to keep anything
		{"custom", "José García 1234", "**** ****** 1234"},
		{TypeIPAddress, "10.0.0.1", "10.0.*.*"},
		{TypeEmail, "élodie@example.fr", "é***@example.fr"},
	}
	for _, tt := range tests {
		if got := partial(tt.typ, tt.in); got != tt.want {
			t.Errorf("partial(%s, %q) = %q, want %q", tt.typ, tt.in, got, tt.want)
		}
	}
}

func TestTokenizeIsStablePerInstance(t *testing.T) {
	c := DefaultConfig()
	c.MaskStrategy = MaskTokenize
	p1, _ := New("a", c)
	p2, _ := New("b", c)
	a := p1.masker.mask(TypeEmail, "x@y.com", MaskTokenize)
	if b := p1.masker.mask(TypeEmail, "x@y.com", MaskTokenize); a != b {
		t.Fatalf("same value, two tokens: %s %s", a, b)
	}
	if b := p1.masker.mask(TypeEmail, "z@y.com", MaskTokenize); a == b {
		t.Fatalf("two values, one token: %s", a)
	}
	if b := p2.masker.mask(TypeEmail, "x@y.com", MaskTokenize); a == b {
		t.Fatalf("tokens are linkable across instances: %s", a)
	}
	// hash, unlike tokenize, is the same everywhere.
	if p1.masker.mask(TypeSSN, "123-45-6789", MaskHash) != p2.masker.mask(TypeSSN, "123-45-6789", MaskHash) {
		t.Fatal("hash differs across instances")
	}
}

func TestCustomPatternMaskStrategy(t *testing.T) {
	c := DefaultConfig()
	c.CustomPatterns = []CustomPattern{{Type: "employee_id", Pattern: `EMP\d{6}`, MaskStrategy: MaskPartial}}
	if got := maskText(t, c, "EMP123456 and a@b.com"); got != "*****3456 and [REDACTED]" {
		t.Fatal(got)
	}
}
