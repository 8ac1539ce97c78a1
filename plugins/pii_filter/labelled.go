package piifilter

import (
	"regexp"
	"strings"

	"github.com/mcp-extproc/mcp-extproc/plugins/internal/anchors"
)

// labelledRule finds a value by what stands before it: a keyword ("api_key",
// "passport no", "IBAN") or a fixed prefix that is part of the value itself
// ("AKIA"). Its value expression is matched at the anchor, on a short window,
// so a rule costs nothing where its anchors do not occur.
type labelledRule struct {
	typ string
	// keywords are matched ASCII case-insensitively at a word start; the
	// value expression runs after the keyword.
	keywords []string
	// prefixes are matched exactly at a word start; the value expression
	// runs from the prefix on (the prefix is part of the value).
	prefixes []string
	// value is anchored (^) and its first group is the value.
	value *regexp.Regexp
	// valueByte is the class of the value's characters: an open-ended value
	// (open) that reaches the end of the window is extended over it; a fixed
	// one followed by such a byte is no match.
	valueByte func(byte) bool
	open      bool
	// check validates the value (checksum, must hold a digit…); nil accepts.
	check func(string) bool
}

// window bounds how far past its anchor a rule looks.
const window = 128

// labelFiller is what may stand between a label and its value: quotes,
// "number"/"no."/"#", a colon or equals sign, "is".
const labelFiller = `^(?i:["']?\s*(?:number|num|no\.?|nr\.?|id)?\s*(?:is\s+|[:=#]\s*|-\s*)?["']?\s*)`

// labelledRules returns the rules the settings enable.
func labelledRules(c *Config) []labelledRule {
	var rules []labelledRule
	if c.DetectAWSKeys {
		rules = append(rules,
			labelledRule{
				typ:       TypeAWSKey,
				prefixes:  []string{"AKIA", "ASIA"},
				value:     regexp.MustCompile(`^((?:AKIA|ASIA)[0-9A-Z]{16})`),
				valueByte: anchors.IsAlnum,
			},
			labelledRule{
				typ: TypeAWSKey,
				keywords: []string{"aws_secret_access_key", "aws_secret_key", "aws secret access key",
					"aws secret key", "secret_access_key", "secretaccesskey", "secret access key"},
				value:     regexp.MustCompile(`^["']?\s*[:=]?\s*["']?([A-Za-z0-9/+]{40})`),
				valueByte: isBase64Byte,
			})
	}
	if c.DetectAPIKeys {
		rules = append(rules, labelledRule{
			typ: TypeAPIKey,
			keywords: []string{"api_key", "api-key", "apikey", "api key", "api_token", "api-token", "apitoken",
				"access_token", "access-token", "accesstoken", "auth_token", "auth-token", "authtoken",
				"secret_key", "secret-key", "client_secret", "client-secret"},
			value:     regexp.MustCompile(`^["']?(?:\s*[:=]\s*|\s+)["']?([A-Za-z0-9_\-]{20,})`),
			valueByte: func(b byte) bool { return anchors.IsWordByte(b) || b == '-' },
			open:      true,
		})
	}
	if c.DetectDateOfBirth {
		rules = append(rules, labelledRule{
			typ:       TypeDateOfBirth,
			keywords:  []string{"dob", "d.o.b.", "date of birth", "birth date", "birthdate", "birthday", "born", "born on"},
			value:     regexp.MustCompile(`^(?i:\s*[:\-]?\s*(?:is\s+|on\s+)?)(\d{1,2}[/\-.]\d{1,2}[/\-.](?:\d{4}|\d{2})|\d{4}-\d{2}-\d{2})`),
			valueByte: anchors.IsDigit,
		})
	}
	if c.DetectPassport {
		rules = append(rules, labelledRule{
			typ:       TypePassport,
			keywords:  []string{"passport"},
			value:     regexp.MustCompile(labelFiller + `([A-Z0-9]{6,9})`),
			valueByte: anchors.IsAlnum,
			check:     hasDigit,
		})
	}
	if c.DetectDriverLicense {
		rules = append(rules, labelledRule{
			typ: TypeDriverLicense,
			keywords: []string{"driver's license", "drivers license", "driver license", "driver's licence",
				"drivers licence", "driving licence", "driving license", "license number", "licence number", "dl number", "dl#", "dl no"},
			value:     regexp.MustCompile(labelFiller + `([A-Z0-9][A-Z0-9-]{4,19})`),
			valueByte: func(b byte) bool { return anchors.IsAlnum(b) || b == '-' },
			check:     hasDigit,
		})
	}
	if c.DetectBankAccount {
		rules = append(rules,
			labelledRule{
				typ:       TypeBankAccount,
				keywords:  []string{"iban"},
				value:     regexp.MustCompile(labelFiller + `([A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?)`),
				valueByte: anchors.IsAlnum,
				check:     validIBAN,
			},
			// An IBAN without its label ("wire to NL91ABNA0417164300"), as
			// cpex-pii-filter finds it: a country code of the IBAN registry
			// at a word start, the IBAN's shape, and the mod-97 check.
			labelledRule{
				typ:       TypeBankAccount,
				prefixes:  ibanCountries,
				value:     regexp.MustCompile(`^([A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?)`),
				valueByte: anchors.IsAlnum,
				check:     validIBAN,
			},
			labelledRule{
				typ:       TypeBankAccount,
				keywords:  []string{"account number", "account no", "account #", "acct", "bank account"},
				value:     regexp.MustCompile(labelFiller + `(\d{8,17})`),
				valueByte: anchors.IsDigit,
			})
	}
	if c.DetectMedicalRecord {
		rules = append(rules, labelledRule{
			typ:       TypeMedicalRecord,
			keywords:  []string{"mrn", "medical record"},
			value:     regexp.MustCompile(labelFiller + `([A-Z0-9][A-Z0-9-]{5,11})`),
			valueByte: func(b byte) bool { return anchors.IsAlnum(b) || b == '-' },
			check:     hasDigit,
		})
	}
	if c.DetectBSN {
		rules = append(rules, labelledRule{
			typ:       TypeBSN,
			keywords:  []string{"bsn", "burgerservicenummer", "citizen service number"},
			value:     regexp.MustCompile(labelFiller + `(\d{9}|\d{4}\.\d{2}\.\d{3})`),
			valueByte: anchors.IsDigit,
			check:     validBSN,
		})
	}
	return rules
}

// match runs the rule at an anchor found at [start, end) and returns the
// value's bounds.
func (r *labelledRule) match(s string, start, end int) (int, int, bool) {
	from := end
	if len(r.prefixes) > 0 && len(r.keywords) == 0 {
		from = start
	}
	w := s[from:min(len(s), from+window)]
	m := r.value.FindStringSubmatchIndex(w)
	if m == nil || m[2] < 0 {
		return 0, 0, false
	}
	vs, ve := from+m[2], from+m[3]
	if ve < len(s) && r.valueByte(s[ve]) {
		if !r.open {
			return 0, 0, false
		}
		for ve < len(s) && r.valueByte(s[ve]) {
			ve++
		}
	}
	if r.check != nil && !r.check(s[vs:ve]) {
		return 0, 0, false
	}
	return vs, ve, true
}

func isBase64Byte(c byte) bool { return anchors.IsAlnum(c) || c == '+' || c == '/' || c == '=' }

func hasDigit(s string) bool { return strings.ContainsAny(s, "0123456789") }

// ibanCountries are the country codes of the SWIFT IBAN registry.
var ibanCountries = strings.Fields(`AD AE AL AT AZ BA BE BG BH BI BR BY CH CR CY CZ DE DJ DK DO EE EG ES FI FK FO FR GB GE GI GL GR GT
	HR HU IE IL IQ IS IT JO KW KZ LB LC LI LT LU LV LY MC MD ME MK MN MR MT MU NI NL NO OM PK PL PS PT QA RO RS RU SA SC SD SE SI SK SM
	SO ST SV TL TN TR UA VA VG XK YE`)

// validIBAN applies the ISO 13616 mod-97 check.
func validIBAN(s string) bool {
	s = strings.ReplaceAll(s, " ", "")
	if len(s) < 15 || len(s) > 34 {
		return false
	}
	rem := 0
	for _, c := range s[4:] + s[:4] {
		switch {
		case '0' <= c && c <= '9':
			rem = (rem*10 + int(c-'0')) % 97
		case 'A' <= c && c <= 'Z':
			rem = (rem*100 + int(c-'A'+10)) % 97
		default:
			return false
		}
	}
	return rem == 1
}

// validBSN applies the Dutch "elfproef": 9·d1 + 8·d2 + … + 2·d8 − d9 ≡ 0 (mod 11).
func validBSN(s string) bool {
	s = strings.ReplaceAll(s, ".", "")
	if len(s) != 9 {
		return false
	}
	sum := 0
	for i := range 8 {
		sum += int(s[i]-'0') * (9 - i)
	}
	sum -= int(s[8] - '0')
	return sum%11 == 0 && s != "000000000"
}
