package secretsdetection

import (
	"regexp"
	"strings"

	"github.com/mcp-extproc/mcp-extproc/plugins/internal/anchors"
)

// The built-in secret types, as they appear in logs, metadata, violation
// details and the enabled map. Custom patterns add their own.
const (
	TypeAWSAccessKeyID     = "aws_access_key_id"
	TypeAWSSecretAccessKey = "aws_secret_access_key"
	TypeGitHubToken        = "github_token"
	TypeGitLabToken        = "gitlab_token"
	TypeSlackToken         = "slack_token"
	TypeSlackWebhook       = "slack_webhook"
	TypeGoogleAPIKey       = "google_api_key"
	TypeStripeKey          = "stripe_key"
	TypeOpenAIKey          = "openai_api_key"
	TypeAnthropicKey       = "anthropic_api_key"
	TypePrivateKey         = "private_key"
	TypeJWT                = "jwt"
	TypeGenericAPIKey      = "generic_api_key"
	TypeHighEntropy        = "high_entropy"
)

// rule finds one kind of secret from its anchors. A token rule's anchors
// are prefixes of the secret itself (ghp_, AKIA, -----BEGIN): the secret is
// the prefix and the body of token bytes after it. A keyword rule's anchors
// are labels (aws_secret_access_key): its value expression runs after the
// label.
type rule struct {
	typ string

	// Token rules.
	prefixes []string
	body     func(byte) bool // bytes of the body after the prefix
	min, max int             // body length bounds; max 0: unbounded
	// extent, when set, replaces body/min/max: it returns the secret's end
	// for a prefix found at start, or -1.
	extent func(s string, start int) int

	// Keyword rules.
	keywords []string
	value    *regexp.Regexp // anchored; group 1 is the secret
	// valueByte is the class of the value's bytes. A fixed-length value
	// followed by such a byte is cut out of something longer and is no
	// match; an open one is extended over them.
	valueByte func(byte) bool
	open      bool

	// check validates the secret; nil accepts.
	check func(string) bool
}

// builtinRules lists every built-in rule, enabled or not.
func builtinRules() []rule {
	return []rule{
		{typ: TypeAWSAccessKeyID, prefixes: []string{"AKIA", "ASIA", "ABIA", "ACCA"}, body: isUpperOrDigit, min: 16, max: 16},
		{
			typ: TypeAWSSecretAccessKey,
			keywords: []string{"aws_secret_access_key", "aws_secret_key", "aws_secret", "aws secret access key",
				"aws secret key", "secret_access_key", "secretaccesskey", "secret access key"},
			value:     regexp.MustCompile(`^["']?\s*[:=]?\s*["']?([A-Za-z0-9/+]{40})`),
			valueByte: isBase64Byte,
			check:     mixedClasses,
		},
		{typ: TypeGitHubToken, prefixes: []string{"ghp_", "gho_", "ghu_", "ghs_", "ghr_"}, body: anchors.IsAlnum, min: 36, max: 251},
		{typ: TypeGitHubToken, prefixes: []string{"github_pat_"}, body: anchors.IsWordByte, min: 22, max: 244},
		{typ: TypeGitLabToken, prefixes: []string{"glpat-", "gldt-", "glrt-", "glptt-"}, body: isTokenByte, min: 20},
		{typ: TypeSlackToken, prefixes: []string{"xoxb-", "xoxa-", "xoxp-", "xoxr-", "xoxs-"}, body: isAlnumOrDash, min: 10, max: 250, check: slackShape},
		{
			typ: TypeSlackWebhook, prefixes: []string{"https://hooks.slack.com/"},
			body: func(c byte) bool { return isTokenByte(c) || c == '/' }, min: 20,
			check: func(s string) bool {
				rest := strings.TrimPrefix(s, "https://hooks.slack.com/")
				return strings.HasPrefix(rest, "services/") || strings.HasPrefix(rest, "workflows/") || strings.HasPrefix(rest, "triggers/")
			},
		},
		{typ: TypeGoogleAPIKey, prefixes: []string{"AIza"}, body: isTokenByte, min: 35, max: 35},
		{typ: TypeStripeKey, prefixes: []string{"sk_live_", "rk_live_", "sk_test_", "rk_test_"}, body: anchors.IsAlnum, min: 16, max: 247},
		{typ: TypeAnthropicKey, prefixes: []string{"sk-ant-"}, body: isTokenByte, min: 32},
		{
			typ: TypeOpenAIKey, prefixes: []string{"sk-"}, body: isTokenByte, min: 20,
			check: func(s string) bool { return !strings.HasPrefix(s, "sk-ant-") && hasDigit(s) && hasLetter(s[3:]) },
		},
		{typ: TypePrivateKey, prefixes: []string{"-----BEGIN "}, extent: privateKeyExtent},
		{typ: TypeJWT, prefixes: []string{"eyJ"}, extent: jwtExtent},
		{
			typ: TypeGenericAPIKey,
			keywords: []string{"api_key", "api-key", "apikey", "api_token", "access_token", "auth_token",
				"client_secret", "secret", "password", "passwd"},
			value:     regexp.MustCompile(`^["']?\s*[:=]\s*["']?([^\s"',;&]{12,})`),
			valueByte: func(c byte) bool { return c > ' ' && !strings.ContainsRune(`"',;&`, rune(c)) },
			open:      true,
		},
	}
}

// match returns the bounds of the rule's secret at an anchor [start, end).
func (r *rule) match(s string, start, end int) (int, int, bool) {
	var vs, ve int
	switch {
	case r.extent != nil:
		vs, ve = start, r.extent(s, start)
		if ve < 0 {
			return 0, 0, false
		}
	case r.value != nil:
		w := s[end:min(len(s), end+window)]
		m := r.value.FindStringSubmatchIndex(w)
		if m == nil || m[2] < 0 {
			return 0, 0, false
		}
		vs, ve = end+m[2], end+m[3]
		if ve < len(s) && r.valueByte(s[ve]) {
			if !r.open {
				return 0, 0, false
			}
			for ve < len(s) && r.valueByte(s[ve]) {
				ve++
			}
		}
	default:
		vs, ve = start, end
		for ve < len(s) && r.body(s[ve]) {
			ve++
		}
		if n := ve - end; n < r.min || r.max > 0 && n > r.max {
			return 0, 0, false
		}
	}
	if r.check != nil && !r.check(s[vs:ve]) {
		return 0, 0, false
	}
	return vs, ve, true
}

// window bounds how far past its keyword a keyword rule looks.
const window = 128

// privateKeyExtent returns the end of a PEM private key block that begins at
// start ("-----BEGIN RSA PRIVATE KEY-----" … "-----END RSA PRIVATE KEY-----"),
// or the end of the string when the block is cut short: a truncated key is
// still a leaked key.
func privateKeyExtent(s string, start int) int {
	rest := s[start+len("-----BEGIN "):]
	label, _, ok := strings.Cut(rest[:min(len(rest), 64)], "-----")
	if !ok || !(strings.HasSuffix(label, "PRIVATE KEY") || strings.HasSuffix(label, "PRIVATE KEY BLOCK")) {
		return -1
	}
	for i := 0; i < len(label); i++ {
		if c := label[i]; !(isUpperOrDigit(c) || c == ' ') {
			return -1
		}
	}
	endMarker := "-----END " + label + "-----"
	if i := strings.Index(rest, endMarker); i >= 0 {
		return start + len("-----BEGIN ") + i + len(endMarker)
	}
	return len(s)
}

func isUpperOrDigit(c byte) bool { return 'A' <= c && c <= 'Z' || anchors.IsDigit(c) }

func isAlnumOrDash(c byte) bool { return anchors.IsAlnum(c) || c == '-' }

// isTokenByte is the base64url alphabet: letters, digits, '-' and '_'.
func isTokenByte(c byte) bool { return anchors.IsWordByte(c) || c == '-' }

func isBase64Byte(c byte) bool { return anchors.IsAlnum(c) || c == '+' || c == '/' || c == '=' }

func hasDigit(s string) bool { return strings.ContainsAny(s, "0123456789") }

func hasLetter(s string) bool {
	for i := 0; i < len(s); i++ {
		if anchors.IsLetter(s[i]) {
			return true
		}
	}
	return false
}

// mixedClasses reports whether s mixes lower case, upper case and digits or
// symbols, as generated keys do and words and identifiers rarely do.
func mixedClasses(s string) bool {
	var lower, upper, other bool
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case 'a' <= c && c <= 'z':
			lower = true
		case 'A' <= c && c <= 'Z':
			upper = true
		default:
			other = true
		}
	}
	return lower && upper && other
}

// slackShape accepts a Slack token whose body starts with a numeric id
// (xoxb-123…-…), as every issued token does; "xoxb-not-a-token", which
// cpex-secrets-detection flags, is prose.
func slackShape(tok string) bool {
	_, body, _ := strings.Cut(tok, "-")
	id, _, _ := strings.Cut(body, "-")
	if len(id) < 6 {
		return false
	}
	for i := 0; i < len(id); i++ {
		if id[i] < '0' || id[i] > '9' {
			return false
		}
	}
	return true
}
