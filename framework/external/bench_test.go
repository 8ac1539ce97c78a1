package external_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/mcp-extproc/mcp-extproc/framework"
)

// BenchmarkToolPreInvoke: one tool_pre_invoke through the same deny_list
// plugin in process, behind plugin-server over STDIO, and over Streamable
// HTTP, side by side; reports calls/s and p50/p99 latency.
func BenchmarkToolPreInvoke(b *testing.B) {
	inproc := "plugins:\n  - name: deny\n    kind: deny_list\n    config: {words: [forbidden, classified]}\n"
	for _, bc := range []struct{ name, policy string }{
		{"in-process", inproc},
		{"stdio", externalPolicy(stdioMCP(b), "deny")},
		{"http", externalPolicy(httpMCP(startHTTPServer(b)), "deny")},
	} {
		b.Run(bc.name, func(b *testing.B) {
			m := manager(b, bc.policy)
			payload := &framework.ToolPreInvokePayload{Name: "send_message", Args: []byte(`{"to":"ops","text":"the deployment finished without incident"}`)}
			lat := make([]time.Duration, 0, 1024)
			b.ReportAllocs()
			start := time.Now()
			for b.Loop() {
				t0 := time.Now()
				out := m.ToolPreInvoke(context.Background(), payload, framework.NewContextTable(framework.GlobalContext{RequestID: "r"}))
				lat = append(lat, time.Since(t0))
				if out.Blocked() {
					b.Fatalf("blocked: %+v", out.Violation)
				}
			}
			elapsed := time.Since(start)
			slices.Sort(lat)
			b.ReportMetric(float64(len(lat))/elapsed.Seconds(), "calls/s")
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
		})
	}
}
