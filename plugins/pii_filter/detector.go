package piifilter

import (
	"cmp"
	"regexp"
	"slices"
)

// The built-in PII types, as they appear in logs, metadata and violation
// details. Custom patterns add their own.
const (
	TypeSSN           = "ssn"
	TypeCreditCard    = "credit_card"
	TypeEmail         = "email"
	TypePhone         = "phone"
	TypeIPAddress     = "ip_address"
	TypeAWSKey        = "aws_key"
	TypeAPIKey        = "api_key"
	TypeDateOfBirth   = "date_of_birth"
	TypePassport      = "passport"
	TypeDriverLicense = "driver_license"
	TypeBankAccount   = "bank_account"
	TypeMedicalRecord = "medical_record"
	TypeBSN           = "bsn"
)

// finding is one detected value in a string: its bounds, type, and the mask
// strategy of its custom pattern ("" for the plugin's).
type finding struct {
	start, end int
	typ        string
	strategy   MaskStrategy
}

// detector finds PII in a string. It is immutable once built and safe for
// concurrent use.
type detector struct {
	numbers   numberKinds
	email     bool
	ipv6      bool
	rules     []labelledRule
	anchors   *anchorSet
	custom    []customRule
	whitelist []*regexp.Regexp
}

type customRule struct {
	typ      string
	re       *regexp.Regexp
	value    int // index of the group named value, or -1 for the whole match
	strategy MaskStrategy
}

func newDetector(c *Config) *detector {
	d := &detector{
		numbers: numberKinds{ssn: c.DetectSSN, card: c.DetectCreditCard, phone: c.DetectPhone, ipv4: c.DetectIPAddress},
		email:   c.DetectEmail,
		ipv6:    c.DetectIPAddress,
		rules:   labelledRules(c),
		anchors: newAnchorSet(),
	}
	for i, r := range d.rules {
		for _, k := range r.keywords {
			d.anchors.add(k, true, i)
		}
		for _, p := range r.prefixes {
			d.anchors.add(p, false, i)
		}
	}
	return d
}

// find appends to out the PII in s, in order and without overlaps (where
// two findings overlap, the one that starts first, then the longer, wins),
// leaving out whitelisted values.
func (d *detector) find(s string, out []finding) []finding {
	base := len(out)
	if d.numbers.any() {
		scanNumbers(s, d.numbers, &out)
	}
	if d.email {
		scanEmails(s, &out)
	}
	if d.ipv6 {
		scanIPv6(s, &out)
	}
	d.anchors.scan(s, func(rule, start, end int) int {
		r := &d.rules[rule]
		vs, ve, ok := r.match(s, start, end)
		if !ok {
			return 0
		}
		out = append(out, finding{start: vs, end: ve, typ: r.typ})
		return ve
	})
	for _, cr := range d.custom {
		for _, m := range cr.re.FindAllStringSubmatchIndex(s, -1) {
			start, end := m[0], m[1]
			if cr.value >= 0 {
				start, end = m[2*cr.value], m[2*cr.value+1]
			}
			if start < end {
				out = append(out, finding{start: start, end: end, typ: cr.typ, strategy: cr.strategy})
			}
		}
	}
	found := out[base:]
	if len(found) == 0 {
		return out
	}
	if len(d.whitelist) > 0 {
		found = slices.DeleteFunc(found, func(f finding) bool { return d.whitelisted(s[f.start:f.end]) })
	}
	slices.SortStableFunc(found, func(a, b finding) int {
		return cmp.Or(cmp.Compare(a.start, b.start), cmp.Compare(b.end, a.end))
	})
	kept := found[:0]
	for _, f := range found {
		if len(kept) > 0 && f.start < kept[len(kept)-1].end {
			continue
		}
		kept = append(kept, f)
	}
	return out[:base+len(kept)]
}

func (d *detector) whitelisted(v string) bool {
	for _, re := range d.whitelist {
		if re.MatchString(v) {
			return true
		}
	}
	return false
}
