package framework

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// startsAfter is a plugin whose Initialize fails until up is set; it blocks
// every tool call once running, so that a test sees it is really called.
type startsAfter struct {
	up *atomic.Bool
}

func (s *startsAfter) Initialize(context.Context) error {
	if !s.up.Load() {
		return errors.New("connect: no such file or directory")
	}
	return nil
}

func (*startsAfter) ToolPreInvoke(context.Context, *ToolPreInvokePayload, *PluginContext) (Result[ToolPreInvokePayload], error) {
	return Result[ToolPreInvokePayload]{Violation: &Violation{Reason: "live", Code: "LIVE"}}, nil
}

// syncLog is a log sink the test reads while the Manager's retry goroutine
// may still be writing to it.
type syncLog struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *syncLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *syncLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func flakyManager(t *testing.T, up *atomic.Bool, mode Mode, onError OnError, conds []Condition) (*Manager, *syncLog) {
	t.Helper()
	reg := testRegistry()
	reg.Register(Kind{Name: "flaky", Hooks: []HookType{ToolPreInvoke}, New: func(*PluginConfig) (Plugin, error) { return &startsAfter{up: up}, nil }})
	cfg := DefaultConfig()
	pc := defaultPluginConfig()
	pc.Name, pc.Kind, pc.Mode, pc.OnError, pc.Conditions = "guard", "flaky", mode, onError, conds
	cfg.Plugins = []PluginConfig{pc}
	logs := &syncLog{}
	opts := []Option{WithRegistry(reg), WithLogger(slog.New(slog.NewJSONHandler(logs, nil))), WithRetryBackoff(5*time.Millisecond, 20*time.Millisecond)}
	m, err := NewManager(context.Background(), &cfg, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Shutdown(context.Background()) })
	return m, logs
}

// An enforcing plugin that is configured but could not start must not open
// the gate: its hooks block with PLUGIN_UNAVAILABLE (on today's main the
// plugin was left out and the call passed).
func TestUnavailablePluginFailsClosed(t *testing.T) {
	for _, tc := range []struct {
		mode    Mode
		onError OnError
		blocks  bool
	}{
		{ModeEnforce, OnErrorFail, true},
		{ModeConcurrent, OnErrorFail, true},
		{ModeEnforce, OnErrorIgnore, false},
		{ModeEnforce, OnErrorDisable, false},
		{ModeConcurrent, OnErrorIgnore, false},
		{ModePermissive, OnErrorFail, false},
		{ModeAudit, OnErrorFail, false},
		{ModeEnforceIgnoreError, OnErrorFail, false},
	} {
		t.Run(string(tc.mode)+"/"+string(tc.onError), func(t *testing.T) {
			var up atomic.Bool
			m, logs := flakyManager(t, &up, tc.mode, tc.onError, nil)
			if !m.HasHook(ToolPreInvoke) {
				t.Fatal("the unavailable plugin must still be registered for its hooks")
			}
			out := m.ToolPreInvoke(context.Background(), toolCall(""), NewContextTable(GlobalContext{RequestID: "r"}))
			if out.Blocked() != tc.blocks {
				t.Fatalf("blocked = %v, want %v (%+v)", out.Blocked(), tc.blocks, out.Violation)
			}
			if tc.blocks && (out.Violation.Code != CodePluginUnavailable || out.Violation.Plugin != "guard") {
				t.Fatalf("violation = %+v", out.Violation)
			}
			if tc.blocks && strings.Contains(out.Violation.Description, "no such file") {
				t.Fatal("the client must not see the error text")
			}
			if !strings.Contains(logs.String(), "plugin failed to start") {
				t.Fatalf("no error log for the failed start:\n%s", logs)
			}
		})
	}
}

// The plugin is retried in the background; once it starts, its hooks run
// it (here it blocks with its own code) and Unavailable is empty again.
func TestUnavailablePluginRecovers(t *testing.T) {
	var up atomic.Bool
	m, _ := flakyManager(t, &up, ModeEnforce, OnErrorFail, nil)
	if u := m.Unavailable(); len(u) != 1 || u[0].Plugin != "guard" {
		t.Fatalf("Unavailable() = %+v", u)
	}
	up.Store(true)
	deadline := time.Now().Add(5 * time.Second)
	for len(m.Unavailable()) > 0 {
		if time.Now().After(deadline) {
			t.Fatal("the plugin was not retried")
		}
		time.Sleep(5 * time.Millisecond)
	}
	out := m.ToolPreInvoke(context.Background(), toolCall(""), NewContextTable(GlobalContext{RequestID: "r"}))
	if !out.Blocked() || out.Violation.Code != "LIVE" {
		t.Fatalf("after recovery the plugin itself must run: %+v", out.Violation)
	}
}

// Conditions still decide: a tool the plugin would not have checked passes.
func TestUnavailablePluginKeepsConditions(t *testing.T) {
	var up atomic.Bool
	m, _ := flakyManager(t, &up, ModeEnforce, OnErrorFail, []Condition{{Tools: []string{"delete_*"}}})
	if out := m.ToolPreInvoke(context.Background(), toolCall(""), NewContextTable(GlobalContext{})); out.Blocked() {
		t.Fatalf("get_weather is outside the plugin's conditions: %+v", out.Violation)
	}
	out := m.ToolPreInvoke(context.Background(), &ToolPreInvokePayload{Name: "delete_repo", Args: []byte(`{}`)}, NewContextTable(GlobalContext{}))
	if !out.Blocked() || out.Violation.Code != CodePluginUnavailable {
		t.Fatalf("delete_repo: %+v", out.Violation)
	}
}

// A kind this build does not have loads with a warning when
// fail_on_plugin_error is false, and stands in for every hook it lists.
func TestUnknownKindFailsClosed(t *testing.T) {
	cfg, warns, err := parseYAML(t, "plugins:\n  - name: llmguard\n    kind: llmguardplugin.plugin.LLMGuardPlugin\n    hooks: [prompt_pre_fetch]\n", nil)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(joinWarnings(warns), `plugins[0].kind: unknown kind "llmguardplugin.plugin.LLMGuardPlugin": not run; its hooks fail closed with PLUGIN_UNAVAILABLE`) {
		t.Fatalf("warnings: %s", joinWarnings(warns))
	}
	m, err := NewManager(context.Background(), cfg, WithRegistry(testRegistry()))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Shutdown(context.Background())
	if m.HasHook(ToolPreInvoke) || !m.HasHook(PromptPreFetch) {
		t.Fatalf("hooks: %v", m.PluginsFor(PromptPreFetch))
	}
	out := m.PromptPreFetch(context.Background(), &PromptPreFetchPayload{PromptID: "p", Args: []byte(`{}`)}, NewContextTable(GlobalContext{}))
	if !out.Blocked() || out.Violation.Code != CodePluginUnavailable {
		t.Fatalf("%+v", out.Violation)
	}
	if u := m.Unavailable(); len(u) != 1 || !strings.Contains(u[0].Reason, "unknown kind") {
		t.Fatalf("Unavailable() = %+v", u)
	}
}

// A plugin that did not load stands, without a hooks: list, for cpex's six
// hooks and not for the list hooks (a cpex server that does not declare
// them is not asked about lists): a tools/list passes it while it is down.
// Listed in hooks:, a list hook fails closed like any other.
func TestUnavailableListHooksOnlyWhenListed(t *testing.T) {
	for _, tc := range []struct {
		hooks      string
		listBlocks bool
	}{{"", false}, {"\n    hooks: [tool_pre_invoke, tools_post_list]", true}} {
		cfg, _, err := parseYAML(t, "plugins:\n  - name: guard\n    kind: some.cpex.ListGuard"+tc.hooks+"\n", nil)
		if err != nil {
			t.Fatal(err)
		}
		m, err := NewManager(context.Background(), cfg, WithRegistry(testRegistry()))
		if err != nil {
			t.Fatal(err)
		}
		defer m.Shutdown(context.Background())
		if call := m.ToolPreInvoke(context.Background(), toolCall(""), NewContextTable(GlobalContext{})); !call.Blocked() || call.Violation.Code != CodePluginUnavailable {
			t.Fatalf("hooks %q: a call must fail closed: %+v", tc.hooks, call.Violation)
		}
		list := m.ToolsPostList(context.Background(), &ToolsPostListPayload{Tools: []byte(`[{"name":"a"}]`)}, NewContextTable(GlobalContext{}))
		if list.Blocked() != tc.listBlocks || m.HasHook(ToolsPostList) != tc.listBlocks {
			t.Fatalf("hooks %q: list blocked %v (want %v), violation %+v", tc.hooks, list.Blocked(), tc.listBlocks, list.Violation)
		}
		if tc.listBlocks && list.Violation.Code != CodePluginUnavailable {
			t.Fatalf("list violation %+v", list.Violation)
		}
	}
}

// A hooks: list made only of hooks we do not run must not turn into "every
// hook".
func TestOnlyForeignHooksDisablesPlugin(t *testing.T) {
	cfg, warns, err := parseYAML(t, "plugins:\n  - name: a\n    kind: probe\n    hooks: [http_pre_request, email_pre_send]\n", nil)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Plugins[0].Mode != ModeDisabled || !strings.Contains(joinWarnings(warns), "none of the listed hooks is run by mcp-extproc") {
		t.Fatalf("mode %s, warnings %s", cfg.Plugins[0].Mode, joinWarnings(warns))
	}
}

func joinWarnings(ws []Warning) string {
	var b strings.Builder
	for _, w := range ws {
		b.WriteString(w.String())
		b.WriteByte('\n')
	}
	return b.String()
}
