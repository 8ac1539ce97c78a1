package encodedexfil_test

import (
	"testing"

	"github.com/mcp-extproc/mcp-extproc/framework"
	"github.com/mcp-extproc/mcp-extproc/plugins/internal/plugintest"
)

// BenchmarkToolResult: tools/call results of prose (1 KiB and 64 KiB),
// clean, with a harmless base64 run every 300 bytes, and with a base64
// GitHub token every 4 KiB.
func BenchmarkToolResult(b *testing.B) {
	pl := load(b, `{action: log, log_detections: false}`).(framework.ToolPostInvoker)
	for _, bc := range []struct {
		name, needle string
		every        int
		found        bool
	}{
		{"clean", "x", 1 << 30, false},
		{"harmless-base64", b64("release notes for version 2.4.1 of the tool"), 300, false},
		{"base64-secret", b64(secretLine + ghToken), 4096, true},
	} {
		for _, n := range []int{1, 64} {
			raw := plugintest.ToolResult(plugintest.Prose(n, bc.every, bc.needle)...)
			b.Run(bc.name+map[int]string{1: "/1KiB", 64: "/64KiB"}[n], func(b *testing.B) {
				plugintest.BenchDetections(b, pl, raw, "encoded_exfil_count", bc.found && n == 64)
			})
		}
	}
}
