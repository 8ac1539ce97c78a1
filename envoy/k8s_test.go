package envoy_test

import (
	"errors"
	"os"
	"strings"
	"testing"

	egv1a1 "github.com/envoyproxy/gateway/api/v1alpha1"
	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_proc/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	"google.golang.org/protobuf/encoding/protojson"
	networkingv1alpha3 "istio.io/api/networking/v1alpha3"
	kjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"
)

// loadEnvoyFilter decodes an Istio EnvoyFilter strictly: the spec with
// Istio's own API type, then each patched HTTP filter with Envoy's types
// (typed_config resolved) and ValidateAll.
func loadEnvoyFilter(y []byte) ([]*extprocv3.ExternalProcessor, error) {
	var obj struct {
		APIVersion string         `json:"apiVersion"`
		Kind       string         `json:"kind"`
		Metadata   map[string]any `json:"metadata"`
		Spec       map[string]any `json:"spec"`
	}
	if err := kubeStrict(y, &obj); err != nil {
		return nil, err
	}
	if obj.APIVersion != "networking.istio.io/v1alpha3" || obj.Kind != "EnvoyFilter" {
		return nil, errorf("not an EnvoyFilter: %s %s", obj.APIVersion, obj.Kind)
	}
	specJSON, err := yamlToJSON(obj.Spec)
	if err != nil {
		return nil, err
	}
	var spec networkingv1alpha3.EnvoyFilter
	if err := protojson.Unmarshal(specJSON, &spec); err != nil {
		return nil, err
	}
	var out []*extprocv3.ExternalProcessor
	for _, p := range spec.GetConfigPatches() {
		if p.GetApplyTo() != networkingv1alpha3.EnvoyFilter_HTTP_FILTER {
			continue
		}
		vj, err := protojson.Marshal(p.GetPatch().GetValue())
		if err != nil {
			return nil, err
		}
		var hf hcmv3.HttpFilter
		if err := protojson.Unmarshal(vj, &hf); err != nil {
			return nil, err
		}
		if err := hf.ValidateAll(); err != nil {
			return nil, err
		}
		var ep extprocv3.ExternalProcessor
		if err := hf.GetTypedConfig().UnmarshalTo(&ep); err != nil {
			return nil, err
		}
		if err := ep.ValidateAll(); err != nil {
			return nil, err
		}
		out = append(out, &ep)
	}
	return out, nil
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

// kubeStrict decodes a manifest as the Kubernetes API server does: field
// names are case-sensitive, and unknown or duplicate fields are errors.
func kubeStrict(y []byte, v any) error {
	j, err := yaml.YAMLToJSON(y)
	if err != nil {
		return err
	}
	strict, err := kjson.UnmarshalStrict(j, v)
	if err != nil {
		return err
	}
	return errors.Join(strict...)
}

// loadExtensionPolicy decodes an Envoy Gateway EnvoyExtensionPolicy
// strictly with Envoy Gateway's API types, and checks the enums the CRD's
// schema would.
func loadExtensionPolicy(y []byte) (*egv1a1.EnvoyExtensionPolicy, error) {
	var p egv1a1.EnvoyExtensionPolicy
	if err := kubeStrict(y, &p); err != nil {
		return nil, err
	}
	if p.APIVersion != "gateway.envoyproxy.io/v1alpha1" || p.Kind != egv1a1.KindEnvoyExtensionPolicy {
		return nil, errorf("not an EnvoyExtensionPolicy: %s %s", p.APIVersion, p.Kind)
	}
	valid := map[egv1a1.ExtProcBodyProcessingMode]bool{
		egv1a1.StreamedExtProcBodyProcessingMode: true, egv1a1.BufferedExtProcBodyProcessingMode: true,
		egv1a1.BufferedPartialExtBodyHeaderProcessingMode: true, egv1a1.FullDuplexStreamedExtBodyProcessingMode: true,
	}
	for _, ep := range p.Spec.ExtProc {
		pm := ep.ProcessingMode
		if pm == nil {
			continue
		}
		for _, o := range []*egv1a1.ProcessingModeOptions{pm.Request, pm.Response} {
			if o != nil && o.Body != nil && !valid[*o.Body] {
				return nil, errorf("unknown body processing mode %q", *o.Body)
			}
		}
	}
	return &p, nil
}

func TestEnvoyGatewayExtensionPolicy(t *testing.T) {
	y, err := os.ReadFile("envoy-gateway/extension-policy.yaml")
	if err != nil {
		t.Fatal(err)
	}
	p, err := loadExtensionPolicy(y)
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
		if _, err := loadExtensionPolicy([]byte(bad)); err == nil {
			t.Errorf("%q → %q was accepted", typo.from, typo.to)
		}
	}
}
