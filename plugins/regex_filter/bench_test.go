package regexfilter_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/mcp-extproc/mcp-extproc/framework"
	"github.com/mcp-extproc/mcp-extproc/plugins/internal/plugintest"
)

// benchResult is a 64 KiB tools/call result: 64 text blocks of about 1 KiB
// of prose, with "crap" once every `every` bytes of text.
func benchResult(every int) []byte {
	return plugintest.ToolResult(plugintest.Prose(64, every, "crap")...)
}

func BenchmarkToolResult(b *testing.B) {
	for _, rules := range []struct{ name, config string }{
		{"literal", `{words: [{search: crap, replace: crud}, {search: darn, replace: dang}]}`},
		{"classes", `{words: [{search: '\b\d{3}-\d{2}-\d{4}\b', replace: '***'}, {search: '(?i)cr[a@]p', replace: crud}]}`},
	} {
		pl := plugintest.Load(b, withConfig(rules.config)).(framework.ToolPostInvoker)
		for _, bc := range []struct {
			name  string
			every int
		}{{"few", 16 << 10}, {"many", 64}} {
			raw := benchResult(bc.every)
			if !json.Valid(raw) {
				b.Fatal("bad bench input")
			}
			b.Run(fmt.Sprintf("64KiB/%s/%s", rules.name, bc.name), func(b *testing.B) {
				p := &framework.ToolPostInvokePayload{Name: "t", Result: raw}
				b.SetBytes(int64(len(raw)))
				b.ReportAllocs()
				for b.Loop() {
					res, err := pl.ToolPostInvoke(context.Background(), p, pc)
					if err != nil || res.ModifiedPayload == nil {
						b.Fatal("not rewritten", err)
					}
				}
			})
		}
	}
}
