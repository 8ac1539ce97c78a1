package external

import (
	"context"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/mcp-extproc/mcp-extproc/framework"
)

// BenchmarkWire: one tool_pre_invoke from 8 callers at once through the
// client and the server of this package in one process, over a pair of OS
// pipes (STDIO's framing) and over Streamable HTTP on 127.0.0.1, without the
// executor. B/op and cpu-µs/call count both sides of the wire: what a call
// costs in all, whatever else the machine runs.
func BenchmarkWire(b *testing.B) {
	srv := wireServer(b)
	logger := slog.New(slog.DiscardHandler)
	dialers := []struct {
		name string
		dial func(b *testing.B) session
	}{
		{"stdio-pipe", func(b *testing.B) session {
			cr, sw, err := os.Pipe()
			if err != nil {
				b.Fatal(err)
			}
			sr, cw, err := os.Pipe()
			if err != nil {
				b.Fatal(err)
			}
			served := make(chan struct{})
			go func() { _ = srv.Serve(context.Background(), sr, sw); _ = sw.Close(); close(served) }()
			s := pipeSession(cr, cw, logger, func() error { <-served; return nil })
			return s
		}},
		{"http-loopback", func(b *testing.B) session {
			ts := httptest.NewServer(srv.Handler())
			b.Cleanup(ts.Close)
			client, err := httpClient(&framework.ExternalMCPConfig{Proto: framework.TransportStreamableHTTP, URL: ts.URL + "/mcp"})
			if err != nil {
				b.Fatal(err)
			}
			return &httpSession{url: ts.URL + "/mcp", client: client}
		}},
	}
	for _, d := range dialers {
		b.Run(d.name, func(b *testing.B) {
			s := d.dial(b)
			c, err := handshake(context.Background(), s)
			if err != nil {
				b.Fatal(err)
			}
			defer s.close()
			c.gen = 1
			p := &Plugin{pc: &framework.PluginConfig{Name: "keyword-moderation"}, logger: logger}
			p.cur.Store(c)
			payload := &framework.ToolPreInvokePayload{Name: "send_message", Args: []byte(`{"to":"ops","text":"the deployment finished without incident"}`)}
			b.ReportAllocs()
			var n atomic.Int64
			var failed atomic.Value
			var wg sync.WaitGroup
			b.ResetTimer()
			start, cpu0 := time.Now(), ProcessCPU()
			for range 8 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for n.Add(1) <= int64(b.N) {
						pc := &framework.PluginContext{Global: &framework.GlobalContext{RequestID: "r"}}
						res, err := p.ToolPreInvoke(context.Background(), payload, pc)
						if err != nil || res.Violation != nil || pc.State["checks"] != 1.0 {
							failed.Store(fmt.Sprintf("%v %+v state %v", err, res, pc.State))
							return
						}
					}
				}()
			}
			wg.Wait()
			elapsed, cpu := time.Since(start), ProcessCPU()-cpu0
			b.StopTimer()
			if v := failed.Load(); v != nil {
				b.Fatalf("a call failed: %v", v)
			}
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "calls/s")
			b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/call")
		})
	}
}

// ProcessCPU is the CPU time this process has used (user and system): per
// call, it does not depend on what else the machine runs. (Exported for the
// external_test benchmarks.)
func ProcessCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
