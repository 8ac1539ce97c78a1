package piifilter_test

import (
	"strings"
	"testing"

	"github.com/mcp-extproc/mcp-extproc/extproc/extproctest"
	_ "github.com/mcp-extproc/mcp-extproc/plugins/pii_filter"
)

// These tests play whole exchanges through the real server, as Envoy would.

const maskPolicy = `
plugins:
  - name: pii
    kind: pii_filter
    config:
      default_mask_strategy: partial
`

func TestExtprocMasksResultsJSONAndSSE(t *testing.T) {
	srv := extproctest.New(t, maskPolicy)
	req := `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"lookup","arguments":{"q":"customer"}}}`
	res := `{"jsonrpc":"2.0","id":1,"result":{"content":[` +
		`{"type":"text","text":"SSN 123-45-6789"},` +
		`{"type":"resource","resource":{"uri":"mem://c","text":"mail john@example.com"}}],` +
		`"structuredContent":{"card":"4111 1111 1111 1111"}}}`
	for name, resp := range map[string]extproctest.Response{"json": extproctest.JSON(res), "sse": extproctest.SSE(res)} {
		t.Run(name, func(t *testing.T) {
			out := srv.Call(t, req, resp)
			if out.Blocked || out.Upstream != req || name == "sse" && !strings.HasPrefix(out.Client, "id: prime\ndata:\n\n") {
				t.Fatalf("%+v", out)
			}
			for _, want := range []string{`"SSN ***-**-6789"`, `"mail j***@example.com"`, `"card":"****-****-****-1111"`} {
				if !strings.Contains(out.Client, want) {
					t.Fatalf("client got %s, want %s in it", out.Client, want)
				}
			}
			for _, leak := range []string{"123-45-6789", "john@", "4111 1111"} {
				if strings.Contains(out.Client, leak) {
					t.Fatalf("%s leaked: %s", leak, out.Client)
				}
			}
		})
	}
}

func TestExtprocMasksArguments(t *testing.T) {
	srv := extproctest.New(t, maskPolicy)
	req := `{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"send","arguments":{"to":["a@b.com"],"body":{"text":"call +44 20 7946 0958"}}}}`
	out := srv.Call(t, req, extproctest.JSON(`{"jsonrpc":"2.0","id":2,"result":{"content":[]}}`))
	if out.Blocked || !strings.Contains(out.Upstream, `"to":["a***@b.com"]`) || !strings.Contains(out.Upstream, `"text":"call +** ** **** 0958"`) {
		t.Fatalf("upstream got %s", out.Upstream)
	}
	// Unchanged messages pass byte for byte.
	clean := `{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"send","arguments":{"n":1}}}`
	if out := srv.Call(t, clean, extproctest.JSON(`{"jsonrpc":"2.0","id":3,"result":{"content":[]}}`)); out.Upstream != clean {
		t.Fatalf("clean request rewritten: %s", out.Upstream)
	}
}

func TestExtprocBlocks(t *testing.T) {
	srv := extproctest.New(t, `
plugins:
  - name: pii
    kind: plugins.pii_filter.pii_filter.PIIFilterPlugin
    config:
      block_on_detection: true
`)
	req := `{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"send","arguments":{"ssn":"123-45-6789"}}}`
	out := srv.Call(t, req, extproctest.JSON(`{}`))
	if !out.Blocked || !strings.Contains(out.Client, `"code":"PII_DETECTED"`) || !strings.Contains(out.Client, `"types":["ssn"]`) ||
		!strings.Contains(out.Client, `"fields":["$.ssn"]`) || strings.Contains(out.Client, "6789") {
		t.Fatalf("%+v", out)
	}
	// A result blocked on its way back, delivered as SSE.
	req = `{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"get","arguments":{}}}`
	out = srv.Call(t, req, extproctest.SSE(`{"jsonrpc":"2.0","id":5,"result":{"content":[{"type":"text","text":"ip 10.1.2.3"}]}}`))
	if out.Blocked || !strings.Contains(out.Client, "event: message\n") || !strings.Contains(out.Client, `"code":"PII_DETECTED"`) || strings.Contains(out.Client, "10.1.2.3") {
		t.Fatalf("%+v", out)
	}
}
