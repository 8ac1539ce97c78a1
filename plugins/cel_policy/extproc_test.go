package celpolicy_test

import (
	"strings"
	"testing"

	"github.com/mcp-extproc/mcp-extproc/extproc/extproctest"
	"github.com/mcp-extproc/mcp-extproc/framework"
	_ "github.com/mcp-extproc/mcp-extproc/plugins/cel_policy"
	"github.com/mcp-extproc/mcp-extproc/plugins/internal/policyinput/policytest"
)

func rulePolicy(hook framework.HookType, when string) string {
	return policytest.MCP + `plugins:
  - name: authz
    kind: cel_policy
    config:
      default: allow
      rules:
        - name: probe
          when: '` + strings.ReplaceAll(when, "'", "''") + `'
          code: VAR_OK
          hooks: [` + string(hook) + `]
`
}

// Every variable on every hook, with its value, through the server, with
// JSON and SSE results: a rule that compares it to the right value denies,
// one that compares it to anything else lets the message pass.
func TestEveryVariableOnEveryHook(t *testing.T) {
	for _, c := range policytest.Checks() {
		for rname, resp := range policytest.Responses {
			t.Run(string(c.Hook)+"/"+c.Path+"/"+rname, func(t *testing.T) {
				srv := extproctest.New(t, rulePolicy(c.Hook, c.Path+" == "+c.Want))
				if out := policytest.Play(t, srv, c.Hook, resp); !policytest.Denied(c.Hook, out, "VAR_OK") {
					t.Fatalf("%s == %s did not hold: %+v", c.Path, c.Want, out)
				}
				srv = extproctest.New(t, rulePolicy(c.Hook, c.Path+" != "+c.Want))
				if out := policytest.Play(t, srv, c.Hook, resp); out.Blocked || strings.Contains(out.Client, `"error"`) {
					t.Fatalf("%s != %s held or failed: %+v", c.Path, c.Want, out)
				}
			})
		}
	}
}

// A policy written for calls (default deny, rules on tool.name) leaves
// tools/list alone: its default does not hide every listed tool. A rule
// reading item hides the items it denies.
func TestListHooksRunOnlyListRules(t *testing.T) {
	list := `{"jsonrpc":"2.0","id":1,"result":{"tools":[{"name":"read"},{"name":"drop_db","annotations":{"destructiveHint":true}}]}}`
	calls := policytest.MCP + `plugins:
  - name: authz
    kind: cel_policy
    config:
      default: deny
      rules:
        - {name: reads, action: allow, when: 'tool.name == "read"'}
`
	srv := extproctest.New(t, calls)
	if out := srv.Call(t, `{"jsonrpc":"2.0","id":1,"method":"tools/list"}`, extproctest.JSON(list)); out.Client != list {
		t.Fatalf("a call policy changed the list: %s", out.Client)
	}
	lists := policytest.MCP + `plugins:
  - name: authz
    kind: cel_policy
    config:
      default: allow
      rules:
        - {name: no-destructive, when: 'has(item.annotations) && has(item.annotations.destructiveHint) && item.annotations.destructiveHint'}
`
	srv = extproctest.New(t, lists)
	out := srv.Call(t, `{"jsonrpc":"2.0","id":1,"method":"tools/list"}`, extproctest.JSON(list))
	if out.Client != `{"jsonrpc":"2.0","id":1,"result":{"tools":[{"name":"read"}]}}` {
		t.Fatalf("item rule: %s", out.Client)
	}
}
