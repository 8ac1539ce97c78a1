package policyinput

import (
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/mcp-extproc/mcp-extproc/mcpparse"
)

// ErrResource is wrapped by the errors of a resource URI a rule cannot
// decide on: one that does not parse, or whose host does not normalise.
var ErrResource = errors.New("resource URI cannot be read as a fetcher reads it")

// special lists the schemes whose URIs always name a host (WHATWG's special
// schemes but file): a browser finds "evil.com" in "http:evil.com" where
// Go's net/url finds no host, so such a URI is refused rather than read two
// ways. Their paths treat "\" as "/".
var special = map[string]bool{"http": true, "https": true, "ws": true, "wss": true, "ftp": true}

// parseResource splits a resource URI into the resource variable: uri as
// sent, scheme lower-case, host normalised by mcpparse.CanonicalHost, path
// with dot segments removed and percent escapes decoded.
func parseResource(raw string) (map[string]any, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrResource, err)
	}
	host, err := mcpparse.CanonicalHost(u.Hostname())
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrResource, err)
	}
	if host == "" && special[u.Scheme] {
		return nil, fmt.Errorf("%w: a %s URI without a host", ErrResource, u.Scheme)
	}
	p := u.EscapedPath()
	if u.Opaque != "" {
		p = u.Opaque
	}
	if special[u.Scheme] {
		p = strings.ReplaceAll(p, `\`, "/")
	}
	p = removeDotSegments(p)
	if dec, err := url.PathUnescape(p); err == nil {
		p = dec
	}
	return map[string]any{"uri": raw, "scheme": u.Scheme, "host": host, "path": p}, nil
}

// removeDotSegments resolves "." and ".." segments as the WHATWG URL path
// parser does (also when written %2e), so that "/public/../admin" is read
// as "/admin" — what the server will be asked for — and empty segments are
// kept ("/a//../b" is "/a/b", as a browser reads it, not path.Clean's "/b").
func removeDotSegments(p string) string {
	if !strings.Contains(p, ".") && !strings.Contains(strings.ToLower(p), "%2e") {
		return p
	}
	abs := strings.HasPrefix(p, "/")
	segs := strings.Split(strings.TrimPrefix(p, "/"), "/")
	out := make([]string, 0, len(segs))
	for i, s := range segs {
		last := i == len(segs)-1
		switch strings.ToLower(s) {
		case ".", "%2e":
			if last {
				out = append(out, "")
			}
		case "..", ".%2e", "%2e.", "%2e%2e":
			if len(out) > 0 {
				out = out[:len(out)-1]
			}
			if last {
				out = append(out, "")
			}
		default:
			out = append(out, s)
		}
	}
	s := strings.Join(out, "/")
	if abs {
		s = "/" + s
	}
	return s
}
