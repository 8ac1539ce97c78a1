package envoy_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	egv1a1 "github.com/envoyproxy/gateway/api/v1alpha1"
	jwtauthnv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/jwt_authn/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"

	"github.com/mcp-extproc/mcp-extproc/envoy"
	"github.com/mcp-extproc/mcp-extproc/extproc/extproctest"
	"github.com/mcp-extproc/mcp-extproc/internal/identitycheck"
	"github.com/mcp-extproc/mcp-extproc/internal/k8sdecode"
	_ "github.com/mcp-extproc/mcp-extproc/plugins/all"
)

// exampleHeaders are the identity headers of the example policies.
func exampleHeaders(t *testing.T) map[string]string {
	t.Helper()
	hs, err := identitycheck.ExampleHeaders("..")
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range []string{"x-user-id", "x-tenant-id", "x-jwt-payload"} {
		if _, ok := hs[h]; !ok {
			t.Fatalf("no example policy uses %s any more (found %v): update this test", h, hs)
		}
	}
	return hs
}

func bootstrapHCM(t *testing.T) *hcmv3.HttpConnectionManager {
	t.Helper()
	b, err := envoy.ParseBootstrap(envoy.BootstrapYAML)
	if err != nil {
		t.Fatal(err)
	}
	var hcm hcmv3.HttpConnectionManager
	if err := b.StaticResources.Listeners[0].FilterChains[0].Filters[0].GetTypedConfig().UnmarshalTo(&hcm); err != nil {
		t.Fatal(err)
	}
	return &hcm
}

// Every identity header an example policy reads is removed from the
// client's request by a filter that runs before ext_proc, and written back
// only by jwt_authn after it: a client cannot name its own tenant.
func TestBootstrapStripsIdentityHeaders(t *testing.T) {
	hs := exampleHeaders(t)
	c, err := identitycheck.BeforeExtProc(bootstrapHCM(t).HttpFilters)
	if err != nil {
		t.Fatal(err)
	}
	for h, file := range hs {
		if !c.Stripped[h] {
			t.Errorf("envoy.yaml passes a client's %s (read by %s) to ext_proc", h, file)
		}
	}
	for _, h := range []string{"x-user-id", "x-tenant-id", "x-jwt-payload"} {
		if !c.Verified[h] {
			t.Errorf("envoy.yaml's jwt_authn does not write %s", h)
		}
	}
	// The check itself: the strip moved after ext_proc is found.
	filters := slices.Clone(bootstrapHCM(t).HttpFilters)
	strip := filters[0]
	filters = append(filters[1:len(filters)-1:len(filters)-1], strip, filters[len(filters)-1])
	if c, err := identitycheck.BeforeExtProc(filters); err != nil || len(c.Missing([]string{"x-tenant-id"})) != 1 {
		t.Fatalf("a strip after ext_proc went unnoticed: %+v %v", c, err)
	}
	// And a strip after jwt_authn, which would remove the verified value.
	filters = slices.Clone(bootstrapHCM(t).HttpFilters)
	filters[0], filters[1] = filters[1], filters[0]
	if _, err := identitycheck.BeforeExtProc(filters); err == nil {
		t.Fatal("a strip after jwt_authn went unnoticed")
	}
}

// The worked example of envoy/README.md: the demo tokens there verify
// against the key in envoy.yaml's jwt_authn provider, and what Envoy then
// forwards — the token's payload in x-jwt-payload, sub and org in x-user-id
// and x-tenant-id, whatever the client sent in those headers — puts alice
// in acme's read-only policy, and bob in globex's.
func TestJWTWorkedExample(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	tokens := map[string]string{}
	for _, m := range regexp.MustCompile(`(?m)^(ALICE|BOB)=(eyJ[\w-]+\.eyJ[\w-]+\.[\w-]+)$`).FindAllStringSubmatch(string(readme), -1) {
		tokens[m[1]] = m[2]
	}
	if len(tokens) != 2 {
		t.Fatalf("envoy/README.md should give ALICE=… and BOB=… tokens, found %v", tokens)
	}
	var provider *jwtauthnv3.JwtProvider
	for _, f := range bootstrapHCM(t).HttpFilters {
		if f.GetName() == identitycheck.JWTAuthn {
			var ja jwtauthnv3.JwtAuthentication
			if err := f.GetTypedConfig().UnmarshalTo(&ja); err != nil {
				t.Fatal(err)
			}
			provider = ja.GetProviders()["demo"]
		}
	}
	if provider == nil {
		t.Fatal("no demo jwt_authn provider in envoy.yaml")
	}
	key := demoKey(t, provider.GetLocalJwks().GetInlineString())

	policy, err := os.ReadFile(filepath.Join("..", "examples", "policies", "readonly-tenant.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	srv := extproctest.New(t, string(policy))
	call := `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"update_ticket","arguments":{}}}`
	ok := extproctest.JSON(`{"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"done"}]}}`)
	for who, wantBlocked := range map[string]bool{"ALICE": true, "BOB": false} {
		payload := verifyES256(t, key, tokens[who])
		var claims map[string]any
		if err := json.Unmarshal(mustB64(t, payload), &claims); err != nil {
			t.Fatal(err)
		}
		if claims["iss"] != provider.GetIssuer() || !slices.Contains(provider.GetAudiences(), claims["aud"].(string)) {
			t.Fatalf("%s: iss/aud %v do not match the provider", who, claims)
		}
		// Whatever the client put in these headers is gone (the strip,
		// checked above); Envoy writes the verified values.
		forwarded := []string{"x-jwt-payload", payload}
		for _, ch := range provider.GetClaimToHeaders() {
			forwarded = append(forwarded, ch.GetHeaderName(), claims[ch.GetClaimName()].(string))
		}
		out := srv.Call(t, call, ok, forwarded...)
		if out.Blocked != wantBlocked {
			t.Errorf("%s (org %v): update_ticket blocked = %v, want %v: %s", who, claims["org"], out.Blocked, wantBlocked, out.Client)
		}
	}
}

// demoKey reads the one P-256 key of a JWKS.
func demoKey(t *testing.T, jwks string) *ecdsa.PublicKey {
	t.Helper()
	var set struct {
		Keys []struct{ Kty, Crv, X, Y string }
	}
	if err := json.Unmarshal([]byte(jwks), &set); err != nil || len(set.Keys) != 1 || set.Keys[0].Kty != "EC" || set.Keys[0].Crv != "P-256" {
		t.Fatalf("local_jwks: %v %+v", err, set)
	}
	point := append([]byte{4}, append(mustB64(t, set.Keys[0].X), mustB64(t, set.Keys[0].Y)...)...)
	k, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), point)
	if err != nil {
		t.Fatalf("local_jwks key: %v", err)
	}
	return k
}

// verifyES256 checks a compact JWS as jwt_authn does (ES256, r||s) and
// returns its payload segment, which is what forward_payload_header carries.
func verifyES256(t *testing.T, k *ecdsa.PublicKey, token string) string {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 || !strings.Contains(string(mustB64(t, parts[0])), `"ES256"`) {
		t.Fatalf("not an ES256 JWS: %s", token)
	}
	sig := mustB64(t, parts[2])
	d := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if len(sig) != 64 || !ecdsa.Verify(k, d[:], new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])) {
		t.Fatalf("token does not verify against envoy.yaml's key: %s", token)
	}
	return parts[1]
}

func mustB64(t *testing.T, s string) []byte {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Istio: the EnvoyFilter's first patch removes every example identity
// header ahead of Istio's own jwt_authn and of ext_proc; the
// RequestAuthentication writes them back from a verified token.
func TestIstioStripsIdentityHeaders(t *testing.T) {
	hs := exampleHeaders(t)
	ra, err := os.ReadFile("istio/requestauthentication.yaml")
	if err != nil {
		t.Fatal(err)
	}
	o, err := k8sdecode.Decode(ra)
	if err != nil {
		t.Fatal(err)
	}
	rule := o.Value.(*k8sdecode.RequestAuthentication).Spec.GetJwtRules()[0]
	written := []string{strings.ToLower(rule.GetOutputPayloadToHeader())}
	for _, ch := range rule.GetOutputClaimToHeaders() {
		written = append(written, strings.ToLower(ch.GetHeader()))
	}
	for _, h := range []string{"x-user-id", "x-tenant-id", "x-jwt-payload"} {
		if !slices.Contains(written, h) {
			t.Errorf("requestauthentication.yaml does not write %s (writes %v)", h, written)
		}
	}

	y, err := os.ReadFile("istio/envoyfilter.yaml")
	if err != nil {
		t.Fatal(err)
	}
	ef, err := k8sdecode.ParseEnvoyFilter(y)
	if err != nil {
		t.Fatal(err)
	}
	chain, err := identitycheck.IstioChain(ef.HTTPFilters, written)
	if err != nil {
		t.Fatal(err)
	}
	c, err := identitycheck.BeforeExtProc(chain)
	if err != nil {
		t.Fatal(err)
	}
	for h, file := range hs {
		if !c.Stripped[h] {
			t.Errorf("istio/envoyfilter.yaml passes a client's %s (read by %s) to ext_proc", h, file)
		}
	}
	// INSERT_BEFORE the router would run after Istio's jwt_authn and remove
	// what it verified: the model of the chain must catch it.
	bad := strings.Replace(string(y), "operation: INSERT_FIRST", "operation: INSERT_BEFORE", 1)
	bad = strings.Replace(bad, "              name: envoy.filters.network.http_connection_manager\n      patch:\n        operation: INSERT_BEFORE",
		"              name: envoy.filters.network.http_connection_manager\n              subFilter:\n                name: envoy.filters.http.router\n      patch:\n        operation: INSERT_BEFORE", 1)
	ef, err = k8sdecode.ParseEnvoyFilter([]byte(bad))
	if err != nil {
		t.Fatal(err)
	}
	chain, err = identitycheck.IstioChain(ef.HTTPFilters, written)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := identitycheck.BeforeExtProc(chain); err == nil {
		t.Fatalf("the strip moved behind Istio's jwt_authn went unnoticed: %v", chain)
	}
}

// Envoy Gateway: the ClientTrafficPolicy removes every example identity
// header in Envoy's early header mutation, ahead of every filter; the
// SecurityPolicy's JWT provider writes the user and tenant back.
func TestEnvoyGatewayStripsIdentityHeaders(t *testing.T) {
	hs := exampleHeaders(t)
	y, err := os.ReadFile("envoy-gateway/client-traffic-policy.yaml")
	if err != nil {
		t.Fatal(err)
	}
	o, err := k8sdecode.Decode(y)
	if err != nil {
		t.Fatal(err)
	}
	ctp := o.Value.(*egv1a1.ClientTrafficPolicy)
	var removed []string
	if e := ctp.Spec.Headers.EarlyRequestHeaders; e != nil {
		for _, h := range e.Remove {
			removed = append(removed, strings.ToLower(h))
		}
	}
	for h, file := range hs {
		if !slices.Contains(removed, h) {
			t.Errorf("client-traffic-policy.yaml passes a client's %s (read by %s) to ext_proc", h, file)
		}
	}
	if len(ctp.Spec.TargetRefs) == 0 || ctp.Spec.TargetRefs[0].Kind != "Gateway" {
		t.Errorf("the ClientTrafficPolicy must target the Gateway: %+v", ctp.Spec.TargetRefs)
	}
	y, err = os.ReadFile("envoy-gateway/security-policy.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if o, err = k8sdecode.Decode(y); err != nil {
		t.Fatal(err)
	}
	sp := o.Value.(*egv1a1.SecurityPolicy)
	var written []string
	for _, p := range sp.Spec.JWT.Providers {
		for _, ch := range p.ClaimToHeaders {
			written = append(written, strings.ToLower(ch.Header))
		}
	}
	for _, h := range []string{"x-user-id", "x-tenant-id"} {
		if !slices.Contains(written, h) {
			t.Errorf("security-policy.yaml does not write %s (writes %v)", h, written)
		}
	}
	for _, typo := range []struct{ from, to string }{{"earlyRequestHeaders:", "earlyRequestHeader:"}} {
		y, _ := os.ReadFile("envoy-gateway/client-traffic-policy.yaml")
		if _, err := k8sdecode.Decode([]byte(strings.Replace(string(y), typo.from, typo.to, 1))); err == nil {
			t.Errorf("%q → %q was accepted", typo.from, typo.to)
		}
	}
}
