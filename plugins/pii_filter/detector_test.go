package piifilter

import (
	"fmt"
	"strings"
	"testing"
)

// found renders the findings of text as "type:value" strings.
func found(t *testing.T, cfg Config, text string) []string {
	t.Helper()
	d, err := cfg.compile()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, f := range d.find(text, nil) {
		out = append(out, f.typ+":"+text[f.start:f.end])
	}
	return out
}

func allOn() Config {
	c := DefaultConfig()
	c.DetectDateOfBirth, c.DetectPassport, c.DetectDriverLicense = true, true, true
	c.DetectBankAccount, c.DetectMedicalRecord, c.DetectBSN = true, true, true
	return c
}

func TestDetect(t *testing.T) {
	tests := []struct {
		name string
		text string
		want []string // nil: nothing found
	}{
		// Social security numbers.
		{"ssn dashed", "SSN: 123-45-6789.", []string{"ssn:123-45-6789"}},
		{"ssn spaced", "ssn 123 45 6789 on file", []string{"ssn:123 45 6789"}},
		{"ssn at string edges", "123-45-6789", []string{"ssn:123-45-6789"}},
		{"ssn area 000 invalid", "000-45-6789", nil},
		{"not phone: 000 prefix", "000 4567 8901 23", nil},
		{"ssn area 666 invalid", "666-45-6789", nil},
		{"ssn area 9xx invalid", "912-45-6789", nil},
		{"ssn group 00 invalid", "123-00-6789", nil},
		{"ssn mixed separators", "123-45 6789", nil},
		{"ssn glued to word", "abc123-45-6789", nil},
		{"ssn longer number", "123-45-6789-1", nil},
		{"ssn inside a uuid", "id 550e8400-e29b-41d4-a716-446655440000", nil},
		// Payment cards.
		{"card plain", "card 4111111111111111 exp", []string{"credit_card:4111111111111111"}},
		{"card dashed", "4111-1111-1111-1111", []string{"credit_card:4111-1111-1111-1111"}},
		{"card spaced", "pay with 5500 0000 0000 0004 now", []string{"credit_card:5500 0000 0000 0004"}},
		{"card amex", "amex 3782 822463 10005", []string{"credit_card:3782 822463 10005"}},
		{"card amex in fours", "amex 3782-8224-6310-005", []string{"credit_card:3782-8224-6310-005"}},
		{"not card: fours, bad checksum", "ref 3782-8224-6310-006", nil},
		{"card failing luhn", "order 4111111111111112 shipped", nil},
		{"card failing luhn dashed", "4111-1111-1111-1112", nil},
		{"card 16 digits failing luhn", "1234567812345678", nil},
		{"card wrong network digit", "ts 1700000000000 ms", nil},
		{"card mixed separators", "4111 1111-1111 1111", nil},
		{"card after other number", "qty 12 4111 1111 1111 1111", []string{"credit_card:4111 1111 1111 1111"}},
		// E-mail.
		{"email", "mail john.doe+x@example.co.uk today", []string{"email:john.doe+x@example.co.uk"}},
		{"email trailing dot", "write to a@b.io.", []string{"email:a@b.io"}},
		{"email in mailto", "<mailto:jane@example.com>", []string{"email:jane@example.com"}},
		{"not email: no tld", "user@localhost", nil},
		{"not email: numeric tld", "x@1.2.3.4", []string{"ip_address:1.2.3.4"}},
		{"not email: decorator", "@Override", nil},
		// Phones.
		{"phone uk intl", "call +44 20 7946 0958 now", []string{"phone:+44 20 7946 0958"}},
		{"phone us parens", "(555) 123-4567", []string{"phone:(555) 123-4567"}},
		{"phone us intl dashed", "+1-555-123-4567", []string{"phone:+1-555-123-4567"}},
		{"phone us intl parens", "+1 (555) 123-4567", []string{"phone:+1 (555) 123-4567"}},
		{"phone us dotted", "tel 555.123.4567", []string{"phone:555.123.4567"}},
		{"phone us with 1", "1-800-555-0199 toll free", []string{"phone:1-800-555-0199"}},
		{"phone e164 compact", "+14155552671", []string{"phone:+14155552671"}},
		{"phone national trunk", "ring 020 7946 0958", []string{"phone:020 7946 0958"}},
		{"phone 00 prefix", "0044 20 7946 0958", []string{"phone:0044 20 7946 0958"}},
		{"not phone: bare digits", "id 5551234567", nil},
		{"not phone: date", "on 2024-05-12", nil},
		{"not phone: short", "+12 345", nil},
		{"not phone: unbalanced paren", "(555 123-4567", nil},
		// IP addresses.
		{"ipv4", "host 192.168.1.1:8080", []string{"ip_address:192.168.1.1"}},
		{"ipv4 sentence end", "from 10.0.0.1.", []string{"ip_address:10.0.0.1"}},
		{"ipv4 cidr", "net 10.0.0.0/8", []string{"ip_address:10.0.0.0"}},
		{"not ipv4: octet 256", "1.2.3.256", nil},
		{"not ipv4: five parts", "version 1.2.3.4.5", nil},
		{"not ipv4: v-version", "release v1.2.3.4 out", nil},
		{"not ipv4: three parts", "v1.2.3 and 1.2.3", nil},
		{"not ipv4: glued", "lib1.2.3.4", nil},
		{"ipv6 full", "2001:0db8:85a3:0000:0000:8a2e:0370:7334", []string{"ip_address:2001:0db8:85a3:0000:0000:8a2e:0370:7334"}},
		{"ipv6 compressed", "addr fe80::1ff:fe23:4567:890a, ok", []string{"ip_address:fe80::1ff:fe23:4567:890a"}},
		{"ipv6 loopback", "[::1]:80", []string{"ip_address:::1"}},
		{"ipv6 v4 mapped", "::ffff:192.0.2.128", []string{"ip_address:::ffff:192.0.2.128"}},
		{"not ipv6: cpp", "std::vector and a::b", nil},
		{"not ipv6: time", "at 10:30:00", nil},
		{"not ipv6: mac", "00:1a:2b:3c:4d:5e", nil},
		// Keys.
		{"aws key id", "key AKIAIOSFODNN7EXAMPLE used", []string{"aws_key:AKIAIOSFODNN7EXAMPLE"}},
		{"aws sts key id", "ASIAY34FZKBOKMUTVV7A", []string{"aws_key:ASIAY34FZKBOKMUTVV7A"}},
		{"not aws key id: too long", "AKIAIOSFODNN7EXAMPLEX", nil},
		{"aws secret", "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", []string{"aws_key:wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}},
		{"aws secret json", `{"AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}`, []string{"aws_key:wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}},
		{"not aws secret: unlabelled", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", nil},
		{"api key", "api_key: sk9f8e7d6c5b4a3f2e1d0c9b8a", []string{"api_key:sk9f8e7d6c5b4a3f2e1d0c9b8a"}},
		{"api key equals quoted", `ACCESS_TOKEN="abcdefghij0123456789xyz"`, []string{"api_key:abcdefghij0123456789xyz"}},
		{"api key spaced label", "your api key abcdefghij0123456789xyz", []string{"api_key:abcdefghij0123456789xyz"}},
		{"not api key: short", "api_key: short", nil},
		{"not api key: no label", "token abcdefghij0123456789xyz", nil},
		// Labelled ContextForge types.
		{"dob", "DOB: 01/15/1985", []string{"date_of_birth:01/15/1985"}},
		{"dob iso", "date of birth is 1985-01-15", []string{"date_of_birth:1985-01-15"}},
		{"passport", "Passport No. X1234567", []string{"passport:X1234567"}},
		{"driver license", "Driver's License: D1234567", []string{"driver_license:D1234567"}},
		{"iban", "IBAN GB82 WEST 1234 5698 7654 32", []string{"bank_account:GB82 WEST 1234 5698 7654 32"}},
		{"iban bad checksum", "IBAN GB83 WEST 1234 5698 7654 32", nil},
		{"iban without its label", "wire to NL91ABNA0417164300 today", []string{"bank_account:NL91ABNA0417164300"}},
		{"not iban: unlabelled, bad checksum", "wire to NL92ABNA0417164300 today", nil},
		{"not iban: unknown country", "ref ZZ91ABNA0417164300", nil},
		{"account number", "account number: 12345678901", []string{"bank_account:12345678901"}},
		{"mrn", "MRN: A1234567", []string{"medical_record:A1234567"}},
		{"bsn", "BSN 111222333", []string{"bsn:111222333"}},
		{"bsn failing 11-check", "BSN 111222334", nil},
		// Several in one string, in order, without overlap.
		{"mixed", "SSN 123-45-6789, mail a@b.com, card 4111 1111 1111 1111, ip 10.1.2.3",
			[]string{"ssn:123-45-6789", "email:a@b.com", "credit_card:4111 1111 1111 1111", "ip_address:10.1.2.3"}},
		{"nothing", "The quick brown fox jumps over 13 lazy dogs in 2024.", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := found(t, allOn(), tt.text)
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Fatalf("find(%q)\n got %q\nwant %q", tt.text, got, tt.want)
			}
		})
	}
}

func TestDetectFlags(t *testing.T) {
	text := "123-45-6789 4111111111111111 a@b.com (555) 123-4567 10.0.0.1 ::1 AKIAIOSFODNN7EXAMPLE api_key=abcdefghij0123456789xyz"
	tests := []struct {
		name string
		off  func(*Config)
		gone []string
	}{
		{"detect_ssn", func(c *Config) { c.DetectSSN = false }, []string{TypeSSN}},
		{"detect_credit_card", func(c *Config) { c.DetectCreditCard = false }, []string{TypeCreditCard}},
		{"detect_email", func(c *Config) { c.DetectEmail = false }, []string{TypeEmail}},
		{"detect_phone", func(c *Config) { c.DetectPhone = false }, []string{TypePhone}},
		{"detect_ip_address", func(c *Config) { c.DetectIPAddress = false }, []string{TypeIPAddress}},
		{"detect_aws_keys", func(c *Config) { c.DetectAWSKeys = false }, []string{TypeAWSKey}},
		{"detect_api_keys", func(c *Config) { c.DetectAPIKeys = false }, []string{TypeAPIKey}},
	}
	all := strings.Join(found(t, DefaultConfig(), text), " ")
	for _, typ := range []string{TypeSSN, TypeCreditCard, TypeEmail, TypePhone, TypeIPAddress, TypeAWSKey, TypeAPIKey} {
		if !strings.Contains(all, typ+":") {
			t.Fatalf("defaults miss %s in %q", typ, all)
		}
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := DefaultConfig()
			tt.off(&c)
			got := strings.Join(found(t, c, text), " ")
			for _, typ := range tt.gone {
				if strings.Contains(got, typ+":") {
					t.Fatalf("%s off still finds %s: %q", tt.name, typ, got)
				}
			}
			if strings.Count(got, ":") >= strings.Count(all, ":") {
				t.Fatalf("%s off found as much as before: %q", tt.name, got)
			}
		})
	}
	// The labelled ContextForge types are off by default.
	if got := found(t, DefaultConfig(), "DOB: 01/15/1985 MRN: A1234567 BSN 111222333 Passport X1234567"); got != nil {
		t.Fatalf("labelled types on by default: %q", got)
	}
}

func TestCustomAndWhitelistPatterns(t *testing.T) {
	c := DefaultConfig()
	c.CustomPatterns = []CustomPattern{
		{Type: "employee_id", Pattern: `\bEMP\d{6}\b`},
		{Type: "badge", Pattern: `badge:\s*(?P<value>\d{5})`, MaskStrategy: MaskRemove},
	}
	c.WhitelistPatterns = []string{`^test@example\.com$`, `^555-555-5555$`, `@internal\.example$`}
	got := found(t, c, "EMP123456 badge: 12345 test@example.com bob@example.com ops@internal.example 555-555-5555")
	want := []string{"employee_id:EMP123456", "badge:12345", "email:bob@example.com"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("got %q, want %q", got, want)
	}
	off := false
	c.CustomPatterns[0].Enabled = &off
	if got := found(t, c, "EMP123456"); got != nil {
		t.Fatalf("disabled pattern still matches: %q", got)
	}
}

func FuzzDetect(f *testing.F) {
	for _, s := range []string{"SSN 123-45-6789", "+1 (555) 123-4567", "::ffff:1.2.3.4", "a@b.co", "api_key: x", "(((1", "+", "1.2.3.4.5"} {
		f.Add(s)
	}
	c := allOn()
	d, err := c.compile()
	if err != nil {
		f.Fatal(err)
	}
	m := newMasker(&Config{MaskStrategy: MaskPartial})
	f.Fuzz(func(t *testing.T, s string) {
		fs := d.find(s, nil)
		last := 0
		for _, x := range fs {
			if x.start < last || x.end <= x.start || x.end > len(s) {
				t.Fatalf("bad finding %+v in %q", x, s)
			}
			last = x.end
		}
		_ = m.apply(s, fs)
	})
}
