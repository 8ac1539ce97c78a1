package extproctest_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/mcp-extproc/mcp-extproc/extproc/extproctest"
	"github.com/mcp-extproc/mcp-extproc/framework"
)

type upper struct{}

func (upper) ToolPostInvoke(_ context.Context, p *framework.ToolPostInvokePayload, _ *framework.PluginContext) (framework.Result[framework.ToolPostInvokePayload], error) {
	out := bytes.ReplaceAll(p.Result, []byte("secret"), []byte("SECRET"))
	return framework.Result[framework.ToolPostInvokePayload]{ModifiedPayload: &framework.ToolPostInvokePayload{Name: p.Name, Result: out}}, nil
}

func init() {
	framework.Register(framework.Kind{Name: "extproctest_upper", Hooks: []framework.HookType{framework.ToolPostInvoke},
		New: func(*framework.PluginConfig) (framework.Plugin, error) { return upper{}, nil }})
}

func TestCallJSONAndSSE(t *testing.T) {
	srv := extproctest.New(t, "plugins:\n  - {name: up, kind: extproctest_upper}\n")
	req := `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"t"}}`
	res := `{"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"a secret"}]}}`
	for name, resp := range map[string]extproctest.Response{"json": extproctest.JSON(res), "sse": extproctest.SSE(res)} {
		out := srv.Call(t, req, resp)
		if out.Blocked || out.Upstream != req || !strings.Contains(out.Client, "a SECRET") || strings.Contains(out.Client, "a secret") {
			t.Fatalf("%s: %+v", name, out)
		}
	}
	out := srv.Call(t, `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"t","name":"u"}}`, extproctest.JSON(res))
	if !out.Blocked || out.Status != 400 {
		t.Fatalf("bad request not blocked: %+v", out)
	}
}
