package framework

import (
	"context"
	"strings"
	"testing"
)

// cpex's phase order is followed where no plugin that can block would judge
// another payload than in priority order; where one would, the hook keeps
// priority order and loading warns.
func TestPhaseOrder(t *testing.T) {
	// An audit plugin first by priority runs after the enforcing ones, as in
	// cpex, and sees what they made.
	m, _ := newTestManager(t, nil,
		plug{name: "au", action: "modify", priority: 1, mode: ModeAudit},
		plug{name: "en", action: "modify", priority: 5})
	if got := strings.Join(m.PluginsFor(ToolPreInvoke), ","); got != "en,au" {
		t.Fatalf("order = %s, want cpex's en,au", got)
	}
	m.ToolPreInvoke(context.Background(), toolCall(""), NewContextTable(GlobalContext{}))
	if seen := getProbe(t, "au").seen[0]; seen != "en" {
		t.Fatalf("audit saw %q", seen)
	}

	// A concurrent gate before a rewriting plugin by priority would, in
	// cpex's order, judge the rewritten payload: priority order is kept.
	m, _ = newTestManager(t, nil,
		plug{name: "gate", action: "continue", priority: 1, mode: ModeConcurrent},
		plug{name: "rewrite", action: "modify", priority: 5, mode: ModePermissive})
	if got := strings.Join(m.PluginsFor(ToolPreInvoke), ","); got != "gate,rewrite" {
		t.Fatalf("order = %s, want priority order", got)
	}
	m.ToolPreInvoke(context.Background(), toolCall(""), NewContextTable(GlobalContext{}))
	if seen := getProbe(t, "gate").seen[0]; seen != "" {
		t.Fatalf("the gate saw %q: it ran after the rewrite", seen)
	}
	// A permissive redactor before an enforcing check, likewise.
	m, _ = newTestManager(t, nil,
		plug{name: "redact", action: "modify", priority: 1, mode: ModePermissive},
		plug{name: "check", action: "continue", priority: 5})
	if got := strings.Join(m.PluginsFor(ToolPreInvoke), ","); got != "redact,check" {
		t.Fatalf("order = %s, want priority order", got)
	}

	_, warns, err := parseYAML(t, `
plugins:
  - {name: redact, kind: probe, mode: permissive, priority: 1}
  - {name: check, kind: probe, mode: enforce, priority: 5, hooks: [tool_pre_invoke, prompt_pre_fetch]}
  - {name: watch, kind: probe, mode: audit, priority: 0}
`, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(warns) != 1 || warns[0].Path != "plugins[1].priority" || !strings.Contains(warns[0].Msg, `"check" (enforce, priority 5) runs after "redact" (permissive, priority 1) on prompt_pre_fetch, tool_pre_invoke`) {
		t.Fatalf("warnings %v", warns)
	}
}

// user_patterns and content_types patterns that cpex reads otherwise are
// warned about.
func TestConditionWarnings(t *testing.T) {
	_, warns, err := parseYAML(t, `
plugins:
  - name: p
    kind: probe
    conditions:
      - {user_patterns: [admin, "*@acme.com"], content_types: [text/plain]}
`, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(warns) != 2 || warns[0].Path != "plugins[0].conditions[0].user_patterns[1]" || warns[1].Path != "plugins[0].conditions[0].content_types" {
		t.Fatalf("warnings %v", warns)
	}
}
