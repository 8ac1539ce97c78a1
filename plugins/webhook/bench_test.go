package webhook_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/mcp-extproc/mcp-extproc/framework"
	"github.com/mcp-extproc/mcp-extproc/plugins/internal/plugintest"
)

// BenchmarkWebhook: a tool_pre_invoke of 1 KiB of arguments answered from
// the (opt-in) cache — the plugin's own cost — and by the stand-in on
// 127.0.0.1 for every call.
func BenchmarkWebhook(b *testing.B) {
	srv := service(b, nil)
	args, _ := json.Marshal(map[string]any{"memo": plugintest.Prose(1, 1<<20, "")[0][:990]})
	for _, bc := range []struct{ name, http string }{
		{"1KiB/cache-hit", "{cache: {size: 100, ttl: 1h}}"},
		{"1KiB/local-server", "{}"},
	} {
		pl := plugintest.Load(b, plugintest.BlockPolicy("team-policy", "webhook", "url: "+srv.URL+"\nhttp: "+bc.http)).(framework.ToolPreInvoker)
		if err := pl.(framework.Initializer).Initialize(context.Background()); err != nil {
			b.Fatal(err)
		}
		b.Run(bc.name, func(b *testing.B) { plugintest.BenchToolPreInvoke(b, pl, "transfer", args, pc) })
	}
}
