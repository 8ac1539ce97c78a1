package webhook_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/mcp-extproc/mcp-extproc/extproc/extproctest"
	"github.com/mcp-extproc/mcp-extproc/plugins/webhook/webhooktest"
)

// The service decides: transfers over 100 are refused, over 50 capped at
// 50, results mentioning "secret" are replaced.
func teamPolicy(c webhooktest.Call) (int, any) {
	var p struct {
		Name string `json:"name"`
		Args struct {
			Amount int `json:"amount"`
		} `json:"args"`
		Result json.RawMessage `json:"result"`
	}
	_ = json.Unmarshal(c.Payload, &p)
	switch {
	case c.HookType == "tool_pre_invoke" && p.Args.Amount > 100:
		return http.StatusOK, map[string]any{"continue_processing": false, "violation": map[string]any{
			"reason": "Transfer refused", "description": "over the limit of 100", "code": "LIMIT_EXCEEDED", "mcp_error_code": -32010, "http_status_code": 403}}
	case c.HookType == "tool_pre_invoke" && p.Args.Amount > 50:
		return http.StatusOK, map[string]any{"continue_processing": true, "modified_payload": map[string]any{"name": p.Name, "args": map[string]any{"amount": 50}}}
	case c.HookType == "tool_post_invoke" && strings.Contains(string(p.Result), "secret"):
		return http.StatusOK, map[string]any{"modified_payload": map[string]any{"name": p.Name, "result": map[string]any{"content": []any{map[string]any{"type": "text", "text": "[withheld]"}}}}}
	}
	return http.StatusNoContent, nil
}

func TestThroughServer(t *testing.T) {
	srv := service(t, teamPolicy)
	ep := extproctest.New(t, `plugins:
  - name: team-policy
    kind: webhook
    config:
      url: `+srv.URL+`
`)
	call := func(amount string) string {
		return `{"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"name":"transfer","arguments":{"amount":` + amount + `}}}`
	}
	ok := `{"jsonrpc":"2.0","id":9,"result":{"content":[{"type":"text","text":"done"}]}}`

	out := ep.Call(t, call("500"), extproctest.JSON(ok))
	if !out.Blocked || out.Status != 403 || !strings.Contains(out.Client, `"code":-32010`) || !strings.Contains(out.Client, `"code":"LIMIT_EXCEEDED"`) || !strings.Contains(out.Client, `"plugin":"team-policy"`) {
		t.Fatalf("refused transfer: %+v", out)
	}
	out = ep.Call(t, call("80"), extproctest.JSON(ok))
	if out.Blocked || !strings.Contains(out.Upstream, `"arguments":{"amount":50}`) || out.Client != ok {
		t.Fatalf("capped transfer: %+v", out)
	}
	out = ep.Call(t, call("10"), extproctest.SSE(`{"jsonrpc":"2.0","id":9,"result":{"content":[{"type":"text","text":"the secret is 42"}]}}`))
	if out.Blocked || out.Upstream != call("10") || strings.Contains(out.Client, "42") || !strings.Contains(out.Client, "[withheld]") {
		t.Fatalf("withheld result: %+v", out)
	}
	srv.SetFault(webhooktest.Fault{Status: 502})
	out = ep.Call(t, call("10"), extproctest.JSON(ok))
	if !out.Blocked || !strings.Contains(out.Client, `"code":"WEBHOOK_ERROR"`) {
		t.Fatalf("service down: %+v", out)
	}
}
