package piifilter

import (
	"fmt"
	"strings"

	"github.com/mcp-extproc/mcp-extproc/plugins/internal/findings"
	"github.com/mcp-extproc/mcp-extproc/plugins/internal/kindconfig"
)

// Config is the kind's settings (plugins[].config). The key names are
// ContextForge's, so a ContextForge pii_filter block loads unchanged.
type Config struct {
	// DetectSSN finds US social security numbers (123-45-6789, 123 45 6789).
	DetectSSN bool `yaml:"detect_ssn"`
	// DetectCreditCard finds Luhn-valid payment card numbers.
	DetectCreditCard bool `yaml:"detect_credit_card"`
	// DetectEmail finds e-mail addresses.
	DetectEmail bool `yaml:"detect_email"`
	// DetectPhone finds international and North American phone numbers.
	DetectPhone bool `yaml:"detect_phone"`
	// DetectIPAddress finds IPv4 and IPv6 addresses.
	DetectIPAddress bool `yaml:"detect_ip_address"`
	// DetectAWSKeys finds AWS access key ids and labelled secret access keys.
	DetectAWSKeys bool `yaml:"detect_aws_keys"`
	// DetectAPIKeys finds values labelled as API keys or tokens
	// (api_key: …, access_token=…).
	DetectAPIKeys bool `yaml:"detect_api_keys"`

	// The labelled types below are ContextForge's too. They are found only
	// after a label ("DOB:", "passport no", "IBAN", "MRN", "BSN"), which
	// keeps them from matching every number, and are off by default.

	// DetectDateOfBirth finds dates after "DOB", "date of birth", "born"….
	DetectDateOfBirth bool `yaml:"detect_date_of_birth"`
	// DetectPassport finds passport numbers after "passport".
	DetectPassport bool `yaml:"detect_passport"`
	// DetectDriverLicense finds licence numbers after "driver's license"….
	DetectDriverLicense bool `yaml:"detect_driver_license"`
	// DetectBankAccount finds IBANs (mod-97 checked) after "IBAN" and
	// account numbers after "account number".
	DetectBankAccount bool `yaml:"detect_bank_account"`
	// DetectMedicalRecord finds medical record numbers after "MRN".
	DetectMedicalRecord bool `yaml:"detect_medical_record"`
	// DetectBSN finds Dutch citizen service numbers (11-check) after "BSN".
	DetectBSN bool `yaml:"detect_bsn"`

	// CustomPatterns are extra types, as Go regular expressions.
	CustomPatterns []CustomPattern `yaml:"custom_patterns"`
	// WhitelistPatterns are Go regular expressions: a detected value that one
	// of them matches (anywhere in the value; anchor with ^…$) is left alone.
	WhitelistPatterns []string `yaml:"whitelist_patterns"`

	// MaskStrategy is how a detected value is masked: redact, partial, hash,
	// tokenize or remove. ContextForge calls it default_mask_strategy.
	MaskStrategy MaskStrategy `yaml:"mask_strategy" alias:"default_mask_strategy"`
	// RedactionText replaces values under the redact strategy.
	RedactionText string `yaml:"redaction_text"`
	// BlockOnDetection blocks the message with PII_DETECTED instead of
	// masking it.
	BlockOnDetection bool `yaml:"block_on_detection"`
	// LogDetections logs, for each message with findings, the count per type
	// and the JSON paths — never the values.
	LogDetections bool `yaml:"log_detections"`
	// IncludeDetectionDetails puts the types and JSON paths found in the
	// violation's details and description (otherwise only the count).
	IncludeDetectionDetails bool `yaml:"include_detection_details"`
}

// CustomPattern is an operator-defined PII type.
type CustomPattern struct {
	// Type names the finding in logs and violations ("employee_id").
	Type string `yaml:"type"`
	// Pattern is a Go (RE2) regular expression. The whole match is masked,
	// or only the group named value when the pattern has one:
	// `badge:\s*(?P<value>\d{6})`.
	Pattern string `yaml:"pattern"`
	// Description is for the reader of the policy.
	Description string `yaml:"description"`
	// MaskStrategy overrides the plugin's mask_strategy for this type.
	MaskStrategy MaskStrategy `yaml:"mask_strategy"`
	// Enabled turns the pattern off when false (default true).
	Enabled *bool `yaml:"enabled"`
}

// MaskStrategy says how a detected value is replaced.
type MaskStrategy string

// The mask strategies.
const (
	// MaskRedact replaces the value with redaction_text.
	MaskRedact MaskStrategy = "redact"
	// MaskPartial keeps enough to recognise the value: the last four digits
	// (***-**-6789, ****-****-****-1111), an e-mail's first letter and domain
	// (j***@example.com), an IPv4 address's first two octets.
	MaskPartial MaskStrategy = "partial"
	// MaskHash replaces the value with [HASH:<first 8 hex digits of its SHA-256>].
	MaskHash MaskStrategy = "hash"
	// MaskTokenize replaces the value with [TOKEN:<16 hex digits>], the same
	// token for the same value and type within one plugin instance (an HMAC
	// under a random per-instance key), unlinkable across instances.
	MaskTokenize MaskStrategy = "tokenize"
	// MaskRemove deletes the value.
	MaskRemove MaskStrategy = "remove"
)

func (m MaskStrategy) valid() bool {
	switch m {
	case MaskRedact, MaskPartial, MaskHash, MaskTokenize, MaskRemove:
		return true
	}
	return false
}

// DefaultConfig returns the settings a plugin gets when its config says
// nothing: the seven common types on, redaction with [REDACTED], detections
// logged.
func DefaultConfig() Config {
	return Config{
		DetectSSN:               true,
		DetectCreditCard:        true,
		DetectEmail:             true,
		DetectPhone:             true,
		DetectIPAddress:         true,
		DetectAWSKeys:           true,
		DetectAPIKeys:           true,
		CustomPatterns:          []CustomPattern{},
		WhitelistPatterns:       []string{},
		MaskStrategy:            MaskRedact,
		RedactionText:           "[REDACTED]",
		LogDetections:           true,
		IncludeDetectionDetails: true,
	}
}

// compile checks the settings and builds the detector. Errors name the key
// (custom_patterns[1].pattern: …).
func (c *Config) compile() (*detector, error) {
	c.MaskStrategy = MaskStrategy(strings.ToLower(string(c.MaskStrategy)))
	if !c.MaskStrategy.valid() {
		return nil, kindconfig.BadChoice("mask_strategy", string(c.MaskStrategy), "redact", "partial", "hash", "tokenize", "remove")
	}
	d := newDetector(c)
	for i, cp := range c.CustomPatterns {
		key := fmt.Sprintf("custom_patterns[%d]", i)
		if cp.Enabled != nil && !*cp.Enabled {
			continue
		}
		custom, err := findings.CompileCustom(key, cp.Type, cp.Pattern)
		if err != nil {
			return nil, err
		}
		ms := MaskStrategy(strings.ToLower(string(cp.MaskStrategy)))
		if ms != "" && !ms.valid() {
			return nil, kindconfig.BadChoice(key+".mask_strategy", string(cp.MaskStrategy), "redact", "partial", "hash", "tokenize", "remove")
		}
		d.custom = append(d.custom, customRule{custom, ms})
	}
	var err error
	if d.whitelist, err = findings.CompileWhitelist(c.WhitelistPatterns); err != nil {
		return nil, err
	}
	return d, nil
}
