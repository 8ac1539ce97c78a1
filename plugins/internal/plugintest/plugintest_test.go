package plugintest

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

func TestPolicies(t *testing.T) {
	for _, tc := range []struct{ got, want string }{
		{Policy("deny", "deny_list", "{words: [a]}"), "plugins:\n  - name: deny\n    kind: deny_list\n    config: {words: [a]}\n"},
		{BlockPolicy("pii", "pii_filter", ""), "plugins:\n  - name: pii\n    kind: pii_filter\n    config:\n      {}\n"},
		{BlockPolicy("s", "secrets_detection", "action: redact\nmin_findings_to_block: 2"),
			"plugins:\n  - name: s\n    kind: secrets_detection\n    config:\n      action: redact\n      min_findings_to_block: 2\n"},
	} {
		if tc.got != tc.want {
			t.Errorf("got  %q\nwant %q", tc.got, tc.want)
		}
	}
	// A policy naming no known kind does not load.
	if _, err := Instantiate(Policy("x", "no_such_kind", "{}")); err == nil || !strings.Contains(err.Error(), "no_such_kind") {
		t.Fatalf("unknown kind: err = %v", err)
	}
}

func TestProse(t *testing.T) {
	texts := Prose(64, 1<<10, "crap")
	raw := ToolResult(texts...)
	if !json.Valid(raw) || len(raw) < 60<<10 || len(raw) > 70<<10 {
		t.Fatalf("tool result of %d bytes, valid %v", len(raw), json.Valid(raw))
	}
	if n := strings.Count(strings.Join(texts, ""), "crap "); n < 60 || n > 64 {
		t.Fatalf("%d needles in 64 KiB, want one a KiB", n)
	}
	if n := strings.Count(strings.Join(Prose(4, 1<<20, "crap"), ""), "crap"); n != 0 {
		t.Fatalf("%d needles, want none", n)
	}
	if rc := ResourceContents(texts[:2]...); !json.Valid(rc) || !strings.HasPrefix(string(rc), `{"contents":[{"uri":"https://docs.example.com/p/0",`) {
		t.Fatalf("resource contents: %.80s", rc)
	}
}

func TestLogTexts(t *testing.T) {
	v := LogVocab{Words: []string{"alpha", "beta"}, Noise: []string{"v1.2"}, Planted: []string{"SECRET"}}
	for _, tc := range []struct{ every, min, max int }{{-1, 0, 0}, {0, 1, 1}, {2, 100, 1000}} {
		texts := LogTexts(64<<10, tc.every, v)
		if !slices.Equal(texts, LogTexts(64<<10, tc.every, v)) {
			t.Fatal("texts differ between calls")
		}
		raw := ToolResult(texts...)
		if !json.Valid(raw) || len(raw) < 64<<10 || len(raw) > 72<<10 {
			t.Fatalf("every %d: tool result of %d bytes", tc.every, len(raw))
		}
		if n := strings.Count(string(raw), "SECRET"); n < tc.min || n > tc.max {
			t.Fatalf("every %d: %d planted, want %d to %d", tc.every, n, tc.min, tc.max)
		}
	}
}
