package resourcefilter

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/mcp-extproc/mcp-extproc/framework"
	"github.com/mcp-extproc/mcp-extproc/plugins/internal/kindconfig"
)

// KindName is the kind's name in plugins[].kind.
const KindName = "resource_filter"

// Config is the kind's settings (plugins[].config), with their defaults in
// DefaultConfig.
type Config struct {
	// AllowedProtocols lists the URI schemes that may be read, compared
	// case-insensitively. An empty list refuses every URI.
	AllowedProtocols []string `yaml:"allowed_protocols"`
	// BlockedDomains refuses URIs whose host is one of these domains or a
	// subdomain of one, compared case-insensitively, without trailing dots.
	BlockedDomains []string `yaml:"blocked_domains"`
	// MaxContentSize bounds the bytes of text and (decoded) blob content in a
	// result; 0 disables the check.
	MaxContentSize int `yaml:"max_content_size"`
	// ContentFilters rewrite the text of the contents, in order.
	ContentFilters []ContentFilter `yaml:"content_filters"`
	// Embedded is block (the default) to apply allowed_protocols and
	// blocked_domains to resources embedded in, or linked from, tool and
	// prompt results as well, refusing the whole result; allow checks only
	// resources/read.
	Embedded Embedded `yaml:"embedded"`
}

// ContentFilter replaces every match of Pattern in text contents.
type ContentFilter struct {
	// Pattern is a Go (RE2) regular expression, matched case-insensitively
	// as ContextForge does.
	Pattern string `yaml:"pattern"`
	// Replacement is the replacement template ($1, ${name} expand groups);
	// "***" when not set.
	Replacement *string `yaml:"replacement"`
}

// DefaultReplacement replaces content_filters matches that name no replacement.
const DefaultReplacement = "***"

// DefaultConfig returns the settings a plugin gets when its config says nothing.
func DefaultConfig() Config {
	return Config{
		AllowedProtocols: []string{"http", "https"},
		BlockedDomains:   []string{},
		MaxContentSize:   1 << 20,
		ContentFilters:   []ContentFilter{},
		Embedded:         EmbeddedBlock,
	}
}

// kindHooks are the hooks of the kind; with embedded: allow a plugin runs
// only the resource ones (Plugin.Hooks).
var kindHooks = []framework.HookType{framework.ToolPostInvoke, framework.PromptPostFetch, framework.ResourcePreFetch, framework.ResourcePostFetch}

func init() {
	framework.Register(framework.Kind{
		Name: KindName,
		Aliases: []string{
			"plugins.resource_filter.resource_filter.ResourceFilterPlugin",
			"ResourceFilterPlugin",
			"plugins.resource_filter.ResourceFilterPlugin",
		},
		Description: "refuse resource URIs by protocol and domain, in resources/read and embedded in tool and prompt results; bound result size, rewrite text contents",
		Hooks:       kindHooks,
		Defaults:    DefaultConfig(),
		New:         kindconfig.Factory(DefaultConfig, New),
		Inline:      true,
	})
}

// New checks cfg and builds a plugin from it. Errors name the offending key.
func New(cfg Config) (*Plugin, error) {
	p := &Plugin{
		allowed:   make(map[string]bool, len(cfg.AllowedProtocols)),
		protocols: make([]string, 0, len(cfg.AllowedProtocols)),
		maxSize:   cfg.MaxContentSize,
		embedded:  cfg.Embedded,
	}
	if !cfg.Embedded.valid() {
		return nil, kindconfig.BadChoice("config.embedded", string(cfg.Embedded), "block", "allow")
	}
	for i, proto := range cfg.AllowedProtocols {
		s := strings.ToLower(strings.TrimSpace(proto))
		if !validScheme(s) {
			return nil, fmt.Errorf("config.allowed_protocols[%d]: %q is not a URI scheme (write \"https\", not \"https://\")", i, proto)
		}
		if !p.allowed[s] {
			p.allowed[s] = true
			p.protocols = append(p.protocols, s)
		}
	}
	for i, d := range cfg.BlockedDomains {
		nd, err := normalizeDomainRule(d)
		if err != nil {
			return nil, fmt.Errorf("config.blocked_domains[%d]: %w", i, err)
		}
		p.blocked = append(p.blocked, nd)
	}
	if cfg.MaxContentSize < 0 {
		return nil, fmt.Errorf("config.max_content_size: must not be negative (0 disables the limit), got %d", cfg.MaxContentSize)
	}
	for i, f := range cfg.ContentFilters {
		if f.Pattern == "" {
			return nil, fmt.Errorf("config.content_filters[%d].pattern: must not be empty", i)
		}
		expr := "(?i)" + f.Pattern
		re, err := regexp.Compile(expr)
		if err != nil {
			return nil, fmt.Errorf("config.content_filters[%d].pattern: %w", i, err)
		}
		repl := DefaultReplacement
		if f.Replacement != nil {
			repl = *f.Replacement
		}
		p.filters = append(p.filters, filter{re: re, pre: newPrefilter(expr), repl: repl})
	}
	return p, nil
}

// validScheme reports whether s has RFC 3986 scheme syntax:
// ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ), already lower-cased.
func validScheme(s string) bool {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '+' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}
