package openaimoderation_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/mcp-extproc/mcp-extproc/framework"
	"github.com/mcp-extproc/mcp-extproc/plugins/internal/plugintest"
)

// benchArgs is about size bytes of tools/call arguments: notes of prose.
func benchArgs(size int) json.RawMessage {
	notes := plugintest.Prose(max(size/1024, 1), 1<<20, "")
	for i, n := range notes {
		notes[i] = n[:min(len(n), size-40)]
	}
	b, _ := json.Marshal(map[string]any{"to": "team", "notes": notes})
	return b
}

// BenchmarkModeration: a tool_pre_invoke with a verdict in the cache (the
// plugin's own cost: walking the arguments, hashing them, the look-up)
// and with every call going to the stand-in on 127.0.0.1 (add the
// loopback round trip, the stand-in's work and the JSON of both sides).
func BenchmarkModeration(b *testing.B) {
	srv := standIn(b)
	b.Setenv("MODERATION_TEST_KEY", apiKey)
	for _, bc := range []struct {
		name, http string
		size       int
	}{
		{"1KiB/cache-hit", "{}", 1 << 10},
		{"64KiB/cache-hit", "{}", 64 << 10},
		{"1KiB/local-server", "{cache: {size: 0}}", 1 << 10},
	} {
		pl := plugintest.Load(b, plugintest.BlockPolicy("mod", "openai_moderation",
			"base_url: "+srv.URL+"\napi_key_env: MODERATION_TEST_KEY\nhttp: "+bc.http)).(framework.ToolPreInvoker)
		if err := pl.(framework.Initializer).Initialize(context.Background()); err != nil {
			b.Fatal(err)
		}
		args := benchArgs(bc.size)
		if strings.Contains(bc.name, "1KiB") && (len(args) < 1000 || len(args) > 1100) {
			b.Fatalf("payload of %d bytes", len(args))
		}
		b.Run(bc.name, func(b *testing.B) { plugintest.BenchToolPreInvoke(b, pl, "send", args, pc) })
	}
}
