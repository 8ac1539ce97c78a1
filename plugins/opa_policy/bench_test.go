package opapolicy_test

import (
	"context"
	"testing"

	"github.com/mcp-extproc/mcp-extproc/framework"
	"github.com/mcp-extproc/mcp-extproc/plugins/internal/plugintest"
)

// BenchmarkQuery: one tools/call decided by a tool allow list (the
// testdata bundle) and by testdata/authz.rego's transfer limits with their
// data (target: 30 µs).
func BenchmarkQuery(b *testing.B) {
	for name, config := range map[string]string{
		"allow-list":      `{bundle: testdata/bundle, query: data.mcp.authz.allow}`,
		"transfer-limits": `{policy_files: [testdata/authz.rego], data_files: [testdata/limits.json], query: data.mcp.authz.decision}`,
	} {
		b.Run(name, func(b *testing.B) { benchQuery(b, config) })
	}
}

func benchQuery(b *testing.B, config string) {
	pl := plugintest.Load(b, plugintest.Policy("authz", "opa_policy", config)).(framework.ToolPreInvoker)
	p := &framework.ToolPreInvokePayload{Name: "search", Args: []byte(`{"amount":500,"to":"bob","memo":"rent"}`)}
	pc := &framework.PluginContext{Global: &framework.GlobalContext{User: "alice", TenantID: "acme"}}
	ctx := context.Background()
	b.ReportAllocs()
	defer plugintest.ReportCPU(b)()
	for b.Loop() {
		res, err := pl.ToolPreInvoke(ctx, p, pc)
		if err != nil || res.Violation != nil {
			b.Fatal(err, res.Violation)
		}
	}
}
