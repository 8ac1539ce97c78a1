package ratelimit

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mcp-extproc/mcp-extproc/framework"
)

// clock is a settable time for the memory store.
type clock struct{ ns atomic.Int64 }

func newClock() *clock {
	c := &clock{}
	c.ns.Store(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano())
	return c
}
func (c *clock) now() time.Time          { return time.Unix(0, c.ns.Load()) }
func (c *clock) advance(d time.Duration) { c.ns.Add(int64(d)) }

// withClock builds a memory-backed plugin on a settable clock.
func withClock(t *testing.T, cfg Config) (*Plugin, *clock) {
	t.Helper()
	p, err := New("rl", cfg)
	if err != nil {
		t.Fatal(err)
	}
	c := newClock()
	p.store = newMemoryStore(cfg.Memory.MaxKeys, c.now)
	return p, c
}

func config(limits ...Limit) Config {
	c := DefaultConfig()
	c.Limits = limits
	return c
}

func pcOf(user, tenant, server string) *framework.PluginContext {
	return &framework.PluginContext{Global: &framework.GlobalContext{User: user, TenantID: tenant, ServerID: server}}
}

func call(t *testing.T, p *Plugin, tool string, pc *framework.PluginContext, headers ...string) *framework.Violation {
	t.Helper()
	h := map[string]string{}
	for i := 0; i+1 < len(headers); i += 2 {
		h[headers[i]] = headers[i+1]
	}
	res, err := p.ToolPreInvoke(context.Background(), &framework.ToolPreInvokePayload{Name: tool, Args: []byte(`{}`), Headers: h}, pc)
	if err != nil {
		t.Fatal(err)
	}
	return res.Violation
}

// admitted counts how many of n calls pass.
func admitted(t *testing.T, p *Plugin, n int, tool string, pc *framework.PluginContext, headers ...string) int {
	t.Helper()
	ok := 0
	for range n {
		if call(t, p, tool, pc, headers...) == nil {
			ok++
		}
	}
	return ok
}

func TestBurstThenSustainedRate(t *testing.T) {
	p, c := withClock(t, config(Limit{By: []string{"user"}, Rate: "60/m", Burst: 10}))
	ann := pcOf("ann", "", "")
	if n := admitted(t, p, 15, "search", ann); n != 10 {
		t.Fatalf("burst: %d admitted, want 10", n)
	}
	v := call(t, p, "search", ann)
	if v == nil || v.Code != CodeRateLimited || v.HTTPStatusCode != 429 || v.HTTPHeaders["retry-after"] != "1" ||
		v.Details["retry_after_seconds"] != int64(1) || v.Details["rate"] != "60/m" || v.Details["burst"] != int64(10) {
		t.Fatalf("violation = %+v", v)
	}
	// One token a second comes back.
	c.advance(time.Second)
	if n := admitted(t, p, 3, "search", ann); n != 1 {
		t.Fatalf("after 1s: %d admitted, want 1", n)
	}
	c.advance(5 * time.Second)
	if n := admitted(t, p, 10, "search", ann); n != 5 {
		t.Fatalf("after 5s: %d admitted, want 5", n)
	}
	// A full minute refills the bucket, but never beyond the burst.
	c.advance(time.Hour)
	if n := admitted(t, p, 20, "search", ann); n != 10 {
		t.Fatalf("after an hour: %d admitted, want the burst of 10", n)
	}
	// Other users have their own bucket.
	if n := admitted(t, p, 12, "search", pcOf("bob", "", "")); n != 10 {
		t.Fatalf("bob: %d admitted, want 10", n)
	}
}

func TestRetryAfter(t *testing.T) {
	p, c := withClock(t, config(Limit{Rate: "2/h", Burst: 1}))
	if v := call(t, p, "t", nil); v != nil {
		t.Fatal(v)
	}
	v := call(t, p, "t", nil)
	if v == nil || v.HTTPHeaders["retry-after"] != "1800" {
		t.Fatalf("retry-after = %v, want 1800", v)
	}
	c.advance(1799 * time.Second)
	if v := call(t, p, "t", nil); v == nil || v.HTTPHeaders["retry-after"] != "1" {
		t.Fatalf("a second before: %+v", v)
	}
	c.advance(time.Second)
	if v := call(t, p, "t", nil); v != nil {
		t.Fatalf("at Retry-After the request is still refused: %+v", v)
	}
}

// A request one limit refuses does not use up the others.
func TestAllOrNothing(t *testing.T) {
	p, _ := withClock(t, config(
		Limit{By: []string{"user"}, Rate: "5/h"},
		Limit{By: []string{"tool"}, Tools: []string{"export"}, Rate: "2/h"},
	))
	ann := pcOf("ann", "", "")
	if n := admitted(t, p, 4, "export", ann); n != 2 {
		t.Fatalf("export: %d admitted, want 2", n)
	}
	v := call(t, p, "export", ann)
	if v == nil || v.Details["limit"] != 1 {
		t.Fatalf("refused by %+v, want limit 1", v)
	}
	// Ann's refused exports did not count against her 5/h.
	if n := admitted(t, p, 5, "search", ann); n != 3 {
		t.Fatalf("search after refused exports: %d admitted, want 3 (5 minus the 2 exports that passed)", n)
	}
}

func TestKeys(t *testing.T) {
	for _, tc := range []struct {
		name  string
		limit Limit
		a, b  func(t *testing.T, p *Plugin) *framework.Violation // b must share a's bucket iff shared
		share bool
	}{
		{"user", Limit{By: []string{"user"}, Rate: "1/h"},
			func(t *testing.T, p *Plugin) *framework.Violation { return call(t, p, "x", pcOf("ann", "t1", "s1")) },
			func(t *testing.T, p *Plugin) *framework.Violation { return call(t, p, "y", pcOf("ann", "t2", "s2")) }, true},
		{"user differs", Limit{By: []string{"user"}, Rate: "1/h"},
			func(t *testing.T, p *Plugin) *framework.Violation { return call(t, p, "x", pcOf("ann", "", "")) },
			func(t *testing.T, p *Plugin) *framework.Violation { return call(t, p, "x", pcOf("bob", "", "")) }, false},
		{"tenant", Limit{By: []string{"tenant"}, Rate: "1/h"},
			func(t *testing.T, p *Plugin) *framework.Violation { return call(t, p, "x", pcOf("ann", "acme", "")) },
			func(t *testing.T, p *Plugin) *framework.Violation { return call(t, p, "x", pcOf("bob", "acme", "")) }, true},
		{"server", Limit{By: []string{"server"}, Rate: "1/h"},
			func(t *testing.T, p *Plugin) *framework.Violation { return call(t, p, "x", pcOf("ann", "", "s1")) },
			func(t *testing.T, p *Plugin) *framework.Violation { return call(t, p, "x", pcOf("ann", "", "s2")) }, false},
		{"user and tool", Limit{By: []string{"user", "tool"}, Rate: "1/h"},
			func(t *testing.T, p *Plugin) *framework.Violation { return call(t, p, "x", pcOf("ann", "", "")) },
			func(t *testing.T, p *Plugin) *framework.Violation { return call(t, p, "y", pcOf("ann", "", "")) }, false},
		{"values do not run together", Limit{By: []string{"user", "tenant"}, Rate: "1/h"},
			func(t *testing.T, p *Plugin) *framework.Violation { return call(t, p, "x", pcOf("ab", "c", "")) },
			func(t *testing.T, p *Plugin) *framework.Violation { return call(t, p, "x", pcOf("a", "bc", "")) }, false},
		{"header", Limit{By: []string{"header:X-API-Key"}, Rate: "1/h"},
			func(t *testing.T, p *Plugin) *framework.Violation {
				return call(t, p, "x", pcOf("ann", "", ""), "x-api-key", "k1")
			},
			func(t *testing.T, p *Plugin) *framework.Violation {
				return call(t, p, "x", pcOf("bob", "", ""), "x-api-key", "k1")
			}, true},
		{"header differs", Limit{By: []string{"header:x-api-key"}, Rate: "1/h"},
			func(t *testing.T, p *Plugin) *framework.Violation { return call(t, p, "x", nil, "x-api-key", "k1") },
			func(t *testing.T, p *Plugin) *framework.Violation { return call(t, p, "x", nil, "x-api-key", "k2") }, false},
		{"anonymous callers share one bucket", Limit{By: []string{"user"}, Rate: "1/h"},
			func(t *testing.T, p *Plugin) *framework.Violation { return call(t, p, "x", nil) },
			func(t *testing.T, p *Plugin) *framework.Violation { return call(t, p, "y", pcOf("", "t", "")) }, true},
		{"a tool and a prompt of one name", Limit{By: []string{"tool"}, Rate: "1/h"},
			func(t *testing.T, p *Plugin) *framework.Violation { return call(t, p, "x", nil) },
			func(t *testing.T, p *Plugin) *framework.Violation {
				res, _ := p.PromptPreFetch(context.Background(), &framework.PromptPreFetchPayload{PromptID: "x"}, nil)
				return res.Violation
			}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, _ := withClock(t, config(tc.limit))
			if v := tc.a(t, p); v != nil {
				t.Fatal(v)
			}
			if v := tc.b(t, p); (v != nil) != tc.share {
				t.Fatalf("second caller refused = %v, want %v", v != nil, tc.share)
			}
		})
	}
}

func TestToolsAndPromptsFilters(t *testing.T) {
	p, _ := withClock(t, config(
		Limit{Tools: []string{"export_*"}, Rate: "1/h"},
		Limit{Prompts: []string{"summarise"}, Rate: "1/h"},
	))
	prompt := func(name string) *framework.Violation {
		res, err := p.PromptPreFetch(context.Background(), &framework.PromptPreFetchPayload{PromptID: name, Args: []byte(`{}`)}, nil)
		if err != nil {
			t.Fatal(err)
		}
		return res.Violation
	}
	if admitted(t, p, 3, "search", nil) != 3 || admitted(t, p, 3, "export_csv", nil) != 1 {
		t.Fatal("tools filter not applied")
	}
	if prompt("summarise") != nil || prompt("summarise") == nil || prompt("other") != nil || prompt("export_csv") != nil {
		t.Fatal("prompts filter not applied")
	}
}

// Concurrent requests never get more than the burst between them.
func TestConcurrentBurst(t *testing.T) {
	p, _ := withClock(t, config(Limit{By: []string{"user"}, Rate: "10/h"}, Limit{By: []string{"tool"}, Rate: "1000/h"}))
	var ok atomic.Int64
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 25 {
				res, _ := p.ToolPreInvoke(context.Background(), &framework.ToolPreInvokePayload{Name: "t"}, pcOf("ann", "", ""))
				if res.Violation == nil {
					ok.Add(1)
				}
			}
		})
	}
	wg.Wait()
	if ok.Load() != 10 {
		t.Fatalf("%d of 200 concurrent requests admitted, want 10", ok.Load())
	}
}

// The memory backend stays within max_keys whatever the callers send.
func TestMemoryBound(t *testing.T) {
	cfg := config(Limit{By: []string{"header:x-client"}, Rate: "1/h"})
	cfg.Memory.MaxKeys = memoryShards * 4
	p, c := withClock(t, cfg)
	for i := range 10_000 {
		call(t, p, "x", nil, "x-client", fmt.Sprint("c", i))
		if i%1000 == 0 {
			c.advance(time.Second)
		}
	}
	st := p.store.(*memoryStore)
	total := 0
	for i := range st.shards {
		if n := len(st.shards[i].tats); n > st.perShard {
			t.Fatalf("shard %d holds %d keys, bound %d", i, n, st.perShard)
		}
		total += len(st.shards[i].tats)
	}
	if total > cfg.Memory.MaxKeys {
		t.Fatalf("%d keys kept, max_keys %d", total, cfg.Memory.MaxKeys)
	}
	// The newest caller is still limited.
	if v := call(t, p, "x", nil, "x-client", "c9999"); v == nil {
		t.Fatal("the newest key was forgotten at once")
	}
}

func TestParseRate(t *testing.T) {
	for in, want := range map[string]rate{
		"60/m": {60, time.Minute}, "10/s": {10, time.Second}, " 1000 / hour ": {1000, time.Hour}, "5/d": {5, 24 * time.Hour},
		"3/MIN": {3, time.Minute}, "1/sec": {1, time.Second},
	} {
		if got, err := parseRate(in); err != nil || got != want {
			t.Errorf("%q: %v, %v", in, got, err)
		}
	}
	for _, bad := range []string{"", "60", "60/", "/m", "0/m", "-1/m", "1.5/m", "60/w", "60/m/s", "x/m", "2000000000/s"} {
		if _, err := parseRate(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

// admit is GCRA: a new bucket admits burst requests at once, then one per
// interval.
func TestAdmit(t *testing.T) {
	const now, iv, burst = 1_000_000, 100, 3
	tat := int64(0)
	for i := range burst {
		next, wait := admit(tat, now, iv, burst)
		if wait != 0 || next != now+int64(i+1)*iv {
			t.Fatalf("request %d: next %d wait %d", i, next, wait)
		}
		tat = next
	}
	if next, wait := admit(tat, now, iv, burst); next != 0 || wait != iv {
		t.Fatalf("over the burst: next %d wait %d, want wait %d", next, wait, iv)
	}
	if _, wait := admit(tat, now+iv, iv, burst); wait != 0 {
		t.Fatal("refused one interval later")
	}
}

// FuzzParseRate: whatever the text, parseRate either refuses it or returns
// a count and a period that give a positive emission interval.
func FuzzParseRate(f *testing.F) {
	for _, s := range []string{"60/m", " 1 / hour ", "0/s", "1000000000/d", "9999999999999999999/s", "1/", "/", "-5/m"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := parseRate(s)
		if err != nil {
			return
		}
		if r.Count < 1 || r.Count > maxRateCount || r.interval() <= 0 {
			t.Fatalf("%q: %+v", s, r)
		}
	})
}

func TestMonotonicClock(t *testing.T) {
	now := monotonicClock()
	a := now()
	time.Sleep(2 * time.Millisecond)
	if d := now().Sub(a); d < 2*time.Millisecond || d > time.Second {
		t.Fatalf("clock moved %v in 2ms", d)
	}
}
