package urlreputation

import (
	"fmt"
	"net/netip"
	"regexp"
	"strings"

	"github.com/mcp-extproc/mcp-extproc/framework"
	"github.com/mcp-extproc/mcp-extproc/mcpparse"
	"github.com/mcp-extproc/mcp-extproc/plugins/internal/kindconfig"
)

// KindName is the kind's name in plugins[].kind.
const KindName = "url_reputation"

// Config is the kind's settings (plugins[].config), with their defaults in
// DefaultConfig. ContextForge's key names are accepted as aliases.
type Config struct {
	// AllowDomains vouch for hosts: a URL whose host is one of them or a
	// subdomain of one passes every other check.
	AllowDomains []string `yaml:"allow_domains" alias:"whitelist_domains"`
	// DenyDomains refuse hosts that are one of them or a subdomain of one.
	// IP addresses are accepted and match that address only.
	DenyDomains []string `yaml:"deny_domains" alias:"blocked_domains"`
	// AllowPatterns are regular expressions: a URL (in its normalised form,
	// see README) that one of them matches passes every other check.
	AllowPatterns []string `yaml:"allow_patterns" alias:"allowed_patterns"`
	// DenyPatterns are regular expressions: a URL one of them matches is refused.
	DenyPatterns []string `yaml:"deny_patterns" alias:"blocked_patterns"`
	// DenyIPRanges refuse URLs whose host is an IP address in one of these
	// CIDR ranges (169.254.0.0/16, fd00::/8).
	DenyIPRanges []string `yaml:"deny_ip_ranges"`
	// DenyDomainFiles and AllowDomainFiles are files of domains, one a line
	// (or hosts-file lines "0.0.0.0 evil.com"); read when the plugin starts,
	// so on every policy reload.
	DenyDomainFiles  []string `yaml:"deny_domain_files"`
	AllowDomainFiles []string `yaml:"allow_domain_files"`
	// Schemes are the URL schemes looked for in text, case-insensitively.
	Schemes []string `yaml:"schemes"`
	// BlockMixedScript refuses hosts with a label that mixes scripts
	// (Latin and Cyrillic, say): the shape of a homoglyph lookalike.
	BlockMixedScript bool `yaml:"block_mixed_script"`
	// BlockPunycode refuses every internationalised host (an xn-- label once
	// normalised).
	BlockPunycode bool `yaml:"block_punycode"`
	// BlockIPHosts refuses URLs whose host is a raw IPv4 or IPv6 address.
	BlockIPHosts bool `yaml:"block_ip_hosts"`
	// BlockNonSecureHTTP refuses http:// and ws:// URLs.
	BlockNonSecureHTTP bool `yaml:"block_non_secure_http"`
	// UseHeuristicCheck (ContextForge's name) also refuses hosts whose name
	// looks machine-generated: Shannon entropy above EntropyThreshold. It
	// implies BlockMixedScript.
	UseHeuristicCheck bool `yaml:"use_heuristic_check"`
	// EntropyThreshold is the entropy, in bits per character, above which
	// UseHeuristicCheck refuses a host name.
	EntropyThreshold float64 `yaml:"entropy_threshold"`
}

// DefaultConfig returns the settings a plugin gets when its config says nothing.
func DefaultConfig() Config {
	return Config{
		AllowDomains:     []string{},
		DenyDomains:      []string{},
		AllowPatterns:    []string{},
		DenyPatterns:     []string{},
		DenyIPRanges:     []string{},
		DenyDomainFiles:  []string{},
		AllowDomainFiles: []string{},
		Schemes:          []string{"http", "https", "ws", "wss", "ftp"},
		BlockMixedScript: true,
		EntropyThreshold: 3.65,
	}
}

func init() {
	framework.Register(framework.Kind{
		Name: KindName,
		Aliases: []string{
			"cpex_url_reputation.URLReputationPlugin",
			"plugins.url_reputation.url_reputation.URLReputationPlugin",
			"URLReputationPlugin",
		},
		Description: "refuse messages carrying URLs to denied or suspicious hosts (deny lists, blocklist files, patterns, homoglyphs, raw IPs)",
		Hooks: []framework.HookType{
			framework.PromptPreFetch, framework.PromptPostFetch,
			framework.ToolPreInvoke, framework.ToolPostInvoke,
			framework.ResourcePreFetch, framework.ResourcePostFetch,
		},
		Defaults: DefaultConfig(),
		New:      kindconfig.Factory(DefaultConfig, New),
		Inline:   true,
	})
}

// New checks cfg and builds a plugin from it; blocklist files are read by
// Initialize. Errors name the offending key.
func New(cfg Config) (*Plugin, error) {
	p := &Plugin{
		allow:        domainSet{},
		deny:         domainSet{},
		mixedScript:  cfg.BlockMixedScript || cfg.UseHeuristicCheck,
		punycode:     cfg.BlockPunycode,
		ipHosts:      cfg.BlockIPHosts,
		insecure:     cfg.BlockNonSecureHTTP,
		entropy:      cfg.UseHeuristicCheck,
		threshold:    cfg.EntropyThreshold,
		denyFiles:    cfg.DenyDomainFiles,
		allowFiles:   cfg.AllowDomainFiles,
		schemeFinder: schemeFinder{},
	}
	for _, l := range []struct {
		key  string
		in   []string
		into domainSet
	}{{"allow_domains", cfg.AllowDomains, p.allow}, {"deny_domains", cfg.DenyDomains, p.deny}} {
		for i, d := range l.in {
			h, err := domainRule(d)
			if err != nil {
				return nil, fmt.Errorf("config.%s[%d]: %w", l.key, i, err)
			}
			l.into[h] = l.key
		}
	}
	var err error
	if p.allowRe, err = compileAll("allow_patterns", cfg.AllowPatterns); err != nil {
		return nil, err
	}
	if p.denyRe, err = compileAll("deny_patterns", cfg.DenyPatterns); err != nil {
		return nil, err
	}
	for i, r := range cfg.DenyIPRanges {
		pfx, err := netip.ParsePrefix(strings.TrimSpace(r))
		if err != nil {
			return nil, fmt.Errorf("config.deny_ip_ranges[%d]: %q is not a CIDR range such as 10.0.0.0/8: %w", i, r, err)
		}
		p.denyNets = append(p.denyNets, pfx.Masked())
	}
	if len(cfg.Schemes) == 0 {
		return nil, fmt.Errorf("config.schemes: must list at least one scheme")
	}
	for i, s := range cfg.Schemes {
		s = strings.ToLower(strings.TrimSpace(s))
		if !validScheme(s) {
			return nil, fmt.Errorf("config.schemes[%d]: %q is not a URL scheme (write \"https\", not \"https://\")", i, cfg.Schemes[i])
		}
		p.schemeFinder = append(p.schemeFinder, s)
	}
	if cfg.EntropyThreshold <= 0 || cfg.EntropyThreshold > 8 {
		return nil, fmt.Errorf("config.entropy_threshold: must be in (0, 8] bits per character, got %g", cfg.EntropyThreshold)
	}
	for _, l := range []struct {
		key   string
		files []string
	}{{"deny_domain_files", cfg.DenyDomainFiles}, {"allow_domain_files", cfg.AllowDomainFiles}} {
		for i, f := range l.files {
			if strings.TrimSpace(f) == "" {
				return nil, fmt.Errorf("config.%s[%d]: must not be empty", l.key, i)
			}
		}
	}
	return p, nil
}

func compileAll(key string, pats []string) ([]*regexp.Regexp, error) {
	var out []*regexp.Regexp
	for i, s := range pats {
		if s == "" {
			return nil, fmt.Errorf("config.%s[%d]: must not be empty", key, i)
		}
		re, err := regexp.Compile(s)
		if err != nil {
			return nil, fmt.Errorf("config.%s[%d]: %w", key, i, err)
		}
		out = append(out, re)
	}
	return out, nil
}

// domainRule checks one domain entry and returns it in the form hosts are
// compared in.
func domainRule(d string) (string, error) {
	s := strings.TrimSpace(d)
	switch {
	case s == "":
		return "", fmt.Errorf("must not be empty")
	case strings.HasPrefix(s, ".") || strings.HasPrefix(s, "*"):
		return "", fmt.Errorf("%q: write example.com, which covers its subdomains too", d)
	case strings.ContainsAny(s, "/@?#") || (strings.Contains(s, ":") && !strings.HasPrefix(s, "[") && strings.Count(s, ":") < 2):
		return "", fmt.Errorf("%q is not a host: write a name such as example.com or an IP address", d)
	}
	h, err := mcpparse.CanonicalHost(s)
	if err != nil {
		return "", fmt.Errorf("%q is not a host: %w", d, err)
	}
	return h, nil
}

// validScheme reports whether s, lower-cased, has RFC 3986 scheme syntax.
func validScheme(s string) bool {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	for i := 1; i < len(s); i++ {
		if !isSchemeByte(s[i]) {
			return false
		}
	}
	return true
}

func isSchemeByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '+' || c == '-' || c == '.'
}
