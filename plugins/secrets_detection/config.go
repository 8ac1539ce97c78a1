package secretsdetection

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/mcp-extproc/mcp-extproc/plugins/internal/findings"
	"github.com/mcp-extproc/mcp-extproc/plugins/internal/kindconfig"
)

// Config is the kind's settings (plugins[].config).
type Config struct {
	// Action is what a message holding a secret gets: block (a
	// SECRET_DETECTED violation), redact (each secret replaced by
	// redaction_text) or log (passed unchanged, findings logged and put in
	// the result's metadata).
	Action Action `yaml:"action"`
	// RedactionText replaces each secret under action redact.
	RedactionText string `yaml:"redaction_text"`
	// Enabled turns secret types on or off by name: a type name
	// (github_token), a family (aws, github, gitlab, slack, google, stripe,
	// openai, anthropic: all its types), or a ContextForge pattern name
	// (private_key_block, jwt_like, …); high_entropy is the switch of
	// DetectHighEntropy. A type name wins over its family.
	// Unlisted types keep their default: every type on except
	// generic_api_key and high_entropy (see detect_high_entropy).
	Enabled map[string]bool `yaml:"enabled"`
	// CustomPatterns are extra secret types, as Go regular expressions.
	CustomPatterns []CustomPattern `yaml:"custom_patterns"`
	// WhitelistPatterns are Go regular expressions: a detected secret that
	// one of them matches (anywhere in the secret; anchor with ^…$) is left
	// alone.
	WhitelistPatterns []string `yaml:"whitelist_patterns"`
	// DetectHighEntropy also reports runs of base64 characters of at least
	// MinEntropyLength whose Shannon entropy reaches EntropyThreshold bits
	// per character (type high_entropy).
	DetectHighEntropy bool `yaml:"detect_high_entropy"`
	// EntropyThreshold is the entropy, in bits per character, a run must
	// reach to be reported (0 < t ≤ 8).
	EntropyThreshold float64 `yaml:"entropy_threshold"`
	// MinEntropyLength is the shortest run considered (at least 8).
	MinEntropyLength int `yaml:"min_entropy_length"`
	// LogDetections logs, for each message with findings, the count per type
	// and the JSON paths — never the secrets.
	LogDetections bool `yaml:"log_detections"`

	// BlockOnDetection and Redact are ContextForge's settings, accepted so
	// its configuration loads, and an alternative to Action: when Action is
	// not set, BlockOnDetection (default true) means block, else Redact
	// (default false) means redact, else log.
	BlockOnDetection bool `yaml:"block_on_detection"`
	// Redact: see BlockOnDetection.
	Redact bool `yaml:"redact"`
	// MinFindingsToBlock is how many secrets a message must hold to be
	// blocked; with fewer it passes and the findings are logged.
	MinFindingsToBlock int `yaml:"min_findings_to_block"`
}

// CustomPattern is an operator-defined secret type.
type CustomPattern struct {
	// Type names the finding in logs and violations ("internal_token").
	Type string `yaml:"type"`
	// Pattern is a Go (RE2) regular expression. The whole match is the
	// secret, or only the group named value when the pattern has one:
	// `password=(?P<value>\S+)`.
	Pattern string `yaml:"pattern"`
	// Description is for the reader of the policy.
	Description string `yaml:"description"`
}

// Action is what the plugin does with a message that holds a secret.
type Action string

// The actions.
const (
	ActionBlock  Action = "block"
	ActionRedact Action = "redact"
	ActionLog    Action = "log"
)

// DefaultConfig returns the settings a plugin gets when its config says
// nothing.
func DefaultConfig() Config {
	return Config{
		Action:             ActionBlock,
		RedactionText:      "[SECRET_REDACTED]",
		Enabled:            map[string]bool{},
		CustomPatterns:     []CustomPattern{},
		WhitelistPatterns:  []string{},
		EntropyThreshold:   4.5,
		MinEntropyLength:   20,
		LogDetections:      true,
		BlockOnDetection:   true,
		MinFindingsToBlock: 1,
	}
}

// families are the short names of the enabled map.
var families = map[string][]string{
	"aws":       {TypeAWSAccessKeyID, TypeAWSSecretAccessKey},
	"github":    {TypeGitHubToken},
	"gitlab":    {TypeGitLabToken},
	"slack":     {TypeSlackToken, TypeSlackWebhook},
	"google":    {TypeGoogleAPIKey},
	"stripe":    {TypeStripeKey},
	"openai":    {TypeOpenAIKey},
	"anthropic": {TypeAnthropicKey},
}

// contextForgeNames are ContextForge's pattern names. hex_secret_32 and
// base64_24, its broad patterns, turn on high-entropy detection, the closest
// equivalent.
var contextForgeNames = map[string]string{
	"private_key_block":          TypePrivateKey,
	"jwt_like":                   TypeJWT,
	"stripe_secret_key":          TypeStripeKey,
	"generic_api_key_assignment": TypeGenericAPIKey,
	"hex_secret_32":              TypeHighEntropy,
	"base64_24":                  TypeHighEntropy,
}

// defaultEnabled lists every rule type with its default.
func defaultEnabled() map[string]bool {
	m := map[string]bool{}
	for _, r := range builtinRules() {
		m[r.typ] = r.typ != TypeGenericAPIKey
	}
	return m
}

// resolve checks the settings and builds the detector and the action.
// Errors name the key (enabled.foo: …). explicitAction tells whether action
// was set in the configuration (it then excludes ContextForge's keys).
func (c *Config) resolve(explicitAction bool) (*detector, error) {
	cfDefaults := DefaultConfig()
	cfSet := c.BlockOnDetection != cfDefaults.BlockOnDetection || c.Redact != cfDefaults.Redact
	switch {
	case explicitAction && cfSet:
		return nil, fmt.Errorf("action: set together with ContextForge's block_on_detection/redact; use one or the other")
	case !explicitAction && c.BlockOnDetection:
		c.Action = ActionBlock
	case !explicitAction && c.Redact:
		c.Action = ActionRedact
	case !explicitAction:
		c.Action = ActionLog
	}
	c.Action = Action(strings.ToLower(string(c.Action)))
	switch c.Action {
	case ActionBlock, ActionRedact, ActionLog:
	default:
		return nil, kindconfig.BadChoice("action", string(c.Action), "block", "redact", "log")
	}
	if c.MinFindingsToBlock < 1 {
		return nil, fmt.Errorf("min_findings_to_block: must be at least 1, got %d", c.MinFindingsToBlock)
	}
	if c.EntropyThreshold <= 0 || c.EntropyThreshold > 8 {
		return nil, fmt.Errorf("entropy_threshold: must be in (0, 8] bits per character, got %g", c.EntropyThreshold)
	}
	if c.MinEntropyLength < 8 {
		return nil, fmt.Errorf("min_entropy_length: must be at least 8, got %d", c.MinEntropyLength)
	}

	enabled := defaultEnabled()
	enabled[TypeHighEntropy] = c.DetectHighEntropy
	// Families first, then type names, so a type name wins whatever the order.
	keys := slices.Sorted(maps.Keys(c.Enabled))
	for _, k := range keys {
		if types, ok := families[k]; ok {
			for _, t := range types {
				enabled[t] = c.Enabled[k]
			}
		}
	}
	setBy := map[string]string{}
	for _, k := range keys {
		if _, ok := families[k]; ok {
			continue
		}
		t := k
		if cf, ok := contextForgeNames[k]; ok {
			t = cf
		} else if _, ok := enabled[t]; !ok {
			return nil, fmt.Errorf("enabled.%s: unknown secret type; expected one of %s", k, strings.Join(enabledKeys(), ", "))
		}
		if prev, ok := setBy[t]; ok && c.Enabled[prev] != c.Enabled[k] {
			if t == TypeHighEntropy && contextForgeNames[prev] == TypeHighEntropy && contextForgeNames[k] == TypeHighEntropy {
				// hex_secret_32 and base64_24 are two patterns in
				// ContextForge and one detector here: either one on turns
				// it on (ContextForge's own profiles set one true, one false).
				enabled[t] = true
				continue
			}
			return nil, fmt.Errorf("enabled.%s: contradicts enabled.%s", k, prev)
		}
		setBy[t] = k
		enabled[t] = c.Enabled[k]
	}

	d := newDetector(enabled)
	d.entropy, d.minLen, d.threshold = enabled[TypeHighEntropy], c.MinEntropyLength, c.EntropyThreshold
	for i, cp := range c.CustomPatterns {
		key := fmt.Sprintf("custom_patterns[%d]", i)
		custom, err := findings.CompileCustom(key, cp.Type, cp.Pattern)
		if err != nil {
			return nil, err
		}
		d.custom = append(d.custom, custom)
	}
	var err error
	if d.whitelist, err = findings.CompileWhitelist(c.WhitelistPatterns); err != nil {
		return nil, err
	}
	return d, nil
}

// enabledKeys lists the names the enabled map accepts.
func enabledKeys() []string {
	ks := []string{TypeHighEntropy}
	for t := range defaultEnabled() {
		ks = append(ks, t)
	}
	for f := range families {
		ks = append(ks, f)
	}
	for n := range contextForgeNames {
		ks = append(ks, n)
	}
	sort.Strings(ks)
	return ks
}
