package schemaguard_test

import (
	"strings"
	"testing"

	"github.com/mcp-extproc/mcp-extproc/extproc/extproctest"
	_ "github.com/mcp-extproc/mcp-extproc/plugins/all"
)

// Schemas announced in tools/list (JSON or SSE) are learned per server and
// enforced on later calls of that server only.
func TestLearnsFromToolsList(t *testing.T) {
	policy := "mcp:\n  identity: {server_id_header: x-server}\nplugins:\n  - {name: schemas, kind: schema_guard}\n"
	list := `{"jsonrpc":"2.0","id":1,"result":{"tools":[{"name":"lookup","inputSchema":{"type":"object","properties":{"q":{"type":"string"}},"required":["q"]}}]}}`
	call := `{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"lookup","arguments":{"q":5}}}`
	for _, sse := range []bool{false, true} {
		s := extproctest.New(t, policy)
		resp := extproctest.JSON(list)
		if sse {
			resp = extproctest.SSE(list)
		}
		s.Call(t, `{"jsonrpc":"2.0","id":1,"method":"tools/list"}`, resp, "x-server", "s1")
		out := s.Call(t, call, extproctest.JSON(`{}`), "x-server", "s1")
		if !out.Blocked || !strings.Contains(out.Client, "tools/list") {
			t.Fatalf("sse=%v: a call breaking the announced schema passed: %+v", sse, out)
		}
		out = s.Call(t, call, extproctest.JSON(`{"jsonrpc":"2.0","id":2,"result":{"content":[]}}`), "x-server", "s2")
		if out.Blocked {
			t.Fatalf("sse=%v: another server's call was judged by s1's schema: %s", sse, out.Client)
		}
	}
}
