package extproc

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/mcp-extproc/mcp-extproc/framework"
)

// A violation's headers reach the blocking response; they cannot replace
// the body's content type or length, nor smuggle invalid names or values.
func TestImmediateHeaders(t *testing.T) {
	r := immediate(429, []byte(`{}`), "d", map[string]string{
		"Retry-After": "30", "content-type": "text/html", "Content-Length": "1",
		":status": "200", "bad name": "x", "x-ok": "a\r\nset-cookie: evil",
	})
	got := map[string]string{}
	for _, h := range r.GetImmediateResponse().GetHeaders().GetSetHeaders() {
		got[h.GetHeader().GetKey()] = string(h.GetHeader().GetRawValue())
	}
	if len(got) != 2 || got["retry-after"] != "30" || got["content-type"] != "application/json" {
		t.Fatalf("headers = %v", got)
	}
	if r.GetImmediateResponse().GetStatus().GetCode() != 429 {
		t.Fatal("status lost")
	}
}

// What an MCP client shows for a blocked message: the reason and the
// description, bounded, never split inside a rune.
func TestBlockMessage(t *testing.T) {
	long := strings.Repeat("é", 400) // 2 bytes each: 800 bytes
	for _, tc := range []struct {
		name string
		v    framework.Violation
		want string
	}{
		{"reason and description", framework.Violation{Reason: "Tool not allowed", Description: `tool "delete_customer" is denied (deny pattern "delete_*")`},
			`Tool not allowed: tool "delete_customer" is denied (deny pattern "delete_*")`},
		{"no description", framework.Violation{Reason: "Tool not allowed"}, "Tool not allowed"},
		{"description repeats reason", framework.Violation{Reason: "rate limited", Description: "Rate limited"}, "rate limited"},
		{"no reason", framework.Violation{Code: "X_DENIED", Description: "why"}, "X_DENIED: why"},
		{"nothing", framework.Violation{}, "blocked by policy"},
		{"long", framework.Violation{Reason: "r", Description: long}, "r: " + strings.Repeat("é", 147) + "…"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := blockMessage(&tc.v)
			if got != tc.want {
				t.Fatalf("blockMessage = %q, want %q", got, tc.want)
			}
			if len(got) > maxBlockMessage || !utf8.ValidString(got) {
				t.Fatalf("%d bytes, valid UTF-8 %v", len(got), utf8.ValidString(got))
			}
		})
	}
}
