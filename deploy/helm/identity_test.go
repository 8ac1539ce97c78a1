package helm_test

import (
	"slices"
	"strings"
	"testing"

	egv1a1 "github.com/envoyproxy/gateway/api/v1alpha1"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/engine"

	"github.com/mcp-extproc/mcp-extproc/internal/identitycheck"
	"github.com/mcp-extproc/mcp-extproc/internal/k8sdecode"
)

// The chart's Istio EnvoyFilter (sidecar and gateway) and Envoy Gateway
// ClientTrafficPolicy remove, before any filter, every identity header the
// example policies use and every header the inline policy names.
func TestChartStripsIdentityHeaders(t *testing.T) {
	examples, err := identitycheck.ExampleHeaders("../..")
	if err != nil {
		t.Fatal(err)
	}
	policy := "mcp:\n  identity:\n    user_header: X-End-User\n  forward_headers: [x-request-origin]\nplugins: []\n"
	want := []string{"x-end-user", "x-request-origin"}
	for h := range examples {
		want = append(want, h)
	}
	for _, mode := range []string{"sidecar", "gateway"} {
		objs := render(t, map[string]any{
			"policy": map[string]any{"content": policy},
			"istio":  map[string]any{"envoyFilter": map[string]any{"enabled": true, "mode": mode}},
		})
		ef := objs["EnvoyFilter/mcp-extproc"].Value.(*k8sdecode.EnvoyFilter)
		chain, err := identitycheck.IstioChain(ef.HTTPFilters, []string{"x-user-id", "x-tenant-id", "x-jwt-payload"})
		if err != nil {
			t.Fatal(err)
		}
		c, err := identitycheck.BeforeExtProc(chain)
		if err != nil {
			t.Fatalf("%s: %v", mode, err)
		}
		if m := c.Missing(want); len(m) > 0 {
			t.Errorf("%s EnvoyFilter lets clients send %v to ext_proc", mode, m)
		}
	}

	objs := render(t, valuesFile(t, "everything.yaml"))
	ctp := objs["ClientTrafficPolicy/mcp-extproc-identity-headers"]
	if ctp == nil {
		t.Fatalf("no ClientTrafficPolicy with the Envoy Gateway policy on: %v", kinds(objs))
	}
	p := ctp.Value.(*egv1a1.ClientTrafficPolicy)
	if p.Namespace != "gateways" || p.Spec.TargetRefs[0].Kind != "Gateway" {
		t.Errorf("ClientTrafficPolicy %s/%+v", p.Namespace, p.Spec.TargetRefs)
	}
	for h := range examples {
		if !slices.Contains(p.Spec.Headers.EarlyRequestHeaders.Remove, h) {
			t.Errorf("ClientTrafficPolicy lets clients send %s", h)
		}
	}
}

// With the Envoy Gateway policy on and no Gateway to strip on, the chart
// refuses to render rather than trust client headers silently.
func TestChartRefusesUnstrippedEnvoyGateway(t *testing.T) {
	c := loadChart(t)
	for name, ctp := range map[string]map[string]any{
		"no gateway":         {},
		"disabled, unstated": {"enabled": false},
	} {
		vals, err := chartutil.ToRenderValues(c, map[string]any{"envoyGateway": map[string]any{
			"extensionPolicy": map[string]any{"enabled": true}, "clientTrafficPolicy": ctp}},
			chartutil.ReleaseOptions{Name: "x", Namespace: releaseNS}, chartutil.DefaultCapabilities)
		if err == nil {
			_, err = engine.Render(c, vals)
		}
		if err == nil || !strings.Contains(err.Error(), "identityHeaders") {
			t.Errorf("%s: rendered (%v)", name, err)
		}
	}
	objs := render(t, map[string]any{"envoyGateway": map[string]any{
		"extensionPolicy": map[string]any{"enabled": true}, "clientTrafficPolicy": map[string]any{"enabled": false, "stripElsewhere": true}}})
	if objs["EnvoyExtensionPolicy/mcp-extproc"] == nil {
		t.Fatalf("stripElsewhere: true must render: %v", kinds(objs))
	}
}
