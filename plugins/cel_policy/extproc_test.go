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
