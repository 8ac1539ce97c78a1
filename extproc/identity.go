package extproc

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/mcp-extproc/mcp-extproc/framework"
)

// identity builds the global context of an exchange (design section 4) from
// the request headers: request id, then user, tenant and server from their
// headers, with claims forwarded by Envoy's jwt_authn taking precedence when
// present — Envoy verified the token, while a plain header is only as
// trustworthy as the route that sets it.
func identity(cfg *framework.IdentityConfig, h headers) framework.GlobalContext {
	// Copies: header values are views of Envoy's message (headersFrom),
	// and the identity outlives it in the session table.
	g := framework.GlobalContext{
		RequestID: strings.Clone(h.get(cfg.RequestIDHeader)),
		User:      strings.Clone(h.get(cfg.UserHeader)),
		TenantID:  strings.Clone(h.get(cfg.TenantHeader)),
		ServerID:  strings.Clone(h.get(cfg.ServerIDHeader)),
		// content_types conditions match it, as cpex's do.
		ContentType: strings.Clone(h.get("content-type")),
	}
	if g.RequestID == "" {
		g.RequestID = newRequestID()
	}
	if cfg.ClaimsHeader != "" {
		if claims, err := decodeClaims(h.get(cfg.ClaimsHeader)); err == nil {
			g.Claims = claims
			if v := claimString(claims, cfg.UserClaim); v != "" {
				g.User = v
			}
			if v := claimString(claims, cfg.TenantClaim); v != "" {
				g.TenantID = v
			}
		}
	}
	return g
}

// decodeClaims reads the JWT payload that jwt_authn's forward_payload_header
// writes: base64url JSON, normally without padding.
func decodeClaims(v string) (map[string]any, error) {
	if v == "" {
		return nil, fmt.Errorf("no claims")
	}
	v = strings.TrimRight(strings.TrimSpace(v), "=")
	raw, err := base64.RawURLEncoding.DecodeString(v)
	if err != nil {
		if raw, err = base64.RawStdEncoding.DecodeString(v); err != nil {
			return nil, fmt.Errorf("claims header is not base64url: %w", err)
		}
	}
	var claims map[string]any
	if err := json.Unmarshal(raw, &claims); err != nil {
		return nil, fmt.Errorf("claims header is not a JSON object: %w", err)
	}
	return claims, nil
}

// claimString reads a claim by name; a dotted name walks nested objects
// ("realm.tenant").
func claimString(claims map[string]any, name string) string {
	if name == "" {
		return ""
	}
	var cur any = claims
	for part := range strings.SplitSeq(name, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return ""
		}
		cur = m[part]
	}
	switch v := cur.(type) {
	case string:
		return v
	case float64:
		return fmt.Sprint(v)
	}
	return ""
}

func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
