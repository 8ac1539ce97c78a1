package framework

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"
)

// plug is a compact way to declare a probe plugin entry in a test.
type plug struct {
	name string
	kind string // default probe

	mode     Mode
	action   string
	priority int
	onError  OnError
	timeout  time.Duration
	hooks    []HookType
	conds    []Condition
	extra    map[string]any
}

func newTestManager(t testing.TB, settings *PluginSettings, plugs ...plug) (*Manager, *bytes.Buffer) {
	t.Helper()
	cfg := DefaultConfig()
	if settings != nil {
		cfg.PluginSettings = *settings
	}
	for i, p := range plugs {
		pc := defaultPluginConfig()
		pc.Name, pc.Kind, pc.Index = p.name, "probe", i
		if p.kind != "" {
			pc.Kind = p.kind
		}
		if p.mode != "" {
			pc.Mode = p.mode
		}
		if p.priority != 0 {
			pc.Priority = p.priority
		}
		if p.onError != "" {
			pc.OnError = p.onError
		}
		pc.Timeout = Duration(p.timeout)
		pc.Hooks, pc.Conditions = p.hooks, p.conds
		pc.Config = map[string]any{"action": p.action}
		for k, v := range p.extra {
			pc.Config[k] = v
		}
		cfg.Plugins = append(cfg.Plugins, pc)
	}
	logs := &bytes.Buffer{}
	var mu sync.Mutex
	logger := slog.New(slog.NewJSONHandler(lockedWriter{&mu, logs}, nil))
	m, err := NewManager(context.Background(), &cfg, WithRegistry(testRegistry()), WithLogger(logger))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Shutdown(context.Background()) })
	return m, logs
}

type lockedWriter struct {
	mu *sync.Mutex
	b  *bytes.Buffer
}

func (w lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func toolCall(trail string) *ToolPreInvokePayload {
	return &ToolPreInvokePayload{Name: "get_weather", Args: []byte(fmt.Sprintf(`{"trail":%q}`, trail))}
}

func trailOf(p *ToolPreInvokePayload) string {
	s := string(p.Args)
	i := strings.Index(s, `"trail":"`)
	if i < 0 {
		return ""
	}
	s = s[i+9:]
	return s[:strings.IndexByte(s, '"')]
}

// Every mode against every outcome (design section 3), with on_error at
// its default (fail).
func TestModesByOutcome(t *testing.T) {
	type want struct {
		blocked  bool
		code     string
		modified bool
	}
	pass, mod := want{}, want{modified: true}
	blockV := want{blocked: true, code: "PROBE"}
	blockE := want{blocked: true, code: CodePluginError}
	blockT := want{blocked: true, code: CodePluginTimeout}
	table := map[Mode]map[string]want{
		ModeEnforce:            {"continue": pass, "modify": mod, "violation": blockV, "error": blockE, "timeout": blockT, "hang": blockT, "panic": blockE},
		ModeEnforceIgnoreError: {"continue": pass, "modify": mod, "violation": blockV, "error": pass, "timeout": pass, "hang": pass, "panic": pass},
		ModePermissive:         {"continue": pass, "modify": mod, "violation": pass, "error": pass, "timeout": pass, "hang": pass, "panic": pass},
		ModeAudit:              {"continue": pass, "modify": pass, "violation": pass, "error": pass, "timeout": pass, "hang": pass, "panic": pass},
		ModeConcurrent:         {"continue": pass, "modify": pass, "violation": blockV, "error": blockE, "timeout": blockT, "hang": blockT, "panic": blockE},
		ModeFireAndForget:      {"continue": pass, "modify": pass, "violation": pass, "error": pass, "timeout": pass, "hang": pass, "panic": pass},
	}
	// Inline kinds run on the caller's goroutine: they promise not to block,
	// so "timeout" (waiting for ctx) is not theirs; "hang" (a call that
	// overruns) still ends as a timeout.
	for _, kind := range []string{"probe", "probe_inline"} {
		for _, mode := range []Mode{ModeEnforce, ModeEnforceIgnoreError, ModePermissive, ModeAudit, ModeConcurrent, ModeFireAndForget} {
			for _, action := range []string{"continue", "modify", "violation", "error", "timeout", "hang", "panic"} {
				if kind == "probe_inline" && action == "timeout" {
					continue
				}
				w := table[mode][action]
				t.Run(kind+"/"+string(mode)+"/"+action, func(t *testing.T) {
					name := "p-" + kind + "-" + string(mode) + "-" + action
					m, logs := newTestManager(t, nil, plug{name: name, kind: kind, mode: mode, action: action, timeout: 50 * time.Millisecond})
					out := m.ToolPreInvoke(context.Background(), toolCall(""), NewContextTable(GlobalContext{RequestID: "r1", User: "ann"}))
					if out.Blocked() != w.blocked {
						t.Fatalf("blocked = %v, want %v (violation %+v)", out.Blocked(), w.blocked, out.Violation)
					}
					if w.blocked {
						if out.Violation.Code != w.code || out.Violation.Plugin != name {
							t.Fatalf("violation = %+v, want code %s by %s", out.Violation, w.code, name)
						}
						if strings.Contains(out.Violation.Description, "internal detail") {
							t.Fatal("plugin error text leaked into the client-facing violation")
						}
					}
					if out.Modified != w.modified || (trailOf(out.Payload) == name) != w.modified {
						t.Fatalf("modified = %v payload %s, want %v", out.Modified, out.Payload.Args, w.modified)
					}
					p := getProbe(t, name)
					if mode == ModeFireAndForget {
						_ = m.Shutdown(context.Background()) // waits for the background call
					}
					if p.callCount() != 1 {
						t.Fatalf("plugin ran %d times, want 1", p.callCount())
					}
					if action == "violation" && !strings.Contains(logs.String(), `"msg":"policy violation","audit":true,"plugin":"`+name) {
						t.Fatalf("no audit record for the violation:\n%s", logs)
					}
				})
			}
		}
	}
}

func TestOnError(t *testing.T) {
	for _, action := range []string{"error", "timeout", "panic"} {
		for _, tc := range []struct {
			onError  OnError
			blocked  bool
			disabled bool
		}{{OnErrorFail, true, false}, {OnErrorIgnore, false, false}, {OnErrorDisable, false, true}} {
			t.Run(action+"/"+string(tc.onError), func(t *testing.T) {
				name := "oe-" + action + "-" + string(tc.onError)
				m, _ := newTestManager(t, nil,
					plug{name: name, action: action, onError: tc.onError, timeout: 30 * time.Millisecond},
					plug{name: name + "-next", action: "modify"})
				for call := 0; call < 2; call++ {
					out := m.ToolPreInvoke(context.Background(), toolCall(""), NewContextTable(GlobalContext{}))
					if out.Blocked() != tc.blocked {
						t.Fatalf("call %d: blocked = %v, want %v", call, out.Blocked(), tc.blocked)
					}
					if !tc.blocked && trailOf(out.Payload) != name+"-next" {
						t.Fatalf("call %d: the next plugin did not run: %s", call, out.Payload.Args)
					}
				}
				wantCalls := 2
				if tc.disabled {
					wantCalls = 1 // skipped after its first failure
				}
				if got := getProbe(t, name).callCount(); got != wantCalls {
					t.Fatalf("failing plugin ran %d times, want %d", got, wantCalls)
				}
			})
		}
	}
}

// Modified payloads are passed from plugin to plugin in priority order; ties
// keep file order; audit plugins run after the others (cpex's phase order:
// nothing here can block after a change it did not see) and their
// modifications are discarded.
func TestPriorityAndChaining(t *testing.T) {
	m, _ := newTestManager(t, nil,
		plug{name: "c", action: "modify", priority: 20},
		plug{name: "a", action: "modify", priority: 10},
		plug{name: "x", action: "modify", priority: 15, mode: ModeAudit},
		plug{name: "b", action: "modify", priority: 10},
		plug{name: "d", action: "modify", priority: 20, mode: ModePermissive},
	)
	if got := strings.Join(m.PluginsFor(ToolPreInvoke), ","); got != "a,b,c,d,x" {
		t.Fatalf("order = %s", got)
	}
	out := m.ToolPreInvoke(context.Background(), toolCall(""), NewContextTable(GlobalContext{}))
	if trailOf(out.Payload) != "abcd" || !out.Modified || out.Ran != 5 {
		t.Fatalf("trail = %q, ran %d", trailOf(out.Payload), out.Ran)
	}
	if seen := getProbe(t, "x").seen[0]; seen != "abcd" {
		t.Fatalf("audit plugin saw %q, want abcd", seen)
	}
}

// A violation stops the pipeline: later plugins do not run, except
// fire_and_forget ones, which get their copy after the decision.
func TestViolationStopsPipeline(t *testing.T) {
	m, _ := newTestManager(t, nil,
		plug{name: "v1", action: "violation", priority: 1},
		plug{name: "after", action: "continue", priority: 2},
		plug{name: "ff", action: "continue", priority: 3, mode: ModeFireAndForget},
	)
	out := m.ToolPreInvoke(context.Background(), toolCall(""), NewContextTable(GlobalContext{}))
	if !out.Blocked() || out.Violation.Plugin != "v1" || out.Violation.MCPErrorCode != -32099 {
		t.Fatalf("violation = %+v", out.Violation)
	}
	_ = m.Shutdown(context.Background())
	if getProbe(t, "after").callCount() != 0 || getProbe(t, "ff").callCount() != 1 {
		t.Fatalf("after ran %d, ff ran %d", getProbe(t, "after").callCount(), getProbe(t, "ff").callCount())
	}
}

// Concurrent plugins of one priority run side by side; the first violation
// in file order wins.
func TestConcurrentGroup(t *testing.T) {
	wg := &sync.WaitGroup{}
	wg.Add(3)
	barriers.Store("cg", wg)
	m, _ := newTestManager(t, nil,
		plug{name: "c1", mode: ModeConcurrent, action: "continue", priority: 5, extra: map[string]any{"barrier": "cg"}},
		plug{name: "c2", mode: ModeConcurrent, action: "violation", priority: 5, extra: map[string]any{"barrier": "cg", "code": "SECOND"}},
		plug{name: "c3", mode: ModeConcurrent, action: "violation", priority: 5, extra: map[string]any{"barrier": "cg", "code": "THIRD"}},
	)
	done := make(chan Outcome[ToolPreInvokePayload])
	go func() { done <- m.ToolPreInvoke(context.Background(), toolCall(""), NewContextTable(GlobalContext{})) }()
	select {
	case out := <-done:
		// All three passed the barrier together, so they ran in parallel.
		if !out.Blocked() || out.Violation.Code != "SECOND" || out.Ran != 3 {
			t.Fatalf("outcome %+v", out.Violation)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("concurrent plugins did not run in parallel (barrier never released)")
	}
}

// An inline plugin's time (and so its timeout) starts when it is called,
// not when the plugin before it started: a concurrent group or a blocking
// plugin that ran first and took longer than its timeout is not counted
// against it.
func TestInlineTimeoutCountsItsOwnCall(t *testing.T) {
	for _, before := range []Mode{ModeConcurrent, ModeEnforce} {
		t.Run(string(before), func(t *testing.T) {
			m, _ := newTestManager(t, nil,
				plug{name: "slow", mode: before, action: "continue", priority: 5, timeout: time.Second, extra: map[string]any{"sleep": "120ms"}},
				plug{name: "quick", kind: "probe_inline", action: "continue", priority: 10, timeout: 60 * time.Millisecond},
			)
			out := m.ToolPreInvoke(context.Background(), toolCall(""), NewContextTable(GlobalContext{}))
			if out.Blocked() || out.Ran != 2 {
				t.Fatalf("outcome: ran %d, violation %+v", out.Ran, out.Violation)
			}
		})
	}
}

// State a plugin sets in its pre hook is visible in its own post hook of the
// same exchange, not in another plugin's, nor in another exchange.
func TestContextPersistence(t *testing.T) {
	m, _ := newTestManager(t, nil, plug{name: "s1", action: "continue"}, plug{name: "s2", action: "continue"})
	ctx := context.Background()
	t1 := NewContextTable(GlobalContext{RequestID: "1"})
	t2 := NewContextTable(GlobalContext{RequestID: "2"})
	m.ToolPreInvoke(ctx, toolCall(""), t1)
	m.ToolPreInvoke(ctx, toolCall(""), t2)
	m.ToolPostInvoke(ctx, &ToolPostInvokePayload{Name: "get_weather", Result: []byte(`{}`)}, t1)
	got := getProbe(t, "s1").states
	if len(got) != 3 || got[0] != nil || got[1] != nil || got[2] != 1 {
		t.Fatalf("s1 saw counts %v, want [<nil> <nil> 1]", got)
	}
	if t1.Plugin("s1").State["count"] != 2 || t1.Plugin("s2").State["count"] != 2 || t2.Plugin("s1").State["count"] != 1 {
		t.Fatal("plugin contexts leaked between plugins or exchanges")
	}
	// Global state is shared by every plugin of the exchange.
	t1.Global.State = map[string]any{"k": "v"}
	if t1.Plugin("s2").Global.State["k"] != "v" {
		t.Fatal("global context is not shared")
	}
}

func TestConditions(t *testing.T) {
	g := func(user, tenant, server string) *GlobalContext {
		return &GlobalContext{User: user, TenantID: tenant, ServerID: server}
	}
	ctype := func(ct string) *GlobalContext { return &GlobalContext{ContentType: ct} }
	tests := []struct {
		name    string
		conds   []Condition
		hook    HookType
		payload string
		g       *GlobalContext
		content string
		want    bool
	}{
		{"no conditions", nil, ToolPreInvoke, "x", g("", "", ""), "", true},
		{"tool exact", []Condition{{Tools: []string{"get_weather"}}}, ToolPreInvoke, "get_weather", g("", "", ""), "", true},
		{"tool other", []Condition{{Tools: []string{"get_weather"}}}, ToolPreInvoke, "delete_all", g("", "", ""), "", false},
		{"tool glob", []Condition{{Tools: []string{"get_*"}}}, ToolPreInvoke, "get_time", g("", "", ""), "", true},
		{"tool list ignored on prompt hook", []Condition{{Tools: []string{"get_*"}}}, PromptPreFetch, "greeting", g("", "", ""), "", true},
		{"prompt list", []Condition{{Prompts: []string{"greeting"}}}, PromptPreFetch, "farewell", g("", "", ""), "", false},
		{"resource glob", []Condition{{Resources: []string{"file:///etc/*"}}}, ResourcePreFetch, "file:///etc/passwd", g("", "", ""), "", true},
		{"unknown name matches", []Condition{{Tools: []string{"get_weather"}}}, ToolPostInvoke, "", g("", "", ""), "", true},
		{"AND inside a condition", []Condition{{Tools: []string{"t"}, TenantIDs: []string{"acme"}}}, ToolPreInvoke, "t", g("", "other", ""), "", false},
		{"AND all match", []Condition{{Tools: []string{"t"}, TenantIDs: []string{"acme"}, ServerIDs: []string{"s1"}}}, ToolPreInvoke, "t", g("", "acme", "s1"), "", true},
		{"OR across conditions", []Condition{{TenantIDs: []string{"acme"}}, {ServerIDs: []string{"s1"}}}, ToolPreInvoke, "t", g("", "x", "s1"), "", true},
		{"OR none", []Condition{{TenantIDs: []string{"acme"}}, {ServerIDs: []string{"s1"}}}, ToolPreInvoke, "t", g("", "x", "s2"), "", false},
		{"user glob", []Condition{{UserPatterns: []string{"*@acme.com"}}}, ToolPreInvoke, "t", g("ann@acme.com", "", ""), "", true},
		{"user glob no", []Condition{{UserPatterns: []string{"*@acme.com"}}}, ToolPreInvoke, "t", g("ann@evil.com", "", ""), "", false},
		{"user ? glob", []Condition{{UserPatterns: []string{"user-?"}}}, ToolPreInvoke, "t", g("user-é", "", ""), "", true},
		{"empty user vs pattern", []Condition{{UserPatterns: []string{"*"}}}, ToolPreInvoke, "t", g("", "", ""), "", true},
		{"content type", []Condition{{ContentTypes: []string{"text/*"}}}, ResourcePostFetch, "u", g("", "", ""), `{"contents":[{"uri":"u","mimeType":"text/html","text":"x"}]}`, true},
		{"content type no", []Condition{{ContentTypes: []string{"text/*"}}}, ResourcePostFetch, "u", g("", "", ""), `{"contents":[{"uri":"u","mimeType":"image/png","blob":"x"}]}`, false},
		{"content type on other hook", []Condition{{ContentTypes: []string{"text/*"}}}, ToolPostInvoke, "t", g("", "", ""), "", false},
		// cpex's user_patterns are substrings ("admin" selects admin_user).
		{"user substring (cpex)", []Condition{{UserPatterns: []string{"admin"}}}, ToolPreInvoke, "t", g("superadmin@acme.com", "", ""), "", true},
		{"user substring no", []Condition{{UserPatterns: []string{"admin"}}}, ToolPreInvoke, "t", g("ann@acme.com", "", ""), "", false},
		{"no user vs substring", []Condition{{UserPatterns: []string{"admin"}}}, ToolPreInvoke, "t", g("", "", ""), "", false},
		// cpex's content_types match the request's Content-Type, on every hook.
		{"request content type (cpex)", []Condition{{ContentTypes: []string{"application/json"}}}, ToolPreInvoke, "t", ctype("application/json; charset=utf-8"), "", true},
		{"request content type, case", []Condition{{ContentTypes: []string{"Application/JSON"}}}, ToolPostInvoke, "t", ctype("application/json"), "", true},
		{"request content type no", []Condition{{ContentTypes: []string{"text/plain"}}}, ToolPreInvoke, "t", ctype("application/json"), "", false},
		{"resource type beside the request's", []Condition{{ContentTypes: []string{"text/plain"}}}, ResourcePostFetch, "u", ctype("application/json"), `{"contents":[{"uri":"u","mimeType":"text/plain; charset=utf-8","text":"x"}]}`, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := conditionsMatch(tc.conds, tc.hook, tc.payload, tc.g, []byte(tc.content)); got != tc.want {
				t.Fatalf("match = %v, want %v", got, tc.want)
			}
		})
	}
	// And through the Manager: a plugin whose condition does not match does not run.
	m, _ := newTestManager(t, nil, plug{name: "cond", action: "violation", conds: []Condition{{Tools: []string{"delete_*"}}}})
	if out := m.ToolPreInvoke(context.Background(), toolCall(""), NewContextTable(GlobalContext{})); out.Blocked() || out.Ran != 0 {
		t.Fatalf("plugin ran for a tool outside its condition: %+v", out)
	}
	p := &ToolPreInvokePayload{Name: "delete_repo", Args: []byte(`{}`)}
	if out := m.ToolPreInvoke(context.Background(), p, NewContextTable(GlobalContext{})); !out.Blocked() {
		t.Fatal("plugin did not run for a matching tool")
	}
}

func TestGlobMatch(t *testing.T) {
	for _, tc := range []struct {
		p, s string
		want bool
	}{
		{"*", "", true}, {"*", "abc", true}, {"a*c", "abc", true}, {"a*c", "abd", false},
		{"a*b*c", "aXbYbZc", true}, {"?", "é", true}, {"??", "é", false}, {"a/*", "a/b/c", true},
		{"*.com", "x.com.evil", false}, {"", "", true}, {"", "a", false}, {"abc", "ab", false},
		{"*?", "é", true}, {"a*?b", "aéb", true}, {"*?x", "éx", true}, {"*??", "é", false},
	} {
		if got := GlobMatch(tc.p, tc.s); got != tc.want {
			t.Errorf("GlobMatch(%q, %q) = %v", tc.p, tc.s, got)
		}
	}
}

func TestPayloadSizeLimit(t *testing.T) {
	s := DefaultConfig().PluginSettings
	s.MaxPayloadSize = 64
	m, _ := newTestManager(t, &s, plug{name: "big", action: "continue"})
	big := &ToolPreInvokePayload{Name: "t", Args: []byte(`{"trail":"` + strings.Repeat("x", 100) + `"}`)}
	out := m.ToolPreInvoke(context.Background(), big, NewContextTable(GlobalContext{}))
	if !out.Blocked() || out.Violation.Code != CodePayloadTooLarge {
		t.Fatalf("outcome %+v", out.Violation)
	}
	if getProbe(t, "big").callCount() != 0 {
		t.Fatal("plugin saw an oversized payload")
	}
	if out := m.ToolPreInvoke(context.Background(), toolCall("ok"), NewContextTable(GlobalContext{})); out.Blocked() {
		t.Fatal("small payload blocked")
	}
}

// A payload over the limit is not a violation when no plugin would read it.
func TestPayloadSizeLimitOnlyWhenPluginsRun(t *testing.T) {
	s := DefaultConfig().PluginSettings
	s.MaxPayloadSize = 8
	m, _ := newTestManager(t, &s, plug{name: "only-tools", action: "continue", conds: []Condition{{Tools: []string{"other"}}}})
	if out := m.ToolPreInvoke(context.Background(), toolCall("long enough"), NewContextTable(GlobalContext{})); out.Blocked() {
		t.Fatal("blocked although no plugin applied")
	}
}

func TestHooksNarrowing(t *testing.T) {
	m, _ := newTestManager(t, nil, plug{name: "pre-only", action: "continue", hooks: []HookType{ToolPreInvoke}})
	if !m.HasHook(ToolPreInvoke) || m.HasHook(ToolPostInvoke) || m.HasHook(PromptPreFetch) || m.HookCount() != 1 {
		t.Fatal("hooks: list not honoured")
	}
	m2, _ := newTestManager(t, nil, plug{name: "all", action: "continue"})
	if m2.HookCount() != 4 { // probe implements four hooks
		t.Fatalf("HookCount = %d", m2.HookCount())
	}
}

type failingInit struct{ probe }

func (*failingInit) Initialize(context.Context) error { return fmt.Errorf("cannot reach server") }

func TestInitializeFailure(t *testing.T) {
	reg := testRegistry()
	reg.Register(Kind{Name: "flaky", Hooks: ImplementedHooks(&failingInit{}), New: func(*PluginConfig) (Plugin, error) { return &failingInit{}, nil }})
	for _, fail := range []bool{true, false} {
		cfg := DefaultConfig()
		cfg.PluginSettings.FailOnPluginError = fail
		pc := defaultPluginConfig()
		pc.Name, pc.Kind = "f", "flaky"
		cfg.Plugins = []PluginConfig{pc}
		m, err := NewManager(context.Background(), &cfg, WithRegistry(reg))
		if fail {
			if err == nil || !strings.Contains(err.Error(), `plugins[0] "f": initialize: cannot reach server`) {
				t.Fatalf("fail_on_plugin_error: err = %v", err)
			}
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if u := m.Unavailable(); len(u) != 1 || u[0].Plugin != "f" || !strings.Contains(u[0].Reason, "cannot reach server") {
			t.Fatalf("Unavailable() = %+v", u)
		}
		_ = m.Shutdown(context.Background())
	}
}

func TestDisabledPluginNotLoaded(t *testing.T) {
	m, _ := newTestManager(t, nil, plug{name: "off", mode: ModeDisabled, action: "violation"})
	if len(m.Plugins()) != 0 || m.HasHook(ToolPreInvoke) {
		t.Fatal("disabled plugin loaded")
	}
}

func TestResultWire(t *testing.T) {
	r := Result[ToolPreInvokePayload]{ModifiedPayload: &ToolPreInvokePayload{Name: "t", Args: []byte(`{"a":1}`)}}
	b, _ := r.MarshalJSON()
	if string(b) != `{"continue_processing":true,"modified_payload":{"name":"t","args":{"a":1}}}` {
		t.Fatalf("marshal: %s", b)
	}
	var back Result[ToolPreInvokePayload]
	if err := back.UnmarshalJSON([]byte(`{"continue_processing":false}`)); err != nil || back.Violation == nil || back.Violation.Code != CodePluginHalted {
		t.Fatalf("a halt without a violation must block: %+v %v", back, err)
	}
	if err := back.UnmarshalJSON([]byte(`{"continue_processing":true,"violation":{"code":"X","reason":"r"}}`)); err != nil || back.Violation != nil {
		t.Fatalf("an informational violation must not block: %+v", back)
	}
}

// A kind that cannot honour an entry's settings (ErrNotServed) leaves the
// entry unavailable, failing closed, rather than aborting the load; with
// fail_on_plugin_error it is an error.
func TestNotServedSettingsFailClosed(t *testing.T) {
	reg := NewRegistry()
	reg.Register(Kind{Name: "picky", Hooks: ImplementedHooks(&probe{}), New: func(*PluginConfig) (Plugin, error) {
		return nil, fmt.Errorf("config.provider: %q is not served: %w", "other", ErrNotServed)
	}})
	for _, failOnError := range []bool{false, true} {
		cfg := DefaultConfig()
		cfg.PluginSettings.FailOnPluginError = failOnError
		pc := defaultPluginConfig()
		pc.Name, pc.Kind = "p", "picky"
		cfg.Plugins = append(cfg.Plugins, pc)
		m, err := NewManager(context.Background(), &cfg, WithRegistry(reg))
		if failOnError {
			if err == nil || !errors.Is(err, ErrNotServed) {
				t.Fatalf("fail_on_plugin_error: err = %v", err)
			}
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if u := m.Unavailable(); len(u) != 1 || u[0].Plugin != "p" {
			t.Fatalf("unavailable = %+v", u)
		}
		out := m.ToolPreInvoke(context.Background(), toolCall(""), NewContextTable(GlobalContext{}))
		if out.Violation == nil || out.Violation.Code != CodePluginUnavailable {
			t.Fatalf("violation = %+v", out.Violation)
		}
		_ = m.Shutdown(context.Background())
	}
}
