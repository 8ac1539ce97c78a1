package external_test

import (
	"context"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mcp-extproc/mcp-extproc/framework"
	"github.com/mcp-extproc/mcp-extproc/framework/external"
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

// callers is how many goroutines call at once in the concurrent benchmarks.
const callers = 8

// parallelCalls runs call b.N times from callers goroutines and reports
// calls/s; B/op and allocs/op are per call.
func parallelCalls(b *testing.B, call func() bool) {
	b.Helper()
	b.ReportAllocs()
	var n atomic.Int64
	var failed atomic.Bool
	var wg sync.WaitGroup
	b.ResetTimer()
	start, cpu0 := time.Now(), external.ProcessCPU()
	for range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n.Add(1) <= int64(b.N) {
				if !call() {
					failed.Store(true)
					return
				}
			}
		}()
	}
	wg.Wait()
	elapsed, cpu := time.Since(start), external.ProcessCPU()-cpu0
	b.StopTimer()
	if failed.Load() {
		b.Fatal("a call did not get its verdict")
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "calls/s")
	b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/call")
}

// BenchmarkToolPreInvokeConcurrent: 8 callers at once through one client
// of a plugin server in its own process (the test build of plugin-server),
// over STDIO and over Streamable HTTP on 127.0.0.1. Allocation and
// cpu-µs/call are the client's (the server is another process); calls/s is
// the pair's, and depends on what else the machine runs.
func BenchmarkToolPreInvokeConcurrent(b *testing.B) {
	for _, bc := range []struct{ name, policy string }{
		{"stdio", externalPolicy(stdioMCP(b), "deny")},
		{"http", externalPolicy(httpMCP(startHTTPServer(b)), "deny")},
	} {
		b.Run(bc.name, func(b *testing.B) {
			m := manager(b, bc.policy)
			payload := &framework.ToolPreInvokePayload{Name: "send_message", Args: []byte(`{"to":"ops","text":"the deployment finished without incident"}`)}
			blocked := &framework.ToolPreInvokePayload{Name: "send_message", Args: []byte(`{"to":"ops","text":"this is classified"}`)}
			var i atomic.Int64
			parallelCalls(b, func() bool {
				// One call in 16 is blocked, so the verdict is read.
				if i.Add(1)%16 == 0 {
					return m.ToolPreInvoke(context.Background(), blocked, framework.NewContextTable(framework.GlobalContext{RequestID: "r"})).Blocked()
				}
				return !m.ToolPreInvoke(context.Background(), payload, framework.NewContextTable(framework.GlobalContext{RequestID: "r"})).Blocked()
			})
		})
	}
}
