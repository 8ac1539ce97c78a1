package envoy_test

import (
	"os"
	"strings"
	"testing"

	egv1a1 "github.com/envoyproxy/gateway/api/v1alpha1"
	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_proc/v3"

	"github.com/mcp-extproc/mcp-extproc/internal/k8sdecode"
)

// loadEnvoyFilter decodes an Istio EnvoyFilter strictly (k8sdecode) and
// returns the ext_proc filters it inserts.
func loadEnvoyFilter(y []byte) ([]*extprocv3.ExternalProcessor, error) {
	ef, err := k8sdecode.ParseEnvoyFilter(y)
	if err != nil {
		return nil, err
	}
	return ef.ExtProcs, nil
}

func TestIstioEnvoyFilter(t *testing.T) {
	y, err := os.ReadFile("istio/envoyfilter.yaml")
	if err != nil {
		t.Fatal(err)
	}
	eps, err := loadEnvoyFilter(y)
	if err != nil {
		t.Fatalf("istio/envoyfilter.yaml: %v", err)
	}
	if len(eps) != 1 {
		t.Fatalf("%d ext_proc filters", len(eps))
	}
	checkExtProc(t, eps[0])
	for _, typo := range []struct{ from, to string }{
		{"allow_mode_override: true", "allow_mode_overide: true"},
		{"operation: INSERT_BEFORE", "operation: INSERT_BEFOR"},
		{"workloadSelector:", "workloadSelecter:"},
		{"response_body_mode: BUFFERED", "response_body_mode: BUFFERD"},
	} {
		bad := strings.Replace(string(y), typo.from, typo.to, 1)
		if _, err := loadEnvoyFilter([]byte(bad)); err == nil {
			t.Errorf("%q → %q was accepted", typo.from, typo.to)
		}
	}
}

func TestEnvoyGatewayExtensionPolicy(t *testing.T) {
	y, err := os.ReadFile("envoy-gateway/extension-policy.yaml")
	if err != nil {
		t.Fatal(err)
	}
	p, err := k8sdecode.ParseExtensionPolicy(y)
	if err != nil {
		t.Fatalf("extension-policy.yaml: %v", err)
	}
	ep := p.Spec.ExtProc[0]
	if ep.FailOpen == nil || *ep.FailOpen || !ep.ProcessingMode.AllowModeOverride ||
		*ep.ProcessingMode.Request.Body != egv1a1.BufferedExtProcBodyProcessingMode ||
		*ep.ProcessingMode.Response.Body != egv1a1.BufferedExtProcBodyProcessingMode ||
		ep.BackendRefs[0].Port == nil || *ep.BackendRefs[0].Port != 50051 {
		t.Fatalf("policy settings: %+v", ep)
	}
	for _, typo := range []struct{ from, to string }{
		{"allowModeOverride: true", "allowModeOveride: true"},
		{"failOpen: false", "failopen: false"},
		{"body: Buffered", "body: Bufered"},
	} {
		bad := strings.Replace(string(y), typo.from, typo.to, 1)
		if _, err := k8sdecode.ParseExtensionPolicy([]byte(bad)); err == nil {
			t.Errorf("%q → %q was accepted", typo.from, typo.to)
		}
	}
}
