// Package envoy holds the Envoy configurations mcp-extproc ships
// (envoy.yaml, istio/, envoy-gateway/) and reads the ext_proc filter out of
// the bootstrap, so that `extproc dev` runs the very filter settings an
// operator deploys.
package envoy

import (
	_ "embed"
	"fmt"

	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_proc/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	"google.golang.org/protobuf/encoding/protojson"
	"sigs.k8s.io/yaml"

	// Typed configs named by "@type" in envoy.yaml must be linked in to resolve.
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/access_loggers/stream/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/header_mutation/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/jwt_authn/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/router/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/upstreams/http/v3"
)

// BootstrapYAML is envoy/envoy.yaml.
//
//go:embed envoy.yaml
var BootstrapYAML []byte

// ParseBootstrap decodes an Envoy bootstrap strictly (unknown fields and
// unresolvable @types are errors) and validates it.
func ParseBootstrap(y []byte) (*bootstrapv3.Bootstrap, error) {
	j, err := yaml.YAMLToJSON(y)
	if err != nil {
		return nil, fmt.Errorf("envoy bootstrap: %w", err)
	}
	var b bootstrapv3.Bootstrap
	if err := protojson.Unmarshal(j, &b); err != nil {
		return nil, fmt.Errorf("envoy bootstrap: %w", err)
	}
	if err := b.ValidateAll(); err != nil {
		return nil, fmt.Errorf("envoy bootstrap: %w", err)
	}
	return &b, nil
}

// ExtProcFilter returns the ext_proc filter config of the first HTTP
// connection manager in the bootstrap.
func ExtProcFilter(b *bootstrapv3.Bootstrap) (*extprocv3.ExternalProcessor, error) {
	for _, l := range b.GetStaticResources().GetListeners() {
		for _, fc := range l.GetFilterChains() {
			for _, f := range fc.GetFilters() {
				var hcm hcmv3.HttpConnectionManager
				if f.GetTypedConfig().UnmarshalTo(&hcm) != nil {
					continue
				}
				for _, hf := range hcm.GetHttpFilters() {
					var ep extprocv3.ExternalProcessor
					if hf.GetName() == "envoy.filters.http.ext_proc" && hf.GetTypedConfig().UnmarshalTo(&ep) == nil {
						return &ep, nil
					}
				}
			}
		}
	}
	return nil, fmt.Errorf("no envoy.filters.http.ext_proc filter in the bootstrap")
}

// ShippedExtProcFilter is the ext_proc filter of envoy/envoy.yaml.
func ShippedExtProcFilter() (*extprocv3.ExternalProcessor, error) {
	b, err := ParseBootstrap(BootstrapYAML)
	if err != nil {
		return nil, err
	}
	return ExtProcFilter(b)
}
