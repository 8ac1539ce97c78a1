package toolfilter_test

import (
	"context"
	"testing"

	"github.com/mcp-extproc/mcp-extproc/framework"
	"github.com/mcp-extproc/mcp-extproc/plugins/internal/plugintest"
)

func BenchmarkToolFilter(b *testing.B) {
	pl := plugintest.Load(b, withConfig(`{allow: ["read_*", "list_*", "search", "get_?_info"], deny: ["*_secrets", "*admin*", "exec", "shell_*"]}`)).(framework.ToolPreInvoker)
	for _, name := range []string{"read_customer_record", "delete_everything"} {
		b.Run(name, func(b *testing.B) {
			p := &framework.ToolPreInvokePayload{Name: name, Args: []byte(`{}`)}
			pc := &framework.PluginContext{Global: &framework.GlobalContext{}}
			b.ReportAllocs()
			for b.Loop() {
				_, _ = pl.ToolPreInvoke(context.Background(), p, pc)
			}
		})
	}
}
