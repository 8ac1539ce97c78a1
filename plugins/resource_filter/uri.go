package resourcefilter

import (
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/mcp-extproc/mcp-extproc/mcpparse"
)

// uriVerdict is what the pre-fetch check found wrong with a URI; the zero
// value means nothing.
type uriVerdict struct {
	code     string // CodeInvalidURI, CodeProtocolBlocked or CodeDomainBlocked
	problem  string // for CodeInvalidURI: unparsable, missing_scheme, missing_host
	protocol string
	domain   string // the URI's host, normalised
	rule     string // the blocked_domains entry that matched
}

// authorityRequired lists schemes whose URIs name a host. Browsers and
// WHATWG URL parsers (Node's fetch, for one) find a host in "http:evil.com"
// or "http:///evil.com", where Go's net/url finds none; such URIs are
// refused rather than read two ways.
var authorityRequired = map[string]bool{"http": true, "https": true, "ws": true, "wss": true, "ftp": true}

// checkURI applies allowed_protocols and blocked_domains to a URI.
func (p *Plugin) checkURI(raw string) uriVerdict {
	u, err := url.Parse(raw)
	if err != nil {
		// net/url refuses percent-escaped ASCII in a host, which WHATWG
		// parsers decode ("%65vil.com" is evil.com): read it as they do.
		if fixed, ok := decodeEscapedHost(raw); ok {
			u, err = url.Parse(fixed)
		}
		if err != nil {
			return uriVerdict{code: CodeInvalidURI, problem: "unparsable"}
		}
	}
	if u.Scheme == "" {
		return uriVerdict{code: CodeInvalidURI, problem: "missing_scheme"}
	}
	// url.Parse lower-cases the scheme.
	if !p.allowed[u.Scheme] {
		return uriVerdict{code: CodeProtocolBlocked, protocol: u.Scheme}
	}
	host, err := mcpparse.CanonicalHost(u.Hostname())
	if err != nil {
		return uriVerdict{code: CodeInvalidURI, problem: "bad_host", protocol: u.Scheme}
	}
	if host == "" && authorityRequired[u.Scheme] {
		return uriVerdict{code: CodeInvalidURI, problem: "missing_host", protocol: u.Scheme}
	}
	if host != "" {
		if rule, ok := p.blockedDomain(host); ok {
			return uriVerdict{code: CodeDomainBlocked, protocol: u.Scheme, domain: host, rule: rule}
		}
	}
	return uriVerdict{}
}

// decodeEscapedHost rewrites the percent-escaped host of a hierarchical URI
// into its canonical form, or reports false when there is no such host.
func decodeEscapedHost(raw string) (string, bool) {
	i := strings.Index(raw, "://")
	if i <= 0 {
		return "", false
	}
	start := i + 3
	end := len(raw)
	if j := strings.IndexAny(raw[start:], "/?#"); j >= 0 {
		end = start + j
	}
	if at := strings.LastIndexByte(raw[start:end], '@'); at >= 0 {
		start += at + 1
	}
	host := raw[start:end]
	if c := strings.LastIndexByte(host, ':'); c >= 0 && !strings.HasPrefix(host, "[") {
		host = host[:c]
	}
	if !strings.Contains(host, "%") {
		return "", false
	}
	h, err := mcpparse.CanonicalHost(host)
	if err != nil || h == "" || strings.Contains(h, ":") {
		return "", false
	}
	return raw[:start] + h + raw[start+len(host):], true
}

// blockedDomain reports the blocked_domains entry host equals or is a
// subdomain of.
func (p *Plugin) blockedDomain(host string) (string, bool) {
	for _, d := range p.blocked {
		if host == d || (len(host) > len(d) && strings.HasSuffix(host, d) && host[len(host)-len(d)-1] == '.') {
			return d, true
		}
	}
	return "", false
}

// normalizeDomainRule checks one blocked_domains entry and returns it in the
// form hosts are compared in.
func normalizeDomainRule(d string) (string, error) {
	s := strings.TrimSpace(d)
	switch {
	case s == "":
		return "", errors.New("must not be empty")
	case strings.HasPrefix(s, "."):
		return "", fmt.Errorf("%q starts with a dot: write example.com, which blocks its subdomains too", d)
	case strings.ContainsAny(s, "/@?#*") || (strings.Contains(s, ":") && !strings.HasPrefix(s, "[") && strings.Count(s, ":") < 2):
		return "", fmt.Errorf("%q is not a domain name: write a host such as example.com (its subdomains are blocked too)", d)
	}
	h, err := mcpparse.CanonicalHost(s)
	if err != nil {
		return "", fmt.Errorf("%q is not a domain name: write a host such as example.com (its subdomains are blocked too): %w", d, err)
	}
	return h, nil
}
