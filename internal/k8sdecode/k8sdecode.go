// Package k8sdecode decodes Kubernetes manifests strictly, as the API server
// would: with the Kubernetes, Istio, Envoy Gateway, Gateway API and
// Prometheus Operator Go types, field names case-sensitive, unknown and
// duplicate fields errors. Tests of the manifests we ship (envoy/, deploy/)
// use it; no program links it.
package k8sdecode

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	egv1a1 "github.com/envoyproxy/gateway/api/v1alpha1"
	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_proc/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	// Typed configs an EnvoyFilter may insert besides ext_proc.
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/header_mutation/v3"
	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	yamlv3 "go.yaml.in/yaml/v3"
	"google.golang.org/protobuf/encoding/protojson"
	networkingv1alpha3 "istio.io/api/networking/v1alpha3"
	securityv1beta1 "istio.io/api/security/v1beta1"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1beta1 "sigs.k8s.io/gateway-api/apis/v1beta1"
	kjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"
)

// Strict decodes one YAML manifest into v: unknown or duplicate fields and
// case-mismatched names are errors.
func Strict(y []byte, v any) error {
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

// Object is one decoded manifest.
type Object struct {
	APIVersion string
	Kind       string
	Name       string
	Namespace  string
	// Value is the typed object (*appsv1.Deployment, *EnvoyFilter, …).
	Value any
}

// EnvoyFilter is an Istio EnvoyFilter: its metadata, its spec decoded with
// Istio's API type, and the ext_proc filters its patches insert.
type EnvoyFilter struct {
	metav1.TypeMeta
	Metadata metav1.ObjectMeta
	Spec     *networkingv1alpha3.EnvoyFilter
	ExtProcs []*extprocv3.ExternalProcessor
	// HTTPFilters are the HTTP_FILTER patches in order: how each inserts
	// its filter, and the filter decoded with Envoy's types.
	HTTPFilters []HTTPFilterPatch
}

// HTTPFilterPatch is one HTTP_FILTER patch of an EnvoyFilter.
type HTTPFilterPatch struct {
	Operation networkingv1alpha3.EnvoyFilter_Patch_Operation
	// SubFilter is the filter the patch is placed against (INSERT_BEFORE,
	// INSERT_AFTER), "" when it names none.
	SubFilter string
	Filter    *hcmv3.HttpFilter
}

// kinds maps apiVersion/kind to a constructor of its Go type.
var kinds = map[string]func() any{
	"v1/ConfigMap":                                       func() any { return &corev1.ConfigMap{} },
	"v1/Service":                                         func() any { return &corev1.Service{} },
	"v1/ServiceAccount":                                  func() any { return &corev1.ServiceAccount{} },
	"apps/v1/Deployment":                                 func() any { return &appsv1.Deployment{} },
	"autoscaling/v2/HorizontalPodAutoscaler":             func() any { return &autoscalingv2.HorizontalPodAutoscaler{} },
	"policy/v1/PodDisruptionBudget":                      func() any { return &policyv1.PodDisruptionBudget{} },
	"networking.k8s.io/v1/NetworkPolicy":                 func() any { return &networkingv1.NetworkPolicy{} },
	"monitoring.coreos.com/v1/ServiceMonitor":            func() any { return &monitoringv1.ServiceMonitor{} },
	"gateway.networking.k8s.io/v1beta1/ReferenceGrant":   func() any { return &gwv1beta1.ReferenceGrant{} },
	"gateway.envoyproxy.io/v1alpha1/ClientTrafficPolicy": func() any { return &egv1a1.ClientTrafficPolicy{} },
	"gateway.envoyproxy.io/v1alpha1/SecurityPolicy":      func() any { return &egv1a1.SecurityPolicy{} },
}

// Decode decodes one manifest with the Go type of its apiVersion and kind.
// An apiVersion/kind it does not know is an error.
func Decode(y []byte) (*Object, error) {
	var tm metav1.TypeMeta
	if err := yaml.Unmarshal(y, &tm); err != nil {
		return nil, err
	}
	o := &Object{APIVersion: tm.APIVersion, Kind: tm.Kind}
	switch key := tm.APIVersion + "/" + tm.Kind; key {
	case "networking.istio.io/v1alpha3/EnvoyFilter":
		ef, err := ParseEnvoyFilter(y)
		if err != nil {
			return nil, err
		}
		o.Name, o.Namespace, o.Value = ef.Metadata.Name, ef.Metadata.Namespace, ef
	case "security.istio.io/v1/RequestAuthentication":
		ra, err := ParseRequestAuthentication(y)
		if err != nil {
			return nil, err
		}
		o.Name, o.Namespace, o.Value = ra.Metadata.Name, ra.Metadata.Namespace, ra
	case "gateway.envoyproxy.io/v1alpha1/EnvoyExtensionPolicy":
		p, err := ParseExtensionPolicy(y)
		if err != nil {
			return nil, err
		}
		o.Name, o.Namespace, o.Value = p.Name, p.Namespace, p
	default:
		newT, ok := kinds[key]
		if !ok {
			return nil, fmt.Errorf("unknown manifest type %s", key)
		}
		v := newT()
		if err := Strict(y, v); err != nil {
			return nil, fmt.Errorf("%s: %w", key, err)
		}
		m := v.(metav1.Object)
		o.Name, o.Namespace, o.Value = m.GetName(), m.GetNamespace(), v
	}
	if o.Name == "" {
		return nil, fmt.Errorf("%s/%s has no metadata.name", o.APIVersion, o.Kind)
	}
	return o, nil
}

// SplitDocuments splits a multi-document YAML stream, dropping empty ones.
func SplitDocuments(y []byte) ([][]byte, error) {
	dec := yamlv3.NewDecoder(bytes.NewReader(y))
	var out [][]byte
	for {
		var n yamlv3.Node
		err := dec.Decode(&n)
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		if len(n.Content) == 0 || (n.Content[0].Kind == yamlv3.ScalarNode && n.Content[0].Tag == "!!null") {
			continue
		}
		b, err := yamlv3.Marshal(&n)
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
}

// ParseEnvoyFilter decodes an Istio EnvoyFilter strictly: the metadata with
// Kubernetes' type, the spec with Istio's API type, then each inserted HTTP
// filter with Envoy's types (typed_config resolved) and ValidateAll.
func ParseEnvoyFilter(y []byte) (*EnvoyFilter, error) {
	tm, meta, specJSON, err := istioObject(y, "networking.istio.io/v1alpha3", "EnvoyFilter")
	if err != nil {
		return nil, err
	}
	ef := &EnvoyFilter{TypeMeta: tm, Metadata: meta, Spec: &networkingv1alpha3.EnvoyFilter{}}
	if err := protojson.Unmarshal(specJSON, ef.Spec); err != nil {
		return nil, fmt.Errorf("EnvoyFilter spec: %w", err)
	}
	for _, p := range ef.Spec.GetConfigPatches() {
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
		msg, err := hf.GetTypedConfig().UnmarshalNew()
		if err != nil {
			return nil, err
		}
		if v, ok := msg.(interface{ ValidateAll() error }); ok {
			if err := v.ValidateAll(); err != nil {
				return nil, err
			}
		}
		if ep, ok := msg.(*extprocv3.ExternalProcessor); ok {
			ef.ExtProcs = append(ef.ExtProcs, ep)
		}
		ef.HTTPFilters = append(ef.HTTPFilters, HTTPFilterPatch{
			Operation: p.GetPatch().GetOperation(),
			SubFilter: p.GetMatch().GetListener().GetFilterChain().GetFilter().GetSubFilter().GetName(),
			Filter:    &hf,
		})
	}
	return ef, nil
}

// ParseExtensionPolicy decodes an Envoy Gateway EnvoyExtensionPolicy
// strictly with Envoy Gateway's API types, and checks the enums the CRD's
// schema would.
func ParseExtensionPolicy(y []byte) (*egv1a1.EnvoyExtensionPolicy, error) {
	var p egv1a1.EnvoyExtensionPolicy
	if err := Strict(y, &p); err != nil {
		return nil, err
	}
	if p.APIVersion != "gateway.envoyproxy.io/v1alpha1" || p.Kind != egv1a1.KindEnvoyExtensionPolicy {
		return nil, fmt.Errorf("not an EnvoyExtensionPolicy: %s %s", p.APIVersion, p.Kind)
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
				return nil, fmt.Errorf("unknown body processing mode %q", *o.Body)
			}
		}
	}
	return &p, nil
}

// RequestAuthentication is an Istio RequestAuthentication: its metadata and
// its spec decoded with Istio's API type.
type RequestAuthentication struct {
	metav1.TypeMeta
	Metadata metav1.ObjectMeta
	Spec     *securityv1beta1.RequestAuthentication
}

// ParseRequestAuthentication decodes an Istio RequestAuthentication
// (security.istio.io/v1) strictly: metadata with Kubernetes' type, the spec
// with Istio's.
func ParseRequestAuthentication(y []byte) (*RequestAuthentication, error) {
	tm, meta, specJSON, err := istioObject(y, "security.istio.io/v1", "RequestAuthentication")
	if err != nil {
		return nil, err
	}
	ra := &RequestAuthentication{TypeMeta: tm, Metadata: meta, Spec: &securityv1beta1.RequestAuthentication{}}
	if err := protojson.Unmarshal(specJSON, ra.Spec); err != nil {
		return nil, fmt.Errorf("RequestAuthentication spec: %w", err)
	}
	return ra, nil
}

// istioObject decodes the Kubernetes part of an Istio object strictly and
// returns its spec as JSON, for protojson and Istio's API type.
func istioObject(y []byte, apiVersion, kind string) (metav1.TypeMeta, metav1.ObjectMeta, []byte, error) {
	var obj struct {
		metav1.TypeMeta `json:",inline"`
		Metadata        metav1.ObjectMeta `json:"metadata"`
		Spec            map[string]any    `json:"spec"`
	}
	if err := Strict(y, &obj); err != nil {
		return obj.TypeMeta, obj.Metadata, nil, err
	}
	if obj.APIVersion != apiVersion || obj.Kind != kind {
		return obj.TypeMeta, obj.Metadata, nil, fmt.Errorf("not an Istio %s: %s %s", kind, obj.APIVersion, obj.Kind)
	}
	specJSON, err := json.Marshal(obj.Spec)
	return obj.TypeMeta, obj.Metadata, specJSON, err
}
