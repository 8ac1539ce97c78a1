// Package envoy_test checks the Envoy configurations we ship against
// Envoy's own API types (go-control-plane): every typed config must
// resolve, every field must exist, and ValidateAll must pass.
package envoy_test

import (
	"os"
	"slices"
	"strings"
	"testing"

	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	streamv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/access_loggers/stream/v3"
	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_proc/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"

	"github.com/mcp-extproc/mcp-extproc/envoy"
	"github.com/mcp-extproc/mcp-extproc/extproc"

	// Typed configs named by "@type" in envoy.yaml must be linked in to resolve.
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/router/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/upstreams/http/v3"
)

func loadBootstrap(t *testing.T, y []byte) (*bootstrapv3.Bootstrap, error) {
	t.Helper()
	return envoy.ParseBootstrap(y)
}

func TestEnvoyBootstrap(t *testing.T) {
	y, err := os.ReadFile("envoy.yaml")
	if err != nil {
		t.Fatal(err)
	}
	b, err := loadBootstrap(t, y)
	if err != nil {
		t.Fatalf("envoy.yaml does not validate: %v", err)
	}
	// Dig out the ext_proc filter and check the settings the README promises.
	var hcm hcmv3.HttpConnectionManager
	if err := b.StaticResources.Listeners[0].FilterChains[0].Filters[0].GetTypedConfig().UnmarshalTo(&hcm); err != nil {
		t.Fatal(err)
	}
	checkAccessLog(t, &hcm)
	if n := len(hcm.HttpFilters); n < 2 || hcm.HttpFilters[n-2].Name != "envoy.filters.http.ext_proc" || hcm.HttpFilters[n-1].Name != "envoy.filters.http.router" {
		t.Fatal("ext_proc must come just before the router")
	}
	ep, err := envoy.ExtProcFilter(b)
	if err != nil {
		t.Fatal(err)
	}
	checkExtProc(t, ep)
	for _, c := range b.StaticResources.Clusters {
		if c.Name == "mcp_extproc" {
			if _, ok := c.TypedExtensionProtocolOptions["envoy.extensions.upstreams.http.v3.HttpProtocolOptions"]; !ok {
				t.Fatal("the ext_proc cluster must speak HTTP/2")
			}
		}
	}
}

func checkExtProc(t *testing.T, ep *extprocv3.ExternalProcessor) {
	t.Helper()
	pm := ep.GetProcessingMode()
	if pm.GetRequestHeaderMode() != extprocv3.ProcessingMode_SEND || pm.GetRequestBodyMode() != extprocv3.ProcessingMode_BUFFERED ||
		pm.GetResponseHeaderMode() != extprocv3.ProcessingMode_SEND || pm.GetResponseBodyMode() != extprocv3.ProcessingMode_BUFFERED {
		t.Errorf("processing mode = %v", pm)
	}
	if !ep.GetAllowModeOverride() {
		t.Error("allow_mode_override must be true: SSE responses switch to STREAMED")
	}
	if ep.GetFailureModeAllow() {
		t.Error("failure_mode_allow must be false: fail closed")
	}
	if d := ep.GetMessageTimeout().AsDuration(); d.Seconds() < 5 {
		t.Errorf("message_timeout %v is shorter than the default plugin timeout", d)
	}
	if !slices.Contains(ep.GetMetadataOptions().GetReceivingNamespaces().GetUntyped(), extproc.MetadataNamespace) {
		t.Errorf("metadata_options.receiving_namespaces must accept %s: Envoy drops the metadata otherwise", extproc.MetadataNamespace)
	}
}

// A misspelled field must fail: the check would be worthless otherwise.
func TestEnvoyBootstrapRejectsMisspelledField(t *testing.T) {
	y, err := os.ReadFile("envoy.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, typo := range []struct{ from, to string }{
		{"allow_mode_override: true", "allow_mode_overide: true"},
		{"request_body_mode: BUFFERED", "request_body_mode: BUFFERD"},
		{"failure_mode_allow: false", "failure_mode_allow: nope"},
		{"HttpProtocolOptions\n", "HttpProtocolOption\n"},
	} {
		bad := strings.Replace(string(y), typo.from, typo.to, 1)
		if bad == string(y) {
			t.Fatalf("fixture lost %q", typo.from)
		}
		if _, err := loadBootstrap(t, []byte(bad)); err == nil {
			t.Errorf("%q → %q was accepted", typo.from, typo.to)
		}
	}
}

// The access log shows what mcp-extproc decided, from the dynamic metadata
// it writes (extproc.MetadataNamespace).
func checkAccessLog(t *testing.T, hcm *hcmv3.HttpConnectionManager) {
	t.Helper()
	if len(hcm.GetAccessLog()) != 1 {
		t.Fatalf("%d access logs, want one", len(hcm.GetAccessLog()))
	}
	var sl streamv3.StdoutAccessLog
	if err := hcm.GetAccessLog()[0].GetTypedConfig().UnmarshalTo(&sl); err != nil {
		t.Fatal(err)
	}
	format := sl.GetLogFormat().GetTextFormatSource().GetInlineString()
	for _, key := range []string{"method", "tool", "prompt", "resource", "verdict", "plugin", "violation_code"} {
		if want := "%DYNAMIC_METADATA(" + extproc.MetadataNamespace + ":" + key + ")%"; !strings.Contains(format, want) {
			t.Errorf("access log format lacks %s: %s", want, format)
		}
	}
}
