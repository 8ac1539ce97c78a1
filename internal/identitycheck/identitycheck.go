// Package identitycheck answers, for the Envoy configurations we ship, the
// question the trust model rests on: is every identity header a policy
// reads removed from the client's request before the ext_proc filter runs,
// and written back only by a filter that verified a token? It reads Envoy's
// own types (go-control-plane). Tests of envoy/ and deploy/ use it; no
// program links it.
package identitycheck

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	headermutationv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/header_mutation/v3"
	jwtauthnv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/jwt_authn/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"

	"google.golang.org/protobuf/types/known/anypb"
	networkingv1alpha3 "istio.io/api/networking/v1alpha3"

	"github.com/mcp-extproc/mcp-extproc/framework"
	"github.com/mcp-extproc/mcp-extproc/internal/k8sdecode"
)

// Filter names, as Envoy's http_filters name them.
const (
	ExtProc        = "envoy.filters.http.ext_proc"
	HeaderMutation = "envoy.filters.http.header_mutation"
	JWTAuthn       = "envoy.filters.http.jwt_authn"
)

// Chain is what an HTTP filter chain does with identity headers before its
// ext_proc filter: the request headers header_mutation filters remove, and
// those jwt_authn writes from verified tokens (forward_payload_header,
// claim_to_headers), each lower-cased.
type Chain struct {
	Stripped map[string]bool
	Verified map[string]bool
}

// BeforeExtProc walks filters in order up to the first ext_proc filter. It
// is an error when there is none, when a filter's config cannot be read, or
// when a header is written by jwt_authn before a later header_mutation
// removes it (the verified value would be lost).
func BeforeExtProc(filters []*hcmv3.HttpFilter) (Chain, error) {
	c := Chain{Stripped: map[string]bool{}, Verified: map[string]bool{}}
	for i, f := range filters {
		switch f.GetName() {
		case ExtProc:
			return c, nil
		case HeaderMutation:
			var hm headermutationv3.HeaderMutation
			if err := f.GetTypedConfig().UnmarshalTo(&hm); err != nil {
				return c, fmt.Errorf("http_filters[%d] %s: %w", i, f.GetName(), err)
			}
			for _, m := range hm.GetMutations().GetRequestMutations() {
				if h := strings.ToLower(m.GetRemove()); h != "" {
					if c.Verified[h] {
						return c, fmt.Errorf("http_filters[%d] removes %s after jwt_authn wrote it from a verified token", i, h)
					}
					c.Stripped[h] = true
				}
			}
		case JWTAuthn:
			var ja jwtauthnv3.JwtAuthentication
			if err := f.GetTypedConfig().UnmarshalTo(&ja); err != nil {
				return c, fmt.Errorf("http_filters[%d] %s: %w", i, f.GetName(), err)
			}
			for _, p := range ja.GetProviders() {
				if h := p.GetForwardPayloadHeader(); h != "" {
					c.Verified[strings.ToLower(h)] = true
				}
				for _, ch := range p.GetClaimToHeaders() {
					c.Verified[strings.ToLower(ch.GetHeaderName())] = true
				}
			}
		}
	}
	return c, fmt.Errorf("no %s filter in the chain", ExtProc)
}

// Missing returns the headers of want that the chain does not remove
// before ext_proc.
func (c Chain) Missing(want []string) []string {
	var out []string
	for _, h := range want {
		if !c.Stripped[strings.ToLower(h)] {
			out = append(out, h)
		}
	}
	return out
}

// PolicyHeaders returns the identity headers of a policy: every header its
// mcp.identity names for user, tenant, server and claims, and its
// forward_headers, lower-cased. The request id header is not identity
// (nothing is decided on it).
func PolicyHeaders(cfg *framework.Config) []string {
	id := cfg.MCP.Identity
	var out []string
	for _, h := range append([]string{id.UserHeader, id.TenantHeader, id.ServerIDHeader, id.ClaimsHeader}, cfg.MCP.ForwardHeaders...) {
		if h = strings.ToLower(strings.TrimSpace(h)); h != "" && !slices.Contains(out, h) {
			out = append(out, h)
		}
	}
	return out
}

// ExampleHeaders returns the identity headers the example policies use
// (examples/default.yaml and examples/policies/*.yaml under root), with the
// file each was first found in. The example policies must load: a policy
// that does not parse fails here rather than being skipped.
func ExampleHeaders(root string) (map[string]string, error) {
	files, err := filepath.Glob(filepath.Join(root, "examples", "policies", "*.yaml"))
	if err != nil {
		return nil, err
	}
	files = append(files, filepath.Join(root, "examples", "default.yaml"))
	out := map[string]string{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		cfg, _, err := framework.Parse(data, f, framework.LoadOptions{})
		if err != nil {
			return nil, err
		}
		for _, h := range PolicyHeaders(cfg) {
			if _, ok := out[h]; !ok {
				out[h] = filepath.Base(f)
			}
		}
	}
	return out, nil
}

// IstioChain is the HTTP filter chain Istio builds from an EnvoyFilter's
// HTTP_FILTER patches, applied in order to a chain that already holds
// Istio's own jwt_authn (where a RequestAuthentication's outputs are
// written: jwtHeaders) and the router: INSERT_FIRST goes ahead of
// everything, INSERT_BEFORE and INSERT_AFTER next to the filter they name.
func IstioChain(patches []k8sdecode.HTTPFilterPatch, jwtHeaders []string) ([]*hcmv3.HttpFilter, error) {
	provider := &jwtauthnv3.JwtProvider{}
	for _, h := range jwtHeaders {
		provider.ClaimToHeaders = append(provider.ClaimToHeaders, &jwtauthnv3.JwtClaimToHeader{HeaderName: h})
	}
	istioJWT, err := anypb.New(&jwtauthnv3.JwtAuthentication{Providers: map[string]*jwtauthnv3.JwtProvider{"istio": provider}})
	if err != nil {
		return nil, err
	}
	chain := []*hcmv3.HttpFilter{
		{Name: JWTAuthn, ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: istioJWT}},
		{Name: "envoy.filters.http.router"},
	}
	for i, p := range patches {
		at := slices.IndexFunc(chain, func(f *hcmv3.HttpFilter) bool { return f.GetName() == p.SubFilter })
		switch p.Operation {
		case networkingv1alpha3.EnvoyFilter_Patch_INSERT_FIRST:
			chain = slices.Insert(chain, 0, p.Filter)
		case networkingv1alpha3.EnvoyFilter_Patch_INSERT_BEFORE, networkingv1alpha3.EnvoyFilter_Patch_INSERT_AFTER:
			if at < 0 {
				return nil, fmt.Errorf("patch %d: %s %q: no such filter in the chain", i, p.Operation, p.SubFilter)
			}
			if p.Operation == networkingv1alpha3.EnvoyFilter_Patch_INSERT_AFTER {
				at++
			}
			chain = slices.Insert(chain, at, p.Filter)
		default:
			return nil, fmt.Errorf("patch %d: operation %s is not modelled", i, p.Operation)
		}
	}
	return chain, nil
}
