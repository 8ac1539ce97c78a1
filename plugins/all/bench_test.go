package all_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mcp-extproc/mcp-extproc/framework"
	_ "github.com/mcp-extproc/mcp-extproc/plugins/all"
	"github.com/mcp-extproc/mcp-extproc/plugins/internal/plugintest"
	toolpin "github.com/mcp-extproc/mcp-extproc/plugins/tool_pin"
)

// BenchmarkListGuards runs a 100-tool tools/list page through tool_filter
// (hide_denied), tool_guard (defaults) and tool_pin (every tool pinned),
// in enforce mode, through the framework's executor as the server runs them.
func BenchmarkListGuards(b *testing.B) {
	tools := plugintest.HundredTools()
	var lf toolpin.Lockfile
	if err := lf.Pin("", tools); err != nil {
		b.Fatal(err)
	}
	y, err := lf.Marshal()
	if err != nil {
		b.Fatal(err)
	}
	pins := filepath.Join(b.TempDir(), "pins.yaml")
	if err := os.WriteFile(pins, y, 0o600); err != nil {
		b.Fatal(err)
	}
	policy := `
plugins:
  - name: filter
    kind: tool_filter
    config: {deny: ["admin_*", "shell_*"]}
  - name: guard
    kind: tool_guard
  - name: pin
    kind: tool_pin
    config: {pins_file: "` + pins + `", on_new: block}
`
	cfg, _, err := framework.Parse([]byte(policy), "policy.yaml", framework.LoadOptions{})
	if err != nil {
		b.Fatal(err)
	}
	mgr, err := framework.NewManager(context.Background(), cfg)
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = mgr.Shutdown(context.Background()) }()
	ctx := context.Background()
	payload := &framework.ToolsPostListPayload{Tools: tools, ServerID: "s"}
	o := mgr.ToolsPostList(ctx, payload, framework.NewContextTable(framework.GlobalContext{ServerID: "s"}))
	if o.Violation != nil || o.Modified || o.Ran != 3 {
		b.Fatalf("outcome %+v", o)
	}
	b.Run("same list", func(b *testing.B) {
		measure(b, len(tools), func() {
			mgr.ToolsPostList(ctx, payload, framework.NewContextTable(framework.GlobalContext{ServerID: "s"}))
		})
	})
	// A list whose bytes this replica has not seen, of tools it has (the
	// white space after its '[' spells the count, as in fresh): as a server
	// sends that lists its tools in a new order or writes its JSON anew. No
	// list is remembered, so each plugin splits it, and each tool is found
	// by its bytes in the plugins' memory of items.
	b.Run("known tools, new list", func(b *testing.B) {
		b.SetBytes(int64(len(tools)))
		b.ReportAllocs()
		var cpu time.Duration
		n := 0
		for b.Loop() {
			b.StopTimer()
			n++
			list := respaced(tools, n)
			b.StartTimer()
			start := cpuTime()
			o := mgr.ToolsPostList(ctx, &framework.ToolsPostListPayload{Tools: list, ServerID: "s"}, framework.NewContextTable(framework.GlobalContext{ServerID: "s"}))
			cpu += cpuTime() - start
			if o.Modified || o.Violation != nil {
				b.Fatalf("new list of known tools: %+v", o)
			}
		}
		b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
	})
	// The first list after start or reload: every tool pinned, none judged
	// before by this replica, so each is scanned and fingerprinted.
	b.Run("first list", func(b *testing.B) {
		fresh(b, cfg, tools, len(tools), func(m *framework.Manager, tools json.RawMessage) {
			o := m.ToolsPostList(ctx, &framework.ToolsPostListPayload{Tools: tools, ServerID: "s"}, framework.NewContextTable(framework.GlobalContext{ServerID: "s"}))
			if o.Modified || o.Violation != nil {
				b.Fatalf("first list: %+v", o)
			}
		})
	})
	// The same first list as servers write it, members not in canonical
	// order (plugintest.HundredToolsInServerOrder): tool_pin's fast path
	// canonicalises each tool's schema and annotations aside.
	serverOrder := plugintest.HundredToolsInServerOrder()
	b.Run("first list, server order", func(b *testing.B) {
		fresh(b, cfg, serverOrder, len(serverOrder), func(m *framework.Manager, tools json.RawMessage) {
			o := m.ToolsPostList(ctx, &framework.ToolsPostListPayload{Tools: tools, ServerID: "s"}, framework.NewContextTable(framework.GlobalContext{ServerID: "s"}))
			if o.Modified || o.Violation != nil {
				b.Fatalf("first list in server order: %+v", o)
			}
		})
	})
	// A server that changed every tool since it was pinned: all 100 hidden
	// (and audited), the cost of a rug pull.
	changed := json.RawMessage(strings.ReplaceAll(string(tools), `"the record's id`, `"the id`))
	b.Run("every tool changed", func(b *testing.B) {
		fresh(b, cfg, changed, len(changed), func(m *framework.Manager, changed json.RawMessage) {
			o := m.ToolsPostList(ctx, &framework.ToolsPostListPayload{Tools: changed, ServerID: "s"}, framework.NewContextTable(framework.GlobalContext{ServerID: "s"}))
			if !o.Modified {
				b.Fatalf("changed list: %+v", o)
			}
		})
	})
}

// fresh runs f with a new Manager for cfg each time (made outside the
// timer): the plugins have judged nothing yet. Each time the list's bytes
// differ too (white space after its '[' spells the count), as a server
// sending a new list every time makes them: nothing remembered of a list's
// bytes anywhere in the process can serve.
func fresh(b *testing.B, cfg *framework.Config, tools json.RawMessage, size int, f func(*framework.Manager, json.RawMessage)) {
	b.SetBytes(int64(size))
	b.ReportAllocs()
	var cpu time.Duration
	ctx := context.Background()
	n := 0
	for b.Loop() {
		b.StopTimer()
		m, err := framework.NewManager(ctx, cfg)
		if err != nil {
			b.Fatal(err)
		}
		n++
		list := respaced(tools, n)
		b.StartTimer()
		start := cpuTime()
		f(m, list)
		cpu += cpuTime() - start
		b.StopTimer()
		_ = m.Shutdown(ctx)
		b.StartTimer()
	}
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
}

// respaced returns list with white space after its '[' that spells n, so
// that lists made for different n differ in their bytes.
func respaced(list json.RawMessage, n int) json.RawMessage {
	out := append([]byte{'['}, make([]byte, 16)...)
	for i := range 16 {
		out[1+i] = " \t\n\r"[n>>(2*i)&3]
	}
	return append(out, list[1:]...)
}

// measure runs f in the benchmark loop and also reports the process's CPU
// time per op (cpu-ns/op): on a shared machine wall time includes waiting
// for a core.
func measure(b *testing.B, size int, f func()) {
	b.SetBytes(int64(size))
	b.ReportAllocs()
	var cpu time.Duration
	for b.Loop() {
		start := cpuTime()
		f()
		cpu += cpuTime() - start
	}
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
