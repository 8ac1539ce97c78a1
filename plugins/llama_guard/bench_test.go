package llamaguard_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/mcp-extproc/mcp-extproc/framework"
	"github.com/mcp-extproc/mcp-extproc/plugins/internal/plugintest"
)

// BenchmarkLlamaGuard: a tool_pre_invoke of 1 KiB of arguments with the
// verdict in the cache (the plugin's own cost) and with every call going
// to the stand-in on 127.0.0.1.
func BenchmarkLlamaGuard(b *testing.B) {
	srv := standIn(b)
	b.Setenv("LLAMA_GUARD_TEST_TOKEN", token)
	args, _ := json.Marshal(map[string]any{"question": plugintest.Prose(1, 1<<20, "")[0][:990]})
	for _, bc := range []struct{ name, http string }{
		{"1KiB/cache-hit", "{}"},
		{"1KiB/local-server", "{cache: {size: 0}}"},
	} {
		pl := plugintest.Load(b, plugintest.BlockPolicy("guard", "llama_guard",
			"base_url: "+srv.URL+"\nmodel: "+model+"\nauth: {type: bearer, token_env: LLAMA_GUARD_TEST_TOKEN}\nhttp: "+bc.http)).(framework.ToolPreInvoker)
		if err := pl.(framework.Initializer).Initialize(context.Background()); err != nil {
			b.Fatal(err)
		}
		b.Run(bc.name, func(b *testing.B) { plugintest.BenchToolPreInvoke(b, pl, "ask", args, newPC) })
	}
}
