package urlreputation_test

import (
	"context"
	"strings"
	"testing"

	"github.com/mcp-extproc/mcp-extproc/framework"
	"github.com/mcp-extproc/mcp-extproc/plugins/internal/plugintest"
)

// BenchmarkToolResult: a tools/call result of about 1 KiB (and 64 KiB) of
// prose with a few URLs, none denied, against a deny list of 10 000 domains.
func BenchmarkToolResult(b *testing.B) {
	var deny strings.Builder
	deny.WriteString("{deny_domains: [")
	for i := range 10000 {
		if i > 0 {
			deny.WriteString(", ")
		}
		deny.WriteString("bad" + strings.Repeat("x", i%7) + string(rune('a'+i%26)) + ".example" + string(rune('a'+i/26%26)))
	}
	deny.WriteString("]")
	for _, cfg := range []struct{ name, extra string }{{"", ""}, {"patterns/", ", deny_patterns: ['(?i)casino', '^http://[^/]*/admin']"}} {
		pl := load(b, deny.String()+cfg.extra+"}")
		for _, n := range []int{1, 64} {
			texts := plugintest.Prose(n, 300, "see https://docs.example.com/guide?page=2 or http://cdn.example.org/x.png")
			raw := plugintest.ToolResult(texts...)
			p := &framework.ToolPostInvokePayload{Name: "t", Result: raw}
			b.Run(cfg.name+map[int]string{1: "1KiB", 64: "64KiB"}[n], func(b *testing.B) {
				b.SetBytes(int64(len(raw)))
				b.ReportAllocs()
				for b.Loop() {
					if res, err := pl.ToolPostInvoke(context.Background(), p, nil); err != nil || res.Violation != nil {
						b.Fatal(err, res.Violation)
					}
				}
			})
		}
	}
}
