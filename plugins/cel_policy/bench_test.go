package celpolicy_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/mcp-extproc/mcp-extproc/framework"
	"github.com/mcp-extproc/mcp-extproc/plugins/internal/plugintest"
)

// benchPolicy has n rules on tool_pre_invoke reading the tool name, its
// arguments and the user; none matches the benchmark's call, so every rule
// is evaluated.
func benchPolicy(n int) string {
	var b strings.Builder
	b.WriteString("plugins:\n  - name: authz\n    kind: cel_policy\n    config:\n      default: allow\n      rules:\n")
	for i := range n {
		fmt.Fprintf(&b, "        - {name: r%d, when: 'tool.name == \"transfer_%d\" && tool.args.amount > 1000 && user != \"root\"'}\n", i, i)
	}
	return b.String()
}

func benchRules(b *testing.B, n int) {
	pl := plugintest.Load(b, benchPolicy(n)).(framework.ToolPreInvoker)
	p := &framework.ToolPreInvokePayload{Name: "transfer_funds", Args: []byte(`{"amount":1500,"to":"bob","memo":"rent"}`)}
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

// BenchmarkRules: one tools/call through 1 and 50 rules (target: 2 µs and
// 30 µs).
func BenchmarkRules(b *testing.B) {
	for _, n := range []int{1, 50} {
		b.Run(fmt.Sprintf("rules=%d", n), func(b *testing.B) { benchRules(b, n) })
	}
}
