package outputguard_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/mcp-extproc/mcp-extproc/framework"
	"github.com/mcp-extproc/mcp-extproc/plugins/internal/plugintest"
)

// benchResult is a tools/call result of about 64 KiB: `blocks` text blocks
// sharing 64 KiB of mixed ASCII and non-ASCII prose, plus a
// structuredContent object with the same strings.
func benchResult(blocks int) []byte {
	const filler = "Grüße — the quick brown fox jumps over the lazy dog; 速い茶色の狐. "
	per := (31 << 10) / blocks
	var b strings.Builder
	b.WriteString(`{"content":[`)
	var texts []string
	for i := range blocks {
		if i > 0 {
			b.WriteByte(',')
		}
		t := strings.Repeat(filler, per/len(filler)+1)
		cut := per
		for !utf8.RuneStart(t[cut]) {
			cut--
		}
		t = t[:cut]
		texts = append(texts, t)
		q, _ := json.Marshal(t)
		b.WriteString(`{"type":"text","text":` + string(q) + `}`)
	}
	sc, _ := json.Marshal(map[string]any{"items": texts})
	b.WriteString(`],"structuredContent":` + string(sc) + `}`)
	return []byte(b.String())
}

func BenchmarkOutputGuard(b *testing.B) {
	for _, bc := range []struct {
		name, config string
		blocks       int
		modified     bool
	}{
		{"within-limit/1-block", `{max_chars: 100000}`, 1, false},
		{"truncate/1-block", `{max_chars: 4000}`, 1, true},
		{"within-limit/64-blocks", `{max_chars: 100000}`, 64, false},
		{"truncate/64-blocks", `{max_chars: 4000, word_boundary: true}`, 64, true},
		{"block/64-blocks", `{max_chars: 4000, strategy: block}`, 64, false},
	} {
		raw := benchResult(bc.blocks)
		pl := plugintest.Load(b, withConfig(bc.config)).(framework.ToolPostInvoker)
		b.Run(fmt.Sprintf("%dKiB/%s", len(raw)>>10, bc.name), func(b *testing.B) {
			p := &framework.ToolPostInvokePayload{Name: "t", Result: raw}
			b.SetBytes(int64(len(raw)))
			b.ReportAllocs()
			for b.Loop() {
				res, err := pl.ToolPostInvoke(context.Background(), p, pc)
				if err != nil || (res.ModifiedPayload != nil) != bc.modified {
					b.Fatal("unexpected result", err)
				}
			}
		})
	}
}
