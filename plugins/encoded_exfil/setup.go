package encodedexfil

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/mcp-extproc/mcp-extproc/framework"
	"github.com/mcp-extproc/mcp-extproc/plugins/internal/kindconfig"
	piifilter "github.com/mcp-extproc/mcp-extproc/plugins/pii_filter"
	secretsdetection "github.com/mcp-extproc/mcp-extproc/plugins/secrets_detection"
)

// KindName is the kind's name in plugins[].kind.
const KindName = "encoded_exfil"

// The encodings, as the enabled map and violation details name them.
const (
	EncBase64     = "base64"
	EncBase64URL  = "base64url"
	EncBase32     = "base32"
	EncHex        = "hex"
	EncPercent    = "percent_encoding"
	EncEscapedHex = "escaped_hex"
)

var encodings = []string{EncBase64, EncBase64URL, EncBase32, EncHex, EncPercent, EncEscapedHex}

// Action is what a message holding an encoded finding gets.
type Action string

// The actions.
const (
	ActionBlock  Action = "block"
	ActionRedact Action = "redact"
	ActionLog    Action = "log"
)

// Config is the kind's settings (plugins[].config). Key names follow
// ContextForge's EncodedExfilDetectorPlugin where they mean the same.
type Config struct {
	// Action: block (ENCODED_EXFIL_DETECTED), redact (each encoded run that
	// holds a finding replaced by redaction_text) or log. Empty: derived from
	// ContextForge's block_on_detection and redact.
	Action Action `yaml:"action"`
	// Enabled switches encodings on or off by name; unlisted ones stay on.
	Enabled map[string]bool `yaml:"enabled"`
	// MinEncodedLength is the shortest run looked at, in characters (for
	// percent_encoding and escaped_hex: of the whole escaped token).
	MinEncodedLength int `yaml:"min_encoded_length"`
	// MinDecodedLength is the fewest decoded bytes worth inspecting.
	MinDecodedLength int `yaml:"min_decoded_length"`
	// MaxDecodeDepth is how many layers of encoding are peeled (base64 of
	// hex of …), 1 to 5.
	MaxDecodeDepth int `yaml:"max_decode_depth"`
	// DetectSecrets runs the secrets_detection detector on decoded bytes,
	// with the detection settings in Secrets.
	DetectSecrets bool `yaml:"detect_secrets"`
	// Secrets are secrets_detection's detection settings (enabled,
	// custom_patterns, whitelist_patterns, detect_high_entropy, …).
	Secrets secretsdetection.Config `yaml:"secrets"`
	// DetectPII runs the pii_filter detector on decoded bytes, with the
	// detection settings in PII.
	DetectPII bool `yaml:"detect_pii"`
	// PII are pii_filter's detection settings (detect_ssn, detect_email, …,
	// custom_patterns, whitelist_patterns).
	PII piifilter.Config `yaml:"pii"`
	// AllowlistPatterns are regular expressions: an encoded run one of them
	// matches is left alone.
	AllowlistPatterns []string `yaml:"allowlist_patterns"`
	// ScanBinary also inspects base64 data fields (a resource's blob, an
	// image's data), which are otherwise skipped.
	ScanBinary bool `yaml:"scan_binary"`
	// RedactionText replaces each encoded run under action redact.
	RedactionText string `yaml:"redaction_text"`
	// MinFindingsToBlock is how many findings a message must hold to be
	// blocked; with fewer it passes and they are logged.
	MinFindingsToBlock int `yaml:"min_findings_to_block"`
	// MaxFindingsPerValue bounds the findings counted in one string.
	MaxFindingsPerValue int `yaml:"max_findings_per_value"`
	// MaxDecodedBytes bounds the bytes decoded for one payload, all
	// readings and layers together; past it the hook fails (and, under
	// on_error: fail, the message is blocked) rather than pass unread.
	MaxDecodedBytes int `yaml:"max_decoded_bytes"`
	// IncludeDetectionDetails lists each finding's field, encoding and types
	// in the violation and metadata (otherwise only the count).
	IncludeDetectionDetails bool `yaml:"include_detection_details"`
	// LogDetections logs each message with findings (fields, encodings,
	// types — never values).
	LogDetections bool `yaml:"log_detections"`

	// ContextForge's scoring: when MinSuspicionScore is set, a decoded run
	// whose score reaches it is a finding of type "suspicious_encoding"
	// even if no detector finds anything in it (see README).
	MinSuspicionScore      *int           `yaml:"min_suspicion_score"`
	MinEntropy             float64        `yaml:"min_entropy"`
	MinPrintableRatio      float64        `yaml:"min_printable_ratio"`
	ExtraSensitiveKeywords []string       `yaml:"extra_sensitive_keywords"`
	ExtraEgressHints       []string       `yaml:"extra_egress_hints"`
	PerEncodingScore       map[string]int `yaml:"per_encoding_score"`

	// BlockOnDetection and Redact are ContextForge's alternative to Action:
	// with no action, redact: true means redact, else block_on_detection
	// (default true) means block, else log.
	BlockOnDetection bool `yaml:"block_on_detection"`
	Redact           bool `yaml:"redact"`
	// Accepted for ContextForge's files and not used (see README):
	// every string is scanned whatever its length, JSON nesting is bounded
	// by the server's parser, and strings holding JSON are scanned as text.
	MaxScanStringLength int  `yaml:"max_scan_string_length"`
	MaxRecursionDepth   int  `yaml:"max_recursion_depth"`
	ParseJSONStrings    bool `yaml:"parse_json_strings"`
}

// DefaultConfig returns the settings a plugin gets when its config says nothing.
func DefaultConfig() Config {
	return Config{
		Enabled:                 map[string]bool{},
		MinEncodedLength:        16,
		MinDecodedLength:        8,
		MaxDecodeDepth:          2,
		DetectSecrets:           true,
		Secrets:                 secretsdetection.DefaultConfig(),
		DetectPII:               true,
		PII:                     piifilter.DefaultConfig(),
		AllowlistPatterns:       []string{},
		RedactionText:           "[ENCODED_REDACTED]",
		MinFindingsToBlock:      1,
		MaxFindingsPerValue:     50,
		MaxDecodedBytes:         16 << 20,
		IncludeDetectionDetails: true,
		LogDetections:           true,
		MinEntropy:              3.3,
		MinPrintableRatio:       0.7,
		ExtraSensitiveKeywords:  []string{},
		ExtraEgressHints:        []string{},
		PerEncodingScore:        map[string]int{},
		BlockOnDetection:        true,
		MaxScanStringLength:     200000,
		MaxRecursionDepth:       32,
		ParseJSONStrings:        true,
	}
}

var hooks = []framework.HookType{
	framework.ToolPreInvoke, framework.ToolPostInvoke,
	framework.PromptPreFetch, framework.PromptPostFetch,
	framework.ResourcePreFetch, framework.ResourcePostFetch,
}

func init() {
	framework.Register(framework.Kind{
		Name: KindName,
		Aliases: []string{
			"cpex_encoded_exfil_detection.EncodedExfilDetectorPlugin",
			"plugins.encoded_exfil_detection.encoded_exfil_detector.EncodedExfilDetectorPlugin",
			"plugins.encoded_exfil_detector.encoded_exfil_detector.EncodedExfilDetectorPlugin",
			"EncodedExfilDetectorPlugin",
		},
		Description: "decode base64, base32, hex and percent-encoded runs in arguments and results and find secrets and PII in them; block or redact",
		Hooks:       hooks,
		Defaults:    DefaultConfig(),
		New: kindconfig.NamedFactory(DefaultConfig, func(name string, c Config) (*Plugin, error) {
			p, err := New(name, c)
			if err != nil {
				return nil, fmt.Errorf("config.%w", err)
			}
			return p, nil
		}),
		Inline: true,
	})
}

// New checks cfg and builds a plugin named name. Errors name the key,
// without the "config." prefix.
func New(name string, cfg Config) (*Plugin, error) {
	p := &Plugin{name: name, cfg: cfg, enabled: map[string]bool{}}
	for _, e := range encodings {
		p.enabled[e] = true
	}
	for _, k := range slices.Sorted(maps.Keys(cfg.Enabled)) {
		if _, ok := p.enabled[k]; !ok {
			return nil, fmt.Errorf("enabled.%s: unknown encoding; expected one of %s", k, strings.Join(encodings, ", "))
		}
		p.enabled[k] = cfg.Enabled[k]
	}
	def := DefaultConfig()
	cfSet := cfg.BlockOnDetection != def.BlockOnDetection || cfg.Redact != def.Redact
	switch {
	case cfg.Action != "" && cfSet:
		return nil, fmt.Errorf("action: set together with ContextForge's block_on_detection/redact; use one or the other")
	case cfg.Action != "":
	case cfg.Redact:
		p.cfg.Action = ActionRedact
	case cfg.BlockOnDetection:
		p.cfg.Action = ActionBlock
	default:
		p.cfg.Action = ActionLog
	}
	p.cfg.Action = Action(strings.ToLower(string(p.cfg.Action)))
	switch p.cfg.Action {
	case ActionBlock, ActionRedact, ActionLog:
	default:
		return nil, kindconfig.BadChoice("action", string(cfg.Action), "block", "redact", "log")
	}
	switch {
	case cfg.MinEncodedLength < 8:
		return nil, fmt.Errorf("min_encoded_length: must be at least 8, got %d", cfg.MinEncodedLength)
	case cfg.MinDecodedLength < 4:
		return nil, fmt.Errorf("min_decoded_length: must be at least 4, got %d", cfg.MinDecodedLength)
	case cfg.MaxDecodeDepth < 1 || cfg.MaxDecodeDepth > 5:
		return nil, fmt.Errorf("max_decode_depth: must be 1 to 5, got %d", cfg.MaxDecodeDepth)
	case cfg.MinFindingsToBlock < 1:
		return nil, fmt.Errorf("min_findings_to_block: must be at least 1, got %d", cfg.MinFindingsToBlock)
	case cfg.MaxDecodedBytes < 1<<10:
		return nil, fmt.Errorf("max_decoded_bytes: must be at least 1024, got %d", cfg.MaxDecodedBytes)
	case cfg.MaxFindingsPerValue < 1:
		return nil, fmt.Errorf("max_findings_per_value: must be at least 1, got %d", cfg.MaxFindingsPerValue)
	case cfg.MinEntropy < 0 || cfg.MinEntropy > 8:
		return nil, fmt.Errorf("min_entropy: must be in [0, 8], got %g", cfg.MinEntropy)
	case cfg.MinPrintableRatio < 0 || cfg.MinPrintableRatio > 1:
		return nil, fmt.Errorf("min_printable_ratio: must be in [0, 1], got %g", cfg.MinPrintableRatio)
	case cfg.MinSuspicionScore != nil && (*cfg.MinSuspicionScore < 1 || *cfg.MinSuspicionScore > 10):
		return nil, fmt.Errorf("min_suspicion_score: must be 1 to 10, got %d", *cfg.MinSuspicionScore)
	case !cfg.DetectSecrets && !cfg.DetectPII && cfg.MinSuspicionScore == nil:
		return nil, fmt.Errorf("detect_secrets, detect_pii: both off and no min_suspicion_score: the plugin would find nothing")
	}
	for _, k := range slices.Sorted(maps.Keys(cfg.PerEncodingScore)) {
		if _, ok := p.enabled[k]; !ok {
			return nil, fmt.Errorf("per_encoding_score.%s: unknown encoding; expected one of %s", k, strings.Join(encodings, ", "))
		}
	}
	if err := checkDetectionOnly(cfg); err != nil {
		return nil, err
	}
	var err error
	if cfg.DetectSecrets {
		if p.secrets, err = secretsdetection.NewDetector(cfg.Secrets); err != nil {
			return nil, fmt.Errorf("secrets.%w", err)
		}
	}
	if cfg.DetectPII {
		if p.pii, err = piifilter.NewDetector(cfg.PII); err != nil {
			return nil, fmt.Errorf("pii.%w", err)
		}
	}
	for i, s := range cfg.AllowlistPatterns {
		re, err := regexp.Compile(s)
		if err != nil {
			return nil, fmt.Errorf("allowlist_patterns[%d]: %w", i, err)
		}
		p.allow = append(p.allow, re)
	}
	if cfg.MinSuspicionScore != nil {
		p.score = newScorer(cfg)
	}
	return p, nil
}

// checkDetectionOnly refuses the action settings of the nested detector
// configs: they would do nothing here, and a reader would think they do.
func checkDetectionOnly(cfg Config) error {
	sd, pd := secretsdetection.DefaultConfig(), piifilter.DefaultConfig()
	s, p := cfg.Secrets, cfg.PII
	for _, c := range []struct {
		key     string
		changed bool
	}{
		{"secrets.action", s.Action != sd.Action},
		{"secrets.redaction_text", s.RedactionText != sd.RedactionText},
		{"secrets.block_on_detection", s.BlockOnDetection != sd.BlockOnDetection},
		{"secrets.redact", s.Redact != sd.Redact},
		{"secrets.min_findings_to_block", s.MinFindingsToBlock != sd.MinFindingsToBlock},
		{"secrets.log_detections", s.LogDetections != sd.LogDetections},
		{"pii.mask_strategy", p.MaskStrategy != pd.MaskStrategy},
		{"pii.redaction_text", p.RedactionText != pd.RedactionText},
		{"pii.block_on_detection", p.BlockOnDetection != pd.BlockOnDetection},
		{"pii.log_detections", p.LogDetections != pd.LogDetections},
		{"pii.include_detection_details", p.IncludeDetectionDetails != pd.IncludeDetectionDetails},
	} {
		if c.changed {
			return fmt.Errorf("%s: only detection settings apply here; set action, redaction_text, … on encoded_exfil itself", c.key)
		}
	}
	return nil
}
