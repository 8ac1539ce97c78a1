package outputguard_test

import (
	"strings"
	"testing"

	"github.com/mcp-extproc/mcp-extproc/extproc/extproctest"
)

func TestThroughServer(t *testing.T) {
	srv := extproctest.New(t, `plugins:
  - name: short-answers
    kind: OutputLengthGuard
    conditions:
      - tools: [chat]
    config: {max_chars: 12, min_chars: 2}
  - name: no-essays
    kind: output_guard
    conditions:
      - tools: [essay]
    config: {max_chars: 12, strategy: block}
`)
	call := func(tool string) string {
		return `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"` + tool + `","arguments":{}}}`
	}
	result := func(text string) string {
		return `{"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"` + text + `"}]}}`
	}
	for name, wrap := range map[string]func(string) extproctest.Response{
		"json": extproctest.JSON,
		"sse":  func(s string) extproctest.Response { return extproctest.SSE(s) },
	} {
		t.Run(name, func(t *testing.T) {
			out := srv.Call(t, call("chat"), wrap(result("Grüße aus Köln, schönen Tag!")))
			if out.Blocked || !strings.Contains(out.Client, `{"type":"text","text":"Grüße aus K…"}`) {
				t.Fatalf("not truncated: %q", out.Client)
			}
			if name == "sse" && !strings.HasPrefix(out.Client, "id: prime\ndata:\n\n") {
				t.Fatalf("priming event lost: %q", out.Client)
			}
			out = srv.Call(t, call("chat"), wrap(result("k")))
			if !strings.Contains(out.Client, `"code":"OUTPUT_TOO_SHORT"`) || !strings.Contains(out.Client, `"plugin":"short-answers"`) || !strings.Contains(out.Client, `"id":1`) {
				t.Fatalf("too short passed: %q", out.Client)
			}
			out = srv.Call(t, call("essay"), wrap(result("a very long essay indeed")))
			if !strings.Contains(out.Client, `"code":"OUTPUT_TOO_LONG"`) || strings.Contains(out.Client, "essay indeed") {
				t.Fatalf("too long passed: %q", out.Client)
			}
			ok := result("fine")
			if out := srv.Call(t, call("essay"), wrap(ok)); out.Client != wrap(ok).Body {
				t.Fatalf("short result changed: %q", out.Client)
			}
		})
	}
}
