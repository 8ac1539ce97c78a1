package urlreputation

import (
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"regexp"
	"strings"

	"github.com/mcp-extproc/mcp-extproc/framework"
	"github.com/mcp-extproc/mcp-extproc/mcpparse"
	"github.com/mcp-extproc/mcp-extproc/plugins/internal/hookjson"
	"github.com/mcp-extproc/mcp-extproc/plugins/internal/textwalk"
)

// CodeURLBlocked is the violation code of a message refused for a URL it carries.
const CodeURLBlocked = "URL_BLOCKED"

// Plugin is a loaded url_reputation. Once initialised it is immutable and
// safe for concurrent use.
type Plugin struct {
	allow, deny           domainSet
	allowRe, denyRe       []*regexp.Regexp
	denyNets              []netip.Prefix
	mixedScript, punycode bool
	ipHosts, insecure     bool
	entropy               bool
	threshold             float64
	denyFiles, allowFiles []string
	schemeFinder          schemeFinder
}

var (
	_ framework.Initializer         = (*Plugin)(nil)
	_ framework.ToolPreInvoker      = (*Plugin)(nil)
	_ framework.ResourcePreFetcher  = (*Plugin)(nil)
	_ framework.ResourcePostFetcher = (*Plugin)(nil)
)

// Initialize reads the blocklist and allowlist files. The policy reload
// builds a new plugin, so a changed file is read again on reload.
func (p *Plugin) Initialize(ctx context.Context) error {
	for _, l := range []struct {
		key   string
		files []string
		into  domainSet
	}{{"deny_domain_files", p.denyFiles, p.deny}, {"allow_domain_files", p.allowFiles, p.allow}} {
		for i, f := range l.files {
			if err := ctx.Err(); err != nil {
				return err
			}
			if err := loadDomainFile(f, l.into, l.key); err != nil {
				return fmt.Errorf("config.%s[%d]: %w", l.key, i, err)
			}
		}
	}
	return nil
}

// verdict is why a URL is refused.
type verdict struct {
	reason string // denied_domain, denied_ip_range, denied_pattern, bad_host, …
	host   string // canonical host ("" when it does not normalise)
	rule   string // the entry or list that matched
	scheme string
}

// Reasons a URL is refused, as details.reason says them.
const (
	ReasonBadHost       = "bad_host"
	ReasonDeniedDomain  = "denied_domain"
	ReasonDeniedIPRange = "denied_ip_range"
	ReasonDeniedPattern = "denied_pattern"
	ReasonIPHost        = "ip_host"
	ReasonPunycode      = "punycode"
	ReasonMixedScript   = "mixed_script"
	ReasonConfusable    = "confusable_script"
	ReasonHighEntropy   = "high_entropy"
	ReasonNonSecureHTTP = "non_secure_http"
)

// check judges one URL; nil lets it pass.
func (p *Plugin) check(u rawURL) *verdict {
	host, err := canonicalHost(u.host)
	if err != nil {
		// A URL on its own that a fetcher could be handed is refused; one in
		// prose ("https://%s/api" in a code sample) no fetcher can resolve.
		if !u.whole {
			return nil
		}
		return &verdict{reason: ReasonBadHost, scheme: u.scheme}
	}
	if host == "" {
		return nil
	}
	addr, ipErr := netip.ParseAddr(host)
	isIP := ipErr == nil
	if d, _ := p.allow.match(host, isIP); d != "" {
		return nil
	}
	norm := ""
	if len(p.allowRe) > 0 || len(p.denyRe) > 0 {
		norm = normalised(u, host, isIP)
	}
	for _, re := range p.allowRe {
		if re.MatchString(norm) {
			return nil
		}
	}
	v := &verdict{host: host, scheme: u.scheme}
	if d, src := p.deny.match(host, isIP); d != "" {
		v.reason, v.rule = ReasonDeniedDomain, src+": "+d
		return v
	}
	if isIP {
		for _, n := range p.denyNets {
			if n.Contains(addr.Unmap()) {
				v.reason, v.rule = ReasonDeniedIPRange, n.String()
				return v
			}
		}
		if p.ipHosts {
			v.reason = ReasonIPHost
			return v
		}
	} else {
		if p.punycode && (strings.HasPrefix(host, "xn--") || strings.Contains(host, ".xn--")) {
			v.reason = ReasonPunycode
			return v
		}
		if p.mixedScript {
			if why := homoglyph(host); why != "" {
				v.reason = why
				return v
			}
		}
		if p.entropy && nameEntropy(host) > p.threshold {
			v.reason = ReasonHighEntropy
			return v
		}
	}
	for i, re := range p.denyRe {
		if re.MatchString(norm) {
			v.reason, v.rule = ReasonDeniedPattern, fmt.Sprintf("deny_patterns[%d]", i)
			return v
		}
	}
	if p.insecure && (u.scheme == "http" || u.scheme == "ws") {
		v.reason = ReasonNonSecureHTTP
		return v
	}
	return nil
}

// canonicalHost is mcpparse.CanonicalHost with a fast path for the common
// case it would return unchanged but for case: letters, digits, hyphens
// and single dots, no xn-- label, a last label that is not a number.
func canonicalHost(h string) (string, error) {
	upper, lastDot := false, -1
	for i := 0; i < len(h); i++ {
		c := h[i]
		switch {
		case 'a' <= c && c <= 'z', c == '-':
		case '0' <= c && c <= '9':
		case 'A' <= c && c <= 'Z':
			upper = true
		case c == '.' && i > 0 && i > lastDot+1 && i < len(h)-1:
			lastDot = i
		default:
			return mcpparse.CanonicalHost(h)
		}
	}
	last := h[lastDot+1:]
	if last == "" || last[0] >= '0' && last[0] <= '9' || strings.Contains(h, "xn--") || strings.Contains(h, "XN--") || strings.Contains(h, "Xn--") || strings.Contains(h, "xN--") {
		return mcpparse.CanonicalHost(h)
	}
	if upper {
		return strings.ToLower(h), nil
	}
	return h, nil
}

// normalised is the URL patterns are matched against: scheme and host in
// canonical form, the port, then the path, query and fragment as written.
func normalised(u rawURL, host string, isIP bool) string {
	var b strings.Builder
	b.WriteString(u.scheme)
	b.WriteString("://")
	if isIP && strings.Contains(host, ":") {
		b.WriteString("[" + host + "]")
	} else {
		b.WriteString(host)
	}
	if u.port != "" {
		b.WriteString(":" + u.port)
	}
	b.WriteString(u.rest)
	return b.String()
}

// scanString checks every URL in s and returns the first refusal.
func (p *Plugin) scanString(s string) *verdict {
	var found *verdict
	p.schemeFinder.scan(s, func(u rawURL) {
		if found == nil {
			found = p.check(u)
		}
	})
	return found
}

// scanJSON checks the URLs in every string of raw (a JSON value), and
// returns the first refusal and the path of the string that held it.
func (p *Plugin) scanJSON(ctx context.Context, pc *framework.PluginContext, v textwalk.Value, raw []byte, root string) (*verdict, string, error) {
	var found *verdict
	var field string
	_, _, err := textwalk.Walk(ctx, pc, KindName, v, raw, 4, func(path mcpparse.Path, s string) (string, bool) {
		if found == nil && strings.IndexByte(s, ':') >= 0 {
			if found = p.scanString(s); found != nil {
				field = root + path.String()[1:]
			}
		}
		return "", false
	})
	return found, field, err
}

func (v *verdict) violation(where, field string) *framework.Violation {
	what := "a host that does not normalise"
	if v.host != "" {
		what = v.host
	}
	details := map[string]any{"reason": v.reason, "scheme": v.scheme, "field": field}
	if v.host != "" {
		details["host"] = v.host
	}
	if v.rule != "" {
		details["rule"] = v.rule
	}
	return &framework.Violation{
		Reason:      "URL blocked",
		Description: fmt.Sprintf("a URL in %s points to %s (%s)", where, what, strings.ReplaceAll(v.reason, "_", " ")),
		Code:        CodeURLBlocked,
		Details:     details,
	}
}

// inspect is the hookjson.Inspect of every JSON-valued hook.
func (p *Plugin) inspect(ctx context.Context, hook framework.HookType, where string, raw json.RawMessage, pc *framework.PluginContext) (json.RawMessage, *framework.Violation, map[string]any, error) {
	if len(raw) == 0 {
		return nil, nil, nil, ctx.Err()
	}
	v, field, err := p.scanJSON(ctx, pc, textwalk.ValueOf(hook), raw, "$")
	if err != nil || v == nil {
		return nil, nil, nil, err
	}
	return nil, v.violation(where, field), nil, nil
}

// ToolPreInvoke checks the URLs in the tool arguments.
func (p *Plugin) ToolPreInvoke(ctx context.Context, pl *framework.ToolPreInvokePayload, pc *framework.PluginContext) (framework.Result[framework.ToolPreInvokePayload], error) {
	return hookjson.ToolPreInvoke(ctx, pl, pc, p.inspect)
}

// ToolPostInvoke checks the URLs in the tool result.
func (p *Plugin) ToolPostInvoke(ctx context.Context, pl *framework.ToolPostInvokePayload, pc *framework.PluginContext) (framework.Result[framework.ToolPostInvokePayload], error) {
	return hookjson.ToolPostInvoke(ctx, pl, pc, p.inspect)
}

// PromptPreFetch checks the URLs in the prompt arguments.
func (p *Plugin) PromptPreFetch(ctx context.Context, pl *framework.PromptPreFetchPayload, pc *framework.PluginContext) (framework.Result[framework.PromptPreFetchPayload], error) {
	return hookjson.PromptPreFetch(ctx, pl, pc, p.inspect)
}

// PromptPostFetch checks the URLs in the prompt result.
func (p *Plugin) PromptPostFetch(ctx context.Context, pl *framework.PromptPostFetchPayload, pc *framework.PluginContext) (framework.Result[framework.PromptPostFetchPayload], error) {
	return hookjson.PromptPostFetch(ctx, pl, pc, p.inspect)
}

// ResourcePreFetch checks the resource URI and the URLs in the request's _meta.
func (p *Plugin) ResourcePreFetch(ctx context.Context, pl *framework.ResourcePreFetchPayload, pc *framework.PluginContext) (framework.Result[framework.ResourcePreFetchPayload], error) {
	var res framework.Result[framework.ResourcePreFetchPayload]
	if err := ctx.Err(); err != nil {
		return res, err
	}
	if v := p.scanString(pl.URI); v != nil {
		res.Violation = v.violation("the resource URI", "$.uri")
		return res, nil
	}
	if len(pl.Metadata) > 0 {
		v, field, err := p.scanJSON(ctx, pc, textwalk.Arguments, pl.Metadata, "$._meta")
		if err != nil {
			return res, err
		}
		if v != nil {
			res.Violation = v.violation("the resource request", field)
		}
	}
	return res, nil
}

// ResourcePostFetch checks the URLs in the resource contents (their uri and text).
func (p *Plugin) ResourcePostFetch(ctx context.Context, pl *framework.ResourcePostFetchPayload, pc *framework.PluginContext) (framework.Result[framework.ResourcePostFetchPayload], error) {
	return hookjson.ResourcePostFetch(ctx, pl, pc, p.inspect)
}
