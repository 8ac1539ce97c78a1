package resourcefilter

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
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
		return uriVerdict{code: CodeInvalidURI, problem: "unparsable"}
	}
	if u.Scheme == "" {
		return uriVerdict{code: CodeInvalidURI, problem: "missing_scheme"}
	}
	// url.Parse lower-cases the scheme.
	if !p.allowed[u.Scheme] {
		return uriVerdict{code: CodeProtocolBlocked, protocol: u.Scheme}
	}
	host := normalizeHost(u.Hostname())
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

// normalizeHost lower-cases a host and drops the trailing dots of a fully
// qualified name, so that EVIL.COM. and evil.com compare equal; IP addresses
// take their canonical text form (0:0::1 is ::1).
func normalizeHost(h string) string {
	if ip := net.ParseIP(h); ip != nil {
		return ip.String()
	}
	return strings.TrimRight(strings.ToLower(h), ".")
}

// normalizeDomainRule checks one blocked_domains entry and returns it in the
// form hosts are compared in.
func normalizeDomainRule(d string) (string, error) {
	s := strings.TrimSpace(d)
	if strings.HasPrefix(s, "[") && strings.HasSuffix(s, "]") {
		s = s[1 : len(s)-1]
	}
	if ip := net.ParseIP(s); ip != nil {
		return ip.String(), nil
	}
	s = normalizeHost(s)
	switch {
	case s == "":
		return "", errors.New("must not be empty")
	case strings.ContainsAny(s, "/:@?#*[] \t"):
		return "", fmt.Errorf("%q is not a domain name: write a host such as example.com (its subdomains are blocked too)", d)
	case strings.HasPrefix(s, "."):
		return "", fmt.Errorf("%q starts with a dot: write example.com, which blocks its subdomains too", d)
	}
	return s, nil
}
