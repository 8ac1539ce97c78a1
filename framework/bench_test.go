package framework

import (
	"context"
	"fmt"
	"testing"
)

type noop struct{}

func (noop) ToolPreInvoke(context.Context, *ToolPreInvokePayload, *PluginContext) (Result[ToolPreInvokePayload], error) {
	return Result[ToolPreInvokePayload]{}, nil
}

func noopManager(tb testing.TB, n int, mode Mode, conds []Condition) *Manager {
	return noopManagerKind(tb, n, mode, conds, false)
}

func noopManagerKind(tb testing.TB, n int, mode Mode, conds []Condition, inline bool) *Manager {
	tb.Helper()
	reg := NewRegistry()
	reg.Register(Kind{Name: "noop", Hooks: []HookType{ToolPreInvoke}, Inline: inline, New: func(*PluginConfig) (Plugin, error) { return noop{}, nil }})
	cfg := DefaultConfig()
	for i := range n {
		pc := defaultPluginConfig()
		pc.Name, pc.Kind, pc.Index, pc.Mode, pc.Conditions = fmt.Sprintf("noop-%d", i), "noop", i, mode, conds
		cfg.Plugins = append(cfg.Plugins, pc)
	}
	m, err := NewManager(context.Background(), &cfg, WithRegistry(reg))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = m.Shutdown(context.Background()) })
	return m
}

// A hook with no plugin, or whose plugins' conditions do not match, costs no
// allocation: the adapter calls every hook on every message.
func TestNoMatchingPluginDoesNotAllocate(t *testing.T) {
	ctx := context.Background()
	p := &ToolPreInvokePayload{Name: "get_weather", Args: []byte(`{"city":"Paris"}`)}
	pp := &PromptPreFetchPayload{PromptID: "x"}
	tbl := NewContextTable(GlobalContext{RequestID: "r", User: "ann", TenantID: "acme"})
	cases := map[string]*Manager{
		"no plugins":          noopManager(t, 0, ModeEnforce, nil),
		"conditions no match": noopManager(t, 5, ModeEnforce, []Condition{{Tools: []string{"delete_*"}, TenantIDs: []string{"acme"}}}),
		"other hook only":     noopManager(t, 3, ModeEnforce, nil),
	}
	for name, m := range cases {
		allocs := testing.AllocsPerRun(200, func() {
			if name == "other hook only" {
				m.PromptPreFetch(ctx, pp, tbl)
				return
			}
			m.ToolPreInvoke(ctx, p, tbl)
		})
		if allocs != 0 {
			t.Errorf("%s: %v allocations per call, want 0", name, allocs)
		}
	}
}

// An inline plugin call costs no goroutine, timer or context copy: running
// five of them allocates nothing once the exchange's contexts exist.
func TestInlineCallsDoNotAllocate(t *testing.T) {
	ctx := context.Background()
	p := &ToolPreInvokePayload{Name: "get_weather", Args: []byte(`{"city":"Paris"}`)}
	tbl := NewContextTable(GlobalContext{RequestID: "r"})
	m := noopManagerKind(t, 5, ModeEnforce, nil, true)
	m.ToolPreInvoke(ctx, p, tbl) // creates the plugins' contexts
	if n := testing.AllocsPerRun(200, func() { m.ToolPreInvoke(ctx, p, tbl) }); n != 0 {
		t.Fatalf("%v allocations per hook run with 5 inline plugins, want 0", n)
	}
}

func BenchmarkInlineVsWorker(b *testing.B) {
	ctx := context.Background()
	p := &ToolPreInvokePayload{Name: "get_weather", Args: []byte(`{"city":"Paris"}`)}
	for _, inline := range []bool{true, false} {
		name := "worker"
		if inline {
			name = "inline"
		}
		b.Run(name, func(b *testing.B) {
			m := noopManagerKind(b, 1, ModeEnforce, nil, inline)
			tbl := NewContextTable(GlobalContext{RequestID: "r"})
			b.ReportAllocs()
			for b.Loop() {
				m.ToolPreInvoke(ctx, p, tbl)
			}
		})
	}
}

func BenchmarkExecutor(b *testing.B) {
	ctx := context.Background()
	p := &ToolPreInvokePayload{Name: "get_weather", Args: []byte(`{"city":"Paris"}`)}
	for _, bc := range []struct {
		name  string
		n     int
		mode  Mode
		conds []Condition
	}{
		{"no-plugins", 0, ModeEnforce, nil},
		{"no-match/20", 20, ModeEnforce, []Condition{{Tools: []string{"delete_*"}}}},
		{"enforce/1", 1, ModeEnforce, nil},
		{"enforce/5", 5, ModeEnforce, nil},
		{"enforce/20", 20, ModeEnforce, nil},
		{"concurrent/5", 5, ModeConcurrent, nil},
		{"concurrent/20", 20, ModeConcurrent, nil},
	} {
		b.Run(bc.name, func(b *testing.B) {
			m := noopManager(b, bc.n, bc.mode, bc.conds)
			tbl := NewContextTable(GlobalContext{RequestID: "r"})
			b.ReportAllocs()
			for b.Loop() {
				if out := m.ToolPreInvoke(ctx, p, tbl); out.Blocked() {
					b.Fatal("blocked")
				}
			}
		})
	}
}
