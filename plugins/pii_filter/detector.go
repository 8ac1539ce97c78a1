package piifilter

import (
	"github.com/mcp-extproc/mcp-extproc/plugins/internal/anchors"
	"github.com/mcp-extproc/mcp-extproc/plugins/internal/findings"
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
	anchors   *anchors.Set
	custom    []customRule
	whitelist findings.Whitelist
}

type customRule struct {
	findings.Custom
	strategy MaskStrategy
}

func newDetector(c *Config) *detector {
	d := &detector{
		numbers: numberKinds{ssn: c.DetectSSN, card: c.DetectCreditCard, phone: c.DetectPhone, ipv4: c.DetectIPAddress},
		email:   c.DetectEmail,
		ipv6:    c.DetectIPAddress,
		rules:   labelledRules(c),
		anchors: new(anchors.Set),
	}
	for i, r := range d.rules {
		for _, k := range r.keywords {
			d.anchors.Add(k, true, i)
		}
		for _, p := range r.prefixes {
			d.anchors.Add(p, false, i)
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
	d.anchors.Scan(s, func(rule, start, end int) int {
		r := &d.rules[rule]
		vs, ve, ok := r.match(s, start, end)
		if !ok {
			return 0
		}
		out = append(out, finding{start: vs, end: ve, typ: r.typ})
		return ve
	})
	for i := range d.custom {
		cr := &d.custom[i]
		cr.Find(s, func(start, end int) {
			out = append(out, finding{start: start, end: end, typ: cr.Type, strategy: cr.strategy})
		})
	}
	return out[:base+len(findings.Resolve(s, out[base:], d.whitelist, finding.bounds))]
}

func (f finding) bounds() (int, int) { return f.start, f.end }
