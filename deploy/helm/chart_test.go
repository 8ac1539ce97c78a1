// Tests of the Helm chart: rendered with Helm's own Go library for several
// values files, every manifest decoded strictly with the Kubernetes, Istio,
// Envoy Gateway, Gateway API and Prometheus Operator types, and the chart
// linted as `helm lint` does.
package helm_test

import (
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	egv1a1 "github.com/envoyproxy/gateway/api/v1alpha1"
	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_proc/v3"
	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/engine"
	"helm.sh/helm/v3/pkg/lint"
	"helm.sh/helm/v3/pkg/lint/support"
	networkingv1alpha3 "istio.io/api/networking/v1alpha3"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/mcp-extproc/mcp-extproc/framework"
	"github.com/mcp-extproc/mcp-extproc/internal/k8sdecode"
	_ "github.com/mcp-extproc/mcp-extproc/plugins/all"
)

const chartDir = "mcp-extproc"

const releaseNS = "mcp-system"

func loadChart(t *testing.T) *chart.Chart {
	t.Helper()
	c, err := loader.Load(chartDir)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func valuesFile(t *testing.T, name string) map[string]any {
	t.Helper()
	if name == "" {
		return map[string]any{}
	}
	v, err := chartutil.ReadValuesFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return v.AsMap()
}

// render renders the chart as `helm template mcp-extproc chart -n mcp-system -f values`
// would and decodes every manifest strictly, keyed by "Kind/name".
func render(t *testing.T, values map[string]any) map[string]*k8sdecode.Object {
	t.Helper()
	c := loadChart(t)
	vals, err := chartutil.ToRenderValues(c, values, chartutil.ReleaseOptions{
		Name: "mcp-extproc", Namespace: releaseNS, IsInstall: true, Revision: 1,
	}, chartutil.DefaultCapabilities)
	if err != nil {
		t.Fatalf("values: %v", err)
	}
	files, err := engine.Render(c, vals)
	if err != nil {
		t.Fatalf("render: %v", err)
	}
	out := map[string]*k8sdecode.Object{}
	names := slices.Sorted(func(yield func(string) bool) {
		for k := range files {
			if !yield(k) {
				return
			}
		}
	})
	for _, name := range names {
		if !strings.HasSuffix(name, ".yaml") {
			continue
		}
		docs, err := k8sdecode.SplitDocuments([]byte(files[name]))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for _, d := range docs {
			o, err := k8sdecode.Decode(d)
			if err != nil {
				t.Fatalf("%s: %v\n%s", name, err, d)
			}
			key := o.Kind + "/" + o.Name
			if _, dup := out[key]; dup {
				t.Fatalf("%s rendered twice", key)
			}
			out[key] = o
		}
	}
	return out
}

func kinds(objs map[string]*k8sdecode.Object) []string {
	var ks []string
	for k := range objs {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

func TestChartLints(t *testing.T) {
	for _, vf := range []string{"", "everything.yaml", "istio-gateway.yaml", "existing-configmap.yaml"} {
		l := lint.AllWithKubeVersion(chartDir, valuesFile(t, vf), releaseNS, nil)
		for _, m := range l.Messages {
			if m.Severity >= support.WarningSev {
				t.Errorf("helm lint (%s): %s", vf, m)
			}
		}
	}
}

// The lint must see a broken chart: a values key the schema does not know.
func TestChartLintRejectsUnknownValue(t *testing.T) {
	l := lint.AllWithKubeVersion(chartDir, map[string]any{"replicas": 3}, releaseNS, nil)
	if l.HighestSeverity < support.ErrorSev {
		t.Fatalf("a misspelled value (replicas) passed lint: %v", l.Messages)
	}
}

func TestDefaultRender(t *testing.T) {
	objs := render(t, nil)
	want := []string{"ConfigMap/mcp-extproc", "Deployment/mcp-extproc", "PodDisruptionBudget/mcp-extproc", "Service/mcp-extproc", "ServiceAccount/mcp-extproc"}
	if got := kinds(objs); !slices.Equal(got, want) {
		t.Fatalf("default objects = %v, want %v", got, want)
	}
	d := objs["Deployment/mcp-extproc"].Value.(*appsv1.Deployment)
	if d.Namespace != releaseNS || *d.Spec.Replicas != 2 {
		t.Errorf("namespace %q replicas %d", d.Namespace, *d.Spec.Replicas)
	}
	pod := d.Spec.Template.Spec
	if psc := pod.SecurityContext; psc == nil || psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot || *psc.RunAsUser == 0 {
		t.Errorf("pod must run as non-root: %+v", psc)
	}
	if len(pod.Containers) != 1 {
		t.Fatalf("%d containers", len(pod.Containers))
	}
	c := pod.Containers[0]
	sc := c.SecurityContext
	if sc == nil || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem || sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation ||
		!slices.Contains(sc.Capabilities.Drop, corev1.Capability("ALL")) {
		t.Errorf("container security context: %+v", sc)
	}
	if c.Image != "mcp-extproc:0.1.0" {
		t.Errorf("image %q, want the chart's appVersion", c.Image)
	}
	if !slices.Equal(c.Args, []string{"serve", "--config", "/etc/mcp-extproc/policy.yaml"}) {
		t.Errorf("args %v", c.Args)
	}
	probe := func(name string, p *corev1.Probe, path string) {
		if p == nil || p.HTTPGet == nil || p.HTTPGet.Path != path || p.HTTPGet.Port.String() != "metrics" {
			t.Errorf("%s probe: %+v, want GET %s on the metrics port", name, p, path)
		}
	}
	probe("liveness", c.LivenessProbe, "/healthz")
	probe("readiness", c.ReadinessProbe, "/readyz")
	if c.Resources.Requests.Cpu().IsZero() || c.Resources.Limits.Memory().IsZero() {
		t.Errorf("resources: %+v", c.Resources)
	}
	checkGoMemLimit(t, c.Env)
	if len(pod.TopologySpreadConstraints) != 2 {
		t.Errorf("topology spread: %+v", pod.TopologySpreadConstraints)
	}
	// The policy directory is mounted whole (no subPath): the kubelet's
	// ..data symlink swap then reaches the file and the server reloads.
	if len(c.VolumeMounts) != 1 || c.VolumeMounts[0].MountPath != "/etc/mcp-extproc" || c.VolumeMounts[0].SubPath != "" {
		t.Errorf("volume mounts %+v", c.VolumeMounts)
	}
	if v := pod.Volumes[0]; v.ConfigMap == nil || v.ConfigMap.Name != "mcp-extproc" {
		t.Errorf("volume %+v", v)
	}
	ports := map[string]int32{}
	for _, p := range c.Ports {
		ports[p.Name] = p.ContainerPort
	}
	if ports["grpc"] != 50051 || ports["metrics"] != 9090 {
		t.Errorf("container ports %v", ports)
	}

	svc := objs["Service/mcp-extproc"].Value.(*corev1.Service)
	for _, p := range svc.Spec.Ports {
		if p.Name == "grpc" && (p.AppProtocol == nil || *p.AppProtocol != "grpc" || p.Port != 50051) {
			t.Errorf("grpc service port %+v: Envoy needs appProtocol grpc for HTTP/2", p)
		}
	}
	if len(svc.Spec.Ports) != 2 {
		t.Errorf("service ports %+v", svc.Spec.Ports)
	}

	// The policy in the ConfigMap is one the server loads.
	cm := objs["ConfigMap/mcp-extproc"].Value.(*corev1.ConfigMap)
	checkPolicy(t, cm.Data["policy.yaml"])
}

// checkGoMemLimit checks that the container's GOMEMLIMIT is its memory
// limit, read through the downward API.
func checkGoMemLimit(t *testing.T, env []corev1.EnvVar) {
	t.Helper()
	for _, e := range env {
		if e.Name == "GOMEMLIMIT" {
			if e.ValueFrom == nil || e.ValueFrom.ResourceFieldRef == nil || e.ValueFrom.ResourceFieldRef.Resource != "limits.memory" {
				t.Errorf("GOMEMLIMIT %+v, want the container's limits.memory", e)
			}
			return
		}
	}
	t.Errorf("no GOMEMLIMIT in env %+v", env)
}

// Without a memory limit, or with goMemLimitFromResources off, the chart
// sets no GOMEMLIMIT (an empty downward-API value would be no limit, but
// say nothing rather than that).
func TestGoMemLimitFollowsTheMemoryLimit(t *testing.T) {
	for name, values := range map[string]map[string]any{
		"no memory limit": {"resources": map[string]any{"limits": nil}}, // null removes the default
		"turned off":      {"goMemLimitFromResources": false},
	} {
		d := render(t, values)["Deployment/mcp-extproc"].Value.(*appsv1.Deployment)
		for _, e := range d.Spec.Template.Spec.Containers[0].Env {
			if e.Name == "GOMEMLIMIT" {
				t.Errorf("%s: GOMEMLIMIT set: %+v", name, e)
			}
		}
	}
}

func checkPolicy(t *testing.T, policy string) {
	t.Helper()
	cfg, _, err := framework.Parse([]byte(policy), "policy.yaml", framework.LoadOptions{})
	if err != nil {
		t.Fatalf("the chart's policy does not load: %v", err)
	}
	for i := range cfg.Plugins {
		if _, err := framework.Instantiate(&cfg.Plugins[i], nil); err != nil {
			t.Fatalf("the chart's policy: %v", err)
		}
	}
	if len(cfg.Plugins) == 0 {
		t.Fatal("the chart's default policy has no plugins")
	}
}

func TestEverythingRender(t *testing.T) {
	objs := render(t, valuesFile(t, "everything.yaml"))
	for _, k := range []string{"HorizontalPodAutoscaler/mcp-extproc", "NetworkPolicy/mcp-extproc", "ServiceMonitor/mcp-extproc",
		"EnvoyFilter/mcp-extproc", "EnvoyExtensionPolicy/mcp-extproc", "ReferenceGrant/mcp-extproc-from-mcp"} {
		if objs[k] == nil {
			t.Errorf("%s not rendered; got %v", k, kinds(objs))
		}
	}
	d := objs["Deployment/mcp-extproc"].Value.(*appsv1.Deployment)
	if d.Spec.Replicas != nil {
		t.Errorf("with the HPA on, the Deployment must not set replicas (got %d)", *d.Spec.Replicas)
	}
	if env := d.Spec.Template.Spec.Containers[0].Env; len(env) != 2 || env[1].Name != "OTEL_EXPORTER_OTLP_ENDPOINT" {
		t.Errorf("env %+v", env)
	} else {
		checkGoMemLimit(t, env)
	}

	ef := objs["EnvoyFilter/mcp-extproc"].Value.(*k8sdecode.EnvoyFilter)
	if ef.Metadata.Namespace != "mcp" {
		t.Errorf("EnvoyFilter namespace %q", ef.Metadata.Namespace)
	}
	if ctx := ef.Spec.GetConfigPatches()[0].GetMatch().GetContext(); ctx != networkingv1alpha3.EnvoyFilter_SIDECAR_INBOUND {
		t.Errorf("context %v", ctx)
	}
	checkExtProc(t, ef.ExtProcs, "outbound|50051||mcp-extproc.mcp-system.svc.cluster.local")

	p := objs["EnvoyExtensionPolicy/mcp-extproc"].Value.(*egv1a1.EnvoyExtensionPolicy)
	ep := p.Spec.ExtProc[0]
	br := ep.BackendRefs[0]
	if p.Namespace != "mcp" || string(br.Name) != "mcp-extproc" || br.Namespace == nil || string(*br.Namespace) != releaseNS || *br.Port != 50051 {
		t.Errorf("extension policy backend %+v in %s", br, p.Namespace)
	}
	if ep.FailOpen == nil || *ep.FailOpen || !ep.ProcessingMode.AllowModeOverride {
		t.Errorf("extension policy must fail closed and allow mode override: %+v", ep)
	}
	if ep.Metadata == nil || !slices.Contains(ep.Metadata.WritableNamespaces, "mcp_extproc") {
		t.Errorf("extension policy must let mcp-extproc write its dynamic metadata: %+v", ep.Metadata)
	}
}

func checkExtProc(t *testing.T, eps []*extprocv3.ExternalProcessor, cluster string) {
	t.Helper()
	if len(eps) != 1 {
		t.Fatalf("%d ext_proc filters", len(eps))
	}
	ep := eps[0]
	if got := ep.GetGrpcService().GetEnvoyGrpc().GetClusterName(); got != cluster {
		t.Errorf("cluster %q, want %q", got, cluster)
	}
	if !slices.Contains(ep.GetMetadataOptions().GetReceivingNamespaces().GetUntyped(), "mcp_extproc") {
		t.Error("the EnvoyFilter must accept mcp-extproc's dynamic metadata (metadata_options.receiving_namespaces)")
	}
	pm := ep.GetProcessingMode()
	if ep.GetFailureModeAllow() || !ep.GetAllowModeOverride() ||
		pm.GetRequestBodyMode() != extprocv3.ProcessingMode_BUFFERED || pm.GetResponseBodyMode() != extprocv3.ProcessingMode_BUFFERED {
		t.Errorf("ext_proc settings %v", ep)
	}
}

func TestIstioGatewayRender(t *testing.T) {
	objs := render(t, valuesFile(t, "istio-gateway.yaml"))
	ef := objs["EnvoyFilter/mcp-extproc"].Value.(*k8sdecode.EnvoyFilter)
	if ef.Metadata.Namespace != "istio-system" || ef.Spec.GetWorkloadSelector().GetLabels()["istio"] != "ingressgateway" {
		t.Errorf("gateway EnvoyFilter %v %v", ef.Metadata.Namespace, ef.Spec.GetWorkloadSelector())
	}
	if ctx := ef.Spec.GetConfigPatches()[0].GetMatch().GetContext(); ctx != networkingv1alpha3.EnvoyFilter_GATEWAY {
		t.Errorf("context %v", ctx)
	}
	checkExtProc(t, ef.ExtProcs, "outbound|50051||mcp-extproc.mcp-system.svc.cluster.local")
	if objs["PodDisruptionBudget/mcp-extproc"] != nil {
		t.Error("PDB rendered although disabled")
	}
	d := objs["Deployment/mcp-extproc"].Value.(*appsv1.Deployment)
	if len(d.Spec.Template.Spec.TopologySpreadConstraints) != 0 {
		t.Error("topology spread rendered although disabled")
	}
}

func TestExistingConfigMapRender(t *testing.T) {
	objs := render(t, valuesFile(t, "existing-configmap.yaml"))
	if objs["ConfigMap/mcp-extproc"] != nil || objs["ServiceAccount/mcp-extproc"] != nil {
		t.Errorf("objects %v", kinds(objs))
	}
	d := objs["Deployment/mcp-extproc"].Value.(*appsv1.Deployment)
	if d.Spec.Template.Spec.Volumes[0].ConfigMap.Name != "my-policy" || d.Spec.Template.Spec.ServiceAccountName != "mcp-extproc" {
		t.Errorf("pod spec %+v", d.Spec.Template.Spec)
	}
}

// A bad mode is refused at render time, with the value named.
func TestBadEnvoyFilterModeFails(t *testing.T) {
	c := loadChart(t)
	vals, err := chartutil.ToRenderValues(c, map[string]any{"istio": map[string]any{"envoyFilter": map[string]any{"enabled": true, "mode": "ambient"}}},
		chartutil.ReleaseOptions{Name: "x", Namespace: releaseNS}, chartutil.DefaultCapabilities)
	if err == nil {
		_, err = engine.Render(c, vals)
	}
	if err == nil || !strings.Contains(err.Error(), "mode") {
		t.Fatalf("mode ambient rendered: %v", err)
	}
}

// The strict decoding is what makes these tests worth having: a misspelled
// field in a template must fail.
func TestStrictDecodingCatchesTypos(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(chartDir, "templates", "deployment.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, typo := range [][2]string{{"readinessProbe:", "readynessProbe:"}, {"readOnly: true", "readonly: true"}} {
		bad := strings.Replace(string(raw), typo[0], typo[1], 1)
		if bad == string(raw) {
			t.Fatalf("template lost %q", typo[0])
		}
		c := loadChart(t)
		for _, f := range c.Templates {
			if f.Name == "templates/deployment.yaml" {
				f.Data = []byte(bad)
			}
		}
		vals, err := chartutil.ToRenderValues(c, nil, chartutil.ReleaseOptions{Name: "mcp-extproc", Namespace: releaseNS}, chartutil.DefaultCapabilities)
		if err != nil {
			t.Fatal(err)
		}
		files, err := engine.Render(c, vals)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := k8sdecode.Decode([]byte(files["mcp-extproc/templates/deployment.yaml"])); err == nil {
			t.Errorf("%q → %q decoded without error", typo[0], typo[1])
		}
	}
}
